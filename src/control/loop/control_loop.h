// ControlLoop: one closed loop of issue 8: each period it reads the PLC, asks its source for a
// setpoint, passes it through the safety envelope (control/core/envelope.h) and, depending on
// the effective mode, records it (shadow), proposes it for approval (supervised) or writes it
// (autonomous), then verifies the write by read-back. Every step leaves an ActionRecord.
//
//   ControlLoop loop(config, "edge-lyon", grant_public_key_pem, plc, source, clock,
//                    [&](const ActionRecord& a) { uplink.Add(a); });
//   loop.ApplyGrant(envelope_json);          // verified; changes the effective mode
//   every period:      loop.Tick(clock.Now());
//   every ~100 ms:     loop.Heartbeat(clock.Now());   // on another thread: Tick may block
//   supervised:        loop.Approve(proposal_id, "olga");
//
// Behaviour (times are the contracts the tests check):
//   - Effective mode = min(config.mode, the mode of a valid, unexpired grant); shadow without
//     one. Shadow never writes anything (no setpoint, no heartbeat).
//   - Hand mode (mode_signal == 2): no write from the first Tick that reads it ("hand_mode"
//     once, "hand_mode_end" when it ends); pending proposals are dropped.
//   - Source failure: "model_failed" at the first failure of a streak; no write while the last
//     good proposal is younger than model_timeout; from model_timeout on, the safe setpoint is
//     written each period (ages are compared with kTickSlack of allowance, so a Tick that comes
//     a fraction of a millisecond early on its schedule does not wait a whole further period) (kind
//     "write_safe"), in supervised mode too (no approval is needed to go to the known-safe state).
//   - Comms loss (PlcIo Unavailable): "comms_lost" once; no heartbeat; each Tick retries; on
//     the first successful read "comms_restored", and writes resume only after that read (the
//     PLC's state, hand mode included, is known again). The PLC's own watchdog returns it to its
//     schedule meanwhile.
//   - Heartbeat: written every heartbeat_interval while the effective mode is not shadow, the
//     link is up and the loop has written a setpoint since it started or the link came back.
//   - Supervised: a write/safe-less decision becomes "proposed" with an id; Approve within one
//     period re-reads the PLC, re-applies the envelope to the proposal and writes ("approved",
//     then "write"); unapproved proposals become "expired" at the next Tick.
//   - Read-back: after a write the readback signal must be within readback_tolerance of the
//     written value within readback_wait (polling), else "readback_mismatch".
//
// Ownership: borrows plc, source and clock (they must outlive the loop).
// Thread-safety: all methods are thread-safe. Tick, Approve and ApplyGrant are serialized (a
// call may wait for a Tick, bounded by the source's timeout and the PLC timeouts); Heartbeat
// never waits for them.
#ifndef WEFT_CONTROL_LOOP_CONTROL_LOOP_H_
#define WEFT_CONTROL_LOOP_CONTROL_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/core/control_config.h"
#include "control/core/envelope.h"
#include "control/core/grant.h"
#include "control/loop/plc_io.h"
#include "control/loop/setpoint_source.h"

namespace weft::control {

//! One row of the lake's `actions` table. kind: "write" "write_safe" "readback_mismatch"
//! "refused" "shadow" "proposed" "approved" "expired" "hand_mode" "hand_mode_end" "comms_lost"
//! "comms_restored" "model_failed" "interlock" "mode_change" "grant_refused" "plc_alarm".
struct ActionRecord {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  TimePoint ts;
  std::string loop, asset, signal, kind, mode, reason, source, source_version, approved_by;
  double requested = kNaN;  //!< the proposed value
  double before = kNaN;     //!< the PLC's value (readback signal) before
  double after = kNaN;      //!< read back after a write
  std::string proposal_id;
};

using ActionSink = std::function<void(const ActionRecord&)>;

struct LoopStats {
  uint64_t ticks = 0, writes = 0, safe_writes = 0, refusals = 0, proposals = 0;
  uint64_t model_failures = 0, readback_mismatches = 0, comms_losses = 0, heartbeats = 0;
  uint64_t heartbeat_failures = 0;
  bool hand_mode = false, comms_down = false;
  Mode mode = Mode::kShadow;
};

struct ControlLoopOptions {
  std::string edge_id;               //!< grants must name this edge
  std::string grant_public_key_pem;  //!< "" = no grant can be verified (shadow only)
  //! How long a read-back may take to show the written value (the PLC applies it on its scan).
  std::chrono::milliseconds readback_wait{2000};
  std::chrono::milliseconds readback_poll{100};
};

class ControlLoop {
 public:
  //! Ticks run on a schedule but are timed by the clock: one may read a good proposal at
  //! 12:00:00.0141 and the one model_timeout later at 12:00:06.0140. Ages within kTickSlack of
  //! model_timeout count as reaching it.
  static constexpr std::chrono::milliseconds kTickSlack{20};

