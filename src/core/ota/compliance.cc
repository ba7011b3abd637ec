#include "core/ota/compliance.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/time_format.h"

namespace weft::core::ota {
namespace {

Micros NearestRank(const std::vector<Micros>& sorted, double q) {
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string Ts(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}

nlohmann::json OptTs(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(Ts(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OptSeconds(const std::optional<Micros>& d) {
  return d ? nlohmann::json(static_cast<double>(d->count()) / 1e6) : nlohmann::json(nullptr);
}

}  // namespace

ComplianceReport ComputeCompliance(const ComplianceQuery& q,
                                   const std::vector<ComplianceDevice>& devices) {
  ComplianceReport r;
  r.query = q;
  r.deadline = q.released_at + q.window;
  r.devices = static_cast<int64_t>(devices.size());
  std::vector<TimePoint> compliant_at;
  for (const ComplianceDevice& d : devices) {
    const bool compliant = !d.firmware.empty() && q.certified_versions.count(d.firmware) != 0 &&
                           CompareVersions(d.firmware, q.release_version) >= 0;
    if (compliant) {
      const TimePoint at = std::max(q.released_at, d.firmware_since.value_or(q.released_at));
      compliant_at.push_back(at);
      r.time_to_compliance.emplace_back(d.id, at - q.released_at);
    } else if (q.now > r.deadline) {
      r.overdue.push_back({d.id, d.site, d.firmware, d.last_seen});
    }
  }
  std::sort(r.overdue.begin(), r.overdue.end(),
            [](const OverdueDevice& a, const OverdueDevice& b) { return a.id < b.id; });
  r.compliant = static_cast<int64_t>(compliant_at.size());
  r.compliant_fraction =
      r.devices == 0 ? 1.0 : static_cast<double>(r.compliant) / static_cast<double>(r.devices);
  std::sort(compliant_at.begin(), compliant_at.end());
  if (r.devices > 0) {
    auto k = static_cast<size_t>(std::ceil(q.target * static_cast<double>(r.devices) - 1e-9));
    k = std::max<size_t>(k, 1);
    if (compliant_at.size() >= k) r.target_reached_at = compliant_at[k - 1];
  }
  if (!compliant_at.empty()) {
    std::vector<Micros> ttc;
    for (const auto& [id, d] : r.time_to_compliance) ttc.push_back(d);
    std::sort(ttc.begin(), ttc.end());
    r.p50_time_to_compliance = NearestRank(ttc, 0.5);
    r.p95_time_to_compliance = NearestRank(ttc, 0.95);
  }
  if (r.devices == 0 || (r.target_reached_at && *r.target_reached_at <= r.deadline)) {
    r.status = "met";
  } else if (q.now > r.deadline) {
    r.status = "breached";
  } else {
    r.status = "at_risk";
  }
  return r;
}

Result<std::vector<ComplianceReport>> ComplianceReports(Registry& registry,
                                                        const FleetDeviceSource& fleet,
                                                        const std::string& hardware_model,
                                                        const std::string& release_version,
                                                        double target, Micros window,
                                                        TimePoint now) {
  if (!(target > 0.0 && target <= 1.0)) {
    return InvalidArgumentError("compliance target must be in (0, 1], e.g. 0.95");
  }
  if (window <= Micros(0)) return InvalidArgumentError("compliance window must be positive");
  OtaStore& store = *registry.store();
  WEFT_ASSIGN_OR_RETURN(std::vector<FirmwareVersion> firmware,
                        store.ListFirmware(hardware_model));
  std::map<std::string, std::vector<FirmwareVersion>> by_model;
  for (FirmwareVersion& f : firmware) {
    if (f.status == FirmwareStatus::kCertified) by_model[f.hardware_model].push_back(f);
  }
  if (!hardware_model.empty() && by_model.count(hardware_model) == 0) {
    return NotFoundError("hardware model '" + hardware_model + "' has no certified firmware");
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<KnownDevice> known, KnownDevices(store, fleet));
  WEFT_ASSIGN_OR_RETURN(std::vector<VersionChange> history, store.VersionHistory("", "firmware"));
  std::map<std::string, TimePoint> since;  // device -> when its current firmware started
  std::map<std::string, std::string> last_version;
  for (const VersionChange& c : history) {  // ordered by device, since
    if (last_version[c.device] != c.version) {
      since[c.device] = c.since;
      last_version[c.device] = c.version;
    }
  }
  std::vector<ComplianceReport> out;
  for (const auto& [model, certified] : by_model) {
    const FirmwareVersion* release = nullptr;
    for (const FirmwareVersion& f : certified) {
      if (release_version.empty() ? (release == nullptr ||
                                     CompareVersions(f.version, release->version) > 0)
                                  : f.version == release_version) {
        release = &f;
      }
    }
    if (release == nullptr) {
      return NotFoundError("firmware " + model + "/" + release_version + " is not certified");
    }
    ComplianceQuery q;
    q.hardware_model = model;
    q.release_version = release->version;
    q.released_at = release->released_at.value_or(release->updated_at);
    q.target = target;
    q.window = window;
    q.now = now;
    for (const FirmwareVersion& f : certified) q.certified_versions.insert(f.version);
    std::vector<ComplianceDevice> devices;
    for (const KnownDevice& d : known) {
      if (d.hardware_model != model) continue;
      ComplianceDevice cd{d.id, d.site, "", std::nullopt, d.last_seen};
      if (auto it = d.versions.find("firmware"); it != d.versions.end()) {
        cd.firmware = it->second;
        if (auto s = since.find(d.id); s != since.end() && last_version[d.id] == cd.firmware) {
          cd.firmware_since = s->second;
        }
      }
      devices.push_back(std::move(cd));
    }
    out.push_back(ComputeCompliance(q, devices));
  }
  return out;
}

nlohmann::json ComplianceJson(const ComplianceReport& r) {
  nlohmann::json overdue = nlohmann::json::array();
  for (const OverdueDevice& d : r.overdue) {
    overdue.push_back({{"device", d.id},
                       {"site", d.site},
                       {"firmware", d.firmware},
                       {"last_seen", OptTs(d.last_seen)}});
  }
  nlohmann::json per_device = nlohmann::json::object();
  for (const auto& [id, d] : r.time_to_compliance) {
    per_device[id] = static_cast<double>(d.count()) / 1e6;
  }
  std::optional<Micros> to_target;
  if (r.target_reached_at) to_target = *r.target_reached_at - r.query.released_at;
  return {{"hardware_model", r.query.hardware_model},
          {"release", r.query.release_version},
          {"released_at", Ts(r.query.released_at)},
          {"target", r.query.target},
          {"window_days", static_cast<double>(r.query.window.count()) / 86'400e6},
          {"deadline", Ts(r.deadline)},
          {"devices", r.devices},
          {"compliant", r.compliant},
          {"compliant_percent", r.compliant_fraction * 100.0},
          {"status", r.status},
          {"target_reached_at", OptTs(r.target_reached_at)},
          {"time_to_target_s", OptSeconds(to_target)},
          {"time_to_compliance_s",
           {{"p50", OptSeconds(r.p50_time_to_compliance)},
            {"p95", OptSeconds(r.p95_time_to_compliance)},
            {"devices", per_device}}},
          {"overdue", overdue}};
}

}  // namespace weft::core::ota
