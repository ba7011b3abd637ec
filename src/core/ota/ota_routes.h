// The OTA route module: artifacts, the living registry, campaigns and the compliance report
// under /api/v1/ota (route.h; the paths and bodies are in docs/openapi.yaml).
//
//   ApiOptions o; ...
//   for (auto& r : OtaRoutes(ota.get(), audit.get())) o.modules.push_back(std::move(r));
//
// Access:
//   GET  /api/v1/ota/signing-key                              authenticated
//   GET  /api/v1/ota/artifacts/{sha256}?device&expires&sig    public, needs the campaign's HMAC
//                                                             URL; audited here (allow / deny)
//   POST /api/v1/ota/artifacts?kind&name&version&hardware_models   manage_fleet (raw body,
//                                                             up to the service's artifact limit)
//   POST hardware, firmware, firmware/{hw}/{v}/certify|status, campaigns, campaigns/{id}/start|
//        pause|resume|cancel                                  manage_fleet (global)
//   GET  artifacts, hardware, firmware, bench, devices, devices/{id}/history, campaigns,
//        campaigns/{id}, compliance                           read_fleet (global)
// Certifying firmware also needs the governance board's firmware_release approval
// (Registry::CertifyFirmware): 409 naming the missing roles otherwise.
//
// Thread-safety: the handlers are safe to run concurrently; `ota` and `audit` are not owned and
// must outlive the API server.
#ifndef WEFT_CORE_OTA_OTA_ROUTES_H_
#define WEFT_CORE_OTA_OTA_ROUTES_H_

#include <vector>

#include "core/api/route.h"
#include "core/audit/audit_log.h"
#include "core/ota/ota_service.h"

namespace weft::core::ota {

std::vector<api::ModuleRoute> OtaRoutes(OtaService* ota, audit::AuditLog* audit);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_OTA_ROUTES_H_
