#include "control/loop/control_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <thread>

#include "common/time_format.h"

namespace weft::control {
namespace {

constexpr double kHandMode = 2;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += "; ";
    out += s;
  }
  return out;
}

double Get(const std::map<std::string, double>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

std::vector<std::string> AllSignals(const LoopConfig& c) {
  std::vector<std::string> s = c.SignalsToRead();
  auto add = [&](const std::string& x) {
    if (!x.empty() && std::find(s.begin(), s.end(), x) == s.end()) s.push_back(x);
  };
  add(c.readback.empty() ? c.write : c.readback);
  return s;
}

}  // namespace

ControlLoop::ControlLoop(LoopConfig config, ControlLoopOptions options, PlcIo& plc,
                         SetpointSource& source, const Clock& clock, ActionSink sink)
    : config_(std::move(config)),
      options_(std::move(options)),
      plc_(plc),
      source_(source),
      clock_(clock),
      sink_(std::move(sink)),
      signals_(AllSignals(config_)) {
  heartbeat_value_.store(static_cast<uint16_t>(UnixMicros(clock_.Now()) & 0x7fff));
}

LoopStats ControlLoop::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  LoopStats s = stats_;
  s.mode = effective_mode();
  s.hand_mode = hand_.load();
  s.comms_down = comms_down_.load();
  return s;
}

std::string ControlLoop::pending_proposal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_ ? pending_->id : "";
}

ActionRecord ControlLoop::Base(TimePoint now, std::string kind) const {
  ActionRecord r;
  r.ts = now;
  r.loop = config_.id;
  r.asset = config_.asset;
  r.signal = config_.write;
  r.kind = std::move(kind);
  r.mode = std::string(ModeName(effective_mode()));
  r.source = source_.name();
  r.source_version = source_.version();
  return r;
}

void ControlLoop::Emit(ActionRecord r) {
  if (r.kind != "shadow" && r.kind != "write") {
    spdlog::info("control {}: {} {}", config_.id, r.kind, r.reason);
  }
  if (sink_) sink_(r);
}

void ControlLoop::SetMode(Mode m, TimePoint now, std::string reason, std::string approved_by) {
  Mode old = effective_mode();
  mode_.store(static_cast<int>(m));
  if (m == Mode::kShadow) has_written_.store(false);
  if (m != Mode::kSupervised) pending_.reset();
  ActionRecord r = Base(now, "mode_change");
  r.reason = std::string(ModeName(old)) + " -> " + std::string(ModeName(m)) + ": " + reason;
  r.approved_by = std::move(approved_by);
  Emit(std::move(r));
}

Result<ModeGrant> ControlLoop::ApplyGrant(std::string_view envelope_json) {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_.Now();
  Result<ModeGrant> g =
      options_.grant_public_key_pem.empty()
          ? Result<ModeGrant>(FailedPreconditionError(
                "no grant key is configured (control.grant_key): the loop stays in shadow"))
          : VerifyGrant(envelope_json, options_.grant_public_key_pem, options_.edge_id, config_.id,
                        now);
  if (!g.ok()) {
    ActionRecord r = Base(now, "grant_refused");
    r.reason = g.status().ToString();
    Emit(std::move(r));
    return g;
  }
  std::string by;
  for (const GrantApproval& a : g->approvals) {
    if (!by.empty()) by += ",";
    by += a.principal + "(" + a.role + ")";
  }
  Mode m = std::min(g->mode, config_.mode);
  grant_ = *g;
  grant_by_ = by;
  SetMode(m, now,
          "grant for " + std::string(ModeName(g->mode)) + " until " +
              FormatTimestampMicros(UnixMicros(g->expires_at)) + " (wanted " +
              std::string(ModeName(config_.mode)) + ")",
          by);
  return g;
}

