#include "core/ota/campaign_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "common/time_format.h"

namespace weft::core::ota {
namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// Counts with a small tolerance, so 0.2 x 200 = 40 failures reach a 20% threshold.
bool AtLeast(size_t count, double fraction, size_t n) {
  return static_cast<double>(count) + 1e-9 >= fraction * static_cast<double>(n);
}

std::string Percent(double f) {
  const double p = std::round(f * 1000.0) / 10.0;
  std::string s = std::to_string(p);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s + "%";
}

Result<std::vector<std::string>> StringList(const nlohmann::json& o, const char* field) {
  if (!o.contains(field)) return std::vector<std::string>{};
  const nlohmann::json& v = o.at(field);
  if (!v.is_array())
    return InvalidArgumentError(std::string(field) + " must be an array of strings");
  std::vector<std::string> out;
  for (const nlohmann::json& e : v) {
    if (!e.is_string()) {
      return InvalidArgumentError(std::string(field) + " must be an array of strings");
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

Status OnlyKeys(const nlohmann::json& o, std::initializer_list<std::string_view> allowed,
                std::string_view where) {
  for (const auto& [k, v] : o.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return InvalidArgumentError(std::string(where) + ": unknown field '" + k + "'");
    }
  }
  return Status::Ok();
}

std::string Ts(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}
nlohmann::json OptTs(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(Ts(*t)) : nlohmann::json(nullptr);
}

}  // namespace

Result<CampaignSpec> ParseCampaignSpec(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgumentError("campaign: expected a JSON object");
  WEFT_RETURN_IF_ERROR(
      OnlyKeys(j,
               {"name", "artifact", "target", "waves", "success_threshold", "error_threshold",
                "health_timeout_s", "device_timeout_s", "latency_budget_us"},
               "campaign"));
  CampaignSpec s;
  for (auto [field, out] : {std::pair{"name", &s.name}, std::pair{"artifact", &s.artifact}}) {
    if (!j.contains(field) || !j.at(field).is_string() || j.at(field).get<std::string>().empty()) {
      return InvalidArgumentError(std::string("campaign: ") + field +
                                  " is required (a non-empty string)");
    }
    *out = j.at(field).get<std::string>();
  }
  if (s.name.size() > 256) return InvalidArgumentError("campaign: name is over 256 characters");
  if (j.contains("target")) {
    const nlohmann::json& t = j.at("target");
    if (!t.is_object()) return InvalidArgumentError("campaign: target must be an object");
    WEFT_RETURN_IF_ERROR(OnlyKeys(t, {"sites", "hardware_models", "firmware"}, "campaign target"));
    WEFT_ASSIGN_OR_RETURN(s.sites, StringList(t, "sites"));
    WEFT_ASSIGN_OR_RETURN(s.hardware_models, StringList(t, "hardware_models"));
    WEFT_ASSIGN_OR_RETURN(s.firmware, StringList(t, "firmware"));
  }
  if (j.contains("waves")) {
    const nlohmann::json& w = j.at("waves");
    if (!w.is_array() || w.empty()) {
      return InvalidArgumentError(
          "campaign: waves must be a non-empty array like [1, \"10%\", "
          "\"100%\"]");
    }
    s.waves.clear();
    for (const nlohmann::json& e : w) {
      if (e.is_number_unsigned() || (e.is_number_integer() && e.get<int64_t>() > 0)) {
        s.waves.push_back(std::to_string(e.get<int64_t>()));
      } else if (e.is_string()) {
        s.waves.push_back(e.get<std::string>());
      } else {
        return InvalidArgumentError(
            "campaign: waves: each wave is a device count (1) or a "
            "percentage (\"10%\")");
      }
    }
  }
  WEFT_RETURN_IF_ERROR(WaveSizes(s.waves, 100).status());
  for (auto [field, out] : {std::pair{"success_threshold", &s.success_threshold},
                            std::pair{"error_threshold", &s.error_threshold}}) {
    if (!j.contains(field)) continue;
    if (!j.at(field).is_number() || j.at(field).get<double>() < 0.0 ||
        j.at(field).get<double>() > 1.0) {
      return InvalidArgumentError(std::string("campaign: ") + field +
                                  " must be a fraction between 0 and 1");
    }
    *out = j.at(field).get<double>();
  }
  if (s.error_threshold <= 0.0) {
    return InvalidArgumentError("campaign: error_threshold must be above 0 (a fraction of a wave)");
  }
  for (auto [field, out] : {std::pair{"health_timeout_s", &s.health_timeout_s},
                            std::pair{"device_timeout_s", &s.device_timeout_s}}) {
    if (!j.contains(field)) continue;
    if (!j.at(field).is_number_integer() || j.at(field).get<int64_t>() <= 0 ||
        j.at(field).get<int64_t>() > 30 * 86400) {
      return InvalidArgumentError(std::string("campaign: ") + field +
                                  " must be a whole number of seconds, 1 to 2592000");
    }
    *out = j.at(field).get<int64_t>();
  }
  if (j.contains("latency_budget_us") && !j.at("latency_budget_us").is_null()) {
    if (!j.at("latency_budget_us").is_number_integer() ||
        j.at("latency_budget_us").get<int64_t>() <= 0) {
      return InvalidArgumentError("campaign: latency_budget_us must be a positive integer");
    }
    s.latency_budget_us = j.at("latency_budget_us").get<int64_t>();
  }
  return s;
}

Result<std::vector<size_t>> WaveSizes(const std::vector<std::string>& waves, size_t devices) {
  if (waves.empty() || waves.back() != "100%") {
    return InvalidArgumentError("campaign: waves must end with \"100%\"");
  }
  std::vector<size_t> out;
  size_t previous = 0;
  for (const std::string& w : waves) {
    size_t cumulative = 0;
    const bool percent = !w.empty() && w.back() == '%';
    const std::string_view digits = std::string_view(w).substr(0, w.size() - (percent ? 1 : 0));
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || v == 0 ||
        (percent && v > 100)) {
      return InvalidArgumentError("campaign: wave '" + w +
                                  "' is neither a device count (1, 2, ...) nor a percentage "
                                  "(1% to 100%)");
    }
    if (percent) {
      cumulative = static_cast<size_t>((static_cast<uint64_t>(devices) * v + 99) / 100);
    } else {
      cumulative = std::min<size_t>(static_cast<size_t>(v), devices);
    }
    if (cumulative < previous) {
      return InvalidArgumentError("campaign: waves are cumulative and must not shrink ('" + w +
                                  "' covers fewer devices than the wave before)");
    }
    out.push_back(cumulative);
    previous = cumulative;
  }
  return out;
}

nlohmann::json CampaignJson(const Campaign& c) {
  nlohmann::json waves = nlohmann::json::array();
  for (const std::string& w : c.spec.waves) {
    waves.push_back(w);
  }
  return {{"id", c.id},
          {"name", c.spec.name},
          {"artifact", c.spec.artifact},
          {"target",
           {{"sites", c.spec.sites},
            {"hardware_models", c.spec.hardware_models},
            {"firmware", c.spec.firmware}}},
          {"waves", waves},
          {"success_threshold", c.spec.success_threshold},
          {"error_threshold", c.spec.error_threshold},
          {"health_timeout_s", c.spec.health_timeout_s},
          {"device_timeout_s", c.spec.device_timeout_s},
          {"latency_budget_us", c.spec.latency_budget_us ? nlohmann::json(*c.spec.latency_budget_us)
                                                         : nlohmann::json(nullptr)},
          {"state", CampaignStateName(c.state)},
          {"state_reason", c.state_reason},
          {"current_wave", c.current_wave + 1},
          {"created_by", c.created_by},
          {"created_at", Ts(c.created_at)},
          {"started_at", OptTs(c.started_at)},
          {"finished_at", OptTs(c.finished_at)}};
}

Status CampaignEngine::CheckLatencyGate(const ArtifactRecord& a, const CampaignSpec& spec,
                                        const std::vector<std::string>& hardware_models) {
  if (a.kind != "model") return Status::Ok();
  std::optional<int64_t> budget = spec.latency_budget_us;
  if (!budget && o_.use_case_budget) budget = o_.use_case_budget(a.name);
  if (!budget) return Status::Ok();
  for (const std::string& hw : hardware_models) {
    WEFT_ASSIGN_OR_RETURN(std::optional<LatencySummary> l,
                          o_.registry->LatencyFor(hw, a.name, a.version));
    if (l && l->p99_us > *budget) {
      return FailedPreconditionError(
          "model campaign refused: on hardware model '" + hw + "' model " + a.name + " version " +
          a.version + " has a recorded p99 of " + std::to_string(l->p99_us) +
          " us, over the latency budget of " + std::to_string(*budget) + " us (" +
          std::to_string(l->reports) + " reports from " + std::to_string(l->devices) + " devices)");
    }
  }
  return Status::Ok();
}

Result<Campaign> CampaignEngine::Create(CampaignSpec spec, const std::string& by) {
  WEFT_RETURN_IF_ERROR(WaveSizes(spec.waves, 100).status());
  WEFT_ASSIGN_OR_RETURN(ArtifactRecord a, o_.store->GetArtifact(spec.artifact));
  // The hardware models the campaign may reach: the artifact's, narrowed by the target.
  std::vector<std::string> models;
  for (const std::string& hw : a.hardware_models) {
    if (spec.hardware_models.empty() ||
        std::find(spec.hardware_models.begin(), spec.hardware_models.end(), hw) !=
            spec.hardware_models.end()) {
      models.push_back(hw);
    }
  }
  if (models.empty()) {
    return InvalidArgumentError("campaign: the artifact is for hardware models " +
                                JoinList(a.hardware_models) +
                                ", none of which the target's hardware_models names");
  }
  WEFT_RETURN_IF_ERROR(CheckLatencyGate(a, spec, models));
  std::lock_guard<std::mutex> lock(mu_);
  Campaign c;
  c.spec = std::move(spec);
  c.created_by = by;
  c.created_at = o_.clock->Now();
  WEFT_ASSIGN_OR_RETURN(c.id, o_.store->CreateCampaign(c));
  return c;
}

Result<Campaign> CampaignEngine::Start(std::string_view id, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Campaign c, o_.store->GetCampaign(id));
  if (c.state != CampaignState::kDraft) {
    return FailedPreconditionError("campaign " + c.id + " is " +
                                   std::string(CampaignStateName(c.state)) +
                                   "; only a draft can be started");
  }
  WEFT_ASSIGN_OR_RETURN(ArtifactRecord a, o_.store->GetArtifact(c.spec.artifact));
  WEFT_ASSIGN_OR_RETURN(std::vector<KnownDevice> known, KnownDevices(*o_.store, o_.fleet));
  auto allowed = [](const std::vector<std::string>& filter, const std::string& v) {
    return filter.empty() || std::find(filter.begin(), filter.end(), v) != filter.end();
  };
  std::vector<std::string> targeted;
  std::set<std::string> models;
  for (const KnownDevice& d : known) {
    auto fw = d.versions.find("firmware");
    const std::string firmware = fw == d.versions.end() ? "" : fw->second;
    if (!allowed(c.spec.sites, d.site) || !allowed(c.spec.hardware_models, d.hardware_model) ||
        !allowed(a.hardware_models, d.hardware_model) ||
        (!c.spec.firmware.empty() && !allowed(c.spec.firmware, firmware))) {
      continue;
    }
    targeted.push_back(d.id);
    models.insert(d.hardware_model);
  }
  if (targeted.empty()) {
    return FailedPreconditionError("campaign " + c.id +
                                   " targets no device (sites, hardware models, firmware and "
                                   "the artifact's hardware models " +
                                   JoinList(a.hardware_models) + " select none)");
  }
  if (a.kind == "firmware") {
    for (const std::string& hw : models) {
      Result<FirmwareVersion> f = o_.store->GetFirmware(hw, a.version);
      if (!f.ok() || f->status != FirmwareStatus::kCertified) {
        return FailedPreconditionError(
            "campaign " + c.id + ": firmware " + hw + "/" + a.version + " is " +
            (f.ok() ? std::string(FirmwareStatusName(f->status)) : std::string("not registered")) +
            ", not certified; certify it through the governance board first");
      }
    }
  }
  WEFT_RETURN_IF_ERROR(
      CheckLatencyGate(a, c.spec, std::vector<std::string>(models.begin(), models.end())));

