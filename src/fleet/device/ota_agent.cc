#include "fleet/device/ota_agent.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/time_format.h"
#include "fleet/broker_config.h"
#include "fleet/device/device_io.h"

namespace weft::fleet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kArtifactFile = "artifact";
constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kTrialFile = "trial";
constexpr const char* kOutboxFile = "outbox.json";
constexpr size_t kMaxOutbox = 256;

bool SafeName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

bool KnownKind(std::string_view k) {
  return k == "firmware" || k == "edge_config" || k == "model";
}

std::string VersionKey(const std::string& kind, const std::string& name) {
  return kind == "model" ? "model/" + name : kind;
}

void FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FailedPreconditionError("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return FailedPreconditionError("cannot remove " + path + ": " + ec.message());
  return Status::Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return FailedPreconditionError("cannot rename " + from + " to " + to + ": " + ec.message());
  return Status::Ok();
}

// Copies `from` to `to` (fsynced), refusing more than `max_bytes`.
Status CopyFileSynced(const std::string& from, const std::string& to, uint64_t max_bytes) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(from, ec);
  if (ec) return NotFoundError("cannot read " + from + ": " + ec.message());
  if (size > max_bytes) {
    return FailedPreconditionError(from + " has " + std::to_string(size) +
                                   " bytes, more than the manifest's size " +
                                   std::to_string(max_bytes));
  }
  WEFT_ASSIGN_OR_RETURN(std::string data, internal::ReadWholeFile(from));
  return WriteFileAtomic(to, data, 0644);
}

std::optional<ArtifactManifest> ReadSlotManifest(const std::string& slot) {
  auto text = internal::ReadWholeFile(slot + "/" + kManifestFile);
  if (!text.ok()) return std::nullopt;
  auto m = ParseManifest(*text);
  if (!m.ok()) return std::nullopt;
  return *m;
}

bool SameArtifact(const ArtifactManifest& a, const ArtifactManifest& b) {
  return a.kind == b.kind && a.name == b.name && a.version == b.version && a.sha256 == b.sha256;
}

}  // namespace

Result<OtaCommand> ParseOtaCommand(std::string_view payload) {
  const json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgumentError("ota command: not a JSON object");
  OtaCommand c;
  auto str = [](const json& o, const char* name, const std::string& where) -> Result<std::string> {
    if (!o.contains(name) || !o[name].is_string() || o[name].get<std::string>().empty()) {
      return InvalidArgumentError("ota command: " + where + name + " must be a non-empty string");
    }
    return o[name].get<std::string>();
  };
  WEFT_ASSIGN_OR_RETURN(c.campaign, str(j, "campaign", ""));
  c.context.campaign = c.campaign;
  if (!j.contains("artifact") || !j["artifact"].is_object()) {
    return InvalidArgumentError("ota command: artifact must be an object {manifest, signature, url}");
  }
  const json& a = j["artifact"];
  WEFT_ASSIGN_OR_RETURN(c.manifest_json, str(a, "manifest", "artifact."));
  WEFT_ASSIGN_OR_RETURN(c.signature_b64, str(a, "signature", "artifact."));
  WEFT_ASSIGN_OR_RETURN(c.url, str(a, "url", "artifact."));
  if (j.contains("health_timeout_s") && !j["health_timeout_s"].is_null()) {
    if (!j["health_timeout_s"].is_number_integer() || j["health_timeout_s"].get<int64_t>() < 0) {
      return InvalidArgumentError("ota command: health_timeout_s must be a non-negative integer");
    }
    c.context.health_timeout = std::chrono::seconds(j["health_timeout_s"].get<int64_t>());
  }
  if (j.contains("latency_budget_us") && !j["latency_budget_us"].is_null()) {
    const json& b = j["latency_budget_us"];
    if (!b.is_number() || b.get<double>() <= 0) {
      return InvalidArgumentError("ota command: latency_budget_us must be a positive number or null");
    }
    c.context.latency_budget_us = static_cast<int64_t>(b.get<double>());
  }
  return c;
}

struct OtaAgent::Impl {
  Options o;
  const Clock* clock;
  std::mutex command_mu;  // one command at a time
  mutable std::mutex mu;
  std::map<std::string, ArtifactManifest> committed;  // GUARDED_BY(mu), key kind/name
  std::vector<json> outbox;                           // GUARDED_BY(mu)