std::optional<std::map<std::string, double>> ControlLoop::ReadPlc(TimePoint now) {
  Result<std::map<std::string, double>> v = plc_.Read(signals_);
  if (v.ok()) {
    if (comms_down_.exchange(false)) {
      // What the PLC did meanwhile (its watchdog, an operator) is in this first read.
      const std::string& rb = config_.readback.empty() ? config_.write : config_.readback;
      std::string state;
      for (const std::string& k : {rb, config_.mode_signal, config_.alarms}) {
        if (k.empty() || !v->contains(k)) continue;
        state += " " + k + "=" + fmt::format("{:g}", v->at(k));
      }
      ActionRecord r = Base(now, "comms_restored");
      r.before = Get(*v, rb);
      r.reason = "the PLC answers again; read before any write:" + state;
      Emit(std::move(r));
    }
    return std::move(*v);
  }
  if (!comms_down_.exchange(true)) {
    has_written_.store(false);
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++stats_.comms_losses;
    }
    ActionRecord r = Base(now, "comms_lost");
    r.reason = v.status().ToString();
    Emit(std::move(r));
  }
  return std::nullopt;
}

Status ControlLoop::WriteHeartbeat() {
  if (config_.heartbeat.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(hb_mu_);
  uint16_t next = static_cast<uint16_t>(heartbeat_value_.load() + 1);
  Status s = plc_.Write(config_.heartbeat, next);
  std::lock_guard<std::mutex> stats_lock(stats_mu_);
  if (s.ok()) {
    heartbeat_value_.store(next);
    last_heartbeat_us_.store(UnixMicros(clock_.Now()));
    ++stats_.heartbeats;
  } else {
    ++stats_.heartbeat_failures;
  }
  return s;
}

void ControlLoop::Heartbeat(TimePoint now) {
  if (config_.heartbeat.empty() || effective_mode() == Mode::kShadow || comms_down_.load() ||
      !has_written_.load()) {
    return;
  }
  if (UnixMicros(now) - last_heartbeat_us_.load() < config_.heartbeat_interval.count()) return;
  (void)WriteHeartbeat();
}

void ControlLoop::WriteSetpoint(TimePoint now, double value, bool safe, double requested,
                                const std::vector<std::string>& reasons, double before,
                                const std::string& approved_by, const std::string& proposal_id) {
  Status s = plc_.Write(config_.write, value);
  if (!s.ok()) {
    if (s.code() == StatusCode::kUnavailable) {
      (void)ReadPlc(now);  // records comms_lost (once) if the link is still down
      if (!comms_down_.load()) {
        comms_down_.store(true);
        ActionRecord r = Base(now, "comms_lost");
        r.reason = s.ToString();
        Emit(std::move(r));
      }
      return;
    }
    ActionRecord r = Base(now, "refused");
    r.requested = requested;
    r.before = before;
    r.reason = "the PLC refused the write of " + std::to_string(value) + ": " + s.ToString();
    Emit(std::move(r));
    return;
  }
  // The PLC follows the remote setpoint once it also sees the heartbeat change.
  (void)WriteHeartbeat();
  has_written_.store(true);
  last_write_ = now;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.writes;
    if (safe) ++stats_.safe_writes;
  }
  const std::string& rb = config_.readback.empty() ? config_.write : config_.readback;
  double after = std::numeric_limits<double>::quiet_NaN();
  const auto deadline = std::chrono::steady_clock::now() + options_.readback_wait;
  while (true) {
    Result<std::map<std::string, double>> v = plc_.Read({rb});
    if (v.ok()) after = Get(*v, rb);
    if (std::abs(after - value) <= config_.envelope.readback_tolerance + 1e-9) break;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(options_.readback_poll);
  }
  ActionRecord r = Base(now, safe ? "write_safe" : "write");
  r.requested = requested;
  r.before = before;
  r.after = after;
  r.reason = Join(reasons);
  r.approved_by = approved_by;
  r.proposal_id = proposal_id;
  Emit(r);
  if (!(std::abs(after - value) <= config_.envelope.readback_tolerance + 1e-9)) {
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++stats_.readback_mismatches;
    }
    ActionRecord m = r;
    m.kind = "readback_mismatch";
    m.reason = rb + " reads " + std::to_string(after) + " after writing " + std::to_string(value) +
               " (tolerance " + std::to_string(config_.envelope.readback_tolerance) + ")";
    Emit(std::move(m));
  }
}

