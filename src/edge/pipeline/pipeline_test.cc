#include "edge/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "testing/example_plant.h"

namespace weft::edge {
namespace {

constexpr int64_t kS = 1'000'000;  // one second in microseconds
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class RecordingSink : public PipelineSink {
 public:
  struct Sent {
    Sample sample;
    Priority priority;
  };
  void OnSample(const Sample& s, Priority p) override { samples.push_back({s, p}); }
  void OnAggregate(const Aggregate& a, Priority p) override {
    aggregates.push_back(a);
    aggregate_priorities.push_back(p);
  }
  void OnEvent(const Event& e, Priority p) override {
    events.push_back(e);
    event_priorities.push_back(p);
  }
  std::vector<double> Values() const {
    std::vector<double> out;
    for (const Sent& s : samples) out.push_back(s.sample.value);
    return out;
  }
  std::vector<Sent> samples;
  std::vector<Aggregate> aggregates;
  std::vector<Priority> aggregate_priorities;
  std::vector<Event> events;
  std::vector<Priority> event_priorities;
};

// Line 1 of the example plant; the signal under test is l1-sp-01's winding_temp (a motor
// signal: range [-20, 200] degC, period 1 s).
class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<SignalTable> t = SignalTable::FromPlant(testing::ExamplePlant(), {{"l1-machining"}});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    table_ = std::make_unique<SignalTable>(*std::move(t));
    id_ = table_->Find("l1-sp-01", "winding_temp").value();
  }

  // Every signal with stale detection off (so that Advance only speaks of the signal under
  // test), then `edit` applied to the policy of the signal under test.
  std::unique_ptr<Pipeline> Make(const std::function<void(SignalPolicy&)>& edit) {
    std::vector<SignalPolicy> policies = DefaultPolicies(*table_);
    for (SignalPolicy& p : policies) p.stale_after = Micros(0);
    edit(policies[id_]);
    return std::make_unique<Pipeline>(*table_, std::move(policies), sink_);
  }

  void Push(Pipeline& p, int64_t ts, double v, uint8_t q = quality::kGood) {
    p.Push(Sample{id_, ts, v, q});
  }

  std::unique_ptr<SignalTable> table_;
  SignalId id_ = 0;
  RecordingSink sink_;
};

// ---- Raw path. ----

