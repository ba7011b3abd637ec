#include "cli/demo_fleet.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "cli/demo_support.h"
#include "common/file_io.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kAllowlistHeader = "serial,device_id,site,hardware_model";
constexpr std::string_view kBaseFirmware = "1.0.0";
constexpr std::string_view kReleasedFirmware = "1.1.0";
constexpr std::string_view kPendingFirmware = "1.2.0";
constexpr std::string_view kPendingHardware = "edge-gw-3";
constexpr std::string_view kFirmwareName = "weft-gateway";

// The demo's people: each holds one role on every scope.
struct DemoPerson {
  std::string_view id, role, display_name;
};
constexpr DemoPerson kPeople[] = {
    {"sam", "security_lead", "Sam (security lead)"},
    {"otto", "ot_engineer", "Otto (OT engineer)"},
    {"dana", "data_scientist", "Dana (data scientist)"},
    {"olga", "ops_manager", "Olga (operations manager)"},
};

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

std::string Fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The demo's own small files (tokens, the broker's port and configuration, allowlists).
Result<std::string> ReadText(const fs::path& p) {
  return ReadFileUpTo(p.string(), size_t{16} << 20);
}

// Written whole or not at all (tmp + rename), with `mode` from the first byte on: a token file
// is never readable by others, not even for a moment.
Status WriteText(const fs::path& p, std::string_view text, mode_t mode = 0644) {
  const fs::path tmp = p.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ok = false;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), p.c_str()) != 0) {
    return UnavailableError("cannot write " + p.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// One API call as `who`; the answer's JSON (null for an empty body). An HTTP status outside 2xx
// and `also_ok` is FailedPrecondition naming the call and the API's error.
Result<json> Call(const ApiTarget& who, std::string_view method, const std::string& path,
                  const std::string& body = "", std::initializer_list<int> also_ok = {}) {
  std::ostringstream warnings;  // CallApi writes only an --insecure warning there
  WEFT_ASSIGN_OR_RETURN(ApiAnswer a, CallApi(who, method, path, body, warnings));
  if (!a.ok() && std::find(also_ok.begin(), also_ok.end(), a.status) == also_ok.end()) {
    return FailedPreconditionError(std::string(method) + " " + path + ": " + ApiErrorText(a));
  }
  if (a.body.empty() || !a.ok()) return json(nullptr);
  json j = json::parse(a.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return DataLossError(std::string(method) + " " + path + ": the answer is not JSON");
  }
  return j;
}

std::string Query(std::initializer_list<std::pair<std::string_view, std::string>> params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += (q.empty() ? "?" : "&") + std::string(k) + "=" + PathSegment(v);
  }
  return q;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : std::string(sep)) + x;
  return s;
}

// A demo firmware image: a readable header, then 48 KiB that depend on the version only, so the
// same version always has the same sha256 (an upload on a kept DIR finds its artifact again).
std::string DemoFirmwareImage(std::string_view version) {
  std::string image = "WEFT gateway firmware " + std::string(version) + "\n";
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (char c : version) x = (x ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  for (size_t i = 0; i < 48 * 1024; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    image.push_back(static_cast<char>(x & 0xff));
  }
  return image;
}

// Principals and tokens --------------------------------------------------------------------

}  // namespace

