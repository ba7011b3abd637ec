#include "model/plan.h"

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "model/plant_loader.h"

namespace weft::model {
namespace {

// Three motors on l1 (m1 complete, m2 without vibration, m3 without vibration and drive-end
// bearing temperature), one on l2 without vibration, and a fan that extends motor.
constexpr char kPlant[] = R"yaml(
weft: 1
enterprise: {name: Test}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
            labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
asset_types:
  fan: {extends: motor}
sites:
  - id: s1
    areas:
      - id: a1
        lines:
          - id: l1
            assets:
              - {id: m1, type: motor, connection: {sparkplug: {group: g, node: n, device: m1}}}
              - {id: m2, type: motor, connection: {sparkplug: {group: g, node: n, device: m2}},
                 missing: [vibration_rms]}
              - {id: m3, type: motor, connection: {sparkplug: {group: g, node: n, device: m3}},
                 missing: [vibration_rms, bearing_temp_de]}
          - id: l2
            assets:
              - {id: m4, type: motor, connection: {sparkplug: {group: g, node: n, device: m4}},
                 missing: [vibration_rms]}
              - {id: f1, type: fan, connection: {sparkplug: {group: g, node: n, device: f1}}}
use_cases:
  - id: a-partial
    name: A
    category: predictive_maintenance
    scope: {lines: [l1]}
    kpi: {name: downtime, unit: h/year, baseline: 10, target: 5}
    requires:
      - {asset_type: motor, signal: vibration_rms}
      - {asset_type: motor, signal: bearing_temp_de}
      - {asset_type: motor, signal: current}
    retrofit:
      - {asset_type: motor, signals: [vibration_rms, bearing_temp_de], sensor: combo,
         cost_per_asset: 500}
      - {asset_type: motor, signals: [vibration_rms], sensor: vib, cost_per_asset: 300}
      - {asset_type: motor, signals: [bearing_temp_de], sensor: temp, cost_per_asset: 150}
    annual_value: 10000
    assumptions: [x]
    signoff:
      ot: {by: O, on: 2026-01-01}
      it: {by: I, on: 2024-01-01}
  - id: b-ready
    name: B
    category: energy_per_unit
    kpi: {name: e, unit: kWh/unit, baseline: 2, target: 1}
    requires: [{asset_type: motor, signal: current}]
    annual_value: 40000
    assumptions: [x]
    signoff:
      ot: {by: O, on: 2026-11-25}
      it: {by: I, on: 2026-11-01}
      business: {by: B, on: 2025-11-26}
  - id: c-blocked
    name: C
    category: quality
    kpi: {name: q, unit: "%", baseline: 90, target: 95}
    requires: [{asset_type: motor, signal: bearing_temp_nde}]
    annual_value: 5000
    assumptions: [x]
)yaml";

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    Result<Plant> plant = ParsePlant(kPlant, "test.yaml", &diags);
    ASSERT_TRUE(plant.ok()) << diags.ToString();
    plant_ = *plant;
  }
  PlanReport Plan(const char* as_of = "2026-11-25") {
    return BuildPlan(plant_, {*ParseDate(as_of)});
  }
  static const UseCasePlan& Find(const PlanReport& r, const std::string& id) {
    for (const auto& p : r.ranked) {
      if (p.id == id) return p;
    }
    ADD_FAILURE() << "no use case " << id;
    return r.ranked.front();
  }
  Plant plant_;
};

TEST_F(PlanTest, CoverageCountsRequiredPointsOfAssetsInScope) {
  PlanReport r = Plan();
  const UseCasePlan& a = Find(r, "a-partial");
  EXPECT_EQ(a.assets_in_scope, 3u);  // m4 and f1 are on l2, outside the scope
  EXPECT_EQ(a.assets_complete, 1u);
  EXPECT_EQ(a.points_total, 9u);
  EXPECT_EQ(a.points_present, 6u);
  EXPECT_DOUBLE_EQ(a.coverage, 6.0 / 9.0);
  ASSERT_EQ(a.requirements.size(), 3u);
  EXPECT_EQ(a.requirements[0].signal, "vibration_rms");
  EXPECT_EQ(a.requirements[0].present, 1u);
  EXPECT_EQ(a.requirements[0].missing_on, (std::vector<std::string>{"m2", "m3"}));
  EXPECT_EQ(a.requirements[1].missing_on, (std::vector<std::string>{"m3"}));
  EXPECT_EQ(a.requirements[2].present, 3u);
}

TEST_F(PlanTest, RequirementsOnATypeApplyToTypesThatExtendIt) {
  PlanReport r = Plan();
  const UseCasePlan& b = Find(r, "b-ready");
  EXPECT_EQ(b.assets_in_scope, 5u);  // m1..m4 and the fan
  EXPECT_EQ(b.points_total, 5u);
  EXPECT_DOUBLE_EQ(b.coverage, 1.0);
}

TEST_F(PlanTest, RetrofitPicksTheCheapestCostPerCoveredSignal) {
  PlanReport r = Plan();
  const UseCasePlan& a = Find(r, "a-partial");
  // m2 needs vibration: 'vib' (300) beats 'combo' (500). m3 needs both: 'temp' at 150 per
  // signal beats 'combo' at 250 per signal, then 'vib' at 300: 450 < 500.
  ASSERT_EQ(a.retrofit.size(), 2u);
  EXPECT_EQ(a.retrofit[0].sensor, "vib");
  EXPECT_EQ(a.retrofit[0].assets, (std::vector<std::string>{"m2", "m3"}));
  EXPECT_DOUBLE_EQ(a.retrofit[0].cost, 600);
  EXPECT_EQ(a.retrofit[1].sensor, "temp");
  EXPECT_EQ(a.retrofit[1].assets, (std::vector<std::string>{"m3"}));
  EXPECT_DOUBLE_EQ(a.retrofit_cost, 750);
  EXPECT_TRUE(a.uncovered.empty());
  EXPECT_EQ(a.status, "needs_retrofit");
}