TEST_F(PipelineTest, DefaultPolicySendsEveryGoodValue) {
  auto p = Make([](SignalPolicy&) {});
  for (int i = 0; i < 5; ++i) Push(*p, i * kS, 50.0);
  EXPECT_EQ(sink_.samples.size(), 5u);
  EXPECT_EQ(p->stats().samples_in, 5u);
  EXPECT_EQ(p->stats().raw_sent, 5u);
  EXPECT_EQ(sink_.samples[0].priority, Priority::kNormal);
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(PipelineTest, AbsoluteDeadbandComparesWithTheLastSentValue) {
  auto p = Make([](SignalPolicy& s) { s.deadband = 0.5; });
  // 10 sent; 10.25 within 0.5 of 10; 10.5 is 0.5 away (not below the band): sent; 10.25 within
  // 0.5 of 10.5; 10.0 is 0.5 from 10.5: sent.
  const double values[] = {10.0, 10.25, 10.5, 10.25, 10.0};
  for (int i = 0; i < 5; ++i) Push(*p, i * kS, values[i]);
  EXPECT_EQ(sink_.Values(), (std::vector<double>{10.0, 10.5, 10.0}));
  EXPECT_EQ(p->stats().deadband_suppressed, 2u);
  EXPECT_EQ(p->stats().raw_sent, 3u);
}

TEST_F(PipelineTest, PercentDeadbandIsRelativeToTheLastSentValue) {
  auto p = Make([](SignalPolicy& s) {
    s.deadband = 2;
    s.deadband_percent = true;
  });
  // band 2 around 100: 101.5 held, 103 sent; band 2.06 around 103: 101 held, 100.5 sent.
  const double values[] = {100, 101.5, 103, 101, 100.5};
  for (int i = 0; i < 5; ++i) Push(*p, i * kS, values[i]);
  EXPECT_EQ(sink_.Values(), (std::vector<double>{100, 103, 100.5}));
  EXPECT_EQ(p->stats().deadband_suppressed, 2u);
}

TEST_F(PipelineTest, PercentDeadbandAroundZeroSendsEveryChange) {
  auto p = Make([](SignalPolicy& s) {
    s.deadband = 5;
    s.deadband_percent = true;
  });
  Push(*p, 0, 0.0);
  Push(*p, kS, 0.001);
  EXPECT_EQ(sink_.Values(), (std::vector<double>{0.0, 0.001}));
}

TEST_F(PipelineTest, HeartbeatRepeatsTheLatestValueAfterMaxInterval) {
  auto p = Make([](SignalPolicy& s) {
    s.deadband = 100;  // hold back everything after the first
    s.max_interval = std::chrono::seconds(10);
  });
  Push(*p, 0, 50.0);
  Push(*p, 1 * kS, 50.5);  // within the deadband
  p->Advance(10 * kS - 1);
  EXPECT_EQ(sink_.samples.size(), 1u);
  p->Advance(10 * kS);
  ASSERT_EQ(sink_.samples.size(), 2u);
  EXPECT_EQ(sink_.samples[1].sample.ts_us, 10 * kS) << "stamped with Advance's time";
  EXPECT_EQ(sink_.samples[1].sample.value, 50.5) << "the latest value, not the last sent";
  EXPECT_EQ(sink_.samples[1].sample.quality, quality::kGood);
  p->Advance(15 * kS);
  EXPECT_EQ(sink_.samples.size(), 2u) << "the heartbeat counts as sent";
  Push(*p, 16 * kS, 50.7);  // the deadband is now measured from the heartbeat: held
  p->Advance(20 * kS);
  ASSERT_EQ(sink_.samples.size(), 3u);
  EXPECT_EQ(sink_.samples[2].sample.value, 50.7);
  EXPECT_EQ(p->stats().heartbeats, 2u);
  EXPECT_EQ(p->stats().raw_sent, 1u);
}

TEST_F(PipelineTest, NoHeartbeatBeforeTheFirstValueOrWhenOff) {
  auto p = Make([](SignalPolicy& s) { s.max_interval = std::chrono::seconds(1); });
  p->Advance(100 * kS);
  EXPECT_TRUE(sink_.samples.empty());
  auto q = Make([](SignalPolicy&) {});  // max_interval 0
  q->Push(Sample{id_, 0, 1.0});
  q->Advance(1000 * kS);
  EXPECT_EQ(q->stats().heartbeats, 0u);
}

TEST_F(PipelineTest, MinIntervalSendsAtMostOneValuePerInterval) {
  auto p = Make([](SignalPolicy& s) { s.min_interval = std::chrono::seconds(1); });
  // Every 250 ms for 2.5 s, each value different.
  for (int i = 0; i <= 10; ++i) Push(*p, i * kS / 4, 20.0 + i);
  EXPECT_EQ(sink_.Values(), (std::vector<double>{20, 24, 28}));
  EXPECT_EQ(p->stats().rate_limited, 8u);
}

TEST_F(PipelineTest, QualityChangeGoesThroughRateLimitAndDeadband) {
  auto p = Make([](SignalPolicy& s) {
    s.min_interval = std::chrono::seconds(10);
    s.deadband = 1000;
  });
  Push(*p, 0, 100.0);
  Push(*p, 1 * kS, 250.0);  // out of range: quality change
  Push(*p, 2 * kS, 260.0);  // still out of range: rate-limited
  Push(*p, 3 * kS, 100.0);  // back to good: quality change
  Push(*p, 4 * kS, 120.0);  // rate-limited
  ASSERT_EQ(sink_.Values(), (std::vector<double>{100, 250, 100}));
  EXPECT_EQ(sink_.samples[1].sample.quality, quality::kOutOfRange);
  EXPECT_EQ(sink_.samples[2].sample.quality, quality::kGood);
  EXPECT_EQ(p->stats().rate_limited, 2u);
  EXPECT_EQ(sink_.events.size(), 2u);
}

TEST_F(PipelineTest, BadSamplesAreNotHeldBackByTheDeadband) {
  auto p = Make([](SignalPolicy& s) { s.deadband = 1000; });
  Push(*p, 0, kNaN);
  Push(*p, 1 * kS, kNaN);
  Push(*p, 2 * kS, 300.0);
  EXPECT_EQ(sink_.samples.size(), 3u);
  EXPECT_EQ(p->stats().deadband_suppressed, 0u);
}

// ---- Validation and quality. ----

TEST_F(PipelineTest, OutOfRangeBothWaysWithQualityEvents) {
  auto p = Make([](SignalPolicy& s) { s.priority = Priority::kHigh; });
  Push(*p, 0, 199.0);
  Push(*p, 1 * kS, 250.0);
  Push(*p, 2 * kS, -25.0);  // still out of range (below): no new event
  Push(*p, 3 * kS, 200.0);  // inclusive max: good
  ASSERT_EQ(sink_.samples.size(), 4u);
  EXPECT_EQ(sink_.samples[1].sample.quality, quality::kOutOfRange);
  EXPECT_EQ(sink_.samples[2].sample.quality, quality::kOutOfRange);
  EXPECT_EQ(sink_.samples[3].sample.quality, quality::kGood);
  ASSERT_EQ(sink_.events.size(), 2u);
  const Event& bad = sink_.events[0];
  EXPECT_EQ(bad.kind, "quality");
  EXPECT_EQ(bad.source, "pipeline");
  EXPECT_EQ(bad.signal, id_);
  EXPECT_EQ(bad.ts_us, 1 * kS);
  EXPECT_EQ(bad.value, quality::kOutOfRange);
  EXPECT_EQ(bad.message, "good -> out_of_range: value 250 above max 200");
  EXPECT_EQ(sink_.event_priorities[0], Priority::kHigh);
  EXPECT_EQ(sink_.events[1].message, "out_of_range -> good");
  EXPECT_EQ(sink_.events[1].value, 0);
  EXPECT_EQ(p->quality(id_), quality::kGood);
  EXPECT_EQ(p->stats().Flagged(quality::kOutOfRange), 2u);
  EXPECT_EQ(p->stats().quality_events, 2u);
}

TEST_F(PipelineTest, BelowMinIsNamed) {
  auto p = Make([](SignalPolicy&) {});
  Push(*p, 0, -20.5);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].message, "good -> out_of_range: value -20.5 below min -20");
}

