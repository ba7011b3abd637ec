// OtaStore: the OTA service's durable state in SQLite (<state>/ota.db): the living registry
// (hardware models, firmware versions, latency benchmarks), artifacts, the device inventory with
// its version history, campaigns and each campaign device's progress.
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<OtaStore> s, OtaStore::Open(state + "/ota.db"));
//   WEFT_RETURN_IF_ERROR(s->PutHardwareModel({.name = "m4", .certified = true}, now));
//   WEFT_ASSIGN_OR_RETURN(std::vector<FirmwareVersion> fw, s->ListFirmware("m4"));
//
// The store holds rows and enforces keys; the rules (who may certify, when a campaign pauses)
// live in registry.h and campaign_engine.h. Times are µs since the Unix epoch (UTC).
// Durability: WAL, synchronous FULL (a certification or a campaign pause survives a power cut).
// Thread-safety: every method is safe from any thread (one mutex serialises the connection).
#ifndef WEFT_CORE_OTA_OTA_STORE_H_
#define WEFT_CORE_OTA_OTA_STORE_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::core::ota {

struct HardwareModel {
  std::string name;
  bool certified = false;
  std::string notes;
  TimePoint updated_at{};
};

enum class FirmwareStatus { kCandidate, kCertified, kDeprecated, kVulnerable };
std::string_view FirmwareStatusName(FirmwareStatus s);  //!< "candidate", "certified", ...
Result<FirmwareStatus> ParseFirmwareStatus(std::string_view name);

struct FirmwareVersion {
  std::string hardware_model, version;
  FirmwareStatus status = FirmwareStatus::kCandidate;
  //! When it was first certified (the release time the compliance SLA counts from).
  std::optional<TimePoint> released_at;
  std::string notes;
  TimePoint updated_at{};
};

//! One `bench` report of an edge: the inference latency of a model version on its hardware.
struct BenchReport {
  std::string device, hardware_model, model, model_version;
  int64_t p50_us = 0, p99_us = 0, samples = 0;
  TimePoint ts{};
};

struct ArtifactRecord {
  std::string sha256, kind, name, version;
  uint64_t size = 0;
  std::vector<std::string> hardware_models;
  std::string manifest;   //!< the exact signed manifest text
  std::string signature;  //!< base64 Ed25519 over `manifest`
  std::string uploaded_by;
  TimePoint uploaded_at{};
};

//! A device as its retained `state` reports show it.
struct InventoryDevice {
  std::string id, hardware_model, site;
  //! "firmware", "edge_config", "model/<name>" -> version.
  std::map<std::string, std::string> versions;
  TimePoint last_seen{};
};

//! A device started running `version` of `key` ("firmware", "model/<name>", ...) at `since`.
struct VersionChange {
  std::string device, key, version;
  TimePoint since{};
};

enum class CampaignState { kDraft, kRunning, kPaused, kFinished, kCancelled };
std::string_view CampaignStateName(CampaignState s);
Result<CampaignState> ParseCampaignState(std::string_view name);

//! What a campaign targets and how it rolls out (hawkBit rollouts: groups with a success
//! condition that starts the next group and an error condition that pauses).
struct CampaignSpec {
  std::string name;
  std::string artifact;  //!< sha256
  std::vector<std::string> sites, hardware_models, firmware;  //!< target filters; empty = any
  //! Cumulative wave sizes: "1" (a count) or "10%" (of the targeted devices); the last "100%".
  std::vector<std::string> waves{"100%"};
  double success_threshold = 0.95;  //!< fraction of a wave succeeded -> the next wave starts
  double error_threshold = 0.2;     //!< fraction of a wave failed -> pause
  int64_t health_timeout_s = 30;
  int64_t device_timeout_s = 3600;  //!< no final status this long after sending -> failed
  std::optional<int64_t> latency_budget_us;  //!< model campaigns; else the use case's budget
};

struct Campaign {
  std::string id;  //!< "c1", "c2", ...
  CampaignSpec spec;
  CampaignState state = CampaignState::kDraft;
  std::string created_by;
  TimePoint created_at{};
  std::optional<TimePoint> started_at, finished_at;
  int current_wave = 0;       //!< 0-based; meaningful once running
  int waived_wave = -1;       //!< a resumed wave whose thresholds no longer apply
  std::string state_reason;   //!< why it paused / was cancelled
};

