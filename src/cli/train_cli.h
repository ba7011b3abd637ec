// `weft model train`: trains a candidate model from a spec, validates it against physics and
// registers it in the model registry (src/mlops).
//
//   weft model train SPEC.yaml [--constraints FILE] [--plant FILE] [--state DIR] [--json]
//
// The spec (format in src/mlops/training/train_spec.h) names the twin scenarios and/or the lake
// snapshot (a pinned Delta version) the dataset comes from. The candidate is evaluated on held-out
// runs against a threshold-on-vibration baseline (same runs), swept across its asset type's
// operating envelope against the physics constraints (--constraints, default
// examples/constraints.yaml; --plant lets a subtype use its parent type's constraints), and
// registered with its card, lineage, metrics and validation report in --state (default
// $TMPDIR/weft-demo/core-state, where `weft demo` keeps weft-core's state). A candidate that
// violates a constraint is registered but can never be promoted; an asset type without declared
// constraints fails validation (nothing checked is nothing proven). Exit 0 when registered and
// valid, 1 when registered but refused by validation, 2 on a usage or input error.
#ifndef WEFT_CLI_TRAIN_CLI_H_
#define WEFT_CLI_TRAIN_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct TrainArgs {
  std::string spec, constraints = "examples/constraints.yaml", plant, state;
  bool json = false;
};

//! Adds `train` under the `model` command.
CLI::App* AddModelTrainCommand(CLI::App& model_command, TrainArgs* args);
int RunModelTrain(const TrainArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_TRAIN_CLI_H_