Result<std::map<std::string, std::string>> EnsureDemoPeople(const ApiTarget& admin,
                                                            const fs::path& token_dir) {
  std::error_code ec;
  fs::create_directories(token_dir, ec);
  for (const DemoPerson& p : kPeople) {
    json body = {{"id", p.id}, {"kind", "user"}, {"display_name", p.display_name}};
    WEFT_RETURN_IF_ERROR(Call(admin, "POST", "/api/v1/principals", body.dump(), {409}).status());
  }
  WEFT_ASSIGN_OR_RETURN(json all, Call(admin, "GET", "/api/v1/principals"));
  for (const DemoPerson& p : kPeople) {
    bool granted = false;
    for (const json& q : all.value("principals", json::array())) {
      if (q.value("id", "") != p.id) continue;
      for (const json& g : q.value("grants", json::array())) {
        granted = granted || (g.value("role", "") == p.role && g.value("scope", "") == "*");
      }
    }
    if (granted) continue;
    json g = {{"principal_id", p.id}, {"role", p.role}, {"scope", "*"}};
    WEFT_RETURN_IF_ERROR(Call(admin, "POST", "/api/v1/grants", g.dump()).status());
  }
  std::map<std::string, std::string> tokens;
  for (const DemoPerson& p : kPeople) {
    const std::string id(p.id);
    const fs::path file = token_dir / (id + ".token");
    if (Result<std::string> kept = ReadText(file); kept.ok()) {
      std::string t = kept->substr(0, kept->find_first_of(" \t\r\n"));
      ApiTarget who = admin;
      who.token = t;
      std::ostringstream ignored;
      Result<ApiAnswer> me = CallApi(who, "GET", "/api/v1/whoami", "", ignored);
      if (!t.empty() && me.ok() && me->ok()) {
        tokens[id] = t;
        continue;
      }
    }
    WEFT_ASSIGN_OR_RETURN(json issued,
                          Call(admin, "POST", "/api/v1/principals/" + id + "/tokens", "{}"));
    if (!issued.is_object() || !issued.contains("token") || !issued["token"].is_string()) {
      return DataLossError("POST /api/v1/principals/" + id + "/tokens: no token in the answer");
    }
    tokens[id] = issued["token"].get<std::string>();
    WEFT_RETURN_IF_ERROR(WriteText(file, tokens[id] + "\n", 0600));
  }
  return tokens;
}

