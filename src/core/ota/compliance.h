// Compliance SLA: "target (e.g. 95%) of a hardware model's devices on a certified firmware within
// N days of its release", with the overdue devices and the time to compliance.
//
//   ComplianceQuery q{.hardware_model = "gw-200", .release_version = "1.4.0",
//                     .released_at = t, .target = 0.95, .window = days(14), .now = now,
//                     .certified_versions = {"1.4.0"}};
//   ComplianceReport r = ComputeCompliance(q, devices);   // r.status: met | at_risk | breached
//
// Definitions (the README repeats them):
// - The release: a certified firmware version of the hardware model (by default its highest
//   certified version) and its released_at (first certification). deadline = released_at + window.
// - In scope: the known, non-revoked devices of that hardware model (devices.h), now.
// - Compliant now: the device runs a firmware version that is certified and not lower than the
//   release version (CompareVersions).
// - A compliant device's compliance time: max(released_at, when it started running its current
//   firmware) (version history from `state` reports); its time to compliance is that minus
//   released_at (0 for a device that ran it before the release, e.g. a canary).
// - Target reached at: the k-th earliest compliance time, k = ceil(target x devices in scope),
//   when at least k devices are compliant now (a device that left compliance no longer counts).
// - status: met when the target was reached at or before the deadline; breached when the
//   deadline has passed and the target was not reached by it; at_risk otherwise (before the
//   deadline, target not reached yet). No device in scope: met.
// - Overdue (only after the deadline): the devices in scope that are not compliant now.
// - p50/p95 time to compliance: nearest rank over the compliant devices.
// Thread-safety: pure functions.
#ifndef WEFT_CORE_OTA_COMPLIANCE_H_
#define WEFT_CORE_OTA_COMPLIANCE_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/ota/devices.h"
#include "core/ota/registry.h"

namespace weft::core::ota {

struct ComplianceQuery {
  std::string hardware_model, release_version;
  TimePoint released_at{};
  double target = 0.95;
  Micros window = std::chrono::hours(24 * 14);
  TimePoint now{};
  std::set<std::string> certified_versions;  //!< of this hardware model
};

//! A device in scope: its current firmware and since when it has run it.
struct ComplianceDevice {
  std::string id, site, firmware;  //!< firmware "" = unknown
  std::optional<TimePoint> firmware_since, last_seen;
};

struct OverdueDevice {
  std::string id, site, firmware;
  std::optional<TimePoint> last_seen;
};

struct ComplianceReport {
  ComplianceQuery query;
  TimePoint deadline{};
  int64_t devices = 0, compliant = 0;
  double compliant_fraction = 1.0;
  std::string status;  //!< met | at_risk | breached
  std::optional<TimePoint> target_reached_at;
  std::optional<Micros> p50_time_to_compliance, p95_time_to_compliance;
  std::vector<OverdueDevice> overdue;  //!< sorted by id
  std::vector<std::pair<std::string, Micros>> time_to_compliance;  //!< per compliant device
};

ComplianceReport ComputeCompliance(const ComplianceQuery& q,
                                   const std::vector<ComplianceDevice>& devices);

//! Reports over the stored registry and inventory: for each hardware model with a certified
//! firmware (or only `hardware_model` when not ""), against `release_version` ("" = its latest
//! certified). NotFound for a named hardware model or release without a certified firmware.
Result<std::vector<ComplianceReport>> ComplianceReports(Registry& registry,
                                                        const FleetDeviceSource& fleet,
                                                        const std::string& hardware_model,
                                                        const std::string& release_version,
                                                        double target, Micros window,
                                                        TimePoint now);

nlohmann::json ComplianceJson(const ComplianceReport& r);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_COMPLIANCE_H_
