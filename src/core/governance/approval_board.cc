#include "core/governance/approval_board.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "common/strings.h"
#include "common/time_format.h"
#include "mlops/registry/model_registry.h"
#include "sqlite/statement.h"

namespace weft::core::governance {
namespace {

using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::Statement;
using ::weft::sqlite::Transaction;

// Never edit a released migration; append. Times are µs since the Unix epoch (UTC).
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE approvals (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  decision       TEXT NOT NULL,
  subject        TEXT NOT NULL,
  principal      TEXT NOT NULL,
  role           TEXT NOT NULL,
  note           TEXT NOT NULL,
  approved_at_us INTEGER NOT NULL,
  expires_at_us  INTEGER NOT NULL
);
CREATE INDEX approvals_by_subject ON approvals (decision, subject, expires_at_us);
CREATE TABLE requests (
  decision        TEXT NOT NULL,
  subject         TEXT NOT NULL,
  requested_by    TEXT NOT NULL,
  note            TEXT NOT NULL,
  requested_at_us INTEGER NOT NULL,
  fulfilled_at_us INTEGER,
  PRIMARY KEY (decision, subject)
);
)sql",
};

constexpr size_t kMaxSubject = 200;
constexpr size_t kMaxPrincipal = 128;
constexpr size_t kMaxNote = 1024;

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Status ValidateText(std::string_view what, std::string_view text, size_t max, bool may_be_empty) {
  if ((!may_be_empty && text.empty()) || text.size() > max || HasControl(text)) {
    return InvalidArgumentError(std::string(what) + " must be " + (may_be_empty ? "0" : "1") +
                                " to " + std::to_string(max) +
                                " characters without control characters");
  }
  return Status::Ok();
}

Status ValidateSubject(std::string_view subject) {
  return ValidateText("the subject of a decision", subject, kMaxSubject, false);
}

}  // namespace

std::string DescribeState(const DecisionState& state) {
  std::vector<std::string> filled;
  filled.reserve(state.filled_roles.size());
  for (const auto& [role, principal] : state.filled_roles)
    filled.push_back(role + " by " + principal);
  std::string out =
      state.approved ? "approved" : "missing approval by " + Join(state.missing_roles);
  out += " (approved so far: " + (filled.empty() ? std::string("none") : Join(filled)) + ")";
  return out;
}

Result<std::unique_ptr<ApprovalBoard>> ApprovalBoard::Open(Options options) {
  if (options.clock == nullptr) return InvalidArgumentError("approval board: no clock given");
  if (options.db_path.empty()) {
    return InvalidArgumentError("approval board: no database path given");
  }
  // FULL: an approval that was acknowledged survives a power cut.
  WEFT_ASSIGN_OR_RETURN(sqlite3 * db,
                        ::weft::sqlite::OpenDatabase(options.db_path, "governance",
                                                     ::weft::sqlite::Durability::kFull));
  std::unique_ptr<ApprovalBoard> board(new ApprovalBoard(std::move(options), db));
  WEFT_RETURN_IF_ERROR(
      ::weft::sqlite::Migrate(db, board->options_.db_path, "governance", kMigrations));
  return board;
}

ApprovalBoard::ApprovalBoard(Options options, sqlite3* db)
    : options_(std::move(options)), db_(db) {}

ApprovalBoard::~ApprovalBoard() {
  sqlite3_close_v2(db_);
}

void ApprovalBoard::AddPendingSource(std::string name, PendingSource source) {
  sources_.emplace_back(std::move(name), std::move(source));
}

