#include "control/loop/control_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "control/core/grant.h"
#include "control/loop/process_source.h"
#include "testing/test_env.h"

namespace weft::control {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// An in-memory PLC that behaves like weft-sim's HVAC zone program, minus the watchdog:
// remote_setpoint drives setpoint (the effective one) unless control_mode is 2 (hand).
class FakePlc final : public PlcIo {
 public:
  std::map<std::string, double> values = {
      {"zone_temp", 21.0}, {"outdoor_temp", 5.0}, {"setpoint", 21.0}, {"remote_setpoint", 0.0},
      {"heartbeat", 0.0},  {"control_mode", 0.0}, {"plc_alarms", 0.0}};
  bool down = false;
  bool ignore_writes = false;
  std::vector<std::pair<std::string, double>> writes;

  Result<std::map<std::string, double>> Read(const std::vector<std::string>& signals) override {
    if (down) return UnavailableError("fake PLC: no answer");
    std::map<std::string, double> out;
    for (const std::string& s : signals) {
      if (!values.contains(s)) return NotFoundError("fake PLC: no " + s);
      out[s] = values[s];
    }
    return out;
  }
  Status Write(std::string_view signal, double value) override {
    if (down) return UnavailableError("fake PLC: no answer");
    writes.emplace_back(std::string(signal), value);
    values[std::string(signal)] = value;
    if (signal == "remote_setpoint" && values["control_mode"] != 2 && !ignore_writes) {
      values["setpoint"] = value;
      values["control_mode"] = 1;
    }
    return Status::Ok();
  }
  size_t SetpointWrites() const {
    size_t n = 0;
    for (const auto& w : writes) {
      if (w.first == "remote_setpoint") ++n;
    }
    return n;
  }
  size_t AnyWrites() const { return writes.size(); }
};

class FakeSource final : public SetpointSource {
 public:
  std::optional<double> next = 21.5;  // nullopt: fail
  int calls = 0;
  Result<double> Propose(TimePoint, const std::map<std::string, double>& inputs) override {
    ++calls;
    last_inputs = inputs;
    if (!next) return UnavailableError("fake model down");
    return *next;
  }
  std::string name() const override { return "fake"; }
  std::string version() const override { return "1"; }
  std::map<std::string, double> last_inputs;
};

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ControlLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::Make();
    ASSERT_TRUE(d.ok());
    dir_.emplace(std::move(*d));
    ASSERT_TRUE(GenerateGrantKey(dir_->path() + "/k.pem", dir_->path() + "/k.pub.pem").ok());
    priv_ = ReadFile(dir_->path() + "/k.pem");
    pub_ = ReadFile(dir_->path() + "/k.pub.pem");
    config_.id = "z1-temp";
    config_.asset = "z1";
    config_.write = "remote_setpoint";
    config_.heartbeat = "heartbeat";
    config_.heartbeat_interval = 2s;
    config_.mode_signal = "control_mode";
    config_.alarms = "plc_alarms";
    config_.readback = "setpoint";
    config_.read = {"zone_temp", "outdoor_temp"};
    config_.period = 60s;
    config_.mode = Mode::kAutonomous;
    config_.model_timeout = 180s;
    config_.envelope = Envelope{.min = 16,
                                .max = 23,
                                .max_step = 1.0,
                                .max_rate_per_s = 0.1,
                                .safe = 18,
                                .readback_tolerance = 0.05,
                                .interlocks = {}};
  }
  void Make() {
    ControlLoopOptions o;
    o.edge_id = "edge-a";
    o.grant_public_key_pem = pub_;
    o.readback_wait = 0ms;
    loop_ = std::make_unique<ControlLoop>(config_, o, plc_, source_, clock_,
                                          [this](const ActionRecord& r) { records_.push_back(r); });
  }
  std::string Grant(Mode m, std::string edge = "edge-a") {
    ModeGrant g;
    g.edge = edge;
    g.loop = "z1-temp";
    g.mode = m;
    g.approvals = {{"olga", kRoleOpsManager, clock_.Now()},
                   {"otto", kRoleOtEngineer, clock_.Now()}};
    g.issued_at = clock_.Now();
    g.expires_at = clock_.Now() + 1h;
    auto s = SignGrant(g, priv_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.value_or("");
  }
  std::vector<std::string> Kinds() const {
    std::vector<std::string> k;
    for (const auto& r : records_) k.push_back(r.kind);
    return k;
  }
  size_t Count(const std::string& kind) const {
    size_t n = 0;
    for (const auto& r : records_) {
      if (r.kind == kind) ++n;
    }
    return n;
  }
  void TickFor(std::chrono::seconds d) {
    clock_.Advance(d);
    loop_->Tick(clock_.Now());
  }

  std::optional<testing::TempDir> dir_;
  std::string priv_, pub_;
  LoopConfig config_;
  FakePlc plc_;
  FakeSource source_;
  ManualClock clock_{TimeFromUnixMicros(1'790'000'000'000'000)};
  std::vector<ActionRecord> records_;
  std::unique_ptr<ControlLoop> loop_;
};

TEST_F(ControlLoopTest, ShadowWithoutGrantNeverWrites) {
  Make();
  for (int i = 0; i < 5; ++i) {
    TickFor(60s);
    loop_->Heartbeat(clock_.Now());
  }
  EXPECT_EQ(plc_.AnyWrites(), 0u);
  EXPECT_EQ(Count("shadow"), 5u);
  EXPECT_EQ(loop_->effective_mode(), Mode::kShadow);
  EXPECT_EQ(source_.last_inputs.at("zone_temp"), 21.0);
  EXPECT_DOUBLE_EQ(records_.back().requested, 21.5);
  EXPECT_DOUBLE_EQ(records_.back().after, 21.5) << "what would have been written";
}

TEST_F(ControlLoopTest, BadGrantsAreRefusedAndKeepShadow) {
  Make();
  EXPECT_FALSE(loop_->ApplyGrant(Grant(Mode::kAutonomous, "other-edge")).ok());
  std::string g = Grant(Mode::kAutonomous);
  g[g.find("autonomous")] = 'A';  // tampered: the signature no longer matches
  EXPECT_FALSE(loop_->ApplyGrant(g).ok());
  EXPECT_EQ(Count("grant_refused"), 2u);
  TickFor(60s);
  EXPECT_EQ(plc_.AnyWrites(), 0u);
}

TEST_F(ControlLoopTest, AutonomousWritesWithinTheEnvelopeAndVerifies) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  EXPECT_EQ(loop_->effective_mode(), Mode::kAutonomous);
  EXPECT_EQ(Count("mode_change"), 1u);
  source_.next = 30;  // far above max and max_step
  TickFor(60s);
  ASSERT_EQ(plc_.SetpointWrites(), 1u);
  EXPECT_DOUBLE_EQ(plc_.values["remote_setpoint"], 22.0) << "21 + max_step 1";
  EXPECT_GT(plc_.values["heartbeat"], 0);
  const ActionRecord& w = records_.back();
  EXPECT_EQ(w.kind, "write");
  EXPECT_DOUBLE_EQ(w.requested, 30);
  EXPECT_DOUBLE_EQ(w.before, 21);
  EXPECT_DOUBLE_EQ(w.after, 22);
  EXPECT_THAT(w.approved_by, HasSubstr("olga"));
  EXPECT_EQ(loop_->stats().refusals, 1u);
  // Heartbeat every interval, not more often.
  uint64_t hb = loop_->stats().heartbeats;
  loop_->Heartbeat(clock_.Now());
  EXPECT_EQ(loop_->stats().heartbeats, hb);
  clock_.Advance(2s);
  loop_->Heartbeat(clock_.Now());
  EXPECT_EQ(loop_->stats().heartbeats, hb + 1);
}

TEST_F(ControlLoopTest, ReadbackMismatchIsRecorded) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  plc_.ignore_writes = true;
  TickFor(60s);
  EXPECT_EQ(Count("readback_mismatch"), 1u);
  EXPECT_EQ(loop_->stats().readback_mismatches, 1u);
}