void ControlLoop::Tick(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  {
    std::lock_guard<std::mutex> s(stats_mu_);
    ++stats_.ticks;
  }
  if (!started_set_) {
    started_ = now;
    started_set_ = true;
  }
  if (grant_ && now >= grant_->expires_at) {
    grant_.reset();
    if (effective_mode() != Mode::kShadow) SetMode(Mode::kShadow, now, "the grant expired", "");
  }
  if (pending_ && now - pending_->created >= config_.period) {
    ActionRecord r = Base(now, "expired");
    r.requested = pending_->requested;
    r.proposal_id = pending_->id;
    r.reason = "not approved within one period";
    Emit(std::move(r));
    pending_.reset();
  }

  std::optional<std::map<std::string, double>> values = ReadPlc(now);
  if (!values) return;
  const std::string& rb = config_.readback.empty() ? config_.write : config_.readback;
  const double before = Get(*values, rb);

  // Hand mode and alarms, from what the PLC says now.
  bool hand = !config_.mode_signal.empty() && Get(*values, config_.mode_signal) == kHandMode;
  if (hand != hand_.exchange(hand)) {
    ActionRecord r = Base(now, hand ? "hand_mode" : "hand_mode_end");
    r.before = before;
    r.reason = hand ? "the operator switched the PLC to hand: no writes" : "the PLC left hand mode";
    Emit(std::move(r));
  }
  if (!config_.alarms.empty()) {
    double a = Get(*values, config_.alarms);
    if (a != last_alarms_ && !(std::isnan(a) && std::isnan(last_alarms_))) {
      if (a != 0) {
        ActionRecord r = Base(now, "plc_alarm");
        r.before = before;
        r.reason = config_.alarms + " = " + std::to_string(static_cast<int64_t>(a));
        Emit(std::move(r));
      }
      last_alarms_ = a;
    }
  }
  if (hand) {
    pending_.reset();
    return;
  }

  // The proposal.
  std::map<std::string, double> inputs;
  for (const std::string& s : config_.read) inputs[s] = Get(*values, s);
  Result<double> proposal = source_.Propose(now, inputs);
  double proposed = std::numeric_limits<double>::quiet_NaN();
  bool model_timed_out = false;
  if (proposal.ok()) {
    proposed = *proposal;
    last_good_proposal_ = now;
    model_failing_ = false;
  } else {
    {
      std::lock_guard<std::mutex> s(stats_mu_);
      ++stats_.model_failures;
    }
    if (!model_failing_) {
      ActionRecord r = Base(now, "model_failed");
      r.before = before;
      r.reason = proposal.status().ToString();
      Emit(std::move(r));
    }
    model_failing_ = true;
    TimePoint since = last_good_proposal_.value_or(started_);
    model_timed_out = now - since + kTickSlack >= config_.model_timeout;
  }

  Decision d;
  if (model_timed_out) {
    d.action = Decision::Action::kSafe;
    d.value = config_.envelope.safe;
    d.reasons.push_back("no valid proposal for " +
                        FormatDuration(std::chrono::duration_cast<Micros>(
                            now - last_good_proposal_.value_or(started_))) +
                        " (model_timeout " + FormatDuration(config_.model_timeout) + ")");
  } else if (!proposal.ok()) {
    return;  // hold: the model may come back before model_timeout
  } else {
    EnvelopeInput in;
    in.proposed = proposed;
    if (std::isfinite(before)) in.last_written = before;
    in.seconds_since_last_write = last_write_
                                      ? std::chrono::duration<double>(now - *last_write_).count()
                                      : std::numeric_limits<double>::infinity();
    in.signal = [&](std::string_view name) { return Get(*values, std::string(name)); };
    in.hand_mode = false;
    d = Decide(config_.envelope, in);
  }

  const Mode mode = effective_mode();
  const bool changed = d.action != Decision::Action::kWrite || d.value != proposed;
  if (changed && proposal.ok()) {
    std::lock_guard<std::mutex> s(stats_mu_);
    ++stats_.refusals;
  }
  if (mode == Mode::kShadow) {
    ActionRecord r = Base(now, "shadow");
    r.requested = proposed;
    r.before = before;
    r.after = d.value;  // what would have been written (NaN: hold)
    r.reason =
        std::string(ActionName(d.action)) + (d.reasons.empty() ? "" : ": " + Join(d.reasons));
    Emit(std::move(r));
    return;
  }
  if (d.action == Decision::Action::kHold) {
    bool interlock = false;
    for (const std::string& s : d.reasons) interlock = interlock || s.starts_with("interlock");
    ActionRecord r = Base(now, interlock ? "interlock" : "refused");
    r.requested = proposed;
    r.before = before;
    r.reason = Join(d.reasons);
    Emit(std::move(r));
    return;
  }
  if (d.action == Decision::Action::kSafe) {
    WriteSetpoint(now, config_.envelope.safe, /*safe=*/true, proposed, d.reasons, before, grant_by_,
                  "");
    return;
  }
  if (mode == Mode::kSupervised) {
    if (pending_) {  // a Tick a hair under one period after it: it expires now, on record
      ActionRecord x = Base(now, "expired");
      x.requested = pending_->requested;
      x.proposal_id = pending_->id;
      x.reason = "not approved before the next period's proposal";
      Emit(std::move(x));
      pending_.reset();
    }
    Pending p;
    p.id =
        config_.id + "-" + std::to_string(UnixMicros(now)) + "-" + std::to_string(++proposal_seq_);
    p.requested = proposed;
    p.created = now;
    ActionRecord r = Base(now, "proposed");
    r.requested = proposed;
    r.before = before;
    r.after = d.value;
    r.proposal_id = p.id;
    r.reason = Join(d.reasons);
    Emit(std::move(r));
    {
      std::lock_guard<std::mutex> s(stats_mu_);
      ++stats_.proposals;
    }
    pending_ = std::move(p);
    return;
  }
  WriteSetpoint(now, d.value, /*safe=*/false, proposed, d.reasons, before, grant_by_, "");
}

