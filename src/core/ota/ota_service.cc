#include "core/ota/ota_service.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/time_format.h"

namespace weft::core::ota {
namespace {

// "<prefix>/<device>/<rest>" -> (device, rest).
std::optional<std::pair<std::string_view, std::string_view>> SplitTopic(std::string_view topic,
                                                                        std::string_view prefix) {
  if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
      topic[prefix.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = topic.substr(prefix.size() + 1);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::pair{rest.substr(0, slash), rest.substr(slash + 1)};
}

Result<nlohmann::json> ParseObject(std::string_view what, std::string_view device,
                                   std::string_view payload) {
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return InvalidArgumentError(std::string(what) + " of " + std::string(device) +
                                ": not a JSON object");
  }
  if (!j.contains("device") || !j.at("device").is_string() ||
      j.at("device").get<std::string>() != device) {
    return InvalidArgumentError(std::string(what) + " on the topic of " + std::string(device) +
                                " names another device: refused");
  }
  return j;
}

std::string Str(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : std::string();
}

// The report's ts when present and parseable, else now.
TimePoint ReportTime(const nlohmann::json& j, TimePoint now) {
  Result<int64_t> ts = ParseTimestampMicros(Str(j, "ts"));
  return ts.ok() ? TimeFromUnixMicros(*ts) : now;
}

}  // namespace

Result<std::unique_ptr<OtaService>> OtaService::Open(OtaOptions options) {
  if (options.state_dir.empty() || options.clock == nullptr) {
    return InvalidArgumentError("ota: state_dir and clock are required");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) {
    return UnavailableError("ota: cannot create " + options.state_dir + ": " + ec.message());
  }
  std::unique_ptr<OtaService> s(new OtaService(std::move(options)));
  const OtaOptions& o = s->options_;
  WEFT_ASSIGN_OR_RETURN(s->store_, OtaStore::Open(o.state_dir + "/ota.db"));
  WEFT_ASSIGN_OR_RETURN(
      s->artifacts_,
      ArtifactStore::Open({.state_dir = o.state_dir, .max_bytes = o.max_artifact_bytes},
                          s->store_.get(), o.clock));
  s->registry_ = std::make_unique<Registry>(s->store_.get(), o.clock, o.approvals, o.bench_keep);
  EngineOptions e;
  e.store = s->store_.get();
  e.registry = s->registry_.get();
  e.artifacts = s->artifacts_.get();
  e.clock = o.clock;
  e.send = o.send_command;
  e.fleet = o.fleet;
  e.use_case_budget = o.use_case_budget;
  e.audit = o.audit;
  e.download_base_url = o.download_base_url;
  s->engine_ = std::make_unique<CampaignEngine>(std::move(e));
  return s;
}

OtaService::~OtaService() {
  StopEngine();
}

std::vector<std::string> OtaService::Subscriptions() const {
  return {options_.edge_topic + "/+/ota/status", options_.edge_topic + "/+/state",
          options_.edge_topic + "/+/bench"};
}

void OtaService::StartEngine() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> l(thread_mu_);
    while (!stop_) {
      l.unlock();
      Status s = engine_->Tick();
      if (!s.ok()) {
        ++tick_errors_;
        spdlog::warn("weft-core ota: campaign tick: {}", s.ToString());
      }
      l.lock();
      stop_cv_.wait_for(l, options_.tick_every, [this] { return stop_; });
    }
  });
}

void OtaService::StopEngine() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

OtaMetrics OtaService::metrics() const {
  return {status_reports_.load(), state_reports_.load(), bench_reports_.load(),
          refused_reports_.load(), tick_errors_.load()};
}

Status OtaService::HandleMessage(std::string_view topic, std::string_view payload) {
  auto where = SplitTopic(topic, options_.edge_topic);
  Status s;
  if (!where) {
    s = InvalidArgumentError("ota: topic '" + std::string(topic) + "' is not under " +
                             options_.edge_topic);
  } else if (where->second == "ota/status") {
    ++status_reports_;
    s = engine_->HandleStatus(where->first, payload);
  } else if (where->second == "state") {
    ++state_reports_;
    s = HandleState(where->first, payload);
  } else if (where->second == "bench") {
    ++bench_reports_;
    s = HandleBench(where->first, payload);
  } else {
    s = InvalidArgumentError("ota: topic '" + std::string(topic) + "' is not an OTA report");
  }
  if (!s.ok()) {
    ++refused_reports_;
    spdlog::warn("weft-core ota: refused a report on {}: {}", topic, s.ToString());
  }
  return s;
}

Status OtaService::HandleState(std::string_view device, std::string_view payload) {
  WEFT_RETURN_IF_ERROR(ValidateName("device", device));
  WEFT_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject("state", device, payload));
  InventoryDevice d;
  d.id = std::string(device);
  d.hardware_model = Str(j, "hardware_model");
  d.site = Str(j, "site");
  d.last_seen = ReportTime(j, options_.clock->Now());
  if (j.contains("versions")) {
    const nlohmann::json& v = j.at("versions");
    if (!v.is_object()) return InvalidArgumentError("state of " + d.id + ": versions is not an object");
    for (const auto& [kind, value] : v.items()) {
      if (value.is_string()) {
        d.versions[kind] = value.get<std::string>();
      } else if (value.is_object()) {  // "models": {"bearing-wear": "2"}
        const std::string prefix = kind == "models" ? "model" : kind;
        for (const auto& [name, version] : value.items()) {
          if (version.is_string()) d.versions[prefix + "/" + name] = version.get<std::string>();
        }
      }
    }
  }
  if (d.versions.size() > 256) return InvalidArgumentError("state of " + d.id + ": too many versions");
  return store_->PutInventory(d);
}

Status OtaService::HandleBench(std::string_view device, std::string_view payload) {
  WEFT_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject("bench", device, payload));
  BenchReport r;
  r.device = std::string(device);
  r.hardware_model = Str(j, "hardware_model");
  r.model = Str(j, "model");
  r.model_version = Str(j, "model_version");
  for (auto [k, out] : {std::pair{"p50_us", &r.p50_us}, std::pair{"p99_us", &r.p99_us},
                        std::pair{"samples", &r.samples}}) {
    if (!j.contains(k) || !j.at(k).is_number()) {
      return InvalidArgumentError("bench of " + r.device + ": " + k + " is missing");
    }
    *out = static_cast<int64_t>(j.at(k).get<double>());
  }
  r.ts = ReportTime(j, options_.clock->Now());
  return registry_->RecordBench(r);
}

}  // namespace weft::core::ota
