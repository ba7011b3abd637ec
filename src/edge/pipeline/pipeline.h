// Pipeline: the edge's per-signal filtering between the connectors and the uplink.
//
//   class Uplink : public PipelineSink { ... OnSample / OnAggregate / OnEvent ... };
//   Pipeline pipeline(table, policies, uplink);   // policies: ParsePipelineSection / Default...
//   pipeline.Push(samples);                       // from the connectors, any batch size
//   pipeline.Advance(UnixMicros(clock.Now()));    // often (e.g. every 100 ms): windows,
//   heartbeats,
//                                                 // stale signals
//   pipeline.Flush();                             // at shutdown: close the open windows
//
// Each sample goes through, in order (README.md has the details):
//   1. validation: kNotANumber (NaN/inf), kOutOfRange (outside [min, max]), kStuck (the same
//      exact value for stuck_after or longer); the flags a connector set are kept.
//   2. quality tracking: when the signal's flags differ from its current ones, an Event of kind
//      "quality" goes up (good -> bad, bad -> good, bad -> other bad).
//   3. raw path (routes raw, raw+aggregate): the sample is sent unless (a) it is less than
//      min_interval after the last sent one, or (b) it is good and within the deadband of the
//      last sent value. A sample that changes the quality, and the first one, are always sent;
//      a bad sample is never held back by the deadband (only by the rate limit, and counted).
//   4. aggregate path (routes aggregate, raw+aggregate): the sample joins its tumbling window;
//      good samples feed the statistics, every sample's flags are OR'ed into its quality.
// Advance(now) closes the windows whose end is <= now, sends heartbeats (routes with raw: the
// latest value, stamped `now`, with the signal's current quality, when nothing was sent for
// max_interval), and flags kStale the signals with no sample for longer than stale_after (a
// signal that never sent counts from the first Advance). The next sample clears kStale.
//
// Times: sample timestamps and Advance's `now` are compared directly, so they must come from
// the same (synchronised) clock; all times are microseconds since the Unix epoch.
//
// Aggregates: `count` is the number of good samples and is always filled; a statistic not in the
// policy's `stats`, and every statistic of a window with no good sample, is NaN. `std` is the
// population standard deviation (divide by n): the window is the whole population it describes.
// A window in which no sample at all arrived is not emitted (the signal goes stale instead).
// Quality events: kind "quality", source "pipeline", value = the new flags (as a number; 0 =
// good), threshold 0, message "<old> -> <new>[: detail]" e.g. "good -> out_of_range: 1200
// above max 1000".
//
// Performance: per-signal state lives in one flat vector indexed by SignalId; Push does no
// allocation and no lookup by name (quality events, which carry strings, are the exception).
//
// Thread-safety: not thread-safe; one owner thread calls Push, Advance and Flush, and the sink
// is called from inside those calls. `table` and `sink` must outlive the Pipeline.
#ifndef WEFT_EDGE_PIPELINE_PIPELINE_H_
#define WEFT_EDGE_PIPELINE_PIPELINE_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "edge/pipeline/policy.h"
#include "edge/sample.h"
#include "edge/signal_table.h"

namespace weft::edge {

//! Where the pipeline's output goes (the uplink, or a test's recorder). Called synchronously
//! from Push/Advance/Flush on the owner's thread; must not call back into the Pipeline.
class PipelineSink {
 public:
  virtual ~PipelineSink() = default;
  virtual void OnSample(const Sample& sample, Priority priority) = 0;
  virtual void OnAggregate(const Aggregate& aggregate, Priority priority) = 0;
  virtual void OnEvent(const Event& event, Priority priority) = 0;
};

//! Counters since construction.
struct PipelineStats {
  uint64_t samples_in = 0;           //!< samples pushed with a known signal id
  uint64_t unknown_signal = 0;       //!< samples with an id outside the table (dropped, counted)
  uint64_t raw_sent = 0;             //!< samples passed to OnSample from Push
  uint64_t deadband_suppressed = 0;  //!< good samples held back by the deadband
  uint64_t rate_limited = 0;         //!< samples held back by min_interval
  uint64_t heartbeats = 0;           //!< repeats sent by Advance (not in raw_sent)
  uint64_t aggregates = 0;           //!< windows closed and passed to OnAggregate
  uint64_t late_for_window = 0;      //!< samples older than their signal's open window
  uint64_t quality_events = 0;       //!< "quality" events passed to OnEvent
  //! Per quality bit (index = bit number, e.g. [0] = kOutOfRange): samples that carried the
  //! flag after validation; for kStale, also each time Advance found a signal stale.
  std::array<uint64_t, 8> flagged{};

  uint64_t Flagged(uint8_t flag) const;  //!< REQUIRES: exactly one bit set
};

class Pipeline {
 public:
  //! `policies` are placed by their `signal` id; a signal without one gets its
  //! DefaultPolicies() entry, and a policy whose id is outside the table is ignored.
  Pipeline(const SignalTable& table, std::vector<SignalPolicy> policies, PipelineSink& sink);

  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void Push(std::span<const Sample> samples);
  void Push(const Sample& sample) { Push(std::span<const Sample>(&sample, 1)); }
  //! Closes due windows, sends heartbeats, flags stale signals. `now_us` should not go back.
  void Advance(int64_t now_us);
  //! Closes every open window now (at shutdown, or before replacing the pipeline).
  void Flush();

  const PipelineStats& stats() const { return stats_; }
  const SignalPolicy& policy(SignalId id) const { return policies_[id]; }
  //! The signal's current quality flags (0 = good).
  uint8_t quality(SignalId id) const { return slots_[id].quality; }

 private:
  // Everything Push touches for one signal, in one cache-friendly record.
  struct Slot {
    // Policy, pre-digested.
    double lo, hi;    // -inf / +inf when the range is open
    double deadband;  // absolute, or a fraction of |last sent| when deadband_fraction
    int64_t min_interval_us, max_interval_us, stale_after_us, stuck_after_us, window_us;
    bool deadband_fraction, raw, aggregate;
    Priority priority;
    uint8_t stats;
    // State.
    uint8_t quality = 0;  // current flags
    bool has_value = false, has_sent = false, run_valid = false, window_open = false;
    uint8_t window_quality = 0;
    uint32_t window_count = 0;
    double last_value = 0, sent_value = 0, run_value = 0;
    int64_t last_ts = 0, sent_ts = 0, run_start = 0;
    int64_t window_start = 0, window_end = 0;
    double window_shift = 0, window_sum = 0, window_sum_sq = 0, window_min = 0, window_max = 0,
           window_last = 0;
  };

  void AddToWindow(Slot& slot, SignalId id, int64_t ts, double value, uint8_t quality);
  void CloseWindow(Slot& slot, SignalId id);
  void QualityChanged(Slot& slot, SignalId id, int64_t ts, double value, uint8_t from, uint8_t to);
  void CountFlags(uint8_t flags);

  PipelineSink& sink_;
  std::vector<SignalPolicy> policies_;
  std::vector<Slot> slots_;
  PipelineStats stats_;
  bool started_ = false;
  int64_t start_us_ = 0;  // the first Advance's now: when never-seen signals start to age
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_PIPELINE_PIPELINE_H_