TEST_F(PipelineTest, NotANumberAndInfinity) {
  auto p = Make([](SignalPolicy&) {});
  Push(*p, 0, kNaN);
  Push(*p, 1 * kS, std::numeric_limits<double>::infinity());
  Push(*p, 2 * kS, 20.0);
  ASSERT_EQ(sink_.samples.size(), 3u);
  EXPECT_EQ(sink_.samples[0].sample.quality, quality::kNotANumber);
  EXPECT_EQ(sink_.samples[1].sample.quality, quality::kNotANumber)
      << "infinity is not flagged out of range too";
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].message, "good -> not_a_number: value nan");
  EXPECT_EQ(sink_.events[1].message, "not_a_number -> good");
  EXPECT_EQ(p->stats().Flagged(quality::kNotANumber), 2u);
}

TEST_F(PipelineTest, RangeOverrideAndOpenRange) {
  auto p = Make([](SignalPolicy& s) {
    s.min.reset();
    s.max = 80.0;
  });
  Push(*p, 0, -1000.0);
  Push(*p, 1 * kS, 81.0);
  EXPECT_EQ(sink_.samples[0].sample.quality, quality::kGood);
  EXPECT_EQ(sink_.samples[1].sample.quality, quality::kOutOfRange);
}

TEST_F(PipelineTest, SourceFlagsAreKeptAndTracked) {
  auto p = Make([](SignalPolicy&) {});
  Push(*p, 0, 20.0, quality::kBadSource);
  Push(*p, 1 * kS, 20.0);
  ASSERT_EQ(sink_.samples.size(), 2u);
  EXPECT_EQ(sink_.samples[0].sample.quality, quality::kBadSource);
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].message, "good -> bad_source: set by the source");
}

TEST_F(PipelineTest, StuckAfterTheSameValueForStuckAfter) {
  auto p = Make([](SignalPolicy& s) { s.stuck_after = std::chrono::seconds(5); });
  for (int i = 0; i <= 7; ++i) Push(*p, i * kS, 42.0);  // stuck from t = 5 s (5 s unchanged)
  Push(*p, 8 * kS, 42.5);
  ASSERT_EQ(sink_.samples.size(), 9u);
  for (int i = 0; i <= 8; ++i) {
    bool stuck = i >= 5 && i <= 7;
    EXPECT_EQ(sink_.samples[static_cast<size_t>(i)].sample.quality,
              stuck ? quality::kStuck : quality::kGood)
        << "t=" << i;
  }
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].ts_us, 5 * kS);
  EXPECT_EQ(sink_.events[0].message, "good -> stuck: value 42 unchanged for 5s (stuck_after 5s)");
  EXPECT_EQ(sink_.events[1].message, "stuck -> good");
  EXPECT_EQ(p->stats().Flagged(quality::kStuck), 3u);
}

