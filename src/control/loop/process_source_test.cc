#include "control/loop/process_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "testing/test_env.h"

namespace weft::control {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ProcessSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::Make();
    ASSERT_TRUE(d.ok());
    dir_.emplace(std::move(*d));
    // Answers zone_temp + 0.5; "hang" in the working dir makes it stop answering, "bad" makes
    // it answer garbage.
    std::ofstream(dir_->path() + "/model.py") << R"(import json, os, sys
for line in sys.stdin:
    req = json.loads(line)
    if os.path.exists("hang"):
        import time; time.sleep(60)
    if os.path.exists("bad"):
        print("not json", flush=True); continue
    print(json.dumps({"setpoint": req["inputs"]["zone_temp"] + 0.5}), flush=True)
)";
  }
  ProcessSourceOptions Options() {
    ProcessSourceOptions o;
    o.command = {"python3", "model.py"};
    o.working_dir = dir_->path();
    o.timeout = 2000ms;
    o.min_backoff = 1s;
    return o;
  }
  void Touch(const std::string& name) { std::ofstream(dir_->path() + "/" + name) << ""; }

  std::optional<testing::TempDir> dir_;
  TimePoint now_ = TimeFromUnixMicros(1'790'000'000'000'000);
};

TEST_F(ProcessSourceTest, AnswersOneLinePerProposal) {
  ProcessSetpointSource s(Options());
  for (int i = 0; i < 3; ++i) {
    auto p = s.Propose(now_, {{"zone_temp", 20.0 + i}});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_DOUBLE_EQ(*p, 20.5 + i);
  }
  EXPECT_EQ(s.stats().starts, 1u);
  EXPECT_EQ(s.name(), "process:model.py");
}

TEST_F(ProcessSourceTest, BadAnswersAreCountedAndTheProcessKept) {
  ProcessSetpointSource s(Options());
  ASSERT_TRUE(s.Propose(now_, {{"zone_temp", 20.0}}).ok());
  Touch("bad");
  auto p = s.Propose(now_, {{"zone_temp", 20.0}});
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("not json"));
  EXPECT_EQ(s.stats().bad_answers, 1u);
  EXPECT_EQ(s.stats().starts, 1u);
}

TEST_F(ProcessSourceTest, KillNineIsAnErrorThenRestartedAfterBackoff) {
  ProcessSetpointSource s(Options());
  ASSERT_TRUE(s.Propose(now_, {{"zone_temp", 20.0}}).ok());
  ASSERT_GT(s.pid(), 0);
  ASSERT_EQ(kill(s.pid(), SIGKILL), 0);
  std::this_thread::sleep_for(100ms);
  auto t0 = std::chrono::steady_clock::now();
  auto p = s.Propose(now_, {{"zone_temp", 20.0}});
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable) << p.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(s.stats().crashes, 1u);
  // In backoff: an immediate error, no start.
  EXPECT_FALSE(s.Propose(now_ + 500ms, {{"zone_temp", 20.0}}).ok());
  EXPECT_EQ(s.stats().starts, 1u);
  auto q = s.Propose(now_ + 1s, {{"zone_temp", 21.0}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_DOUBLE_EQ(*q, 21.5);
  EXPECT_EQ(s.stats().starts, 2u);
}

TEST_F(ProcessSourceTest, NoAnswerWithinTimeoutKillsTheProcess) {
  ProcessSetpointSource s(Options());
  ASSERT_TRUE(s.Propose(now_, {{"zone_temp", 20.0}}).ok());
  pid_t pid = s.pid();
  Touch("hang");
  auto t0 = std::chrono::steady_clock::now();
  auto p = s.Propose(now_, {{"zone_temp", 20.0}});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(p.status().code(), StatusCode::kDeadlineExceeded) << p.status().ToString();
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 3s) << "never blocks beyond the timeout";
  EXPECT_EQ(s.stats().timeouts, 1u);
  EXPECT_EQ(s.pid(), -1);
  EXPECT_NE(kill(pid, 0), 0) << "the hung process was killed and reaped";
}

TEST_F(ProcessSourceTest, AMissingProgramIsAnError) {
  ProcessSourceOptions o = Options();
  o.command = {"/nonexistent/model"};
  ProcessSetpointSource s(o);
  EXPECT_FALSE(s.Propose(now_, {{"zone_temp", 20.0}}).ok());
}

}  // namespace
}  // namespace weft::control
