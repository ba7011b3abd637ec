// OtaService: weft-core's OTA side in one object: the store (<state>/ota.db), the artifact store
// and keys, the living registry, the campaign engine and its ticking thread, and the handler of
// the devices' reports (ota/status, state, bench) arriving over MQTT.
//
//   OtaOptions o{.state_dir = state, .clock = &SystemClock::Default()};
//   o.send_command = [&](auto dev, auto name, auto payload) {
//     return ingestor->SendEdgeCommand(dev, name, payload); };
//   o.fleet = FleetStoreDevices(fleet_store);               // fleet_devices.h
//   o.approvals = [&](auto d, auto s) { return board->Check(d, s); };
//   o.audit = audit.get();
//   o.download_base_url = "https://core.example:8443";
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<OtaService> ota, OtaService::Open(std::move(o)));
//   for (const std::string& f : ota->Subscriptions())
//     WEFT_RETURN_IF_ERROR(ingestor->Subscribe(f, [&](const mqtt::Message& m) {
//       ota->HandleMessage(m.topic, m.payload); }));
//   ota->StartEngine();                                 // Tick every tick_every
//
// Reports: on weft/v1/edge/<device>/ota/status -> CampaignEngine::HandleStatus;
// .../state -> the inventory (versions per kind[/name], site, hardware model, last seen; a
// version change starts a VersionChange); .../bench -> Registry::RecordBench. The payload's
// device must be the topic's (the broker's ACL makes the topic the authenticated identity).
// Malformed reports are refused, counted and logged (never trusted), not fatal.
//
// Thread-safety: every method is safe from any thread. Options' pointers and callbacks' targets
// are not owned and must outlive the service; the destructor stops the engine thread.
#ifndef WEFT_CORE_OTA_OTA_SERVICE_H_
#define WEFT_CORE_OTA_OTA_SERVICE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/audit/audit_log.h"
#include "core/ota/artifacts.h"
#include "core/ota/campaign_engine.h"
#include "core/ota/devices.h"
#include "core/ota/ota_store.h"
#include "core/ota/registry.h"

namespace weft::core::ota {

struct OtaOptions {
  std::string state_dir{};        //!< required: ota.db, keys/, ota/artifacts/
  const Clock* clock = nullptr;   //!< required
  CommandSender send_command{};     //!< Ingestor::SendEdgeCommand
  FleetDeviceSource fleet{};        //!< FleetStoreDevices(...); unset = inventory only
  ApprovalCheck approvals{};        //!< ApprovalBoard::Check; unset = no certification possible
  UseCaseBudget use_case_budget{};  //!< latency budget of the use case running a model
  audit::AuditLog* audit = nullptr;
  std::string download_base_url = "https://127.0.0.1:8443";
  std::string edge_topic = "weft/v1/edge";
  std::chrono::milliseconds tick_every{1000};
  uint64_t max_artifact_bytes = uint64_t{64} << 20;
  int bench_keep = 20;  //!< latest bench reports kept per (device, model, version)
};

struct OtaMetrics {
  uint64_t status_reports = 0, state_reports = 0, bench_reports = 0;
  uint64_t refused_reports = 0;  //!< malformed, or device mismatch
  uint64_t tick_errors = 0;
};

class OtaService {
 public:
  //! The topic filters to subscribe to: <edge_topic>/+/ota/status, .../+/state, .../+/bench.
  std::vector<std::string> Subscriptions() const;

  static Result<std::unique_ptr<OtaService>> Open(OtaOptions options);
  ~OtaService();
  OtaService(const OtaService&) = delete;
  OtaService& operator=(const OtaService&) = delete;

  //! Starts the thread that calls engine().Tick() every tick_every. Idempotent.
  void StartEngine();
  void StopEngine();

  //! One MQTT report; errors (also counted) say why it was refused. Topics other than the three
  //! are InvalidArgument.
  Status HandleMessage(std::string_view topic, std::string_view payload);

  //! For B's provisioning: is the hardware model certified (unknown: false).
  Result<bool> IsCertified(std::string_view hardware_model) {
    return registry_->IsCertified(hardware_model);
  }
  //! For B's provisioning response (ota_public_key) and GET /api/v1/ota/signing-key.
  const std::string& ota_public_key() const { return artifacts_->public_key_pem(); }

  OtaStore& store() { return *store_; }
  Registry& registry() { return *registry_; }
  ArtifactStore& artifacts() { return *artifacts_; }
  CampaignEngine& engine() { return *engine_; }
  const OtaOptions& options() const { return options_; }
  OtaMetrics metrics() const;

 private:
  explicit OtaService(OtaOptions options) : options_(std::move(options)) {}
  Status HandleState(std::string_view device, std::string_view payload);
  Status HandleBench(std::string_view device, std::string_view payload);

  OtaOptions options_;
  std::unique_ptr<OtaStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<CampaignEngine> engine_;

  std::atomic<uint64_t> status_reports_{0}, state_reports_{0}, bench_reports_{0},
      refused_reports_{0}, tick_errors_{0};
  std::mutex thread_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // GUARDED_BY(thread_mu_)
  std::thread thread_;
};

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_OTA_SERVICE_H_
