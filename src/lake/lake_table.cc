#include "lake/lake_table.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "common/time_format.h"
#include "lake/delta/checkpoint.h"
#include "lake/delta/log_files.h"
#include "lake/delta/object_store_source.h"
#include "lake/delta/partition.h"
#include "lake/delta/table.h"
#include "lake/parquet/reader.h"
#include "lake/predicate.h"
#include "lake/storage/object_store_url.h"

namespace weft::lake {
namespace {

using delta::DataType;

Result<DataType::Kind> DeltaKindOf(ColumnType t) {
  switch (t) {
    case ColumnType::kBoolean: return DataType::Kind::kBoolean;
    case ColumnType::kInt32: return DataType::Kind::kInteger;
    case ColumnType::kInt64: return DataType::Kind::kLong;
    case ColumnType::kFloat: return DataType::Kind::kFloat;
    case ColumnType::kDouble: return DataType::Kind::kDouble;
    case ColumnType::kString: return DataType::Kind::kString;
    case ColumnType::kBinary: return DataType::Kind::kBinary;
    case ColumnType::kTimestampMicros: return DataType::Kind::kTimestamp;
    case ColumnType::kDate: return DataType::Kind::kDate;
  }
  return InternalError("unknown column type");
}

// Delta stats keep strings up to this many bytes (Delta's dataSkippingStringPrefixLength).
constexpr size_t kStatsStringPrefix = 32;

// Hive-style partition directory escaping, as Spark and delta-rs write it.
std::string EscapePartitionValue(std::string_view v) {
  static constexpr std::string_view kSpecial = "\"#%'*/:=?\\{[]^";
  std::string out;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || kSpecial.find(c) != std::string_view::npos) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

delta::PartitionValue ToPartitionValue(const Scalar& v, ColumnType t) {
  if (std::holds_alternative<std::monostate>(v)) return std::monostate{};
  switch (t) {
    case ColumnType::kDate: return delta::DateValue{static_cast<int32_t>(std::get<int64_t>(v))};
    case ColumnType::kTimestampMicros: return delta::TimestampValue{std::get<int64_t>(v)};
    default: break;
  }
  return std::visit(
      [](const auto& x) -> delta::PartitionValue {
        using V = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          return std::monostate{};
        } else {
          return x;
        }
      },
      v);
}

Scalar FromPartitionValue(const delta::PartitionValue& v) {
  if (const auto* d = std::get_if<delta::DateValue>(&v)) return int64_t{d->days_since_epoch};
  if (const auto* t = std::get_if<delta::TimestampValue>(&v)) return t->micros_since_epoch;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* x = std::get_if<double>(&v)) return *x;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::monostate{};
}

nlohmann::json StatJson(const Scalar& v, ColumnType t) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    if (t == ColumnType::kTimestampMicros) return FormatTimestampMicros(*i);
    if (t == ColumnType::kDate) {
      return FormatDate(std::chrono::sys_days(std::chrono::days(*i)));
    }
    return *i;
  }
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return nullptr;
}