Result<DecisionState> ApprovalBoard::StateLocked(const DecisionPolicy& policy,
                                                 std::string_view subject) {
  const std::string& path = options_.db_path;
  const int64_t now = UnixMicros(options_.clock->Now());
  DecisionState st;
  st.decision = policy.decision;
  st.subject = std::string(subject);
  st.required_roles = policy.roles;

  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path,
                                           "SELECT id, principal, role, note, approved_at_us, "
                                           "expires_at_us FROM approvals WHERE decision = ?1 AND "
                                           "subject = ?2 AND expires_at_us > ?3 "
                                           "ORDER BY approved_at_us DESC, id DESC"));
  WEFT_RETURN_IF_ERROR(q.BindAll(std::string_view(policy.decision), subject, now));
  std::set<std::pair<std::string, std::string>> seen;  // (principal, role): newest only
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading approvals"));
    if (!row) break;
    Approval a{
        q.Int(0),  policy.decision, std::string(subject),         q.Text(1),
        q.Text(2), q.Text(3),       TimeFromUnixMicros(q.Int(4)), TimeFromUnixMicros(q.Int(5))};
    if (!seen.insert({a.principal, a.role}).second) continue;
    st.valid_approvals.push_back(std::move(a));
  }

  // A distinct principal per required role (a bipartite matching; newest approvals first).
  std::vector<std::pair<std::string, std::string>> given;
  given.reserve(st.valid_approvals.size());
  for (const Approval& a : st.valid_approvals) given.emplace_back(a.principal, a.role);
  mlops::Quorum quorum = mlops::MatchQuorum(given, policy.roles);
  st.filled_roles = std::move(quorum.filled);
  st.missing_roles = std::move(quorum.missing);
  st.approved = st.missing_roles.empty();

  WEFT_ASSIGN_OR_RETURN(Statement r,
                        Statement::Prepare(db_, path,
                                           "SELECT requested_by, note, requested_at_us FROM "
                                           "requests WHERE decision = ?1 AND subject = ?2 AND "
                                           "fulfilled_at_us IS NULL"));
  WEFT_RETURN_IF_ERROR(r.BindAll(std::string_view(policy.decision), subject));
  WEFT_ASSIGN_OR_RETURN(bool has_request, r.Step("reading requests"));
  if (has_request) {
    st.request = DecisionRequest{policy.decision, std::string(subject), r.Text(0), r.Text(1),
                                 TimeFromUnixMicros(r.Int(2))};
  }
  return st;
}

Result<Approval> ApprovalBoard::Approve(std::string_view decision, std::string_view subject,
                                        std::string_view principal, std::string_view role,
                                        std::string_view note) {
  WEFT_ASSIGN_OR_RETURN(DecisionPolicy policy, options_.policies.Get(decision));
  WEFT_RETURN_IF_ERROR(ValidateSubject(subject));
  WEFT_RETURN_IF_ERROR(ValidateText("the approving principal", principal, kMaxPrincipal, false));
  WEFT_RETURN_IF_ERROR(ValidateText("the approval note", note, kMaxNote, true));
  if (std::find(policy.roles.begin(), policy.roles.end(), role) == policy.roles.end()) {
    return InvalidArgumentError(std::string(decision) + " is approved as " + Join(policy.roles) +
                                ", not as '" + std::string(role.substr(0, 64)) + "'");
  }
  const std::string& path = options_.db_path;
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, path));
  WEFT_ASSIGN_OR_RETURN(DecisionState before, StateLocked(policy, subject));
  for (const Approval& a : before.valid_approvals) {
    if (a.principal == principal && a.role != role) {
      return FailedPreconditionError(
          "principal '" + std::string(principal) + "' already approved " + std::string(decision) +
          " of '" + std::string(subject) + "' as " + a.role + " (valid until " +
          FormatTimestampMicros(UnixMicros(a.expires_at)) +
          "); one principal cannot fill two roles: another principal must approve as " +
          std::string(role));
    }
  }
  const TimePoint now = options_.clock->Now();
  Approval a{0,
             std::string(decision),
             std::string(subject),
             std::string(principal),
             std::string(role),
             std::string(note),
             now,
             now + policy.valid_for};
  WEFT_ASSIGN_OR_RETURN(
      Statement ins,
      Statement::Prepare(db_, path,
                         "INSERT INTO approvals (decision, subject, principal, role, note, "
                         "approved_at_us, expires_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  WEFT_RETURN_IF_ERROR(ins.BindAll(a.decision, a.subject, a.principal, a.role, a.note,
                                   UnixMicros(a.approved_at), UnixMicros(a.expires_at)));
  WEFT_RETURN_IF_ERROR(ins.Run("recording an approval"));
  a.id = sqlite3_last_insert_rowid(db_);
  // A request is fulfilled once the decision is approved (it leaves the pending list).
  WEFT_ASSIGN_OR_RETURN(DecisionState after, StateLocked(policy, subject));
  if (after.approved && after.request) {
    WEFT_ASSIGN_OR_RETURN(Statement up,
                          Statement::Prepare(db_, path,
                                             "UPDATE requests SET fulfilled_at_us = ?3 WHERE "
                                             "decision = ?1 AND subject = ?2"));
    WEFT_RETURN_IF_ERROR(up.BindAll(a.decision, a.subject, UnixMicros(now)));
    WEFT_RETURN_IF_ERROR(up.Run("closing a fulfilled request"));
  }
  WEFT_RETURN_IF_ERROR(txn.Commit());
  return a;
}

