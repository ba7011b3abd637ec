#include "sim/fleet_sim.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/time_format.h"
#include "fleet/broker_config.h"
#include "fleet/device/ota_agent.h"
#include "fleet/device/ztp_client.h"
#include "fleet/pki.h"
#include "fleet/signing.h"
#include "mqtt/client.h"

namespace weft::sim {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr auto kFactoryValidity = std::chrono::days(3650);

Status WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!f.flush()) return UnavailableError(fmt::format("cannot write '{}'", tmp));
  }
  if (::chmod(tmp.c_str(), mode) != 0) {
    return UnavailableError(fmt::format("cannot chmod '{}'", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return UnavailableError(fmt::format("cannot rename '{}': {}", tmp, ec.message()));
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFoundError(fmt::format("cannot read '{}'", path));
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Numbered(const std::string& prefix, int i, int width) {
  return fmt::format("{}{:0{}d}", prefix, i, width);
}

Result<fleet::CertAuthority> LoadOrMakeCa(const std::string& dir, const std::string& manufacturer,
                                          TimePoint now) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot create '{}': {}", dir, ec.message()));
  std::string cert = dir + "/ca.pem", key = dir + "/ca.key";
  if (fs::exists(cert) && fs::exists(key)) {
    WEFT_ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(cert));
    WEFT_ASSIGN_OR_RETURN(std::string key_pem, ReadFile(key));
    fleet::CertAuthority ca{cert_pem, key_pem};
    auto parsed = fleet::ParseCa(ca);
    if (!parsed.ok()) return parsed.status().WithContext("manufacturer CA in '" + dir + "'");
    return ca;
  }
  fleet::Subject subject;
  subject.common_name = manufacturer + " Manufacturer CA";
  subject.organization = manufacturer;
  WEFT_ASSIGN_OR_RETURN(
      fleet::CertAuthority ca,
      fleet::MakeCa(subject, std::chrono::duration_cast<Micros>(kFactoryValidity), now));
  WEFT_RETURN_IF_ERROR(WriteFile(key, ca.key_pem, 0600));
  WEFT_RETURN_IF_ERROR(WriteFile(cert, ca.cert_pem, 0644));
  return ca;
}

// The identity in `dir` if it is one of `ca`'s for `serial`, else nothing (to be made again).
bool ValidIdentity(const std::string& dir, const std::string& serial, const std::string& ca_pem,
                   TimePoint now) {
  auto cert = ReadFile(dir + "/factory.pem");
  if (!cert.ok() || !fs::exists(dir + "/factory.key")) return false;
  auto info = fleet::VerifyCert(*cert, ca_pem, now);
  return info.ok() && info->subject.serial_number == serial;
}

}  // namespace

