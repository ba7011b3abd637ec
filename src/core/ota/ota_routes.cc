#include "core/ota/ota_routes.h"

#include <httplib.h>

#include <fstream>
#include <sstream>

#include "common/time_format.h"
#include "core/ota/compliance.h"

namespace weft::core::ota {
namespace {

using api::Access;
using api::JsonReply;
using api::ModuleRoute;
using api::Reply;
using api::RouteCall;
using json = nlohmann::json;
using registry::Permission;

std::string Ts(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}
json OptTs(const std::optional<TimePoint>& t) {
  return t ? json(Ts(*t)) : json(nullptr);
}

json ArtifactJson(const ArtifactRecord& a) {
  return {{"sha256", a.sha256},
          {"kind", a.kind},
          {"name", a.name},
          {"version", a.version},
          {"size", a.size},
          {"hardware_models", a.hardware_models},
          {"manifest", a.manifest},
          {"signature", a.signature},
          {"uploaded_by", a.uploaded_by},
          {"uploaded_at", Ts(a.uploaded_at)}};
}

json FirmwareJson(const FirmwareVersion& f) {
  return {{"hardware_model", f.hardware_model},
          {"version", f.version},
          {"status", FirmwareStatusName(f.status)},
          {"released_at", OptTs(f.released_at)},
          {"notes", f.notes},
          {"updated_at", Ts(f.updated_at)}};
}

json LatencyJson(const LatencySummary& l) {
  return {{"hardware_model", l.hardware_model},
          {"model", l.model},
          {"model_version", l.model_version},
          {"p50_us", l.p50_us},
          {"p99_us", l.p99_us},
          {"reports", l.reports},
          {"devices", l.devices},
          {"samples", l.samples},
          {"latest", Ts(l.latest)}};
}

std::string Param(const RouteCall& c, const char* name) {
  return c.req.has_param(name) ? c.req.get_param_value(name) : std::string();
}

Result<double> ParseFraction(const std::string& text, double fallback, const char* what) {
  if (text.empty()) return fallback;
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    return InvalidArgumentError(std::string(what) + " must be a number, got '" + text + "'");
  }
}

ModuleRoute Route(std::string method, std::string path, Access access, Permission p, bool mutation,
                  bool json_body, std::string action, api::RouteHandler h) {
  ModuleRoute r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.access = access;
  r.permission = p;
  r.mutation = mutation;
  r.json_body = json_body;
  r.body_empty_ok = json_body;
  r.action = std::move(action);
  r.handler = std::move(h);
  return r;
}

}  // namespace