  std::sort(targeted.begin(), targeted.end(), [&](const std::string& x, const std::string& y) {
    const uint64_t hx = Fnv1a(c.id + "/" + x), hy = Fnv1a(c.id + "/" + y);
    return hx != hy ? hx < hy : x < y;
  });
  WEFT_ASSIGN_OR_RETURN(std::vector<size_t> sizes, WaveSizes(c.spec.waves, targeted.size()));
  const TimePoint now = o_.clock->Now();
  std::vector<CampaignDevice> devices;
  size_t wave = 0;
  for (size_t i = 0; i < targeted.size(); ++i) {
    while (i >= sizes[wave]) ++wave;
    CampaignDevice d;
    d.campaign = c.id;
    d.device = targeted[i];
    d.wave = static_cast<int>(wave);
    d.updated_at = now;
    devices.push_back(std::move(d));
  }
  WEFT_RETURN_IF_ERROR(o_.store->AddCampaignDevices(devices));
  c.state = CampaignState::kRunning;
  c.started_at = now;
  c.current_wave = 0;
  c.state_reason = "started by " + by;
  WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
  WEFT_RETURN_IF_ERROR(TickCampaign(c, now));
  return c;
}

Result<Campaign> CampaignEngine::Pause(std::string_view id, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Campaign c, o_.store->GetCampaign(id));
  if (c.state != CampaignState::kRunning) {
    return FailedPreconditionError("campaign " + c.id + " is " +
                                   std::string(CampaignStateName(c.state)) +
                                   "; only a running campaign can be paused");
  }
  c.state = CampaignState::kPaused;
  c.state_reason = "paused by " + by;
  WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
  return c;
}

