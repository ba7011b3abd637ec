#include "core/views/view_reader.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <utility>

#include "common/strings.h"
#include "common/time_format.h"
#include "lake/parquet/writer.h"
#include "lake/predicate.h"
#include "lake/text_io.h"
#include "model/units.h"

namespace weft::core::views {

namespace {

using lake::BatchField;
using lake::Column;
using lake::ColumnType;
using lake::RecordBatch;

// Start of the period that contains t (floor, also before 1970).
int64_t PeriodStart(int64_t t, int64_t period) {
  int64_t r = t % period;
  if (r < 0) r += period;
  return t - r;
}

std::string DayText(int64_t us) {
  return FormatDate(DayOf(TimeFromUnixMicros(us)));
}

// Appends "name >= 'min' and name <= 'max'" (or "name = 'x'") over a non-empty set of names.
void AppendNameRange(std::string_view column, const std::vector<std::string>& names,
                     std::string* out) {
  const auto [lo, hi] = std::minmax_element(names.begin(), names.end());
  if (*lo == *hi) {
    *out += " and " + std::string(column) + " = " + lake::PredicateLiteral(*lo);
  } else {
    *out += " and " + std::string(column) + " >= " + lake::PredicateLiteral(*lo) + " and " +
            std::string(column) + " <= " + lake::PredicateLiteral(*hi);
  }
}

// value_out = value * scale + shift, exactly as model::Convert computes it (checked once per
// stored unit rather than per row).
struct Conversion {
  bool identity = true;
  double scale = 1;
  double shift = 0;
  double Apply(double v) const { return identity ? v : v * scale + shift; }
};

// The samples of one signal in one period.
struct Acc {
  int64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  int64_t last_ts = std::numeric_limits<int64_t>::min();
  double last = 0;

  void Add(int64_t ts, double v) {
    if (count == 0) {
      min = max = v;
    } else {
      min = std::min(min, v);
      max = std::max(max, v);
    }
    ++count;
    sum += v;
    if (ts >= last_ts) {
      last_ts = ts;
      last = v;
    }
  }
  double Value(Agg agg) const {
    switch (agg) {
      case Agg::kMean: return sum / static_cast<double>(count);
      case Agg::kMin: return min;
      case Agg::kMax: return max;
      case Agg::kLast: return last;
    }
    return last;
  }
};

// One asset's periods: accs[slot * signals + s] for the period whose slot is period_slot[start].
struct AssetState {
  std::map<int64_t, size_t> period_slot;
  std::vector<Acc> accs;
};

struct ColumnSpec {
  const char* name;
  bool required;
  std::vector<ColumnType> types;
};

// Evaluates one view over the scanned batches.
class ViewEvaluator {
 public:
  ViewEvaluator(const ViewDef& view, const ViewQuery& q, ViewReadStats* stats)
      : view_(view), q_(q), stats_(stats), conversions_(view.signals.size()) {}