  ControlLoop(LoopConfig config, ControlLoopOptions options, PlcIo& plc, SetpointSource& source,
              const Clock& clock, ActionSink sink);
  ControlLoop(const ControlLoop&) = delete;
  ControlLoop& operator=(const ControlLoop&) = delete;

  //! One period. Never fails: problems become ActionRecords and counters.
  void Tick(TimePoint now);
  //! Bumps the heartbeat register when due (see above); cheap when not.
  void Heartbeat(TimePoint now);
  //! Verifies a grant envelope (control/core/grant.h) for this edge and loop; on success the
  //! effective mode changes ("mode_change"), else "grant_refused" and the error (the mode stays).
  Result<ModeGrant> ApplyGrant(std::string_view envelope_json);
  //! Approves a pending proposal (supervised). NotFound for an unknown or expired id,
  //! FailedPrecondition when the PLC is in hand mode or the loop is not supervised.
  Status Approve(std::string_view proposal_id, std::string_view principal);

  const LoopConfig& config() const { return config_; }
  Mode effective_mode() const { return static_cast<Mode>(mode_.load()); }
  LoopStats stats() const;
  //! The pending proposal's id ("" = none).
  std::string pending_proposal() const;

 private:
  struct Pending {
    std::string id;
    double requested = 0;
    TimePoint created;
  };
  ActionRecord Base(TimePoint now, std::string kind) const;
  void Emit(ActionRecord r);
  void SetMode(Mode m, TimePoint now, std::string reason, std::string approved_by);
  //! Reads every signal; on Unavailable records comms_lost (once). REQUIRES: tick_mu_ held.
  std::optional<std::map<std::string, double>> ReadPlc(TimePoint now);
  //! Writes, heartbeats, verifies and records. REQUIRES: tick_mu_ held.
  void WriteSetpoint(TimePoint now, double value, bool safe, double requested,
                     const std::vector<std::string>& reasons, double before,
                     const std::string& approved_by, const std::string& proposal_id);
  Status WriteHeartbeat();

  const LoopConfig config_;
  const ControlLoopOptions options_;
  PlcIo& plc_;
  SetpointSource& source_;
  const Clock& clock_;
  const ActionSink sink_;
  const std::vector<std::string> signals_;

  std::atomic<int> mode_{static_cast<int>(Mode::kShadow)};
  std::atomic<bool> comms_down_{false};
  std::atomic<bool> has_written_{false};
  std::atomic<bool> hand_{false};
  std::atomic<int64_t> last_heartbeat_us_{0};
  std::atomic<uint16_t> heartbeat_value_{0};
  std::mutex hb_mu_;  // serializes heartbeat writes

  mutable std::mutex mu_;  // guards the members below and serializes Tick/Approve/ApplyGrant
  std::optional<ModeGrant> grant_;
  std::string grant_by_;
  std::optional<TimePoint> last_good_proposal_;
  TimePoint started_{};
  bool started_set_ = false;
  bool model_failing_ = false;
  std::optional<TimePoint> last_write_;
  double last_alarms_ = 0;
  std::optional<Pending> pending_;
  uint64_t proposal_seq_ = 0;
  mutable std::mutex stats_mu_;
  LoopStats stats_;  // GUARDED_BY(stats_mu_)
};

}  // namespace weft::control

#endif  // WEFT_CONTROL_LOOP_CONTROL_LOOP_H_
