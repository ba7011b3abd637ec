#include "cli/monitor_cli.h"

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "cli/model_cli.h"
#include "cli/train_cli.h"
#include "common/time_format.h"
#include "mlops/monitoring/lake_monitor.h"
#include "mlops/monitoring/monitoring_lake.h"
#include "mlops/registry/model_registry.h"
#include "mlops/training/train_spec.h"

namespace weft::cli {
namespace {

// The `name:` of a training spec (the retrained model must be the monitored one).
Result<std::string> SpecName(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("--retrain-spec: cannot read " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Diagnostics diags;
  Result<mlops::TrainSpec> spec = mlops::ParseTrainSpec(text, path, &diags);
  if (!spec.ok()) return InvalidArgumentError(diags.ToString() + spec.status().message());
  return spec->name;
}

// The checks at warn or alert, as "level check:subject statistic=value".
std::vector<mlops::CheckResult> Flagged(const mlops::WindowAssessment& a) {
  std::vector<mlops::CheckResult> out;
  for (const auto& r : a.results) {
    if (r.level != mlops::Level::kOk && r.check != "reliability") out.push_back(r);
  }
  return out;
}

std::string Num(double v) {
  std::ostringstream s;
  s << std::setprecision(4) << v;
  return s.str();
}

}  // namespace

CLI::App* AddModelMonitorCommand(CLI::App& model_command, MonitorArgs* a) {
  CLI::App* cmd = model_command.add_subcommand(
      "monitor",
      "Reliability monitoring of a model version on one asset from the lake (drift, "
      "saturation, thermal degradation, envelope)");
  cmd->add_option("name", a->name, "model name")->required();
  auto* version = cmd->add_option("--version", a->version, "model version");
  cmd->add_option("--alias", a->alias, "alias to resolve (default: production)")->excludes(version);
  cmd->add_option("--asset", a->asset, "asset")->required();
  cmd->add_option("--from", a->from, "start, ISO-8601 (inclusive)")->required();
  cmd->add_option("--to", a->to, "end, ISO-8601 (exclusive)")->required();
  cmd->add_option("--window", a->window, "window length, e.g. 1h, 15min")->capture_default_str();
  cmd->add_option("--sample-period", a->sample_period,
                  "telemetry sample period, e.g. 10s (default: inferred)");
  cmd->add_option("--lake", a->lake, "lake root (default: $TMPDIR/weft-demo/lake)");
  cmd->add_option("--state", a->state,
                  "weft-core's state directory (default: $TMPDIR/weft-demo/core-state)");
  cmd->add_flag("--append", a->append, "append the results to <lake>/model_monitoring");
  cmd->add_flag("--json", a->json, "print JSON");
  cmd->add_flag("--act", a->act, "carry out the strongest action (retrain, rollback)");
  cmd->add_option("--retrain-spec", a->retrain_spec, "with --act: the spec that retrains");
  cmd->add_option("--constraints", a->constraints,
                  "with --act: physics constraints for the retrained candidate");
  cmd->add_option("--api", a->api, "with --act: weft-core's API for a rollback");
  cmd->add_option("--ca", a->ca, "with --act: the CA certificate of the API");
  cmd->add_flag("--insecure", a->insecure, "with --act: do not verify the API's certificate");
  return cmd;
}

int RunModelMonitor(const MonitorArgs& a, std::ostream& out, std::ostream& err,
                    const Clock& clock) {
  auto fail = [&](const Status& s, int code) {
    err << "weft model monitor: " << s.message() << "\n";
    return code;
  };
  if (a.act && a.json) {
    return fail(InvalidArgumentError("--act prints what it does: leave out --json"), kExitUsage);
  }
  if (a.act && a.retrain_spec.empty() && a.api.empty()) {
    return fail(InvalidArgumentError("--act needs --retrain-spec SPEC (to retrain) and/or --api "
                                     "URL (to roll back)"),
                kExitUsage);
  }
  Result<int64_t> from = ParseTimestampMicros(a.from);
  if (!from.ok()) return fail(from.status().WithContext("--from"), kExitUsage);
  Result<int64_t> to = ParseTimestampMicros(a.to);
  if (!to.ok()) return fail(to.status().WithContext("--to"), kExitUsage);
  if (*from >= *to) return fail(InvalidArgumentError("--from must be before --to"), kExitUsage);
  Result<Micros> window = ParseDuration(a.window);
  if (!window.ok()) return fail(window.status().WithContext("--window"), kExitUsage);
  if (window->count() <= 0) return fail(InvalidArgumentError("--window must be > 0"), kExitUsage);
  Micros period{0};
  if (!a.sample_period.empty()) {
    Result<Micros> p = ParseDuration(a.sample_period);
    if (!p.ok()) return fail(p.status().WithContext("--sample-period"), kExitUsage);
    if (p->count() <= 0) {
      return fail(InvalidArgumentError("--sample-period must be > 0"), kExitUsage);
    }
    period = *p;
  }
  if (!a.version.empty() && !a.alias.empty()) {
    return fail(InvalidArgumentError("give --version or --alias, not both"), kExitUsage);
  }

  const std::string state = DemoPathOr(a.state, "core-state");
  auto reg = mlops::ModelRegistry::Open(state, &clock);
  if (!reg.ok()) return fail(reg.status().WithContext(state), kExitInvalidInput);
  const std::string alias = a.alias.empty() ? "production" : a.alias;
  Result<mlops::ModelVersion> mv =
      a.version.empty() ? (*reg)->Resolve(a.name, alias) : (*reg)->Get(a.name, a.version);
  if (!mv.ok()) return fail(mv.status(), kExitInvalidInput);
  Result<mlops::MonitorConfig> config = mlops::MonitorConfigFromCard(mv->card_json);
  if (!config.ok()) {
    return fail(config.status().WithContext("model " + a.name + " version " + mv->version),
                kExitInvalidInput);
  }

  mlops::MonitorRequest req;
  req.lake = DemoPathOr(a.lake, "lake");
  req.config = std::move(config).value();
  req.model = a.name;
  req.model_version = mv->version;
  req.asset = a.asset;
  req.from_us = *from;
  req.to_us = *to;
  req.window = *window;
  req.sample_period = period;
  req.append = a.append;
  req.clock = &clock;
  Result<mlops::MonitorRun> run = mlops::MonitorFromLake(req);
  if (!run.ok()) return fail(run.status(), kExitInvalidInput);

  if (a.json) {
    nlohmann::ordered_json doc;
    doc["model"] = a.name;
    doc["version"] = mv->version;
    doc["asset"] = a.asset;
    doc["signals"] = run->signals;
    doc["sample_period_s"] = run->sample_period_s;
    doc["windows"] = nlohmann::ordered_json::array();
    for (const auto& w : run->windows) {
      nlohmann::ordered_json j;
      j["start"] = FormatTimestampMicros(w.start_us);
      j["end"] = FormatTimestampMicros(w.end_us);
      j["samples"] = w.samples;
      j["scores"] = w.scores;
      j["skipped"] = w.skipped;
      if (!w.skipped) {
        j["score"] = w.assessment.score;
        j["worst"] = std::string(mlops::LevelName(w.assessment.worst()));
        j["action"] = std::string(mlops::ActionName(w.assessment.action));
        j["checks"] = nlohmann::ordered_json::object();
        for (const auto& [check, level] : w.assessment.check_levels) {
          j["checks"][check] = std::string(mlops::LevelName(level));
        }
        j["flagged"] = nlohmann::ordered_json::array();
        for (const auto& r : Flagged(w.assessment)) {
          j["flagged"].push_back({{"check", r.check},
                                  {"subject", r.subject},
                                  {"statistic", r.statistic},
                                  {"value", r.value},
                                  {"level", std::string(mlops::LevelName(r.level))}});
        }
      }
      doc["windows"].push_back(std::move(j));
    }
    if (a.append) {
      doc["appended"] = {{"table", req.lake + "/" + std::string(mlops::kMonitoringTableName)},
                         {"rows", run->appended_rows},
                         {"version", run->appended_version}};
    }
    out << doc.dump(2) << "\n";
    return kExitOk;
  }

  out << "model " << a.name << " version " << mv->version << " on " << a.asset << ": "
      << run->windows.size() << " windows, signals";
  for (const auto& s : run->signals) out << " " << s;
  out << ", sample period " << Num(run->sample_period_s) << " s\n";
  out << std::left << std::setw(29) << "start" << std::setw(8) << "samples" << std::setw(7)
      << "score" << std::setw(7) << "worst" << std::setw(16) << "action"
      << "checks at warn/alert\n";
  for (const auto& w : run->windows) {
    out << std::setw(29) << FormatTimestampMicros(w.start_us) << std::setw(8) << w.samples;
    if (w.skipped) {
      out << "skipped (fewer than " << req.min_samples << " aligned samples)\n";
      continue;
    }
    out << std::setw(7) << Num(w.assessment.score) << std::setw(7)
        << mlops::LevelName(w.assessment.worst()) << std::setw(16)
        << mlops::ActionName(w.assessment.action);
    const auto flagged = Flagged(w.assessment);
    if (flagged.empty()) out << "-";
    for (size_t i = 0; i < flagged.size(); ++i) {
      const auto& r = flagged[i];
      out << (i == 0 ? "" : ", ") << mlops::LevelName(r.level) << " " << r.check
          << (r.subject.empty() ? "" : ":" + r.subject) << " " << r.statistic << "="
          << Num(r.value);
    }
    out << "\n";
  }
  // Say which command carries out the run's strongest action; with --act, run it (rollback is
  // the API's audited route, with the operator's token; a retrained model is a new candidate
  // that validation and approvals still stand between and production).
  mlops::Action strongest = mlops::Action::kNone;
  for (const auto& w : run->windows) {
    if (!w.skipped) strongest = std::max(strongest, w.assessment.action);
  }
  if (strongest == mlops::Action::kRollback) {
    out << "action: roll back: weft model rollback " << a.name << " "
        << (a.alias.empty() ? "production" : a.alias) << " --api URL\n";
  } else if (strongest == mlops::Action::kRetrain) {
    out << "action: retrain: weft model train SPEC.yaml (with data up to "
        << FormatTimestampMicros(run->windows.back().end_us) << "), then validate and promote\n";
  } else if (strongest == mlops::Action::kMarkLowTrust) {
    out << "action: treat " << a.name << "'s predictions on " << a.asset
        << " as low-trust for the flagged windows\n";
  }
  if (a.act && strongest == mlops::Action::kRetrain) {
    Result<std::string> spec_name = SpecName(a.retrain_spec);
    if (!spec_name.ok()) return fail(spec_name.status(), kExitUsage);
    if (*spec_name != a.name) {
      return fail(InvalidArgumentError("--retrain-spec " + a.retrain_spec + " trains '" +
                                       *spec_name + "', not the monitored model '" + a.name + "'"),
                  kExitUsage);
    }
    TrainArgs train;
    train.spec = a.retrain_spec;
    if (!a.constraints.empty()) train.constraints = a.constraints;
    train.state = state;
    out << "retraining " << a.name << " from " << a.retrain_spec << "\n";
    return RunModelTrain(train, out, err, clock);
  }
  if (a.act && strongest == mlops::Action::kRollback) {
    ModelArgs rollback;
    rollback.command = "rollback";
    rollback.name = a.name;
    rollback.alias = a.alias.empty() ? "production" : a.alias;
    rollback.api = a.api;
    rollback.ca = a.ca;
    rollback.insecure = a.insecure;
    return RunModel(rollback, out, err, clock);
  }
  if (a.append) {
    out << "appended " << run->appended_rows << " rows to " << req.lake << "/"
        << mlops::kMonitoringTableName << " (version " << run->appended_version << ")\n";
  }
  return kExitOk;
}

}  // namespace weft::cli