TEST_F(PlanTest, SignOffsExpireAfterTheValidityPeriod) {
  PlanReport r = Plan();
  const UseCasePlan& a = Find(r, "a-partial");
  ASSERT_EQ(a.signoffs.size(), 3u);
  EXPECT_EQ(a.signoffs[0].state, SignOffStatus::State::kSigned);   // ot, 328 days old
  EXPECT_EQ(a.signoffs[1].state, SignOffStatus::State::kExpired);  // it, 2024
  EXPECT_EQ(a.signoffs[1].on, "2024-01-01");
  EXPECT_EQ(a.signoffs[2].state, SignOffStatus::State::kMissing);  // business
  EXPECT_DOUBLE_EQ(a.alignment, 1.0 / 3.0);
  // b's business sign-off is exactly 364 days old on 2026-11-25, 366 on 2026-11-27.
  EXPECT_DOUBLE_EQ(Find(Plan("2026-11-25"), "b-ready").alignment, 1.0);
  EXPECT_DOUBLE_EQ(Find(Plan("2026-11-27"), "b-ready").alignment, 2.0 / 3.0);
  plant_.planning.signoff_valid_days = 0;  // never expire
  EXPECT_DOUBLE_EQ(Find(Plan(), "a-partial").alignment, 2.0 / 3.0);
}

TEST_F(PlanTest, ScoreFollowsTheDocumentedFormula) {
  PlanReport r = Plan();
  const UseCasePlan& a = Find(r, "a-partial");
  EXPECT_DOUBLE_EQ(a.terms.value, 0.25);
  EXPECT_DOUBLE_EQ(a.terms.payback, 1.0 / 1.075);
  // 100 x (0.4 x 0.25 + 0.25 x 0.930233 + 0.2 x 0.666667 + 0.15 x 0.333333) = 51.589
  EXPECT_NEAR(a.terms.score, 51.589, 0.001);
  EXPECT_NEAR(Find(r, "b-ready").terms.score, 100.0, 1e-9);
}

TEST_F(PlanTest, UncoveredGapsBlockAndZeroThePayback) {
  PlanReport r = Plan();
  const UseCasePlan& c = Find(r, "c-blocked");
  EXPECT_EQ(c.status, "blocked");
  ASSERT_EQ(c.uncovered.size(), 1u);
  EXPECT_EQ(c.uncovered[0].signal, "bearing_temp_nde");
  EXPECT_EQ(c.uncovered[0].assets.size(), 5u);
  EXPECT_DOUBLE_EQ(c.coverage, 0.0);
  EXPECT_DOUBLE_EQ(c.terms.payback, 0.0);
  EXPECT_NEAR(c.terms.score, 100 * 0.4 * 0.125, 1e-9);
}

TEST_F(PlanTest, RanksByScoreThenId) {
  PlanReport r = Plan();
  ASSERT_EQ(r.ranked.size(), 3u);
  EXPECT_EQ(r.ranked[0].id, "b-ready");
  EXPECT_EQ(r.ranked[1].id, "a-partial");
  EXPECT_EQ(r.ranked[2].id, "c-blocked");
  // Equal scores fall back to the id.
  plant_.use_cases[0].annual_value = 40000;
  plant_.use_cases[0] = plant_.use_cases[1];
  plant_.use_cases[0].id = "a-twin";
  PlanReport tie = Plan();
  EXPECT_EQ(tie.ranked[0].id, "a-twin");
  EXPECT_EQ(tie.ranked[1].id, "b-ready");
}

TEST_F(PlanTest, WeightsComeFromThePlant) {
  plant_.planning.weights = {1.0, 0.0, 0.0, 0.0};
  PlanReport r = Plan();
  EXPECT_NEAR(Find(r, "a-partial").terms.score, 25.0, 1e-9);
  EXPECT_NEAR(Find(r, "c-blocked").terms.score, 12.5, 1e-9);
}

TEST_F(PlanTest, JsonCarriesTheRankedReport) {
  nlohmann::ordered_json j = PlanToJson(Plan());
  EXPECT_EQ(j["plant"]["assets"], 5);
  EXPECT_EQ(j["plant"]["as_of"], "2026-11-25");
  ASSERT_EQ(j["use_cases"].size(), 3u);
  const auto& a = j["use_cases"][1];
  EXPECT_EQ(a["id"], "a-partial");
  EXPECT_EQ(a["rank"], 2);
  EXPECT_EQ(a["score"], 51.6);
  EXPECT_EQ(a["coverage"]["percent"], 66.7);
  EXPECT_EQ(a["retrofit"]["cost"], 750.0);
  EXPECT_EQ(a["signoff"]["it"]["state"], "expired");
  EXPECT_EQ(a["signoff"]["business"]["state"], "missing");
  EXPECT_FALSE(a["signoff"]["business"].contains("by"));
  EXPECT_NE(j["score"]["formula"].get<std::string>().find("0.40 x value"), std::string::npos);
}

TEST_F(PlanTest, TableShowsRanksFormulaAndGaps) {
  std::string t = PlanToTable(Plan());
  EXPECT_NE(t.find("1    b-ready"), std::string::npos) << t;
  EXPECT_NE(t.find("score = 100 x (0.40 x value"), std::string::npos);
  EXPECT_NE(t.find("BLOCKED: no retrofit option provides motor.bearing_temp_nde"),
            std::string::npos);
  EXPECT_NE(t.find("retrofit 2 x vib (vibration_rms) at 300 EUR = 600 EUR"), std::string::npos);
}

}  // namespace
}  // namespace weft::model
