#include "cli/demo_cli.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/demo_fleet.h"
#include "cli/demo_support.h"
#include "cli/embedded_examples.h"
#include "common/diagnostic.h"
#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "model/plant_loader.h"

extern char** environ;

namespace weft::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::atomic<int> g_demo_signal{0};
void OnDemoSignal(int sig) {
  g_demo_signal.store(sig);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process in its own process group, stdout and stderr to files.
struct Child {
  std::string name;
  pid_t pid = -1;
  fs::path out, log;

  static Result<Child> Spawn(const std::string& name, const std::vector<std::string>& argv,
                             const fs::path& logs) {
    Child c;
    c.name = name;
    c.out = logs / (name + ".out");
    c.log = logs / (name + ".log");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, c.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&c.pid, args[0], &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      return UnavailableError("could not start " + argv[0] + ": " + std::strerror(rc));
    }
    return c;
  }

  bool Running() const {
    if (pid <= 0) return false;
    int status = 0;
    return waitpid(pid, &status, WNOHANG) == 0;
  }

  // SIGTERM, then SIGKILL after `grace`.
  void Stop(milliseconds grace) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    pid = -1;
  }

  // The first match of `pattern`'s group 1 in the child's stdout or log, waiting up to `timeout`.
  std::optional<std::string> WaitForLine(const std::string& pattern, milliseconds timeout) const {
    const std::regex re(pattern);
    std::optional<std::string> found;
    WaitFor(
        [&] {
          for (const fs::path& p : {out, log}) {
            std::smatch m;
            const std::string text = ReadFile(p);
            if (std::regex_search(text, m, re)) {
              found = m[1].str();
              return true;
            }
          }
          return !Running();
        },
        timeout, milliseconds(50), &g_demo_signal);
    return found;
  }
};

std::string FormatSeconds(double s) {
  std::ostringstream o;
  o << s << " s";
  return o.str();
}

std::string Tail(const fs::path& p) {
  std::string text = ReadFile(p);
  if (text.size() > 1500) text = "..." + text.substr(text.size() - 1500);
  return text;
}

}  // namespace