Status ControlLoop::Approve(std::string_view proposal_id, std::string_view principal) {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_.Now();
  if (effective_mode() != Mode::kSupervised) {
    return FailedPreconditionError("loop " + config_.id + " is " +
                                   std::string(ModeName(effective_mode())) +
                                   ", not supervised: nothing to approve");
  }
  if (!pending_ || pending_->id != proposal_id) {
    return NotFoundError("loop " + config_.id + ": no pending proposal '" +
                         std::string(proposal_id) + "' (expired or replaced?)");
  }
  if (now - pending_->created >= config_.period) {
    pending_.reset();
    return NotFoundError("loop " + config_.id + ": proposal '" + std::string(proposal_id) +
                         "' expired (older than one period)");
  }
  Pending p = *pending_;
  pending_.reset();
  // The PLC's state now, not as it was when the proposal was made.
  std::optional<std::map<std::string, double>> values = ReadPlc(now);
  if (!values) return UnavailableError("loop " + config_.id + ": the PLC does not answer");
  if (!config_.mode_signal.empty() && Get(*values, config_.mode_signal) == kHandMode) {
    return FailedPreconditionError("loop " + config_.id + ": the PLC is in hand mode");
  }
  const std::string& rb = config_.readback.empty() ? config_.write : config_.readback;
  const double before = Get(*values, rb);
  EnvelopeInput in;
  in.proposed = p.requested;
  if (std::isfinite(before)) in.last_written = before;
  in.seconds_since_last_write = last_write_
                                    ? std::chrono::duration<double>(now - *last_write_).count()
                                    : std::numeric_limits<double>::infinity();
  in.signal = [&](std::string_view name) { return Get(*values, std::string(name)); };
  Decision d = Decide(config_.envelope, in);
  ActionRecord r = Base(now, "approved");
  r.requested = p.requested;
  r.before = before;
  r.approved_by = std::string(principal);
  r.proposal_id = p.id;
  Emit(r);
  if (d.action == Decision::Action::kHold) {
    ActionRecord h = r;
    h.kind = "refused";
    h.reason = Join(d.reasons);
    Emit(std::move(h));
    return FailedPreconditionError("loop " + config_.id +
                                   ": the envelope holds now: " + Join(d.reasons));
  }
  WriteSetpoint(now, d.action == Decision::Action::kSafe ? config_.envelope.safe : d.value,
                d.action == Decision::Action::kSafe, p.requested, d.reasons, before,
                std::string(principal), p.id);
  return Status::Ok();
}

}  // namespace weft::control