TEST_F(ControlLoopTest, HandModeStopsWritesAtTheNextTick) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  TickFor(60s);
  ASSERT_EQ(plc_.SetpointWrites(), 1u);
  plc_.values["control_mode"] = 2;
  TickFor(60s);
  TickFor(60s);
  EXPECT_EQ(plc_.SetpointWrites(), 1u);
  EXPECT_EQ(Count("hand_mode"), 1u);
  plc_.values["control_mode"] = 1;
  TickFor(60s);
  EXPECT_EQ(Count("hand_mode_end"), 1u);
  EXPECT_EQ(plc_.SetpointWrites(), 2u);
}

TEST_F(ControlLoopTest, ModelFailureGivesTheSafeSetpointAtModelTimeout) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  source_.next = 22;
  TickFor(60s);
  source_.next.reset();
  TickFor(60s);  // 60 s without a proposal: hold
  TickFor(60s);  // 120 s
  EXPECT_EQ(plc_.SetpointWrites(), 1u);
  EXPECT_EQ(Count("model_failed"), 1u) << "once per failure streak";
  TickFor(60s);  // 180 s = model_timeout
  ASSERT_EQ(plc_.SetpointWrites(), 2u);
  EXPECT_DOUBLE_EQ(plc_.values["remote_setpoint"], 18.0) << "safe, without rate limit";
  EXPECT_EQ(records_.back().kind, "write_safe");
  EXPECT_THAT(records_.back().reason, HasSubstr("model_timeout"));
  source_.next = 20;
  TickFor(60s);
  EXPECT_DOUBLE_EQ(plc_.values["remote_setpoint"], 19.0) << "rate-limited from safe 18";
}

