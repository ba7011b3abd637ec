#include "cli/twin_cli.h"

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/time_format.h"
#include "mlops/twins/calibration_spec.h"
#include "mlops/twins/twin_registry.h"

namespace weft::cli {
namespace {

using mlops::TwinVersion;

nlohmann::json VersionJson(const TwinVersion& v) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, value] : v.parameters) params[k] = value;
  return nlohmann::json{{"name", v.name},
                        {"version", v.version},
                        {"base_model", v.base_model},
                        {"parent_version", v.parent_version},
                        {"created_at", FormatTimestampMicros(UnixMicros(v.created_at))},
                        {"created_by", v.created_by},
                        {"parameters", params},
                        {"fit_metrics", v.fit_metrics},
                        {"lineage", v.lineage}};
}

std::string Num(double v) {
  std::ostringstream s;
  s << std::setprecision(6) << v;
  return s.str();
}

std::string Opt(const std::optional<double>& v) {
  return v ? Num(*v) : "-";
}

void PrintVersion(const TwinVersion& v, std::ostream& out) {
  out << v.name << " " << v.version << " (model " << v.base_model
      << (v.parent_version.empty() ? "" : ", from " + v.parent_version) << ", "
      << FormatTimestampMicros(UnixMicros(v.created_at)) << " by " << v.created_by << ")\n";
  out << "parameters:\n";
  for (const auto& [k, value] : v.parameters) out << "  " << k << " = " << Num(value) << "\n";
  if (!v.fit_metrics.empty()) out << "fit_metrics: " << v.fit_metrics.dump() << "\n";
  if (!v.lineage.empty()) out << "lineage: " << v.lineage.dump() << "\n";
}

int Fail(std::ostream& err, const std::string& cmd, const Status& s) {
  err << "weft twin " << cmd << ": " << s.message() << "\n";
  const StatusCode c = s.code();
  return c == StatusCode::kFailedPrecondition &&
                 s.message().find("cannot read") != std::string::npos
             ? kExitUsage
             : kExitInvalidInput;
}

}  // namespace

CLI::App* AddTwinCommands(CLI::App& app, TwinArgs* a) {
  CLI::App* cmd = app.add_subcommand("twin",
                                     "Versioned digital twins: list, show, calibrate, "
                                     "compare");
  cmd->require_subcommand(1);
  auto common = [a](CLI::App* sub, const char* name) {
    sub->add_option("--state", a->state,
                    "weft-core's state directory (default: $TMPDIR/weft-demo/core-state)");
    sub->add_flag("--json", a->json, "Print JSON");
    sub->parse_complete_callback([a, name] { a->command = name; });
  };
  CLI::App* list = cmd->add_subcommand("list", "Registered twin versions");
  list->add_option("name", a->name, "only this twin");
  common(list, "list");
  CLI::App* show = cmd->add_subcommand("show", "One version's parameters, fit metrics, lineage");
  show->add_option("name", a->name, "twin name")->required();
  show->add_option("version", a->version, "version (default: the latest)");
  common(show, "show");
  CLI::App* cal = cmd->add_subcommand(
      "calibrate", "Fit parameters to the lake's telemetry and register the next version");
  cal->add_option("spec", a->spec, "calibration spec (YAML)")->required();
  cal->add_option("--by", a->by, "who registers the version (default: $USER)");
  common(cal, "calibrate");
  CLI::App* cmp = cmd->add_subcommand("compare", "Differences between two versions");
  cmp->add_option("name", a->name, "twin name")->required();
  cmp->add_option("v1", a->version, "first version")->required();
  cmp->add_option("v2", a->version_b, "second version")->required();
  cmp->add_option("--data", a->data,
                  "a calibration spec whose data both versions are run on (RMSE)");
  common(cmp, "compare");
  return cmd;
}