namespace {

// Processes --------------------------------------------------------------------------------

Status RunOk(const DemoFleetContext& ctx, const std::string& name,
             const std::vector<std::string>& argv) {
  WEFT_ASSIGN_OR_RETURN(int code, ctx.run(name, argv));
  if (code != 0) {
    return InternalError(name + " exited with " + std::to_string(code) + " (see the demo's logs/" +
                         name + ".log)");
  }
  return Status::Ok();
}

fs::path BatchDir(const fs::path& fleet, const DemoFleetBatch& b) {
  return fleet / "factory" / b.name;
}

std::string SerialOf(const DemoFleetBatch& b, int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", index);
  return b.serial_prefix + buf;
}

Result<int> StoredBrokerPort(const fs::path& fleet) {
  WEFT_ASSIGN_OR_RETURN(std::string text, ReadText(fleet / "broker.port"));
  const int port = std::atoi(text.c_str());
  if (port <= 0 || port > 65535) {
    return DataLossError((fleet / "broker.port").string() + " holds no port: '" +
                         text.substr(0, 20) + "'");
  }
  return port;
}

// The gateway's files: factory/ (links to its factory identity, the core's CA) and edge.yaml.
Result<fs::path> WriteGateway(const DemoFleetContext& ctx, const ApiTarget& api,
                              const DemoFleetBatch& b) {
  const std::string id = DemoDeviceId(b, 1);
  const fs::path gw = ctx.dir / "fleet" / "gateways" / id;
  const fs::path factory = gw / "factory";
  std::error_code ec;
  fs::create_directories(factory, ec);
  if (ec) return UnavailableError("cannot create " + factory.string() + ": " + ec.message());
  for (const char* f : {"factory.pem", "factory.key"}) {
    const fs::path link = factory / f;
    if (fs::is_symlink(link, ec) || fs::exists(link, ec)) continue;
    fs::create_symlink(BatchDir(ctx.dir / "fleet", b) / SerialOf(b, 1) / f, link, ec);
    if (ec) return UnavailableError("cannot link " + link.string() + ": " + ec.message());
  }
  WEFT_ASSIGN_OR_RETURN(std::string ca, ReadText(api.ca));
  WEFT_RETURN_IF_ERROR(WriteText(factory / "core-ca.pem", ca));
  std::ostringstream y;
  y << "# Generated by `weft demo` (src/cli/demo_fleet.cc): a fleet gateway that provisions\n"
    << "# itself against weft-core and takes OTA campaigns; it benchmarks the models it gets.\n"
    << "weft_edge: 1\n"
    << "plant: " << ctx.plant.string() << "\n"
    << "scope: [" << b.site << "]\n"
    << "firmware: \"" << kBaseFirmware << "\"\n"
    << "sources:\n  sparkplug: {enabled: false}\n  json: {enabled: false}\n"
    << "  modbus: {enabled: false}\n"
    << "uplink: {dir: " << (gw / "buffer").string() << ", ack: broker}\n"
    << "http: {listen: \"127.0.0.1:0\"}\n"
    << "provisioning: {core: \"" << api.api << "\", factory_dir: " << factory.string()
    << ", state_dir: " << (gw / "state").string() << "}\n"
    << ctx.inference;
  WEFT_RETURN_IF_ERROR(WriteText(gw / "edge.yaml", y.str()));
  return gw / "edge.yaml";
}

// The factory the running weft-sim fleet sees: links to every simulated device's identity but
// the excluded ones (revoked), and their allowlist.
Status WriteFleetFactory(const fs::path& fleet, const DemoFleetPlan& plan,
                         const std::set<std::string>& exclude, const fs::path& out) {
  std::error_code ec;
  fs::remove_all(out, ec);
  fs::create_directories(out, ec);
  if (ec) return UnavailableError("cannot create " + out.string() + ": " + ec.message());
  std::vector<std::string> lists;
  for (const DemoFleetBatch& b : plan.batches) {
    if (b.gateway) continue;
    WEFT_ASSIGN_OR_RETURN(std::string list, ReadText(BatchDir(fleet, b) / "allowlist.csv"));
    lists.push_back(std::move(list));
    for (int i = 1; i <= b.count; ++i) {
      if (exclude.count(DemoDeviceId(b, i)) > 0) continue;
      fs::create_directory_symlink(BatchDir(fleet, b) / SerialOf(b, i), out / SerialOf(b, i), ec);
      if (ec) return UnavailableError("cannot link into " + out.string() + ": " + ec.message());
    }
  }
  WEFT_ASSIGN_OR_RETURN(std::string merged, MergeAllowlists(lists, exclude));
  return WriteText(out / "allowlist.csv", merged);
}

// Waits until the core's inventory shows every device of `ids` with a firmware version.
Status WaitReporting(const ApiTarget& who, const std::set<std::string>& ids, seconds timeout,
                     const std::string& log_hint) {
  std::set<std::string> seen;
  Status last = Status::Ok();
  const bool all = WaitFor(
      [&] {
        Result<json> inv = Call(who, "GET", "/api/v1/ota/devices");
        last = inv.status();
        if (inv.ok()) seen = ReportingDevices(*inv, ids);
        return seen.size() == ids.size();
      },
      timeout, milliseconds(200));
  if (all) return Status::Ok();
  std::vector<std::string> missing;
  for (const std::string& id : ids) {
    if (seen.count(id) == 0) missing.push_back(id);
  }
  if (missing.size() > 5) missing.resize(5);
  return UnavailableError(std::to_string(ids.size() - seen.size()) + " of " +
                          std::to_string(ids.size()) + " devices sent no state within " +
                          std::to_string(timeout.count()) + " s (" + Join(missing, ", ") +
                          (last.ok() ? "" : "; last API error: " + last.message()) + "); see " +
                          log_hint);
}

// Model campaigns to the gateways, one per registry version of the model: each gateway's
// health check benchmarks the version and reports its latency. Started before the simulated
// devices provision, so the gateways are the only devices the campaigns can target.
Result<std::vector<std::string>> BenchmarkOnGateways(const DemoFleetContext& ctx,
                                                     const ApiTarget& otto,
                                                     const std::vector<std::string>& hardware) {
  const std::string model = "/api/v1/models/" + PathSegment(ctx.model);
  WEFT_ASSIGN_OR_RETURN(json m, Call(otto, "GET", model));
  std::vector<std::string> campaigns;
  for (const json& v : m.value("versions", json::array())) {
    const std::string version = v.value("version", "");
    if (version.empty()) continue;
    std::ostringstream ignored;
    WEFT_ASSIGN_OR_RETURN(
        ApiAnswer bytes,
        CallApiOk(otto, "GET", model + "/versions/" + PathSegment(version) + "/artifact", "",
                  ignored));
    WEFT_ASSIGN_OR_RETURN(
        json art, Call(otto, "POST",
                       "/api/v1/ota/artifacts" + Query({{"kind", "model"},
                                                        {"name", ctx.model},
                                                        {"version", version},
                                                        {"hardware_models", Join(hardware, ",")}}),
                       bytes.body));
    json spec = {{"name", ctx.model + " " + version + " on the gateways (benchmark)"},
                 {"artifact", art.value("sha256", "")},
                 {"target", {{"hardware_models", hardware}}},
                 {"waves", {"100%"}},
                 {"success_threshold", 1.0},
                 {"error_threshold", 0.5},
                 {"health_timeout_s", 30},
                 {"device_timeout_s", 120}};
    WEFT_ASSIGN_OR_RETURN(json c, Call(otto, "POST", "/api/v1/ota/campaigns", spec.dump()));
    const std::string id = c.value("id", "");
    WEFT_RETURN_IF_ERROR(
        Call(otto, "POST", "/api/v1/ota/campaigns/" + id + "/start", "{}").status());
    campaigns.push_back(id + " " + ctx.model + " " + version + " (gateways)");
  }
  return campaigns;
}

// Firmware: 1.1.0 released through the board and rolled out per site; 1.2.0 pending.
Result<std::vector<std::string>> ReleaseFirmware(const DemoFleetPlan& plan, const ApiTarget& otto,
                                                 const ApiTarget& sam,
                                                 const std::vector<std::string>& hardware) {
  const std::string fw(kReleasedFirmware);
  WEFT_ASSIGN_OR_RETURN(
      json art, Call(otto, "POST",
                     "/api/v1/ota/artifacts" + Query({{"kind", "firmware"},
                                                      {"name", std::string(kFirmwareName)},
                                                      {"version", fw},
                                                      {"hardware_models", Join(hardware, ",")}}),
                     DemoFirmwareImage(fw)));
  for (const std::string& hw : hardware) {
    for (const auto& [who, role, note] :
         {std::tuple{&sam, "security_lead", "signed image, SBOM reviewed, no open CVE"},
          std::tuple{&otto, "ot_engineer", "soaked 72 h on the test bench line"}}) {
      json a = {{"decision", "firmware_release"},
                {"subject", hw + "/" + fw},
                {"role", role},
                {"note", note}};
      WEFT_RETURN_IF_ERROR(Call(*who, "POST", "/api/v1/governance/approvals", a.dump()).status());
    }
    WEFT_RETURN_IF_ERROR(
        Call(otto, "POST", "/api/v1/ota/firmware/" + hw + "/" + fw + "/certify", "{}").status());
  }
  std::vector<std::string> campaigns;
  for (const std::string& site : plan.sites) {
    // Small waves: a canary, then a few devices at a time, each wave waiting for the last.
    json spec = {{"name", "firmware " + fw + " " + site},
                 {"artifact", art.value("sha256", "")},
                 {"target", {{"sites", {site}}, {"firmware", {std::string(kBaseFirmware)}}}},
                 {"waves", {1, 2, 4, "50%", "75%", "100%"}},
                 {"success_threshold", 0.9},
                 {"error_threshold", 0.2},
                 {"health_timeout_s", 30},
                 {"device_timeout_s", 300}};
    WEFT_ASSIGN_OR_RETURN(json c, Call(otto, "POST", "/api/v1/ota/campaigns", spec.dump()));
    const std::string id = c.value("id", "");
    WEFT_RETURN_IF_ERROR(
        Call(otto, "POST", "/api/v1/ota/campaigns/" + id + "/start", "{}").status());
    campaigns.push_back(id + " firmware " + fw + " " + site);
  }

  const std::string next(kPendingFirmware), hw(kPendingHardware);
  WEFT_RETURN_IF_ERROR(Call(otto, "POST",
                            "/api/v1/ota/artifacts" + Query({{"kind", "firmware"},
                                                             {"name", std::string(kFirmwareName)},
                                                             {"version", next},
                                                             {"hardware_models", hw}}),
                            DemoFirmwareImage(next))
                           .status());
  json request = {{"decision", "firmware_release"},
                  {"subject", hw + "/" + next},
                  {"note", "fixes the Modbus reconnect storm; ready for review"}};
  WEFT_RETURN_IF_ERROR(Call(otto, "POST", "/api/v1/governance/requests", request.dump()).status());
  json approval = {{"decision", "firmware_release"},
                   {"subject", hw + "/" + next},
                   {"role", "security_lead"},
                   {"note", "image signed; dependency scan clean"}};
  WEFT_RETURN_IF_ERROR(Call(sam, "POST", "/api/v1/governance/approvals", approval.dump()).status());
  return campaigns;
}

}  // namespace