  std::string Ts() const { return FormatTimestampMicros(UnixMicros(clock->Now())); }
  std::string SlotDir(const std::string& kind, const std::string& name) const {
    return o.state_dir + "/" + kind + "/" + name;
  }

  std::string RunningVersion(const std::string& kind, const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = committed.find(kind + "/" + name);
    if (it != committed.end()) return it->second.version;
    auto b = o.base_versions.find(VersionKey(kind, name));
    return b != o.base_versions.end() ? b->second : "";
  }

  json Status(const std::string& campaign, const std::string& state, const std::string& version,
              const std::string& previous, const std::string& target,
              const std::string& reason) const {
    json j = {{"campaign", campaign}, {"device", o.device_id}, {"state", state},
              {"version", version},   {"previous_version", previous},
              {"target_version", target}, {"ts", Ts()}};
    if (!reason.empty()) j["reason"] = reason;
    return j;
  }

  void Progress(const json& status) {
    // Intermediate states are best effort: the final one is what the campaign counts.
    weft::Status s = o.publish("ota/status", status.dump(), false);
    if (!s.ok()) spdlog::warn("ota: cannot publish {}: {}", status.value("state", ""), s.message());
  }

  weft::Status SaveOutboxLocked() {
    json arr = json::array();
    for (const json& j : outbox) arr.push_back(j);
    return WriteFileAtomic(o.state_dir + "/" + kOutboxFile, arr.dump(), 0644);
  }

  // Queues a final status durably, then sends what the outbox holds.
  weft::Status Final(const json& status) {
    {
      std::lock_guard<std::mutex> lock(mu);
      outbox.push_back(status);
      if (outbox.size() > kMaxOutbox) outbox.erase(outbox.begin());
      WEFT_RETURN_IF_ERROR(SaveOutboxLocked());
    }
    spdlog::info("ota: campaign {}: {} (version {}{}{})", status.value("campaign", ""),
                 status.value("state", ""), status.value("version", ""),
                 status.contains("reason") ? ": " : "", status.value("reason", ""));
    FlushOutbox();
    // The state is retained and sent again on every connect: a failure here loses nothing.
    weft::Status s = PublishStateOnly();
    if (!s.ok()) spdlog::warn("ota: cannot publish state: {}", s.message());
    return weft::Status::Ok();
  }

  void FlushOutbox() {
    std::lock_guard<std::mutex> lock(mu);
    size_t sent = 0;
    for (; sent < outbox.size(); ++sent) {
      weft::Status s = o.publish("ota/status", outbox[sent].dump(), false);
      if (!s.ok()) {
        spdlog::warn("ota: status kept for later: {}", s.message());
        break;
      }
    }
    if (sent == 0) return;
    outbox.erase(outbox.begin(), outbox.begin() + static_cast<std::ptrdiff_t>(sent));
    weft::Status s = SaveOutboxLocked();
    if (!s.ok()) spdlog::warn("ota: {}", s.message());
  }

  std::map<std::string, std::string> VersionsLocked() const {
    std::map<std::string, std::string> v = o.base_versions;
    for (const auto& [key, m] : committed) v[VersionKey(m.kind, m.name)] = m.version;
    return v;
  }

  std::string StateJson() const {
    std::map<std::string, std::string> v;
    {
      std::lock_guard<std::mutex> lock(mu);
      v = VersionsLocked();
    }
    json versions = json::object();
    json models = json::object();
    for (const auto& [k, ver] : v) {
      if (k.rfind("model/", 0) == 0) {
        models[k.substr(6)] = ver;
      } else {
        versions[k] = ver;
      }
    }
    versions["models"] = models;
    json j = {{"device", o.device_id}, {"hardware_model", o.hardware_model}, {"site", o.site},
              {"versions", versions},  {"ts", Ts()}};
    return j.dump();
  }

  weft::Status PublishStateOnly() { return o.publish("state", StateJson(), true); }

