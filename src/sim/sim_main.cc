#include "sim/sim_main.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <fstream>
#include <string_view>

#include "common/log.h"
#include "model/plant_loader.h"
#include "sim/fault_commands.h"
#include "sim/fleet_sim.h"
#include "sim/json_publisher.h"
#include "sim/modbus_plc.h"
#include "sim/recorder.h"
#include "sim/simulator.h"
#include "sim/sparkplug_publisher.h"

namespace weft::sim {
namespace {

std::atomic<Simulator*> g_running{nullptr};

extern "C" void OnSignal(int) {
  if (Simulator* s = g_running.load()) s->Stop();
}

}  // namespace

int SimMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  // Device fleets (issue 9) are subcommands; without one, weft-sim simulates a plant.
  if (argc >= 2) {
    std::string_view sub = argv[1];
    if (sub == "factory") return FactoryMain(argc - 1, argv + 1, out, err);
    if (sub == "fleet") return FleetMain(argc - 1, argv + 1, out, err);
  }
  CLI::App app{
      "weft-sim: digital twins of a plant, speaking Sparkplug B, JSON over MQTT and "
      "Modbus TCP",
      "weft-sim"};
  std::string plant_path, broker_url, faults_path, labels_path, record_path;
  std::string log_level = "info";
  int modbus_port = 0;
  double speed = 1.0;
  uint64_t seed = 1;
  double duration_s = 0;
  double plc_watchdog_s = 10;
  app.add_option("--plant", plant_path, "plant.yaml to simulate")->required();
  app.add_option("--broker", broker_url, "MQTT broker, e.g. mqtt://127.0.0.1:1883");
  app.add_option("--modbus-port", modbus_port,
                 "first TCP port of the simulated PLCs (0: no Modbus)");
  app.add_option("--speed", speed, "multiple of real time; 0 = as fast as possible")
      ->capture_default_str();
  app.add_option("--seed", seed, "random seed (same seed, same samples)")->capture_default_str();
  app.add_option("--duration", duration_s, "simulated seconds to run (0: until stopped)");
  app.add_option("--plc-watchdog", plc_watchdog_s,
                 "HVAC zone PLCs: seconds (simulated) without a heartbeat change before a zone "
                 "leaves remote control for its local schedule")
      ->capture_default_str();
  app.add_option("--faults", faults_path, "fault schedule (YAML)");
  app.add_option("--labels", labels_path, "write the faults' ground truth here (CSV)");
  app.add_option("--record", record_path, "write every sample produced here (CSV)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }
  auto level = ParseLogLevel(log_level);
  if (!level.ok()) {
    err << "weft-sim: " << level.status().message() << "\n";
    return 2;
  }
  InitLogging(*level);
  if (speed < 0 || duration_s < 0 || modbus_port < 0 || modbus_port > 65535) {
    err << "weft-sim: --speed and --duration are 0 or more, --modbus-port 0 to 65535\n";
    return 2;
  }
  if (!(plc_watchdog_s >= 0.001 && plc_watchdog_s <= 86400)) {
    err << "weft-sim: --plc-watchdog is from 0.001 to 86400 seconds, got " << plc_watchdog_s
        << "\n";
    return 2;
  }

  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(plant_path, &diags);
  if (!plant.ok()) {
    err << (diags.all().empty() ? plant.status().message() + "\n" : diags.ToString());
    return diags.all().empty() ? 2 : 1;
  }
  std::vector<ScheduledFault> faults;
  if (!faults_path.empty()) {
    Diagnostics fd;
    auto f = LoadFaultSchedule(faults_path, *plant, &fd);
    if (!f.ok()) {
      err << (fd.all().empty() ? f.status().message() + "\n" : fd.ToString());
      return fd.all().empty() ? 2 : 1;
    }
    faults = std::move(*f);
  }
  SimOptions options;
  options.seed = seed;
  options.speed = speed;
  options.plc_watchdog = Micros(static_cast<int64_t>(plc_watchdog_s * 1e6));
  if (duration_s > 0) options.duration = Micros(static_cast<int64_t>(duration_s * 1e6));
  if (speed > 0) {
    // Real time (or a multiple of it) starts now; generated data keeps a fixed epoch.
    options.start = std::chrono::floor<std::chrono::seconds>(SystemClock::Default().Now());
  }
  auto sim = Simulator::Create(*plant, options, std::move(faults));
  if (!sim.ok()) {
    err << "weft-sim: " << sim.status().message() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<SampleSink>> sinks;
  std::unique_ptr<FaultCommands> fault_commands;
  if (!record_path.empty()) {
    auto rec = CsvRecorder::Create(record_path, **sim);
    if (!rec.ok()) {
      err << "weft-sim: " << rec.status().message() << "\n";
      return 3;
    }
    sinks.push_back(std::move(*rec));
  }
  if (!broker_url.empty()) {
    auto broker = mqtt::BrokerAddress::Parse(broker_url);
    if (!broker.ok()) {
      err << "weft-sim: --broker: " << broker.status().message() << "\n";
      return 2;
    }
    auto json = JsonPublisher::Create(**sim, *broker);
    if (!json.ok()) {
      err << "weft-sim: " << json.status().message() << "\n";
      return 3;
    }
    sinks.push_back(std::move(*json));
    auto sparkplug = SparkplugPublisher::Create(**sim, *broker);
    if (!sparkplug.ok()) {
      err << "weft-sim: " << sparkplug.status().message() << "\n";
      return 3;
    }
    sinks.push_back(std::move(*sparkplug));
    auto commands = FaultCommands::Start(**sim, *broker);
    if (!commands.ok()) {
      err << "weft-sim: " << commands.status().message() << "\n";
      return 3;
    }
    fault_commands = std::move(*commands);
  }
  if (modbus_port > 0) {
    auto plc = ModbusPlc::Start(**sim, static_cast<uint16_t>(modbus_port));
    if (!plc.ok()) {
      err << "weft-sim: " << plc.status().message() << "\n";
      return 3;
    }
    for (const auto& e : (*plc)->endpoints()) {
      err << "weft-sim: PLC " << e.plant_address << " -> 127.0.0.1:" << e.local_port << "\n";
    }
    sinks.push_back(std::move(*plc));
  }
  for (auto& s : sinks) (*sim)->AddSink(s.get());

  g_running.store(sim->get());
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto wall0 = std::chrono::steady_clock::now();
  Status run = (*sim)->Run();
  g_running.store(nullptr);
  double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  if (!labels_path.empty()) {
    std::ofstream labels(labels_path, std::ios::trunc);
    labels << LabelsToCsv((*sim)->labels());
    if (!labels.flush()) {
      err << "weft-sim: cannot write labels to '" << labels_path << "'\n";
      return 3;
    }
  }
  uint64_t n = (*sim)->samples_produced();
  spdlog::info("{} samples of {} signals in {:.3f} s ({:.0f} samples/s)", n,
               (*sim)->signals().size(), wall_s, static_cast<double>(n) / std::max(wall_s, 1e-9));
  if (!run.ok()) {
    err << "weft-sim: " << run.message() << "\n";
    return 3;
  }
  return 0;
}

}  // namespace weft::sim
