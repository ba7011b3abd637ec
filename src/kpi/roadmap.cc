#include "kpi/roadmap.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "common/time_format.h"

namespace weft::kpi {
namespace {

Status CheckOptions(const RoadmapOptions& o) {
  auto bad = [](std::string_view name, double v, std::string_view want) {
    return InvalidArgumentError(
        fmt::format("roadmap options: {} must be {}, got {}", name, want, v));
  };
  auto share = [](double v) { return std::isfinite(v) && v >= 0 && v <= 1; };
  if (!std::isfinite(o.min_days_of_data) || o.min_days_of_data <= 0) {
    return bad("min_days_of_data", o.min_days_of_data, "> 0");
  }
  if (!share(o.min_coverage) || o.min_coverage == 0) {
    return bad("min_coverage", o.min_coverage, "within (0, 1]");
  }
  if (!share(o.high_confidence)) return bad("high_confidence", o.high_confidence, "within [0, 1]");
  if (!share(o.medium_confidence) || o.medium_confidence > o.high_confidence) {
    return bad("medium_confidence", o.medium_confidence, "within [0, high_confidence]");
  }
  if (!share(o.unmet_fit_factor))
    return bad("unmet_fit_factor", o.unmet_fit_factor, "within [0, 1]");
  if (!std::isfinite(o.scale_attainment))
    return bad("scale_attainment", o.scale_attainment, "a number");
  if (!std::isfinite(o.stop_attainment) || o.stop_attainment > o.scale_attainment) {
    return bad("stop_attainment", o.stop_attainment, "a number <= scale_attainment");
  }
  if (!std::isfinite(o.horizon_years) || o.horizon_years <= 0) {
    return bad("horizon_years", o.horizon_years, "> 0");
  }
  if (!std::isfinite(o.max_baseline_ratio) || o.max_baseline_ratio <= 1) {
    return bad("max_baseline_ratio", o.max_baseline_ratio, "a number > 1");
  }
  if (!std::isfinite(o.max_attainment) || o.max_attainment < o.scale_attainment) {
    return bad("max_attainment", o.max_attainment, "a number >= scale_attainment");
  }
  return Status::Ok();
}

Status CheckEvidence(const std::vector<UseCaseEvidence>& use_cases) {
  std::set<std::string_view> ids;
  for (size_t i = 0; i < use_cases.size(); ++i) {
    const UseCaseEvidence& e = use_cases[i];
    if (e.id.empty()) {
      return InvalidArgumentError(fmt::format("roadmap: use case #{} has an empty id", i));
    }
    if (!ids.insert(e.id).second) {
      return InvalidArgumentError("roadmap: use case '" + e.id + "' appears twice");
    }
    for (const auto& [name, v] : {std::pair{"retrofit cost", e.retrofit_cost},
                                  std::pair{"running cost", e.running_cost_per_year},
                                  std::pair{"annual value", e.annual_value}}) {
      if (!std::isfinite(v) || v < 0) {
        return InvalidArgumentError(fmt::format(
            "roadmap: use case '{}': the {} must be a number >= 0, got {}", e.id, name, v));
      }
    }
  }
  return Status::Ok();
}

std::string Money(double v) {
  return fmt::format("{:.2f}", v);
}
std::string Percent(double share) {
  return fmt::format("{:.1f}%", share * 100);
}
// A KPI value for a sentence: 1750, 39.8, 1.9, 0.924.
std::string Num(double v) {
  if (std::fabs(v) >= 100) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

std::string BasisText(const std::string& basis) {
  if (basis == kPlanBaseline) return "plant.yaml's baseline";
  if (basis == kLakeBaseline) return "the KPI measured in the lake before go-live";
  if (basis == kHvacBaselineModel) return "the energy baseline model (ASHRAE G14)";
  if (basis == "mixed") return "plant.yaml's baseline for some periods, a measured one for others";
  return "the measured baseline '" + basis + "'";
}

Confidence LevelOf(double score, const RoadmapOptions& o) {
  if (score >= o.high_confidence) return Confidence::kHigh;
  if (score >= o.medium_confidence) return Confidence::kMedium;
  return Confidence::kLow;
}

RoadmapEntry Evaluate(const UseCaseEvidence& e, const Quarter& q, const RoadmapOptions& o) {
  RoadmapEntry r{.id = e.id, .name = e.name, .category = e.category};
  r.plan_annual_value = e.annual_value;
  r.retrofit_cost = e.retrofit_cost;
  r.running_cost_per_year = e.running_cost_per_year;
  r.live = e.live_from_us && *e.live_from_us < q.end_us;

  std::vector<ProjectionPoint> considered;
  for (const auto& pt : e.series) {
    if (pt.start_us < q.end_us) considered.push_back(pt);
  }
  const ProjectionSummary s = Summarise(considered);
  r.days_of_data = s.days_of_data;
  r.coverage = s.coverage;
  r.realised_annual = s.realised_annual;
  r.projected_annual = s.projected_annual;
  r.attainment = s.attainment;
  r.basis = s.basis;
  r.kpi_measured = s.kpi_actual;
  if (e.kpi) {
    r.kpi_name = e.kpi->name;
    r.kpi_unit = e.kpi->unit;
    r.kpi_baseline = e.kpi->baseline;
    if (s.days_on_measured_baseline > 0) r.projected_improvement = ProjectedImprovement(*e.kpi);
  }
  r.measured_baseline = s.measured_baseline;
  r.measured_improvement = s.measured_improvement;

  // Credibility: implausible evidence is never judged.
  std::vector<std::string> implausible;
  if (r.live && r.realised_annual) {
    if (e.kpi && s.days_on_plan_baseline > 0 && s.kpi_actual_on_plan_baseline) {
      const double measured = *s.kpi_actual_on_plan_baseline;
      const double baseline = e.kpi->baseline;
      bool mismatch = false;
      if (baseline == 0) {
        mismatch = measured != 0;
      } else {
        const double ratio = measured / baseline;
        r.baseline_ratio = ratio;
        mismatch = !(ratio >= 1 / o.max_baseline_ratio && ratio <= o.max_baseline_ratio);
      }
      if (mismatch) {
        implausible.push_back(fmt::format(
            "baseline mismatch: measured {} {} against a plant.yaml baseline of {}{}: re-baseline "
            "the KPI from the lake before judging it",
            Num(measured), e.kpi->unit, Num(baseline),
            r.baseline_ratio ? fmt::format(" (x{:.2f})", *r.baseline_ratio) : std::string()));
      }
    }
    // On a measured baseline the projection ramps up after go-live while the measured
    // improvement is a steady-state one: early on, attainment says "ahead of the ramp", not
    // "implausible". What must stay within bounds there is the share of the promised
    // improvement that was measured.
    if (r.measured_improvement && r.projected_improvement && *r.projected_improvement != 0) {
      const double share = *r.measured_improvement / *r.projected_improvement;
      if (share > o.max_attainment) {
        implausible.push_back(fmt::format(
            "measured improvement {} is more than {:g} times the {} plant.yaml promises; check "
            "the baseline and the projection before judging it",
            Percent(*r.measured_improvement), o.max_attainment, Percent(*r.projected_improvement)));
      }
    } else if (r.attainment && *r.attainment > o.max_attainment) {
      implausible.push_back(fmt::format(
          "attainment {} > {}: the realised value is more than {:g} times the projection; check "
          "the baseline and the projection (plant.yaml) before judging it",
          Percent(*r.attainment), Percent(o.max_attainment), o.max_attainment));
    }
  }
  r.implausible = !implausible.empty();

  // Money.
  if (r.realised_annual) {
    r.net_annual_value = *r.realised_annual - e.running_cost_per_year;
    if (*r.net_annual_value > 0) r.payback_years = e.retrofit_cost / *r.net_annual_value;
    const double cost = e.retrofit_cost + e.running_cost_per_year * o.horizon_years;
    if (cost > 0) r.roi = (*r.realised_annual * o.horizon_years - cost) / cost;
  }

  // Confidence = data × coverage × fit.
  const double data_factor = std::min(1.0, s.days_of_data / o.min_days_of_data);
  const double coverage_factor = std::min(1.0, s.coverage / o.min_coverage);
  double fit_factor = 1.0;
  r.reasons.push_back(fmt::format("data: {:.1f} days of measured KPI (minimum {:g}) -> x{:.2f}",
                                  s.days_of_data, o.min_days_of_data, data_factor));
  r.reasons.push_back(fmt::format("coverage: {} of the live time (minimum {}) -> x{:.2f}",
                                  Percent(s.coverage), Percent(o.min_coverage), coverage_factor));
  if (e.baseline_fit) {
    r.cv_rmse_pct = e.baseline_fit->cv_rmse_pct;
    fit_factor = e.baseline_fit->meets_criteria ? 1.0 : o.unmet_fit_factor;
    r.reasons.push_back(fmt::format(
        "fit: energy baseline {}, {} G14's criteria -> x{:.2f}", e.baseline_fit->criteria,
        e.baseline_fit->meets_criteria ? "meets" : "misses", fit_factor));
  } else {
    r.reasons.push_back("fit: no baseline model behind this use case -> x1.00");
  }
  const double baseline_factor = r.implausible ? 0.0 : 1.0;
  if (r.implausible) {
    for (const std::string& why : implausible) r.reasons.push_back(why + " -> x0.00");
  } else if (!r.basis.empty()) {
    std::string how = "baseline: judged against " + BasisText(r.basis);
    if (r.measured_improvement && r.projected_improvement) {
      how += fmt::format(" (measured improvement {} vs {} projected by plant.yaml)",
                         Percent(*r.measured_improvement), Percent(*r.projected_improvement));
    }
    if (r.baseline_ratio && r.kpi_measured) {
      how += fmt::format(" (measured {} {} vs {}: x{:.2f})", Num(*s.kpi_actual_on_plan_baseline),
                         r.kpi_unit, Num(*r.kpi_baseline), *r.baseline_ratio);
    }
    r.reasons.push_back(how + " -> x1.00");
  }
  r.confidence_score = data_factor * coverage_factor * fit_factor * baseline_factor;
  r.confidence = LevelOf(r.confidence_score, o);
  r.reasons.push_back(fmt::format(
      "confidence: {:.2f} x {:.2f} x {:.2f} x {:.2f} = {:.2f} -> {} (high >= {:g}, medium >= "
      "{:g})",
      data_factor, coverage_factor, fit_factor, baseline_factor, r.confidence_score,
      ConfidenceName(r.confidence), o.high_confidence, o.medium_confidence));

  // Decision: the first rule that applies.
  const bool medium_or_better = r.confidence != Confidence::kLow;
  const std::string attainment_text = r.attainment ? Percent(*r.attainment) : "undefined";
  if (!r.live) {
    r.decision = Decision::kMeasure;
    r.reasons.push_back(e.live_from_us ? "measure: goes live " +
                                             FormatTimestampMicros(*e.live_from_us).substr(0, 10) +
                                             ", not before the end of " + q.label
                                       : "measure: not live (no live_from)");
  } else if (!r.realised_annual) {
    r.decision = Decision::kMeasure;
    r.reasons.push_back("measure: live, but no period since going live has a measured KPI");
  } else if (r.implausible) {
    r.decision = Decision::kMeasure;
    r.reasons.push_back(
        "measure: the evidence is not credible yet (see above); judge the use case once its KPI "
        "is compared with a baseline of the same assets and scale");
  } else if (medium_or_better &&
             (*r.realised_annual <= 0 || (r.attainment && *r.attainment < o.stop_attainment))) {
    r.decision = Decision::kStop;
    r.reasons.push_back(*r.realised_annual <= 0
                            ? fmt::format("stop: realised value {}/year <= 0 with {} confidence",
                                          Money(*r.realised_annual), ConfidenceName(r.confidence))
                            : fmt::format("stop: attainment {} < {} with {} confidence",
                                          attainment_text, Percent(o.stop_attainment),
                                          ConfidenceName(r.confidence)));
  } else if (medium_or_better && r.attainment && *r.attainment >= o.scale_attainment &&
             *r.net_annual_value > 0) {
    r.decision = Decision::kScale;
    r.reasons.push_back(fmt::format(
        "scale: attainment {} >= {}, {} confidence, net value {}/year after running cost > 0",
        attainment_text, Percent(o.scale_attainment), ConfidenceName(r.confidence),
        Money(*r.net_annual_value)));
  } else {
    r.decision = Decision::kFix;
    std::vector<std::string> why;
    if (!medium_or_better) why.push_back("low confidence");
    if (!r.attainment || *r.attainment < o.scale_attainment) {
      why.push_back(
          fmt::format("attainment {} below {}", attainment_text, Percent(o.scale_attainment)));
    }
    if (*r.net_annual_value <= 0) {
      why.push_back(fmt::format("net value {}/year after running cost {}/year is not positive",
                                Money(*r.net_annual_value), Money(e.running_cost_per_year)));
    }
    r.reasons.push_back("fix: " + fmt::format("{}", fmt::join(why, "; ")));
  }
  return r;
}

// Decision order (scale, fix, measure, stop), then net value, attainment (known before unknown,
// highest first), then id.
bool RanksBefore(const RoadmapEntry& a, const RoadmapEntry& b) {
  if (a.decision != b.decision) return a.decision < b.decision;
  auto higher = [](const std::optional<double>& x, const std::optional<double>& y) -> int {
    if (x.has_value() != y.has_value()) return x.has_value() ? -1 : 1;
    if (!x || *x == *y) return 0;
    return *x > *y ? -1 : 1;
  };
  if (int c = higher(a.net_annual_value, b.net_annual_value); c != 0) return c < 0;
  if (int c = higher(a.attainment, b.attainment); c != 0) return c < 0;
  return a.id < b.id;
}

// Multiplying by the power of ten (not dividing by a step like 0.001) keeps 0.95 at 0.95.
double Round(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}
nlohmann::ordered_json Rounded(const std::optional<double>& v, int decimals) {
  if (!v) return nullptr;
  return Round(*v, decimals);
}

}  // namespace

std::string_view ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kLow: return "low";
    case Confidence::kMedium: return "medium";
    case Confidence::kHigh: return "high";
  }
  return "unknown";
}

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kScale: return "scale";
    case Decision::kFix: return "fix";
    case Decision::kMeasure: return "measure";
    case Decision::kStop: return "stop";
  }
  return "unknown";
}

