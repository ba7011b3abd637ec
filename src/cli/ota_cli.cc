#include "cli/ota_cli.h"

#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/api_client.h"
#include "cli/cli.h"

namespace weft::cli {
namespace {

using json = nlohmann::json;

// "a b" -> "a%20b" for query values (PathSegment encodes everything but unreserved).
std::string Q(const std::string& s) {
  return PathSegment(s);
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + k + "=" + Q(v);
  }
  return q;
}

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void PrintCampaign(const json& c, std::ostream& out) {
  out << c.value("id", std::string()) << "  " << c.value("name", std::string()) << "  "
      << c.value("state", std::string());
  const std::string reason = c.value("state_reason", std::string());
  if (!reason.empty()) out << "  (" << reason << ")";
  out << "\n";
}

}  // namespace

CLI::App* AddOtaCommands(CLI::App& app, OtaArgs* a) {
  CLI::App* cmd =
      app.add_subcommand("ota", "Signed OTA artifacts, campaigns, registry, SLA (via API)");
  cmd->require_subcommand(1);
  auto group = [&](const char* name, const char* help) {
    CLI::App* g = cmd->add_subcommand(name, help);
    g->require_subcommand(1);
    return g;
  };
  auto leaf = [a](CLI::App* parent, const std::string& name, const std::string& command,
                  const char* help) {
    CLI::App* sub = parent->add_subcommand(name, help);
    sub->parse_complete_callback([a, command] { a->command = command; });
    AddApiOptions(sub, &a->api, &a->ca, &a->insecure, &a->json);
    return sub;
  };

  CLI::App* artifact = group("artifact", "Upload and list artifacts");
  CLI::App* upload =
      leaf(artifact, "upload", "artifact upload", "Upload a file; the core signs its manifest");
  upload->add_option("file", a->file, "the artifact's file")->required()->check(CLI::ExistingFile);
  upload->add_option("--kind", a->kind, "firmware, edge_config or model")
      ->required()
      ->check(CLI::IsMember({"firmware", "edge_config", "model"}));
  upload->add_option("--name", a->name, "artifact name")->required();
  upload->add_option("--version", a->version, "artifact version")->required();
  upload->add_option("--hardware-models", a->hardware_models, "comma-separated hardware models")
      ->required();
  leaf(artifact, "list", "artifact list", "List the stored artifacts");

  CLI::App* campaign = group("campaign", "Create and steer OTA campaigns");
  CLI::App* create = leaf(campaign, "create", "campaign create", "Create a draft campaign");
  create->add_option("--name", a->name, "campaign name")->required();
  create->add_option("--artifact", a->artifact, "the artifact's sha256")->required();
  create->add_option("--site", a->sites, "target site (repeatable)");
  create->add_option("--hardware-model", a->target_hardware_models,
                     "target hardware model (repeatable)");
  create->add_option("--firmware", a->firmware, "target devices on this firmware (repeatable)");
  create->add_option("--waves", a->waves, "cumulative waves, e.g. 1,10%,50%,100%");
  create->add_option("--success-threshold", a->success_threshold,
                     "fraction of a wave that must succeed before the next (default 0.95)");
  create->add_option("--error-threshold", a->error_threshold,
                     "fraction of a wave failed that pauses the campaign (default 0.2)");
  create->add_option("--health-timeout", a->health_timeout_s,
                     "seconds for the device's health check");
  create->add_option("--device-timeout", a->device_timeout_s,
                     "seconds without a final status before a device counts as failed");
  create->add_option("--latency-budget-us", a->latency_budget_us,
                     "model campaigns: p99 budget (default: the use case's)");
  for (const char* verb : {"start", "pause", "resume", "cancel"}) {
    CLI::App* v = leaf(campaign, verb, std::string("campaign ") + verb,
                       (std::string(verb) + " a campaign").c_str());
    v->add_option("id", a->id, "campaign id, e.g. c1")->required();
  }
  CLI::App* show = leaf(campaign, "show", "campaign show", "A campaign's state and waves");
  show->add_option("id", a->id, "campaign id")->required();
  show->add_flag("--devices", a->devices, "list every device's progress");
  leaf(campaign, "list", "campaign list", "List campaigns");

  CLI::App* compliance =
      leaf(cmd, "compliance", "compliance", "The firmware compliance SLA per hardware model");
  compliance->add_option("--hardware-model", a->hardware_model, "only this hardware model");
  compliance->add_option("--release", a->release, "this certified release (default: the latest)");
  compliance->add_option("--target", a->target, "fraction of devices, default 0.95");
  compliance->add_option("--days", a->days, "days after the release, default 14");

  CLI::App* hw = group("hw", "Hardware models of the registry");
  CLI::App* certify = leaf(hw, "certify", "hw certify", "Mark a hardware model certified");
  certify->add_option("name", a->name, "hardware model")->required();
  certify->add_flag("--revoke", a->revoke, "mark it not certified instead");
  certify->add_option("--notes", a->notes, "free text");
  leaf(hw, "list", "hw list", "List hardware models");

  CLI::App* fw = group("firmware", "Firmware versions of the registry");
  CLI::App* add = leaf(fw, "add", "firmware add", "Register a candidate firmware version");
  add->add_option("hardware_model", a->hardware_model, "hardware model")->required();
  add->add_option("version", a->version, "firmware version")->required();
  add->add_option("--notes", a->notes, "free text");
  CLI::App* fcert = leaf(fw, "certify", "firmware certify",
                         "Certify a version (needs the board's firmware_release approval)");
  fcert->add_option("hardware_model", a->hardware_model, "hardware model")->required();
  fcert->add_option("version", a->version, "firmware version")->required();
  CLI::App* status =
      leaf(fw, "status", "firmware status", "Mark a version deprecated, vulnerable...");
  status->add_option("hardware_model", a->hardware_model, "hardware model")->required();
  status->add_option("version", a->version, "firmware version")->required();
  status->add_option("status", a->status, "candidate, deprecated or vulnerable")
      ->required()
      ->check(CLI::IsMember({"candidate", "deprecated", "vulnerable"}));
  status->add_option("--notes", a->notes, "free text");
  CLI::App* flist = leaf(fw, "list", "firmware list", "List firmware versions");
  flist->add_option("--hardware-model", a->hardware_model, "only this hardware model");

  CLI::App* bench = leaf(cmd, "bench", "bench", "Inference latency per hardware model and model");
  bench->add_option("--hardware-model", a->hardware_model, "only this hardware model");
  bench->add_option("--model", a->model, "only this model");
  CLI::App* key =
      leaf(cmd, "signing-key", "signing-key", "The OTA signing public key (PEM) devices pin");
  key->add_option("--out", a->out_file, "write the PEM to this file instead of stdout");
  return cmd;
}

