#include "core/api/control_routes.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <utility>

#include "common/time_format.h"
#include "sqlite/statement.h"

namespace weft::core::api {
namespace {

using control::Mode;
using ::weft::sqlite::Statement;

// Never edit a released migration; append. Times are µs since the Unix epoch (UTC).
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE approvals (
  edge      TEXT NOT NULL,
  loop      TEXT NOT NULL,
  mode      TEXT NOT NULL CHECK (mode IN ('supervised', 'autonomous')),
  principal TEXT NOT NULL,
  role      TEXT NOT NULL CHECK (role IN ('ops_manager', 'ot_engineer')),
  at_us     INTEGER NOT NULL,
  PRIMARY KEY (edge, loop, mode, principal, role)
);
CREATE TABLE grants (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  edge          TEXT NOT NULL,
  loop          TEXT NOT NULL,
  mode          TEXT NOT NULL,
  requested_by  TEXT NOT NULL,
  issued_at_us  INTEGER NOT NULL,
  expires_at_us INTEGER NOT NULL,
  envelope      TEXT NOT NULL
);
CREATE INDEX grants_by_loop ON grants (edge, loop);
)sql",
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Status ValidateControlId(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return InvalidArgumentError(std::string(what) + " must be 1 to 128 characters, got " +
                                std::to_string(id.size()));
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':' || c == '@';
    if (!ok) {
      return InvalidArgumentError(std::string(what) + " '" + std::string(id.substr(0, 64)) +
                                  "' may contain only letters, digits and . _ - : @");
    }
  }
  return Status::Ok();
}

ControlService::ControlService(ControlOptions options, sqlite3* db, std::string db_path)
    : options_(std::move(options)), db_(db), db_path_(std::move(db_path)) {
  private_key_path_ = options_.state_dir + "/keys/control-grant.pem";
  public_key_path_ = options_.state_dir + "/keys/control-grant.pub.pem";
}

ControlService::~ControlService() {
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<ControlService>> ControlService::Open(ControlOptions options) {
  if (options.state_dir.empty() || options.clock == nullptr) {
    return InvalidArgumentError("ControlService needs a state directory and a clock");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  const std::string path = options.state_dir + "/control.db";
  WEFT_ASSIGN_OR_RETURN(sqlite3 * db,
                        sqlite::OpenDatabase(path, "control", sqlite::Durability::kFull));
  std::unique_ptr<ControlService> s(new ControlService(std::move(options), db, path));
  WEFT_RETURN_IF_ERROR(sqlite::Migrate(db, s->db_path_, "control", kMigrations));
  return s;
}

Result<ControlApproval> ControlService::Approve(std::string_view edge, std::string_view loop,
                                                Mode mode, std::string_view principal,
                                                std::string_view role) {
  WEFT_RETURN_IF_ERROR(ValidateControlId("edge", edge));
  WEFT_RETURN_IF_ERROR(ValidateControlId("loop", loop));
  if (mode == Mode::kShadow) {
    return InvalidArgumentError("shadow mode needs no approval; approve supervised or autonomous");
  }
  if (role != control::kRoleOpsManager && role != control::kRoleOtEngineer) {
    return InvalidArgumentError("a control approval is given as ops_manager or ot_engineer, not '" +
                                std::string(role.substr(0, 64)) + "'");
  }
  ControlApproval a{std::string(edge),      std::string(loop), mode,
                    std::string(principal), std::string(role), options_.clock->Now()};
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, db_path_,
                         "INSERT INTO approvals (edge, loop, mode, principal, role, at_us) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (edge, loop, mode, "
                         "principal, role) DO UPDATE SET at_us = excluded.at_us"));
  const std::string mode_name(control::ModeName(mode));
  WEFT_RETURN_IF_ERROR(q.BindAll(a.edge, a.loop, mode_name, a.principal, a.role, UnixMicros(a.at)));
  WEFT_RETURN_IF_ERROR(q.Run("recording a control approval"));
  return a;
}

Result<std::vector<ControlApproval>> ControlService::CurrentApprovals(std::string_view edge,
                                                                      std::string_view loop,
                                                                      Mode mode) {
  const int64_t since = UnixMicros(options_.clock->Now()) - options_.approval_ttl.count();
  const std::string mode_name(control::ModeName(mode));
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, db_path_,
                                           "SELECT principal, role, at_us FROM approvals WHERE "
                                           "edge = ?1 AND loop = ?2 AND mode = ?3 AND at_us >= ?4 "
                                           "ORDER BY at_us DESC, principal, role"));
  WEFT_RETURN_IF_ERROR(q.BindAll(edge, loop, std::string_view(mode_name), since));
  std::vector<ControlApproval> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading control approvals"));
    if (!row) break;
    out.push_back({std::string(edge), std::string(loop), mode, q.Text(0), q.Text(1),
                   TimeFromUnixMicros(q.Int(2))});
  }
  return out;
}