Result<Campaign> CampaignEngine::Resume(std::string_view id, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Campaign c, o_.store->GetCampaign(id));
  if (c.state != CampaignState::kPaused) {
    return FailedPreconditionError("campaign " + c.id + " is " +
                                   std::string(CampaignStateName(c.state)) +
                                   "; only a paused campaign can be resumed");
  }
  c.state = CampaignState::kRunning;
  c.waived_wave = c.current_wave;
  c.state_reason = "resumed by " + by + " (thresholds of wave " +
                   std::to_string(c.current_wave + 1) + " waived)";
  WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
  WEFT_RETURN_IF_ERROR(TickCampaign(c, o_.clock->Now()));
  return c;
}

Result<Campaign> CampaignEngine::Cancel(std::string_view id, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Campaign c, o_.store->GetCampaign(id));
  if (c.state == CampaignState::kFinished || c.state == CampaignState::kCancelled) {
    return FailedPreconditionError("campaign " + c.id + " is already " +
                                   std::string(CampaignStateName(c.state)));
  }
  const TimePoint now = o_.clock->Now();
  WEFT_ASSIGN_OR_RETURN(std::vector<CampaignDevice> devices, o_.store->ListCampaignDevices(c.id));
  for (CampaignDevice& d : devices) {
    if (d.state != "pending") continue;
    d.state = "cancelled";
    d.reason = "campaign cancelled before the command was sent";
    d.updated_at = now;
    WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaignDevice(d));
  }
  c.state = CampaignState::kCancelled;
  c.finished_at = now;
  c.state_reason = "cancelled by " + by;
  WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
  return c;
}

