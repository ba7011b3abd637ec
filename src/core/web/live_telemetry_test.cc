#include "core/web/live_telemetry.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "testing/test_env.h"

namespace weft::core::web {
namespace {

using std::chrono::milliseconds;

struct Sample {
  std::string asset, signal;
  int64_t ts_us;
  double value;
  int32_t quality = 0;
};

//! Telemetry rows as the ingest writes them (place lyon/machining/l1).
lake::RecordBatch Rows(const std::vector<Sample>& samples) {
  lake::RecordBatch b(LakeTableSchema(LakeTableId::kTelemetry));
  auto col = [&](const char* name) -> lake::Column& {
    return b.column(static_cast<size_t>(b.Find(name)));
  };
  for (const Sample& s : samples) {
    col("date").AppendInt(DayOf(TimeFromUnixMicros(s.ts_us)).time_since_epoch().count());
    col("ts").AppendInt(s.ts_us);
    col("edge").AppendString("e1");
    col("stream").AppendString("normal");
    col("seq").AppendInt(1);
    col("site").AppendString("lyon");
    col("area").AppendString("machining");
    col("line").AppendString("l1");
    col("asset").AppendString(s.asset);
    col("asset_type").AppendString("motor");
    col("signal").AppendString(s.signal);
    col("unit").AppendString("degC");
    col("quantity").AppendNull();
    col("value").AppendDouble(s.value);
    col("quality").AppendInt(s.quality);
  }
  return b;
}

class LiveTelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    lake_ = dir_->path() + "/lake";
    t0_ = *ParseTimestampMicros("2026-11-25T10:00:00Z");
    clock_.Set(TimeFromUnixMicros(t0_));
  }
  void Append(const std::vector<Sample>& samples) {
    auto table = OpenTable(lake_, LakeTableId::kTelemetry, &clock_);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE((*table)->Append(Rows(samples)).ok());
  }
  std::unique_ptr<LiveTelemetry> Open(LiveTelemetryOptions o = {}) {
    o.lake_root = lake_;
    o.clock = &clock_;
    auto live = LiveTelemetry::Open(o);
    EXPECT_TRUE(live.ok()) << live.status().ToString();
    return live.ok() ? std::move(live).value() : nullptr;
  }
  static constexpr int64_t kSecond = 1'000'000;
  std::optional<weft::testing::TempDir> dir_;
  std::string lake_;
  int64_t t0_ = 0;
  ManualClock clock_{TimeFromUnixMicros(0)};
};

TEST_F(LiveTelemetryTest, KeepsTheNewestSampleOfEachSignal) {
  auto live = Open();
  ASSERT_NE(live, nullptr);
  // No table yet: nothing, and no error.
  ASSERT_TRUE(live->PollOnce().ok());
  EXPECT_TRUE(live->Snapshot().empty());
  EXPECT_EQ(live->generation(), 0u);

  ASSERT_TRUE(EnsureTables(lake_, &clock_).ok());
  // Out of order within the commit: the ts wins, not the order read.
  Append({{"m1", "temp", t0_ - 3 * kSecond, 40.0},
          {"m1", "temp", t0_ - 1 * kSecond, 42.5},
          {"m1", "temp", t0_ - 2 * kSecond, 41.0},
          {"m2", "temp", t0_ - 1 * kSecond, 30.0, 3}});
  ASSERT_TRUE(live->PollOnce().ok());
  std::vector<LiveSample> all = live->Snapshot();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].asset, "m1");
  EXPECT_EQ(all[0].ts_us, t0_ - kSecond);
  EXPECT_EQ(all[0].value, 42.5);
  EXPECT_EQ(all[0].site, "lyon");
  EXPECT_EQ(all[0].line, "l1");
  EXPECT_EQ(all[0].unit, "degC");
  EXPECT_EQ(all[1].asset, "m2");
  EXPECT_EQ(all[1].quality, 3);
  EXPECT_EQ(live->generation(), 1u);

  // The next poll re-reads the overlap: nothing changed, no new generation.
  ASSERT_TRUE(live->PollOnce().ok());
  EXPECT_EQ(live->generation(), 1u);

  // A newer m1 sample: generation 2 holds only m1.
  clock_.Set(TimeFromUnixMicros(t0_ + 5 * kSecond));
  Append({{"m1", "temp", t0_ + 4 * kSecond, 43.0}});
  ASSERT_TRUE(live->PollOnce().ok());
  EXPECT_EQ(live->generation(), 2u);
  std::vector<LiveSample> changed = live->Snapshot(1);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].asset, "m1");
  EXPECT_EQ(changed[0].value, 43.0);
  EXPECT_EQ(changed[0].generation, 2u);
  EXPECT_EQ(live->Snapshot(2).size(), 0u);
}