Result<Quarter> ParseQuarter(std::string_view text) {
  const std::string where = "quarter '" + std::string(text) + "'";
  if (text.size() != 6 || (text[4] != 'Q' && text[4] != 'q')) {
    return InvalidArgumentError(where + ": expected YYYYQn, e.g. 2027Q1");
  }
  int year = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return InvalidArgumentError(where + ": the year must be four digits, e.g. 2027Q1");
    }
    year = year * 10 + (text[i] - '0');
  }
  if (text[5] < '1' || text[5] > '4') {
    return InvalidArgumentError(where + ": the quarter must be 1 to 4");
  }
  if (year < 1970) return InvalidArgumentError(where + ": the year must be 1970 or later");
  const int quarter = text[5] - '0';
  using std::chrono::sys_days;
  const auto first =
      std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(3 * quarter - 2)} / 1;
  const auto next = first + std::chrono::months{3};
  Quarter q{.year = year, .quarter = quarter};
  q.start_us =
      std::chrono::duration_cast<std::chrono::microseconds>(sys_days(first).time_since_epoch())
          .count();
  q.end_us =
      std::chrono::duration_cast<std::chrono::microseconds>(sys_days(next).time_since_epoch())
          .count();
  q.label = fmt::format("{}Q{}", year, quarter);
  return q;
}