void CampaignEngine::SetDownloadBaseUrl(std::string url) {
  std::lock_guard<std::mutex> lock(mu_);
  o_.download_base_url = std::move(url);
}

std::string CampaignEngine::CommandPayload(const Campaign& c, const ArtifactRecord& a,
                                           std::string_view device, TimePoint now) const {
  const int64_t expires = UnixMicros(now + o_.url_ttl) / 1'000'000;
  nlohmann::json j = {
      {"campaign", c.id},
      {"artifact",
       {{"manifest", a.manifest},
        {"signature", a.signature},
        {"url", o_.artifacts->DownloadUrl(o_.download_base_url, a.sha256, device, expires)}}},
      {"health_timeout_s", c.spec.health_timeout_s}};
  std::optional<int64_t> budget = c.spec.latency_budget_us;
  if (!budget && a.kind == "model" && o_.use_case_budget) budget = o_.use_case_budget(a.name);
  j["latency_budget_us"] = budget ? nlohmann::json(*budget) : nlohmann::json(nullptr);
  return j.dump();
}

void CampaignEngine::Audit(const Campaign& c, const std::string& action, nlohmann::json detail) {
  if (o_.audit == nullptr) return;
  Result<uint64_t> r = o_.audit->Append({.principal = "weft-core",
                                         .action = action,
                                         .resource = "ota/campaigns/" + c.id,
                                         .decision = "done",
                                         .detail = std::move(detail)});
  if (!r.ok())
    spdlog::error("weft-core ota: cannot audit {} of {}: {}", action, c.id, r.status().ToString());
}

