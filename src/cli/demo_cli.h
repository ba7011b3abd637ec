// `weft demo`: the whole platform on the example plant, on one machine, with embedded defaults.
//
//   weft demo [--dir DIR] [--duration SECONDS] [--speed X] [--broker-port N]
//   weft demo month ...      (a simulated month into a lake, in-process: scenario_cli.h)
//
// Starts mosquitto on 127.0.0.1:<broker-port> (1883) unless a broker already listens there,
// then weft-sim (Sparkplug B, JSON and Modbus PLCs of the example plant), weft-edge (edge.yaml
// generated in DIR, the PLCs' plant addresses mapped to the simulator's local ports, ack: core)
// and weft-core (the lake in DIR/lake, one Delta table per folder). Prints what runs where, and
// on Ctrl-C (or after --duration seconds) stops them in order (simulator, edge, core, broker),
// then prints the lake's row counts. The programs are found next to the `weft` executable;
// each logs to DIR/logs/<name>.log. Every child runs in its own process group, so Ctrl-C reaches
// the demo only and the shutdown order holds.
#ifndef WEFT_CLI_DEMO_CLI_H_
#define WEFT_CLI_DEMO_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "cli/scenario_cli.h"
#include "common/clock.h"

namespace weft::cli {

struct DemoArgs {
  std::string dir;        //!< "" = $TMPDIR/weft-demo
  double duration_s = 0;  //!< 0 = until Ctrl-C
  double speed = 1;       //!< the simulator's multiple of real time
  int broker_port = 1883;
  //! `weft demo month` (scenario_cli.h): its arguments, and its subcommand once added.
  DemoMonthArgs month;
  CLI::App* month_cmd = nullptr;
};

CLI::App* AddDemoCommand(CLI::App& app, DemoArgs* args);
int RunDemo(const DemoArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_DEMO_CLI_H_
