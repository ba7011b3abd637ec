#include "lake/text_io.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "lake/predicate.h"

namespace weft::lake {
namespace {

std::string Where(std::string_view source, size_t line) {
  return std::string(source) + ":" + std::to_string(line) + ": ";
}

// Maps the input's column names to the schema's; unknown names are refused with a hint.
Result<std::vector<int>> MapColumns(const std::vector<std::string>& names,
                                    const std::vector<BatchField>& schema,
                                    const std::string& where) {
  std::vector<int> to_schema;
  std::vector<bool> seen(schema.size(), false);
  for (const std::string& n : names) {
    int index = -1;
    for (size_t i = 0; i < schema.size(); ++i) {
      if (schema[i].name == n) index = static_cast<int>(i);
    }
    if (index < 0) return InvalidArgumentError(where + UnknownColumnError(n, schema).message());
    if (seen[static_cast<size_t>(index)]) {
      return InvalidArgumentError(where + "column '" + n + "' appears twice");
    }
    seen[static_cast<size_t>(index)] = true;
    to_schema.push_back(index);
  }
  for (size_t i = 0; i < schema.size(); ++i) {
    if (!seen[i] && !schema[i].nullable) {
      return InvalidArgumentError(where + "column '" + schema[i].name +
                                  "' is missing and may not be null");
    }
  }
  return to_schema;
}

Status AppendText(Column& col, const BatchField& f, std::string_view text, bool is_null,
                  const std::string& where) {
  if (is_null) {
    if (!f.nullable) {
      return InvalidArgumentError(where + "column '" + f.name + "' may not be null");
    }
    col.AppendNull();
    return Status::Ok();
  }
  Result<Scalar> v = ParseScalar(text, f.type);
  if (!v.ok())
    return InvalidArgumentError(where + "column '" + f.name + "': " + v.status().message());
  col.Append(*v);
  return Status::Ok();
}

// Splits one CSV record starting at `pos` (RFC 4180: quoted fields may hold commas, quotes as "",
// and line breaks). `quoted[i]` tells an empty quoted field ("" = empty string) from an empty one
// (null). Advances `pos` past the record and counts the lines it spans.
Status NextRecord(std::string_view text, size_t* pos, size_t* line,
                  std::vector<std::string>* fields, std::vector<bool>* quoted,
                  std::string_view source) {
  fields->clear();
  quoted->clear();
  std::string field;
  bool in_quotes = false, was_quoted = false;
  const size_t start_line = *line;
  size_t i = *pos;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++*line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      in_quotes = was_quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      quoted->push_back(was_quoted);
      field.clear();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      break;
    } else if (was_quoted) {
      return InvalidArgumentError(Where(source, start_line) +
                                  "text after a closing quote; quote the whole field");
    } else {
      field.push_back(c);
    }
  }
  if (in_quotes) {
    return InvalidArgumentError(Where(source, start_line) + "a quoted field is not closed");
  }
  fields->push_back(std::move(field));
  quoted->push_back(was_quoted);
  *pos = i;
  ++*line;
  return Status::Ok();
}

void CsvField(std::string_view s, std::string* out) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos && !s.empty()) {
    out->append(s);
    return;
  }
  out->push_back('"');  // also "" for the empty string, so that it reads back as not null
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string TextOf(const Column& col, size_t r) {
  switch (col.type()) {
    case ColumnType::kBoolean: return col.BoolAt(r) ? "true" : "false";
    case ColumnType::kInt32:
    case ColumnType::kInt64: return std::to_string(col.IntAt(r));
    case ColumnType::kDate:
      return FormatDate(std::chrono::sys_days(std::chrono::days(col.IntAt(r))));
    case ColumnType::kTimestampMicros: return FormatTimestampMicros(col.IntAt(r));
    case ColumnType::kFloat:
    case ColumnType::kDouble: return FormatDouble(col.DoubleAt(r));
    case ColumnType::kString:
    case ColumnType::kBinary: return std::string(col.StringAt(r));
  }
  return {};
}

}  // namespace

Result<RecordBatch> ReadCsv(std::string_view text, const std::vector<BatchField>& schema,
                            std::string_view source) {
  RecordBatch batch(schema);
  size_t pos = 0, line = 1;
  std::vector<std::string> header, fields;
  std::vector<bool> quoted;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // a UTF-8 byte order mark
  if (pos >= text.size())
    return InvalidArgumentError(std::string(source) + ": empty; expected a header line");
  WEFT_RETURN_IF_ERROR(NextRecord(text, &pos, &line, &header, &quoted, source));
  WEFT_ASSIGN_OR_RETURN(std::vector<int> to_schema, MapColumns(header, schema, Where(source, 1)));
  std::vector<bool> present(schema.size(), false);
  for (int i : to_schema) present[static_cast<size_t>(i)] = true;
  while (pos < text.size()) {
    const size_t record_line = line;
    WEFT_RETURN_IF_ERROR(NextRecord(text, &pos, &line, &fields, &quoted, source));
    if (fields.size() == 1 && fields[0].empty() && !quoted[0]) continue;  // blank line
    const std::string where = Where(source, record_line);
    if (fields.size() != header.size()) {
      return InvalidArgumentError(where + "expected " + std::to_string(header.size()) +
                                  " fields (as in the header), got " +
                                  std::to_string(fields.size()));
    }
    for (size_t k = 0; k < fields.size(); ++k) {
      const auto c = static_cast<size_t>(to_schema[k]);
      WEFT_RETURN_IF_ERROR(AppendText(batch.column(c), schema[c], fields[k],
                                      fields[k].empty() && !quoted[k], where));
    }
    for (size_t c = 0; c < schema.size(); ++c) {
      if (!present[c]) batch.column(c).AppendNull();
    }
  }
  return batch;
}