Result<std::vector<FactoryDevice>> MakeFactory(const FactoryOptions& o, const Clock& clock) {
  if (o.out_dir.empty()) return InvalidArgumentError("factory: --out is required");
  if (o.count < 1 || o.count > 1000000) {
    return InvalidArgumentError(fmt::format("factory: --count is 1 to 1000000, got {}", o.count));
  }
  const int width = std::max(4, static_cast<int>(std::to_string(o.count).size()));
  // Ids and serials become MQTT user names, topics and file names: validate them up front.
  for (const std::string& id : {Numbered(o.prefix, 1, width), Numbered(o.serial_prefix, 1, 6)}) {
    if (!fleet::IsValidDeviceId(id)) {
      return InvalidArgumentError(fmt::format(
          "factory: '{}' is not a valid device id or serial ([A-Za-z0-9._-], 1 to 64): check "
          "--prefix and --serial-prefix",
          id));
    }
  }
  for (const auto& [name, v] :
       {std::pair{"--site", o.site}, {"--hardware-model", o.hardware_model}}) {
    if (v.empty() || v.find_first_of(",\n\r\"") != std::string::npos) {
      return InvalidArgumentError(
          fmt::format("factory: {} must be non-empty without commas, quotes or newlines", name));
    }
  }
  const TimePoint now = clock.Now();
  std::string ca_dir =
      o.manufacturer_ca_dir.empty() ? o.out_dir + "/manufacturer-ca" : o.manufacturer_ca_dir;
  WEFT_ASSIGN_OR_RETURN(fleet::CertAuthority ca, LoadOrMakeCa(ca_dir, o.manufacturer, now));
  WEFT_ASSIGN_OR_RETURN(auto parsed_ca, fleet::ParseCa(ca));
  (void)parsed_ca;

  std::vector<FactoryDevice> devices(static_cast<size_t>(o.count));
  for (int i = 1; i <= o.count; ++i) {
    FactoryDevice& d = devices[static_cast<size_t>(i - 1)];
    d.serial = Numbered(o.serial_prefix, i, 6);
    d.device_id = Numbered(o.prefix, i, width);
    d.site = o.site;
    d.hardware_model = o.hardware_model;
    d.dir = o.out_dir + "/" + d.serial;
  }
  // Key generation and signing dominate; spread them over the machine's cores.
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto work = [&] {
    for (size_t i = next++; i < devices.size(); i = next++) {
      const FactoryDevice& d = devices[i];
      if (ValidIdentity(d.dir, d.serial, ca.cert_pem, now)) continue;
      Status s = [&]() -> Status {
        std::error_code ec;
        fs::create_directories(d.dir, ec);
        if (ec) return UnavailableError(fmt::format("cannot create '{}': {}", d.dir, ec.message()));
        fleet::Subject subject;
        subject.common_name = d.serial;
        subject.serial_number = d.serial;
        subject.organization = o.manufacturer;
        subject.organizational_unit = d.hardware_model;
        fleet::IssueOptions issue;
        issue.validity = std::chrono::duration_cast<Micros>(kFactoryValidity);
        WEFT_ASSIGN_OR_RETURN(auto issued, fleet::IssueKeyAndCert(ca, subject, issue, now));
        WEFT_RETURN_IF_ERROR(WriteFile(d.dir + "/factory.key", issued.first.private_pem, 0600));
        return WriteFile(d.dir + "/factory.pem", issued.second.cert_pem, 0644);
      }();
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = s.WithContext("factory identity " + d.serial);
        return;
      }
    }
  };
  unsigned n_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n_threads; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return first_error;

  std::string csv = "serial,device_id,site,hardware_model\n";
  for (const auto& d : devices) {
    csv += fmt::format("{},{},{},{}\n", d.serial, d.device_id, d.site, d.hardware_model);
  }
  WEFT_RETURN_IF_ERROR(WriteFile(o.out_dir + "/allowlist.csv", csv, 0644));
  return devices;
}

Result<std::vector<FactoryDevice>> ReadAllowlist(const std::string& path) {
  WEFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<FactoryDevice> out;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  std::string dir = fs::path(path).parent_path().string();
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line_no == 1 && line.rfind("serial,", 0) == 0) continue;  // header
    std::vector<std::string> f;
    std::string field;
    std::istringstream ls(line);
    while (std::getline(ls, field, ',')) f.push_back(field);
    if (f.size() != 4) {
      return InvalidArgumentError(
          fmt::format("{}:{}: expected 4 fields (serial,device_id,site,hardware_model), got {}",
                      path, line_no, f.size()));
    }
    out.push_back({f[0], f[1], f[2], f[3], dir + "/" + f[0]});
  }
  return out;
}

Result<std::vector<FactoryDevice>> ListFactory(const std::string& factory_dir) {
  std::map<std::string, FactoryDevice> listed;
  if (fs::exists(factory_dir + "/allowlist.csv")) {
    WEFT_ASSIGN_OR_RETURN(auto rows, ReadAllowlist(factory_dir + "/allowlist.csv"));
    for (auto& r : rows) listed[r.serial] = r;
  }
  std::vector<FactoryDevice> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(factory_dir, ec)) {
    if (!e.is_directory()) continue;
    std::string dir = e.path().string();
    if (!fs::exists(dir + "/factory.pem") || !fs::exists(dir + "/factory.key")) continue;
    std::string serial = e.path().filename().string();
    auto it = listed.find(serial);
    FactoryDevice d;
    if (it != listed.end()) d = it->second;
    d.serial = serial;
    d.dir = dir;
    out.push_back(std::move(d));
  }
  if (ec) return NotFoundError(fmt::format("cannot list '{}': {}", factory_dir, ec.message()));
  std::sort(out.begin(), out.end(),
            [](const FactoryDevice& a, const FactoryDevice& b) { return a.serial < b.serial; });
  return out;
}

