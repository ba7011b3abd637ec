#include "kpi/technician.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::kpi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kS = 1000000;  // µs per second

TechnicianOptions Options() {
  TechnicianOptions o;
  o.reactive_minutes_default = 240;
  o.reactive_minutes_by_use_case["pdm"] = 300;
  o.labour_rate_per_hour = 68;
  return o;
}

// Two confirmed faults, one false alarm, one unanswered alert, and one work order for an alert
// outside the input.
TEST(TechnicianTest, TwoConfirmedOneFalseOneUnanswered) {
  std::vector<TechnicianAlert> alerts = {
      {.id = "a1", .asset = "m1", .ts_us = 1000 * kS, .kind = "anomaly", .use_case = "pdm"},
      {.id = "a2", .asset = "m1", .ts_us = 5000 * kS, .kind = "anomaly", .use_case = ""},
      {.id = "a3", .asset = "c1", .ts_us = 2000 * kS, .kind = "threshold", .use_case = "pdm-c"},
      {.id = "a4", .asset = "c1", .ts_us = 9000 * kS, .kind = "threshold", .use_case = "pdm-c"},
  };
  std::vector<TechnicianWorkOrder> orders = {
      // By id.
      {.id = "w1",
       .alert_id = "a1",
       .asset = "m1",
       .event_us = 1000 * kS,
       .outcome = "confirmed_fault",
       .minutes = 45},
      // By time: a1 (4600 s away) is within the window but already claimed, so a2 (600 s).
      {.id = "w2",
       .alert_id = "",
       .asset = "m1",
       .event_us = 5600 * kS,
       .outcome = "confirmed_fault",
       .minutes = 60},
      // By time: a3 is 100 s away, a4 6900 s: a3.
      {.id = "w3",
       .alert_id = "",
       .asset = "c1",
       .event_us = 2100 * kS,
       .outcome = "false_alarm",
       .minutes = 30},
      // Names an alert outside the input: an orphan, never re-linked by time (a4 is free).
      {.id = "w4",
       .alert_id = "a-old",
       .asset = "c1",
       .event_us = 9000 * kS,
       .outcome = "confirmed_fault",
       .minutes = 20},
  };
  auto r = TechnicianTimeSaved(alerts, orders, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // a1: confirmed, reactive 300 (use-case override) − 45 = 255
  // a2: confirmed, reactive 240 (default: no use case) − 60 = 180
  // a3: false alarm: −30
  // a4: unanswered: 0
  // total saved 255 + 180 − 30 = 405 min; spent 45 + 60 + 30 = 135; per alert 405 / 4 = 101.25;
  // value 405 / 60 × 68 = 459.
  const TechnicianTally& t = r->total;
  EXPECT_EQ(t.alerts, 4u);
  EXPECT_EQ(t.linked, 3u);
  EXPECT_EQ(t.confirmed, 2u);
  EXPECT_EQ(t.false_alarms, 1u);
  EXPECT_EQ(t.unanswered, 1u);
  EXPECT_DOUBLE_EQ(t.minutes_spent, 135);
  EXPECT_DOUBLE_EQ(t.minutes_saved, 405);
  ASSERT_TRUE(t.minutes_saved_per_alert.has_value());
  EXPECT_DOUBLE_EQ(*t.minutes_saved_per_alert, 101.25);
  EXPECT_DOUBLE_EQ(t.value, 459);

  // m1: 255 + 180 = 435, per alert 217.5, value 435 / 60 × 68 = 493.
  const TechnicianTally& m1 = r->by_asset.at("m1");
  EXPECT_EQ(m1.alerts, 2u);
  EXPECT_EQ(m1.confirmed, 2u);
  EXPECT_DOUBLE_EQ(m1.minutes_saved, 435);
  EXPECT_DOUBLE_EQ(*m1.minutes_saved_per_alert, 217.5);
  EXPECT_DOUBLE_EQ(m1.value, 493);
  // c1: −30, per alert −15.
  const TechnicianTally& c1 = r->by_asset.at("c1");
  EXPECT_EQ(c1.false_alarms, 1u);
  EXPECT_EQ(c1.unanswered, 1u);
  EXPECT_DOUBLE_EQ(c1.minutes_saved, -30);
  EXPECT_DOUBLE_EQ(*c1.minutes_saved_per_alert, -15);

  EXPECT_DOUBLE_EQ(r->by_use_case.at("pdm").minutes_saved, 255);
  EXPECT_DOUBLE_EQ(r->by_use_case.at("").minutes_saved, 180);
  EXPECT_DOUBLE_EQ(r->by_use_case.at("pdm-c").minutes_saved, -30);
  EXPECT_EQ(r->by_use_case.at("pdm-c").alerts, 2u);

  ASSERT_EQ(r->alerts.size(), 4u);
  EXPECT_THAT(r->alerts[0].work_order_ids, ElementsAre("w1"));
  EXPECT_FALSE(r->alerts[0].linked_by_time);
  EXPECT_DOUBLE_EQ(r->alerts[0].reactive_minutes, 300);
  EXPECT_THAT(r->alerts[1].work_order_ids, ElementsAre("w2"));
  EXPECT_TRUE(r->alerts[1].linked_by_time);
  EXPECT_EQ(r->alerts[2].outcome, "false_alarm");
  EXPECT_EQ(r->alerts[3].outcome, "unanswered");
  EXPECT_THAT(r->orphan_work_orders, ElementsAre("w4"));
}

TEST(TechnicianTest, SeveralWorkOrdersOnOneAlertAddUpAndAnyConfirmationCounts) {
  std::vector<TechnicianAlert> alerts = {{.id = "a1", .asset = "m1", .ts_us = 0}};
  std::vector<TechnicianWorkOrder> orders = {
      {.id = "w1", .alert_id = "a1", .asset = "m1", .outcome = "false_alarm", .minutes = 20},
      {.id = "w2", .alert_id = "a1", .asset = "m1", .outcome = "confirmed_fault", .minutes = 50},
  };
  auto r = TechnicianTimeSaved(alerts, orders, Options());
  ASSERT_TRUE(r.ok());
  // Confirmed: 240 − (20 + 50) = 170.
  EXPECT_EQ(r->total.confirmed, 1u);
  EXPECT_EQ(r->total.false_alarms, 0u);
  EXPECT_DOUBLE_EQ(r->total.minutes_spent, 70);
  EXPECT_DOUBLE_EQ(r->total.minutes_saved, 170);
}

TEST(TechnicianTest, TimeLinkRespectsWindowAssetAndTieBreak) {
  TechnicianOptions o = Options();
  o.link_window_us = 600 * kS;
  std::vector<TechnicianAlert> alerts = {
      {.id = "late", .asset = "m1", .ts_us = 2000 * kS},
      {.id = "early", .asset = "m1", .ts_us = 1000 * kS},
      {.id = "other", .asset = "m2", .ts_us = 1500 * kS},
  };
  std::vector<TechnicianWorkOrder> orders = {
      // 500 s from both m1 alerts: the earlier one wins; m2's alert (0 s) is another asset.
      {.id = "w1", .asset = "m1", .event_us = 1500 * kS, .outcome = "false_alarm", .minutes = 5},
      // 700 s after "late": outside the 600 s window.
      {.id = "w2", .asset = "m1", .event_us = 2700 * kS, .outcome = "false_alarm", .minutes = 5},
  };
  auto r = TechnicianTimeSaved(alerts, orders, o);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->alerts[1].work_order_ids, ElementsAre("w1"));
  EXPECT_TRUE(r->alerts[0].work_order_ids.empty());
  EXPECT_TRUE(r->alerts[2].work_order_ids.empty());
  EXPECT_THAT(r->orphan_work_orders, ElementsAre("w2"));
  EXPECT_EQ(r->total.unanswered, 2u);
}