DemoFleetPlan DefaultDemoFleetPlan() {
  DemoFleetPlan p;
  p.batches = {
      {"lyon-gw2", "lyon", "edge-gw-2", "lyon-gw2-", "LY2-", 8, false},
      {"lyon-gw3", "lyon", "edge-gw-3", "lyon-gw3-", "LY3-", 4, false},
      {"brno-gw3", "brno", "edge-gw-3", "brno-gw3-", "BR3-", 8, false},
      {"brno-gw2", "brno", "edge-gw-2", "brno-gw2-", "BR2-", 4, false},
      {"lyon-edge", "lyon", "edge-gw-2", "lyon-edge-", "LYE-", 1, true},
      {"brno-edge", "brno", "edge-gw-3", "brno-edge-", "BRE-", 1, true},
  };
  p.failing = {"brno-gw3-0002", "brno-gw3-0005", "brno-gw3-0008"};
  p.revoked = "lyon-gw2-0008";
  p.sites = {"lyon", "brno"};
  return p;
}

std::string DemoDeviceId(const DemoFleetBatch& b, int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", index);
  return b.prefix + buf;
}

Result<std::string> FleetBrokerConf(std::string_view generated, std::string_view plant_broker,
                                    std::string_view bridge_id) {
  const size_t colon = plant_broker.rfind(':');
  const std::string port =
      colon == std::string_view::npos ? "" : std::string(plant_broker.substr(colon + 1));
  const int p = port.empty() || port.find_first_not_of("0123456789") != std::string::npos
                    ? 0
                    : std::atoi(port.c_str());
  if (colon == 0 || p <= 0 || p > 65535 || port.size() > 5) {
    return InvalidArgumentError("the plant broker must be HOST:PORT, got '" +
                                std::string(plant_broker) + "'");
  }
  if (generated.find("\nlistener ") == std::string_view::npos) {
    return InvalidArgumentError("weft-core's mosquitto.conf has no listener line");
  }
  std::string conf(generated);
  if (!conf.empty() && conf.back() != '\n') conf += '\n';
  conf +=
      "\n# Added by `weft demo`: weft-core listens on the plant broker, so the devices'\n"
      "# reports go out to it and the core's OTA commands come in from it.\n"
      "connection " +
      std::string(bridge_id) + "\naddress " + std::string(plant_broker) + "\nremote_clientid " +
      std::string(bridge_id) +
      "\nbridge_protocol_version mqttv311\n"
      "cleansession true\nnotifications false\nrestart_timeout 1\n"
      "topic weft/v1/edge/+/ota/status out 1\n"
      "topic weft/v1/edge/+/state out 1\n"
      "topic weft/v1/edge/+/bench out 1\n"
      "topic weft/v1/edge/+/cmd/ota in 1\n";
  return conf;
}