Result<RecordBatch> ReadJsonl(std::string_view text, const std::vector<BatchField>& schema,
                              std::string_view source) {
  RecordBatch batch(schema);
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = Where(source, line_no);
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded()) return InvalidArgumentError(where + "not valid JSON");
    if (!row.is_object()) return InvalidArgumentError(where + "expected a JSON object per line");
    std::vector<std::string> names;
    for (auto it = row.begin(); it != row.end(); ++it) names.push_back(it.key());
    WEFT_ASSIGN_OR_RETURN(std::vector<int> to_schema, MapColumns(names, schema, where));
    std::vector<bool> present(schema.size(), false);
    size_t k = 0;
    for (auto it = row.begin(); it != row.end(); ++it, ++k) {
      const auto c = static_cast<size_t>(to_schema[k]);
      present[c] = true;
      const BatchField& f = schema[c];
      Column& col = batch.column(c);
      const nlohmann::json& v = it.value();
      if (v.is_null()) {
        WEFT_RETURN_IF_ERROR(AppendText(col, f, "", true, where));
      } else if (v.is_string()) {
        WEFT_RETURN_IF_ERROR(AppendText(col, f, v.get_ref<const std::string&>(), false, where));
      } else if (v.is_boolean() && f.type == ColumnType::kBoolean) {
        col.AppendBool(v.get<bool>());
      } else if (v.is_number_integer() && f.type != ColumnType::kBoolean &&
                 f.type != ColumnType::kString && f.type != ColumnType::kBinary) {
        if (f.type == ColumnType::kDouble || f.type == ColumnType::kFloat) {
          col.AppendDouble(v.get<double>());
        } else {
          const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX
                                ? INT64_MAX
                                : v.get<int64_t>();
          if ((f.type == ColumnType::kInt32 || f.type == ColumnType::kDate) &&
              (x < INT32_MIN || x > INT32_MAX)) {
            return InvalidArgumentError(where + "column '" + f.name + "': " + v.dump() +
                                        " does not fit a 32-bit integer");
          }
          col.AppendInt(x);
        }
      } else if (v.is_number_float() &&
                 (f.type == ColumnType::kDouble || f.type == ColumnType::kFloat)) {
        col.AppendDouble(v.get<double>());
      } else {
        return InvalidArgumentError(where + "column '" + f.name + "': " + v.dump() + " is not a " +
                                    std::string(TypeName(f.type)));
      }
    }
    for (size_t c = 0; c < schema.size(); ++c) {
      if (present[c]) continue;
      WEFT_RETURN_IF_ERROR(AppendText(batch.column(c), schema[c], "", true, where));
    }
  }
  return batch;
}

void WriteCsvHeader(const std::vector<BatchField>& fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    CsvField(fields[i].name, out);
  }
  out->push_back('\n');
}

void WriteCsvRows(const RecordBatch& batch, std::string* out) {
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      if (c > 0) out->push_back(',');
      const Column& col = batch.column(c);
      if (!col.IsValid(r)) continue;  // null: an empty field
      if (col.type() == ColumnType::kString || col.type() == ColumnType::kBinary) {
        CsvField(col.StringAt(r), out);
      } else {
        out->append(TextOf(col, r));
      }
    }
    out->push_back('\n');
  }
}

void WriteJsonlRows(const RecordBatch& batch, std::string* out) {
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    nlohmann::ordered_json row = nlohmann::ordered_json::object();
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      const Column& col = batch.column(c);
      const std::string& name = batch.fields()[c].name;
      if (!col.IsValid(r)) {
        row[name] = nullptr;
        continue;
      }
      switch (col.type()) {
        case ColumnType::kBoolean: row[name] = col.BoolAt(r); break;
        case ColumnType::kInt32:
        case ColumnType::kInt64: row[name] = col.IntAt(r); break;
        case ColumnType::kFloat:
        case ColumnType::kDouble: {
          const double d = col.DoubleAt(r);
          if (std::isfinite(d)) {
            row[name] = d;
          } else {
            row[name] = FormatDouble(d);  // JSON has no NaN/Infinity
          }
          break;
        }
        default: row[name] = TextOf(col, r); break;
      }
    }
    out->append(row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    out->push_back('\n');
  }
}

}  // namespace weft::lake
