// The fleet's REST routes (a route module, see core/api/route.h):
//   POST /api/v1/provision                  public; {factory_cert, proof, csr} or {claim_token, csr}
//   POST /api/v1/provision/renew            public; {certificate, proof, csr}
//   GET  /api/v1/fleet/ca                   public; the fleet CA (PEM)
//   GET  /api/v1/fleet/allowlist            read_fleet (global)
//   POST /api/v1/fleet/allowlist            manage_fleet (global); {serial, device_id, site,
//                                           hardware_model}
//   POST /api/v1/fleet/claim-tokens         manage_fleet (global); {serial, ttl_s}; the token is
//                                           in this answer only
//   GET  /api/v1/fleet/devices              read_fleet (anywhere: devices of covered sites)
//   GET  /api/v1/fleet/devices/{id}         read_fleet on the device's site; with certificates
//   POST /api/v1/fleet/devices/{id}/revoke  manage_fleet (global); {reason}
//
//   ApiOptions api;
//   api.modules = FleetRoutes(provisioning.get());
//
// The public provisioning routes audit themselves (ProvisioningService) and answer 429 with
// Retry-After (whole seconds) when rate limited. Thread-safety: handlers only call the
// (thread-safe) service; `service` must outlive the server.
#ifndef WEFT_CORE_FLEET_FLEET_ROUTES_H_
#define WEFT_CORE_FLEET_FLEET_ROUTES_H_

#include <vector>

#include "core/api/route.h"
#include "core/fleet/provisioning.h"

namespace weft::core::fleet {

std::vector<api::ModuleRoute> FleetRoutes(ProvisioningService* service);

//! JSON forms (shared with the CLI's output and tests).
nlohmann::json DeviceJson(const DeviceRecord& d);
nlohmann::json AllowlistJson(const AllowlistEntry& e);
nlohmann::json CertificateJson(const CertificateRecord& c);

}  // namespace weft::core::fleet

#endif  // WEFT_CORE_FLEET_FLEET_ROUTES_H_
