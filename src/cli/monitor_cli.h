// Reliability monitoring of a registered model on one asset, from the lake:
//
//   weft model monitor NAME [--version V | --alias production] --asset A --from ISO --to ISO
//                      [--window 1h] [--sample-period 10s] [--lake DIR] [--state DIR]
//                      [--append] [--json]
//
// Reads the version's model card from the registry at --state (default
// $TMPDIR/weft-demo/core-state; --alias defaults to "production" when no --version is given),
// builds the monitor from it (mlops::MonitorConfigFromCard) and runs mlops::MonitorFromLake over
// the asset's telemetry and the version's predictions in [--from, --to) of the lake at --lake
// (default $TMPDIR/weft-demo/lake), in windows of --window. Prints per window: start, end,
// version, samples, score, worst level, action and the checks at warn or alert (check:subject
// statistic=value), then the command that carries out the run's strongest action (rollback and
// retraining stay the operator's: promotion and rollback are approved, audited API calls);
// --json prints the windows as one JSON document. With --act the action is carried out: retrain
// runs `weft model train --retrain-spec SPEC` (its spec must name the monitored model), rollback
// calls the rollback route of weft-core's API (--api, --ca; token in WEFT_TOKEN); mark_low_trust
// has nothing more to do than what the results record. The exit code is then that command's. With
// --append the results are appended to <lake>/model_monitoring. Exit codes as cli.h: 0 (ran; alerts
// do not change it), 1 (model/version/card/lake error), 2 (usage).
//
// Thread-safety: RunModelMonitor is reentrant.
#ifndef WEFT_CLI_MONITOR_CLI_H_
#define WEFT_CLI_MONITOR_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct MonitorArgs {
  std::string name;
  std::string version;  //!< "" = the alias's version
  std::string alias;    //!< "" (with no version) = "production"
  std::string asset, from, to;
  std::string window = "1h";
  std::string sample_period;  //!< "" = inferred from the telemetry
  std::string lake;           //!< "" = $TMPDIR/weft-demo/lake
  std::string state;          //!< "" = $TMPDIR/weft-demo/core-state
  bool append = false;
  bool json = false;
  //! --act: carry out the run's strongest action. retrain: `weft model train retrain_spec`
  //! (a new candidate, registered, to be validated and approved like any other); rollback: the
  //! alias's rollback through the API at `api` (token in WEFT_TOKEN; audited there).
  bool act = false;
  std::string retrain_spec, constraints, api, ca;
  bool insecure = false;
};

//! Adds `monitor` under `weft model`.
CLI::App* AddModelMonitorCommand(CLI::App& model_command, MonitorArgs* args);
//! Runs it. Exit codes as cli.h.
int RunModelMonitor(const MonitorArgs& args, std::ostream& out, std::ostream& err,
                    const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_MONITOR_CLI_H_