Result<std::string> MergeAllowlists(const std::vector<std::string>& texts,
                                    const std::set<std::string>& exclude) {
  std::string out = std::string(kAllowlistHeader) + "\n";
  for (size_t i = 0; i < texts.size(); ++i) {
    std::istringstream in(texts[i]);
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (header) {
        if (line != kAllowlistHeader) {
          return DataLossError("allowlist " + std::to_string(i + 1) + " starts with '" +
                               line.substr(0, 60) + "', not '" + std::string(kAllowlistHeader) +
                               "'");
        }
        header = false;
        continue;
      }
      if (line.empty()) continue;
      const size_t a = line.find(',');
      const size_t b = a == std::string::npos ? a : line.find(',', a + 1);
      if (b == std::string::npos) {
        return DataLossError("allowlist " + std::to_string(i + 1) + ": '" + line.substr(0, 60) +
                             "' is not serial,device_id,site,hardware_model");
      }
      if (exclude.count(line.substr(a + 1, b - a - 1)) > 0) continue;
      out += line + "\n";
    }
    if (header) return DataLossError("allowlist " + std::to_string(i + 1) + " is empty");
  }
  return out;
}

std::set<std::string> ReportingDevices(const json& inventory, const std::set<std::string>& ids) {
  std::set<std::string> seen;
  if (!inventory.is_array()) return seen;
  for (const json& d : inventory) {
    if (!d.is_object() || !d.contains("device") || !d["device"].is_string()) continue;
    const std::string id = d["device"].get<std::string>();
    const json versions = d.value("versions", json::object());
    if (ids.count(id) > 0 && versions.is_object() && versions.contains("firmware") &&
        versions["firmware"].is_string() && !versions["firmware"].get<std::string>().empty()) {
      seen.insert(id);
    }
  }
  return seen;
}

