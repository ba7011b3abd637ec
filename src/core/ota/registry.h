// Registry: the living registry of hardware models (certified or not), firmware versions
// (candidate, certified, deprecated, vulnerable) and inference-latency benchmarks per
// (hardware model, model, model version), plus the device inventory from `state` reports.
//
//   Registry reg(store, &clock, [&](auto d, auto s) { return board->Check(d, s); });
//   WEFT_RETURN_IF_ERROR(reg.PutHardwareModel("gw-200", /*certified=*/true, "lab tested"));
//   WEFT_RETURN_IF_ERROR(reg.AddFirmware("gw-200", "1.4.0", "fixes CVE-..."));
//   WEFT_RETURN_IF_ERROR(reg.CertifyFirmware("gw-200", "1.4.0"));  // the board decides
//   WEFT_ASSIGN_OR_RETURN(bool ok, reg.IsCertified("gw-200"));      // B's provisioning callback
//
// Rules:
// - A firmware version becomes certified only through CertifyFirmware, which asks the approval
//   check for decision "firmware_release", subject "<hardware_model>/<version>" at that moment
//   (FailedPrecondition from the board passes through). Its released_at is the first
//   certification time (the compliance SLA counts from it). SetFirmwareStatus moves a version to
//   candidate, deprecated or vulnerable (never to certified).
// - Latency: each device's latest `bench_keep` reports per (model, version) are kept. The
//   summary for (hardware model, model, version) is over those reports: p50 = median of the
//   reports' p50s, p99 = nearest-rank p99 of the reports' p99s (with fewer than 100 reports
//   that is their maximum: a pessimistic figure, and the summary says how many reports, devices
//   and samples it rests on).
// Thread-safety: safe from any thread (state is in OtaStore). The store, the clock and the
// approval check's target are not owned.
#ifndef WEFT_CORE_OTA_REGISTRY_H_
#define WEFT_CORE_OTA_REGISTRY_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/ota/ota_store.h"

namespace weft::core::ota {

//! The governance board's check (ApprovalBoard::Check): OK when (decision, subject) is approved.
using ApprovalCheck = std::function<Status(std::string_view decision, std::string_view subject)>;

struct LatencySummary {
  std::string hardware_model, model, model_version;
  int64_t p50_us = 0, p99_us = 0;
  int64_t reports = 0, devices = 0, samples = 0;
  TimePoint latest{};
};

class Registry {
 public:
  //! A null `approvals` refuses every firmware certification (FailedPrecondition).
  Registry(OtaStore* store, const Clock* clock, ApprovalCheck approvals, int bench_keep = 20)
      : store_(store), clock_(clock), approvals_(std::move(approvals)), bench_keep_(bench_keep) {}

  Status PutHardwareModel(const std::string& name, bool certified, const std::string& notes);
  //! False for an unknown hardware model.
  Result<bool> IsCertified(std::string_view hardware_model);

  //! Registers a candidate (idempotent: an existing version keeps its status).
  Status AddFirmware(const std::string& hardware_model, const std::string& version,
                     const std::string& notes);
  Result<FirmwareVersion> CertifyFirmware(const std::string& hardware_model,
                                          const std::string& version);
  Result<FirmwareVersion> SetFirmwareStatus(const std::string& hardware_model,
                                            const std::string& version, FirmwareStatus status,
                                            const std::string& notes);
  //! The highest certified version of the hardware model (CompareVersions); NotFound if none.
  Result<FirmwareVersion> LatestCertified(std::string_view hardware_model);

  Status RecordBench(const BenchReport& r);
  //! "" = all.
  Result<std::vector<LatencySummary>> Latency(std::string_view hardware_model,
                                              std::string_view model);
  Result<std::optional<LatencySummary>> LatencyFor(std::string_view hardware_model,
                                                   std::string_view model,
                                                   std::string_view model_version);

  OtaStore* store() const { return store_; }

 private:
  OtaStore* store_;
  const Clock* clock_;
  ApprovalCheck approvals_;
  int bench_keep_;
};

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_REGISTRY_H_