std::set<std::string> ChooseFailingDevices(const std::vector<FactoryDevice>& devices, double rate,
                                           const std::vector<std::string>& fail_devices,
                                           uint64_t seed) {
  std::set<std::string> out;
  if (!fail_devices.empty()) {
    std::set<std::string> wanted(fail_devices.begin(), fail_devices.end());
    for (const auto& d : devices) {
      if (wanted.count(d.device_id) || wanted.count(d.serial)) {
        out.insert(d.device_id.empty() ? d.serial : d.device_id);
      }
    }
    return out;
  }
  if (rate <= 0) return out;
  for (const auto& d : devices) {
    const std::string& id = d.device_id.empty() ? d.serial : d.device_id;
    // FNV-1a over (seed, id), then splitmix64: stable across platforms and runs.
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (char c : id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h += 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    double u = static_cast<double>(h >> 11) * 0x1.0p-53;
    if (u < rate) out.insert(id);
  }
  return out;
}

int FactoryMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "weft-sim factory: factory identities (manufacturer CA, key and certificate per "
      "serial) and the allowlist for zero-touch provisioning",
      "weft-sim factory"};
  FactoryOptions o;
  app.add_option("--out", o.out_dir, "directory of the identities and allowlist.csv")->required();
  app.add_option("--count", o.count, "number of devices")->required();
  app.add_option("--prefix", o.prefix, "device id prefix")->capture_default_str();
  app.add_option("--serial-prefix", o.serial_prefix, "serial number prefix")->capture_default_str();
  app.add_option("--hardware-model", o.hardware_model, "hardware model (the certificates' OU)")
      ->capture_default_str();
  app.add_option("--site", o.site, "site of the devices (allowlist)")->capture_default_str();
  app.add_option("--manufacturer", o.manufacturer, "manufacturer (O)")->capture_default_str();
  app.add_option("--manufacturer-ca", o.manufacturer_ca_dir,
                 "directory of the manufacturer CA (ca.pem, ca.key), made when missing; "
                 "default OUT/manufacturer-ca");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto devices = MakeFactory(o, SystemClock::Default());
  if (!devices.ok()) {
    err << "weft-sim factory: " << devices.status().message() << "\n";
    return devices.status().code() == StatusCode::kInvalidArgument ? 2 : 3;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string ca_dir =
      o.manufacturer_ca_dir.empty() ? o.out_dir + "/manufacturer-ca" : o.manufacturer_ca_dir;
  out << fmt::format(
      "{} factory identities in {} ({:.2f} s)\nmanufacturer CA: {}/ca.pem\nallowlist: "
      "{}/allowlist.csv\n",
      devices->size(), o.out_dir, s, ca_dir, o.out_dir);
  return 0;
}

// ----------------------------------------------------------------------------------------------
// weft-sim fleet

namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnFleetSignal(int) {
  g_stop.store(true);
}

struct FleetOptions {
  std::string core_url, core_ca, factory_dir, state_dir, report_path;
  int devices = 0;      // 0: all
  int concurrency = 0;  // 0: all at once
  bool mqtt = false;
  double fail_health = 0;
  std::vector<std::string> fail_devices;
  uint64_t seed = 1;
  std::string firmware = "1.0.0";
  double duration_s = 0;
  double install_s = 0;  // a firmware install's duration (a flash write); 0: instant
  int timeout_s = 60;
  int max_attempts = 8;
};

// A simulated device: its factory identity, what provisioning gave it, and its OTA side.
struct SimDevice {
  FactoryDevice factory;
  std::string state_dir;
  bool fail_health = false;
  // Provisioning.
  fleet::DeviceIdentity identity;
  std::string cert_serial, fingerprint, error;
  int attempts = 0;
  double seconds = 0;
  bool provisioned = false;
  // MQTT and OTA.
  std::unique_ptr<mqtt::Client> client;
  std::unique_ptr<fleet::OtaAgent> agent;
  std::string mqtt_error;
  std::mutex mu;                 // guards the fields below
  std::vector<Json> ota_events;  // guarded by mu
  std::string firmware;          // guarded by mu; what the simulated firmware runs
  uint64_t connects_seen = 0;    // MQTT sessions the agent has published its state on

