#include "control/core/envelope.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft::control {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Num(double v) {
  return fmt::format("{:.6g}", v);
}

double Unknown(std::string_view) {
  return kNaN;
}

// The largest change allowed now: min(max_step, max_rate * seconds). A NaN or negative time
// counts as no time (limit 0): a clock that goes backwards must not open the limit.
double ChangeLimit(const Envelope& e, double seconds) {
  if (std::isnan(seconds) || seconds <= 0) return 0;
  if (std::isinf(seconds)) return e.max_step;
  const double by_rate = e.max_rate_per_s * seconds;
  return std::min(e.max_step, by_rate);  // by_rate may be +inf: then max_step
}

struct Trips {
  bool safe = false;
  bool hold = false;
  std::vector<std::string> reasons;
};

// Evaluates every interlock. An unknown (NaN) value trips: the envelope cannot show the state
// is fine, so it acts as if it were not.
Trips EvaluateInterlocks(const Envelope& e, const EnvelopeInput& in) {
  Trips t;
  const std::function<double(std::string_view)> unknown = Unknown;
  const std::function<double(std::string_view)>& var = in.signal ? in.signal : unknown;
  for (const Interlock& il : e.interlocks) {
    const double v = il.expr.Eval(var);
    const std::vector<std::string> vars = il.expr.Variables();
    const bool plain_var = vars.size() == 1 && vars[0] == il.expr.text();
    const std::string what = plain_var ? il.expr.text() + " " : il.expr.text() + " = ";
    std::string reason;
    if (std::isnan(v)) {
      reason = "interlock " + il.name + ": " + il.expr.text() + " is unknown (treated as tripped)";
    } else if (v > il.above) {
      reason = "interlock " + il.name + ": " + what + Num(v) + " > " + Num(il.above);
    } else if (v < il.below) {
      reason = "interlock " + il.name + ": " + what + Num(v) + " < " + Num(il.below);
    } else {
      continue;
    }
    reason += il.then == Interlock::Then::kSafe ? " -> safe setpoint" : " -> hold";
    t.reasons.push_back(std::move(reason));
    if (il.then == Interlock::Then::kSafe) {
      t.safe = true;
    } else {
      t.hold = true;
    }
  }
  return t;
}

Decision Hold(std::vector<std::string> reasons) {
  Decision d;
  d.action = Decision::Action::kHold;
  d.value = kNaN;
  d.reasons = std::move(reasons);
  return d;
}

Decision Safe(const Envelope& e, std::vector<std::string> reasons) {
  Decision d;
  d.action = Decision::Action::kSafe;
  d.value = e.safe;
  d.reasons = std::move(reasons);
  return d;
}

}  // namespace

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kShadow: return "shadow";
    case Mode::kSupervised: return "supervised";
    case Mode::kAutonomous: return "autonomous";
  }
  return "shadow";
}

Result<Mode> ParseMode(std::string_view text) {
  for (Mode m : {Mode::kShadow, Mode::kSupervised, Mode::kAutonomous}) {
    if (ModeName(m) == text) return m;
  }
  std::string shown(text.substr(0, 60));
  return InvalidArgumentError("unknown control mode '" + shown +
                              "'; expected one of: shadow, supervised, autonomous");
}

std::string_view ThenName(Interlock::Then t) {
  return t == Interlock::Then::kSafe ? "safe" : "hold";
}

std::string_view ActionName(Decision::Action a) {
  switch (a) {
    case Decision::Action::kWrite: return "write";
    case Decision::Action::kHold: return "hold";
    case Decision::Action::kSafe: return "safe";
  }
  return "hold";
}

Status ValidateEnvelope(const Envelope& e) {
  auto finite = [](double v) { return std::isfinite(v); };
  if (!finite(e.min) || !finite(e.max) || e.min > e.max) {
    return InvalidArgumentError("envelope: min " + Num(e.min) + " and max " + Num(e.max) +
                                " must be finite with min <= max");
  }
  if (!finite(e.safe) || e.safe < e.min || e.safe > e.max) {
    return InvalidArgumentError("envelope: safe " + Num(e.safe) + " must lie in [min " +
                                Num(e.min) + ", max " + Num(e.max) + "]");
  }
  if (!finite(e.max_step) || e.max_step <= 0) {
    return InvalidArgumentError("envelope: max_step " + Num(e.max_step) +
                                " must be a finite number > 0");
  }
  if (!finite(e.max_rate_per_s) || e.max_rate_per_s <= 0) {
    return InvalidArgumentError("envelope: max_rate " + Num(e.max_rate_per_s) +
                                "/s must be a finite number > 0");
  }
  if (!finite(e.readback_tolerance) || e.readback_tolerance < 0) {
    return InvalidArgumentError("envelope: readback_tolerance " + Num(e.readback_tolerance) +
                                " must be a finite number >= 0");
  }
  for (const Interlock& il : e.interlocks) {
    if (std::isnan(il.above) || std::isnan(il.below)) {
      return InvalidArgumentError("envelope: interlock " + il.name + " has a NaN bound");
    }
  }
  return Status::Ok();
}

