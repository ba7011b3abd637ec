#include "edge/connectors/mqtt/json_telemetry.h"

#include <simdjson.h>

#include <cstring>
#include <functional>
#include <limits>
#include <unordered_map>

namespace weft::edge {
namespace {

namespace dom = simdjson::dom;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct FieldTarget {
  SignalId id = 0;
  bool is_string = false;  //!< a string signal: a JSON value cannot become a sample
};
using TopicFields = StringMap<FieldTarget>;

std::string_view TypeWord(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::NULL_VALUE: return "null";
    case dom::element_type::BOOL: return "a boolean";
    default: return "a number";
  }
}

// Walks `values` recursively, building the dotted path in a reused buffer.
class Walker {
 public:
  Walker(std::string_view topic, const TopicFields* fields, const SignalTable& table,
         const JsonDecodeOptions& options, JsonDecodeResult* out)
      : topic_(topic), fields_(fields), table_(table), options_(options), out_(out) {}

  Status Walk(dom::object object, int depth, std::string* path) {
    for (dom::key_value_pair member : object) {
      const size_t mark = path->size();
      if (mark != 0) path->push_back('.');
      path->append(member.key);
      Status s = Visit(member.value, depth, path);
      path->resize(mark);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  Status Visit(dom::element value, int depth, std::string* path) {
    const FieldTarget* target = nullptr;
    if (fields_ != nullptr) {
      auto it = fields_->find(std::string_view(*path));
      if (it != fields_->end()) target = &it->second;
    }
    const dom::element_type type = value.type();
    if (type == dom::element_type::OBJECT && target == nullptr) {
      if (depth >= options_.max_depth) {
        return InvalidArgumentError("JSON on '" + std::string(topic_) + "': values." + *path +
                                    " is nested deeper than " + std::to_string(options_.max_depth) +
                                    " objects");
      }
      dom::object inner;
      if (value.get_object().get(inner) != simdjson::SUCCESS) return Status::Ok();
      return Walk(inner, depth + 1, path);
    }
    if (target == nullptr) {
      ++out_->unmapped_fields;
      Keep(*path, "unmapped_field",
           "values." + *path + " is not bound to a signal of this topic (ignored)");
      return Status::Ok();
    }
    const SignalInfo& info = table_.at(target->id);
    const std::string who = std::string(info.asset) + "/" + std::string(info.signal);
    if (type == dom::element_type::NULL_VALUE) {
      ++out_->null_fields;
      Keep(*path, "null_value", "values." + *path + " (signal " + who + ") is null");
      return Status::Ok();
    }
    double v = 0;
    bool numeric = true;
    switch (type) {
      case dom::element_type::INT64: {
        int64_t i = 0;
        numeric = value.get_int64().get(i) == simdjson::SUCCESS;
        v = static_cast<double>(i);
        break;
      }
      case dom::element_type::UINT64: {
        uint64_t u = 0;
        numeric = value.get_uint64().get(u) == simdjson::SUCCESS;
        v = static_cast<double>(u);
        break;
      }
      case dom::element_type::DOUBLE:
        numeric = value.get_double().get(v) == simdjson::SUCCESS;
        break;
      case dom::element_type::BOOL: {
        bool b = false;
        numeric = value.get_bool().get(b) == simdjson::SUCCESS;
        v = b ? 1.0 : 0.0;
        break;
      }
      default: numeric = false;
    }
    if (!numeric || target->is_string) {
      ++out_->wrong_type_fields;
      Keep(*path, "wrong_type",
           "values." + *path + " (signal " + who + ") is " + std::string(TypeWord(type)) +
               (target->is_string ? "; string signals cannot be read from JSON telemetry"
                                  : "; expected a number or a boolean"));
      return Status::Ok();
    }
    out_->samples.push_back(Sample{.signal = target->id, .ts_us = out_->ts_ms * 1000, .value = v});
    return Status::Ok();
  }

  void Keep(const std::string& field, std::string_view kind, std::string message) {
    if (out_->problems.size() >= options_.max_problems_kept) return;
    out_->problems.push_back(JsonFieldProblem{
        field, std::string(kind), "JSON on '" + std::string(topic_) + "': " + std::move(message)});
  }

  std::string_view topic_;
  const TopicFields* fields_;
  const SignalTable& table_;
  const JsonDecodeOptions& options_;
  JsonDecodeResult* out_;
};

std::string Where(std::string_view topic) {
  return "JSON on '" + std::string(topic) + "'";
}

}  // namespace

struct JsonTelemetryDecoder::Impl {
  const SignalTable* table = nullptr;
  JsonDecodeOptions options;
  StringMap<TopicFields> topics;
  dom::parser parser;
  std::string padded;  //!< the payload followed by SIMDJSON_PADDING zero bytes
  std::string path;
};

JsonTelemetryDecoder::JsonTelemetryDecoder(const SignalTable& table, JsonDecodeOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->table = &table;
  impl_->options = options;
  for (const SignalInfo& s : table.signals()) {
    if (s.protocol != model::Protocol::kMqttJson || s.asset_model == nullptr ||
        s.signal_model == nullptr || !s.asset_model->connection.mqtt ||
        !s.signal_model->spec.source.mqtt) {
      continue;
    }
    impl_->topics[s.asset_model->connection.mqtt->topic].emplace(
        s.signal_model->spec.source.mqtt->field,
        FieldTarget{s.id, s.type == model::DataType::kString});
  }
}

JsonTelemetryDecoder::~JsonTelemetryDecoder() = default;

bool JsonTelemetryDecoder::KnowsTopic(std::string_view topic) const {
  return impl_->topics.find(topic) != impl_->topics.end();
}

Status JsonTelemetryDecoder::Decode(std::string_view topic, std::string_view payload,
                                    JsonDecodeResult* out) {
  out->ts_ms = 0;
  out->samples.clear();
  out->unmapped_fields = out->wrong_type_fields = out->null_fields = 0;
  out->problems.clear();
  if (payload.size() > impl_->options.max_bytes) {
    return Status(StatusCode::kResourceExhausted,
                  Where(topic) + ": payload of " + std::to_string(payload.size()) +
                      " bytes is larger than the limit of " +
                      std::to_string(impl_->options.max_bytes) + " bytes; refused");
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse from a padded copy kept
  // between messages, so that the steady state allocates nothing here.
  impl_->padded.assign(payload);
  impl_->padded.append(simdjson::SIMDJSON_PADDING, '\0');
  dom::element doc;
  if (auto error = impl_->parser.parse(impl_->padded.data(), payload.size(), false).get(doc);
      error != simdjson::SUCCESS) {
    return InvalidArgumentError(Where(topic) + ": not valid JSON (" +
                                std::string(simdjson::error_message(error)) + ")");
  }
  dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return InvalidArgumentError(Where(topic) + ": the document is " +
                                std::string(TypeWord(doc.type())) +
                                ", expected an object with \"ts\" and \"values\"");
  }
  dom::element ts;
  if (root.at_key("ts").get(ts) != simdjson::SUCCESS) {
    return InvalidArgumentError(Where(topic) + ": no \"ts\" (milliseconds since the Unix epoch)");
  }
  int64_t ts_ms = 0;
  constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 1000;
  if (ts.type() != dom::element_type::INT64 || ts.get_int64().get(ts_ms) != simdjson::SUCCESS ||
      ts_ms < 0 || ts_ms > kMaxMs) {
    std::string got = std::string(TypeWord(ts.type()));
    if (ts.type() == dom::element_type::INT64) got = std::to_string(ts_ms);
    if (ts.type() == dom::element_type::DOUBLE) got = "a fractional number";
    if (ts.type() == dom::element_type::UINT64) got = "a number above 2^63";
    return InvalidArgumentError(Where(topic) + ": \"ts\" is " + got +
                                ", expected an integer number of milliseconds since the Unix "
                                "epoch, from 0 to " +
                                std::to_string(kMaxMs));
  }
  dom::element values;
  if (root.at_key("values").get(values) != simdjson::SUCCESS) {
    return InvalidArgumentError(Where(topic) + ": no \"values\" object");
  }
  dom::object values_object;
  if (values.get_object().get(values_object) != simdjson::SUCCESS) {
    return InvalidArgumentError(Where(topic) + ": \"values\" is " +
                                std::string(TypeWord(values.type())) +
                                ", expected an object of fields");
  }
  out->ts_ms = ts_ms;
  auto topic_it = impl_->topics.find(topic);
  const TopicFields* fields = topic_it == impl_->topics.end() ? nullptr : &topic_it->second;
  Walker walker(topic, fields, *impl_->table, impl_->options, out);
  impl_->path.clear();
  Status s = walker.Walk(values_object, 1, &impl_->path);
  if (!s.ok()) {
    out->samples.clear();
    out->problems.clear();
    out->unmapped_fields = out->wrong_type_fields = out->null_fields = 0;
    return s;
  }
  return Status::Ok();
}

Result<JsonDecodeResult> DecodeJsonTelemetry(std::string_view topic, std::string_view payload,
                                             const SignalTable& table,
                                             const JsonDecodeOptions& options) {
  JsonTelemetryDecoder decoder(table, options);
  JsonDecodeResult result;
  WEFT_RETURN_IF_ERROR(decoder.Decode(topic, payload, &result));
  return result;
}

}  // namespace weft::edge
