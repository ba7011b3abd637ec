// The safety envelope: the last, pure check between a setpoint proposal (from an optimiser or
// an external model) and a write to a PLC.
//
//   Envelope env{.min = 16, .max = 23, .max_step = 1.0, .max_rate_per_s = 0.1, .safe = 18,
//                .readback_tolerance = 0.05, .interlocks = {}};
//   Decision d = Decide(env, {.proposed = 25,
//                             .last_written = 20.0,
//                             .seconds_since_last_write = 60,
//                             .signal = [&](std::string_view name) { return Lookup(name); },
//                             .hand_mode = false});
//   // d.action == kWrite, d.value == 21, d.reasons == {"clamped to max 23", "rate-limited ..."}
//
// Rules, in order (the INVARIANT the fuzzer `control_envelope_fuzz` checks):
//   1. hand_mode -> kHold ("hand mode"): the operator has the PLC; nothing is written.
//   2. interlocks, evaluated on `signal` (a NaN value = unknown = tripped): any tripped
//      then=safe -> kSafe with value == safe exactly; else any tripped then=hold -> kHold.
//      An interlock trips when expr > above or expr < below (or expr is NaN).
//   3. a proposal that is not finite -> kHold ("proposal is not finite").
//   4. clamp to [min, max]; then, when last_written is known, limit the change to
//      min(max_step, max_rate_per_s * seconds_since_last_write) (the result is also kept in
//      [min, max]; a last_written outside [min, max] moves towards the range by at most the
//      limit, and if that would leave the range the decision is kSafe).
//   A kWrite value is finite, in [min, max], and |value - last_written| <= the limit (+1e-9).
//   kSafe writes exactly `safe`, without rate limiting (it is the known-safe state).
// An envelope is expected to be valid (ValidateEnvelope); Decide on an invalid one still keeps
// the invariant by holding (reason "envelope is invalid: ...").
//
// Thread-safety: values and pure functions; safe from any thread.
#ifndef WEFT_CONTROL_CORE_ENVELOPE_H_
#define WEFT_CONTROL_CORE_ENVELOPE_H_

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/physics.h"

namespace weft::control {

//! How a loop may act: shadow (compute, never write), supervised (write after a person
//! approves each proposal), autonomous (write).
enum class Mode { kShadow, kSupervised, kAutonomous };
//! "shadow", "supervised", "autonomous".
std::string_view ModeName(Mode m);
//! Inverse of ModeName; InvalidArgument naming the accepted values otherwise.
Result<Mode> ParseMode(std::string_view text);

struct Interlock {
  enum class Then { kHold, kSafe };
  std::string name;
  model::physics::Expr expr;  //!< over the loop's read signals, alarms and mode signal
  double above = std::numeric_limits<double>::infinity();   //!< trips when expr > above
  double below = -std::numeric_limits<double>::infinity();  //!< trips when expr < below
  Then then = Then::kHold;
};
//! "hold", "safe".
std::string_view ThenName(Interlock::Then t);

struct Envelope {
  double min = 0;
  double max = 0;
  double max_step = 0;        //!< largest change of one write (> 0)
  double max_rate_per_s = 0;  //!< largest average change per second (> 0)
  double safe = 0;            //!< min <= safe <= max
  double readback_tolerance = 0;
  std::vector<Interlock> interlocks;
};

//! OK when the numbers are finite, min <= safe <= max, max_step > 0, max_rate_per_s > 0,
//! readback_tolerance >= 0; else InvalidArgument naming the field.
Status ValidateEnvelope(const Envelope& e);

struct EnvelopeInput {
  double proposed = std::numeric_limits<double>::quiet_NaN();  //!< anything: NaN, inf, huge
  std::optional<double> last_written;  //!< the value the PLC holds now (read back), if known
  double seconds_since_last_write = std::numeric_limits<double>::infinity();  //!< +inf: never
  std::function<double(std::string_view)> signal;  //!< this period's values; NaN = unknown
  bool hand_mode = false;                          //!< the operator has the PLC
};

struct Decision {
  enum class Action { kWrite, kHold, kSafe };
  Action action = Action::kHold;                            //!< kSafe = write envelope.safe
  double value = std::numeric_limits<double>::quiet_NaN();  //!< written value; NaN for kHold
  std::vector<std::string> reasons;  //!< human-readable, naming values; empty = unchanged
};
//! "write", "hold", "safe".
std::string_view ActionName(Decision::Action a);

//! Applies the rules above. Pure; never throws.
Decision Decide(const Envelope& envelope, const EnvelopeInput& input);

//! True when `d` obeys the INVARIANT for (envelope, input); else false and `why` says what broke.
//! Used by the fuzzer and the tests.
bool CheckInvariant(const Envelope& envelope, const EnvelopeInput& input, const Decision& d,
                    std::string* why);

}  // namespace weft::control

#endif  // WEFT_CONTROL_CORE_ENVELOPE_H_
