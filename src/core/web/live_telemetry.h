// LiveTelemetry: the latest committed value of every (asset, signal), read from the lake's
// telemetry table by polling, for the dashboard's live values (GET /api/v1/latest and the
// server-sent events of GET /api/v1/live, web_routes.h).
//
//   WEFT_ASSIGN_OR_RETURN(auto live, LiveTelemetry::Open({.lake_root = lake, .clock = &clock}));
//   live->StartPolling();                    // a thread: PollOnce every poll_interval
//   live->Touch();                           // someone watches: keep polling for idle_after
//   uint64_t g = live->WaitForChange(0, 1s); // a new generation, Stop, or the timeout
//   for (const LiveSample& s : live->Snapshot(/*after_generation=*/0)) ...
//
// Why a poll: the ingest commits a cycle to the lake about every second (--commit-interval);
// reading what it committed, rather than tapping the ingest, shows exactly what any reader of the
// lake sees and keeps the ingest untouched. Each poll scans the rows with
//   ts >= max(newest ts seen - overlap, now - lookback)   (and the matching date partitions),
// which the table's file and row-group statistics prune to the last few commits. Consequences,
// by design: a sample that reaches the lake more than `overlap` behind the newest sample seen
// (an edge's buffer flushed after an outage) is shown only if nothing newer exists by then; a
// signal silent for longer than `lookback` when polling starts appears with its next sample. A
// lake written in the past (`weft demo month`) shows no live values.
//
// Per (asset, signal) the sample with the greatest ts wins; on equal ts the one already held
// stays. Every poll that changes at least one sample increments the generation; each sample
// records the generation that last changed it, so a stream sends only what changed.
//
// Polling is lazy: the thread reads the lake only while someone called Touch() in the last
// `idle_after` (a watching dashboard); Fresh() polls at once when the last poll is older than
// the poll interval (a first request after an idle spell).
//
// Streams: AcquireStream() hands out at most `max_streams` slots (each open stream holds one of
// the API's request threads); the slot is given back when destroyed.
//
// Thread-safety: every method may be called from any thread. Stop() (also the destructor) ends
// the thread and wakes every WaitForChange; it must run before the object is destroyed while
// streams may still wait on it (weft-core stops the API first).
#ifndef WEFT_CORE_WEB_LIVE_TELEMETRY_H_
#define WEFT_CORE_WEB_LIVE_TELEMETRY_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "lake/lake_table.h"
#include "lake/record_batch.h"

namespace weft::core::web {

//! The latest sample of one (asset, signal), with its place in the plant.
struct LiveSample {
  std::string site{}, area{}, line{}, asset{}, asset_type{}, signal{}, unit{};
  int64_t ts_us = 0;
  std::optional<double> value{};  //!< null in the lake: none
  int32_t quality = 0;            //!< 0 = good
  uint64_t generation = 0;        //!< the generation that last changed it
};

struct LiveTelemetryOptions {
  std::string lake_root{};       //!< the telemetry table is <lake_root>/telemetry
  const Clock* clock = nullptr;  //!< required, not owned
  std::chrono::milliseconds poll_interval{1000};
  Micros lookback = std::chrono::minutes(15);  //!< how far back a poll looks at most
  Micros overlap = std::chrono::seconds(30);   //!< re-read behind the newest ts seen
  std::chrono::milliseconds idle_after{std::chrono::seconds(60)};
  size_t max_streams = 8;
};

class LiveTelemetry {
 public:
  //! An open stream's slot (see AcquireStream).
  class StreamSlot {
   public:
    explicit StreamSlot(LiveTelemetry* owner) : owner_(owner) {}
    ~StreamSlot();
    StreamSlot(const StreamSlot&) = delete;
    StreamSlot& operator=(const StreamSlot&) = delete;

   private:
    LiveTelemetry* owner_;
  };

  //! InvalidArgument without a lake root or a clock, or for a non-positive interval. The table
  //! need not exist yet (polls find nothing until it does).
  static Result<std::unique_ptr<LiveTelemetry>> Open(LiveTelemetryOptions options);
  ~LiveTelemetry();
  LiveTelemetry(const LiveTelemetry&) = delete;
  LiveTelemetry& operator=(const LiveTelemetry&) = delete;

  //! Starts the polling thread (once).
  void StartPolling();
  //! Ends the thread and wakes the waiters. Idempotent.
  void Stop();
  bool stopping() const { return stopping_.load(); }

  //! One poll: scans the telemetry table (see the file comment) and applies the rows. NotFound is
  //! not an error (no table yet: nothing to read).
  Status PollOnce();
  //! Polls at once when the last poll is older than the poll interval (or none ran).
  Status Fresh();
  //! Applies rows with (at least) the columns ts, asset, signal; site, area, line, asset_type,
  //! unit, value, quality when present. Returns how many samples changed.
  size_t Apply(const lake::RecordBatch& rows);

  //! Samples changed after `after_generation` (0: all), ordered by (asset, signal).
  std::vector<LiveSample> Snapshot(uint64_t after_generation = 0) const;
  uint64_t generation() const;
  //! Waits until the generation exceeds `after`, Stop, or `timeout`; returns the generation.
  uint64_t WaitForChange(uint64_t after, std::chrono::milliseconds timeout) const;
  //! Someone is watching: the thread polls for the next idle_after.
  void Touch();
  //! A stream slot, or null when max_streams are open.
  std::unique_ptr<StreamSlot> AcquireStream();
  size_t open_streams() const { return open_streams_.load(); }

 private:
  explicit LiveTelemetry(LiveTelemetryOptions options) : options_(std::move(options)) {}
  void Run();

  LiveTelemetryOptions options_;
  std::mutex poll_mu_;                                 //!< one poll at a time
  std::unique_ptr<lake::LakeTable> table_;             // GUARDED_BY(poll_mu_)
  std::chrono::steady_clock::time_point last_poll_{};  // GUARDED_BY(poll_mu_)
  bool polled_ = false;                                // GUARDED_BY(poll_mu_)

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<std::pair<std::string, std::string>, LiveSample> latest_;  // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                                           // GUARDED_BY(mu_)
  std::optional<int64_t> newest_ts_us_;                               // GUARDED_BY(mu_)

  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_touch_ns_{0};  //!< steady clock, ns since its epoch
  std::atomic<size_t> open_streams_{0};
  std::mutex thread_mu_;
  std::condition_variable wake_;  //!< the thread's sleep; notified by Stop
  std::thread thread_;
};

}  // namespace weft::core::web

#endif  // WEFT_CORE_WEB_LIVE_TELEMETRY_H_