Status CampaignEngine::TickCampaign(Campaign& c, TimePoint now) {
  if (c.state != CampaignState::kRunning) return Status::Ok();
  WEFT_ASSIGN_OR_RETURN(ArtifactRecord a, o_.store->GetArtifact(c.spec.artifact));
  WEFT_ASSIGN_OR_RETURN(std::vector<CampaignDevice> devices, o_.store->ListCampaignDevices(c.id));
  const Micros timeout = std::chrono::seconds(c.spec.device_timeout_s);
  std::vector<CampaignDevice> changed;
  for (CampaignDevice& d : devices) {
    if (IsFinalDeviceState(d.state) || d.state == "pending" || !d.sent_at) continue;
    if (now - *d.sent_at <= timeout) continue;
    d.state = "timed_out";
    d.reason = "no final status within device_timeout_s (" +
               std::to_string(c.spec.device_timeout_s) + " s)";
    d.updated_at = now;
    changed.push_back(d);
  }
  WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaignDevices(changed));
  changed.clear();
  const int waves = static_cast<int>(c.spec.waves.size());
  while (true) {
    const int w = c.current_wave;
    size_t n = 0, succeeded = 0, failed = 0, final_count = 0;
    for (CampaignDevice& d : devices) {
      if (d.wave != w) continue;
      if (d.state == "pending") {
        if (!o_.send) continue;
        Status s = o_.send(d.device, "ota", CommandPayload(c, a, d.device, now));
        if (s.ok()) {
          d.state = "sent";
          d.sent_at = now;
          d.reason.clear();
        } else {
          d.reason = "not sent yet: " + s.message();
        }
        d.updated_at = now;
        changed.push_back(d);
      }
    }
    // One transaction for the wave's sends. Should it fail, the devices stay pending in the
    // store and are sent again at the next tick (the device agent should treat a repeated command
    // for a campaign it already ran as a no-op).
    WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaignDevices(changed));
    changed.clear();
    for (const CampaignDevice& d : devices) {
      if (d.wave != w) continue;
      ++n;
      if (d.state == "succeeded") ++succeeded;
      if (IsFailedDeviceState(d.state)) ++failed;
      if (IsFinalDeviceState(d.state)) ++final_count;
    }
    const bool waived = w == c.waived_wave;
    const std::string wave_name = "wave " + std::to_string(w + 1) + " of " + std::to_string(waves);
    const nlohmann::json counts = {{"wave", w + 1},
                                   {"devices", n},
                                   {"succeeded", succeeded},
                                   {"failed", failed},
                                   {"final", final_count}};
    if (!waived && failed > 0 && AtLeast(failed, c.spec.error_threshold, n)) {
      c.state = CampaignState::kPaused;
      c.state_reason = wave_name + ": " + std::to_string(failed) + " of " + std::to_string(n) +
                       " devices failed (" +
                       Percent(static_cast<double>(failed) / static_cast<double>(n)) +
                       "), at or over the error threshold of " + Percent(c.spec.error_threshold);
      WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
      nlohmann::json detail = counts;
      detail["reason"] = c.state_reason;
      Audit(c, "ota.campaign.pause", detail);
      return Status::Ok();
    }
    const bool advance =
        waived ? final_count == n : (n == 0 || AtLeast(succeeded, c.spec.success_threshold, n));
    if (!advance) {
      if (final_count == n) {
        c.state = CampaignState::kPaused;
        c.state_reason = wave_name + " finished with " + std::to_string(succeeded) + " of " +
                         std::to_string(n) + " devices succeeded (" +
                         Percent(static_cast<double>(succeeded) / static_cast<double>(n)) +
                         "), below the success threshold of " + Percent(c.spec.success_threshold);
        WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
        nlohmann::json detail = counts;
        detail["reason"] = c.state_reason;
        Audit(c, "ota.campaign.pause", detail);
      }
      return Status::Ok();
    }
    if (w + 1 < waves) {
      c.current_wave = w + 1;
      WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
      continue;
    }
    const bool all_final = std::all_of(devices.begin(), devices.end(),
                                       [](const auto& d) { return IsFinalDeviceState(d.state); });
    if (all_final) {
      size_t total_ok = 0, total_failed = 0;
      for (const CampaignDevice& d : devices) {
        if (d.state == "succeeded") ++total_ok;
        if (IsFailedDeviceState(d.state)) ++total_failed;
      }
      c.state = CampaignState::kFinished;
      c.finished_at = now;
      c.state_reason = std::to_string(total_ok) + " of " + std::to_string(devices.size()) +
                       " devices succeeded, " + std::to_string(total_failed) + " failed";
      WEFT_RETURN_IF_ERROR(o_.store->UpdateCampaign(c));
      Audit(c, "ota.campaign.finish",
            {{"devices", devices.size()}, {"succeeded", total_ok}, {"failed", total_failed}});
    }
    return Status::Ok();
  }
}