// Waits for a child to end: its exit code (-1 when a signal ended it). Ctrl-C stops it.
Result<int> WaitExit(Child& c) {
  int status = 0;
  while (waitpid(c.pid, &status, WNOHANG) == 0) {
    if (g_demo_signal.load() != 0) {
      c.Stop(seconds(5));
      return UnavailableError(c.name + " stopped by a signal");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  c.pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Waits for a child to end: OK when it exited 0.
Status WaitOk(Child& c) {
  WEFT_ASSIGN_OR_RETURN(int code, WaitExit(c));
  if (code != 0) {
    return InternalError(c.name + " failed (" + c.log.string() + "):\n" + Tail(c.log));
  }
  return Status::Ok();
}

// Runs a program to completion; OK when it exited 0.
Status RunOk(const std::string& name, const std::vector<std::string>& argv, const fs::path& logs) {
  WEFT_ASSIGN_OR_RETURN(Child c, Child::Spawn(name, argv, logs));
  return WaitOk(c);
}

// The demo's model: the example spec trained as version 1 and, with other twin runs (seed 8),
// as version 2 (a retrained candidate). Returns the `inference:` section of edge.yaml that runs
// version 1 on every motor.
constexpr std::string_view kDemoModel = "bearing_risk";

struct DemoModels {
  std::string inference;  //!< the `inference:` section running version 1 (the live edge)
  //! The same for the history: every score (threshold 0) once a minute, as the monitor reads.
  std::string history_inference;
  Child retrain;  //!< version 2's training, still running
};

Result<DemoModels> TrainDemoModels(const fs::path& self, const fs::path& dir,
                                   const fs::path& plant_file, const fs::path& logs) {
  const fs::path models = dir / "models";
  fs::create_directories(models);
  const fs::path spec1 = models / "bearing_risk.yaml", spec2 = models / "bearing_risk_v2.yaml";
  const fs::path constraints = dir / "constraints.yaml";
  std::ofstream(spec1) << kExampleModelSpecYaml;
  std::string retrain(kExampleModelSpecYaml);
  if (size_t at = retrain.find("  seed: 7"); at != std::string::npos) {
    retrain.replace(at, 9, "  seed: 8");
  }
  std::ofstream(spec2) << retrain;
  std::ofstream(constraints) << kExampleConstraintsYaml;
  const fs::path state = dir / "core-state";
  auto train = [&](const fs::path& spec) {
    return std::vector<std::string>{self.string(),   "model",
                                    "train",         spec.string(),
                                    "--state",       state.string(),
                                    "--plant",       plant_file.string(),
                                    "--constraints", constraints.string(),
                                    "--json"};
  };
  WEFT_RETURN_IF_ERROR(RunOk("train-v1", train(spec1), logs));
  DemoModels m;
  WEFT_ASSIGN_OR_RETURN(m.retrain, Child::Spawn("train-v2", train(spec2), logs));
  nlohmann::json v1 = nlohmann::json::parse(ReadFile(logs / "train-v1.out"), nullptr, false);
  if (!v1.is_object() || !v1.contains("artifact_sha256") || !v1.contains("version")) {
    return InternalError("weft model train printed no artifact: " +
                         (logs / "train-v1.out").string());
  }
  const std::string sha = v1["artifact_sha256"].get<std::string>();
  const fs::path artifact = state / "artifacts" / "sha256" / sha.substr(0, 2) / sha;
  auto section = [&](std::string_view threshold, std::string_view period) {
    std::ostringstream o;
    o << "inference:\n"
      << "  constraints: " << constraints.string() << "\n"
      << "  models:\n"
      << "    - name: " << kDemoModel << "\n"
      << "      artifact: " << artifact.string() << "\n"
      << "      sha256: \"" << sha << "\"\n"
      << "      version: \"" << v1["version"].get<std::string>() << "\"\n"
      << "      asset_type: motor\n"
      << "      output: failure_risk\n"
      << "      window: 32\n"
      << "      threshold: " << threshold << "\n"
      << "      period: " << period << "\n"
      << "      features:\n"
      << "        - {signal: vibration_rms, stats: [last, mean, max, slope]}\n"
      << "        - {signal: bearing_temp_de, stats: [last, mean, slope]}\n"
      << "        - {signal: winding_temp, stats: [last]}\n"
      << "        - {signal: current, stats: [mean]}\n";
    return o.str();
  };
  m.inference = section("0.5", "10s");
  m.history_inference = section("0", "60s");
  return m;
}

// The plant's history, once per DIR: `history_days` simulated days that end at today's UTC
// midnight, the pilots live from `live_from` (before: the plant as it ran without them; after:
// PdM, the HVAC optimiser and the model), then the KPIs over them. Trains the demo's model first
// (versions 1 and 2 into DIR/core-state's registry); returns the `inference:` section that runs
// version 1. About 50 s.
Result<std::string> SeedHistory(const fs::path& self, const fs::path& dir,
                                const fs::path& plant_file, const model::Plant& plant,
                                const fs::path& logs, int history_days,
                                std::chrono::sys_days live_from, const Clock& clock,
                                std::ostream& out) {
  WEFT_ASSIGN_OR_RETURN(DemoModels models, TrainDemoModels(self, dir, plant_file, logs));
  std::ofstream(dir / "inference.yaml") << models.inference;
  const fs::path history_inference = dir / "inference-history.yaml";
  std::ofstream(history_inference) << models.history_inference;
  const auto today = std::chrono::floor<std::chrono::days>(clock.Now());
  const int live = static_cast<int>((today - live_from).count());
  const int baseline = history_days - live;
  const std::string start = FormatDate(live_from);
  const std::string first = FormatDate(today - std::chrono::days(history_days));
  const std::string end = FormatDate(today);
  std::vector<std::string> month = {self.string(),
                                    "demo",
                                    "month",
                                    "--lake",
                                    (dir / "lake").string(),
                                    "--plant",
                                    plant_file.string(),
                                    "--start",
                                    start,
                                    "--days",
                                    std::to_string(live),
                                    "--baseline-days",
                                    std::to_string(baseline),
                                    "--inference",
                                    history_inference.string()};
  const Status history = RunOk("history", month, logs);
  WEFT_RETURN_IF_ERROR(WaitOk(models.retrain));
  WEFT_RETURN_IF_ERROR(history);
  // The KPIs, and the model's reliability on every motor (model_monitoring), two at a time.
  WEFT_ASSIGN_OR_RETURN(
      Child kpi, Child::Spawn("kpi",
                              {self.string(), "kpi", "compute", "--lake", (dir / "lake").string(),
                               "--plant", plant_file.string(), "--from", first, "--to", end},
                              logs));
  int monitored = 0;
  for (const model::Asset* a : plant.AllAssets()) {
    if (!plant.IsA(a->type, "motor")) continue;
    WEFT_RETURN_IF_ERROR(RunOk(
        "monitor-" + a->id,
        {self.string(), "model", "monitor", std::string(kDemoModel), "--version", "1", "--asset",
         a->id, "--from", start + "T00:00:00Z", "--to", end + "T00:00:00Z", "--lake",
         (dir / "lake").string(), "--state", (dir / "core-state").string(), "--append"},
        logs));
    ++monitored;
  }
  WEFT_RETURN_IF_ERROR(WaitOk(kpi));
  out << "weft demo: history " << first << " .. " << end << " (pilots live from " << start
      << "), its KPIs, " << kDemoModel << " versions 1 and 2 in the registry, version 1's "
      << "predictions and its monitoring on " << monitored << " motors\n";
  return models.inference;
}

// Version 1 of the demo's model goes to production as the board requires: approved by a data
// scientist and an OT engineer, promoted by the OT engineer. Version 2 stays a candidate whose
// approvals are pending. Skipped when production is already set (a kept --dir).
Status PromoteDemoModel(const ApiTarget& admin, const fs::path& dir, std::ostream& err) {
  const std::string model = "/api/v1/models/" + std::string(kDemoModel);
  WEFT_ASSIGN_OR_RETURN(ApiAnswer now, CallApiOk(admin, "GET", model, "", err));
  if (now.body.find("\"production\"") != std::string::npos) return Status::Ok();
  WEFT_ASSIGN_OR_RETURN(auto tokens, EnsureDemoPeople(admin, dir / "tokens"));
  ApiTarget ds = admin, ot = admin;
  ds.token = tokens.at("dana");
  ot.token = tokens.at("otto");
  const std::string v1 = model + "/versions/1/approve";
  WEFT_RETURN_IF_ERROR(
      CallApiOk(ds, "POST", v1,
                R"({"role": "data_scientist", "comment": "held-out F1 above the baseline"})", err)
          .status());
  WEFT_RETURN_IF_ERROR(
      CallApiOk(ot, "POST", v1,
                R"({"role": "ot_engineer", "comment": "physics validation passed"})", err)
          .status());
  return CallApiOk(ot, "POST", model + "/aliases/production", R"({"version": "1"})", err).status();
}

CLI::App* AddDemoCommand(CLI::App& app, DemoArgs* args) {
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Run simulator, edge and core on the example plant (and mosquitto if none is running)");
  cmd->add_option("--dir", args->dir,
                  "working directory: lake, buffer, logs (default: "
                  "$TMPDIR/weft-demo)");
  cmd->add_option("--duration", args->duration_s, "stop by itself after this many seconds");
  cmd->add_option("--speed", args->speed, "simulated time per real time")->capture_default_str();
  cmd->add_option("--broker-port", args->broker_port, "MQTT port on 127.0.0.1")
      ->capture_default_str();
  cmd->add_flag("!--no-fleet", args->fleet,
                "no device fleet (its mTLS broker, devices, gateways, OTA campaigns)");
  cmd->add_option("--history-days", args->history_days,
                  "days of plant history (half before the pilots, half after), the KPIs over "
                  "them and the demo's model, made once per --dir (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 366));
  args->month_cmd = AddDemoMonthCommand(*cmd, &args->month);
  return cmd;
}

int RunDemo(const DemoArgs& args, std::ostream& out, std::ostream& err, const Clock& clock) {
  if (args.month_cmd != nullptr && args.month_cmd->parsed()) {
    return RunDemoMonth(args.month, out, err);
  }
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path bin = self.parent_path();
  const fs::path tmp = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
  const fs::path dir = args.dir.empty() ? tmp / "weft-demo" : fs::absolute(args.dir);
  const fs::path logs = dir / "logs";
  fs::create_directories(logs, ec);
  if (ec) {
    err << "weft demo: cannot create " << logs << ": " << ec.message() << "\n";
    return kExitInvalidInput;
  }
  for (const char* program : {"weft-sim", "weft-edge", "weft-core"}) {
    if (!fs::exists(bin / program)) {
      err << "weft demo: " << (bin / program) << " not found (build all apps: "
          << "bash scripts/build.sh build)\n";
      return kExitInvalidInput;
    }
  }
  // The example plant, embedded at build time. With a history, its use cases went live halfway
  // through it (kept in DIR/history.done for later runs): their KPIs are judged against the
  // plant's own measured baseline before that day.
  const fs::path seeded = dir / "history.done";
  std::optional<std::chrono::sys_days> live_from;
  if (args.history_days > 0) {
    std::smatch m;
    const std::string kept = ReadFile(seeded);
    const auto today = std::chrono::floor<std::chrono::days>(clock.Now());
    Result<std::chrono::sys_days> day = InvalidArgumentError("none kept");
    if (std::regex_search(kept, m, std::regex(R"(live_from: (\d{4}-\d{2}-\d{2}))"))) {
      day = ParseDate(m[1].str());
    }
    live_from = day.ok() ? *day : today - std::chrono::days(args.history_days / 2);
  }
  const fs::path plant_file = dir / "plant.yaml";
  std::ofstream(plant_file) << (live_from
                                    ? std::regex_replace(std::string(kExamplePlantYaml),
                                                         std::regex(R"(live_from: \S+)"),
                                                         "live_from: " + FormatDate(*live_from))
                                    : std::string(kExamplePlantYaml));
  const fs::path views_file = dir / "views.yaml", rules_file = dir / "tag_rules.yaml";
  std::ofstream(views_file) << kExampleViewsYaml;
  std::ofstream(rules_file) << kExampleTagRulesYaml;
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(plant_file.string(), &diags);
  if (!plant.ok()) {
    err << "weft demo: the embedded plant does not load: " << plant.status().message() << "\n";
    return kExitInvalidInput;
  }
  std::set<std::string> plcs;  // distinct Modbus endpoints, as the simulator serves them
  for (const model::Asset* a : plant->AllAssets()) {
    if (a->connection.modbus) {
      plcs.insert(a->connection.modbus->host + ":" + std::to_string(a->connection.modbus->port));
    }
  }

  std::signal(SIGINT, OnDemoSignal);
  std::signal(SIGTERM, OnDemoSignal);

  // 0. Once per DIR: the demo's model and the plant's history with its KPIs.
  std::string inference;
  if (args.history_days > 0 && fs::exists(seeded, ec)) {
    inference = ReadFile(dir / "inference.yaml");
    out << "weft demo: history, KPIs and model kept from the last run in " << dir.string() << "\n";
  } else if (args.history_days > 0 &&
             (fs::exists(dir / "lake", ec) || fs::exists(dir / "core-state" / "models.db", ec))) {
    // A first run stopped before its history was complete (or a run with --history-days 0):
    // seeding again would add model versions and mix two histories.
    err << "weft demo: " << dir.string() << " holds a lake or registry without a finished "
        << "history (a first run that was stopped, or --history-days 0): use a new --dir, or "
        << "--history-days 0 to run on it as it is\n";
    return kExitInvalidInput;
  } else if (args.history_days > 0) {
    out << "weft demo: training " << kDemoModel << " and simulating " << args.history_days
        << " days of history (once per --dir, about a minute)" << std::endl;
    Result<std::string> s =
        SeedHistory(self, dir, plant_file, *plant, logs, args.history_days, *live_from, clock, out);
    if (!s.ok()) {
      err << "weft demo: " << s.status().message() << "\n";
      return kExitInvalidInput;
    }
    inference = *s;
    std::ofstream(seeded) << "history_days: " << args.history_days
                          << "\nlive_from: " << FormatDate(*live_from) << "\n";
  }
  std::vector<Child> children;  // started in order, stopped in reverse
  auto stop_all = [&] {
    for (auto it = children.rbegin(); it != children.rend(); ++it) it->Stop(seconds(10));
    children.clear();
  };
  auto fail = [&](const std::string& what, const Child* c) {
    err << "weft demo: " << what << "\n";
    if (c != nullptr) err << "--- " << c->log.string() << ":\n" << Tail(c->log) << "\n";
    stop_all();
    return kExitInvalidInput;
  };

  // 1. The broker.
  const std::string broker = "mqtt://127.0.0.1:" + std::to_string(args.broker_port);
  std::string broker_note = "already running";
  if (!LoopbackListening(args.broker_port)) {
    const fs::path conf = dir / "mosquitto.conf";
    fs::create_directories(dir / "mosquitto", ec);
    // mosquitto started as root drops to its own user: let it write its persistence file.
    fs::permissions(dir / "mosquitto", fs::perms::all, ec);
    std::ofstream(conf) << "listener " << args.broker_port << " 127.0.0.1\n"
                        << "allow_anonymous true\n"
                        << "persistence true\n"
                        << "persistence_location " << (dir / "mosquitto").string() << "/\n"
                        << "max_queued_messages 0\n";
    Result<Child> c = Child::Spawn("mosquitto", {"mosquitto", "-c", conf.string()}, logs);
    if (!c.ok()) return fail(c.status().message() + " (is mosquitto installed?)", nullptr);
    children.push_back(*c);
    if (!WaitFor([&] { return LoopbackListening(args.broker_port); }, seconds(10), milliseconds(50),
                 &g_demo_signal)) {
      return fail("mosquitto did not start on port " + std::to_string(args.broker_port),
                  &children.back());
    }
    broker_note = "started by the demo, pid " + std::to_string(children.back().pid);
  }

  // 2. The core first, so that it is subscribed before the first batch. It serves the dashboard
  // when its build is next to the programs (<build>/web, the CMake target weft_web).
  std::vector<std::string> core_argv = {(bin / "weft-core").string(),
                                        "--lake",
                                        (dir / "lake").string(),
                                        "--state",
                                        (dir / "core-state").string(),
                                        "--broker",
                                        broker,
                                        "--http",
                                        "127.0.0.1:0",
                                        "--api-listen",
                                        "127.0.0.1:0",
                                        "--views",
                                        views_file.string(),
                                        "--tag-rules",
                                        rules_file.string(),
                                        "--plant",
                                        plant_file.string()};
  // The fleet's factory identities and weft-core's arguments for it (manufacturer CA, broker).
  DemoFleetContext fleet{
      .dir = dir,
      .bin = bin,
      .core_state = dir / "core-state",
      .plant_broker = "127.0.0.1:" + std::to_string(args.broker_port),
      .plant = plant_file,
      .inference = inference,
      .model = std::string(kDemoModel),
      .install_seconds = 10,
      .run = [&](const std::string& name, const std::vector<std::string>& argv) -> Result<int> {
        WEFT_ASSIGN_OR_RETURN(Child c, Child::Spawn(name, argv, logs));
        return WaitExit(c);
      },
      .start = [&](const std::string& name, const std::vector<std::string>& argv) -> Status {
        WEFT_ASSIGN_OR_RETURN(Child c, Child::Spawn(name, argv, logs));
        children.push_back(c);
        return Status::Ok();
      }};
  if (args.fleet) {
    Result<std::vector<std::string>> extra = PrepareDemoFleet(fleet);
    if (!extra.ok()) return fail("preparing the fleet: " + extra.status().message(), nullptr);
    core_argv.insert(core_argv.end(), extra->begin(), extra->end());
  }
  const fs::path web_root = bin.parent_path() / "web";
  const bool dashboard = fs::exists(web_root / "index.html", ec);
  if (dashboard) core_argv.insert(core_argv.end(), {"--web-root", web_root.string()});
  Result<Child> core = Child::Spawn("weft-core", core_argv, logs);
  if (!core.ok()) return fail(core.status().message(), nullptr);
  children.push_back(*core);
  std::optional<std::string> core_port =
      children.back().WaitForLine(R"(http=127\.0\.0\.1:(\d+))", seconds(20));
  if (!core_port) return fail("weft-core did not start", &children.back());
  const std::optional<std::string> api_url =
      children.back().WaitForLine(R"(api=(https://\S+))", seconds(1));

  std::string admin_token = ReadFile(dir / "core-state" / "admin.token");
  admin_token = admin_token.substr(0, admin_token.find_first_of(" \t\r\n"));
  if (!inference.empty() && api_url) {
    const ApiTarget admin{.api = *api_url,
                          .ca = (dir / "core-state" / "tls" / "cert.pem").string(),
                          .insecure = false,
                          .token = admin_token};
    std::ostringstream api_err;
    Status promoted = PromoteDemoModel(admin, dir, api_err);
    if (!promoted.ok()) {
      return fail("promoting the demo's model: " + promoted.message() + " " + api_err.str(),
                  &children.back());
    }
  }

  std::ostringstream fleet_out;
  if (args.fleet && api_url) {
    const ApiTarget api{.api = *api_url,
                        .ca = (dir / "core-state" / "tls" / "cert.pem").string(),
                        .insecure = false,
                        .token = {}};
    Result<DemoFleetSummary> f = StartDemoFleet(fleet, api, admin_token, fleet_out);
    if (!f.ok()) return fail("starting the fleet: " + f.status().message(), nullptr);
  }

  // 3. The simulator, with its PLCs on free local ports.
  const int plc_port = FreeLoopbackPorts(21000, 32000, static_cast<int>(plcs.size()) + 1);
  std::vector<std::string> sim_argv = {
      (bin / "weft-sim").string(), "--plant", plant_file.string(), "--broker", broker, "--speed",
      std::to_string(args.speed)};
  if (!plcs.empty()) {
    sim_argv.insert(sim_argv.end(), {"--modbus-port", std::to_string(plc_port)});
  }
  Result<Child> sim = Child::Spawn("weft-sim", sim_argv, logs);
  if (!sim.ok()) return fail(sim.status().message(), nullptr);
  children.push_back(*sim);
  std::string endpoints;
  if (!plcs.empty()) {
    const Child& s = children.back();
    if (!WaitFor(
            [&] {
              const std::string text = ReadFile(s.log);
              size_t n = 0;
              for (size_t p = text.find("weft-sim: PLC "); p != std::string::npos;
                   p = text.find("weft-sim: PLC ", p + 1)) {
                ++n;
              }
              return n >= plcs.size() || !s.Running();
            },
            seconds(20), milliseconds(50), &g_demo_signal) ||
        !s.Running()) {
      return fail("weft-sim did not start its PLCs", &s);
    }
    // "weft-sim: PLC 10.20.0.31:502/1 -> 127.0.0.1:21000" (the plant address with its unit id)
    const std::regex re(R"(weft-sim: PLC ([^ /]+)(?:/\S*)? -> (127\.0\.0\.1:\d+))");
    const std::string text = ReadFile(s.log);
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
      endpoints += (endpoints.empty() ? "" : ", ") +
                   ("\"" + (*it)[1].str() + "\": \"" + (*it)[2].str() + "\"");
    }
  }

  // 4. The edge.
  const fs::path edge_yaml = dir / "edge.yaml";
  std::ofstream(edge_yaml)
      << "# Generated by `weft demo`.\n"
      << "weft_edge: 1\nid: demo-edge\nplant: " << plant_file.string() << "\n"
      << "broker: {url: \"" << broker << "\"}\n"
      << "sources:\n  sparkplug: {enabled: true}\n  json: {enabled: true}\n"
      << "  modbus: {enabled: " << (plcs.empty() ? "false" : "true")
      << ", timeout: 500ms, endpoints: {" << endpoints << "}}\n"
      << "uplink:\n  dir: " << (dir / "edge-buffer").string() << "\n  ack: core\n"
      << "  batch: {max_samples: 5000, max_interval: 1s}\n"
      << "http: {listen: \"127.0.0.1:0\"}\n"
      << "pipeline:\n  defaults: {max_interval: 60s, priority: normal}\n"
      << "  asset_types:\n    motor:\n      signals:\n"
      << "        vibration_rms: {deadband: 1%, window: 10s, stats: [mean, max, std], "
         "route: raw+aggregate}\n"
      << inference;
  Result<Child> edge = Child::Spawn(
      "weft-edge", {(bin / "weft-edge").string(), "--config", edge_yaml.string()}, logs);
  if (!edge.ok()) return fail(edge.status().message(), nullptr);
  children.push_back(*edge);
  std::optional<std::string> edge_port =
      children.back().WaitForLine(R"(http=127\.0\.0\.1:(\d+))", seconds(20));
  if (!edge_port) return fail("weft-edge did not start", &children.back());

  // The dashboard link carries the admin token in its fragment (never sent to the server; the
  // page moves it to the tab's sessionStorage), as the token file itself is there to read.
  out << "weft demo: the example plant, simulated, through an edge into the lake\n"
      << "  broker     " << broker << " (" << broker_note << ")\n"
      << "  weft-sim   pid " << children[children.size() - 2].pid << ", speed " << args.speed
      << "x: Sparkplug B and JSON on the broker";
  if (!plcs.empty()) {
    out << ", " << plcs.size() << " Modbus PLCs on 127.0.0.1:" << plc_port << "-"
        << plc_port + static_cast<int>(plcs.size()) - 1;
  }
  out << "\n  weft-edge  pid " << children.back().pid << ", http://127.0.0.1:" << *edge_port
      << "/metrics, config " << edge_yaml.string() << "\n"
      << "  weft-core  http://127.0.0.1:" << *core_port << "/metrics"
      << (api_url ? ", API " + *api_url + "/api/v1 (admin token in " +
                        (dir / "core-state" / "admin.token").string() + ", certificate " +
                        (dir / "core-state" / "tls" / "cert.pem").string() + ")"
                  : std::string())
      << "\n"
      << "  dashboard  "
      << (!dashboard ? std::string("not built (npm ci in web/, then build the target weft_web)")
          : !api_url ? std::string("no API")
                     : *api_url + "/#token=" + admin_token +
                           " (admin; self-signed certificate: accept it in the browser)")
      << "\n"
      << fleet_out.str() << "  lake       " << (dir / "lake").string()
      << "/{telemetry,aggregates,events,predictions} (Delta tables)\n"
      << "  logs       " << logs.string() << "\n"
      << (args.duration_s > 0 ? "running for " + FormatSeconds(args.duration_s)
                              : std::string("Ctrl-C stops everything"))
      << std::endl;

  const auto started = std::chrono::steady_clock::now();
  std::string stopped_by = "Ctrl-C";
  while (g_demo_signal.load() == 0) {
    if (args.duration_s > 0 && std::chrono::steady_clock::now() - started >=
                                   std::chrono::duration<double>(args.duration_s)) {
      stopped_by = "--duration";
      break;
    }
    bool all_up = true;
    for (const Child& c : children) {
      if (!c.Running()) {
        err << "weft demo: " << c.name << " exited\n" << Tail(c.log) << "\n";
        all_up = false;
      }
    }
    if (!all_up) {
      stopped_by = "a failed process";
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  out << "weft demo: stopping (" << stopped_by << ")" << std::endl;
  // The simulator first; the edge gets time to ship its last batches and the core to commit
  // them, then the rest in reverse order of start.
  for (Child& c : children) {
    if (c.name == "weft-sim") c.Stop(seconds(10));
  }
  std::this_thread::sleep_for(seconds(3));
  stop_all();
  for (int t = 0; t < core::kLakeTableCount; ++t) {
    const auto id = static_cast<core::LakeTableId>(t);
    auto table = core::OpenTable((dir / "lake").string(), id, &clock);
    if (!table.ok()) continue;
    Result<int64_t> n = (*table)->Count();
    out << "  " << core::LakeTableName(id) << ": " << (n.ok() ? std::to_string(*n) : "?")
        << " rows\n";
  }
  return stopped_by == "a failed process" ? kExitInvalidInput : kExitOk;
}

}  // namespace weft::cli
