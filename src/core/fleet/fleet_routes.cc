#include "core/fleet/fleet_routes.h"

#include <httplib.h>

#include <string>
#include <utility>

#include "common/time_format.h"

namespace weft::core::fleet {
namespace {

using api::Access;
using api::ModuleRoute;
using api::Reply;
using api::RouteCall;
using json = nlohmann::json;
using registry::Permission;

std::string Iso(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}

// Public routes get the raw body: parse it here (flat objects only; deep nesting refused before
// the parser sees it).
Result<json> ParseFlatObject(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char ch = body[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      if (++depth > 4) return InvalidArgumentError("malformed JSON body: nested too deeply");
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("malformed JSON body: expected a JSON object");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  return j;
}

// 429 with Retry-After in whole seconds (at least 1).
Reply TooManyRequests(const Status& s, Micros retry_after) {
  const int64_t seconds = std::max<int64_t>(1, (retry_after.count() + 999'999) / 1'000'000);
  Reply r = api::ErrorReply(429, "rate_limited", s.message());
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

Result<Reply> ProvisionReply(const Result<ProvisionResponse>& r, Micros retry_after) {
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kResourceExhausted) {
      return TooManyRequests(r.status(), retry_after);
    }
    return r.status();
  }
  return api::JsonReply(r->issued_new ? 201 : 200, r->ToJson());
}

Result<Reply> Provision(ProvisioningService* s, RouteCall& c) {
  WEFT_ASSIGN_OR_RETURN(json body, ParseFlatObject(c.req.body));
  WEFT_RETURN_IF_ERROR(api::OnlyFields(body, {"factory_cert", "proof", "claim_token", "csr"}));
  ProvisionRequest req;
  WEFT_ASSIGN_OR_RETURN(req.factory_cert, api::StringField(body, "factory_cert", false));
  WEFT_ASSIGN_OR_RETURN(req.proof, api::StringField(body, "proof", false));
  WEFT_ASSIGN_OR_RETURN(req.claim_token, api::StringField(body, "claim_token", false));
  WEFT_ASSIGN_OR_RETURN(req.csr, api::StringField(body, "csr", true));
  req.remote_addr = c.req.remote_addr;
  Micros retry_after{0};
  return ProvisionReply(s->Provision(req, &retry_after), retry_after);
}

Result<Reply> Renew(ProvisioningService* s, RouteCall& c) {
  WEFT_ASSIGN_OR_RETURN(json body, ParseFlatObject(c.req.body));
  WEFT_RETURN_IF_ERROR(api::OnlyFields(body, {"certificate", "proof", "csr"}));
  RenewRequest req;
  WEFT_ASSIGN_OR_RETURN(req.certificate, api::StringField(body, "certificate", true));
  WEFT_ASSIGN_OR_RETURN(req.proof, api::StringField(body, "proof", true));
  WEFT_ASSIGN_OR_RETURN(req.csr, api::StringField(body, "csr", true));
  req.remote_addr = c.req.remote_addr;
  Micros retry_after{0};
  return ProvisionReply(s->Renew(req, &retry_after), retry_after);
}

bool CanReadSite(const RouteCall& c, const std::string& site) {
  return registry::Authorize(c.grants, c.principal.disabled, Permission::kReadFleet,
                             registry::Resource{site, {}})
      .allowed;
}

}  // namespace

json DeviceJson(const DeviceRecord& d) {
  json j{{"id", d.id},
         {"serial", d.serial},
         {"site", d.site},
         {"hardware_model", d.hardware_model},
         {"revoked", d.revoked},
         {"provisioned_at", Iso(d.provisioned_at)},
         {"certificate", d.current_cert_serial.empty() ? json(nullptr)
                                                        : json(d.current_cert_serial)},
         {"cert_not_after",
          d.current_cert_serial.empty() ? json(nullptr) : json(Iso(d.cert_not_after))}};
  if (d.revoked) {
    j["revoked_at"] = d.revoked_at ? json(Iso(*d.revoked_at)) : json(nullptr);
    j["revoke_reason"] = d.revoke_reason;
    j["revoked_by"] = d.revoked_by;
  }
  return j;
}

json AllowlistJson(const AllowlistEntry& e) {
  return {{"serial", e.serial},
          {"device_id", e.device_id},
          {"site", e.site},
          {"hardware_model", e.hardware_model},
          {"added_by", e.added_by},
          {"added_at", Iso(e.added_at)}};
}

json CertificateJson(const CertificateRecord& c) {
  return {{"serial", c.serial_hex},
          {"device_id", c.device_id},
          {"fingerprint_sha256", c.fingerprint_sha256},
          {"public_key_sha256", c.public_key_sha256},
          {"not_before", Iso(c.not_before)},
          {"not_after", Iso(c.not_after)},
          {"issued_at", Iso(c.issued_at)},
          {"revoked_at", c.revoked_at ? json(Iso(*c.revoked_at)) : json(nullptr)},
          {"reason", c.reason}};
}

std::vector<api::ModuleRoute> FleetRoutes(ProvisioningService* s) {
  std::vector<ModuleRoute> routes;
  routes.push_back({"POST", "/api/v1/provision", Access::kPublic, Permission::kIngest,
                    /*mutation=*/false, /*json_body=*/false, /*body_empty_ok=*/false,
                    "fleet.provision", [s](RouteCall& c) { return Provision(s, c); }});
  routes.push_back({"POST", "/api/v1/provision/renew", Access::kPublic, Permission::kIngest, false,
                    false, false, "fleet.renew", [s](RouteCall& c) { return Renew(s, c); }});
  routes.push_back({"GET", "/api/v1/fleet/ca", Access::kPublic, Permission::kReadFleet, false,
                    false, false, "fleet.ca", [s](RouteCall&) -> Result<Reply> {
                      return Reply{200, s->ca_pem(), "application/x-pem-file", {}};
                    }});
  routes.push_back({"GET", "/api/v1/fleet/allowlist", Access::kGlobal, Permission::kReadFleet,
                    false, false, false, "fleet.allowlist.list",
                    [s](RouteCall&) -> Result<Reply> {
                      WEFT_ASSIGN_OR_RETURN(std::vector<AllowlistEntry> list,
                                            s->store().ListAllowlist());
                      json out = json::array();
                      for (const AllowlistEntry& e : list) out.push_back(AllowlistJson(e));
                      return api::JsonReply(200, json{{"allowlist", out}});
                    }});
  routes.push_back(
      {"POST", "/api/v1/fleet/allowlist", Access::kGlobal, Permission::kManageFleet, true, true,
       false, "fleet.allowlist.add", [s](RouteCall& c) -> Result<Reply> {
         WEFT_RETURN_IF_ERROR(
             api::OnlyFields(c.body, {"serial", "device_id", "site", "hardware_model"}));
         AllowlistEntry e;
         WEFT_ASSIGN_OR_RETURN(e.serial, api::StringField(c.body, "serial", true));
         WEFT_ASSIGN_OR_RETURN(e.device_id, api::StringField(c.body, "device_id", true));
         WEFT_ASSIGN_OR_RETURN(e.site, api::StringField(c.body, "site", true));
         WEFT_ASSIGN_OR_RETURN(e.hardware_model, api::StringField(c.body, "hardware_model", true));
         e.added_by = c.principal.id;
         WEFT_ASSIGN_OR_RETURN(AllowlistEntry added, s->AddToAllowlist(e));
         c.resource = "fleet/allowlist/" + added.serial;
         c.outcome = AllowlistJson(added);
         return api::JsonReply(201, AllowlistJson(added));
       }});
  routes.push_back(
      {"POST", "/api/v1/fleet/claim-tokens", Access::kGlobal, Permission::kManageFleet, true,
       true, false, "fleet.claim_token.issue", [s](RouteCall& c) -> Result<Reply> {
         WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"serial", "ttl_s"}));
         WEFT_ASSIGN_OR_RETURN(std::string serial, api::StringField(c.body, "serial", true));
         int64_t ttl_s = 24 * 3600;
         if (c.body.contains("ttl_s")) {
           if (!c.body["ttl_s"].is_number_integer()) {
             return InvalidArgumentError("ttl_s must be a whole number of seconds");
           }
           ttl_s = c.body["ttl_s"].get<int64_t>();
         }
         WEFT_ASSIGN_OR_RETURN(IssuedClaimToken t,
                               s->IssueClaimToken(serial, std::chrono::seconds(ttl_s)));
         c.resource = "fleet/allowlist/" + t.serial;
         // The audit record names the serial and expiry, never the token.
         c.outcome = {{"serial", t.serial}, {"expires_at", Iso(t.expires_at)}};
         return api::JsonReply(
             201, json{{"token", t.token}, {"serial", t.serial}, {"expires_at", Iso(t.expires_at)}});
       }});
  routes.push_back({"GET", "/api/v1/fleet/devices", Access::kAnywhere, Permission::kReadFleet,
                    false, false, false, "fleet.devices.list",
                    [s](RouteCall& c) -> Result<Reply> {
                      WEFT_ASSIGN_OR_RETURN(std::vector<DeviceRecord> devices,
                                            s->store().ListDevices());
                      json out = json::array();
                      for (const DeviceRecord& d : devices) {
                        if (CanReadSite(c, d.site)) out.push_back(DeviceJson(d));
                      }
                      return api::JsonReply(200, json{{"devices", out}});
                    }});
  routes.push_back(
      {"GET", "/api/v1/fleet/devices/{id}", Access::kAnywhere, Permission::kReadFleet, false,
       false, false, "fleet.devices.show", [s](RouteCall& c) -> Result<Reply> {
         const std::string& id = c.params.at(0);
         Result<DeviceRecord> d = s->store().GetDevice(id);
         // Same answer for "unknown" and "not yours": existence is not leaked across sites.
         if (!d.ok() || !CanReadSite(c, d->site)) {
           if (d.ok() || d.status().code() == StatusCode::kNotFound) {
             return NotFoundError("unknown device '" + id + "'");
           }
           return d.status();
         }
         WEFT_ASSIGN_OR_RETURN(std::vector<CertificateRecord> certs, s->store().CertificatesOf(id));
         json j = DeviceJson(*d);
         j["certificates"] = json::array();
         for (const CertificateRecord& cert : certs) j["certificates"].push_back(CertificateJson(cert));
         return api::JsonReply(200, j);
       }});
  routes.push_back(
      {"POST", "/api/v1/fleet/devices/{id}/revoke", Access::kGlobal, Permission::kManageFleet,
       true, true, false, "fleet.revoke", [s](RouteCall& c) -> Result<Reply> {
         WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"reason"}));
         WEFT_ASSIGN_OR_RETURN(std::string reason, api::StringField(c.body, "reason", true));
         WEFT_ASSIGN_OR_RETURN(RevokeOutcome r,
                               s->Revoke(c.params.at(0), reason, c.principal.id));
         json j{{"device_id", r.device_id},
                {"revoked_certificates", r.revoked_serials},
                {"broker", {{"reloaded", r.broker.signalled}, {"note", r.broker.note}}}};
         c.outcome = j;
         return api::JsonReply(200, j);
       }});
  return routes;
}

}  // namespace weft::core::fleet
