// `weft demo`: the whole platform on the example plant, on one machine, with embedded defaults.
//
//   weft demo [--dir DIR] [--duration SECONDS] [--speed X] [--broker-port N] [--history-days N]
//   weft demo month ...      (a simulated month into a lake, in-process: scenario_cli.h)
//
// First, once per DIR (--history-days, default 56; 0: none; about a minute): trains the example
// model bearing_risk into DIR/core-state's registry (version 1, and version 2 from other twin
// runs), simulates the plant's last 56 days into DIR/lake with `weft demo month` (the first half
// before the pilots, the second with PdM, the HVAC optimiser and version 1 scoring every motor
// once a minute; the use cases' live_from in DIR/plant.yaml is that day, kept in
// DIR/history.done),
// computes their KPIs (`weft kpi compute`) and version 1's reliability on every motor (`weft
// model monitor --append`). After weft-core starts, demo people (demo_fleet.h EnsureDemoPeople:
// dana data_scientist, otto ot_engineer, ...; tokens in DIR/tokens/, mode 0600) approve version
// 1 and otto promotes it to production; version 2 stays a candidate pending approval. The edge
// runs version 1 on every motor (edge.yaml's inference: section). Unless --no-fleet, a small
// real device fleet joins (demo_fleet.h: mTLS broker, 24 simulated devices, two weft-edge
// gateways, firmware campaigns, a revoked device, a release pending approval).
// A DIR that holds a lake or registry without DIR/history.done (a first run that was stopped,
// or one with --history-days 0) is refused with history: seeding again would mix two histories.
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
  //! Days of history simulated into the lake before the demo starts (once per dir; 0: none).
  int history_days = 56;
  //! A small real device fleet (demo_fleet.h): mTLS broker, devices, gateways, OTA campaigns.
  bool fleet = true;
  //! `weft demo month` (scenario_cli.h): its arguments, and its subcommand once added.
  DemoMonthArgs month;
  CLI::App* month_cmd = nullptr;
};

CLI::App* AddDemoCommand(CLI::App& app, DemoArgs* args);
int RunDemo(const DemoArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_DEMO_CLI_H_