// Per-file statistics JSON (PROTOCOL.md "Per-file Statistics") for `columns` of `batch`.
std::string FileStatsJson(const RecordBatch& batch, const std::vector<size_t>& columns) {
  nlohmann::ordered_json stats;
  stats["numRecords"] = batch.num_rows();
  nlohmann::ordered_json mins = nlohmann::ordered_json::object();
  nlohmann::ordered_json maxs = nlohmann::ordered_json::object();
  nlohmann::ordered_json nulls = nlohmann::ordered_json::object();
  for (size_t c : columns) {
    const Column& col = batch.column(c);
    const BatchField& f = batch.fields()[c];
    nulls[f.name] = col.null_count();
    if (col.type() == ColumnType::kBinary || col.type() == ColumnType::kBoolean) continue;
    // The rows holding the minimum and maximum, by a loop per kind (this runs over every value
    // of every appended file: a generic row comparison costs the ingest a fifth of its time).
    std::optional<size_t> lo, hi;
    bool nan = false;
    switch (col.type()) {
      case ColumnType::kInt32:
      case ColumnType::kInt64:
      case ColumnType::kDate:
      case ColumnType::kTimestampMicros:
        for (size_t r = 0; r < col.size(); ++r) {
          if (!col.IsValid(r)) continue;
          const int64_t v = col.IntAt(r);
          if (!lo || v < col.IntAt(*lo)) lo = r;
          if (!hi || v > col.IntAt(*hi)) hi = r;
        }
        break;
      case ColumnType::kFloat:
      case ColumnType::kDouble:
        for (size_t r = 0; r < col.size(); ++r) {
          if (!col.IsValid(r)) continue;
          const double v = col.DoubleAt(r);
          if (std::isnan(v)) {
            nan = true;  // NaN has no place in min/max: leave them out, as Spark does
            continue;
          }
          if (!lo || v < col.DoubleAt(*lo)) lo = r;
          if (!hi || v > col.DoubleAt(*hi)) hi = r;
        }
        break;
      case ColumnType::kString: {
        std::string_view lo_v, hi_v, previous;
        bool any = false;
        for (size_t r = 0; r < col.size(); ++r) {
          if (!col.IsValid(r)) continue;
          const std::string_view v = col.StringAt(r);
          if (any && v == previous) continue;  // runs of one value are common
          previous = v;
          if (!any || v < lo_v) lo = r, lo_v = v;
          if (!any || v > hi_v) hi = r, hi_v = v;
          any = true;
        }
        break;
      }
      default:
        for (size_t r = 0; r < col.size(); ++r) {
          if (!col.IsValid(r)) continue;
          if (!lo || col.CompareRows(r, *lo) < 0) lo = r;
          if (!hi || col.CompareRows(r, *hi) > 0) hi = r;
        }
    }
    if (!lo || nan) continue;
    if (col.type() == ColumnType::kString) {
      std::string_view mn = col.StringAt(*lo), mx = col.StringAt(*hi);
      // A prefix of the minimum is still a lower bound; a cut maximum would not be an upper
      // bound, so a long maximum is left out. Cut at a UTF-8 character boundary.
      size_t cut = std::min(mn.size(), kStatsStringPrefix);
      while (cut > 0 && cut < mn.size() && (static_cast<unsigned char>(mn[cut]) & 0xC0) == 0x80) {
        --cut;
      }
      mins[f.name] = std::string(mn.substr(0, cut));
      if (mx.size() <= kStatsStringPrefix) maxs[f.name] = std::string(mx);
      continue;
    }
    mins[f.name] = StatJson(col.At(*lo), col.type());
    maxs[f.name] = StatJson(col.At(*hi), col.type());
  }
  stats["minValues"] = std::move(mins);
  stats["maxValues"] = std::move(maxs);
  stats["nullCount"] = std::move(nulls);
  return stats.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A stats value (its JSON text) as a Scalar of the column's type; nullopt when unusable.
std::optional<Scalar> StatScalar(const std::string& json_text, ColumnType t) {
  nlohmann::json v = nlohmann::json::parse(json_text, nullptr, false);
  if (v.is_discarded() || v.is_null()) return std::nullopt;
  if (v.is_string()) {
    Result<Scalar> s = ParseScalar(v.get_ref<const std::string&>(), t);
    if (!s.ok()) return std::nullopt;
    return *s;
  }
  if (v.is_number()) {
    switch (t) {
      case ColumnType::kInt32:
      case ColumnType::kInt64:
        if (v.is_number_integer()) return Scalar(v.get<int64_t>());
        return std::nullopt;
      case ColumnType::kFloat:
      case ColumnType::kDouble: return Scalar(v.get<double>());
      default: return std::nullopt;
    }
  }
  if (v.is_boolean() && t == ColumnType::kBoolean) return Scalar(v.get<bool>());
  return std::nullopt;
}

std::string NewDataFileName() {
  return "part-00000-" + delta::RandomUuid() + "-c000.zstd.parquet";
}

const BatchField* FindField(const std::vector<BatchField>& fields, std::string_view name) {
  for (const BatchField& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// A column read from a file as the table's type. The file's physical (and logical) type must be
// one that holds it; timestamps in ms, µs, ns or INT96 become µs.
Result<Column> ToColumn(const BatchField& f, const parquet::LeafColumn& leaf, size_t rows,
                        parquet::FlatColumn&& fc, const std::string& where) {
  parquet::ValueBuffer& v = fc.values;
  Column::Arrays a;
  const parquet::Type pt = leaf.type;
  bool ok = true;
  switch (f.type) {
    case ColumnType::kBoolean:
      ok = pt == parquet::Type::kBoolean;
      a.bools = std::move(v.bools);
      break;
    case ColumnType::kInt32:
    case ColumnType::kDate:
      ok = pt == parquet::Type::kInt32;
      a.int32s = std::move(v.int32s);
      break;
    case ColumnType::kInt64:
      if (pt == parquet::Type::kInt32) {
        a.int64s.assign(v.int32s.begin(), v.int32s.end());
      } else {
        ok = pt == parquet::Type::kInt64;
        a.int64s = std::move(v.int64s);
      }
      break;
    case ColumnType::kFloat:
      ok = pt == parquet::Type::kFloat;
      a.floats = std::move(v.floats);
      break;
    case ColumnType::kDouble:
      if (pt == parquet::Type::kFloat) {
        a.doubles.assign(v.floats.begin(), v.floats.end());
      } else {
        ok = pt == parquet::Type::kDouble;
        a.doubles = std::move(v.doubles);
      }
      break;
    case ColumnType::kString:
    case ColumnType::kBinary: {
      ok = pt == parquet::Type::kByteArray || pt == parquet::Type::kFixedLenByteArray;
      if (!ok) break;
      if (v.bytes.size() > static_cast<size_t>(INT32_MAX)) {
        return UnimplementedError(where + ": column '" + f.name +
                                  "' holds more than 2 GiB of text in one row group");
      }
      a.offsets.reserve(v.offsets.size());
      for (int64_t o : v.offsets) a.offsets.push_back(static_cast<int32_t>(o));
      a.data = std::move(v.bytes);
      break;
    }
    case ColumnType::kTimestampMicros: {
      if (pt == parquet::Type::kInt96) {
        a.int64s.reserve(v.int96s.size());
        for (const parquet::Int96& t : v.int96s) {
          a.int64s.push_back((int64_t{t.julian_day()} - 2'440'588) * 86'400'000'000 +
                             t.nanos_of_day() / 1000);
        }
        break;
      }
      ok = pt == parquet::Type::kInt64;
      if (!ok) break;
      a.int64s = std::move(v.int64s);
      const auto& lt = leaf.element->logical_type;
      const auto& ct = leaf.element->converted_type;
      int64_t mul = 1, div = 1;
      if (lt && lt->kind == parquet::LogicalType::Kind::kTimestamp) {
        if (lt->unit == parquet::TimeUnit::kMillis) mul = 1000;
        if (lt->unit == parquet::TimeUnit::kNanos) div = 1000;
      } else if (ct == parquet::ConvertedType::kTimestampMillis) {
        mul = 1000;
      }
      if (mul != 1) {
        for (int64_t& x : a.int64s) x *= mul;
      }
      if (div != 1) {
        for (int64_t& x : a.int64s) x = x >= 0 ? x / div : -((-x + div - 1) / div);
      }
      break;
    }
  }
  if (!ok) {
    return DataLossError(where + ": column '" + f.name + "' is " +
                         std::string(parquet::TypeName(pt)) +
                         " in the file, which cannot hold the "
                         "table's " +
                         std::string(TypeName(f.type)));
  }
  return Column::Adopt(f.type, rows, std::move(a), std::move(fc.validity));
}

}  // namespace

Result<std::vector<BatchField>> FlatFields(const delta::Schema& schema) {
  std::vector<BatchField> out;
  for (const delta::StructField& f : schema.fields) {
    ColumnType t = ColumnType::kString;
    switch (f.type->kind) {
      case DataType::Kind::kString: t = ColumnType::kString; break;
      case DataType::Kind::kLong: t = ColumnType::kInt64; break;
      case DataType::Kind::kInteger:
      case DataType::Kind::kShort:
      case DataType::Kind::kByte: t = ColumnType::kInt32; break;
      case DataType::Kind::kFloat: t = ColumnType::kFloat; break;
      case DataType::Kind::kDouble: t = ColumnType::kDouble; break;
      case DataType::Kind::kBoolean: t = ColumnType::kBoolean; break;
      case DataType::Kind::kBinary: t = ColumnType::kBinary; break;
      case DataType::Kind::kDate: t = ColumnType::kDate; break;
      case DataType::Kind::kTimestamp:
      case DataType::Kind::kTimestampNtz: t = ColumnType::kTimestampMicros; break;
      default:
        return UnimplementedError("column '" + f.name + "' has type " + f.type->Name() +
                                  ", which weft lake does not read or write yet (flat columns "
                                  "of primitive types only)");
    }
    out.push_back({f.name, t, f.nullable});
  }
  return out;
}

Result<std::unique_ptr<LakeTable>> LakeTable::Open(std::string_view location, const Clock* clock,
                                                   bool create_location) {
  ObjectStoreOptions options;
  options.local.create_root = create_location;
  Result<std::unique_ptr<ObjectStore>> store = OpenObjectStore(location, options);
  if (!store.ok() && store.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no Delta table at " + std::string(location) + " (" +
                         store.status().message() + "); create it with 'weft lake create'");
  }
  WEFT_RETURN_IF_ERROR(store.status());
  return std::make_unique<LakeTable>(std::move(store).value(), clock);
}

LakeTable::LakeTable(std::unique_ptr<ObjectStore> store, const Clock* clock)
    : store_(std::move(store)), clock_(clock) {}

Result<delta::Snapshot> LakeTable::Load(std::optional<int64_t> version,
                                        std::optional<int64_t> as_of_ms) const {
  delta::SnapshotOptions options;
  options.version = version;
  options.timestamp_ms = as_of_ms;
  Result<delta::Snapshot> s = delta::LoadSnapshot(*store_, options);
  if (!s.ok() && s.status().code() == StatusCode::kNotFound && !version && !as_of_ms) {
    return NotFoundError("no Delta table at " + store_->Describe("") +
                         " (no _delta_log); create it with 'weft lake create'");
  }
  return s;
}

Status LakeTable::Create(const std::vector<BatchField>& schema,
                         const std::vector<std::string>& partition_by) {
  if (schema.empty()) return InvalidArgumentError("a table needs at least one column");
  delta::CreateTableOptions options;
  for (const BatchField& f : schema) {
    WEFT_ASSIGN_OR_RETURN(DataType::Kind kind, DeltaKindOf(f.type));
    options.schema.fields.push_back({f.name, DataType::Primitive(kind), f.nullable, {}});
  }
  for (const std::string& p : partition_by) {
    const BatchField* f = FindField(schema, p);
    if (f == nullptr) return UnknownColumnError(p, schema).WithContext("--partition-by");
    if (f->type == ColumnType::kFloat || f->type == ColumnType::kDouble ||
        f->type == ColumnType::kBinary) {
      return InvalidArgumentError("--partition-by: column '" + p + "' is " +
                                  std::string(TypeName(f->type)) +
                                  "; partition by a string, integer, date, timestamp or boolean");
    }
  }
  if (partition_by.size() >= schema.size()) {
    return InvalidArgumentError(
        "--partition-by: at least one column must not be a partition column");
  }
  options.partition_columns = partition_by;
  delta::DeltaTable table(store_.get(), clock_);
  Result<delta::Snapshot> s = table.Create(options);
  if (!s.ok() && s.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a Delta table already exists at " + store_->Describe(""));
  }
  return s.status();
}

Result<std::vector<BatchField>> LakeTable::Schema(std::optional<int64_t> version) const {
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot s, Load(version, std::nullopt));
  return FlatFields(s.schema());
}

Result<std::vector<delta::AddFile>> LakeTable::WriteFiles(const delta::Snapshot& snapshot,
                                                          const RecordBatch& rows,
                                                          bool data_change) {
  const std::vector<std::string>& partition_columns = snapshot.metadata().partition_columns;
  std::vector<size_t> part_index, data_index;
  std::vector<BatchField> data_fields;
  for (size_t c = 0; c < rows.num_columns(); ++c) {
    const std::string& name = rows.fields()[c].name;
    if (std::find(partition_columns.begin(), partition_columns.end(), name) !=
        partition_columns.end()) {
      part_index.push_back(c);
    } else {
      data_index.push_back(c);
      data_fields.push_back(rows.fields()[c]);
    }
  }
  // Row numbers grouped by their partition values (the serialized values are the key); without
  // partition columns, one group of all rows, written without a copy.
  std::map<std::vector<std::optional<std::string>>, std::vector<uint32_t>> groups;
  if (!part_index.empty()) {
    std::vector<delta::DataTypePtr> part_types;
    for (size_t c : part_index) {
      WEFT_ASSIGN_OR_RETURN(DataType::Kind kind, DeltaKindOf(rows.fields()[c].type));
      part_types.push_back(DataType::Primitive(kind));
    }
    // Rows usually come in runs of one partition (ingest batches are time-ordered, partitions
    // are days): a row equal to the previous one in every partition column joins its group
    // without its values being serialized again.
    std::vector<std::optional<std::string>> key(part_index.size());
    std::vector<uint32_t>* group = nullptr;
    auto same_as_previous = [&](size_t r) {
      for (size_t c : part_index) {
        const Column& col = rows.column(c);
        const bool valid = col.IsValid(r);
        if (valid != col.IsValid(r - 1) || (valid && col.CompareRows(r, r - 1) != 0)) return false;
      }
      return true;
    };
    for (size_t r = 0; r < rows.num_rows(); ++r) {
      if (group == nullptr || !same_as_previous(r)) {
        for (size_t k = 0; k < part_index.size(); ++k) {
          const size_t c = part_index[k];
          key[k] = delta::SerializePartitionValue(
              *part_types[k], ToPartitionValue(rows.column(c).At(r), rows.fields()[c].type));
        }
        group = &groups[key];
      }
      group->push_back(static_cast<uint32_t>(r));
    }
  } else {
    groups[{}];
  }
  std::vector<parquet::Field> pq_fields;
  for (const BatchField& f : data_fields) {
    pq_fields.push_back(parquet::Field::Primitive(f.name, f.type, f.nullable));
  }
  const parquet::WriterSchema pq_schema(pq_fields);
  std::vector<delta::AddFile> adds;
  for (const auto& [key, row_numbers] : groups) {
    // One group of every row (no partition columns, or one partition): written without a copy.
    const bool all_rows = part_index.empty() || row_numbers.size() == rows.num_rows();
    RecordBatch taken;
    if (!all_rows) taken = rows.Take(row_numbers);
    const RecordBatch& part = all_rows ? rows : taken;
    std::vector<parquet::ColumnView> views;
    for (size_t c : data_index) views.push_back(part.column(c).View());
    WEFT_ASSIGN_OR_RETURN(std::string bytes, parquet::WriteParquetToString(pq_schema, views));
    std::string dir;
    delta::AddFile add;
    for (size_t k = 0; k < part_index.size(); ++k) {
      const std::string& name = rows.fields()[part_index[k]].name;
      dir += name + "=" + (key[k] ? EscapePartitionValue(*key[k]) : "__HIVE_DEFAULT_PARTITION__") +
             "/";
      add.partition_values[name] = key[k];
    }
    const std::string object_key = dir + NewDataFileName();
    WEFT_RETURN_IF_ERROR(store_->Put(object_key, bytes));
    add.path = delta::EncodeActionPath(object_key);
    add.size = static_cast<int64_t>(bytes.size());
    add.modification_time = UnixMicros(clock_->Now()) / 1000;
    add.data_change = data_change;
    add.stats = FileStatsJson(part, data_index);
    adds.push_back(std::move(add));
  }
  return adds;
}

Result<AppendResult> LakeTable::Append(const RecordBatch& rows, std::optional<delta::Txn> txn) {
  std::vector<delta::Txn> txns;
  if (txn) txns.push_back(std::move(*txn));
  return Append(rows, std::move(txns));
}

Result<std::map<std::string, int64_t>> LakeTable::TxnVersions() const {
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(std::nullopt, std::nullopt));
  std::map<std::string, int64_t> out;
  for (const auto& [app, t] : snapshot.txns()) out[app] = t.version;
  return out;
}