  Status Consume(const RecordBatch& b) {
    const Column& ts = b.column(Index(b, "ts"));
    const Column& asset = b.column(Index(b, "asset"));
    const Column& signal = b.column(Index(b, "signal"));
    const Column& value = b.column(Index(b, "value"));
    const Column* unit = Optional(b, "unit");
    const Column* quality = view_.good_only ? Optional(b, "quality") : nullptr;
    const Column* asset_type = view_.asset_types.empty() ? nullptr : Optional(b, "asset_type");
    const Column* site = q_.row_filter ? Optional(b, "site") : nullptr;
    const Column* area = q_.row_filter ? Optional(b, "area") : nullptr;
    const Column* line = q_.row_filter ? Optional(b, "line") : nullptr;
    const bool value_is_int =
        value.type() == ColumnType::kInt32 || value.type() == ColumnType::kInt64;
    const size_t nsig = view_.signals.size();

    for (size_t i = 0; i < b.num_rows(); ++i) {
      if (!ts.IsValid(i) || !asset.IsValid(i) || !signal.IsValid(i)) continue;
      const size_t s = SignalIndex(signal.StringAt(i));
      if (s == nsig) continue;  // inside the pushed-down name range but not declared
      if (!view_.asset_types.empty()) {
        if (asset_type == nullptr || !asset_type->IsValid(i)) continue;
        const std::string_view t = asset_type->StringAt(i);
        if (std::find(view_.asset_types.begin(), view_.asset_types.end(), t) ==
            view_.asset_types.end()) {
          continue;
        }
      }
      if (quality != nullptr && quality->IsValid(i) && quality->IntAt(i) != 0) {
        ++stats_->rows_bad_quality;
        continue;
      }
      if (!value.IsValid(i)) {
        ++stats_->rows_null_value;
        continue;
      }
      const std::string_view asset_name = asset.StringAt(i);
      if (q_.row_filter && !Allowed(Text(site, i), Text(area, i), Text(line, i), asset_name)) {
        ++stats_->rows_filtered;
        continue;
      }
      const double raw = value_is_int ? static_cast<double>(value.IntAt(i)) : value.DoubleAt(i);
      WEFT_ASSIGN_OR_RETURN(const Conversion* conv, ConversionFor(s, Text(unit, i), asset_name));
      const double v = conv->Apply(raw);
      const int64_t t = ts.IntAt(i);

      AssetState& st = StateFor(asset_name);
      const int64_t start = PeriodStart(t, view_.period_us);
      auto [it, inserted] = st.period_slot.emplace(start, st.period_slot.size());
      if (inserted) st.accs.resize(st.accs.size() + nsig);
      st.accs[it->second * nsig + s].Add(t, v);
      ++stats_->rows_used;
    }
    return Status::Ok();
  }

  RecordBatch Finish() const {
    RecordBatch out(ViewSchema(view_));
    const size_t nsig = view_.signals.size();
    for (const auto& [asset_name, st] : assets_) {
      std::vector<std::optional<double>> previous(nsig);
      for (const auto& [start, slot] : st.period_slot) {
        out.column(0).AppendInt(start);
        out.column(1).AppendString(asset_name);
        for (size_t s = 0; s < nsig; ++s) {
          const Acc& acc = st.accs[slot * nsig + s];
          Column& col = out.column(2 + s);
          if (acc.count > 0) {
            const double v = acc.Value(view_.signals[s].agg);
            previous[s] = v;
            col.AppendDouble(v);
          } else if (view_.fill == Fill::kPrevious && previous[s]) {
            col.AppendDouble(*previous[s]);
          } else {
            col.AppendNull();
          }
        }
      }
    }
    return out;
  }

 private:
  static size_t Index(const RecordBatch& b, std::string_view name) {
    return static_cast<size_t>(b.Find(name));  // requested in the scan, so present
  }
  static const Column* Optional(const RecordBatch& b, std::string_view name) {
    const int i = b.Find(name);
    return i < 0 ? nullptr : &b.column(static_cast<size_t>(i));
  }
  static std::string_view Text(const Column* c, size_t i) {
    return c == nullptr || !c->IsValid(i) ? std::string_view() : c->StringAt(i);
  }

  size_t SignalIndex(std::string_view name) const {
    for (size_t s = 0; s < view_.signals.size(); ++s) {
      if (view_.signals[s].signal == name) return s;
    }
    return view_.signals.size();
  }

  // Rows of one asset usually come together, so the last decision is remembered.
  bool Allowed(std::string_view site, std::string_view area, std::string_view line,
               std::string_view asset) {
    if (!last_place_ || last_place_->site != site || last_place_->area != area ||
        last_place_->line != line || last_place_->asset != asset) {
      last_place_ = Place{std::string(site), std::string(area), std::string(line),
                          std::string(asset), q_.row_filter(site, area, line, asset)};
    }
    return last_place_->allowed;
  }