  // Puts the slot of `dir` back as it was before the trial whose marker says `trial`;
  // returns the manifest now current (nullopt: none, the device's original).
  Result<std::optional<ArtifactManifest>> RollBackSlots(const std::string& dir, const json& trial) {
    const std::string current = dir + "/current";
    const std::string previous = dir + "/previous";
    const bool had_previous = trial.value("had_previous", false);
    auto target = ParseManifest(trial.value("manifest", std::string()));
    std::optional<ArtifactManifest> now_current = ReadSlotManifest(current);
    const bool current_is_target =
        !fs::exists(current) || (target.ok() && now_current && SameArtifact(*now_current, *target));
    if (current_is_target) {
      WEFT_RETURN_IF_ERROR(RemoveAll(current));
      if (had_previous && fs::exists(previous)) WEFT_RETURN_IF_ERROR(Rename(previous, current));
    }
    WEFT_RETURN_IF_ERROR(RemoveAll(dir + "/incoming"));
    FsyncDir(dir);
    std::error_code ec;
    fs::remove(dir + "/" + kTrialFile, ec);
    FsyncDir(dir);
    std::optional<ArtifactManifest> restored = ReadSlotManifest(current);
    {
      std::lock_guard<std::mutex> lock(mu);
      const std::string key = trial.value("kind", "") + "/" + trial.value("name", "");
      if (restored) {
        committed[key] = *restored;
      } else {
        committed.erase(key);
      }
    }
    return restored;
  }

  weft::Status CallRestore(const ArtifactManifest& failed,
                           const std::optional<ArtifactManifest>& previous,
                           const std::string& dir) {
    const std::string file = previous ? dir + "/current/" + kArtifactFile : "";
    if (o.restore) return o.restore(failed, previous, file);
    if (previous) return o.install(*previous, file);
    return weft::Status::Ok();
  }

  weft::Status Handle(const OtaCommand& c);
  weft::Status Fetch(const std::string& url, const ArtifactManifest& m, const std::string& dest);
};

weft::Status OtaAgent::Impl::Fetch(const std::string& url, const ArtifactManifest& m,
                                   const std::string& dest) {
  constexpr std::string_view kFile = "file://";
  if (url.rfind(kFile, 0) == 0) {
    return CopyFileSynced(url.substr(kFile.size()), dest, m.size);
  }
  if (url.rfind("https://", 0) == 0) {
    if (o.download) return o.download(url, dest);
    return internal::HttpsDownload(url, o.core_ca_file, dest, m.size, o.download_timeout);
  }
  return InvalidArgumentError("artifact url '" + url + "' is neither https:// nor file://");
}