Result<std::vector<std::string>> PrepareDemoFleet(const DemoFleetContext& ctx) {
  const fs::path fleet = ctx.dir / "fleet";
  std::error_code ec;
  fs::create_directories(fleet / "factory", ec);
  if (ec) {
    return UnavailableError("cannot create " + (fleet / "factory").string() + ": " + ec.message());
  }
  for (const DemoFleetBatch& b : DefaultDemoFleetPlan().batches) {
    if (fs::exists(BatchDir(fleet, b) / "allowlist.csv", ec)) continue;  // made by a past run
    WEFT_RETURN_IF_ERROR(
        RunOk(ctx, "fleet-factory-" + b.name,
              {(ctx.bin / "weft-sim").string(), "factory", "--out", BatchDir(fleet, b).string(),
               "--count", std::to_string(b.count), "--prefix", b.prefix, "--serial-prefix",
               b.serial_prefix, "--site", b.site, "--hardware-model", b.hardware_model,
               "--manufacturer-ca", (fleet / "manufacturer-ca").string()}));
  }
  // The devices keep the broker's address in their identities: the port stays for the DIR.
  int port = 0;
  if (Result<int> kept = StoredBrokerPort(fleet); kept.ok()) {
    port = *kept;
    if (LoopbackListening(port) || !LoopbackBindable(port)) {
      return UnavailableError(
          "port " + std::to_string(port) + " of the fleet's broker is in use (the devices of " +
          ctx.dir.string() + " know it from their provisioning); free it, or use a new --dir");
    }
  } else {
    // Below the ports `weft demo` gives the simulator's PLCs (21000 and up).
    port = FreeLoopbackPorts(18000, 21000, 1);
    if (port == 0) return UnavailableError("no free loopback port for the fleet's broker");
    WEFT_RETURN_IF_ERROR(WriteText(fleet / "broker.port", std::to_string(port) + "\n"));
  }
  return std::vector<std::string>{"--manufacturer-ca",
                                  (fleet / "manufacturer-ca" / "ca.pem").string(),
                                  "--broker-listen", "127.0.0.1:" + std::to_string(port)};
}

