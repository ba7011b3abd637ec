#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/control_cli.h"
#include "cli/fleet_cli.h"
#include "cli/governance_cli.h"
#include "cli/kpi_cli.h"
#include "cli/ota_cli.h"
#include "cli/core_cli.h"
#include "cli/demo_cli.h"
#include "cli/lake_cli.h"
#include "cli/model_cli.h"
#include "cli/monitor_cli.h"
#include "cli/train_cli.h"
#include "cli/twin_cli.h"
#include "cli/uplink_cli.h"
#include "common/log.h"
#include "common/time_format.h"
#include "model/plan.h"
#include "model/plant_loader.h"

namespace weft::cli {
namespace {

nlohmann::ordered_json DiagnosticsToJson(const Diagnostics& diags) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Diagnostic& d : diags.all()) {
    list.push_back({{"severity", d.severity == Severity::kError ? "error" : "warning"},
                    {"kind", d.kind},
                    {"file", d.location.file},
                    {"line", d.location.line},
                    {"column", d.location.column},
                    {"field", d.field},
                    {"message", d.message}});
  }
  return list;
}

}  // namespace

std::string DemoPathOr(const std::string& path, std::string_view leaf) {
  if (!path.empty()) return path;
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/weft-demo/" + std::string(leaf);
}

int RunPlan(const PlanArgs& args, std::ostream& out, std::ostream& err, const Clock& clock) {
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(args.plant_file, &diags);
  if (!plant.ok() && diags.all().empty()) {  // could not read the file at all
    err << "weft plan: " << plant.status().message() << "\n";
    return kExitUsage;
  }
  if (plant.ok()) {
    spdlog::info("loaded {}: {} assets, {} signals, {} use cases, {} warnings", args.plant_file,
                 plant->AllAssets().size(), plant->SignalCount(), plant->use_cases.size(),
                 diags.warning_count());
  } else {
    spdlog::info("{} is invalid: {} errors", args.plant_file, diags.error_count());
  }
  if (args.json) {
    nlohmann::ordered_json doc;
    doc["ok"] = plant.ok();
    if (plant.ok()) {
      model::PlanOptions options{args.as_of.value_or(DayOf(clock.Now()))};
      nlohmann::ordered_json report = model::PlanToJson(model::BuildPlan(*plant, options));
      for (auto& [key, value] : report.items()) doc[key] = value;
    }
    doc["diagnostics"] = DiagnosticsToJson(diags);
    // The loader refuses invalid UTF-8; replacing it here keeps a slip elsewhere from aborting.
    out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    if (!diags.all().empty()) err << diags.ToString();
    if (plant.ok()) {
      model::PlanOptions options{args.as_of.value_or(DayOf(clock.Now()))};
      out << model::PlanToTable(model::BuildPlan(*plant, options));
    }
  }
  if (!plant.ok()) {
    if (args.json) err << diags.ToString();
    return kExitInvalidInput;
  }
  return kExitOk;
}

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           const Clock& clock) {
  CLI::App app{"weft: industrial AIoT platform (value chain, edge, lakehouse, MLOps, governance)",
               "weft"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  PlanArgs plan;
  std::string as_of;
  CLI::App* plan_cmd =
      app.add_subcommand("plan",
                         "Validate plant.yaml and rank its use cases by coverage, retrofit cost, "
                         "alignment and value");
  plan_cmd->add_option("plant", plan.plant_file, "Path to plant.yaml")->required();
  plan_cmd->add_flag("--json", plan.json, "Print the report as JSON");
  plan_cmd->add_option("--as-of", as_of, "Judge sign-offs as of this date (YYYY-MM-DD)");

  LakeArgs lake;
  CLI::App* lake_cmd = AddLakeCommands(app, &lake);
  UplinkArgs uplink;
  CLI::App* uplink_cmd = AddUplinkCommands(app, &uplink);
  DemoArgs demo;
  CLI::App* demo_cmd = AddDemoCommand(app, &demo);
  QueryArgs query;
  CLI::App* query_cmd = AddQueryCommand(app, &query);
  AuditArgs audit;
  CLI::App* audit_cmd = AddAuditCommands(app, &audit);
  CatalogArgs catalog;
  CLI::App* catalog_cmd = AddCatalogCommands(app, &catalog);
  ModelArgs model;
  CLI::App* model_cmd = AddModelCommands(app, &model);
  TrainArgs train;
  CLI::App* train_cmd = AddModelTrainCommand(*model_cmd, &train);
  MonitorArgs monitor;
  CLI::App* monitor_cmd = AddModelMonitorCommand(*model_cmd, &monitor);
  TwinArgs twin;
  CLI::App* twin_cmd = AddTwinCommands(app, &twin);
  ControlArgs control;
  CLI::App* control_cmd = AddControlCommands(app, &control);
  CLI::App* workorder_cmd = AddWorkOrderCommands(app, &control);
  FleetArgs fleet;
  CLI::App* fleet_cmd = AddFleetCommands(app, &fleet);
  GovernanceArgs governance;
  CLI::App* governance_cmd = AddGovernanceCommands(app, &governance);
  OtaArgs ota;
  CLI::App* ota_cmd = AddOtaCommands(app, &ota);
  KpiArgs kpi;
  CLI::App* kpi_cmd = AddKpiCommands(app, &kpi);
  CLI::App* roadmap_cmd = AddRoadmapCommand(app, &kpi);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help and errors itself; route them to our streams.
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  }
  Result<LogLevel> level = ParseLogLevel(log_level);
  if (!level.ok()) {
    err << "weft: " << level.status().message() << "\n";
    return kExitUsage;
  }
  InitLogging(*level);

  if (plan_cmd->parsed()) {
    if (!as_of.empty()) {
      Result<std::chrono::sys_days> day = ParseDate(as_of);
      if (!day.ok()) {
        err << "weft plan: --as-of: " << day.status().message() << "\n";
        return kExitUsage;
      }
      plan.as_of = *day;
    }
    return RunPlan(plan, out, err, clock);
  }
  if (lake_cmd->parsed()) return RunLake(lake, out, err, clock);
  if (uplink_cmd->parsed()) return RunUplink(uplink, out, err);
  if (demo_cmd->parsed()) return RunDemo(demo, out, err, clock);
  if (query_cmd->parsed()) return RunQuery(query, out, err, clock);
  if (audit_cmd->parsed()) return RunAudit(audit, out, err);
  if (catalog_cmd->parsed()) return RunCatalog(catalog, out, err, clock);
  if (train_cmd->parsed()) return RunModelTrain(train, out, err, clock);
  if (monitor_cmd->parsed()) return RunModelMonitor(monitor, out, err, clock);
  if (model_cmd->parsed()) return RunModel(model, out, err, clock);
  if (twin_cmd->parsed()) return RunTwin(twin, out, err, clock);
  if (control_cmd->parsed() || workorder_cmd->parsed()) return RunControl(control, out, err);
  if (fleet_cmd->parsed()) return RunFleet(fleet, out, err);
  if (governance_cmd->parsed()) return RunGovernance(governance, out, err);
  if (ota_cmd->parsed()) return RunOta(ota, out, err);
  if (kpi_cmd->parsed() || roadmap_cmd->parsed()) return RunKpi(kpi, out, err, clock);
  return kExitUsage;
}

}  // namespace weft::cli