// Ticks are timed by the clock, not by their schedule: the one due model_timeout after the last
// good proposal may read a fraction of a millisecond less. It gives the safe setpoint; a Tick
// well before model_timeout does not.
TEST_F(ControlLoopTest, ATickJustShortOfModelTimeoutGivesTheSafeSetpoint) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  source_.next = 22;
  TickFor(60s);
  source_.next.reset();
  clock_.Advance(179s);
  loop_->Tick(clock_.Now());
  EXPECT_EQ(Count("write_safe"), 0u) << "1 s before model_timeout: hold";
  clock_.Advance(999ms);
  loop_->Tick(clock_.Now());  // 1 ms short of 180 s
  EXPECT_EQ(Count("write_safe"), 1u);
  EXPECT_DOUBLE_EQ(plc_.values["remote_setpoint"], 18.0);
}

TEST_F(ControlLoopTest, CommsLossIsRecordedOnceAndStateIsReadBeforeWriting) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  TickFor(60s);
  plc_.down = true;
  TickFor(60s);
  TickFor(60s);
  loop_->Heartbeat(clock_.Now() + 10s);
  EXPECT_EQ(Count("comms_lost"), 1u);
  plc_.down = false;
  plc_.values["control_mode"] = 2;  // the operator took over meanwhile
  plc_.writes.clear();
  loop_->Heartbeat(clock_.Now() + 20s);
  EXPECT_EQ(plc_.AnyWrites(), 0u) << "no heartbeat before the PLC state was read again";
  TickFor(60s);
  EXPECT_EQ(Count("comms_restored"), 1u);
  EXPECT_EQ(plc_.AnyWrites(), 0u) << "hand mode read after reconnecting: no write";
  auto k = Kinds();
  EXPECT_LT(std::find(k.begin(), k.end(), "comms_restored") - k.begin(),
            std::find(k.begin(), k.end(), "hand_mode") - k.begin());
}

TEST_F(ControlLoopTest, InterlockSafeAndHold) {
  model::physics::Expr hot = model::physics::ParseExpr("zone_temp").value();
  config_.envelope.interlocks.push_back(
      Interlock{.name = "hot", .expr = hot, .above = 27, .then = Interlock::Then::kSafe});
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  plc_.values["zone_temp"] = 28;
  TickFor(60s);
  EXPECT_DOUBLE_EQ(plc_.values["remote_setpoint"], 18.0);
  EXPECT_EQ(records_.back().kind, "write_safe");
}

