#include "core/ota/fleet_devices.h"

#include "core/fleet/fleet_store.h"

namespace weft::core::ota {

FleetDeviceSource FleetStoreDevices(core::fleet::FleetStore* store) {
  return [store]() -> Result<std::vector<FleetDevice>> {
    WEFT_ASSIGN_OR_RETURN(std::vector<core::fleet::DeviceRecord> records, store->ListDevices());
    std::vector<FleetDevice> out;
    out.reserve(records.size());
    for (const core::fleet::DeviceRecord& r : records) {
      out.push_back({r.id, r.site, r.hardware_model, r.revoked});
    }
    return out;
  };
}

}  // namespace weft::core::ota
