#include "kpi/roadmap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::kpi {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr int64_t kDay = int64_t{86400} * 1000000;
constexpr int64_t kQ1 = int64_t{1798761600} * 1000000;  // 2027-01-01T00:00:00Z
constexpr int64_t kQ2 = int64_t{1806537600} * 1000000;  // 2027-04-01T00:00:00Z

TEST(QuarterTest, ParsesAndValidates) {
  auto q = ParseQuarter("2027Q1");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->year, 2027);
  EXPECT_EQ(q->quarter, 1);
  EXPECT_EQ(q->start_us, kQ1);
  EXPECT_EQ(q->end_us, kQ2);
  EXPECT_EQ(q->label, "2027Q1");
  // Q4 ends at the next year's start: 2028-01-01 = 1830297600 s.
  auto q4 = ParseQuarter("2027q4");
  ASSERT_TRUE(q4.ok());
  EXPECT_EQ(q4->start_us, int64_t{1822348800} * 1000000);  // 2027-10-01
  EXPECT_EQ(q4->end_us, int64_t{1830297600} * 1000000);
  EXPECT_EQ(q4->label, "2027Q4");

  for (const char* bad :
       {"2027Q5", "2027Q0", "27Q1", "2027-Q1", "20x7Q1", "2027Q1 ", "", "1969Q4"}) {
    auto r = ParseQuarter(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("quarter '" + std::string(bad) + "'"));
  }
  EXPECT_THAT(ParseQuarter("2027Q5").status().message(), HasSubstr("1 to 4"));
}

// A period of `days` from `start` with realised/projected value (live throughout).
ProjectionPoint Period(int64_t start, double days, double coverage, std::optional<double> realised,
                       double projected) {
  ProjectionPoint p;
  p.start_us = start;
  p.end_us = start + static_cast<int64_t>(days * static_cast<double>(kDay));
  p.live_days = days;
  p.coverage = coverage;
  p.value_realised = realised;
  p.value_projected = projected;
  if (realised) p.kpi_actual = 0;
  return p;
}

// One use case per decision, plus a low-confidence one and one that goes live after the quarter.
std::vector<UseCaseEvidence> Cases() {
  const int64_t live = kQ1 - 100 * kDay;
  std::vector<UseCaseEvidence> v;
  // scale: 60 days, coverage 1, realised 18,000 of 20,000 projected → attainment 0.9.
  //   realised annual 18000 × 365/60 = 109,500; net 109,500 − 6,000 = 103,500;
  //   payback 2,000 / 103,500 = 0.019324 years; ROI over 3 years
  //   (109,500 × 3 − (2,000 + 6,000 × 3)) / 20,000 = 15.425.
  //   confidence: 60/28 → 1, 1/0.8 → 1, no fit → 1: 1.0 high.
  //   The period starting at the quarter's end is ignored.
  v.push_back(
      {.id = "scale-uc",
       .name = "Scales",
       .annual_value = 120000,
       .live_from_us = live,
       .series = {Period(kQ1, 30, 1, 9000, 10000), Period(kQ1 + 30 * kDay, 30, 1, 9000, 10000),
                  Period(kQ2, 30, 1, -1e6, 10000)},
       .retrofit_cost = 2000,
       .running_cost_per_year = 6000});
  // fix: realised 5,000 of 10,000 → attainment 0.5 (>= 0.3, < 0.8) with high confidence.
  //   realised annual 5000 × 365/60 = 30,416.67; net 30,416.67 − 1,000 = 29,416.67.
  v.push_back({.id = "fix-uc",
               .name = "Half way",
               .annual_value = 60000,
               .live_from_us = live,
               .series = {Period(kQ1, 60, 1, 5000, 10000)},
               .running_cost_per_year = 1000});
  // low confidence: 14 days at coverage 0.7: 14/28 = 0.5 × 0.7/0.8 = 0.875 → 0.4375 < 0.5.
  //   Attainment 100/1000 = 0.1 would stop it, but confidence is low: fix.
  //   realised annual 100 × 365/14 = 2,607.14.
  v.push_back({.id = "low-uc",
               .name = "Too early to tell",
               .annual_value = 30000,
               .live_from_us = live,
               .series = {Period(kQ1, 14, 0.7, 100, 1000)}});
  // stop: HVAC whose baseline misses G14 (fit factor 0.5): 60 days, coverage 0.9 → 1 × 1 × 0.5 =
  //   0.5 → medium; realised −1,000 <= 0 → stop.
  BaselineFit fit;
  fit.cv_rmse_pct = 42.0;
  fit.meets_criteria = false;
  fit.criteria = "CV(RMSE) 42.0% > 30%";
  v.push_back({.id = "stop-uc",
               .name = "Costs energy",
               .annual_value = 24700,
               .live_from_us = live,
               .series = {Period(kQ1, 60, 0.9, -1000, 8000)},
               .retrofit_cost = 500,
               .baseline_fit = fit});
  // measure: not live.
  v.push_back({.id = "measure-uc", .name = "Not live", .annual_value = 50000});
  // measure: goes live at the quarter's end.
  v.push_back({.id = "later-uc",
               .name = "Next quarter",
               .annual_value = 10000,
               .live_from_us = kQ2,
               .series = {Period(kQ2, 30, 1, 100, 100)}});
  return v;
}