  Result<const Conversion*> ConversionFor(size_t s, std::string_view stored,
                                          std::string_view asset) {
    auto& cache = conversions_[s];
    if (auto it = cache.find(stored); it != cache.end()) return &it->second;
    const ViewSignal& sig = view_.signals[s];
    auto fail = [&](const std::string& why) {
      return InvalidArgumentError("view '" + view_.name + "': signal '" + sig.signal +
                                  "' of asset '" + std::string(asset) + "' is stored in unit '" +
                                  std::string(stored) + "', which cannot be converted to '" +
                                  sig.unit.symbol + "': " + why);
    };
    Result<model::Unit> from = model::ParseUnit(stored);
    if (!from.ok()) return fail(from.status().message());
    // Convert() checks the dimensions and the target's factor; the factors then give the same
    // arithmetic per row without the checks.
    Result<double> probe = model::Convert(0.0, *from, sig.unit);
    if (!probe.ok()) return fail(probe.status().message());
    Conversion c;
    c.identity = from->factor == sig.unit.factor && from->offset == sig.unit.offset;
    c.scale = from->factor / sig.unit.factor;
    c.shift = (from->offset - sig.unit.offset) / sig.unit.factor;
    return &cache.emplace(std::string(stored), c).first->second;
  }

  AssetState& StateFor(std::string_view asset) {
    if (last_state_ != nullptr && last_asset_ == asset) return *last_state_;
    auto it = assets_.find(asset);
    if (it == assets_.end()) it = assets_.emplace(std::string(asset), AssetState{}).first;
    last_asset_ = it->first;
    last_state_ = &it->second;
    return *last_state_;
  }

  struct Place {
    std::string site, area, line, asset;
    bool allowed = false;
  };

  const ViewDef& view_;
  const ViewQuery& q_;
  ViewReadStats* stats_;
  std::vector<std::map<std::string, Conversion, std::less<>>> conversions_;  //!< per signal
  std::map<std::string, AssetState, std::less<>> assets_;                    //!< sorted output
  std::string_view last_asset_;  //!< a key of assets_ (stable: map nodes do not move)
  AssetState* last_state_ = nullptr;
  std::optional<Place> last_place_;
};

// Appends bytes to a std::ostream for the Parquet writer.
class StreamSink : public lake::parquet::OutputSink {
 public:
  explicit StreamSink(std::ostream* out) : out_(out) {}
  Status Append(std::string_view bytes) override {
    out_->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!*out_) return UnavailableError("writing the Parquet output failed");
    return Status::Ok();
  }
  Status Close() override {
    out_->flush();
    if (!*out_) return UnavailableError("writing the Parquet output failed");
    return Status::Ok();
  }

 private:
  std::ostream* out_;
};

}  // namespace

std::vector<BatchField> ViewSchema(const ViewDef& view) {
  std::vector<BatchField> fields = {{"ts", ColumnType::kTimestampMicros, false},
                                    {"asset", ColumnType::kString, false}};
  for (const ViewSignal& s : view.signals) fields.push_back({s.column, ColumnType::kDouble, true});
  return fields;
}

std::string ViewScanPredicate(const ViewDef& view, const ViewQuery& q, bool has_date,
                              bool has_asset_type) {
  std::string p = "ts >= " + lake::PredicateLiteral(FormatTimestampMicros(q.from_us)) +
                  " and ts < " + lake::PredicateLiteral(FormatTimestampMicros(q.to_us));
  if (has_date && q.from_us < q.to_us) {
    // The table is partitioned by the UTC day of ts: whole days of files are skipped.
    p += " and date >= " + lake::PredicateLiteral(DayText(q.from_us)) +
         " and date <= " + lake::PredicateLiteral(DayText(q.to_us - 1));
  }
  if (q.asset) p += " and asset = " + lake::PredicateLiteral(*q.asset);
  if (has_asset_type && !view.asset_types.empty()) {
    AppendNameRange("asset_type", view.asset_types, &p);
  }
  std::vector<std::string> signals;
  for (const ViewSignal& s : view.signals) signals.push_back(s.signal);
  if (!signals.empty()) AppendNameRange("signal", signals, &p);
  return p;
}