Result<DemoFleetSummary> StartDemoFleet(const DemoFleetContext& ctx, const ApiTarget& api,
                                        const std::string& admin_token, std::ostream& out) {
  const auto t0 = SteadyClock::now();
  const fs::path fleet = ctx.dir / "fleet";
  const DemoFleetPlan plan = DefaultDemoFleetPlan();
  WEFT_ASSIGN_OR_RETURN(int port, StoredBrokerPort(fleet));
  ApiTarget admin = api;
  admin.token = admin_token;
  DemoFleetSummary summary;
  summary.broker_url = "mqtts://127.0.0.1:" + std::to_string(port);
  summary.revoked = plan.revoked;

  // 1. The fleet's mTLS broker, bridged to the plant broker.
  const fs::path generated = ctx.core_state / "broker" / "mosquitto.conf";
  Result<std::string> core_conf = ReadText(generated);
  if (!core_conf.ok()) {
    return FailedPreconditionError("weft-core wrote no " + generated.string() +
                                   " (start it with PrepareDemoFleet's arguments)");
  }
  WEFT_ASSIGN_OR_RETURN(std::string conf, FleetBrokerConf(*core_conf, ctx.plant_broker,
                                                          "weft-fleet-" + std::to_string(port)));
  WEFT_RETURN_IF_ERROR(WriteText(fleet / "mosquitto.conf", conf));
  WEFT_RETURN_IF_ERROR(
      ctx.start("fleet-mosquitto", {"mosquitto", "-c", (fleet / "mosquitto.conf").string()}));
  if (!WaitFor([&] { return LoopbackListening(port); }, seconds(10), milliseconds(50))) {
    return UnavailableError("the fleet's mosquitto did not listen on port " + std::to_string(port) +
                            " (see logs/fleet-mosquitto.log and " +
                            (ctx.core_state / "broker" / "mosquitto.log").string() + ")");
  }

  // 2. People, 3. hardware models and the allowlist.
  WEFT_ASSIGN_OR_RETURN(auto tokens, EnsureDemoPeople(admin, ctx.dir / "tokens"));
  ApiTarget otto = api, sam = api;
  otto.token = tokens.at("otto");
  sam.token = tokens.at("sam");
  std::vector<std::string> hardware;
  for (const DemoFleetBatch& b : plan.batches) {
    if (std::find(hardware.begin(), hardware.end(), b.hardware_model) == hardware.end()) {
      hardware.push_back(b.hardware_model);
    }
  }
  std::sort(hardware.begin(), hardware.end());
  for (const std::string& hw : hardware) {
    json h = {{"name", hw}, {"certified", true}, {"notes", "demo fleet gateway"}};
    WEFT_RETURN_IF_ERROR(Call(otto, "POST", "/api/v1/ota/hardware", h.dump()).status());
  }
  WEFT_ASSIGN_OR_RETURN(json listed, Call(otto, "GET", "/api/v1/fleet/allowlist"));
  std::set<std::string> allowed;
  for (const json& e : listed.value("allowlist", json::array())) {
    allowed.insert(e.value("serial", ""));
  }
  for (const DemoFleetBatch& b : plan.batches) {
    for (int i = 1; i <= b.count; ++i) {
      if (allowed.count(SerialOf(b, i)) > 0) continue;
      json e = {{"serial", SerialOf(b, i)},
                {"device_id", DemoDeviceId(b, i)},
                {"site", b.site},
                {"hardware_model", b.hardware_model}};
      WEFT_RETURN_IF_ERROR(Call(otto, "POST", "/api/v1/fleet/allowlist", e.dump(), {409}).status());
    }
  }
  WEFT_ASSIGN_OR_RETURN(json devices, Call(otto, "GET", "/api/v1/fleet/devices"));
  std::set<std::string> revoked, provisioned;
  for (const json& d : devices.value("devices", json::array())) {
    if (d.value("revoked", false)) revoked.insert(d.value("id", ""));
    provisioned.insert(d.value("id", ""));
  }
  const bool kept = fs::exists(fleet / "setup.done");
  summary.kept = kept;

  const std::string bridge_hint = ", and " +
                                  (ctx.core_state / "broker" / "mosquitto.log").string() +
                                  " for the bridge to the plant broker " + ctx.plant_broker;

  // 4. The gateways, and the model campaigns that benchmark on them.
  std::vector<std::string> campaigns;
  std::set<std::string> gateway_ids;
  if (!ctx.inference.empty()) {
    std::vector<std::string> gateway_hw;
    for (const DemoFleetBatch& b : plan.batches) {
      if (!b.gateway) continue;
      WEFT_ASSIGN_OR_RETURN(fs::path yaml, WriteGateway(ctx, api, b));
      const std::string id = DemoDeviceId(b, 1);
      WEFT_RETURN_IF_ERROR(
          ctx.start("fleet-" + id, {(ctx.bin / "weft-edge").string(), "--config", yaml.string()}));
      gateway_ids.insert(id);
      gateway_hw.push_back(b.hardware_model);
    }
    WEFT_RETURN_IF_ERROR(
        WaitReporting(otto, gateway_ids, seconds(30),
                      "logs/fleet-" + *gateway_ids.begin() + ".log" + bridge_hint));
    // A model campaign targets every known device of its hardware models: only while the
    // gateways are the only ones (a first run) does it reach them alone.
    const bool only_gateways =
        std::all_of(provisioned.begin(), provisioned.end(),
                    [&](const std::string& id) { return gateway_ids.count(id) > 0; });
    if (!kept && only_gateways) {
      WEFT_ASSIGN_OR_RETURN(campaigns, BenchmarkOnGateways(ctx, otto, gateway_hw));
    }
  }
  summary.gateways = static_cast<int>(gateway_ids.size());

  // 5. The simulated devices, zero-touch, online for the demo's life.
  const fs::path view = fleet / "fleet-factory";
  WEFT_RETURN_IF_ERROR(WriteFleetFactory(fleet, plan, revoked, view));
  std::set<std::string> expected = gateway_ids;
  for (const DemoFleetBatch& b : plan.batches) {
    for (int i = 1; i <= b.count && !b.gateway; ++i) {
      if (revoked.count(DemoDeviceId(b, i)) == 0) expected.insert(DemoDeviceId(b, i));
    }
  }
  std::vector<std::string> sim = {(ctx.bin / "weft-sim").string(),
                                  "fleet",
                                  "--core",
                                  api.api,
                                  "--core-ca",
                                  api.ca,
                                  "--factory",
                                  view.string(),
                                  "--state",
                                  (fleet / "devices").string(),
                                  "--mqtt",
                                  "--fail-devices",
                                  Join(plan.failing, ","),
                                  "--firmware",
                                  std::string(kBaseFirmware),
                                  "--report",
                                  (fleet / "devices-report.json").string()};
  if (ctx.install_seconds > 0) {
    sim.insert(sim.end(), {"--install-seconds", std::to_string(ctx.install_seconds)});
  }
  const auto t_fleet = SteadyClock::now();
  WEFT_RETURN_IF_ERROR(ctx.start("fleet-devices", sim));
  WEFT_RETURN_IF_ERROR(
      WaitReporting(otto, expected, seconds(60), "logs/fleet-devices.log" + bridge_hint));
  const double online_s = SecondsSince(t_fleet);
  summary.devices = static_cast<int>(expected.size());

  // 6.-8. Once per DIR: the revocation, the release through the board, the campaigns.
  if (!kept) {
    if (revoked.count(plan.revoked) == 0) {
      json r = {{"reason", "gateway reported missing from its cabinet; certificate revoked"}};
      WEFT_RETURN_IF_ERROR(
          Call(sam, "POST", "/api/v1/fleet/devices/" + plan.revoked + "/revoke", r.dump())
              .status());
    }
    WEFT_ASSIGN_OR_RETURN(std::vector<std::string> fw, ReleaseFirmware(plan, otto, sam, hardware));
    campaigns.insert(campaigns.end(), fw.begin(), fw.end());
    WEFT_RETURN_IF_ERROR(
        WriteText(fleet / "setup.done",
                  "firmware " + std::string(kReleasedFirmware) + " released, campaigns started\n"));
  }
  summary.campaigns = campaigns;
  summary.pending =
      "firmware_release " + std::string(kPendingHardware) + "/" + std::string(kPendingFirmware);
  summary.seconds = SecondsSince(t0);

  out << "  fleet      " << summary.devices << " devices (" << Join(plan.sites, ", ") << "; "
      << Join(hardware, ", ") << ") on " << summary.broker_url
      << ", bridged to the plant broker; online in " << Fixed1(online_s) << " s";
  if (summary.gateways > 0) {
    out << "; " << summary.gateways << " are weft-edge gateways benchmarking " << ctx.model;
  }
  out << "\n";
  if (kept) {
    out << "             campaigns, approvals and the revocation kept from the last run\n";
  } else {
    out << "             campaigns " << Join(campaigns, ", ") << "\n"
        << "             revoked " << plan.revoked << "; pending " << summary.pending
        << " (ot_engineer)\n";
  }
  out << "             people sam, otto, dana, olga (tokens in " << (ctx.dir / "tokens").string()
      << "/<name>.token)\n";
  return summary;
}

}  // namespace weft::cli
