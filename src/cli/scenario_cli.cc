#include "cli/scenario_cli.h"

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/embedded_examples.h"
#include "common/diagnostic.h"
#include "common/time_format.h"
#include "core/scenario/scenario.h"
#include "model/plant_loader.h"

namespace weft::cli {

CLI::App* AddDemoMonthCommand(CLI::App& demo, DemoMonthArgs* args) {
  CLI::App* cmd = demo.add_subcommand(
      "month",
      "Simulate a month of a plant (HVAC optimiser and PdM on) into a lake, in simulated time");
  cmd->add_option("--plant", args->plant_file, "plant.yaml (default: the example plant)");
  cmd->add_option("--lake", args->lake, "lake root (default: $TMPDIR/weft-demo/lake)");
  cmd->add_option("--start", args->start, "first day, YYYY-MM-DD (UTC midnight)")
      ->capture_default_str();
  cmd->add_option("--days", args->days, "days to simulate (1 to 366)")->capture_default_str();
  cmd->add_option("--baseline-days", args->baseline_days,
                  "days before --start simulated without PdM and optimiser, failures repaired "
                  "on breakdown (0 to 366): the KPIs' baseline before go-live")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "random seed (same seed, same rows)")
      ->capture_default_str();
  cmd->add_option("--tick", args->tick, "simulation step, e.g. 10s (100ms to 10min)")
      ->capture_default_str();
  cmd->add_option("--edge-id", args->edge_id, "the edge the rows come from")->capture_default_str();
  cmd->add_flag("--all-signals", args->all_signals,
                "simulate and upload every fitted signal (default: those the KPIs and PdM read)");
  cmd->add_flag("--no-optimiser", args->no_optimiser, "leave the HVAC zones on their schedule");
  cmd->add_flag("--no-pdm", args->no_pdm, "no vibration detector, alerts or work orders");
  cmd->add_option("--inference", args->inference,
                  "run local inference from --start: an edge.yaml (or any YAML file) with an "
                  "`inference:` section; its predictions go to the lake's predictions table");
  cmd->add_flag("--json", args->json, "print the report as JSON");
  return cmd;
}