Result<RecordBatch> ReadView(const lake::LakeTable& telemetry, const ViewDef& view,
                             const ViewQuery& q, ViewReadStats* stats) {
  if (q.from_us >= q.to_us) {
    return InvalidArgumentError("view '" + view.name + "': the time range is empty: from " +
                                FormatTimestampMicros(q.from_us) + " is not before to " +
                                FormatTimestampMicros(q.to_us));
  }
  if (view.period_us <= 0 || view.signals.empty()) {
    return InvalidArgumentError("view '" + view.name +
                                "' has no period or no signals (not from ParseViews?)");
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<BatchField> schema, telemetry.Schema(q.version));
  auto type_of = [&](std::string_view name) -> std::optional<ColumnType> {
    for (const BatchField& f : schema) {
      if (f.name == name) return f.type;
    }
    return std::nullopt;
  };
  const std::vector<ColumnSpec> specs = {
      {"ts", true, {ColumnType::kTimestampMicros}},
      {"asset", true, {ColumnType::kString}},
      {"signal", true, {ColumnType::kString}},
      {"value",
       true,
       {ColumnType::kDouble, ColumnType::kFloat, ColumnType::kInt32, ColumnType::kInt64}},
      {"unit", false, {ColumnType::kString}},
      {"quality", false, {ColumnType::kInt32, ColumnType::kInt64}},
      {"asset_type", !view.asset_types.empty(), {ColumnType::kString}},
      {"site", false, {ColumnType::kString}},
      {"area", false, {ColumnType::kString}},
      {"line", false, {ColumnType::kString}},
      {"date", false, {ColumnType::kDate}},
  };
  std::vector<std::string> columns;
  bool has_date = false;
  bool has_asset_type = false;
  for (const ColumnSpec& spec : specs) {
    const std::optional<ColumnType> t = type_of(spec.name);
    if (!t) {
      if (spec.required) {
        return FailedPreconditionError("view '" + view.name + "': the telemetry table has no '" +
                                       spec.name + "' column");
      }
      continue;
    }
    if (std::find(spec.types.begin(), spec.types.end(), *t) == spec.types.end()) {
      if (!spec.required && std::string_view(spec.name) == "date") continue;  // not partitioned
      return FailedPreconditionError("view '" + view.name + "': the telemetry table's '" +
                                     spec.name + "' column is " + std::string(lake::TypeName(*t)) +
                                     "; expected " +
                                     std::string(lake::TypeName(spec.types.front())));
    }
    const std::string_view name = spec.name;
    if (name == "date") {
      has_date = true;
      continue;  // only for pruning
    }
    if (name == "asset_type") has_asset_type = true;
    if (name == "quality" && !view.good_only) continue;
    if ((name == "site" || name == "area" || name == "line") && !q.row_filter) continue;
    columns.emplace_back(name);
  }

  ViewReadStats local_stats;
  ViewReadStats* st = stats != nullptr ? stats : &local_stats;
  *st = ViewReadStats{};
  lake::ScanOptions options;
  options.version = q.version;
  options.columns = columns;
  options.where = ViewScanPredicate(view, q, has_date, has_asset_type);
  ViewEvaluator evaluator(view, q, st);
  WEFT_RETURN_IF_ERROR(telemetry.Scan(
      options, [&](const RecordBatch& b) { return evaluator.Consume(b); }, &st->scan));
  return evaluator.Finish();
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "csv") return Format::kCsv;
  if (name == "jsonl") return Format::kJsonl;
  if (name == "parquet") return Format::kParquet;
  return InvalidArgumentError(UnknownNameMessage("format", name, {"csv", "jsonl", "parquet"}));
}

Status WriteView(const RecordBatch& rows, Format format, std::ostream& out) {
  if (format == Format::kParquet) {
    std::vector<lake::parquet::Field> fields;
    for (const BatchField& f : rows.fields()) {
      fields.push_back(lake::parquet::Field::Primitive(f.name, f.type, f.nullable));
    }
    WEFT_ASSIGN_OR_RETURN(auto writer,
                          lake::parquet::ParquetWriter::Open(lake::parquet::WriterSchema(fields),
                                                             std::make_unique<StreamSink>(&out)));
    std::vector<lake::parquet::ColumnView> views;
    for (size_t c = 0; c < rows.num_columns(); ++c) views.push_back(rows.column(c).View());
    if (rows.num_rows() > 0) WEFT_RETURN_IF_ERROR(writer->WriteBatch(views));
    return writer->Close();
  }
  std::string text;
  if (format == Format::kCsv) {
    lake::WriteCsvHeader(rows.fields(), &text);
    lake::WriteCsvRows(rows, &text);
  } else {
    lake::WriteJsonlRows(rows, &text);
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) return UnavailableError("writing the view output failed");
  return Status::Ok();
}

}  // namespace weft::core::views
