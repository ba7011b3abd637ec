#include "model/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::model {
namespace {

std::string StatusOf(const UseCasePlan& p) {
  if (!p.uncovered.empty()) return "blocked";
  if (p.points_present < p.points_total) return "needs_retrofit";
  if (p.alignment < 1.0) return "needs_signoff";
  return "ready";
}

double Round(double x, int decimals) {
  double f = std::pow(10.0, decimals);
  double r = std::round(x * f) / f;
  return r == 0 ? 0.0 : r;  // no "-0"
}

UseCasePlan PlanUseCase(const Plant& plant, const UseCase& uc, const PlanOptions& options) {
  UseCasePlan p;
  p.id = uc.id;
  p.name = uc.name;
  p.category = uc.category == UseCaseCategory::kUserDefined && !uc.category_label.empty()
                   ? uc.category_label
                   : std::string(UseCaseCategoryName(uc.category));
  p.kpi = uc.kpi;
  p.annual_value = uc.annual_value;
  for (const auto& r : uc.requires_signals) {
    p.requirements.push_back({r.asset_type, r.signal, 0, 0, {}});
  }

  // Retrofit lines are keyed by option index so that each option is one line of the bill.
  std::map<size_t, RetrofitLine> bill;
  std::map<std::pair<std::string, std::string>, UncoveredGap> uncovered;
  for (const Asset* asset : plant.AllAssets()) {
    if (!uc.scope.Contains(*asset)) continue;
    std::set<std::string> missing;
    bool relevant = false;
    for (size_t i = 0; i < uc.requires_signals.size(); ++i) {
      const SignalRequirement& r = uc.requires_signals[i];
      if (!plant.IsA(asset->type, r.asset_type)) continue;
      relevant = true;
      RequirementCoverage& rc = p.requirements[i];
      ++rc.total;
      if (asset->HasSignal(r.signal)) {
        ++rc.present;
      } else {
        rc.missing_on.push_back(asset->id);
        missing.insert(r.signal);
      }
    }
    if (!relevant) continue;
    ++p.assets_in_scope;
    if (missing.empty()) {
      ++p.assets_complete;
      continue;
    }
    // Greedy cover: cheapest cost per newly covered missing signal first; ties keep file order.
    while (!missing.empty()) {
      size_t best = uc.retrofits.size();
      double best_unit_cost = 0;
      for (size_t o = 0; o < uc.retrofits.size(); ++o) {
        const RetrofitOption& opt = uc.retrofits[o];
        if (!plant.IsA(asset->type, opt.asset_type)) continue;
        size_t gain = 0;
        for (const auto& s : opt.signals) gain += missing.count(s);
        if (gain == 0) continue;
        double unit_cost = opt.cost_per_asset / static_cast<double>(gain);
        if (best == uc.retrofits.size() || unit_cost < best_unit_cost) {
          best = o;
          best_unit_cost = unit_cost;
        }
      }
      if (best == uc.retrofits.size()) break;
      const RetrofitOption& opt = uc.retrofits[best];
      for (const auto& s : opt.signals) missing.erase(s);
      RetrofitLine& line = bill[best];
      line.asset_type = opt.asset_type;
      line.sensor = opt.sensor;
      line.signals = opt.signals;
      line.cost_per_asset = opt.cost_per_asset;
      line.assets.push_back(asset->id);
      line.cost += opt.cost_per_asset;
    }
    for (const auto& s : missing) {
      std::string required_type;
      for (const auto& r : uc.requires_signals) {
        if (r.signal == s && plant.IsA(asset->type, r.asset_type)) required_type = r.asset_type;
      }
      UncoveredGap& gap = uncovered[{required_type, s}];
      gap.asset_type = required_type;
      gap.signal = s;
      gap.assets.push_back(asset->id);
    }
  }
  for (const auto& rc : p.requirements) {
    p.points_present += rc.present;
    p.points_total += rc.total;
  }
  p.coverage = p.points_total == 0
                   ? 0.0
                   : static_cast<double>(p.points_present) / static_cast<double>(p.points_total);
  for (auto& [idx, line] : bill) {
    p.retrofit_cost += line.cost;
    p.retrofit.push_back(std::move(line));
  }
  for (auto& [key, gap] : uncovered) p.uncovered.push_back(std::move(gap));

  size_t valid = 0;
  for (Stakeholder who : kStakeholders) {
    SignOffStatus st;
    st.who = who;
    auto it = uc.signoffs.find(who);
    if (it != uc.signoffs.end()) {
      st.by = it->second.by;
      st.on = FormatDate(it->second.on);
      int age = static_cast<int>((options.as_of - it->second.on).count());
      int limit = plant.planning.signoff_valid_days;
      st.state = (limit > 0 && age > limit) ? SignOffStatus::State::kExpired
                                            : SignOffStatus::State::kSigned;
      if (st.state == SignOffStatus::State::kSigned) ++valid;
    }
    p.signoffs.push_back(st);
  }
  p.alignment = static_cast<double>(valid) / 3.0;
  return p;
}

std::string Money(double amount, const std::string& currency) {
  long long whole = std::llround(amount);
  std::string digits = std::to_string(std::llabs(whole));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (whole < 0 ? "-" : "") + out + " " + currency;
}

std::string_view SignOffStateName(SignOffStatus::State s) {
  switch (s) {
    case SignOffStatus::State::kSigned: return "signed";
    case SignOffStatus::State::kMissing: return "missing";
    case SignOffStatus::State::kExpired: return "expired";
  }
  return "?";
}

std::string FormulaText(const ScoreWeights& w) {
  return fmt::format(
      "score = 100 x ({:.2f} x value + {:.2f} x payback + {:.2f} x coverage + {:.2f} x "
      "alignment); value = annual value / largest annual value; payback = 1 / (1 + retrofit "
      "cost / annual value), 0 if blocked; coverage = required signal points fitted / required; "
      "alignment = valid sign-offs (OT, IT, business) / 3",
      w.value, w.payback, w.coverage, w.alignment);
}

}  // namespace