Result<AppendResult> LakeTable::Append(const RecordBatch& rows, std::vector<delta::Txn> txns) {
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(std::nullopt, std::nullopt));
  AppendResult result;
  for (const delta::Txn& txn : txns) {
    const std::optional<int64_t> done = snapshot.TxnVersion(txn.app_id);
    if (done && *done >= txn.version) {  // checked before writing files: no orphans
      result.version = snapshot.version();
      result.already_committed = true;
      return result;
    }
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<BatchField> fields, FlatFields(snapshot.schema()));
  // The input's columns, in the table's order and types.
  for (const BatchField& in : rows.fields()) {
    const BatchField* f = FindField(fields, in.name);
    if (f == nullptr) return UnknownColumnError(in.name, fields);
    if (f->type != in.type) {
      return InvalidArgumentError("column '" + in.name + "' is " + std::string(TypeName(in.type)) +
                                  " in the input but " + std::string(TypeName(f->type)) +
                                  " in the table");
    }
  }
  // Input columns already in the table's order (the ingest's case) are written as they are;
  // otherwise they are copied into the table's order, missing nullable columns as nulls.
  bool in_table_order = rows.num_columns() == fields.size();
  for (size_t c = 0; in_table_order && c < fields.size(); ++c) {
    in_table_order = rows.fields()[c].name == fields[c].name;
  }
  RecordBatch reordered;
  if (!in_table_order) reordered = RecordBatch(fields);
  for (size_t c = 0; c < fields.size(); ++c) {
    const int in = rows.Find(fields[c].name);
    if (in < 0) {
      if (!fields[c].nullable && rows.num_rows() > 0) {
        return InvalidArgumentError("column '" + fields[c].name +
                                    "' is missing from the input and may not be null");
      }
      for (size_t r = 0; r < rows.num_rows(); ++r) reordered.column(c).AppendNull();
      continue;
    }
    const Column& src = rows.column(static_cast<size_t>(in));
    if (!fields[c].nullable && src.null_count() > 0) {
      return InvalidArgumentError("column '" + fields[c].name + "' may not be null, but " +
                                  std::to_string(src.null_count()) + " input rows have no value");
    }
    if (!in_table_order) reordered.column(c) = src;
  }
  const RecordBatch& table_rows = in_table_order ? rows : reordered;
  result.rows = rows.num_rows();
  if (rows.num_rows() == 0 && txns.empty()) {
    result.version = snapshot.version();
    return result;  // nothing to commit
  }
  std::vector<delta::AddFile> adds;
  if (rows.num_rows() > 0) {
    WEFT_ASSIGN_OR_RETURN(adds, WriteFiles(snapshot, table_rows, /*data_change=*/true));
  }
  result.files = adds.size();
  delta::DeltaTable table(store_.get(), clock_);
  WEFT_ASSIGN_OR_RETURN(delta::CommitResult commit,
                        table.Append(snapshot, std::move(adds), std::move(txns)));
  result.version = commit.version;
  result.already_committed = commit.already_committed;
  if (!commit.checkpoint_status.ok()) {
    // The commit stands; a checkpoint only speeds up reading, and a later commit writes one.
    spdlog::warn("lake: version {} committed, but its checkpoint failed: {}", commit.version,
                 commit.checkpoint_status.message());
  }
  return result;
}