Result<OtaRequest> BuildOtaRequest(const OtaArgs& a) {
  const std::string base = "/api/v1/ota";
  const std::string& c = a.command;
  if (c == "artifact upload") {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return InvalidArgumentError("cannot read " + a.file);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return OtaRequest{"POST",
                      base + "/artifacts" +
                          Query({{"kind", a.kind},
                                 {"name", a.name},
                                 {"version", a.version},
                                 {"hardware_models", a.hardware_models}}),
                      bytes.str()};
  }
  if (c == "artifact list") return OtaRequest{"GET", base + "/artifacts", ""};
  if (c == "campaign create") {
    json body = {{"name", a.name}, {"artifact", a.artifact}};
    json target = json::object();
    if (!a.sites.empty()) target["sites"] = a.sites;
    if (!a.target_hardware_models.empty()) target["hardware_models"] = a.target_hardware_models;
    if (!a.firmware.empty()) target["firmware"] = a.firmware;
    if (!target.empty()) body["target"] = target;
    if (!a.waves.empty()) {
      json waves = json::array();
      std::stringstream s(a.waves);
      std::string w;
      while (std::getline(s, w, ',')) {
        if (!w.empty()) waves.push_back(w);
      }
      body["waves"] = waves;
    }
    if (a.success_threshold >= 0) body["success_threshold"] = a.success_threshold;
    if (a.error_threshold >= 0) body["error_threshold"] = a.error_threshold;
    if (a.health_timeout_s > 0) body["health_timeout_s"] = a.health_timeout_s;
    if (a.device_timeout_s > 0) body["device_timeout_s"] = a.device_timeout_s;
    if (a.latency_budget_us > 0) body["latency_budget_us"] = a.latency_budget_us;
    return OtaRequest{"POST", base + "/campaigns", body.dump()};
  }
  for (const char* verb : {"start", "pause", "resume", "cancel"}) {
    if (c == std::string("campaign ") + verb) {
      return OtaRequest{"POST", base + "/campaigns/" + PathSegment(a.id) + "/" + verb, "{}"};
    }
  }
  if (c == "campaign show") {
    return OtaRequest{
        "GET", base + "/campaigns/" + PathSegment(a.id) + (a.devices ? "?devices=true" : ""), ""};
  }
  if (c == "campaign list") return OtaRequest{"GET", base + "/campaigns", ""};
  if (c == "compliance") {
    if (!(a.target > 0 && a.target <= 1)) {
      return InvalidArgumentError("--target must be a fraction in (0, 1], e.g. 0.95");
    }
    return OtaRequest{"GET",
                      base + "/compliance" +
                          Query({{"hardware_model", a.hardware_model},
                                 {"release", a.release},
                                 {"target", Num(a.target)},
                                 {"days", Num(a.days)}}),
                      ""};
  }
  if (c == "hw certify") {
    json body = {{"name", a.name}, {"certified", !a.revoke}};
    if (!a.notes.empty()) body["notes"] = a.notes;
    return OtaRequest{"POST", base + "/hardware", body.dump()};
  }
  if (c == "hw list") return OtaRequest{"GET", base + "/hardware", ""};
  if (c == "firmware add") {
    json body = {{"hardware_model", a.hardware_model}, {"version", a.version}};
    if (!a.notes.empty()) body["notes"] = a.notes;
    return OtaRequest{"POST", base + "/firmware", body.dump()};
  }
  const std::string fw_path =
      base + "/firmware/" + PathSegment(a.hardware_model) + "/" + PathSegment(a.version);
  if (c == "firmware certify") return OtaRequest{"POST", fw_path + "/certify", "{}"};
  if (c == "firmware status") {
    json body = {{"status", a.status}};
    if (!a.notes.empty()) body["notes"] = a.notes;
    return OtaRequest{"POST", fw_path + "/status", body.dump()};
  }
  if (c == "firmware list") {
    return OtaRequest{"GET", base + "/firmware" + Query({{"hardware_model", a.hardware_model}}),
                      ""};
  }
  if (c == "bench") {
    return OtaRequest{
        "GET", base + "/bench" + Query({{"hardware_model", a.hardware_model}, {"model", a.model}}),
        ""};
  }
  if (c == "signing-key") return OtaRequest{"GET", base + "/signing-key", ""};
  return InvalidArgumentError("give a subcommand (weft ota --help)");
}