int RunTwin(const TwinArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  const std::string& cmd = a.command;
  const std::string state = DemoPathOr(a.state, "core-state");
  auto reg = mlops::TwinRegistry::Open(state, &clock);
  if (!reg.ok()) return Fail(err, cmd, reg.status());
  mlops::TwinRegistry& registry = **reg;

  if (cmd == "list") {
    auto all = a.name.empty() ? registry.List() : registry.List(a.name);
    if (!all.ok()) return Fail(err, cmd, all.status());
    if (a.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const TwinVersion& v : *all) list.push_back(VersionJson(v));
      out << list.dump(2) << "\n";
    } else {
      out << "name,version,base_model,parent_version,created_at,created_by\n";
      for (const TwinVersion& v : *all) {
        out << v.name << "," << v.version << "," << v.base_model << "," << v.parent_version << ","
            << FormatTimestampMicros(UnixMicros(v.created_at)) << "," << v.created_by << "\n";
      }
    }
    return kExitOk;
  }
  if (cmd == "show") {
    auto v = a.version.empty() ? registry.Latest(a.name) : registry.Get(a.name, a.version);
    if (!v.ok()) return Fail(err, cmd, v.status());
    if (a.json) {
      out << VersionJson(*v).dump(2) << "\n";
    } else {
      PrintVersion(*v, out);
    }
    return kExitOk;
  }
  if (cmd == "calibrate") {
    Diagnostics diags;
    auto spec = mlops::LoadCalibrationSpec(a.spec, &diags);
    if (!spec.ok()) {
      if (diags.all().empty()) return Fail(err, cmd, spec.status());
      err << diags.ToString();
      return kExitInvalidInput;
    }
    std::string by = a.by;
    if (by.empty()) {
      const char* user = std::getenv("USER");
      by = user != nullptr ? user : "weft";
    }
    auto run = mlops::CalibrateFromSpec(*spec, registry, clock, by);
    if (!run.ok()) return Fail(err, cmd, run.status());
    const mlops::CalibrationResult& r = run->result;
    if (a.json) {
      out << nlohmann::json{{"registered", VersionJson(run->registered)},
                            {"fit", mlops::FitMetricsJson(r)}}
                 .dump(2)
          << "\n";
    } else {
      out << "registered " << run->registered.name << " " << run->registered.version << " (from "
          << run->parent.version << "; " << (r.converged ? "converged" : "NOT converged") << ": "
          << r.reason << ", " << r.iterations << " iterations; Delta version "
          << run->source.delta_version << ", " << run->source.rows << " rows)\n";
      out << "parameter,initial,fitted,std_error\n";
      for (const auto& [k, v] : r.fitted) {
        out << k << "," << Num(r.initial.at(k)) << "," << Num(v) << ","
            << Num(r.std_errors.count(k) ? r.std_errors.at(k) : NAN) << "\n";
      }
      out << "output,rmse_before,rmse_after,r2,samples\n";
      for (const auto& [k, v] : r.rmse_after) {
        out << k << "," << Num(r.rmse_before.at(k)) << "," << Num(v) << "," << Num(r.r2.at(k))
            << "," << r.samples.at(k) << "\n";
      }
    }
    return kExitOk;
  }
  if (cmd == "compare") {
    std::optional<mlops::CalibrationSeries> series;
    if (!a.data.empty()) {
      Diagnostics diags;
      auto spec = mlops::LoadCalibrationSpec(a.data, &diags);
      if (!spec.ok()) {
        err << diags.ToString();
        return Fail(err, cmd, spec.status().WithContext("--data"));
      }
      auto s = mlops::LoadSeries(*spec, clock, nullptr);
      if (!s.ok()) return Fail(err, cmd, s.status().WithContext("--data"));
      series = *std::move(s);
    }
    auto c = registry.Compare(a.name, a.version, a.version_b, series ? &*series : nullptr);
    if (!c.ok()) return Fail(err, cmd, c.status());
    if (a.json) {
      nlohmann::json params = nlohmann::json::array(), metrics = nlohmann::json::array();
      for (const auto& p : c->parameters) {
        params.push_back({{"name", p.name},
                          {"a", p.a},
                          {"b", p.b},
                          {"abs_diff", p.abs_diff},
                          {"rel_diff", std::isfinite(p.rel_diff) ? nlohmann::json(p.rel_diff)
                                                                 : nlohmann::json()}});
      }
      for (const auto& m : c->metrics) {
        metrics.push_back({{"name", m.name},
                           {"a", m.a ? nlohmann::json(*m.a) : nlohmann::json()},
                           {"b", m.b ? nlohmann::json(*m.b) : nlohmann::json()}});
      }
      nlohmann::json doc{{"name", a.name},
                         {"a", a.version},
                         {"b", a.version_b},
                         {"parameters", params},
                         {"metrics", metrics}};
      if (series) doc["rmse"] = {{"a", c->rmse_a}, {"b", c->rmse_b}};
      out << doc.dump(2) << "\n";
    } else {
      out << "parameter," << a.version << "," << a.version_b << ",abs_diff,rel_diff\n";
      for (const auto& p : c->parameters) {
        out << p.name << "," << Num(p.a) << "," << Num(p.b) << "," << Num(p.abs_diff) << ","
            << Num(p.rel_diff) << "\n";
      }
      out << "metric," << a.version << "," << a.version_b << "\n";
      for (const auto& m : c->metrics) out << m.name << "," << Opt(m.a) << "," << Opt(m.b) << "\n";
      if (series) {
        out << "rmse_on_data," << a.version << "," << a.version_b << "\n";
        for (const auto& [k, v] : c->rmse_a) {
          out << k << "," << Num(v) << "," << Num(c->rmse_b.at(k)) << "\n";
        }
      }
    }
    return kExitOk;
  }
  err << "weft twin: no command given (list, show, calibrate, compare)\n";
  return kExitUsage;
}

}  // namespace weft::cli