Result<std::vector<RecordBatch>> LakeTable::ReadFile(const delta::Snapshot& snapshot,
                                                     const delta::AddFile& file,
                                                     const std::vector<BatchField>& wanted,
                                                     const Predicate& predicate,
                                                     ScanStats* stats) const {
  WEFT_ASSIGN_OR_RETURN(std::string key, delta::DecodeActionPath(file.path));
  if (file.deletion_vector) {
    return UnimplementedError(store_->Describe(key) +
                              ": has a deletion vector, which weft does not apply yet");
  }
  auto source = std::make_unique<delta::ObjectStoreSource>(store_.get(), key,
                                                           static_cast<uint64_t>(file.size));
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<parquet::ParquetReader> reader,
                        parquet::ParquetReader::Open(std::move(source)));
  const std::vector<std::string>& partition_columns = snapshot.metadata().partition_columns;
  auto is_partition = [&](const std::string& name) {
    return std::find(partition_columns.begin(), partition_columns.end(), name) !=
           partition_columns.end();
  };
  // Physical names of the data columns present in the file (a column added to the table later
  // is absent from older files: it reads as null).
  std::vector<std::string> physical(wanted.size());
  std::vector<std::string> to_read;
  for (size_t c = 0; c < wanted.size(); ++c) {
    if (is_partition(wanted[c].name)) continue;
    WEFT_ASSIGN_OR_RETURN(physical[c], snapshot.PhysicalColumnName(wanted[c].name));
    if (reader->schema().FindTopLevel(physical[c]) >= 0) to_read.push_back(physical[c]);
  }
  // Row groups that the predicate's comparisons rule out are skipped (numbers and strings only:
  // their physical order is the logical one; timestamps only in microseconds).
  std::vector<parquet::Predicate> pushdown;
  for (const Comparison& t : predicate.terms()) {
    if (is_partition(t.column)) continue;
    parquet::CompareOp op;
    switch (t.op) {
      case CompareOp::kEq: op = parquet::CompareOp::kEq; break;
      case CompareOp::kLt: op = parquet::CompareOp::kLt; break;
      case CompareOp::kLe: op = parquet::CompareOp::kLe; break;
      case CompareOp::kGt: op = parquet::CompareOp::kGt; break;
      case CompareOp::kGe: op = parquet::CompareOp::kGe; break;
      default: continue;
    }
    Result<std::string> name = snapshot.PhysicalColumnName(t.column);
    if (!name.ok()) continue;
    const int leaf = reader->schema().FindLeaf(*name);
    if (leaf < 0) continue;
    const parquet::LeafColumn& lc = reader->schema().leaves()[static_cast<size_t>(leaf)];
    parquet::Value constant;
    if (const auto* i = std::get_if<int64_t>(&t.literal)) {
      if (t.type == ColumnType::kTimestampMicros) {
        const auto& lt = lc.element->logical_type;
        const bool micros =
            (lt && lt->kind == parquet::LogicalType::Kind::kTimestamp &&
             lt->unit == parquet::TimeUnit::kMicros) ||
            (!lt && lc.element->converted_type == parquet::ConvertedType::kTimestampMicros);
        if (!micros || lc.type != parquet::Type::kInt64) continue;
      }
      if (lc.type == parquet::Type::kInt64) {
        constant = parquet::Value::Int64(*i);
      } else if (lc.type == parquet::Type::kInt32) {
        constant = parquet::Value::Int32(static_cast<int32_t>(*i));
      } else {
        continue;
      }
    } else if (const auto* d = std::get_if<double>(&t.literal)) {
      if (lc.type != parquet::Type::kDouble) continue;
      constant = parquet::Value::Double(*d);
    } else if (const auto* str = std::get_if<std::string>(&t.literal)) {
      if (lc.type != parquet::Type::kByteArray) continue;
      constant = parquet::Value::String(*str);
    } else {
      continue;
    }
    pushdown.push_back({*name, op, std::move(constant)});
  }
  WEFT_ASSIGN_OR_RETURN(auto partition_values, snapshot.LogicalPartitionValues(file));
  std::vector<RecordBatch> out;
  parquet::ScanScratch scratch;
  for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
    WEFT_ASSIGN_OR_RETURN(bool may_match, reader->RowGroupMayMatch(rg, pushdown));
    if (!may_match) {
      if (stats) ++stats->row_groups_skipped;
      continue;
    }
    if (stats) ++stats->row_groups_read;
    const auto rows =
        static_cast<size_t>(reader->metadata().row_groups[static_cast<size_t>(rg)].num_rows);
    parquet::FlatBatch flat;
    size_t rows_out = rows;
    if (!to_read.empty()) {
      // With comparisons to push down, only matching rows are decoded (late materialization);
      // the row filter then applies the rest of the predicate.
      Status scanned = pushdown.empty() ? UnimplementedError("no pushdown")
                                        : reader->ScanFlat(rg, to_read, pushdown, &flat, &scratch);
      if (scanned.ok()) {
        rows_out = static_cast<size_t>(flat.num_rows);
      } else if (scanned.code() == StatusCode::kUnimplemented) {
        WEFT_RETURN_IF_ERROR(reader->ReadFlatInto(rg, to_read, &flat));
      } else {
        return scanned;
      }
    }
    RecordBatch part(wanted);
    for (size_t c = 0; c < wanted.size(); ++c) {
      const BatchField& f = wanted[c];
      if (is_partition(f.name)) {
        auto it = partition_values.find(f.name);
        const Scalar v = it == partition_values.end() ? Scalar{} : FromPartitionValue(it->second);
        Column& col = part.column(c);
        col.Reserve(rows_out);
        for (size_t r = 0; r < rows_out; ++r) col.Append(v);
        continue;
      }
      parquet::FlatColumn* fc = nullptr;
      for (auto& candidate : flat.columns) {
        if (candidate.name == physical[c]) fc = &candidate;
      }
      if (fc == nullptr) {  // not in this file
        for (size_t r = 0; r < rows_out; ++r) part.column(c).AppendNull();
        continue;
      }
      const parquet::LeafColumn& lc = reader->schema().leaves()[static_cast<size_t>(fc->leaf)];
      WEFT_ASSIGN_OR_RETURN(part.column(c),
                            ToColumn(f, lc, rows_out, std::move(*fc), store_->Describe(key)));
    }
    out.push_back(std::move(part));
  }
  return out;
}