  std::string id() const { return factory.device_id.empty() ? factory.serial : factory.device_id; }
};

// Prepares <state>/<serial>/factory: links to the factory identity plus the core's CA, as the
// device's read-only factory partition would hold them.
Status PrepareFactoryDir(const SimDevice& d, const std::string& core_ca_pem) {
  std::string dir = d.state_dir + "/factory";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot create '{}': {}", dir, ec.message()));
  for (const char* f : {"factory.pem", "factory.key"}) {
    fs::path link = fs::path(dir) / f;
    if (fs::is_symlink(link) || fs::exists(link)) continue;
    fs::create_symlink(fs::absolute(fs::path(d.factory.dir) / f), link, ec);
    if (ec)
      return UnavailableError(fmt::format("cannot link '{}': {}", link.string(), ec.message()));
  }
  auto current = ReadFile(dir + "/core-ca.pem");
  if (!current.ok() || *current != core_ca_pem) {
    WEFT_RETURN_IF_ERROR(WriteFile(dir + "/core-ca.pem", core_ca_pem, 0644));
  }
  return Status::Ok();
}

void Provision(SimDevice& d, const FleetOptions& o) {
  fleet::ZtpClient::Options z;
  z.core_url = o.core_url;
  z.factory_dir = d.state_dir + "/factory";
  z.state_dir = d.state_dir + "/identity";
  z.clock = &SystemClock::Default();
  z.timeout = std::chrono::seconds(o.timeout_s);
  z.max_attempts = o.max_attempts;
  int retries = 0;
  z.sleep = [&retries](std::chrono::milliseconds ms) {
    ++retries;
    std::this_thread::sleep_for(ms);
  };
  auto t0 = std::chrono::steady_clock::now();
  auto id = fleet::ZtpClient::Ensure(z);
  d.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  d.attempts = retries + 1;
  if (!id.ok()) {
    d.error = id.status().ToString();
    return;
  }
  d.identity = *id;
  auto pem = ReadFile(id->cert_file);
  auto info = pem.ok() ? fleet::ParseCert(*pem) : Result<fleet::CertInfo>(pem.status());
  if (!info.ok()) {
    d.error = "provisioned, but the certificate does not parse: " + info.status().ToString();
    return;
  }
  d.cert_serial = info->serial_hex;
  d.fingerprint = info->fingerprint_sha256;
  d.provisioned = true;
}

// Runs `fn(i)` for i in [0, n) on `k` threads (k <= 0: n threads).
template <typename Fn>
void ForEachConcurrently(size_t n, int k, Fn fn) {
  size_t threads = k <= 0 ? n : std::min(n, static_cast<size_t>(k));
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : pool) t.join();
}

