// The compliance SLA on a hand-worked example (the numbers are worked out in the comments).
#include "core/ota/compliance.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace weft::core::ota {
namespace {

using std::chrono::hours;

constexpr Micros kDay = hours(24);

TimePoint T() {
  return TimeFromUnixMicros(*ParseTimestampMicros("2026-01-01T00:00:00Z"));
}

// 20 devices of gw-200; release 1.4.0 certified at T (1.3.0 certified earlier).
//   d00, d01   on 1.4.0 since T-2d (canaries)      -> time to compliance 0
//   d02..d17   moved to 1.4.0 at T+1d .. T+16d      -> 1 .. 16 days
//   d18        still on 1.3.0 (certified but lower) -> not compliant
//   d19        firmware unknown                     -> not compliant
std::vector<ComplianceDevice> Fleet(int updated_up_to_day) {
  std::vector<ComplianceDevice> out;
  auto id = [](int i) { return std::string(i < 10 ? "d0" : "d") + std::to_string(i); };
  for (int i = 0; i < 2; ++i) out.push_back({id(i), "lyon", "1.4.0", T() - 2 * kDay, T()});
  for (int i = 2; i <= 17; ++i) {
    const int day = i - 1;
    if (day <= updated_up_to_day) {
      out.push_back({id(i), "lyon", "1.4.0", T() + day * kDay, T()});
    } else {
      out.push_back({id(i), "lyon", "1.3.0", T() - 100 * kDay, T()});
    }
  }
  out.push_back({id(18), "paris", "1.3.0", T() - 100 * kDay, T()});
  out.push_back({id(19), "paris", "", std::nullopt, std::nullopt});
  return out;
}

ComplianceQuery Query(double target, TimePoint now) {
  ComplianceQuery q;
  q.hardware_model = "gw-200";
  q.release_version = "1.4.0";
  q.released_at = T();
  q.target = target;
  q.window = 14 * kDay;
  q.now = now;
  q.certified_versions = {"1.3.0", "1.4.0"};
  return q;
}

TEST(ComplianceTest, NinetyFivePercentInFourteenDaysIsBreachedWithTwoOverdueDevices) {
  ComplianceReport r = ComputeCompliance(Query(0.95, T() + 20 * kDay), Fleet(16));
  EXPECT_EQ(r.deadline, T() + 14 * kDay);
  EXPECT_EQ(r.devices, 20);
  EXPECT_EQ(r.compliant, 18);  // d00..d17
  EXPECT_DOUBLE_EQ(r.compliant_fraction, 0.9);
  // 95% of 20 = 19 devices; only 18 are compliant: never reached, and the deadline has passed.
  EXPECT_FALSE(r.target_reached_at.has_value());
  EXPECT_EQ(r.status, "breached");
  ASSERT_EQ(r.overdue.size(), 2u);
  EXPECT_EQ(r.overdue[0].id, "d18");
  EXPECT_EQ(r.overdue[0].firmware, "1.3.0");
  EXPECT_EQ(r.overdue[1].id, "d19");
  // Times to compliance, sorted: 0, 0, 1, 2, ..., 16 days (18 values).
  // p50: rank ceil(0.5 x 18) = 9 -> 7 days; p95: rank ceil(0.95 x 18) = 18 -> 16 days.
  EXPECT_EQ(r.p50_time_to_compliance, 7 * kDay);
  EXPECT_EQ(r.p95_time_to_compliance, 16 * kDay);
  ASSERT_EQ(r.time_to_compliance.size(), 18u);
  EXPECT_EQ(r.time_to_compliance[0], (std::pair<std::string, Micros>{"d00", Micros(0)}));
  EXPECT_EQ(r.time_to_compliance[5], (std::pair<std::string, Micros>{"d05", 4 * kDay}));
}

TEST(ComplianceTest, TheTargetReachedAfterTheDeadlineIsStillBreached) {
  // 85% of 20 = 17 devices: the 17th compliance time is d16's, T+15d > deadline T+14d.
  ComplianceReport r = ComputeCompliance(Query(0.85, T() + 20 * kDay), Fleet(16));
  ASSERT_TRUE(r.target_reached_at.has_value());
  EXPECT_EQ(*r.target_reached_at, T() + 15 * kDay);
  EXPECT_EQ(r.status, "breached");
}

TEST(ComplianceTest, TheTargetReachedOnTheDeadlineIsMet) {
  // 80% of 20 = 16 devices: the 16th is d15 at T+14d, exactly the deadline.
  ComplianceReport r = ComputeCompliance(Query(0.80, T() + 20 * kDay), Fleet(16));
  ASSERT_TRUE(r.target_reached_at.has_value());
  EXPECT_EQ(*r.target_reached_at, T() + 14 * kDay);
  EXPECT_EQ(r.status, "met");
  EXPECT_EQ(r.overdue.size(), 2u);  // met, but d18 and d19 are still late
  nlohmann::json j = ComplianceJson(r);
  EXPECT_EQ(j["status"], "met");
  EXPECT_EQ(j["deadline"], "2026-01-15T00:00:00.000000Z");
  EXPECT_DOUBLE_EQ(j["time_to_target_s"].get<double>(), 14 * 86400.0);
  EXPECT_DOUBLE_EQ(j["compliant_percent"].get<double>(), 90.0);
}

TEST(ComplianceTest, BeforeTheDeadlineWithoutTheTargetItIsAtRiskAndNothingIsOverdue) {
  // At T+10d: d00, d01 and d02..d11 (12 of 20) are compliant; 16 are needed.
  ComplianceReport r = ComputeCompliance(Query(0.80, T() + 10 * kDay), Fleet(10));
  EXPECT_EQ(r.compliant, 12);
  EXPECT_FALSE(r.target_reached_at.has_value());
  EXPECT_EQ(r.status, "at_risk");
  EXPECT_TRUE(r.overdue.empty());
}

TEST(ComplianceTest, AnUncertifiedNewerVersionIsNotCompliant) {
  std::vector<ComplianceDevice> fleet = {{"a", "lyon", "1.5.0", T() + kDay, T()},
                                         {"b", "lyon", "1.10.0", T() + kDay, T()}};
  ComplianceQuery q = Query(0.5, T() + 20 * kDay);
  q.certified_versions.insert("1.10.0");  // 1.10.0 > 1.4.0 numerically; 1.5.0 is a candidate
  ComplianceReport r = ComputeCompliance(q, fleet);
  EXPECT_EQ(r.compliant, 1);
  ASSERT_EQ(r.overdue.size(), 1u);
  EXPECT_EQ(r.overdue[0].id, "a");
  EXPECT_EQ(r.status, "met");  // 50% of 2 = 1 device, compliant since T+1d
}

}  // namespace
}  // namespace weft::core::ota