Decision Decide(const Envelope& e, const EnvelopeInput& in) {
  // 1. The operator has the PLC: never write, whatever else holds.
  if (in.hand_mode) return Hold({"hand mode: the operator has the PLC"});
  if (Status s = ValidateEnvelope(e); !s.ok()) {
    return Hold({"envelope is invalid: " + s.message()});
  }
  // 2. Interlocks: safe wins over hold.
  Trips trips = EvaluateInterlocks(e, in);
  if (trips.safe) return Safe(e, std::move(trips.reasons));
  if (trips.hold) return Hold(std::move(trips.reasons));
  // 3. A proposal that is not a number is no proposal.
  if (!std::isfinite(in.proposed)) {
    return Hold({"proposal is not finite (" + Num(in.proposed) + ")"});
  }
  std::vector<std::string> reasons;
  // 4. Absolute bounds.
  double v = in.proposed;
  if (v > e.max) {
    reasons.push_back("clamped to max " + Num(e.max) + " (proposed " + Num(v) + ")");
    v = e.max;
  } else if (v < e.min) {
    reasons.push_back("clamped to min " + Num(e.min) + " (proposed " + Num(v) + ")");
    v = e.min;
  }
  if (!in.last_written) {
    Decision d;
    d.action = Decision::Action::kWrite;
    d.value = v;
    d.reasons = std::move(reasons);
    return d;
  }
  const double last = *in.last_written;
  if (!std::isfinite(last)) {
    reasons.push_back("the PLC's current value " + Num(last) +
                      " is not finite: writing the safe setpoint " + Num(e.safe));
    return Safe(e, std::move(reasons));
  }
  // 5. Step and rate limit around the value the PLC holds.
  const double limit = ChangeLimit(e, in.seconds_since_last_write);
  double target = v;
  if (std::fabs(v - last) > limit) {
    target = v > last ? last + limit : last - limit;
    // last +- limit is rounded; step back towards `last` until the change is within the
    // limit exactly as the invariant measures it. A few ulps at most.
    for (int i = 0; i < 64 && std::fabs(target - last) > limit; ++i) {
      target = std::nextafter(target, last);
    }
    if (std::fabs(target - last) > limit) target = last;
    reasons.push_back("rate-limited from " + Num(v) + " to " + Num(target) + " (PLC holds " +
                      Num(last) + "; max change " + Num(limit) + " after " +
                      Num(in.seconds_since_last_write) + " s)");
  }
  if (target < e.min || target > e.max) {
    // The PLC holds a value outside the envelope and the limit cannot bring it inside in one
    // write: go to the known-safe state, which is written without rate limiting.
    reasons.push_back("the PLC holds " + Num(last) + ", outside [" + Num(e.min) + ", " +
                      Num(e.max) +
                      "], too far to return within the rate limit: writing the "
                      "safe setpoint " +
                      Num(e.safe));
    return Safe(e, std::move(reasons));
  }
  Decision d;
  d.action = Decision::Action::kWrite;
  d.value = target;
  d.reasons = std::move(reasons);
  return d;
}

bool CheckInvariant(const Envelope& e, const EnvelopeInput& in, const Decision& d,
                    std::string* why) {
  auto fail = [&](std::string msg) {
    if (why != nullptr) {
      *why = std::move(msg) + " (decision " + std::string(ActionName(d.action)) + " " +
             Num(d.value) + ", proposed " + Num(in.proposed) + ")";
    }
    return false;
  };
  if (in.hand_mode) {
    if (d.action != Decision::Action::kHold) return fail("hand mode must hold");
    return std::isnan(d.value) ? true : fail("a hold carries no value");
  }
  if (!ValidateEnvelope(e).ok()) {
    return d.action == Decision::Action::kHold ? true : fail("an invalid envelope must hold");
  }
  const Trips trips = EvaluateInterlocks(e, in);
  if (trips.safe && d.action != Decision::Action::kSafe) {
    return fail("a tripped then=safe interlock must give safe");
  }
  if (!trips.safe && trips.hold && d.action != Decision::Action::kHold) {
    return fail("a tripped then=hold interlock must give hold");
  }
  switch (d.action) {
    case Decision::Action::kHold:
      return std::isnan(d.value) ? true : fail("a hold carries no value");
    case Decision::Action::kSafe:
      // Exactly `safe`, bit for bit (both finite by ValidateEnvelope).
      return d.value == e.safe ? true : fail("safe must write exactly " + Num(e.safe));
    case Decision::Action::kWrite: break;
  }
  if (!std::isfinite(in.proposed)) return fail("wrote although the proposal is not finite");
  if (!std::isfinite(d.value)) return fail("the written value is not finite");
  if (d.value < e.min || d.value > e.max) return fail("the written value is outside [min, max]");
  if (in.last_written) {
    const double limit = ChangeLimit(e, in.seconds_since_last_write);
    if (!(std::fabs(d.value - *in.last_written) <= limit + 1e-9)) {
      return fail("the change from " + Num(*in.last_written) + " exceeds the limit " + Num(limit));
    }
  }
  return true;
}

}  // namespace weft::control