weft::Status OtaAgent::Impl::Handle(const OtaCommand& c) {
  // 1-2: authenticity and applicability, before anything touches the disk.
  weft::Status sig = VerifyBytes(o.ota_public_key_pem, c.manifest_json, c.signature_b64);
  if (!sig.ok()) {
    return Final(Status(c.campaign, "failed", "", "", "",
                        "the manifest's signature does not verify with the pinned OTA key (" +
                            sig.message() + ")"));
  }
  Result<ArtifactManifest> parsed = ParseManifest(c.manifest_json);
  if (!parsed.ok()) {
    return Final(Status(c.campaign, "failed", "", "", "", "bad manifest: " + parsed.status().message()));
  }
  const ArtifactManifest& m = *parsed;
  const std::string before = KnownKind(m.kind) && SafeName(m.name) ? RunningVersion(m.kind, m.name) : "";
  auto final_failed = [&](const std::string& reason) {
    return Final(Status(c.campaign, "failed", before, before, m.version, reason));
  };
  if (!KnownKind(m.kind)) return final_failed("unknown artifact kind '" + m.kind + "'");
  if (!SafeName(m.name)) return final_failed("artifact name '" + m.name + "' is not [A-Za-z0-9._-]{1,64}");
  if (std::find(m.hardware_models.begin(), m.hardware_models.end(), o.hardware_model) ==
      m.hardware_models.end()) {
    return final_failed("hardware model '" + o.hardware_model + "' is not among the artifact's [" +
                        [&] {
                          std::string s;
                          for (const auto& h : m.hardware_models) s += (s.empty() ? "" : ", ") + h;
                          return s;
                        }() + "]");
  }
  const std::string dir = SlotDir(m.kind, m.name);
  if (std::optional<ArtifactManifest> cur = ReadSlotManifest(dir + "/current");
      cur && SameArtifact(*cur, m) && !fs::exists(dir + "/" + kTrialFile)) {
    return Final(Status(c.campaign, "succeeded", m.version, before, m.version,
                        "already running this version"));
  }

  // 4: download and check.
  Progress(Status(c.campaign, "downloading", before, before, m.version, ""));
  WEFT_RETURN_IF_ERROR(MakeDirs(dir));
  const std::string incoming = dir + "/incoming";
  WEFT_RETURN_IF_ERROR(RemoveAll(incoming));
  WEFT_RETURN_IF_ERROR(MakeDirs(incoming));
  const std::string file = incoming + "/" + kArtifactFile;
  weft::Status got = Fetch(c.url, m, file);
  if (!got.ok()) {
    (void)RemoveAll(incoming);
    return final_failed("download: " + got.message());
  }
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec || size != m.size) {
    (void)RemoveAll(incoming);
    return final_failed("size " + (ec ? ec.message() : std::to_string(size)) +
                        " is not the manifest's " + std::to_string(m.size));
  }
  Result<std::string> digest = Sha256HexOfFile(file);
  if (!digest.ok() || *digest != m.sha256) {
    (void)RemoveAll(incoming);
    return final_failed("sha256 " + (digest.ok() ? *digest : digest.status().message()) +
                        " is not the manifest's " + m.sha256);
  }
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(incoming + "/" + kManifestFile, c.manifest_json, 0644));
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(incoming + "/signature", c.signature_b64, 0644));
  FsyncDir(incoming);

  // 5: the trial marker first, then the swap: a crash anywhere after this is rolled back.
  Progress(Status(c.campaign, "installing", before, before, m.version, ""));
  const std::string current = dir + "/current";
  const std::string previous = dir + "/previous";
  const bool had_current = fs::exists(current);
  json trial = {{"campaign", c.campaign}, {"kind", m.kind},           {"name", m.name},
                {"manifest", c.manifest_json}, {"had_previous", had_current},
                {"previous_version", before},  {"started", Ts()}};
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kTrialFile, trial.dump(), 0644));
  if (had_current) {
    WEFT_RETURN_IF_ERROR(RemoveAll(previous));
    WEFT_RETURN_IF_ERROR(Rename(current, previous));
  }
  WEFT_RETURN_IF_ERROR(Rename(incoming, current));
  FsyncDir(dir);
  const std::string installed = current + "/" + kArtifactFile;

  // 6: install, health, commit or roll back.
  weft::Status outcome = o.install(m, installed);
  if (outcome.ok() && o.health) outcome = o.health(m, c.context);
  if (outcome.ok()) {
    fs::remove(dir + "/" + kTrialFile, ec);
    FsyncDir(dir);
    {
      std::lock_guard<std::mutex> lock(mu);
      committed[m.kind + "/" + m.name] = m;
    }
    return Final(Status(c.campaign, "succeeded", m.version, before, m.version, ""));
  }
  spdlog::warn("ota: {} {} version {} unhealthy: {}; rolling back", m.kind, m.name, m.version,
               outcome.message());
  WEFT_ASSIGN_OR_RETURN(std::optional<ArtifactManifest> restored, RollBackSlots(dir, trial));
  weft::Status r = CallRestore(m, restored, dir);
  std::string reason = outcome.message();
  if (!r.ok()) reason += "; restoring the previous version failed too: " + r.message();
  const std::string now_running = RunningVersion(m.kind, m.name);
  return Final(Status(c.campaign, "rolled_back", now_running, before, m.version, reason));
}

OtaAgent::OtaAgent(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->clock = options.clock != nullptr ? options.clock : &SystemClock::Default();
  impl_->o = std::move(options);
}

OtaAgent::~OtaAgent() = default;