TEST_F(ControlLoopTest, SupervisedNeedsApprovalWithinOnePeriod) {
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kSupervised)).ok());
  EXPECT_EQ(loop_->effective_mode(), Mode::kSupervised);
  TickFor(60s);
  EXPECT_EQ(plc_.AnyWrites(), 0u);
  std::string id = loop_->pending_proposal();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(loop_->Approve("nope", "olga").code(), StatusCode::kNotFound);
  clock_.Advance(10s);
  ASSERT_TRUE(loop_->Approve(id, "olga").ok());
  EXPECT_DOUBLE_EQ(plc_.values["remote_setpoint"], 21.5);
  EXPECT_EQ(records_.back().kind, "write");
  EXPECT_EQ(records_.back().approved_by, "olga");
  EXPECT_EQ(records_.back().proposal_id, id);
  // A proposal left alone expires at the next period.
  TickFor(60s);
  std::string id2 = loop_->pending_proposal();
  TickFor(60s);
  EXPECT_EQ(Count("expired"), 1u);
  EXPECT_FALSE(loop_->Approve(id2, "olga").ok());
}

TEST_F(ControlLoopTest, WantedModeCapsTheGrantAndExpiryReturnsToShadow) {
  config_.mode = Mode::kSupervised;
  Make();
  ASSERT_TRUE(loop_->ApplyGrant(Grant(Mode::kAutonomous)).ok());
  EXPECT_EQ(loop_->effective_mode(), Mode::kSupervised);
  clock_.Advance(2h);
  loop_->Tick(clock_.Now());
  EXPECT_EQ(loop_->effective_mode(), Mode::kShadow);
  EXPECT_EQ(records_.back().kind, "shadow");
  EXPECT_EQ(plc_.AnyWrites(), 0u);
}

// A real model process killed with kill -9 (and unable to restart): the loop writes the safe
// setpoint within model_timeout of the last good proposal, in real time.
TEST_F(ControlLoopTest, KilledModelProcessGivesTheSafeSetpointWithinModelTimeout) {
  std::ofstream(dir_->path() + "/model.py") << R"(import json, os, sys
if os.path.exists("broken"):
    sys.exit(3)
for line in sys.stdin:
    print(json.dumps({"setpoint": 21.5}), flush=True)
)";
  ProcessSourceOptions po;
  po.command = {"python3", "model.py"};
  po.working_dir = dir_->path();
  po.timeout = 1000ms;
  po.min_backoff = Micros(200ms);
  ProcessSetpointSource model(po);
  config_.period = 200ms;
  config_.model_timeout = 1500ms;
  ControlLoopOptions o;
  o.edge_id = "edge-a";
  o.grant_public_key_pem = pub_;
  o.readback_wait = 0ms;
  SystemClock& clock = SystemClock::Default();
  ControlLoop loop(config_, o, plc_, model, clock,
                   [this](const ActionRecord& r) { records_.push_back(r); });
  clock_.Set(clock.Now());
  ASSERT_TRUE(loop.ApplyGrant(Grant(Mode::kAutonomous)).ok());
  // The last good proposal is dated by its Tick's `now` (before the model process starts).
  const TimePoint last_good = clock.Now();
  loop.Tick(last_good);
  ASSERT_DOUBLE_EQ(plc_.values["remote_setpoint"], 21.5);
  ASSERT_GT(model.pid(), 0);
  std::ofstream(dir_->path() + "/broken") << "";
  ASSERT_EQ(kill(model.pid(), SIGKILL), 0);
  TimePoint safe_at{};
  for (int i = 0; i < 40 && safe_at == TimePoint{}; ++i) {
    std::this_thread::sleep_for(config_.period);
    loop.Tick(clock.Now());
    if (plc_.values["remote_setpoint"] == 18.0) safe_at = clock.Now();
  }
  ASSERT_NE(safe_at, TimePoint{}) << "the safe setpoint was never written";
  auto took = safe_at - last_good;
  std::printf("model kill -9 -> safe setpoint after %.2f s (model_timeout 1.5 s, period 0.2 s)\n",
              std::chrono::duration<double>(took).count());
  EXPECT_LE(took, config_.model_timeout + config_.period + 300ms);
  EXPECT_GE(took, config_.model_timeout - config_.period) << "not before model_timeout";
  EXPECT_EQ(Count("model_failed"), 1u);
  EXPECT_GE(model.stats().crashes + model.stats().start_failures, 1u);
}

}  // namespace
}  // namespace weft::control