Result<std::string> ControlService::PrivateKeyLocked() {
  if (!std::filesystem::exists(private_key_path_)) {
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::path(private_key_path_).parent_path();
    std::filesystem::create_directories(dir, ec);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    Status s = control::GenerateGrantKey(private_key_path_, public_key_path_);
    // AlreadyExists: another process made it first; use that one.
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
      return s.WithContext("generating the control grant key");
    }
  }
  return ReadFile(private_key_path_);
}

Result<std::string> ControlService::PublicKeyPem() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(std::string pem, PrivateKeyLocked());
  return control::GrantPublicKeyPem(pem);
}

Result<ModeChange> ControlService::SetMode(std::string_view edge, std::string_view loop, Mode mode,
                                           std::string_view requested_by) {
  WEFT_RETURN_IF_ERROR(ValidateControlId("edge", edge));
  WEFT_RETURN_IF_ERROR(ValidateControlId("loop", loop));
  if (!options_.send_command) {
    return UnavailableError("this weft-core cannot send commands to edges (no broker connection)");
  }
  control::ModeGrant g;
  g.edge = std::string(edge);
  g.loop = std::string(loop);
  g.mode = mode;
  if (mode != Mode::kShadow) {
    WEFT_ASSIGN_OR_RETURN(std::vector<ControlApproval> current, CurrentApprovals(edge, loop, mode));
    // The newest pair of an ops_manager and an ot_engineer who are different principals.
    const ControlApproval* ops = nullptr;
    const ControlApproval* ot = nullptr;
    for (const ControlApproval& a : current) {
      if (a.role != control::kRoleOpsManager) continue;
      for (const ControlApproval& b : current) {
        if (b.role == control::kRoleOtEngineer && b.principal != a.principal) {
          ops = &a;
          ot = &b;
          break;
        }
      }
      if (ops != nullptr) break;
    }
    if (ops == nullptr) {
      bool has_ops = false, has_ot = false;
      for (const ControlApproval& a : current) {
        has_ops = has_ops || a.role == control::kRoleOpsManager;
        has_ot = has_ot || a.role == control::kRoleOtEngineer;
      }
      std::string missing;
      if (!has_ops && !has_ot) {
        missing = "an ops_manager approval and an ot_engineer approval";
      } else if (!has_ops) {
        missing = "an ops_manager approval";
      } else if (!has_ot) {
        missing = "an ot_engineer approval";
      } else {
        missing =
            "approvals by two different principals (the ops_manager and the ot_engineer "
            "approvals are by the same principal)";
      }
      const auto days = std::chrono::duration_cast<std::chrono::hours>(options_.approval_ttl);
      return PermissionDeniedError(
          "loop '" + g.loop + "' on edge '" + g.edge + "': mode " +
          std::string(control::ModeName(mode)) + " needs current approvals (given within " +
          std::to_string(days.count()) +
          " h) by an ops_manager and an ot_engineer, two different principals; missing: " +
          missing + " (POST /api/v1/control/loops/" + g.loop + "/approvals)");
    }
    g.approvals = {{ops->principal, ops->role, ops->at}, {ot->principal, ot->role, ot->at}};
  }
  g.issued_at = options_.clock->Now();
  g.expires_at = g.issued_at + options_.grant_ttl;

  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(std::string key, PrivateKeyLocked());
  WEFT_ASSIGN_OR_RETURN(std::string envelope, control::SignGrant(g, key));
  WEFT_RETURN_IF_ERROR(options_.send_command(edge, "control_grant", envelope));
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, db_path_,
                         "INSERT INTO grants (edge, loop, mode, requested_by, issued_at_us, "
                         "expires_at_us, envelope) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  const std::string mode_name(control::ModeName(mode));
  WEFT_RETURN_IF_ERROR(q.BindAll(g.edge, g.loop, mode_name, requested_by, UnixMicros(g.issued_at),
                                 UnixMicros(g.expires_at), envelope));
  WEFT_RETURN_IF_ERROR(q.Run("recording an issued control grant"));
  return ModeChange{std::move(envelope), std::move(g)};
}

Status ControlService::ApproveProposal(std::string_view edge, std::string_view loop,
                                       std::string_view proposal, std::string_view principal) {
  WEFT_RETURN_IF_ERROR(ValidateControlId("edge", edge));
  WEFT_RETURN_IF_ERROR(ValidateControlId("loop", loop));
  WEFT_RETURN_IF_ERROR(ValidateControlId("proposal", proposal));
  if (!options_.send_command) {
    return UnavailableError("this weft-core cannot send commands to edges (no broker connection)");
  }
  const nlohmann::json payload{{"loop", loop}, {"proposal", proposal}, {"principal", principal}};
  return options_.send_command(edge, "control_approve", payload.dump());
}

}  // namespace weft::core::api