TEST_F(PipelineTest, StuckOffByDefault) {
  auto p = Make([](SignalPolicy&) {});
  for (int i = 0; i < 100; ++i) Push(*p, i * kS, 42.0);
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(PipelineTest, StaleAfterNoSampleAndBackOnTheNextOne) {
  auto p = Make([](SignalPolicy& s) { s.stale_after = std::chrono::seconds(3); });
  Push(*p, 0, 20.0);
  p->Advance(3 * kS);
  EXPECT_TRUE(sink_.events.empty()) << "3 s without a value is not longer than 3 s";
  p->Advance(3 * kS + 1);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].ts_us, 3 * kS + 1);
  EXPECT_EQ(sink_.events[0].value, quality::kStale);
  EXPECT_EQ(sink_.events[0].message, "good -> stale: no value for 3.000001s (stale_after 3s)");
  EXPECT_EQ(p->quality(id_), quality::kStale);
  p->Advance(10 * kS);
  EXPECT_EQ(sink_.events.size(), 1u) << "reported once";
  Push(*p, 11 * kS, 21.0);
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[1].message, "stale -> good");
  EXPECT_EQ(sink_.samples.back().sample.quality, quality::kGood);
  EXPECT_EQ(p->stats().Flagged(quality::kStale), 1u);
}

TEST_F(PipelineTest, DefaultStaleAfterIsThreePeriodsButAtLeastTwoSeconds) {
  std::vector<SignalPolicy> policies = DefaultPolicies(*table_);
  EXPECT_EQ(policies[id_].stale_after, std::chrono::seconds(3));
  SignalId spindle_load = table_->Find("l1-sp-01", "spindle_load").value();  // 100 ms period
  EXPECT_EQ(policies[spindle_load].stale_after, std::chrono::seconds(2));
  EXPECT_EQ(policies[id_].min, -20.0);
  EXPECT_EQ(policies[id_].max, 200.0);
}

TEST_F(PipelineTest, NeverSeenSignalGoesStaleCountingFromTheFirstAdvance) {
  auto p = Make([](SignalPolicy& s) { s.stale_after = std::chrono::seconds(3); });
  p->Advance(100 * kS);
  p->Advance(103 * kS);
  EXPECT_TRUE(sink_.events.empty());
  p->Advance(104 * kS);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].message, "good -> stale: no value since the start (stale_after 3s)");
}

TEST_F(PipelineTest, HeartbeatOfAStaleSignalCarriesTheFlag) {
  auto p = Make([](SignalPolicy& s) {
    s.stale_after = std::chrono::seconds(3);
    s.max_interval = std::chrono::seconds(10);
  });
  Push(*p, 0, 20.0);
  p->Advance(10 * kS);
  ASSERT_EQ(sink_.samples.size(), 2u);
  EXPECT_EQ(sink_.samples[1].sample.quality, quality::kStale);
}

TEST_F(PipelineTest, StaleAddsToTheCurrentFlags) {
  auto p = Make([](SignalPolicy& s) { s.stale_after = std::chrono::seconds(3); });
  Push(*p, 0, 500.0);
  p->Advance(4 * kS);
  EXPECT_EQ(p->quality(id_), quality::kOutOfRange | quality::kStale);
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[1].message.substr(0, 35), "out_of_range -> out_of_range|stale:");
}

TEST_F(PipelineTest, UnknownSignalIdIsCountedNotCrashed) {
  auto p = Make([](SignalPolicy&) {});
  p->Push(Sample{static_cast<SignalId>(table_->size()), 0, 1.0});
  p->Push(Sample{0xFFFFFFFFu, 0, 1.0});
  EXPECT_EQ(p->stats().unknown_signal, 2u);
  EXPECT_EQ(p->stats().samples_in, 0u);
  EXPECT_TRUE(sink_.samples.empty());
}

TEST_F(PipelineTest, ExtremeTimestampsDoNotOverflow) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kRawAndAggregate;
    s.min_interval = std::chrono::seconds(1);
    s.max_interval = std::chrono::seconds(1);
    s.stuck_after = std::chrono::seconds(1);
    s.stale_after = std::chrono::seconds(1);
  });
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  Push(*p, kMin, 1.0);
  Push(*p, kMax, 1.0);
  p->Advance(kMin);
  p->Advance(kMax);
  Push(*p, kMin, 2.0);
  p->Advance(kMax);
  p->Flush();
  EXPECT_EQ(p->stats().samples_in, 3u);
  ASSERT_FALSE(sink_.aggregates.empty());
  for (const Aggregate& a : sink_.aggregates) EXPECT_LE(a.start_us, a.end_us);
}

