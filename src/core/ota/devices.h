// The devices the OTA service knows: the fleet's provisioned devices (site, hardware model,
// revoked) merged with the inventory the devices report on their retained `state` topic
// (versions, last seen).
//
//   FleetDeviceSource fleet = FleetStoreDevices(fleet_store.get());   // fleet_devices.h
//   WEFT_ASSIGN_OR_RETURN(std::vector<KnownDevice> all, KnownDevices(*store, fleet));
//
// Merge rule: a device in the fleet list takes its site and hardware model from there (the
// allowlist decided them) and is left out when revoked; a device known only from its state
// reports (no fleet source, or provisioned by hand) takes them from its last report.
// Thread-safety: a free function; as safe as the source it calls.
#ifndef WEFT_CORE_OTA_DEVICES_H_
#define WEFT_CORE_OTA_DEVICES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/ota/ota_store.h"

namespace weft::core::ota {

struct FleetDevice {
  std::string id, site, hardware_model;
  bool revoked = false;
};
//! The provisioned devices (weft-core: FleetStore::ListDevices); unset = inventory only.
using FleetDeviceSource = std::function<Result<std::vector<FleetDevice>>()>;

struct KnownDevice {
  std::string id, site, hardware_model;
  std::map<std::string, std::string> versions;  //!< as InventoryDevice::versions
  std::optional<TimePoint> last_seen;           //!< none: never reported its state
};

//! Sorted by id.
Result<std::vector<KnownDevice>> KnownDevices(OtaStore& store, const FleetDeviceSource& fleet);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_DEVICES_H_
