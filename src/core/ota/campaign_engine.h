// CampaignEngine: OTA rollouts in waves with success and error thresholds, as Eclipse hawkBit
// rollouts do (deployment groups; a group's success condition starts the next group, its error
// condition pauses the rollout).
//
//   CampaignEngine engine({.store = store, .registry = &registry, .artifacts = artifacts,
//                          .clock = &clock, .send = send_to_edge});
//   WEFT_ASSIGN_OR_RETURN(Campaign c, engine.Create(spec, "alice"));
//   WEFT_RETURN_IF_ERROR(engine.Start(c.id, "alice").status());
//   engine.HandleStatus("dev-1", R"({"campaign":"c1","device":"dev-1","state":"succeeded",...})");
//   WEFT_RETURN_IF_ERROR(engine.Tick());     // sends, times out, advances, pauses, finishes
//
// Lifecycle: draft -> running <-> paused -> finished; draft/running/paused -> cancelled.
// - Create validates the spec and the artifact, and applies the model latency gate (below).
// - Start resolves the target now (KnownDevices filtered by sites, hardware models, current
//   firmware, and the artifact's hardware models; at least one device), checks that a firmware
//   artifact's version is certified for every targeted hardware model, applies the latency gate
//   again for the targeted hardware models, and splits the devices into waves: spec.waves are
//   cumulative ("1" = one device, "10%" = ceil(10% of the devices)), the last must be "100%";
//   the order is a deterministic shuffle (FNV-1a of "<campaign>/<device>"), so a canary is not
//   always the alphabetically first device.
// - Tick(now), for every running campaign: devices sent more than device_timeout_s ago without
//   a final status become timed_out; the current wave's pending devices are sent the command
//   `ota` (a send error leaves them pending, retried at the next tick); then, for the current
//   wave of n devices with s succeeded and f failed (failed, rolled_back, timed_out):
//     f > 0 and f >= error_threshold x n      -> paused (audited, reason with the counts);
//     s >= success_threshold x n              -> the next wave starts (in the same tick);
//     all final, success not reached          -> paused (reason says so);
//   the campaign finishes when the last wave's success condition holds and every device has a
//   final status. Resume waives the thresholds of the wave it paused in (that wave then
//   advances once all its devices are final), as an operator's override.
// - HandleStatus records a device's `ota/status` report (the payload's device must be the
//   topic's); a final state (succeeded, failed, rolled_back) is never overwritten. Decisions
//   are taken at the next Tick, so tests drive time and outcomes deterministically.
// - Model latency gate: for a model artifact, the budget is spec.latency_budget_us, else the use
//   case's (UseCaseBudget for the model name); a hardware model whose recorded p99 for that
//   model version (Registry::LatencyFor) exceeds it is refused with FailedPrecondition naming
//   the hardware model, its p99 and the budget. Hardware models without a benchmark pass (the
//   device's own health check enforces the budget, which the command carries).
// Command payload (to weft/v1/edge/<device>/cmd/ota): {"campaign","artifact":{"manifest",
// "signature","url"},"health_timeout_s","latency_budget_us"} (url: ArtifactStore::DownloadUrl,
// valid for url_ttl).
//
// Thread-safety: every method is safe from any thread (one mutex serialises campaign changes).
// Nothing passed in EngineOptions is owned; all must outlive the engine.
#ifndef WEFT_CORE_OTA_CAMPAIGN_ENGINE_H_
#define WEFT_CORE_OTA_CAMPAIGN_ENGINE_H_

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/audit/audit_log.h"
#include "core/ota/artifacts.h"
#include "core/ota/devices.h"
#include "core/ota/ota_store.h"
#include "core/ota/registry.h"

namespace weft::core::ota {

//! Sends command `name` with `payload` to a device (weft-core: Ingestor::SendEdgeCommand).
using CommandSender =
    std::function<Status(std::string_view device, std::string_view name, std::string_view payload)>;
//! The latency budget (µs) of the use case that runs `model`; nullopt when none is known.
using UseCaseBudget = std::function<std::optional<int64_t>(std::string_view model)>;

struct EngineOptions {
  OtaStore* store = nullptr;           //!< required
  Registry* registry = nullptr;        //!< required
  ArtifactStore* artifacts = nullptr;  //!< required
  const Clock* clock = nullptr;        //!< required
  CommandSender send{};                //!< unset: commands stay pending
  FleetDeviceSource fleet{};           //!< unset: inventory only
  UseCaseBudget use_case_budget{};     //!< unset: only the campaign's own budget
  audit::AuditLog* audit = nullptr;    //!< automatic pauses and finishes; null = not audited
  //! Prefix of download URLs ("https://core.example:8443"): the devices' view of the API.
  std::string download_base_url = "https://127.0.0.1:8443";
  Micros url_ttl = std::chrono::hours(24);
};

//! Parses a campaign spec from the API's JSON; errors name the field.
Result<CampaignSpec> ParseCampaignSpec(const nlohmann::json& j);
//! Cumulative wave sizes for `devices` targeted devices; InvalidArgument naming the bad entry.
Result<std::vector<size_t>> WaveSizes(const std::vector<std::string>& waves, size_t devices);

class CampaignEngine {
 public:
  explicit CampaignEngine(EngineOptions options) : o_(std::move(options)) {}

  Result<Campaign> Create(CampaignSpec spec, const std::string& by);
  Result<Campaign> Start(std::string_view id, const std::string& by);
  Result<Campaign> Pause(std::string_view id, const std::string& by);
  Result<Campaign> Resume(std::string_view id, const std::string& by);
  Result<Campaign> Cancel(std::string_view id, const std::string& by);

  //! The base of the download URLs later commands carry (weft-core sets it once its API has
  //! bound a port, when it listened on port 0).
  void SetDownloadBaseUrl(std::string url);

  //! One round at the clock's now.
  Status Tick() { return Tick(o_.clock->Now()); }
  Status Tick(TimePoint now);

  //! A device's ota/status report. NotFound when the device is not in that campaign.
  Status HandleStatus(std::string_view topic_device, std::string_view payload);

  //! The campaign with per-wave counts and (when `with_devices`) every device's progress.
  Result<nlohmann::json> Describe(std::string_view id, bool with_devices);
  Result<nlohmann::json> List();

 private:
  Status TickCampaign(Campaign& c, TimePoint now);
  Status CheckLatencyGate(const ArtifactRecord& a, const CampaignSpec& spec,
                          const std::vector<std::string>& hardware_models);
  std::string CommandPayload(const Campaign& c, const ArtifactRecord& a, std::string_view device,
                             TimePoint now) const;
  void Audit(const Campaign& c, const std::string& action, nlohmann::json detail);

  EngineOptions o_;
  std::mutex mu_;
};

nlohmann::json CampaignJson(const Campaign& c);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_CAMPAIGN_ENGINE_H_