Result<Roadmap> BuildRoadmap(std::string_view quarter,
                             const std::vector<UseCaseEvidence>& use_cases,
                             const RoadmapOptions& options) {
  WEFT_ASSIGN_OR_RETURN(Quarter q, ParseQuarter(quarter));
  WEFT_RETURN_IF_ERROR(CheckOptions(options));
  WEFT_RETURN_IF_ERROR(CheckEvidence(use_cases));
  Roadmap out{.quarter = q, .options = options};
  for (const auto& e : use_cases) out.entries.push_back(Evaluate(e, q, options));
  std::sort(out.entries.begin(), out.entries.end(), RanksBefore);
  for (size_t i = 0; i < out.entries.size(); ++i) {
    RoadmapEntry& r = out.entries[i];
    r.rank = i + 1;
    r.reasons.push_back(fmt::format(
        "rank {}: ordered by decision (scale, fix, measure, stop: here {}), then net value {}, "
        "then attainment {}",
        r.rank, DecisionName(r.decision),
        r.net_annual_value ? Money(*r.net_annual_value) + "/year" : "unknown",
        r.attainment ? Percent(*r.attainment) : "unknown"));
  }
  return out;
}

nlohmann::ordered_json RoadmapToJson(const Roadmap& roadmap) {
  const RoadmapOptions& o = roadmap.options;
  nlohmann::ordered_json j;
  j["quarter"] = roadmap.quarter.label;
  j["from"] = FormatTimestampMicros(roadmap.quarter.start_us);
  j["to"] = FormatTimestampMicros(roadmap.quarter.end_us);
  j["rules"] = {
      {"min_days_of_data", o.min_days_of_data},     {"min_coverage", o.min_coverage},
      {"high_confidence", o.high_confidence},       {"medium_confidence", o.medium_confidence},
      {"unmet_fit_factor", o.unmet_fit_factor},     {"scale_attainment", o.scale_attainment},
      {"stop_attainment", o.stop_attainment},       {"horizon_years", o.horizon_years},
      {"max_baseline_ratio", o.max_baseline_ratio}, {"max_attainment", o.max_attainment}};
  j["use_cases"] = nlohmann::ordered_json::array();
  for (const auto& r : roadmap.entries) {
    nlohmann::ordered_json u;
    u["rank"] = r.rank;
    u["id"] = r.id;
    u["name"] = r.name;
    u["category"] = r.category;
    u["decision"] = std::string(DecisionName(r.decision));
    u["confidence"] = std::string(ConfidenceName(r.confidence));
    u["confidence_score"] = Round(r.confidence_score, 3);
    u["live"] = r.live;
    u["days_of_data"] = Round(r.days_of_data, 2);
    u["coverage"] = Round(r.coverage, 3);
    u["plan_annual_value"] = Round(r.plan_annual_value, 2);
    u["realised_annual_value"] = Rounded(r.realised_annual, 2);
    u["projected_annual_value"] = Rounded(r.projected_annual, 2);
    u["attainment"] = Rounded(r.attainment, 3);
    u["retrofit_cost"] = Round(r.retrofit_cost, 2);
    u["running_cost_per_year"] = Round(r.running_cost_per_year, 2);
    u["net_annual_value"] = Rounded(r.net_annual_value, 2);
    u["payback_years"] = Rounded(r.payback_years, 2);
    u["roi"] = Rounded(r.roi, 3);
    u["baseline_cv_rmse_pct"] = Rounded(r.cv_rmse_pct, 1);
    u["basis"] =
        r.basis.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.basis);
    u["kpi"] =
        r.kpi_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.kpi_name);
    u["kpi_unit"] =
        r.kpi_unit.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.kpi_unit);
    u["kpi_measured"] = Rounded(r.kpi_measured, 4);
    u["kpi_baseline"] = Rounded(r.kpi_baseline, 4);
    u["baseline_ratio"] = Rounded(r.baseline_ratio, 3);
    u["measured_baseline"] = Rounded(r.measured_baseline, 4);
    u["measured_improvement"] = Rounded(r.measured_improvement, 4);
    u["projected_improvement"] = Rounded(r.projected_improvement, 4);
    u["implausible"] = r.implausible;
    u["reasons"] = r.reasons;
    j["use_cases"].push_back(std::move(u));
  }
  return j;
}