//! A device's progress in a campaign. state: pending (not yet sent), sent, downloading,
//! installing, succeeded, failed, rolled_back, timed_out, cancelled (never sent).
struct CampaignDevice {
  std::string campaign, device;
  int wave = 0;
  std::string state = "pending";
  std::optional<TimePoint> sent_at;
  TimePoint updated_at{};
  std::string version, previous_version, reason;
};
//! succeeded, failed, rolled_back, timed_out, cancelled.
bool IsFinalDeviceState(std::string_view state);
//! failed, rolled_back, timed_out.
bool IsFailedDeviceState(std::string_view state);

class OtaStore {
 public:
  static Result<std::unique_ptr<OtaStore>> Open(const std::string& path);
  ~OtaStore();
  OtaStore(const OtaStore&) = delete;
  OtaStore& operator=(const OtaStore&) = delete;
  const std::string& path() const { return path_; }

  // Registry.
  Status PutHardwareModel(const HardwareModel& m);
  Result<HardwareModel> GetHardwareModel(std::string_view name);  //!< NotFound
  Result<std::vector<HardwareModel>> ListHardwareModels();
  //! Inserts or replaces (keeps released_at once set).
  Status PutFirmware(const FirmwareVersion& f);
  Result<FirmwareVersion> GetFirmware(std::string_view hardware_model, std::string_view version);
  //! "" = every hardware model.
  Result<std::vector<FirmwareVersion>> ListFirmware(std::string_view hardware_model);
  //! Keeps the latest `keep_per_device` reports per (device, model, model_version).
  Status AddBench(const BenchReport& r, int keep_per_device);
  //! "" = any hardware model / model.
  Result<std::vector<BenchReport>> ListBench(std::string_view hardware_model,
                                             std::string_view model);

  // Artifacts.
  Status PutArtifact(const ArtifactRecord& a);  //!< AlreadyExists for a known sha256
  Result<ArtifactRecord> GetArtifact(std::string_view sha256);
  Result<std::vector<ArtifactRecord>> ListArtifacts();

  // Inventory.
  //! Stores the device's state; each version that differs from the stored one starts a
  //! VersionChange at `d.last_seen`.
  Status PutInventory(const InventoryDevice& d);
  Result<std::vector<InventoryDevice>> ListInventory();
  Result<std::vector<VersionChange>> VersionHistory(std::string_view device, std::string_view key);

  // Campaigns.
  //! Assigns the id ("c<N>") and returns it.
  Result<std::string> CreateCampaign(const Campaign& c);
  Status UpdateCampaign(const Campaign& c);  //!< everything but id/spec/created_*
  Result<Campaign> GetCampaign(std::string_view id);
  Result<std::vector<Campaign>> ListCampaigns();
  //! Inserts the campaign's devices (at start), in one transaction.
  Status AddCampaignDevices(const std::vector<CampaignDevice>& devices);
  Status UpdateCampaignDevice(const CampaignDevice& d);
  //! Several in one transaction (one sync).
  Status UpdateCampaignDevices(const std::vector<CampaignDevice>& devices);
  Result<std::optional<CampaignDevice>> GetCampaignDevice(std::string_view campaign,
                                                          std::string_view device);
  Result<std::vector<CampaignDevice>> ListCampaignDevices(std::string_view campaign);

 private:
  OtaStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Result<std::vector<VersionChange>> HistoryLocked(std::string_view device, std::string_view key);

  std::string path_;
  std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
};

//! Splits "a,b,,c" into {"a","b","c"}.
std::vector<std::string> SplitList(std::string_view text);
std::string JoinList(const std::vector<std::string>& items);
//! Orders versions: dot/dash-separated parts, numeric parts numerically ("1.10" > "1.9"), others
//! as text; a missing part is smaller ("1.4" < "1.4.1"). -1, 0 or 1.
int CompareVersions(std::string_view a, std::string_view b);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_OTA_STORE_H_
