// The values that flow through the edge runtime: samples from the connectors, and the records the
// pipeline hands to the uplink.
//
//   SignalId id = table.Find("l1-sp-01", "winding_temp").value();
//   Sample s{.signal = id, .ts_us = now_us, .value = 71.5};
//   pipeline.Push(s);                                   // -> UplinkRecords to the uplink
//
// A sample carries only the index of its signal in the edge's SignalTable (signal_table.h); the
// context (site, line, asset, type, unit, tags) is looked up there, and travels with each uplink
// batch as a dictionary, so the hot path never copies strings.
//
// Thread-safety: plain values.
#ifndef WEFT_EDGE_SAMPLE_H_
#define WEFT_EDGE_SAMPLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::edge {

//! Index of a signal in the edge's SignalTable; stable for the life of the table.
using SignalId = uint32_t;

//! Quality flags of a sample (a bit set; 0 = good). Set by connectors (source problems) and by
//! the pipeline's validation stage.
namespace quality {
inline constexpr uint8_t kGood = 0;
inline constexpr uint8_t kOutOfRange = 1 << 0;  //!< outside the signal's valid range
inline constexpr uint8_t kStale = 1 << 1;       //!< no new value for longer than allowed
inline constexpr uint8_t kStuck = 1 << 2;       //!< the same value for longer than allowed
inline constexpr uint8_t kBadSource = 1 << 3;   //!< the source said bad (e.g. Sparkplug quality)
inline constexpr uint8_t kCommLoss = 1 << 4;    //!< the connection to the source is down
inline constexpr uint8_t kNotANumber = 1 << 5;  //!< NaN or infinite
}  // namespace quality

//! "good", or the set flags joined by '|', e.g. "out_of_range|stuck".
std::string QualityName(uint8_t flags);

//! One measured value. Booleans are 0/1; integers are exact up to 2^53.
struct Sample {
  SignalId signal = 0;
  int64_t ts_us = 0;  //!< source timestamp, microseconds since the Unix epoch, UTC
  double value = 0;
  uint8_t quality = quality::kGood;
};

//! Uplink priority classes. Lower number = more important; a full buffer evicts the highest
//! number first.
enum class Priority : uint8_t { kCritical = 0, kHigh = 1, kNormal = 2, kLow = 3 };
inline constexpr int kPriorityCount = 4;
std::string_view PriorityName(Priority p);  //!< "critical", "high", "normal", "low"
std::optional<Priority> ParsePriority(std::string_view name);  //!< PriorityName's inverse

//! Statistics of one tumbling window of one signal.
struct Aggregate {
  SignalId signal = 0;
  int64_t start_us = 0;  //!< window start (aligned to the window length)
  int64_t end_us = 0;    //!< exclusive
  uint32_t count = 0;    //!< samples in the window (good ones only)
  double mean = 0, min = 0, max = 0, std = 0, last = 0;
  uint8_t quality = quality::kGood;  //!< OR of the flags of the samples seen
};

//! Something the edge concluded: a detector firing, a model's prediction, a quality change.
struct Event {
  SignalId signal = 0;  //!< the signal (or, for asset-level events, any signal of the asset)
  int64_t ts_us = 0;
  std::string kind;      //!< e.g. "ewma_z", "cusum", "prediction", "quality"
  std::string source;    //!< detector or model name and version, e.g. "bearing@1.2.0"
  double value = 0;      //!< score, statistic or predicted value
  double threshold = 0;  //!< the threshold it was compared with (0 if none)
  std::string message;   //!< human-readable, may be empty
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_SAMPLE_H_