std::string RoadmapToTable(const Roadmap& roadmap, std::string_view currency) {
  auto opt = [](const std::optional<double>& v, auto format) -> std::string {
    return v ? format(*v) : std::string("-");
  };
  auto money = [](double v) { return fmt::format("{:.0f}", v); };
  auto share = [](double v) { return fmt::format("{:.0f}%", v * 100); };
  auto years = [](double v) { return fmt::format("{:.2f}", v); };
  std::string out =
      fmt::format("Roadmap {} ({} to {}), money in {}\n\n", roadmap.quarter.label,
                  FormatTimestampMicros(roadmap.quarter.start_us).substr(0, 10),
                  FormatTimestampMicros(roadmap.quarter.end_us).substr(0, 10), currency);
  auto basis = [](const std::string& b) -> std::string {
    if (b.empty()) return "-";
    if (b == kPlanBaseline) return "plan";
    if (b == kLakeBaseline) return "lake";
    if (b == kHvacBaselineModel) return "model";
    return b;
  };
  out +=
      fmt::format("{:>4}  {:<22} {:<8} {:<12} {:>11} {:>11} {:>7} {:<6} {:>10} {:>9} {:>8} {:>6}\n",
                  "rank", "use case", "decision", "confidence", "realised/y", "projected/y",
                  "attain", "basis", "one-off", "running/y", "payback", "days");
  for (const auto& r : roadmap.entries) {
    out += fmt::format(
        "{:>4}  {:<22} {:<8} {:<12} {:>11} {:>11} {:>7} {:<6} {:>10} {:>9} {:>8} {:>6.1f}\n",
        r.rank, r.id, DecisionName(r.decision),
        fmt::format("{} {:.2f}", ConfidenceName(r.confidence), r.confidence_score),
        opt(r.realised_annual, money), opt(r.projected_annual, money), opt(r.attainment, share),
        basis(r.basis), money(r.retrofit_cost), money(r.running_cost_per_year),
        opt(r.payback_years, years), r.days_of_data);
  }
  const RoadmapOptions& o = roadmap.options;
  out += fmt::format(
      "\nRules: scale when attainment >= {} with medium+ confidence and positive net value; stop "
      "when realised value <= 0 or attainment < {} with medium+ confidence; measure when not live "
      "or without data, or when the evidence is implausible (measured KPI more than x{:g} from "
      "plant.yaml's baseline it is judged on, or attainment > {} (on a measured baseline: the "
      "measured improvement over the promised one)); fix otherwise. Confidence = "
      "data (days / {:g}) x coverage (/ {}) x fit (G14 met, else {:g}) x baseline (0 when "
      "implausible). Basis: plan = plant.yaml's baseline, lake = the KPI before go-live, model "
      "= the HVAC baseline model.\n",
      Percent(o.scale_attainment), Percent(o.stop_attainment), o.max_baseline_ratio,
      Percent(o.max_attainment), o.min_days_of_data, Percent(o.min_coverage), o.unmet_fit_factor);
  for (const auto& r : roadmap.entries) {
    out += fmt::format("\n{}. {} ({}): {}\n", r.rank, r.id, r.name, DecisionName(r.decision));
    for (const auto& reason : r.reasons) out += "   - " + reason + "\n";
  }
  return out;
}

}  // namespace weft::kpi