TEST(TechnicianTest, NoAlertsGivesUndefinedPerAlert) {
  auto r = TechnicianTimeSaved({}, {}, Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->total.alerts, 0u);
  EXPECT_FALSE(r->total.minutes_saved_per_alert.has_value());
  EXPECT_DOUBLE_EQ(r->total.value, 0);
}

TEST(TechnicianTest, BadInputIsAnError) {
  std::vector<TechnicianAlert> alerts = {{.id = "a1", .asset = "m1"}};
  auto bad_outcome = TechnicianTimeSaved(
      alerts, {{.id = "w1", .alert_id = "a1", .asset = "m1", .outcome = "fixed", .minutes = 1}},
      Options());
  ASSERT_FALSE(bad_outcome.ok());
  EXPECT_EQ(bad_outcome.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_outcome.status().message(), HasSubstr("work order 'w1': outcome 'fixed'"));

  auto negative = TechnicianTimeSaved(
      alerts,
      {{.id = "w1", .alert_id = "a1", .asset = "m1", .outcome = "false_alarm", .minutes = -3}},
      Options());
  EXPECT_THAT(negative.status().message(), HasSubstr("minutes must be a number >= 0"));

  auto duplicate = TechnicianTimeSaved({{.id = "a1", .asset = "m1"}, {.id = "a1", .asset = "m2"}},
                                       {}, Options());
  EXPECT_THAT(duplicate.status().message(), HasSubstr("alert id 'a1' appears twice"));

  auto no_asset = TechnicianTimeSaved({{.id = "a1", .asset = ""}}, {}, Options());
  EXPECT_THAT(no_asset.status().message(), HasSubstr("alert 'a1' has an empty asset"));

  TechnicianOptions o = Options();
  o.reactive_minutes_by_use_case["x"] = -1;
  auto bad_option = TechnicianTimeSaved(alerts, {}, o);
  EXPECT_THAT(bad_option.status().message(), HasSubstr("use case 'x'"));
}

}  // namespace
}  // namespace weft::kpi
