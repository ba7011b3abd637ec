// The fleet store as the OTA service's device source (B's provisioned devices).
//
//   o.fleet = FleetStoreDevices(fleet_store);   // OtaOptions
//
// Thread-safety: as FleetStore::ListDevices (thread-safe); `store` is not owned and must outlive
// every call of the returned function.
#ifndef WEFT_CORE_OTA_FLEET_DEVICES_H_
#define WEFT_CORE_OTA_FLEET_DEVICES_H_

#include "core/ota/devices.h"

namespace weft::core::fleet {
class FleetStore;
}  // namespace weft::core::fleet

namespace weft::core::ota {

FleetDeviceSource FleetStoreDevices(core::fleet::FleetStore* store);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_FLEET_DEVICES_H_