// Commands for the devices' OTA agents, run off the MQTT network threads (an OTA command
// downloads and installs: it must not block a network thread).
class CommandQueue {
 public:
  explicit CommandQueue(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~CommandQueue() { Close(); }
  //! Runs the jobs already queued, then refuses new ones (dropped) and stops the workers.
  void Close() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  void Push(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

Status ConnectDevice(SimDevice& d, const FleetOptions& o, CommandQueue& queue) {
  const fleet::DeviceIdentity& id = d.identity;
  std::string prefix = id.topic_prefix.empty() ? "weft/v1/edge/" + id.device_id : id.topic_prefix;
  WEFT_ASSIGN_OR_RETURN(mqtt::BrokerAddress broker, mqtt::BrokerAddress::Parse(id.broker_url));
  mqtt::ClientOptions co;
  co.client_id = id.device_id;
  co.tls =
      mqtt::TlsOptions{.ca_file = id.ca_file, .cert_file = id.cert_file, .key_file = id.key_file};
  WEFT_ASSIGN_OR_RETURN(d.client, mqtt::Client::Connect(broker, co, std::chrono::seconds(20)));
  mqtt::Client* client = d.client.get();

  // The simulated firmware: installing records the version; the health check fails on the
  // devices chosen by --fail-health / --fail-devices, so the agent rolls them back.
  fleet::OtaAgent::Options a;
  a.state_dir = d.state_dir + "/ota";
  a.device_id = id.device_id;
  a.hardware_model = id.hardware_model;
  a.site = id.site;
  a.ota_public_key_pem = id.ota_public_key_pem;
  a.core_url = o.core_url;
  a.core_ca_file = d.state_dir + "/factory/core-ca.pem";
  a.clock = &SystemClock::Default();
  a.base_versions = {{"firmware", o.firmware}};
  {
    std::lock_guard lock(d.mu);
    d.firmware = o.firmware;
  }
  a.publish = [client, prefix, &d](const std::string& subtopic, const std::string& payload,
                                   bool retain) -> Status {
    if (subtopic == "ota/status") {
      Json j = Json::parse(payload, nullptr, false);
      std::lock_guard lock(d.mu);
      if (!j.is_discarded()) d.ota_events.push_back(std::move(j));
    }
    return client->Publish(prefix + "/" + subtopic, payload, 1, retain);
  };
  a.install = [&d, install_s = o.install_s](const fleet::ArtifactManifest& m,
                                            const std::string&) -> Status {
    if (m.kind == "firmware" && install_s > 0) {
      // 0.75 to 1.25 times --install-seconds, by device (FNV-1a of its id), so that a wave's
      // devices finish one after another. SIGTERM interrupts it: the agent rolls back.
      uint64_t h = 1469598103934665603ull;
      for (char c : d.id()) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      const double f = 0.75 + 0.5 * static_cast<double>(h % 1001) / 1000.0;
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(install_s * f));
      while (std::chrono::steady_clock::now() < until) {
        if (g_stop.load()) return UnavailableError("install of " + m.version + " interrupted");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    std::lock_guard lock(d.mu);
    if (m.kind == "firmware") d.firmware = m.version;
    return Status::Ok();
  };
  a.restore = [&d, base = o.firmware](const fleet::ArtifactManifest& failed,
                                      const std::optional<fleet::ArtifactManifest>& previous,
                                      const std::string&) -> Status {
    std::lock_guard lock(d.mu);
    if (failed.kind == "firmware") d.firmware = previous ? previous->version : base;
    return Status::Ok();
  };
  a.health = [&d](const fleet::ArtifactManifest& m, const fleet::OtaContext&) -> Status {
    if (d.fail_health) {
      return UnavailableError(
          fmt::format("simulated health check failure of {} {} on {}", m.kind, m.version, d.id()));
    }
    return Status::Ok();
  };
  WEFT_ASSIGN_OR_RETURN(d.agent, fleet::OtaAgent::Start(std::move(a)));
  fleet::OtaAgent* agent = d.agent.get();
  client->SetMessageHandler([agent, &queue, &d](const mqtt::Message& m) {
    queue.Push([agent, payload = m.payload, &d] {
      Status s = agent->HandleCommand(payload);
      if (!s.ok()) spdlog::error("{}: OTA command: {}", d.id(), s.message());
    });
  });
  WEFT_RETURN_IF_ERROR(client->Subscribe(prefix + "/cmd/ota", 1));
  d.connects_seen = client->connects();
  return agent->PublishState();
}

Json ReportJson(std::vector<std::unique_ptr<SimDevice>>& devices, const FleetOptions& o,
                double provision_s, bool with_mqtt) {
  Json list = Json::array();
  size_t ok = 0, connected = 0;
  std::set<std::string> serials, fingerprints;
  for (auto& dp : devices) {
    SimDevice& d = *dp;
    Json j = {{"serial", d.factory.serial},
              {"id", d.provisioned ? d.identity.device_id : d.factory.device_id},
              {"cert_serial", d.cert_serial},
              {"fingerprint", d.fingerprint},
              {"attempts", d.attempts},
              {"seconds", d.seconds},
              {"error", d.error.empty() ? Json(nullptr) : Json(d.error)}};
    if (d.provisioned) {
      ++ok;
      serials.insert(d.cert_serial);
      fingerprints.insert(d.fingerprint);
      j["site"] = d.identity.site;
      j["hardware_model"] = d.identity.hardware_model;
      j["broker"] = d.identity.broker_url;
    }
    if (with_mqtt) {
      bool up = d.client && d.client->connected();
      connected += up ? 1 : 0;
      j["connected"] = up;
      j["fail_health"] = d.fail_health;
      if (!d.mqtt_error.empty()) j["mqtt_error"] = d.mqtt_error;
      if (d.agent) {
        Json v = Json::object();
        for (const auto& [k, ver] : d.agent->Versions()) v[k] = ver;
        j["versions"] = v;
      }
      std::lock_guard lock(d.mu);
      j["running_firmware"] = d.firmware;
      j["ota"] = d.ota_events;
    }
    list.push_back(std::move(j));
  }
  Json r = {
      {"core", o.core_url},
      {"devices_total", devices.size()},
      {"provisioned", ok},
      {"failed", devices.size() - ok},
      {"distinct_cert_serials", serials.size()},
      {"distinct_fingerprints", fingerprints.size()},
      {"concurrency", o.concurrency <= 0 ? devices.size() : static_cast<size_t>(o.concurrency)},
      {"provision_seconds", provision_s},
      {"certs_per_s", provision_s > 0 ? static_cast<double>(ok) / provision_s : 0.0},
      {"devices", std::move(list)}};
  if (with_mqtt) r["connected"] = connected;
  return r;
}

}  // namespace

int FleetMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "weft-sim fleet: simulated devices that provision themselves against weft-core "
      "(zero-touch) and, with --mqtt, take OTA campaigns over mutual-TLS MQTT",
      "weft-sim fleet"};
  FleetOptions o;
  std::string fail_devices, log_level = "error";
  app.add_option("--core", o.core_url, "weft-core's API, https://HOST:PORT")->required();
  app.add_option("--core-ca", o.core_ca, "CA certificate of the core's HTTPS (PEM)")->required();
  app.add_option("--factory", o.factory_dir, "factory identities (weft-sim factory --out)")
      ->required();
  app.add_option("--state", o.state_dir, "the devices' state (one directory per serial)")
      ->required();
  app.add_option("--devices", o.devices, "devices to run (the first N serials; 0: all)");
  app.add_option("--concurrency", o.concurrency, "devices provisioning at once (0: all at once)")
      ->capture_default_str();
  app.add_flag("--mqtt", o.mqtt, "connect to the broker with the device certificates, run OTA");
  auto* rate = app.add_option("--fail-health", o.fail_health,
                              "fraction of devices whose post-install health check fails");
  app.add_option("--fail-devices", fail_devices,
                 "devices (ids or serials, comma-separated) whose health check fails")
      ->excludes(rate);
  app.add_option("--seed", o.seed, "seed of --fail-health's choice")->capture_default_str();
  app.add_option("--firmware", o.firmware, "firmware version the devices start with")
      ->capture_default_str();
  app.add_option("--report", o.report_path, "write the JSON report here");
  app.add_option("--duration", o.duration_s, "with --mqtt: seconds to run (0: until SIGTERM)");
  app.add_option("--install-seconds", o.install_s,
                 "with --mqtt: seconds a firmware install takes (each device 0.75 to 1.25 times "
                 "this; 0: instant)")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "seconds per HTTP request")->capture_default_str();
  app.add_option("--max-attempts", o.max_attempts, "provisioning attempts per device")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }
  auto level = ParseLogLevel(log_level);
  if (!level.ok()) {
    err << "weft-sim fleet: " << level.status().message() << "\n";
    return 2;
  }
  InitLogging(*level);
  if (!(o.fail_health >= 0 && o.fail_health <= 1) || o.devices < 0 || o.duration_s < 0 ||
      !(o.install_s >= 0) || o.timeout_s < 1 || o.max_attempts < 1) {
    err << "weft-sim fleet: --fail-health is 0 to 1; --devices, --duration, --install-seconds 0 "
           "or more; "
           "--timeout, --max-attempts 1 or more\n";
    return 2;
  }
  if (o.core_url.rfind("https://", 0) != 0) {
    err << "weft-sim fleet: --core must be https://HOST:PORT, got '" << o.core_url << "'\n";
    return 2;
  }
  {
    std::istringstream s(fail_devices);
    for (std::string item; std::getline(s, item, ',');) {
      if (!item.empty()) o.fail_devices.push_back(item);
    }
  }
  auto core_ca = ReadFile(o.core_ca);
  if (!core_ca.ok()) {
    err << "weft-sim fleet: --core-ca: " << core_ca.status().message() << "\n";
    return 2;
  }
  auto factory = ListFactory(o.factory_dir);
  if (!factory.ok() || factory->empty()) {
    err << "weft-sim fleet: --factory: "
        << (factory.ok() ? "no factory identities in '" + o.factory_dir + "'"
                         : factory.status().message())
        << "\n";
    return 2;
  }
  if (o.devices > 0 && static_cast<size_t>(o.devices) < factory->size()) {
    factory->resize(static_cast<size_t>(o.devices));
  }
  std::set<std::string> failing =
      ChooseFailingDevices(*factory, o.fail_health, o.fail_devices, o.seed);

  std::vector<std::unique_ptr<SimDevice>> devices;
  for (auto& f : *factory) {
    auto d = std::make_unique<SimDevice>();
    d->factory = f;
    d->state_dir = o.state_dir + "/" + f.serial;
    d->fail_health = failing.count(d->id()) > 0;
    Status s = PrepareFactoryDir(*d, *core_ca);
    if (!s.ok()) {
      err << "weft-sim fleet: " << s.message() << "\n";
      return 3;
    }
    devices.push_back(std::move(d));
  }
  std::signal(SIGINT, OnFleetSignal);
  std::signal(SIGTERM, OnFleetSignal);

  auto write_report = [&](double provision_s, bool with_mqtt) -> bool {
    if (o.report_path.empty()) return true;
    Json r = ReportJson(devices, o, provision_s, with_mqtt);
    Status s = WriteFile(o.report_path, r.dump(1), 0644);
    if (!s.ok()) err << "weft-sim fleet: --report: " << s.message() << "\n";
    return s.ok();
  };

  auto t0 = std::chrono::steady_clock::now();
  ForEachConcurrently(devices.size(), o.concurrency, [&](size_t i) { Provision(*devices[i], o); });
  double provision_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t provisioned = 0;
  for (auto& d : devices) {
    if (d->provisioned) {
      ++provisioned;
    } else {
      spdlog::error("{}: {}", d->factory.serial, d->error);
    }
  }
  out << fmt::format("provisioned {}/{} devices in {:.3f} s ({:.0f} certificates/s)\n", provisioned,
                     devices.size(), provision_s,
                     static_cast<double>(provisioned) / std::max(provision_s, 1e-9))
      << std::flush;
  if (!write_report(provision_s, false)) return 3;
  if (!o.mqtt) return provisioned == devices.size() ? 0 : 1;

  // MQTT + OTA: every provisioned device connects with its own certificate.
  auto queue = std::make_unique<CommandQueue>(16);
  std::atomic<size_t> connected{0};
  ForEachConcurrently(devices.size(), 32, [&](size_t i) {
    SimDevice& d = *devices[i];
    if (!d.provisioned) return;
    Status s = ConnectDevice(d, o, *queue);
    if (!s.ok()) {
      d.mqtt_error = s.ToString();
      spdlog::error("{}: mqtt: {}", d.id(), s.message());
      return;
    }
    ++connected;
  });
  out << fmt::format("connected {}/{} devices ({} with a failing health check)\n", connected.load(),
                     provisioned, failing.size())
      << std::flush;
  if (!write_report(provision_s, true)) return 3;

  auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    if (o.duration_s > 0 && std::chrono::duration<double>(now - started).count() >= o.duration_s) {
      break;
    }
    // A new MQTT session (after a broker restart): the agent sends its outbox and state again.
    for (auto& d : devices) {
      if (!d->client || !d->agent || !d->client->connected()) continue;
      uint64_t c = d->client->connects();
      if (c == d->connects_seen) continue;
      d->connects_seen = c;
      fleet::OtaAgent* agent = d->agent.get();
      queue->Push([agent] { (void)agent->PublishState(); });
    }
    if (now - last_report >= std::chrono::seconds(1)) {
      last_report = now;
      write_report(provision_s, true);
    }
  }
  bool ok = write_report(provision_s, true);
  // The queued commands finish (new ones are dropped), then the clients go, then the agents.
  queue->Close();
  for (auto& d : devices) d->client.reset();
  for (auto& d : devices) d->agent.reset();
  return ok && connected.load() == devices.size() ? 0 : (ok ? 1 : 3);
}

}  // namespace weft::sim
