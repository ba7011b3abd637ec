#include "core/api/control_routes.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "common/time_format.h"
#include "mlops/registry/model_registry.h"
#include "sqlite/statement.h"

namespace weft::core::api {
namespace {

using control::Mode;
using ::weft::sqlite::Statement;

// Never edit a released migration; append. Times are µs since the Unix epoch (UTC).
constexpr std::array<std::string_view, 2> kMigrations = {
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
    // The approving roles come from the governance policy (ControlOptions::approver_roles), no
    // longer a fixed pair: the role CHECK goes (SQLite cannot drop a constraint: copy the table).
    R"sql(
CREATE TABLE approvals_v2 (
  edge      TEXT NOT NULL,
  loop      TEXT NOT NULL,
  mode      TEXT NOT NULL CHECK (mode IN ('supervised', 'autonomous')),
  principal TEXT NOT NULL,
  role      TEXT NOT NULL,
  at_us     INTEGER NOT NULL,
  PRIMARY KEY (edge, loop, mode, principal, role)
);
INSERT INTO approvals_v2 (edge, loop, mode, principal, role, at_us)
  SELECT edge, loop, mode, principal, role, at_us FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_v2 RENAME TO approvals;
CREATE INDEX approvals_by_time ON approvals (at_us);
)sql",
};

std::string JoinRoles(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// "an ops_manager approval and an ot_engineer approval".
std::string ApprovalsText(const std::vector<std::string>& roles) {
  std::string out;
  for (size_t i = 0; i < roles.size(); ++i) {
    const bool vowel =
        !roles[i].empty() && std::string_view("aeiou").find(roles[i][0]) != std::string_view::npos;
    out += (i == 0 ? "" : i + 1 == roles.size() ? " and " : ", ");
    out += std::string(vowel ? "an " : "a ") + roles[i] + " approval";
  }
  return out;
}

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
  {
    const auto& roles = options.approver_roles;
    const std::set<std::string> unique(roles.begin(), roles.end());
    if (unique.size() != roles.size() || unique.count(control::kRoleOpsManager) == 0 ||
        unique.count(control::kRoleOtEngineer) == 0) {
      return InvalidArgumentError(
          "control approver roles must be distinct and include ops_manager and ot_engineer "
          "(edges accept a grant only with both), got [" +
          JoinRoles(roles) + "]");
    }
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
  const auto& roles = options_.approver_roles;
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
    return InvalidArgumentError("a control approval is given as " + JoinRoles(roles) + ", not '" +
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

std::vector<std::string> ControlService::MissingRoles(
    const std::vector<ControlApproval>& current) const {
  std::vector<std::pair<std::string, std::string>> given;
  given.reserve(current.size());
  for (const ControlApproval& a : current) given.emplace_back(a.principal, a.role);
  return mlops::MatchQuorum(given, options_.approver_roles).missing;
}

Result<std::vector<ControlPending>> ControlService::Pending() {
  const int64_t since = UnixMicros(options_.clock->Now()) - options_.approval_ttl.count();
  std::vector<ControlPending> groups;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    WEFT_ASSIGN_OR_RETURN(
        Statement q,
        Statement::Prepare(db_, db_path_,
                           "SELECT edge, loop, mode, principal, role, at_us FROM approvals WHERE "
                           "at_us >= ?1 ORDER BY edge, loop, mode, at_us DESC, principal, role"));
    WEFT_RETURN_IF_ERROR(q.Bind(1, since));
    while (true) {
      WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing control approvals in progress"));
      if (!row) break;
      WEFT_ASSIGN_OR_RETURN(Mode mode, control::ParseMode(q.Text(2)));
      ControlApproval a{q.Text(0), q.Text(1), mode,
                        q.Text(3), q.Text(4), TimeFromUnixMicros(q.Int(5))};
      if (groups.empty() || groups.back().edge != a.edge || groups.back().loop != a.loop ||
          groups.back().mode != a.mode) {
        groups.push_back({a.edge, a.loop, a.mode, {}, {}});
      }
      groups.back().approvals.push_back(std::move(a));
    }
  }
  std::vector<ControlPending> out;
  for (ControlPending& p : groups) {
    p.missing_roles = MissingRoles(p.approvals);
    if (!p.missing_roles.empty()) out.push_back(std::move(p));
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
    // A distinct principal per approver role, preferring the newest approvals.
    std::vector<std::pair<std::string, std::string>> given;
    given.reserve(current.size());
    for (const ControlApproval& a : current) given.emplace_back(a.principal, a.role);
    const mlops::Quorum quorum = mlops::MatchQuorum(given, options_.approver_roles);
    if (!quorum.missing.empty()) {
      std::set<std::string> roles_given;
      for (const ControlApproval& a : current) roles_given.insert(a.role);
      std::vector<std::string> absent;
      for (const std::string& r : quorum.missing) {
        if (roles_given.count(r) == 0) absent.push_back(r);
      }
      const std::string missing =
          absent.empty()
              ? "approvals by " +
                    (options_.approver_roles.size() == 2
                         ? std::string("two")
                         : std::to_string(options_.approver_roles.size())) +
                    " different principals (one principal approved in several roles; missing "
                    "a second person for " +
                    JoinRoles(quorum.missing) + ")"
              : ApprovalsText(absent);
      const auto hours = std::chrono::duration_cast<std::chrono::hours>(options_.approval_ttl);
      return PermissionDeniedError(
          "loop '" + g.loop + "' on edge '" + g.edge + "': mode " +
          std::string(control::ModeName(mode)) + " needs current approvals (given within " +
          std::to_string(hours.count()) + " h) by " + JoinRoles(options_.approver_roles) +
          ", each by a different principal; missing: " + missing + " (POST /api/v1/control/loops/" +
          g.loop + "/approvals)");
    }
    // The grant lists the approvals that fill the roles, in the roles' order (ops_manager and
    // ot_engineer are what the edge counts; others are carried along).
    for (const auto& [role, principal] : quorum.filled) {
      for (const ControlApproval& a : current) {
        if (a.role == role && a.principal == principal) {
          g.approvals.push_back({a.principal, a.role, a.at});
          break;
        }
      }
    }
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