const RoadmapEntry& Find(const Roadmap& r, std::string_view id) {
  for (const auto& e : r.entries) {
    if (e.id == id) return e;
  }
  static const RoadmapEntry kNone;
  ADD_FAILURE() << "no entry " << id;
  return kNone;
}

TEST(RoadmapTest, OneUseCasePerDecision) {
  auto r = BuildRoadmap("2027Q1", Cases(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->entries.size(), 6u);

  const RoadmapEntry& scale = Find(*r, "scale-uc");
  EXPECT_EQ(scale.decision, Decision::kScale);
  EXPECT_EQ(scale.confidence, Confidence::kHigh);
  EXPECT_DOUBLE_EQ(scale.confidence_score, 1.0);
  EXPECT_DOUBLE_EQ(scale.days_of_data, 60);
  EXPECT_NEAR(*scale.attainment, 0.9, 1e-12);
  EXPECT_NEAR(*scale.realised_annual, 109500, 1e-6);
  EXPECT_NEAR(*scale.projected_annual, 121666.667, 1e-3);  // 20000 × 365/60
  EXPECT_NEAR(*scale.net_annual_value, 103500, 1e-6);
  EXPECT_NEAR(*scale.payback_years, 0.0193237, 1e-7);
  EXPECT_NEAR(*scale.roi, 15.425, 1e-9);

  const RoadmapEntry& fix = Find(*r, "fix-uc");
  EXPECT_EQ(fix.decision, Decision::kFix);
  EXPECT_NEAR(*fix.attainment, 0.5, 1e-12);
  EXPECT_NEAR(*fix.net_annual_value, 29416.6667, 1e-3);
  // ROI: (30,416.67 × 3 − 1,000 × 3) / 3,000 = 29.41667.
  EXPECT_NEAR(*fix.roi, 29.416667, 1e-5);
  EXPECT_THAT(fix.reasons, Contains(HasSubstr("fix: attainment 50.0% below 80.0%")));

  const RoadmapEntry& low = Find(*r, "low-uc");
  EXPECT_EQ(low.decision, Decision::kFix);
  EXPECT_EQ(low.confidence, Confidence::kLow);
  EXPECT_NEAR(low.confidence_score, 0.4375, 1e-12);
  EXPECT_THAT(low.reasons, Contains(HasSubstr("low confidence")));
  EXPECT_FALSE(low.roi.has_value());  // no cost at all
  EXPECT_DOUBLE_EQ(*low.payback_years, 0);

  const RoadmapEntry& stop = Find(*r, "stop-uc");
  EXPECT_EQ(stop.decision, Decision::kStop);
  EXPECT_EQ(stop.confidence, Confidence::kMedium);
  EXPECT_NEAR(stop.confidence_score, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(*stop.cv_rmse_pct, 42.0);
  EXPECT_FALSE(stop.payback_years.has_value());
  EXPECT_THAT(stop.reasons, Contains(HasSubstr("misses G14's criteria -> x0.50")));
  EXPECT_THAT(stop.reasons, Contains(HasSubstr("stop: realised value")));

  const RoadmapEntry& measure = Find(*r, "measure-uc");
  EXPECT_EQ(measure.decision, Decision::kMeasure);
  EXPECT_FALSE(measure.live);
  EXPECT_FALSE(measure.realised_annual.has_value());
  const RoadmapEntry& later = Find(*r, "later-uc");
  EXPECT_EQ(later.decision, Decision::kMeasure);
  EXPECT_THAT(later.reasons, Contains(HasSubstr("goes live 2027-04-01")));

  // Ranking: scale; fix by net value (29,416.67 before 2,607.14); measure by id; stop.
  std::vector<std::string> order;
  for (const auto& e : r->entries) order.push_back(e.id);
  EXPECT_THAT(order, ::testing::ElementsAre("scale-uc", "fix-uc", "low-uc", "later-uc",
                                            "measure-uc", "stop-uc"));
  EXPECT_EQ(r->entries[0].rank, 1u);
  EXPECT_EQ(r->entries[5].rank, 6u);
  EXPECT_THAT(r->entries[1].reasons.back(),
              HasSubstr("rank 2: ordered by decision (scale, fix, measure, stop: here fix)"));
}

TEST(RoadmapTest, LowAttainmentStopsWithMediumConfidence) {
  // Attainment 2,000 / 10,000 = 0.2 < 0.3 with high confidence: stop even though value > 0.
  UseCaseEvidence e{.id = "weak",
                    .annual_value = 60000,
                    .live_from_us = kQ1,
                    .series = {Period(kQ1, 60, 1, 2000, 10000)}};
  auto r = BuildRoadmap("2027Q1", {e}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries[0].decision, Decision::kStop);
  EXPECT_THAT(r->entries[0].reasons, Contains(HasSubstr("stop: attainment 20.0% < 30.0%")));

  // The same with a lower stop threshold (an option): fix.
  RoadmapOptions o;
  o.stop_attainment = 0.1;
  auto r2 = BuildRoadmap("2027Q1", {e}, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->entries[0].decision, Decision::kFix);
}

TEST(RoadmapTest, RunningCostAboveValueIsFixNotScale) {
  // Attainment 1 but realised annual 1,000 × 365/73 = 5,000 < running cost 8,000.
  UseCaseEvidence e{.id = "dear",
                    .annual_value = 5000,
                    .live_from_us = kQ1,
                    .series = {Period(kQ1, 73, 1, 1000, 1000)},
                    .running_cost_per_year = 8000};
  auto r = BuildRoadmap("2027Q1", {e}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries[0].decision, Decision::kFix);
  EXPECT_NEAR(*r->entries[0].net_annual_value, -3000, 1e-9);
  EXPECT_THAT(r->entries[0].reasons, Contains(HasSubstr("is not positive")));
}

// Energy per unit, plant.yaml 1.9 → 1.55 kWh/unit: 60 days judged on plant.yaml's baseline with
// attainment 9,000 / 10,000 = 0.9 and high confidence would scale, but the measured 0.92
// kWh/unit is 0.92 / 1.9 = x0.48 of the baseline (outside [1/2, 2]): the lake and plant.yaml do
// not describe the same thing, so measure, confidence 1 × 1 × 1 × 0 = 0 (low).
UseCaseEvidence EnergyPerUnit(double measured) {
  ProjectionPoint p = Period(kQ1, 60, 1, 9000, 10000);
  p.kpi_actual = measured;
  p.basis = std::string(kPlanBaseline);
  return {.id = "epu",
          .annual_value = 31500,
          .live_from_us = kQ1,
          .series = {p},
          .kpi = model::Kpi{
              .name = "energy_per_unit", .unit = "kWh/unit", .baseline = 1.9, .target = 1.55}};
}

TEST(RoadmapTest, BaselineMismatchIsMeasureNotScale) {
  auto r = BuildRoadmap("2027Q1", {EnergyPerUnit(0.92)}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RoadmapEntry& e = r->entries[0];
  EXPECT_EQ(e.decision, Decision::kMeasure);
  EXPECT_EQ(e.confidence, Confidence::kLow);
  EXPECT_DOUBLE_EQ(e.confidence_score, 0);
  EXPECT_TRUE(e.implausible);
  EXPECT_NEAR(*e.baseline_ratio, 0.92 / 1.9, 1e-12);
  EXPECT_EQ(e.basis, kPlanBaseline);
  EXPECT_NEAR(*e.attainment, 0.9, 1e-12);  // reported, not acted on
  EXPECT_THAT(e.reasons,
              Contains(HasSubstr("baseline mismatch: measured 0.92 kWh/unit against a plant.yaml "
                                 "baseline of 1.9 (x0.48): re-baseline the KPI from the lake "
                                 "before judging it")));
  EXPECT_THAT(e.reasons, Contains(HasSubstr("measure: the evidence is not credible yet")));

  // 1.7 kWh/unit (x0.89) is plausible: judged, and scaled (attainment 0.9, high confidence).
  auto ok = BuildRoadmap("2027Q1", {EnergyPerUnit(1.7)}, {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->entries[0].decision, Decision::kScale);
  EXPECT_FALSE(ok->entries[0].implausible);
  EXPECT_THAT(ok->entries[0].reasons,
              Contains(HasSubstr("judged against plant.yaml's baseline (measured 1.7 kWh/unit vs "
                                 "1.9: x0.89) -> x1.00")));
  // The ratio is an option: within x2.5, 0.92 passes.
  RoadmapOptions wide;
  wide.max_baseline_ratio = 2.5;
  auto w = BuildRoadmap("2027Q1", {EnergyPerUnit(0.92)}, wide);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->entries[0].decision, Decision::kScale);
}

// HVAC judged on its baseline model: 40 MWh/year measured against plant.yaml's 820 is no
// mismatch (the model, not plant.yaml, is the baseline). Model predictions 43 against 40
// actual: measured improvement 1 − 40/43 = 0.069767; plant.yaml's (820 − 690) / 820 = 0.158537.
// Realised 5,000 of 6,000 projected over 60 days: attainment 0.8333 → scale.
// With realised 13,000 instead, attainment 2.1667 > 2: implausible whatever the basis → measure.
TEST(RoadmapTest, MeasuredBaselineIsCheckedOnTheShareOfThePromisedImprovement) {
  auto hvac = [](double realised, double actual = 40) {
    ProjectionPoint p = Period(kQ1, 60, 1, realised, 6000);
    p.kpi_actual = actual;
    p.measured_baseline = 43;
    p.basis = std::string(kHvacBaselineModel);
    return UseCaseEvidence{
        .id = "hvac",
        .annual_value = 24700,
        .live_from_us = kQ1,
        .series = {p},
        .kpi = model::Kpi{
            .name = "heating_energy", .unit = "MWh/year", .baseline = 820, .target = 690}};
  };
  auto r = BuildRoadmap("2027Q1", {hvac(5000)}, {});
  ASSERT_TRUE(r.ok());
  const RoadmapEntry& e = r->entries[0];
  EXPECT_EQ(e.decision, Decision::kScale);
  EXPECT_EQ(e.basis, kHvacBaselineModel);
  EXPECT_FALSE(e.baseline_ratio.has_value());
  EXPECT_NEAR(*e.measured_improvement, 1 - 40.0 / 43, 1e-12);
  EXPECT_NEAR(*e.projected_improvement, 130.0 / 820, 1e-12);
  EXPECT_THAT(e.reasons, Contains(HasSubstr("judged against the energy baseline model (ASHRAE "
                                            "G14) (measured improvement 7.0% vs 15.9%")));
  nlohmann::ordered_json j = RoadmapToJson(*r);
  EXPECT_EQ(j["use_cases"][0]["basis"], "hvac_baseline_model");
  EXPECT_DOUBLE_EQ(j["use_cases"][0]["measured_improvement"].get<double>(), 0.0698);

  // Ahead of the ramped projection (attainment 13,000/6,000 = 216.7% > 200%) but the measured
  // improvement, 7.0%, is 0.44 of the 15.9% promised: plausible, scaled.
  auto ahead = BuildRoadmap("2027Q1", {hvac(13000)}, {});
  ASSERT_TRUE(ahead.ok());
  EXPECT_FALSE(ahead->entries[0].implausible);
  EXPECT_EQ(ahead->entries[0].decision, Decision::kScale);

  // 20 against a measured 43: improvement 1 − 20/43 = 53.5%, 3.37 times the 15.9% promised
  // (> 2): implausible, measured again.
  auto high = BuildRoadmap("2027Q1", {hvac(13000, 20)}, {});
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(high->entries[0].decision, Decision::kMeasure);
  EXPECT_EQ(high->entries[0].confidence, Confidence::kLow);
  EXPECT_THAT(high->entries[0].reasons,
              Contains(HasSubstr("measured improvement 53.5% is more than 2 times the 15.9%")));
}

TEST(RoadmapTest, BadInputIsAnError) {
  EXPECT_THAT(BuildRoadmap("2027Q9", {}, {}).status().message(), HasSubstr("quarter '2027Q9'"));
  EXPECT_THAT(BuildRoadmap("2027Q1", {{.id = "a"}, {.id = "a"}}, {}).status().message(),
              HasSubstr("use case 'a' appears twice"));
  EXPECT_THAT(BuildRoadmap("2027Q1", {{.id = ""}}, {}).status().message(), HasSubstr("empty id"));
  EXPECT_THAT(BuildRoadmap("2027Q1", {{.id = "a", .retrofit_cost = -1}}, {}).status().message(),
              HasSubstr("retrofit cost must be a number >= 0"));
  RoadmapOptions o;
  o.medium_confidence = 0.9;  // above high (0.8)
  EXPECT_THAT(BuildRoadmap("2027Q1", {}, o).status().message(), HasSubstr("medium_confidence"));
  RoadmapOptions ratio;
  ratio.max_baseline_ratio = 1;
  EXPECT_THAT(BuildRoadmap("2027Q1", {}, ratio).status().message(),
              HasSubstr("max_baseline_ratio"));
  RoadmapOptions attain;
  attain.max_attainment = 0.5;  // below scale_attainment (0.8)
  EXPECT_THAT(BuildRoadmap("2027Q1", {}, attain).status().message(), HasSubstr("max_attainment"));
}

TEST(RoadmapTest, JsonAndTable) {
  auto r = BuildRoadmap("2027Q1", Cases(), {});
  ASSERT_TRUE(r.ok());
  nlohmann::ordered_json j = RoadmapToJson(*r);
  EXPECT_EQ(j["quarter"], "2027Q1");
  EXPECT_EQ(j["from"], "2027-01-01T00:00:00.000000Z");
  ASSERT_EQ(j["use_cases"].size(), 6u);
  EXPECT_EQ(j["use_cases"][0]["id"], "scale-uc");
  EXPECT_EQ(j["use_cases"][0]["decision"], "scale");
  EXPECT_EQ(j["use_cases"][0]["confidence"], "high");
  EXPECT_DOUBLE_EQ(j["use_cases"][0]["realised_annual_value"].get<double>(), 109500);
  EXPECT_DOUBLE_EQ(j["use_cases"][0]["payback_years"].get<double>(), 0.02);
  EXPECT_TRUE(j["use_cases"][0]["baseline_cv_rmse_pct"].is_null());
  EXPECT_TRUE(j["use_cases"][4]["attainment"].is_null());  // measure-uc
  EXPECT_FALSE(j["use_cases"][0]["reasons"].empty());

  const std::string table = RoadmapToTable(*r, "EUR");
  EXPECT_THAT(table, AllOf(HasSubstr("Roadmap 2027Q1 (2027-01-01 to 2027-04-01), money in EUR"),
                           HasSubstr("scale-uc"), HasSubstr("stop-uc"), HasSubstr("Rules:")));
}

}  // namespace
}  // namespace weft::kpi