Status ApprovalBoard::Check(std::string_view decision, std::string_view subject) {
  WEFT_ASSIGN_OR_RETURN(DecisionState st, State(decision, subject));
  if (st.approved) return Status::Ok();
  const DecisionPolicy* policy = options_.policies.Find(decision);
  return FailedPreconditionError(
      std::string(decision) + " of '" + std::string(subject) +
      "' is not approved: " + DescribeState(st) + "; it needs approvals by " +
      Join(st.required_roles) + ", each by a different principal, given within " +
      FormatDuration(policy != nullptr ? policy->valid_for : kDefaultValidFor) +
      " (POST /api/v1/governance/approvals)");
}

Result<DecisionState> ApprovalBoard::State(std::string_view decision, std::string_view subject) {
  WEFT_ASSIGN_OR_RETURN(DecisionPolicy policy, options_.policies.Get(decision));
  WEFT_RETURN_IF_ERROR(ValidateSubject(subject));
  std::lock_guard<std::mutex> lock(mu_);
  return StateLocked(policy, subject);
}

Status ApprovalBoard::Request(std::string_view decision, std::string_view subject,
                              std::string_view by, std::string_view note) {
  WEFT_RETURN_IF_ERROR(options_.policies.Get(decision).status());
  WEFT_RETURN_IF_ERROR(ValidateSubject(subject));
  WEFT_RETURN_IF_ERROR(ValidateText("the requesting principal", by, kMaxPrincipal, false));
  WEFT_RETURN_IF_ERROR(ValidateText("the request note", note, kMaxNote, true));
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, options_.db_path,
                         "INSERT INTO requests (decision, subject, requested_by, note, "
                         "requested_at_us, fulfilled_at_us) VALUES (?1, ?2, ?3, ?4, ?5, NULL) "
                         "ON CONFLICT (decision, subject) DO UPDATE SET requested_by = "
                         "excluded.requested_by, note = excluded.note, requested_at_us = "
                         "excluded.requested_at_us, fulfilled_at_us = NULL"));
  WEFT_RETURN_IF_ERROR(q.BindAll(decision, subject, by, note, UnixMicros(options_.clock->Now())));
  return q.Run("recording a decision request");
}

Result<std::vector<DecisionState>> ApprovalBoard::Pending() {
  std::vector<DecisionState> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = UnixMicros(options_.clock->Now());
    WEFT_ASSIGN_OR_RETURN(
        Statement q,
        Statement::Prepare(db_, options_.db_path,
                           "SELECT decision, subject FROM approvals WHERE expires_at_us > ?1 "
                           "UNION SELECT decision, subject FROM requests WHERE fulfilled_at_us "
                           "IS NULL ORDER BY 1, 2"));
    WEFT_RETURN_IF_ERROR(q.Bind(1, now));
    std::vector<std::pair<std::string, std::string>> keys;
    while (true) {
      WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing pending decisions"));
      if (!row) break;
      keys.emplace_back(q.Text(0), q.Text(1));
    }
    for (const auto& [decision, subject] : keys) {
      const DecisionPolicy* policy = options_.policies.Find(decision);
      if (policy == nullptr) continue;  // a decision a later policy file dropped
      WEFT_ASSIGN_OR_RETURN(DecisionState st, StateLocked(*policy, subject));
      if (!st.approved) out.push_back(std::move(st));
    }
  }
  for (const auto& [name, source] : sources_) {
    Result<std::vector<DecisionState>> more = source();
    if (!more.ok()) return more.status().WithContext("pending approvals from " + name);
    for (DecisionState& st : *more) {
      st.source = name;
      out.push_back(std::move(st));
    }
  }
  return out;
}

Result<std::vector<Approval>> ApprovalBoard::Approvals(std::string_view decision,
                                                       std::string_view subject, size_t limit) {
  if (!decision.empty()) WEFT_RETURN_IF_ERROR(options_.policies.Get(decision).status());
  if (!subject.empty()) WEFT_RETURN_IF_ERROR(ValidateSubject(subject));
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, options_.db_path,
                         "SELECT id, decision, subject, principal, role, note, approved_at_us, "
                         "expires_at_us FROM approvals WHERE (?1 = '' OR decision = ?1) AND "
                         "(?2 = '' OR subject = ?2) ORDER BY approved_at_us DESC, id DESC "
                         "LIMIT ?3"));
  WEFT_RETURN_IF_ERROR(q.BindAll(decision, subject, static_cast<int64_t>(limit)));
  std::vector<Approval> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading the approval history"));
    if (!row) break;
    out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5),
                   TimeFromUnixMicros(q.Int(6)), TimeFromUnixMicros(q.Int(7))});
  }
  return out;
}

}  // namespace weft::core::governance
