// SignalPolicy: what the edge pipeline does with each signal (validation, deadband, rate limit,
// heartbeat, tumbling window, route, priority), and the parser of edge.yaml's `pipeline:`
// section that derives one policy per signal of the edge's SignalTable.
//
//   model::YamlReader r("edge.yaml", &diags);
//   std::optional<model::YamlValue> root = r.ParseDocument(text, kMaxEdgeYamlBytes);
//   model::YamlFields f = r.OpenMap(*root, {..., "pipeline"});
//   std::vector<SignalPolicy> policies = DefaultPolicies(table);
//   if (auto section = f.Get("pipeline")) {
//     WEFT_ASSIGN_OR_RETURN(policies, ParsePipelineSection(r, *section, table));
//   }
//   Pipeline pipeline(table, std::move(policies), sink);
//
// The section (every key optional; see README.md for the full format):
//
//   pipeline:
//     defaults: {deadband: 0, max_interval: 60s, route: raw, priority: normal}
//     asset_types:                # a type also matches the types that extend it
//       motor:
//         priority: high
//         signals:
//           vibration_rms: {deadband: 2%, window: 10s, stats: [mean, max, std],
//                           route: raw+aggregate}
//     assets:                     # by asset id: the most specific level
//       l1-sp-01: {signals: {winding_temp: {deadband: 0.2, min_interval: 1s}}}
//
// Precedence, lowest first: the built-in defaults (DefaultPolicies), `defaults`, each matching
// asset type from the root ancestor down to the asset's own type, then the asset. At each level
// the keys given for the signal (under `signals:`) override the level's own keys.
//
// Contract of ParsePipelineSection: every problem is recorded in the reader's Diagnostics with
// file:line:column and field path (unknown keys, unknown asset types / assets / signals with a
// "did you mean", bad values, inconsistent results such as an aggregate route without a window),
// and the result is then InvalidArgument naming the count and the first problem. Nothing throws.
// The returned vector has one policy per signal of `table`, indexed by SignalId.
//
// Thread-safety: plain values and free functions.
#ifndef WEFT_EDGE_PIPELINE_POLICY_H_
#define WEFT_EDGE_PIPELINE_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "edge/sample.h"
#include "edge/signal_table.h"
#include "model/yaml_reader.h"

namespace weft::edge {

//! Where a signal's values go up.
enum class Route : uint8_t {
  kRaw,              //!< the samples that pass deadband and rate limit, plus heartbeats
  kAggregate,        //!< only the window statistics
  kEvents,           //!< only quality changes (and detector events, added by others)
  kRawAndAggregate,  //!< both of the first two
};
std::string_view RouteName(Route r);  //!< "raw", "aggregate", "events", "raw+aggregate"
inline bool RouteHasRaw(Route r) {
  return r == Route::kRaw || r == Route::kRawAndAggregate;
}
inline bool RouteHasAggregate(Route r) {
  return r == Route::kAggregate || r == Route::kRawAndAggregate;
}

//! The statistics a window reports (a bit set).
namespace stat {
inline constexpr uint8_t kMean = 1 << 0;
inline constexpr uint8_t kMin = 1 << 1;
inline constexpr uint8_t kMax = 1 << 2;
inline constexpr uint8_t kStd = 1 << 3;
inline constexpr uint8_t kLast = 1 << 4;
inline constexpr uint8_t kCount = 1 << 5;
inline constexpr uint8_t kAll = kMean | kMin | kMax | kStd | kLast | kCount;
}  // namespace stat
//! "mean,max,std" (in that fixed order).
std::string StatsName(uint8_t stats);

struct SignalPolicy {
  SignalId signal = 0;

  // ---- Validation. ----
  //! Valid range, inclusive; from the SignalTable unless overridden (`range: [lo, hi]` or
  //! `range: off`). A finite value outside it is flagged kOutOfRange.
  std::optional<double> min, max;
  //! Flag kStale when no sample came for longer than this (by the clock given to Advance).
  //! Default 3 x the signal's period; 0 = off.
  Micros stale_after{0};
  //! Flag kStuck on a sample whose exact value has not changed for this long or longer; 0 = off.
  Micros stuck_after{0};

  // ---- Raw path. ----
  //! A good sample whose quality has not changed is not sent when |value - last sent value| is
  //! below the deadband (absolute, or percent of |last sent value|). 0 = every value is sent.
  double deadband = 0;
  bool deadband_percent = false;
  //! Rate limit: a sample less than this after the last sent one is not sent. 0 = off.
  Micros min_interval{0};
  //! Heartbeat: when nothing was sent for this long, Advance sends the latest value again. 0 = off.
  Micros max_interval{0};

  // ---- Aggregate path. ----
  //! Tumbling window length, windows aligned to multiples of it since the epoch; 0 = none.
  Micros window{0};
  uint8_t stats = stat::kAll;

  Route route = Route::kRaw;
  Priority priority = Priority::kNormal;
};

//! The built-in policy of every signal: range from the table, stale after 3 periods (at least
//! 2 s), no stuck check, deadband 0, no rate limit, no heartbeat, no window, route raw,
//! priority normal.
std::vector<SignalPolicy> DefaultPolicies(const SignalTable& table);

//! Reads the `pipeline:` section of edge.yaml (see the top of this file).
Result<std::vector<SignalPolicy>> ParsePipelineSection(model::YamlReader& r,
                                                       const model::YamlValue& section,
                                                       const SignalTable& table);

}  // namespace weft::edge

#endif  // WEFT_EDGE_PIPELINE_POLICY_H_
