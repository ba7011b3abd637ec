// Decoding of the JSON telemetry that plain-MQTT machines publish (the format of
// sim/json_publisher.h), one document per message:
//
//   topic   brno/b1/b1-cv-01/telemetry
//   payload {"ts":1767225600000,"asset":"b1-cv-01","values":{"belt_speed":1.21,"running":true,
//            "drive":{"current":12.5}}}
//
//   WEFT_ASSIGN_OR_RETURN(JsonDecodeResult r, DecodeJsonTelemetry(topic, payload, table));
//   sinks.on_samples(r.samples);
//
// The document:
// - `ts`: required, an integer: milliseconds since the Unix epoch (UTC), 0 .. 2^63/1000. It is
//   the timestamp of every sample of the document.
// - `values`: required, an object. A field is found by its path: the keys from `values` down to
//   a number or boolean, joined by '.', so the binding field "drive.current" names
//   {"drive":{"current":12.5}} (a key that itself holds a dot, {"drive.current":12.5}, names it
//   too). Numbers give their value, booleans 1 or 0.
// - any other member (e.g. `asset`) is ignored.
//
// Whole-document errors (the Result's status; nothing is decoded):
//   ResourceExhausted  the payload is larger than max_bytes (1 MiB by default);
//   InvalidArgument    not JSON (simdjson's reason), not an object, `ts` missing or not a
//                      non-negative integer in range, `values` missing or not an object, objects
//                      in `values` nested deeper than max_depth.
// Per-field problems (counted in the result; the other fields are still decoded):
//   "unmapped_field"   a path that no signal of the table binds on this topic (a whole unmapped
//                      array counts once);
//   "wrong_type"       a bound field holding a string, an array or an object, or a bound signal
//                      whose type is string (samples are numbers);
//   "null_value"       a bound field holding null.
//
// Bad input never crashes, throws or allocates without bound (the payload size bounds it).
//
// Thread-safety: DecodeJsonTelemetry is a pure function. A JsonTelemetryDecoder is used by one
// thread at a time (it reuses its parser's buffers).
#ifndef WEFT_EDGE_CONNECTORS_MQTT_JSON_TELEMETRY_H_
#define WEFT_EDGE_CONNECTORS_MQTT_JSON_TELEMETRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "edge/sample.h"
#include "edge/signal_table.h"

namespace weft::edge {

struct JsonDecodeOptions {
  size_t max_bytes = size_t{1} << 20;
  //! Nesting of objects inside `values` (1 = flat).
  int max_depth = 16;
  //! Field problems kept with their message in JsonDecodeResult::problems (all are counted).
  size_t max_problems_kept = 16;
};

//! One field that did not give a sample.
struct JsonFieldProblem {
  std::string field;    //!< the dotted path
  std::string kind;     //!< "unmapped_field", "wrong_type" or "null_value"
  std::string message;  //!< names the topic, the field and what was found
};

struct JsonDecodeResult {
  int64_t ts_ms = 0;
  std::vector<Sample> samples;  //!< in document order
  uint64_t unmapped_fields = 0;
  uint64_t wrong_type_fields = 0;
  uint64_t null_fields = 0;
  std::vector<JsonFieldProblem> problems;  //!< the first max_problems_kept, in document order
};

//! Decodes one message. See the top of this file for the format and the errors.
Result<JsonDecodeResult> DecodeJsonTelemetry(std::string_view topic, std::string_view payload,
                                             const SignalTable& table,
                                             const JsonDecodeOptions& options = {});

//! The same, for a stream of messages: builds the (topic, field) -> signal index once and reuses
//! the JSON parser's buffers. `table` must outlive the decoder.
class JsonTelemetryDecoder {
 public:
  explicit JsonTelemetryDecoder(const SignalTable& table, JsonDecodeOptions options = {});
  ~JsonTelemetryDecoder();
  JsonTelemetryDecoder(const JsonTelemetryDecoder&) = delete;
  JsonTelemetryDecoder& operator=(const JsonTelemetryDecoder&) = delete;

  //! Fills `*out` (cleared first; its vectors' capacity is reused). On error `*out` holds
  //! nothing of the message.
  Status Decode(std::string_view topic, std::string_view payload, JsonDecodeResult* out);

  //! Whether any signal of the table is bound to `topic`.
  bool KnowsTopic(std::string_view topic) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_CONNECTORS_MQTT_JSON_TELEMETRY_H_