int RunDemoMonth(const DemoMonthArgs& args, std::ostream& out, std::ostream& err) {
  core::scenario::ScenarioOptions o;
  o.lake_root = DemoPathOr(args.lake, "lake");
  Result<std::chrono::sys_days> start = ParseDate(args.start);
  if (!start.ok()) {
    err << "weft demo month: --start: " << start.status().message() << "\n";
    return kExitUsage;
  }
  o.start = std::chrono::time_point_cast<Micros>(*start);
  Result<Micros> tick = ParseDuration(args.tick);
  if (!tick.ok()) {
    err << "weft demo month: --tick: " << tick.status().message() << "\n";
    return kExitUsage;
  }
  o.tick = *tick;
  o.days = args.days;
  o.baseline_days = args.baseline_days;
  o.seed = args.seed;
  o.edge_id = args.edge_id;
  o.all_signals = args.all_signals;
  o.optimiser = !args.no_optimiser;
  o.pdm = !args.no_pdm;

  Diagnostics diags;
  Result<model::Plant> plant =
      args.plant_file.empty()
          ? model::ParsePlant(kExamplePlantYaml, "examples/plant.yaml (embedded)", &diags)
          : model::LoadPlantFile(args.plant_file, &diags);
  if (!plant.ok()) {
    err << "weft demo month: " << plant.status().message() << "\n";
    if (!diags.all().empty()) err << diags.ToString();
    return diags.all().empty() ? kExitUsage : kExitInvalidInput;
  }
  if (!args.inference.empty()) {
    Diagnostics inference_diags;
    Result<edge::inference::InferenceConfig> inference =
        core::scenario::LoadInferenceFile(args.inference, &inference_diags);
    if (!inference.ok()) {
      err << "weft demo month: --inference: " << inference.status().message() << "\n";
      if (!inference_diags.all().empty()) err << inference_diags.ToString();
      return inference.status().code() == StatusCode::kNotFound ? kExitUsage : kExitInvalidInput;
    }
    o.inference = std::move(inference).value();
  }
  Result<core::scenario::ScenarioReport> r = core::scenario::RunScenario(*plant, o);
  if (!r.ok()) {
    err << "weft demo month: " << r.status().ToString() << "\n";
    // The inference's models are checked against the plant in the run: bad input, not usage.
    const bool inference = r.status().message().starts_with("scenario: local inference");
    return r.status().code() == StatusCode::kInvalidArgument && !inference ? kExitUsage
                                                                           : kExitInvalidInput;
  }
  if (!args.json) {
    out << "lake: " << o.lake_root << "\n" << core::scenario::ScenarioReportText(*r);
    return kExitOk;
  }
  nlohmann::ordered_json doc;
  doc["lake"] = o.lake_root;
  doc["from"] = FormatTimestampMicros(r->start_us);
  doc["to"] = FormatTimestampMicros(r->end_us);
  doc["live_from"] = FormatTimestampMicros(r->live_from_us);
  doc["baseline_days"] = r->baseline_days;
  nlohmann::ordered_json rows, commits;
  for (int i = 0; i < core::kLakeTableCount; ++i) {
    const std::string name(core::LakeTableName(static_cast<core::LakeTableId>(i)));
    rows[name] = r->rows[static_cast<size_t>(i)];
    commits[name] = r->commits[static_cast<size_t>(i)];
  }
  doc["rows"] = rows;
  doc["commits"] = commits;
  doc["batches"] = r->batches;
  doc["signals_simulated"] = r->signals_simulated;
  doc["signals_uploaded"] = r->signals_uploaded;
  doc["samples_produced"] = r->samples_produced;
  doc["samples_to_edge"] = r->samples_to_edge;
  doc["pdm"] = {{"detector_firings", r->detector_firings},
                {"alerts", r->alerts},
                {"confirmed_fault", r->confirmed},
                {"false_alarm", r->false_alarms},
                {"repairs_after_alerts", r->repairs_after_alerts}};
  doc["breakdowns"] = {{"baseline", r->breakdowns_baseline}, {"live", r->breakdowns_live}};
  doc["hvac"] = {
      {"loops", r->loops},
      {"shadow_records", r->shadow_records},
      {"writes", r->loop_writes},
      {"refused", r->loop_refusals},
      {"optimised_from", r->optimise_from_us > 0
                             ? nlohmann::ordered_json(FormatTimestampMicros(r->optimise_from_us))
                             : nlohmann::ordered_json()},
      {"optimised_days", r->optimised_days}};
  nlohmann::ordered_json faults = nlohmann::ordered_json::array();
  for (const sim::FaultLabel& l : r->labels) {
    faults.push_back(
        {{"asset", l.asset},
         {"fault", std::string(sim::FaultTypeName(l.type))},
         {"start", sim::IsoTime(l.start)},
         {"end", l.end ? nlohmann::ordered_json(sim::IsoTime(*l.end)) : nlohmann::ordered_json()},
         {"failure", l.failure ? nlohmann::ordered_json(sim::IsoTime(*l.failure))
                               : nlohmann::ordered_json()}});
  }
  doc["faults"] = faults;
  if (o.inference) {
    nlohmann::ordered_json models = nlohmann::ordered_json::array();
    for (const core::scenario::ScenarioModelReport& m : r->models) {
      models.push_back({{"name", m.name},
                        {"version", m.version},
                        {"assets", m.assets},
                        {"predictions", m.predictions}});
    }
    doc["inference"] = {
        {"models", models},
        {"model_runs", r->model_runs},
        {"predictions", r->rows[static_cast<size_t>(core::LakeTableId::kPredictions)]},
        {"physics_violations", r->physics_violations},
        {"out_of_envelope", r->out_of_envelope},
        {"detector_events", r->inference_detector_events}};
  }
  doc["wall_seconds"] = r->wall_seconds;
  out << doc.dump(2) << "\n";
  return kExitOk;
}

}  // namespace weft::cli
