#include "core/ota/registry.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/ota/artifacts.h"

namespace weft::core::ota {
namespace {

// Nearest-rank quantile of a sorted, non-empty vector.
int64_t NearestRank(const std::vector<int64_t>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<size_t>(std::ceil(q * n));
  if (rank < 1) rank = 1;
  return sorted[std::min(rank, sorted.size()) - 1];
}

}  // namespace

Status Registry::PutHardwareModel(const std::string& name, bool certified,
                                  const std::string& notes) {
  WEFT_RETURN_IF_ERROR(ValidateName("hardware model", name));
  return store_->PutHardwareModel({name, certified, notes, clock_->Now()});
}

Result<bool> Registry::IsCertified(std::string_view hardware_model) {
  Result<HardwareModel> m = store_->GetHardwareModel(hardware_model);
  if (m.status().code() == StatusCode::kNotFound) return false;
  WEFT_RETURN_IF_ERROR(m);
  return m->certified;
}

Status Registry::AddFirmware(const std::string& hardware_model, const std::string& version,
                             const std::string& notes) {
  WEFT_RETURN_IF_ERROR(ValidateName("hardware model", hardware_model));
  WEFT_RETURN_IF_ERROR(ValidateName("firmware version", version));
  Result<FirmwareVersion> existing = store_->GetFirmware(hardware_model, version);
  if (existing.ok()) return Status::Ok();
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  FirmwareVersion f;
  f.hardware_model = hardware_model;
  f.version = version;
  f.notes = notes;
  f.updated_at = clock_->Now();
  return store_->PutFirmware(f);
}

Result<FirmwareVersion> Registry::CertifyFirmware(const std::string& hardware_model,
                                                  const std::string& version) {
  WEFT_ASSIGN_OR_RETURN(FirmwareVersion f, store_->GetFirmware(hardware_model, version));
  if (f.status == FirmwareStatus::kVulnerable) {
    return FailedPreconditionError("firmware " + hardware_model + "/" + version +
                                   " is marked vulnerable and cannot be certified");
  }
  if (!approvals_) {
    return FailedPreconditionError("firmware_release of '" + hardware_model + "/" + version +
                                   "' cannot be checked: no governance board is configured");
  }
  WEFT_RETURN_IF_ERROR(approvals_("firmware_release", hardware_model + "/" + version));
  const TimePoint now = clock_->Now();
  f.status = FirmwareStatus::kCertified;
  if (!f.released_at) f.released_at = now;
  f.updated_at = now;
  WEFT_RETURN_IF_ERROR(store_->PutFirmware(f));
  return store_->GetFirmware(hardware_model, version);
}

Result<FirmwareVersion> Registry::SetFirmwareStatus(const std::string& hardware_model,
                                                    const std::string& version,
                                                    FirmwareStatus status,
                                                    const std::string& notes) {
  if (status == FirmwareStatus::kCertified) {
    return InvalidArgumentError("a firmware version is certified through the governance board "
                                "(POST /api/v1/ota/firmware/{hw}/{version}/certify), not by "
                                "setting its status");
  }
  WEFT_ASSIGN_OR_RETURN(FirmwareVersion f, store_->GetFirmware(hardware_model, version));
  f.status = status;
  if (!notes.empty()) f.notes = notes;
  f.updated_at = clock_->Now();
  WEFT_RETURN_IF_ERROR(store_->PutFirmware(f));
  return f;
}

Result<FirmwareVersion> Registry::LatestCertified(std::string_view hardware_model) {
  WEFT_ASSIGN_OR_RETURN(std::vector<FirmwareVersion> all, store_->ListFirmware(hardware_model));
  const FirmwareVersion* best = nullptr;
  for (const FirmwareVersion& f : all) {
    if (f.status != FirmwareStatus::kCertified || f.hardware_model != hardware_model) continue;
    if (best == nullptr || CompareVersions(f.version, best->version) > 0) best = &f;
  }
  if (best == nullptr) {
    return NotFoundError("hardware model '" + std::string(hardware_model) +
                         "' has no certified firmware");
  }
  return *best;
}

Status Registry::RecordBench(const BenchReport& r) {
  WEFT_RETURN_IF_ERROR(ValidateName("device", r.device));
  WEFT_RETURN_IF_ERROR(ValidateName("hardware model", r.hardware_model));
  WEFT_RETURN_IF_ERROR(ValidateName("model", r.model));
  WEFT_RETURN_IF_ERROR(ValidateName("model version", r.model_version));
  if (r.p50_us < 0 || r.p99_us < r.p50_us || r.samples <= 0) {
    return InvalidArgumentError("bench report of " + r.device +
                                ": expected 0 <= p50_us <= p99_us and samples > 0");
  }
  return store_->AddBench(r, bench_keep_);
}

Result<std::vector<LatencySummary>> Registry::Latency(std::string_view hardware_model,
                                                      std::string_view model) {
  WEFT_ASSIGN_OR_RETURN(std::vector<BenchReport> reports,
                        store_->ListBench(hardware_model, model));
  struct Acc {
    std::vector<int64_t> p50, p99;
    std::set<std::string> devices;
    int64_t samples = 0;
    TimePoint latest{};
  };
  std::map<std::tuple<std::string, std::string, std::string>, Acc> groups;
  for (const BenchReport& r : reports) {
    Acc& a = groups[{r.hardware_model, r.model, r.model_version}];
    a.p50.push_back(r.p50_us);
    a.p99.push_back(r.p99_us);
    a.devices.insert(r.device);
    a.samples += r.samples;
    a.latest = std::max(a.latest, r.ts);
  }
  std::vector<LatencySummary> out;
  for (auto& [key, a] : groups) {
    std::sort(a.p50.begin(), a.p50.end());
    std::sort(a.p99.begin(), a.p99.end());
    LatencySummary s;
    std::tie(s.hardware_model, s.model, s.model_version) = key;
    s.p50_us = NearestRank(a.p50, 0.5);
    s.p99_us = NearestRank(a.p99, 0.99);
    s.reports = static_cast<int64_t>(a.p99.size());
    s.devices = static_cast<int64_t>(a.devices.size());
    s.samples = a.samples;
    s.latest = a.latest;
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<LatencySummary>> Registry::LatencyFor(std::string_view hardware_model,
                                                           std::string_view model,
                                                           std::string_view model_version) {
  WEFT_ASSIGN_OR_RETURN(std::vector<LatencySummary> all, Latency(hardware_model, model));
  for (LatencySummary& s : all) {
    if (s.model_version == model_version) return std::optional<LatencySummary>(std::move(s));
  }
  return std::optional<LatencySummary>();
}

}  // namespace weft::core::ota