PlanReport BuildPlan(const Plant& plant, const PlanOptions& options) {
  PlanReport report;
  report.file = plant.file;
  report.enterprise = plant.enterprise;
  report.currency = plant.economics.currency;
  report.as_of = FormatDate(options.as_of);
  report.weights = plant.planning.weights;
  report.sites = plant.sites.size();
  report.areas = plant.AreaCount();
  report.lines = plant.LineCount();
  std::set<std::string> types_used;
  for (const Asset* a : plant.AllAssets()) {
    ++report.assets;
    report.signals += a->signals.size();
    types_used.insert(a->type);
  }
  report.asset_types_used = types_used.size();

  double max_value = 0;
  for (const auto& uc : plant.use_cases) max_value = std::max(max_value, uc.annual_value);
  const ScoreWeights& w = plant.planning.weights;
  for (const auto& uc : plant.use_cases) {
    UseCasePlan p = PlanUseCase(plant, uc, options);
    ScoreTerms& t = p.terms;
    t.value = max_value > 0 ? p.annual_value / max_value : 0.0;
    t.payback = (!p.uncovered.empty() || p.annual_value <= 0)
                    ? 0.0
                    : 1.0 / (1.0 + p.retrofit_cost / p.annual_value);
    t.coverage = p.coverage;
    t.alignment = p.alignment;
    t.score = 100.0 * (w.value * t.value + w.payback * t.payback + w.coverage * t.coverage +
                       w.alignment * t.alignment);
    p.status = StatusOf(p);
    report.ranked.push_back(std::move(p));
  }
  std::stable_sort(report.ranked.begin(), report.ranked.end(),
                   [](const UseCasePlan& a, const UseCasePlan& b) {
                     double sa = Round(a.terms.score, 1), sb = Round(b.terms.score, 1);
                     if (sa != sb) return sa > sb;
                     return a.id < b.id;
                   });
  return report;
}

nlohmann::ordered_json PlanToJson(const PlanReport& r) {
  using json = nlohmann::ordered_json;
  json out;
  out["plant"] = {{"file", r.file},       {"enterprise", r.enterprise},
                  {"as_of", r.as_of},     {"currency", r.currency},
                  {"sites", r.sites},     {"areas", r.areas},
                  {"lines", r.lines},     {"assets", r.assets},
                  {"signals", r.signals}, {"asset_types", r.asset_types_used}};
  out["score"] = {{"formula", FormulaText(r.weights)},
                  {"weights",
                   {{"value", r.weights.value},
                    {"payback", r.weights.payback},
                    {"coverage", r.weights.coverage},
                    {"alignment", r.weights.alignment}}}};
  json list = json::array();
  int rank = 0;
  for (const auto& p : r.ranked) {
    json u;
    u["rank"] = ++rank;
    u["id"] = p.id;
    u["name"] = p.name;
    u["category"] = p.category;
    u["status"] = p.status;
    u["score"] = Round(p.terms.score, 1);
    u["terms"] = {{"value", Round(p.terms.value, 3)},
                  {"payback", Round(p.terms.payback, 3)},
                  {"coverage", Round(p.terms.coverage, 3)},
                  {"alignment", Round(p.terms.alignment, 3)}};
    u["annual_value"] = Round(p.annual_value, 2);
    u["kpi"] = {{"name", p.kpi.name},
                {"unit", p.kpi.unit},
                {"baseline", p.kpi.baseline},
                {"target", p.kpi.target}};
    json reqs = json::array();
    for (const auto& rc : p.requirements) {
      reqs.push_back({{"asset_type", rc.asset_type},
                      {"signal", rc.signal},
                      {"present", rc.present},
                      {"total", rc.total},
                      {"missing_on", rc.missing_on}});
    }
    u["coverage"] = {
        {"percent", Round(100.0 * p.coverage, 1)}, {"points_present", p.points_present},
        {"points_total", p.points_total},          {"assets_in_scope", p.assets_in_scope},
        {"assets_complete", p.assets_complete},    {"requirements", reqs}};
    json lines = json::array();
    for (const auto& l : p.retrofit) {
      lines.push_back({{"asset_type", l.asset_type},
                       {"sensor", l.sensor},
                       {"signals", l.signals},
                       {"assets", l.assets},
                       {"cost_per_asset", Round(l.cost_per_asset, 2)},
                       {"cost", Round(l.cost, 2)}});
    }
    json gaps = json::array();
    for (const auto& g : p.uncovered) {
      gaps.push_back({{"asset_type", g.asset_type}, {"signal", g.signal}, {"assets", g.assets}});
    }
    u["retrofit"] = {{"cost", Round(p.retrofit_cost, 2)}, {"lines", lines}, {"uncovered", gaps}};
    json so;
    for (const auto& s : p.signoffs) {
      json e = {{"state", SignOffStateName(s.state)}};
      if (!s.by.empty()) {
        e["by"] = s.by;
        e["on"] = s.on;
      }
      so[std::string(StakeholderName(s.who))] = e;
    }
    u["signoff"] = so;
    list.push_back(u);
  }
  out["use_cases"] = list;
  return out;
}