// ---- Windows. ----

TEST_F(PipelineTest, WindowStatisticsAlignedToTheWindowLength) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
    s.priority = Priority::kLow;
  });
  // Mean 5, population variance 4 (std 2), in the window [10 s, 20 s).
  const double values[] = {2, 4, 4, 4, 5, 5, 7, 9};
  for (int i = 0; i < 8; ++i) Push(*p, 13 * kS + i * kS / 2, values[i]);
  EXPECT_TRUE(sink_.samples.empty()) << "route aggregate sends no raw value";
  p->Advance(20 * kS - 1);
  EXPECT_TRUE(sink_.aggregates.empty());
  p->Advance(20 * kS);
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  const Aggregate& a = sink_.aggregates[0];
  EXPECT_EQ(a.signal, id_);
  EXPECT_EQ(a.start_us, 10 * kS);
  EXPECT_EQ(a.end_us, 20 * kS);
  EXPECT_EQ(a.count, 8u);
  EXPECT_DOUBLE_EQ(a.mean, 5.0);
  EXPECT_EQ(a.min, 2.0);
  EXPECT_EQ(a.max, 9.0);
  EXPECT_DOUBLE_EQ(a.std, 2.0);
  EXPECT_EQ(a.last, 9.0);
  EXPECT_EQ(a.quality, quality::kGood);
  EXPECT_EQ(sink_.aggregate_priorities[0], Priority::kLow);
  p->Advance(30 * kS);
  EXPECT_EQ(sink_.aggregates.size(), 1u) << "an empty window is not emitted";
  EXPECT_EQ(p->stats().aggregates, 1u);
}

TEST_F(PipelineTest, WindowStdIsStableFarFromZero) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
    s.max.reset();
  });
  const double values[] = {2, 4, 4, 4, 5, 5, 7, 9};
  for (int i = 0; i < 8; ++i) Push(*p, i * kS, 1e9 + values[i]);
  p->Flush();
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  EXPECT_NEAR(sink_.aggregates[0].mean, 1e9 + 5, 1e-6);
  EXPECT_NEAR(sink_.aggregates[0].std, 2.0, 1e-9);
}

TEST_F(PipelineTest, WindowClosesOnASampleOfTheNextWindowAndCountsLateOnes) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
  });
  Push(*p, 1 * kS, 1.0);
  Push(*p, 9 * kS, 3.0);
  Push(*p, 25 * kS, 7.0);  // skips [10, 20): closes [0, 10), opens [20, 30)
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  EXPECT_EQ(sink_.aggregates[0].start_us, 0);
  EXPECT_EQ(sink_.aggregates[0].mean, 2.0);
  EXPECT_EQ(sink_.aggregates[0].std, 1.0);
  Push(*p, 15 * kS, 100.0);  // older than the open window
  EXPECT_EQ(p->stats().late_for_window, 1u);
  p->Flush();
  ASSERT_EQ(sink_.aggregates.size(), 2u);
  EXPECT_EQ(sink_.aggregates[1].start_us, 20 * kS);
  EXPECT_EQ(sink_.aggregates[1].count, 1u);
  EXPECT_EQ(sink_.aggregates[1].mean, 7.0);
  EXPECT_EQ(sink_.aggregates[1].std, 0.0);
}

TEST_F(PipelineTest, WindowAlignmentBeforeTheEpoch) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
  });
  Push(*p, -5 * kS, 1.0);
  p->Flush();
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  EXPECT_EQ(sink_.aggregates[0].start_us, -10 * kS);
  EXPECT_EQ(sink_.aggregates[0].end_us, 0);
}

TEST_F(PipelineTest, WindowWithNoGoodSampleReportsItsQualityOnly) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
  });
  Push(*p, 1 * kS, kNaN);
  Push(*p, 2 * kS, 999.0);
  p->Advance(10 * kS);
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  const Aggregate& a = sink_.aggregates[0];
  EXPECT_EQ(a.count, 0u);
  EXPECT_TRUE(std::isnan(a.mean) && std::isnan(a.min) && std::isnan(a.max) && std::isnan(a.std) &&
              std::isnan(a.last));
  EXPECT_EQ(a.quality, quality::kNotANumber | quality::kOutOfRange);
  EXPECT_TRUE(sink_.samples.empty()) << "route aggregate: bad samples go into the window only";
  EXPECT_EQ(sink_.events.size(), 2u) << "good -> nan -> out_of_range";
}