std::vector<ModuleRoute> OtaRoutes(OtaService* ota, audit::AuditLog* audit) {
  std::vector<ModuleRoute> routes;
  const Permission kRead = Permission::kReadFleet;
  const Permission kManage = Permission::kManageFleet;

  routes.push_back(Route("GET", "/api/v1/ota/signing-key", Access::kAuthenticated, kRead, false,
                         false, "ota.signing_key", [ota](RouteCall&) -> Result<Reply> {
                           return JsonReply(200, {{"public_key_pem", ota->ota_public_key()},
                                                  {"algorithm", "Ed25519"}});
                         }));

  // Upload: raw body; the manifest is derived from the query and the bytes.
  ModuleRoute upload =
      Route("POST", "/api/v1/ota/artifacts", Access::kGlobal, kManage, true, false,
            "ota.artifact.upload", [ota](RouteCall& c) -> Result<Reply> {
              NewArtifact n{Param(c, "kind"), Param(c, "name"), Param(c, "version"),
                            SplitList(Param(c, "hardware_models"))};
              WEFT_ASSIGN_OR_RETURN(ArtifactRecord a,
                                    ota->artifacts().Put(n, c.req.body, c.principal.id));
              if (a.kind == "firmware") {
                for (const std::string& hw : a.hardware_models) {
                  WEFT_RETURN_IF_ERROR(
                      ota->registry().AddFirmware(hw, a.version, "uploaded " + a.sha256));
                }
              }
              c.resource = "ota/artifacts/" + a.sha256;
              c.outcome = {{"sha256", a.sha256},
                           {"kind", a.kind},
                           {"name", a.name},
                           {"version", a.version},
                           {"size", a.size}};
              return JsonReply(201, ArtifactJson(a));
            });
  upload.max_body_bytes = static_cast<size_t>(ota != nullptr ? ota->options().max_artifact_bytes
                                                             : OtaOptions{}.max_artifact_bytes);
  routes.push_back(std::move(upload));

  routes.push_back(Route("GET", "/api/v1/ota/artifacts", Access::kGlobal, kRead, false, false,
                         "ota.artifact.list", [ota](RouteCall&) -> Result<Reply> {
                           WEFT_ASSIGN_OR_RETURN(auto all, ota->store().ListArtifacts());
                           json out = json::array();
                           for (const ArtifactRecord& a : all) out.push_back(ArtifactJson(a));
                           return JsonReply(200, out);
                         }));

  // Public download: the HMAC URL is the device's credential; audited here.
  routes.push_back(
      Route("GET", "/api/v1/ota/artifacts/{sha256}", Access::kPublic, kRead, false, false,
            "ota.artifact.download", [ota, audit](RouteCall& c) -> Result<Reply> {
              const std::string sha = c.params.at(0), device = Param(c, "device");
              Status ok =
                  ota->artifacts().CheckDownload(sha, device, Param(c, "expires"), Param(c, "sig"));
              auto record = [&](const char* decision, const std::string& why) {
                if (audit == nullptr) return;
                (void)audit->Append({.principal = device.empty() ? "anonymous" : device,
                                     .action = "ota.artifact.download",
                                     .resource = "ota/artifacts/" + sha.substr(0, 64),
                                     .decision = decision,
                                     .detail = {{"remote", c.req.remote_addr}, {"reason", why}}});
              };
              if (!ok.ok()) {
                record("deny", ok.message());
                return ok;
              }
              WEFT_ASSIGN_OR_RETURN(std::string path, ota->artifacts().FilePath(sha));
              std::ifstream in(path, std::ios::binary);
              std::ostringstream bytes;
              bytes << in.rdbuf();
              if (!in) return UnavailableError("cannot read artifact " + sha);
              record("allow", "valid download URL");
              Reply r;
              r.status = 200;
              r.body = bytes.str();
              r.content_type = "application/octet-stream";
              return r;
            }));

  routes.push_back(Route("GET", "/api/v1/ota/hardware", Access::kGlobal, kRead, false, false,
                         "ota.hardware.list", [ota](RouteCall&) -> Result<Reply> {
                           WEFT_ASSIGN_OR_RETURN(auto all, ota->store().ListHardwareModels());
                           json out = json::array();
                           for (const HardwareModel& m : all) {
                             out.push_back({{"name", m.name},
                                            {"certified", m.certified},
                                            {"notes", m.notes},
                                            {"updated_at", Ts(m.updated_at)}});
                           }
                           return JsonReply(200, out);
                         }));
  routes.push_back(
      Route("POST", "/api/v1/ota/hardware", Access::kGlobal, kManage, true, true,
            "ota.hardware.put", [ota](RouteCall& c) -> Result<Reply> {
              WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"name", "certified", "notes"}));
              WEFT_ASSIGN_OR_RETURN(std::string name, api::StringField(c.body, "name", true));
              WEFT_ASSIGN_OR_RETURN(std::string notes, api::StringField(c.body, "notes", false));
              if (!c.body.contains("certified") || !c.body.at("certified").is_boolean()) {
                return InvalidArgumentError("field 'certified' (true or false) is required");
              }
              const bool certified = c.body.at("certified").get<bool>();
              WEFT_RETURN_IF_ERROR(ota->registry().PutHardwareModel(name, certified, notes));
              c.resource = "ota/hardware/" + name;
              c.outcome = {{"name", name}, {"certified", certified}};
              return JsonReply(200, {{"name", name}, {"certified", certified}, {"notes", notes}});
            }));

  routes.push_back(Route("GET", "/api/v1/ota/firmware", Access::kGlobal, kRead, false, false,
                         "ota.firmware.list", [ota](RouteCall& c) -> Result<Reply> {
                           WEFT_ASSIGN_OR_RETURN(
                               auto all, ota->store().ListFirmware(Param(c, "hardware_model")));
                           json out = json::array();
                           for (const FirmwareVersion& f : all) out.push_back(FirmwareJson(f));
                           return JsonReply(200, out);
                         }));
  routes.push_back(Route(
      "POST", "/api/v1/ota/firmware", Access::kGlobal, kManage, true, true, "ota.firmware.add",
      [ota](RouteCall& c) -> Result<Reply> {
        WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"hardware_model", "version", "notes"}));
        WEFT_ASSIGN_OR_RETURN(std::string hw, api::StringField(c.body, "hardware_model", true));
        WEFT_ASSIGN_OR_RETURN(std::string version, api::StringField(c.body, "version", true));
        WEFT_ASSIGN_OR_RETURN(std::string notes, api::StringField(c.body, "notes", false));
        WEFT_RETURN_IF_ERROR(ota->registry().AddFirmware(hw, version, notes));
        WEFT_ASSIGN_OR_RETURN(FirmwareVersion f, ota->store().GetFirmware(hw, version));
        c.resource = "ota/firmware/" + hw + "/" + version;
        return JsonReply(200, FirmwareJson(f));
      }));
  routes.push_back(Route(
      "POST", "/api/v1/ota/firmware/{hw}/{version}/certify", Access::kGlobal, kManage, true, true,
      "ota.firmware.certify", [ota](RouteCall& c) -> Result<Reply> {
        WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {}));
        WEFT_ASSIGN_OR_RETURN(FirmwareVersion f,
                              ota->registry().CertifyFirmware(c.params.at(0), c.params.at(1)));
        c.outcome = {{"status", "certified"}, {"released_at", OptTs(f.released_at)}};
        return JsonReply(200, FirmwareJson(f));
      }));
  routes.push_back(Route(
      "POST", "/api/v1/ota/firmware/{hw}/{version}/status", Access::kGlobal, kManage, true, true,
      "ota.firmware.status", [ota](RouteCall& c) -> Result<Reply> {
        WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {"status", "notes"}));
        WEFT_ASSIGN_OR_RETURN(std::string status, api::StringField(c.body, "status", true));
        WEFT_ASSIGN_OR_RETURN(std::string notes, api::StringField(c.body, "notes", false));
        WEFT_ASSIGN_OR_RETURN(FirmwareStatus st, ParseFirmwareStatus(status));
        WEFT_ASSIGN_OR_RETURN(FirmwareVersion f, ota->registry().SetFirmwareStatus(
                                                     c.params.at(0), c.params.at(1), st, notes));
        c.outcome = {{"status", status}};
        return JsonReply(200, FirmwareJson(f));
      }));

  routes.push_back(
      Route("GET", "/api/v1/ota/bench", Access::kGlobal, kRead, false, false, "ota.bench.list",
            [ota](RouteCall& c) -> Result<Reply> {
              WEFT_ASSIGN_OR_RETURN(
                  auto all, ota->registry().Latency(Param(c, "hardware_model"), Param(c, "model")));
              json out = json::array();
              for (const LatencySummary& l : all) out.push_back(LatencyJson(l));
              return JsonReply(200, out);
            }));

  routes.push_back(Route("GET", "/api/v1/ota/devices", Access::kGlobal, kRead, false, false,
                         "ota.devices.list", [ota](RouteCall&) -> Result<Reply> {
                           WEFT_ASSIGN_OR_RETURN(auto all,
                                                 KnownDevices(ota->store(), ota->options().fleet));
                           json out = json::array();
                           for (const KnownDevice& d : all) {
                             out.push_back({{"device", d.id},
                                            {"site", d.site},
                                            {"hardware_model", d.hardware_model},
                                            {"versions", d.versions},
                                            {"last_seen", OptTs(d.last_seen)}});
                           }
                           return JsonReply(200, out);
                         }));
  routes.push_back(
      Route("GET", "/api/v1/ota/devices/{id}/history", Access::kGlobal, kRead, false, false,
            "ota.devices.history", [ota](RouteCall& c) -> Result<Reply> {
              WEFT_ASSIGN_OR_RETURN(auto all,
                                    ota->store().VersionHistory(c.params.at(0), Param(c, "key")));
              json out = json::array();
              for (const VersionChange& v : all) {
                out.push_back({{"key", v.key}, {"version", v.version}, {"since", Ts(v.since)}});
              }
              return JsonReply(200, {{"device", c.params.at(0)}, {"history", out}});
            }));

  routes.push_back(Route("GET", "/api/v1/ota/campaigns", Access::kGlobal, kRead, false, false,
                         "ota.campaign.list", [ota](RouteCall&) -> Result<Reply> {
                           WEFT_ASSIGN_OR_RETURN(json all, ota->engine().List());
                           return JsonReply(200, all);
                         }));
  routes.push_back(Route("POST", "/api/v1/ota/campaigns", Access::kGlobal, kManage, true, true,
                         "ota.campaign.create", [ota](RouteCall& c) -> Result<Reply> {
                           WEFT_ASSIGN_OR_RETURN(CampaignSpec spec, ParseCampaignSpec(c.body));
                           WEFT_ASSIGN_OR_RETURN(Campaign camp,
                                                 ota->engine().Create(spec, c.principal.id));
                           c.resource = "ota/campaigns/" + camp.id;
                           c.outcome = {{"id", camp.id}};
                           return JsonReply(201, CampaignJson(camp));
                         }));
  routes.push_back(
      Route("GET", "/api/v1/ota/campaigns/{id}", Access::kGlobal, kRead, false, false,
            "ota.campaign.show", [ota](RouteCall& c) -> Result<Reply> {
              WEFT_ASSIGN_OR_RETURN(
                  json j, ota->engine().Describe(c.params.at(0), Param(c, "devices") == "true"));
              return JsonReply(200, j);
            }));
  for (const char* verb : {"start", "pause", "resume", "cancel"}) {
    const std::string v = verb;
    routes.push_back(
        Route("POST", "/api/v1/ota/campaigns/{id}/" + v, Access::kGlobal, kManage, true, true,
              "ota.campaign." + v, [ota, v](RouteCall& c) -> Result<Reply> {
                WEFT_RETURN_IF_ERROR(api::OnlyFields(c.body, {}));
                CampaignEngine& e = ota->engine();
                const std::string& id = c.params.at(0);
                Result<Campaign> r = v == "start"    ? e.Start(id, c.principal.id)
                                     : v == "pause"  ? e.Pause(id, c.principal.id)
                                     : v == "resume" ? e.Resume(id, c.principal.id)
                                                     : e.Cancel(id, c.principal.id);
                WEFT_RETURN_IF_ERROR(r);
                c.outcome = {{"state", CampaignStateName(r->state)}, {"reason", r->state_reason}};
                return JsonReply(200, CampaignJson(*r));
              }));
  }

  routes.push_back(Route(
      "GET", "/api/v1/ota/compliance", Access::kGlobal, kRead, false, false, "ota.compliance",
      [ota](RouteCall& c) -> Result<Reply> {
        WEFT_ASSIGN_OR_RETURN(double target, ParseFraction(Param(c, "target"), 0.95, "target"));
        WEFT_ASSIGN_OR_RETURN(double days, ParseFraction(Param(c, "days"), 14.0, "days"));
        if (!(days > 0 && days <= 3650)) return InvalidArgumentError("days must be 0 to 3650");
        const auto window = Micros(static_cast<int64_t>(days * 86'400e6));
        WEFT_ASSIGN_OR_RETURN(
            auto reports,
            ComplianceReports(ota->registry(), ota->options().fleet, Param(c, "hardware_model"),
                              Param(c, "release"), target, window, ota->options().clock->Now()));
        json out = json::array();
        for (const ComplianceReport& r : reports) out.push_back(ComplianceJson(r));
        return JsonReply(200, {{"reports", out}});
      }));
  return routes;
}

}  // namespace weft::core::ota