TEST_F(LiveTelemetryTest, LooksBackAtMostTheLookbackAndThenFollowsTheData) {
  ASSERT_TRUE(EnsureTables(lake_, &clock_).ok());
  // 20 min old: beyond the 15 min lookback. 10 min old: within it.
  Append({{"old", "temp", t0_ - 20 * 60 * kSecond, 1.0},
          {"recent", "temp", t0_ - 10 * 60 * kSecond, 2.0}});
  auto live = Open();
  ASSERT_TRUE(live->PollOnce().ok());
  std::vector<LiveSample> all = live->Snapshot();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].asset, "recent");

  // Samples ahead of the wall clock (a simulator at 10x) are followed: the window starts at
  // the newest ts seen minus the 30 s overlap, so a sample 40 s behind the newest is missed and
  // one 20 s behind is taken.
  Append({{"fast", "temp", t0_ + 3600 * kSecond, 5.0}});
  ASSERT_TRUE(live->PollOnce().ok());
  Append(
      {{"late", "temp", t0_ + 3560 * kSecond, 6.0}, {"ontime", "temp", t0_ + 3580 * kSecond, 7.0}});
  ASSERT_TRUE(live->PollOnce().ok());
  std::set<std::string> assets;
  for (const LiveSample& s : live->Snapshot()) assets.insert(s.asset);
  EXPECT_EQ(assets, (std::set<std::string>{"recent", "fast", "ontime"}));
}

TEST_F(LiveTelemetryTest, ApplyIgnoresColumnsOfTheWrongType) {
  auto live = Open();
  lake::RecordBatch bad({{"ts", lake::ColumnType::kString, false},
                         {"asset", lake::ColumnType::kString, false},
                         {"signal", lake::ColumnType::kString, false}});
  bad.column(0).AppendString("yesterday");
  bad.column(1).AppendString("m1");
  bad.column(2).AppendString("temp");
  EXPECT_EQ(live->Apply(bad), 0u);
  EXPECT_TRUE(live->Snapshot().empty());
}

TEST_F(LiveTelemetryTest, WaitForChangeWakesOnNewDataOrStop) {
  ASSERT_TRUE(EnsureTables(lake_, &clock_).ok());
  auto live = Open({.poll_interval = milliseconds(20)});
  live->Touch();
  live->StartPolling();
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(100));
    Append({{"m1", "temp", t0_, 1.0}});
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(live->WaitForChange(0, milliseconds(5000)), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(4000));
  writer.join();
  // Stop wakes a waiter at once.
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(50));
    live->Stop();
  });
  const auto wait_start = std::chrono::steady_clock::now();
  EXPECT_EQ(live->WaitForChange(1, milliseconds(5000)), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - wait_start, milliseconds(4000));
  stopper.join();
  EXPECT_TRUE(live->stopping());
}

TEST_F(LiveTelemetryTest, StreamSlotsAreBounded) {
  auto live = Open({.max_streams = 2});
  auto a = live->AcquireStream();
  auto b = live->AcquireStream();
  EXPECT_NE(a, nullptr);
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(live->AcquireStream(), nullptr);
  EXPECT_EQ(live->open_streams(), 2u);
  a.reset();
  EXPECT_EQ(live->open_streams(), 1u);
  EXPECT_NE(live->AcquireStream(), nullptr);
}

TEST(LiveTelemetryOpenTest, NeedsALakeAndAClock) {
  ManualClock clock(TimeFromUnixMicros(0));
  EXPECT_EQ(LiveTelemetry::Open({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      LiveTelemetry::Open({.lake_root = "/x", .clock = &clock, .poll_interval = milliseconds(0)})
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weft::core::web
