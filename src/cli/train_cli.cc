#include "cli/train_cli.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/diagnostic.h"
#include "common/file_io.h"
#include "edge/inference/tree_model.h"
#include "mlops/registry/model_registry.h"
#include "mlops/training/train_spec.h"
#include "mlops/training/trainer.h"
#include "mlops/validation/physics_validation.h"
#include "model/physics.h"
#include "model/plant_loader.h"

namespace weft::cli {
namespace {

// Who registers: the local user, as "cli:<login>" (the registry records it as created_by).
std::string LocalActor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr && *user != '\0' ? user : std::to_string(getuid()));
}

// The physics validation of `result` (the refusal is the report, not an error).
Result<mlops::ValidationReport> Validate(const TrainArgs& args, const mlops::TrainSpec& spec,
                                         const mlops::TrainResult& result, std::ostream& err) {
  Diagnostics diags;
  Result<model::physics::ConstraintSet> set =
      model::physics::LoadConstraintsFile(args.constraints, &diags);
  if (!set.ok()) {
    err << diags.ToString();
    return set.status();
  }
  std::optional<model::Plant> plant;
  if (!args.plant.empty()) {
    Diagnostics plant_diags;
    Result<model::Plant> p = model::LoadPlantFile(args.plant, &plant_diags);
    if (!p.ok()) {
      err << plant_diags.ToString();
      return p.status();
    }
    plant = std::move(*p);
  }
  const model::physics::AssetConstraints* c = set->For(spec.asset_type, plant ? &*plant : nullptr);
  mlops::ValidationReport report;
  if (c == nullptr) {
    report.passed = false;
    mlops::ConstraintResult none;
    none.name = "constraints_declared";
    none.kind = "declaration";
    none.status = mlops::CheckStatus::kFailed;
    none.detail = args.constraints + " declares no physics constraints for asset type '" +
                  spec.asset_type + "': a model that nothing was checked against is not promotable";
    report.results.push_back(std::move(none));
    return report;
  }
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<edge::inference::TreeModel> model,
                        edge::inference::TreeModel::Parse(result.model_json, spec.name, "candidate",
                                                          "trained candidate"));
  return mlops::ValidateCandidate(*model, spec.output, spec.features, *c, mlops::SweepOptions{});
}

}  // namespace

CLI::App* AddModelTrainCommand(CLI::App& model_command, TrainArgs* args) {
  CLI::App* train = model_command.add_subcommand(
      "train", "Train a candidate from a spec, validate it against physics, register it");
  train->add_option("spec", args->spec, "the training spec (YAML)")->required();
  train->add_option("--constraints", args->constraints,
                    "physics constraints per asset type (default examples/constraints.yaml)");
  train->add_option("--plant", args->plant,
                    "plant.yaml, so that subtypes use their parents' constraints");
  train->add_option("--state", args->state,
                    "weft-core's state directory (default: $TMPDIR/weft-demo/core-state)");
  train->add_flag("--json", args->json, "print the registered version as JSON");
  return train;
}

int RunModelTrain(const TrainArgs& args, std::ostream& out, std::ostream& err, const Clock& clock) {
  Result<std::string> text = ReadFileUpTo(args.spec, mlops::kMaxTrainSpecBytes);
  if (!text.ok()) {
    err << "weft model train: " << text.status().message() << "\n";
    return kExitUsage;
  }
  Diagnostics diags;
  Result<mlops::TrainSpec> spec = mlops::ParseTrainSpec(*text, args.spec, &diags);
  if (!spec.ok()) {
    err << diags.ToString() << "weft model train: " << spec.status().message() << "\n";
    return kExitUsage;
  }
  const std::string state = DemoPathOr(args.state, "core-state");
  mlops::TrainOptions options;
  options.base_dir = std::filesystem::path(args.spec).parent_path();
  options.state_dir = state;  // registered twin versions (twins.db) for the scenarios
  options.clock = &clock;
  Result<mlops::TrainResult> result = mlops::Train(*spec, options);
  if (!result.ok()) {
    err << "weft model train: " << result.status().message() << "\n";
    return kExitUsage;
  }
  Result<mlops::ValidationReport> report = Validate(args, *spec, *result, err);
  if (!report.ok()) {
    err << "weft model train: physics validation: " << report.status().message() << "\n";
    return kExitUsage;
  }

  mlops::NewModelVersion nv;
  nv.name = spec->name;
  nv.artifact = result->model_json;
  nv.card_json = result->card.dump();
  nv.lineage_json = result->lineage.dump();
  nv.metrics_json = result->metrics.ToJson().dump();
  nv.validation_json = report->ToJson().dump();
  nv.validation_passed = report->passed;
  nv.created_by = LocalActor();
  Result<std::unique_ptr<mlops::ModelRegistry>> registry =
      mlops::ModelRegistry::Open(state, &clock);
  if (!registry.ok()) {
    err << "weft model train: " << registry.status().message() << "\n";
    return kExitUsage;
  }
  Result<mlops::ModelVersion> version = (*registry)->Register(nv);
  if (!version.ok()) {
    err << "weft model train: registering: " << version.status().message() << "\n";
    return kExitUsage;
  }

  if (args.json) {
    nlohmann::ordered_json doc;
    doc["name"] = version->name;
    doc["version"] = version->version;
    doc["artifact_sha256"] = version->artifact_sha256;
    doc["metrics"] = result->metrics.ToJson();
    doc["validation"] = report->ToJson();
    out << doc.dump(2) << "\n";
  } else {
    const mlops::EvaluationReport& m = result->metrics;
    out << "registered " << version->name << " version " << version->version << " (sha256 "
        << version->artifact_sha256.substr(0, 12) << "…, signed)\n";
    out << "dataset: " << result->train_rows << " training rows from " << result->train_runs
        << " runs, " << result->test_rows << " held-out rows from " << result->test_runs
        << " runs\n";
    auto line = [&](const mlops::ScoreReport& s) {
      out << "  " << s.name << " (" << s.score << " >= " << s.threshold << "): precision "
          << s.runs.precision << ", recall " << s.runs.recall << ", F1 " << s.runs.f1
          << ", median lead " << s.runs.median_lead_h << " h, false alarms " << s.runs.false_alarms
          << "\n";
    };
    out << "held-out runs:\n";
    line(m.model);
    if (m.baseline) line(*m.baseline);
    out << "physics validation: " << (report->passed ? "passed" : "FAILED") << "\n"
        << report->Summary();
    if (!report->passed) out << "this version can not be promoted\n";
  }
  return report->passed ? 0 : 1;
}

}  // namespace weft::cli