int RunOta(const OtaArgs& a, std::ostream& out, std::ostream& err) {
  const std::string who = "weft ota " + a.command;
  auto fail = [&](const std::string& message, int code) {
    err << who << ": " << message << "\n";
    return code;
  };
  Result<OtaRequest> req = BuildOtaRequest(a);
  if (!req.ok()) return fail(req.status().message(), kExitUsage);
  Result<ApiAnswer> res = CallApiOk({.api = a.api, .ca = a.ca, .insecure = a.insecure, .token = {}},
                                    req->method, req->path, req->body, err);
  if (!res.ok()) return fail(res.status().message(), ApiExitCode(res.status()));
  Result<std::optional<json>> answer = ApiObjectReply(*res, a.json, out);
  if (!answer.ok()) return fail(answer.status().message(), kExitInvalidInput);
  if (!answer->has_value()) return kExitOk;
  const json& reply = **answer;
  const std::string& c = a.command;
  auto s = [](const json& j, const char* k) {
    return j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : std::string();
  };
  if (c == "signing-key") {
    const std::string pem = s(reply, "public_key_pem");
    if (a.out_file.empty()) {
      out << pem;
      return kExitOk;
    }
    std::ofstream f(a.out_file, std::ios::binary | std::ios::trunc);
    f << pem;
    f.flush();
    if (!f) return fail("cannot write " + a.out_file, kExitInvalidInput);
    out << "wrote the OTA signing public key to " << a.out_file << "\n";
  } else if (c == "artifact upload") {
    out << "stored " << s(reply, "kind") << " " << s(reply, "name") << " " << s(reply, "version")
        << " as " << s(reply, "sha256") << " (manifest signed)\n";
  } else if (c == "artifact list") {
    for (const json& x : reply) {
      out << s(x, "sha256").substr(0, 12) << "  " << s(x, "kind") << "  " << s(x, "name") << " "
          << s(x, "version") << "  " << x.value("size", 0) << " bytes\n";
    }
  } else if (c == "campaign list") {
    for (const json& x : reply) PrintCampaign(x, out);
  } else if (c.rfind("campaign ", 0) == 0) {
    PrintCampaign(reply, out);
    if (reply.contains("wave_progress")) {
      for (const json& w : reply["wave_progress"]) {
        out << "  wave " << w.value("wave", 0) << " (" << s(w, "size")
            << "): " << w.value("devices", 0) << " devices, " << w.value("succeeded", 0)
            << " succeeded, "
            << w.value("failed", 0) + w.value("rolled_back", 0) + w.value("timed_out", 0)
            << " failed\n";
      }
    }
    if (reply.contains("device_states")) {
      for (const json& d : reply["device_states"]) {
        out << "  " << s(d, "device") << "  wave " << d.value("wave", 0) << "  " << s(d, "state")
            << "  " << s(d, "version") << "  " << s(d, "reason") << "\n";
      }
    }
  } else if (c == "compliance") {
    for (const json& r : reply.value("reports", json::array())) {
      out << s(r, "hardware_model") << " " << s(r, "release") << " (released "
          << s(r, "released_at") << ", deadline " << s(r, "deadline") << "): " << s(r, "status")
          << ", " << r.value("compliant", 0) << " of " << r.value("devices", 0) << " compliant ("
          << std::fixed << std::setprecision(1) << r.value("compliant_percent", 0.0) << "%)";
      if (!r["target_reached_at"].is_null())
        out << ", target reached " << s(r, "target_reached_at");
      out << "\n";
      for (const json& d : r.value("overdue", json::array())) {
        out << "  overdue: " << s(d, "device") << " (" << s(d, "site") << ") on "
            << (s(d, "firmware").empty() ? "unknown firmware" : s(d, "firmware")) << "\n";
      }
    }
  } else if (c == "hw list") {
    for (const json& h : reply) {
      out << s(h, "name") << "  " << (h.value("certified", false) ? "certified" : "not certified")
          << "  " << s(h, "notes") << "\n";
    }
  } else if (c == "firmware list") {
    for (const json& f : reply) {
      out << s(f, "hardware_model") << "/" << s(f, "version") << "  " << s(f, "status") << "\n";
    }
  } else if (c == "bench") {
    for (const json& b : reply) {
      out << s(b, "hardware_model") << "  " << s(b, "model") << " " << s(b, "model_version")
          << "  p50 " << b.value("p50_us", 0) << " us  p99 " << b.value("p99_us", 0) << " us  ("
          << b.value("reports", 0) << " reports, " << b.value("devices", 0) << " devices)\n";
    }
  } else if (c == "hw certify") {
    out << "hardware model " << s(reply, "name") << ": "
        << (reply.value("certified", false) ? "certified" : "not certified") << "\n";
  } else {  // firmware add / certify / status
    out << s(reply, "hardware_model") << "/" << s(reply, "version") << ": " << s(reply, "status")
        << "\n";
  }
  return kExitOk;
}

}  // namespace weft::cli
