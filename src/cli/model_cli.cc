#include "cli/model_cli.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "common/time_format.h"
#include "mlops/registry/model_registry.h"

namespace weft::cli {
namespace {

using json = nlohmann::json;

std::string Iso(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}

std::string Approvals(const mlops::ModelVersion& v) {
  std::string out;
  for (const mlops::Approval& a : v.approvals) {
    out += (out.empty() ? "" : ", ") + a.principal + " (" + a.role + ")";
  }
  return out.empty() ? "-" : out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

// ---------------------------------------------------------------------------------------------
// Local: list, show, verify

int RunLocal(const ModelArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  auto fail = [&](const Status& s, int code) {
    err << "weft model " << a.command << ": " << s.message() << "\n";
    return code;
  };
  const std::string state = DemoPathOr(a.state, "core-state");
  if (!std::filesystem::exists(state + "/models.db")) {
    return fail(NotFoundError(state + "/models.db does not exist (is --state weft-core's state "
                                      "directory?)"),
                kExitInvalidInput);
  }
  auto reg = mlops::ModelRegistry::Open(state, &clock);
  if (!reg.ok()) return fail(reg.status(), kExitInvalidInput);
  mlops::ModelRegistry& r = **reg;

  if (a.command == "list") {
    auto models = r.List();
    if (!models.ok()) return fail(models.status(), kExitInvalidInput);
    if (a.json) {
      json j = json::array();
      for (const mlops::ModelSummary& m : *models) {
        j.push_back({{"name", m.name},
                     {"created_at", Iso(m.created_at)},
                     {"versions", m.versions},
                     {"latest_version", m.latest_version},
                     {"aliases", m.aliases}});
      }
      out << json{{"models", j}}.dump(2) << "\n";
      return kExitOk;
    }
    out << std::left << std::setw(32) << "NAME" << std::setw(10) << "VERSIONS" << std::setw(8)
        << "LATEST"
        << "ALIASES\n";
    for (const mlops::ModelSummary& m : *models) {
      std::string aliases;
      for (const auto& [alias, v] : m.aliases) {
        aliases += (aliases.empty() ? "" : ",") + alias + "=" + v;
      }
      out << std::left << std::setw(32) << m.name << std::setw(10) << m.versions << std::setw(8)
          << m.latest_version << (aliases.empty() ? "-" : aliases) << "\n";
    }
    return kExitOk;
  }

  if (a.command == "show" && a.version.empty()) {
    auto versions = r.Versions(a.name);
    if (!versions.ok()) return fail(versions.status(), kExitInvalidInput);
    auto aliases = r.Aliases(a.name);
    if (!aliases.ok()) return fail(aliases.status(), kExitInvalidInput);
    if (a.json) {
      json vs = json::array();
      for (const mlops::ModelVersion& v : *versions) vs.push_back(mlops::ToJson(v, false));
      out << json{{"name", a.name}, {"aliases", *aliases}, {"versions", vs}}.dump(2) << "\n";
      return kExitOk;
    }
    out << std::left << std::setw(9) << "VERSION" << std::setw(22) << "CREATED" << std::setw(16)
        << "BY" << std::setw(14) << "SHA256" << std::setw(11) << "VALIDATED" << std::setw(22)
        << "ALIASES"
        << "APPROVALS\n";
    for (const mlops::ModelVersion& v : *versions) {
      out << std::left << std::setw(9) << v.version << std::setw(22)
          << Iso(v.created_at).substr(0, 20) << std::setw(16) << v.created_by << std::setw(14)
          << v.artifact_sha256.substr(0, 12) << std::setw(11)
          << (v.validation_passed ? "yes" : "NO") << std::setw(22) << Join(v.aliases)
          << Approvals(v) << "\n";
    }
    return kExitOk;
  }

  if (a.command == "show") {
    auto v = r.Get(a.name, a.version);
    if (!v.ok()) return fail(v.status(), kExitInvalidInput);
    if (a.json) {
      out << mlops::ToJson(*v, true).dump(2) << "\n";
      return kExitOk;
    }
    out << "model:       " << v->name << " version " << v->version << "\n"
        << "created:     " << Iso(v->created_at) << " by " << v->created_by << "\n"
        << "artifact:    sha256 " << v->artifact_sha256 << ", " << v->artifact_size << " bytes, "
        << v->format << "\n"
        << "validation:  " << (v->validation_passed ? "passed" : "FAILED") << "\n"
        << "aliases:     " << Join(v->aliases) << "\n"
        << "approvals:   " << Approvals(*v) << "\n"
        << "card:        " << mlops::StoredJson(v->card_json).dump() << "\n"
        << "lineage:     " << mlops::StoredJson(v->lineage_json).dump() << "\n"
        << "metrics:     " << mlops::StoredJson(v->metrics_json).dump() << "\n"
        << "report:      " << mlops::StoredJson(v->validation_json).dump() << "\n";
    return kExitOk;
  }

  // verify
  auto v = r.Get(a.name, a.version);
  if (!v.ok()) return fail(v.status(), kExitInvalidInput);
  Status s = r.Verify(a.name, a.version);
  if (!s.ok()) return fail(s, kExitInvalidInput);
  out << "ok: model " << v->name << " version " << v->version << ": artifact sha256 "
      << v->artifact_sha256 << " (" << v->artifact_size << " bytes) matches its Ed25519 "
      << "signature\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Through the API: approve, promote, rollback

int RunRemote(const ModelArgs& a, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message, int code) {
    err << "weft model " << a.command << ": " << message << "\n";
    return code;
  };
  std::string path = "/api/v1/models/" + PathSegment(a.name);
  json body = json::object();
  if (a.command == "approve") {
    path += "/versions/" + PathSegment(a.version) + "/approve";
    if (!a.role.empty()) body["role"] = a.role;
    if (!a.comment.empty()) body["comment"] = a.comment;
  } else if (a.command == "promote") {
    path += "/aliases/" + PathSegment(a.alias);
    body["version"] = a.version;
  } else {
    path += "/aliases/" + PathSegment(a.alias) + "/rollback";
  }

  Result<ApiAnswer> res = CallApiOk({.api = a.api, .ca = a.ca, .insecure = a.insecure, .token = {}},
                                    "POST", path, body.dump(), err);
  if (!res.ok()) return fail(res.status().message(), ApiExitCode(res.status()));
  Result<std::optional<json>> answer = ApiObjectReply(*res, a.json, out);
  if (!answer.ok()) return fail(answer.status().message(), kExitInvalidInput);
  if (!answer->has_value()) return kExitOk;
  const json& reply = **answer;
  if (a.command == "approve") {
    std::string approvals;
    if (reply.contains("approvals") && reply["approvals"].is_array()) {
      for (const json& ap : reply["approvals"]) {
        approvals += (approvals.empty() ? "" : ", ") + ap.value("principal", std::string()) + " (" +
                     ap.value("role", std::string()) + ")";
      }
    }
    out << "approved " << a.name << " version " << a.version << "; approvals: " << approvals
        << "\n";
  } else {
    const json prev = reply.value("previous", json(nullptr));
    out << a.name << ": " << reply.value("alias", a.alias) << " -> version "
        << reply.value("version", std::string()) << " (was "
        << (prev.is_string() ? prev.get<std::string>() : std::string("unset")) << ")"
        << (a.command == "rollback" ? ", rolled back" : "") << "\n";
  }
  return kExitOk;
}

void AddStateOptions(CLI::App* cmd, ModelArgs* a) {
  cmd->add_option("--state", a->state,
                  "weft-core's state directory (default: $TMPDIR/weft-demo/core-state)");
  cmd->add_flag("--json", a->json, "print JSON");
}

}  // namespace

CLI::App* AddModelCommands(CLI::App& app, ModelArgs* a) {
  CLI::App* cmd = app.add_subcommand("model", "The model registry: versions, approvals, aliases");
  cmd->require_subcommand(1);
  auto named = [&](const char* name, const char* help) {
    CLI::App* sub = cmd->add_subcommand(name, help);
    sub->parse_complete_callback([a, name] { a->command = name; });
    return sub;
  };
  CLI::App* list = named("list", "Models with their version counts and aliases");
  AddStateOptions(list, a);
  CLI::App* show = named("show", "A model's versions, or one version with its lineage");
  show->add_option("name", a->name, "model name")->required();
  show->add_option("version", a->version, "version (1, 2, ...)");
  AddStateOptions(show, a);
  CLI::App* verify = named("verify", "Re-hash a version's artifact and check its signature");
  verify->add_option("name", a->name, "model name")->required();
  verify->add_option("version", a->version, "version")->required();
  verify->add_option("--state", a->state,
                     "weft-core's state directory (default: $TMPDIR/weft-demo/core-state)");
  CLI::App* approve = named("approve", "Approve a version (through the API)");
  approve->add_option("name", a->name, "model name")->required();
  approve->add_option("version", a->version, "version")->required();
  approve->add_option("--role", a->role,
                      "approving role, e.g. ot_engineer (needed if you hold several)");
  approve->add_option("--comment", a->comment, "why");
  AddApiOptions(approve, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* promote = named("promote", "Point an alias at a version (through the API)");
  promote->add_option("name", a->name, "model name")->required();
  promote->add_option("version", a->version, "version")->required();
  promote->add_option("alias", a->alias, "alias, e.g. staging or production")->required();
  AddApiOptions(promote, &a->api, &a->ca, &a->insecure, &a->json);
  CLI::App* rollback =
      named("rollback", "Return an alias to its previous version (through the API)");
  rollback->add_option("name", a->name, "model name")->required();
  rollback->add_option("alias", a->alias, "alias")->required();
  AddApiOptions(rollback, &a->api, &a->ca, &a->insecure, &a->json);
  return cmd;
}

int RunModel(const ModelArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  if (a.command == "list" || a.command == "show" || a.command == "verify") {
    return RunLocal(a, out, err, clock);
  }
  if (a.command == "approve" || a.command == "promote" || a.command == "rollback") {
    return RunRemote(a, out, err);
  }
  err << "weft model: give a subcommand: list, show, verify, approve, promote, rollback\n";
  return kExitUsage;
}

}  // namespace weft::cli