Status CampaignEngine::Tick(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(std::vector<Campaign> all, o_.store->ListCampaigns());
  Status first;
  for (Campaign& c : all) {
    if (c.state != CampaignState::kRunning) continue;
    Status s = TickCampaign(c, now);
    if (!s.ok() && first.ok()) first = s.WithContext("campaign " + c.id);
  }
  return first;
}

Status CampaignEngine::HandleStatus(std::string_view topic_device, std::string_view payload) {
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return InvalidArgumentError("ota/status of " + std::string(topic_device) +
                                ": not a JSON object");
  }
  auto str = [&](const char* k) {
    return j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : std::string();
  };
  const std::string campaign = str("campaign"), device = str("device"), state = str("state");
  if (device != topic_device) {
    return InvalidArgumentError("ota/status on the topic of " + std::string(topic_device) +
                                " names device '" + device + "': refused");
  }
  static const std::set<std::string, std::less<>> kStates = {"downloading", "installing",
                                                             "succeeded", "failed", "rolled_back"};
  if (kStates.count(state) == 0) {
    return InvalidArgumentError("ota/status of " + device + ": state '" + state +
                                "' is not one of downloading, installing, succeeded, failed, "
                                "rolled_back");
  }
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(std::optional<CampaignDevice> d,
                        o_.store->GetCampaignDevice(campaign, device));
  if (!d) {
    return NotFoundError("ota/status of " + device + ": not part of campaign '" + campaign + "'");
  }
  if (IsFinalDeviceState(d->state)) return Status::Ok();  // final is final (a late duplicate)
  d->state = state;
  d->version = str("version");
  d->previous_version = str("previous_version");
  d->reason = str("reason").substr(0, 1024);
  d->updated_at = o_.clock->Now();
  return o_.store->UpdateCampaignDevice(*d);
}

Result<nlohmann::json> CampaignEngine::Describe(std::string_view id, bool with_devices) {
  WEFT_ASSIGN_OR_RETURN(Campaign c, o_.store->GetCampaign(id));
  WEFT_ASSIGN_OR_RETURN(std::vector<CampaignDevice> devices, o_.store->ListCampaignDevices(c.id));
  nlohmann::json j = CampaignJson(c);
  std::vector<std::map<std::string, int64_t>> waves(c.spec.waves.size());
  nlohmann::json list = nlohmann::json::array();
  std::map<std::string, int64_t> totals;
  for (const CampaignDevice& d : devices) {
    if (d.wave >= 0 && static_cast<size_t>(d.wave) < waves.size()) {
      auto& w = waves[static_cast<size_t>(d.wave)];
      ++w["devices"];
      ++w[d.state];
    }
    ++totals[d.state];
    if (with_devices) {
      list.push_back({{"device", d.device},
                      {"wave", d.wave + 1},
                      {"state", d.state},
                      {"sent_at", OptTs(d.sent_at)},
                      {"updated_at", Ts(d.updated_at)},
                      {"version", d.version},
                      {"previous_version", d.previous_version},
                      {"reason", d.reason}});
    }
  }
  nlohmann::json jw = nlohmann::json::array();
  for (size_t i = 0; i < waves.size(); ++i) {
    nlohmann::json w = waves[i];
    w["wave"] = i + 1;
    w["size"] = c.spec.waves[i];
    jw.push_back(std::move(w));
  }
  j["wave_progress"] = jw;
  j["totals"] = totals;
  j["devices"] = static_cast<int64_t>(devices.size());
  if (with_devices) j["device_states"] = list;
  return j;
}

Result<nlohmann::json> CampaignEngine::List() {
  WEFT_ASSIGN_OR_RETURN(std::vector<Campaign> all, o_.store->ListCampaigns());
  nlohmann::json out = nlohmann::json::array();
  for (const Campaign& c : all) out.push_back(CampaignJson(c));
  return out;
}

}  // namespace weft::core::ota