TEST_F(PipelineTest, BadSamplesCountInWindowQualityNotInStatistics) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
  });
  Push(*p, 1 * kS, 10.0);
  Push(*p, 2 * kS, 500.0);
  Push(*p, 3 * kS, 20.0);
  p->Flush();
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  EXPECT_EQ(sink_.aggregates[0].count, 2u);
  EXPECT_EQ(sink_.aggregates[0].mean, 15.0);
  EXPECT_EQ(sink_.aggregates[0].max, 20.0);
  EXPECT_EQ(sink_.aggregates[0].quality, quality::kOutOfRange);
}

TEST_F(PipelineTest, StatsSubsetLeavesTheOthersNaN) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kAggregate;
    s.stats = stat::kMean | stat::kMax;
  });
  Push(*p, 1 * kS, 10.0);
  Push(*p, 2 * kS, 20.0);
  p->Flush();
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  const Aggregate& a = sink_.aggregates[0];
  EXPECT_EQ(a.mean, 15.0);
  EXPECT_EQ(a.max, 20.0);
  EXPECT_TRUE(std::isnan(a.min));
  EXPECT_TRUE(std::isnan(a.std));
  EXPECT_TRUE(std::isnan(a.last));
  EXPECT_EQ(a.count, 2u) << "count is always filled";
}

TEST_F(PipelineTest, StaleDuringAnOpenWindowMarksItsQuality) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(60);
    s.route = Route::kAggregate;
    s.stale_after = std::chrono::seconds(3);
  });
  Push(*p, 1 * kS, 10.0);
  p->Advance(10 * kS);
  Push(*p, 11 * kS, 12.0);
  p->Advance(60 * kS);
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  EXPECT_EQ(sink_.aggregates[0].count, 2u);
  EXPECT_EQ(sink_.aggregates[0].quality, quality::kStale);
}

// ---- Routes. ----

TEST_F(PipelineTest, RouteRawAndAggregateSendsBoth) {
  auto p = Make([](SignalPolicy& s) {
    s.window = std::chrono::seconds(10);
    s.route = Route::kRawAndAggregate;
    s.deadband = 5;
  });
  Push(*p, 1 * kS, 10.0);
  Push(*p, 2 * kS, 11.0);  // held by the deadband, but in the window
  p->Advance(10 * kS);
  EXPECT_EQ(sink_.Values(), (std::vector<double>{10.0}));
  ASSERT_EQ(sink_.aggregates.size(), 1u);
  EXPECT_EQ(sink_.aggregates[0].count, 2u);
}

TEST_F(PipelineTest, RouteEventsSendsOnlyQualityChanges) {
  auto p = Make([](SignalPolicy& s) {
    s.route = Route::kEvents;
    s.window = std::chrono::seconds(10);  // ignored: no aggregate route
    s.max_interval = std::chrono::seconds(1);
  });
  Push(*p, 1 * kS, 10.0);
  Push(*p, 2 * kS, 500.0);
  Push(*p, 3 * kS, 10.0);
  p->Advance(20 * kS);
  EXPECT_TRUE(sink_.samples.empty());
  EXPECT_TRUE(sink_.aggregates.empty());
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].message, "good -> out_of_range: value 500 above max 200");
}

TEST_F(PipelineTest, PoliciesArePlacedByTheirSignalId) {
  std::vector<SignalPolicy> policies;
  SignalPolicy one;
  one.signal = id_;
  one.route = Route::kEvents;
  policies.push_back(one);
  SignalPolicy bogus;
  bogus.signal = 1'000'000;
  policies.push_back(bogus);
  Pipeline p(*table_, policies, sink_);
  EXPECT_EQ(p.policy(id_).route, Route::kEvents);
  SignalId other = table_->Find("l1-sp-02", "winding_temp").value();
  EXPECT_EQ(p.policy(other).route, Route::kRaw);
  EXPECT_EQ(p.policy(other).stale_after, std::chrono::seconds(3)) << "defaults fill the gaps";
}

}  // namespace
}  // namespace weft::edge
