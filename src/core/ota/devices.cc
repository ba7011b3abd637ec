#include "core/ota/devices.h"

#include <set>

namespace weft::core::ota {

Result<std::vector<KnownDevice>> KnownDevices(OtaStore& store, const FleetDeviceSource& fleet) {
  WEFT_ASSIGN_OR_RETURN(std::vector<InventoryDevice> inventory, store.ListInventory());
  std::map<std::string, KnownDevice> out;
  std::set<std::string> revoked;
  if (fleet) {
    WEFT_ASSIGN_OR_RETURN(std::vector<FleetDevice> provisioned, fleet());
    for (const FleetDevice& d : provisioned) {
      if (d.revoked) {
        revoked.insert(d.id);
        continue;
      }
      out[d.id] = KnownDevice{d.id, d.site, d.hardware_model, {}, std::nullopt};
    }
  }
  for (InventoryDevice& d : inventory) {
    if (revoked.count(d.id) != 0) continue;
    auto it = out.find(d.id);
    if (it == out.end()) {
      out[d.id] = KnownDevice{d.id, d.site, d.hardware_model, std::move(d.versions), d.last_seen};
    } else {
      it->second.versions = std::move(d.versions);
      it->second.last_seen = d.last_seen;
    }
  }
  std::vector<KnownDevice> list;
  list.reserve(out.size());
  for (auto& [id, d] : out) list.push_back(std::move(d));
  return list;
}

}  // namespace weft::core::ota