Status LakeTable::Scan(const ScanOptions& options,
                       const std::function<Status(const RecordBatch&)>& sink,
                       ScanStats* stats) const {
  ScanStats local;
  ScanStats& st = stats ? *stats : local;
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(options.version, options.as_of_ms));
  st.version = snapshot.version();
  WEFT_ASSIGN_OR_RETURN(std::vector<BatchField> fields, FlatFields(snapshot.schema()));
  std::vector<std::string> columns = options.columns;
  if (columns.empty()) {
    for (const BatchField& f : fields) columns.push_back(f.name);
  }
  for (const std::string& c : columns) {
    if (FindField(fields, c) == nullptr)
      return UnknownColumnError(c, fields).WithContext("--columns");
  }
  Result<Predicate> parsed = Predicate::Parse(options.where, fields);
  if (!parsed.ok()) return parsed.status().WithContext("--where");
  const Predicate& predicate = *parsed;
  std::vector<BatchField> wanted;  // requested columns, then the predicate's other columns
  for (const std::string& c : columns) wanted.push_back(*FindField(fields, c));
  for (const std::string& c : predicate.Columns()) {
    if (std::find(columns.begin(), columns.end(), c) == columns.end()) {
      wanted.push_back(*FindField(fields, c));
    }
  }
  const std::vector<std::string>& partition_columns = snapshot.metadata().partition_columns;
  for (const delta::AddFile& file : snapshot.files()) {
    ++st.files_total;
    WEFT_ASSIGN_OR_RETURN(auto partition_values, snapshot.LogicalPartitionValues(file));
    std::optional<delta::FileStats> file_stats;
    if (file.stats) {
      Result<delta::FileStats> fs = delta::ParseFileStats(*file.stats);
      if (fs.ok()) file_stats = std::move(fs).value();  // unusable stats: read the file
    }
    auto column_stats = [&](std::string_view name) -> std::optional<ColumnStats> {
      const BatchField* f = FindField(fields, name);
      if (f == nullptr) return std::nullopt;
      ColumnStats cs;
      if (std::find(partition_columns.begin(), partition_columns.end(), name) !=
          partition_columns.end()) {
        auto it = partition_values.find(std::string(name));
        const Scalar v = it == partition_values.end() ? Scalar{} : FromPartitionValue(it->second);
        cs.row_count = 1;
        if (std::holds_alternative<std::monostate>(v)) {
          cs.null_count = 1;
        } else {
          cs.null_count = 0;
          cs.min = cs.max = v;
        }
        return cs;
      }
      if (!file_stats) return std::nullopt;
      cs.row_count = file_stats->num_records;
      Result<std::string> physical = snapshot.PhysicalColumnName(name);
      const std::string key = physical.ok() ? *physical : std::string(name);
      if (auto it = file_stats->null_count.find(key); it != file_stats->null_count.end()) {
        cs.null_count = it->second;
      }
      if (auto it = file_stats->min_values.find(key); it != file_stats->min_values.end()) {
        cs.min = StatScalar(it->second, f->type);
      }
      if (auto it = file_stats->max_values.find(key); it != file_stats->max_values.end()) {
        cs.max = StatScalar(it->second, f->type);
      }
      return cs;
    };
    if (!predicate.MayMatch(column_stats)) {
      ++st.files_skipped;
      continue;
    }
    WEFT_ASSIGN_OR_RETURN(std::vector<RecordBatch> parts,
                          ReadFile(snapshot, file, wanted, predicate, &st));
    for (RecordBatch& batch : parts) {
      st.rows_read += batch.num_rows();
      if (!predicate.empty()) batch = batch.Filter(predicate.Evaluate(batch));
      st.rows_matched += batch.num_rows();
      if (batch.num_rows() == 0) continue;
      if (wanted.size() != columns.size()) batch = batch.Project(columns);
      WEFT_RETURN_IF_ERROR(sink(batch));
    }
  }
  return Status::Ok();
}