std::string PlanToTable(const PlanReport& r) {
  std::string out;
  out += fmt::format("Use-case plan for {} ({}), as of {}\n", r.enterprise, r.file, r.as_of);
  auto count = [](size_t n, std::string_view noun) {
    return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
  };
  out += fmt::format("{}, {}, {}, {} of {}, {}\n\n", count(r.sites, "site"), count(r.areas, "area"),
                     count(r.lines, "line"), count(r.assets, "asset"),
                     count(r.asset_types_used, "type"), count(r.signals, "signal"));
  out +=
      fmt::format("{:<4} {:<24} {:<23} {:>5} {:>13} {:>12} {:>8} {:>8}  {}\n", "rank", "use case",
                  "category", "score", "value/yr", "retrofit", "coverage", "sign-off", "status");
  int rank = 0;
  for (const auto& p : r.ranked) {
    int signed_count = static_cast<int>(std::lround(p.alignment * 3));
    out += fmt::format("{:<4} {:<24} {:<23} {:>5.1f} {:>13} {:>12} {:>7.1f}% {:>6}/3  {}\n", ++rank,
                       p.id, p.category, Round(p.terms.score, 1), Money(p.annual_value, r.currency),
                       Money(p.retrofit_cost, r.currency), Round(100.0 * p.coverage, 1),
                       signed_count, p.status);
  }
  out += "\n" + FormulaText(r.weights) + "\n";
  rank = 0;
  for (const auto& p : r.ranked) {
    out += fmt::format("\n{}. {} — {} [{}]\n", ++rank, p.id, p.name, p.status);
    out += fmt::format("   KPI {}: {:g} -> {:g} {}\n", p.kpi.name, p.kpi.baseline, p.kpi.target,
                       p.kpi.unit);
    out += fmt::format("   coverage {:.1f}%: {}/{} signal points, {}/{} assets complete\n",
                       Round(100.0 * p.coverage, 1), p.points_present, p.points_total,
                       p.assets_complete, p.assets_in_scope);
    for (const auto& rc : p.requirements) {
      out += fmt::format("     {}.{}: {}/{}", rc.asset_type, rc.signal, rc.present, rc.total);
      if (!rc.missing_on.empty()) out += " (missing on " + Join(rc.missing_on) + ")";
      out += "\n";
    }
    for (const auto& l : p.retrofit) {
      out += fmt::format("   retrofit {} x {} ({}) at {} = {}\n", l.assets.size(), l.sensor,
                         Join(l.signals), Money(l.cost_per_asset, r.currency),
                         Money(l.cost, r.currency));
    }
    for (const auto& g : p.uncovered) {
      out += fmt::format("   BLOCKED: no retrofit option provides {}.{} (needed on {})\n",
                         g.asset_type, g.signal, Join(g.assets));
    }
    std::vector<std::string> so;
    for (const auto& s : p.signoffs) {
      std::string e =
          std::string(StakeholderName(s.who)) + " " + std::string(SignOffStateName(s.state));
      if (!s.by.empty()) e += " (" + s.by + ", " + s.on + ")";
      so.push_back(e);
    }
    out += "   sign-off: " + Join(so, "; ") + "\n";
    out += fmt::format(
        "   score {:.1f} = 100 x ({:.2f} x {:.3f} + {:.2f} x {:.3f} + {:.2f} x {:.3f} + {:.2f} x "
        "{:.3f})\n",
        Round(p.terms.score, 1), r.weights.value, Round(p.terms.value, 3), r.weights.payback,
        Round(p.terms.payback, 3), r.weights.coverage, Round(p.terms.coverage, 3),
        r.weights.alignment, Round(p.terms.alignment, 3));
  }
  return out;
}

}  // namespace weft::model