Result<std::unique_ptr<OtaAgent>> OtaAgent::Start(Options options) {
  if (options.state_dir.empty()) return InvalidArgumentError("ota: state_dir is required");
  if (!options.publish || !options.install) {
    return InvalidArgumentError("ota: the publish and install callbacks are required");
  }
  if (options.device_id.empty() || options.hardware_model.empty()) {
    return InvalidArgumentError("ota: device_id and hardware_model are required");
  }
  if (options.ota_public_key_pem.empty()) {
    return FailedPreconditionError(
        "ota: no pinned OTA public key (it comes with provisioning: identity ota_public_key)");
  }
  WEFT_RETURN_IF_ERROR(MakeDirs(options.state_dir));
  std::unique_ptr<OtaAgent> agent(new OtaAgent(std::move(options)));
  Impl& im = *agent->impl_;

  // The outbox of statuses not sent before the last stop.
  if (auto text = internal::ReadWholeFile(im.o.state_dir + "/" + kOutboxFile); text.ok()) {
    const json arr = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (arr.is_array()) {
      for (const json& j : arr) im.outbox.push_back(j);
    } else {
      spdlog::warn("ota: {}/{} is corrupt; ignored", im.o.state_dir, kOutboxFile);
    }
  }
  // Committed versions, and unfinished trials to roll back.
  std::vector<std::pair<std::string, json>> trials;
  std::error_code ec;
  for (const std::string kind : {"firmware", "edge_config", "model"}) {
    const std::string kdir = im.o.state_dir + "/" + kind;
    if (!fs::is_directory(kdir, ec)) continue;
    for (const auto& e : fs::directory_iterator(kdir, ec)) {
      if (!e.is_directory()) continue;
      const std::string dir = e.path().string();
      if (auto text = internal::ReadWholeFile(dir + "/" + kTrialFile); text.ok()) {
        json t = json::parse(*text, nullptr, /*allow_exceptions=*/false);
        if (!t.is_object()) {
          // A marker torn by the crash itself: the swap had not started.
          t = json{{"kind", kind}, {"name", e.path().filename().string()}, {"had_previous", false},
                   {"manifest", ""}, {"campaign", ""}};
        }
        trials.emplace_back(dir, std::move(t));
      }
      if (auto m = ReadSlotManifest(dir + "/current")) {
        im.committed[m->kind + "/" + m->name] = *m;
      }
    }
  }
  for (auto& [dir, t] : trials) {
    const std::string campaign = t.value("campaign", "");
    auto failed = ParseManifest(t.value("manifest", std::string()));
    WEFT_ASSIGN_OR_RETURN(std::optional<ArtifactManifest> restored, im.RollBackSlots(dir, t));
    std::string reason = "interrupted during the trial (device restarted); previous version restored";
    if (failed.ok()) {
      weft::Status r = im.CallRestore(*failed, restored, dir);
      if (!r.ok()) reason += "; restoring it failed: " + r.message();
    }
    const std::string kind = t.value("kind", "");
    const std::string name = t.value("name", "");
    const std::string now_running = im.RunningVersion(kind, name);
    spdlog::warn("ota: {} {}: {}", kind, name, reason);
    if (!campaign.empty()) {
      WEFT_RETURN_IF_ERROR(im.Final(im.Status(campaign, "rolled_back", now_running,
                                              t.value("previous_version", ""),
                                              failed.ok() ? failed->version : "", reason)));
    }
  }
  return agent;
}

Status OtaAgent::HandleCommand(std::string_view payload) {
  Result<OtaCommand> c = ParseOtaCommand(payload);
  if (!c.ok()) {
    // Still answer the campaign when it can be named, so it does not wait for a timeout.
    const json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("campaign") && j["campaign"].is_string()) {
      std::lock_guard<std::mutex> lock(impl_->command_mu);
      WEFT_RETURN_IF_ERROR(impl_->Final(impl_->Status(j["campaign"].get<std::string>(), "failed",
                                                      "", "", "", c.status().message())));
    }
    return c.status();
  }
  std::lock_guard<std::mutex> lock(impl_->command_mu);
  return impl_->Handle(*c);
}

std::map<std::string, std::string> OtaAgent::Versions() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->VersionsLocked();
}

std::string OtaAgent::StateJson() const {
  return impl_->StateJson();
}

Status OtaAgent::PublishState() {
  impl_->FlushOutbox();
  return impl_->PublishStateOnly();
}

std::string OtaAgent::BenchJson(const std::string& model, const std::string& model_version,
                                double p50_us, double p99_us, size_t samples) const {
  json j = {{"device", impl_->o.device_id}, {"hardware_model", impl_->o.hardware_model},
            {"model", model},                {"model_version", model_version},
            {"p50_us", p50_us},              {"p99_us", p99_us},
            {"samples", samples},            {"ts", impl_->Ts()}};
  return j.dump();
}

std::string OtaAgent::CurrentFile(const std::string& kind, const std::string& name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->committed.count(kind + "/" + name) == 0) return "";
  return impl_->SlotDir(kind, name) + "/current/" + kArtifactFile;
}

}  // namespace weft::fleet