Result<int64_t> LakeTable::Count(std::optional<int64_t> version) const {
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(version, std::nullopt));
  int64_t total = 0;
  bool all_known = true;
  for (const delta::AddFile& f : snapshot.files()) {
    Result<std::optional<int64_t>> n = snapshot.NumRecords(f);
    if (!n.ok() || !*n) {
      all_known = false;
      break;
    }
    total += **n;
  }
  if (all_known) return total;
  total = 0;
  ScanOptions options;
  options.version = snapshot.version();
  WEFT_RETURN_IF_ERROR(Scan(options, [&](const RecordBatch& b) {
    total += static_cast<int64_t>(b.num_rows());
    return Status::Ok();
  }));
  return total;
}

Result<std::vector<HistoryEntry>> LakeTable::History() const {
  WEFT_ASSIGN_OR_RETURN(delta::LogListing listing, delta::ListLog(*store_));
  if (listing.commits.empty()) {
    return NotFoundError("no Delta table at " + store_->Describe("") + " (no commits)");
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<delta::CommitTimestamp> times,
                        delta::ListCommitTimestamps(*store_, listing));
  std::map<int64_t, int64_t> time_of;
  for (const auto& t : times) time_of[t.version] = t.timestamp_ms;
  std::vector<HistoryEntry> out;
  for (const delta::LogFile& commit : listing.commits) {
    HistoryEntry e;
    e.version = commit.version;
    e.timestamp_ms = time_of[commit.version];
    e.commit_info_json = "{}";
    WEFT_ASSIGN_OR_RETURN(std::string content, store_->Get(commit.key));
    WEFT_ASSIGN_OR_RETURN(std::vector<delta::Action> actions,
                          delta::ParseCommit(content, commit.key));
    for (const delta::Action& a : actions) {
      if (const auto* ci = std::get_if<delta::CommitInfo>(&a)) {
        e.operation = ci->operation.value_or("");
        e.commit_info_json = ci->json;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> LakeTable::Checkpoint() const {
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(std::nullopt, std::nullopt));
  WEFT_RETURN_IF_ERROR(delta::WriteCheckpoint(*store_, snapshot));
  return snapshot.version();
}

Result<OptimizeResult> LakeTable::Optimize(int64_t small_file_bytes) {
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(std::nullopt, std::nullopt));
  WEFT_ASSIGN_OR_RETURN(std::vector<BatchField> fields, FlatFields(snapshot.schema()));
  std::map<delta::PartitionValues, std::vector<const delta::AddFile*>> groups;
  for (const delta::AddFile& f : snapshot.files()) {
    if (f.size < small_file_bytes && !f.deletion_vector) groups[f.partition_values].push_back(&f);
  }
  OptimizeResult result;
  delta::Transaction txn;
  txn.operation = "OPTIMIZE";
  txn.blind_append = false;
  const int64_t now_ms = UnixMicros(clock_->Now()) / 1000;
  for (const auto& [partition, files] : groups) {
    if (files.size() < 2) continue;
    RecordBatch all(fields);
    for (const delta::AddFile* f : files) {
      WEFT_ASSIGN_OR_RETURN(std::vector<RecordBatch> parts,
                            ReadFile(snapshot, *f, fields, Predicate(), nullptr));
      for (const RecordBatch& b : parts) all.Append(b);
    }
    WEFT_ASSIGN_OR_RETURN(std::vector<delta::AddFile> adds,
                          WriteFiles(snapshot, all, /*data_change=*/false));
    for (const delta::AddFile* f : files) {
      delta::RemoveFile remove;
      remove.path = f->path;
      remove.deletion_timestamp = now_ms;
      remove.data_change = false;
      remove.extended_file_metadata = true;
      remove.partition_values = f->partition_values;
      remove.size = f->size;
      txn.actions.emplace_back(std::move(remove));
      ++result.files_removed;
    }
    for (delta::AddFile& a : adds) {
      txn.actions.emplace_back(std::move(a));
      ++result.files_added;
    }
  }
  if (txn.actions.empty()) return result;
  txn.operation_parameters["targetSize"] = std::to_string(small_file_bytes);
  delta::DeltaTable table(store_.get(), clock_);
  WEFT_ASSIGN_OR_RETURN(delta::CommitResult commit, table.Commit(snapshot, txn));
  result.version = commit.version;
  return result;
}

Result<VacuumResult> LakeTable::Vacuum(double retain_hours, bool dry_run) {
  if (!(retain_hours >= 0)) return InvalidArgumentError("--retain-hours must be >= 0");
  WEFT_ASSIGN_OR_RETURN(delta::Snapshot snapshot, Load(std::nullopt, std::nullopt));
  std::set<std::string> live;
  for (const delta::AddFile& f : snapshot.files()) {
    WEFT_ASSIGN_OR_RETURN(std::string key, delta::DecodeActionPath(f.path));
    live.insert(key);
  }
  std::map<std::string, int64_t> removed_at;
  for (const delta::RemoveFile& r : snapshot.tombstones()) {
    WEFT_ASSIGN_OR_RETURN(std::string key, delta::DecodeActionPath(r.path));
    removed_at[key] = r.deletion_timestamp.value_or(0);
  }
  const int64_t now_ms = UnixMicros(clock_->Now()) / 1000;
  const auto cutoff = now_ms - static_cast<int64_t>(retain_hours * 3600 * 1000);
  WEFT_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store_->List(""));
  VacuumResult result;
  for (const ObjectInfo& o : objects) {
    // The log and hidden files (names starting with '_' or '.') are never data files.
    bool hidden = false;
    size_t start = 0;
    while (start < o.key.size()) {
      size_t end = o.key.find('/', start);
      if (end == std::string::npos) end = o.key.size();
      const std::string_view part = std::string_view(o.key).substr(start, end - start);
      const bool partition_dir = part.find('=') != std::string_view::npos && end < o.key.size();
      if (!partition_dir && (part.starts_with('_') || part.starts_with('.'))) hidden = true;
      start = end + 1;
    }
    if (hidden || live.count(o.key) != 0) continue;
    auto it = removed_at.find(o.key);
    const int64_t since = it != removed_at.end() ? it->second : o.modified_ms;
    if (since > cutoff) {
      ++result.kept_recent;
      continue;
    }
    if (!dry_run) WEFT_RETURN_IF_ERROR(store_->Delete(o.key));
    result.deleted.push_back(o.key);
  }
  return result;
}

}  // namespace weft::lake
