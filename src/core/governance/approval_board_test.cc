#include "core/governance/approval_board.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "testing/test_env.h"

namespace weft::core::governance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr std::string_view kFw = "gw-200/1.4.0";

class BoardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testing::TempDir> dir = testing::TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_.emplace(std::move(*dir));
    board_ = OpenBoard(Policies::Defaults());
    ASSERT_NE(board_, nullptr);
  }
  std::unique_ptr<ApprovalBoard> OpenBoard(Policies policies) {
    Result<std::unique_ptr<ApprovalBoard>> b =
        ApprovalBoard::Open({.db_path = dir_->path() + "/governance.db",
                             .policies = std::move(policies),
                             .clock = &clock_});
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : nullptr;
  }

  ManualClock clock_{TimeFromUnixMicros(1'800'000'000'000'000)};
  std::optional<testing::TempDir> dir_;
  std::unique_ptr<ApprovalBoard> board_;
};

TEST_F(BoardTest, CheckNeedsEveryRoleByDistinctPrincipals) {
  Status s = board_->Check(kFirmwareRelease, kFw);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("missing approval by security_lead, ot_engineer"));

  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "olga", "ot_engineer", "tested").ok());
  s = board_->Check(kFirmwareRelease, kFw);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("missing approval by security_lead"));
  EXPECT_THAT(s.message(), HasSubstr("ot_engineer by olga"));

  // olga cannot fill the second role.
  Result<Approval> twice = board_->Approve(kFirmwareRelease, kFw, "olga", "security_lead", "");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.status().message(), HasSubstr("cannot fill two roles"));
  EXPECT_FALSE(board_->Check(kFirmwareRelease, kFw).ok());

  Result<Approval> sam = board_->Approve(kFirmwareRelease, kFw, "sam", "security_lead", "CVE ok");
  ASSERT_TRUE(sam.ok()) << sam.status().ToString();
  EXPECT_EQ(sam->expires_at - sam->approved_at, std::chrono::hours(24 * 7));
  EXPECT_TRUE(board_->Check(kFirmwareRelease, kFw).ok());
  // Another subject or decision is unaffected.
  EXPECT_FALSE(board_->Check(kFirmwareRelease, "gw-200/1.4.1").ok());
  EXPECT_FALSE(board_->Check(kModelPromotion, kFw).ok());
}

TEST_F(BoardTest, RefusesUnknownDecisionRoleAndBadSubject) {
  EXPECT_EQ(board_->Approve("firmware", kFw, "a", "ot_engineer", "").status().code(),
            StatusCode::kInvalidArgument);
  Result<Approval> role = board_->Approve(kFirmwareRelease, kFw, "a", "data_scientist", "");
  EXPECT_EQ(role.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(role.status().message(), HasSubstr("security_lead, ot_engineer"));
  EXPECT_EQ(board_->Approve(kFirmwareRelease, "", "a", "ot_engineer", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(board_->Approve(kFirmwareRelease, "a\nb", "a", "ot_engineer", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(board_->Approve(kFirmwareRelease, kFw, "", "ot_engineer", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(board_->Check("nope", kFw).code(), StatusCode::kInvalidArgument);
}

TEST_F(BoardTest, ApprovalsExpire) {
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "olga", "ot_engineer", "").ok());
  clock_.Advance(std::chrono::hours(24 * 6));
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "sam", "security_lead", "").ok());
  EXPECT_TRUE(board_->Check(kFirmwareRelease, kFw).ok());
  clock_.Advance(std::chrono::hours(24) + std::chrono::seconds(1));  // olga's is 7 d + 1 s old
  Status s = board_->Check(kFirmwareRelease, kFw);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("missing approval by ot_engineer"));
  // Once expired, olga may approve in the other role... but sam holds it; renewing her own works.
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "olga", "ot_engineer", "renewed").ok());
  EXPECT_TRUE(board_->Check(kFirmwareRelease, kFw).ok());
  // The history keeps every record, the expired one too.
  Result<std::vector<Approval>> all = board_->Approvals(kFirmwareRelease, kFw);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].note, "renewed");
}

TEST_F(BoardTest, PolicyFromFileChangesTheRequiredRoles) {
  Result<Policies> p = ParsePolicies(
      "firmware_release:\n  roles: [security_lead, ot_engineer, admin]\n  valid_for: 1h\n", "t");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  board_.reset();
  board_ = OpenBoard(*p);
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "olga", "ot_engineer", "").ok());
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "sam", "security_lead", "").ok());
  Status s = board_->Check(kFirmwareRelease, kFw);
  EXPECT_THAT(s.message(), HasSubstr("missing approval by admin"));
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "root", "admin", "").ok());
  EXPECT_TRUE(board_->Check(kFirmwareRelease, kFw).ok());
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_FALSE(board_->Check(kFirmwareRelease, kFw).ok());
}

TEST_F(BoardTest, MatchingMovesAPrincipalToFreeARole) {
  // Two roles filled only by a distinct-principal assignment: ann may fill ot_engineer (her
  // renewed approval after her security_lead one expired) ... build it with a 3-role policy
  // where the greedy first choice would block: roles A=security_lead, B=ot_engineer, C=admin.
  Result<Policies> p =
      ParsePolicies("firmware_release:\n  roles: [security_lead, ot_engineer, admin]\n", "t");
  ASSERT_TRUE(p.ok());
  board_.reset();
  board_ = OpenBoard(*p);
  // bob approves as ot_engineer, then carl as ot_engineer too, then bob's admin is impossible
  // (one role per principal), so: carl ot_engineer, bob ot_engineer, dan security_lead, eve admin.
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "bob", "ot_engineer", "").ok());
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "carl", "ot_engineer", "").ok());
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "dan", "security_lead", "").ok());
  Result<DecisionState> st = board_->State(kFirmwareRelease, kFw);
  ASSERT_TRUE(st.ok());
  EXPECT_THAT(st->missing_roles, ElementsAre("admin"));
  EXPECT_EQ(st->valid_approvals.size(), 3u);
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "eve", "admin", "").ok());
  st = board_->State(kFirmwareRelease, kFw);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->approved);
  EXPECT_THAT(st->filled_roles, ElementsAre(Pair("security_lead", "dan"),
                                            Pair("ot_engineer", "carl"), Pair("admin", "eve")));
}

TEST_F(BoardTest, PendingListsPartialAndRequestedUntilApproved) {
  ASSERT_TRUE(board_->Request(kModelPromotion, "bearing-wear/3", "ana", "better recall").ok());
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "olga", "ot_engineer", "").ok());
  Result<std::vector<DecisionState>> pending = board_->Pending();
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].decision, kFirmwareRelease);
  EXPECT_THAT((*pending)[0].missing_roles, ElementsAre("security_lead"));
  EXPECT_FALSE((*pending)[0].request.has_value());
  EXPECT_EQ((*pending)[1].decision, kModelPromotion);
  ASSERT_TRUE((*pending)[1].request.has_value());
  EXPECT_EQ((*pending)[1].request->requested_by, "ana");
  EXPECT_EQ((*pending)[1].source, "board");

  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "sam", "security_lead", "").ok());
  ASSERT_TRUE(board_->Approve(kModelPromotion, "bearing-wear/3", "ana", "data_scientist", "").ok());
  ASSERT_TRUE(board_->Approve(kModelPromotion, "bearing-wear/3", "otto", "ot_engineer", "").ok());
  pending = board_->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(*pending, IsEmpty());
  // The fulfilled request does not come back when the approvals expire.
  clock_.Advance(std::chrono::hours(24 * 8));
  pending = board_->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(*pending, IsEmpty());
}

TEST_F(BoardTest, PendingSourcesAreAppendedAndTheirErrorsNamed) {
  board_->AddPendingSource("model_registry", []() -> Result<std::vector<DecisionState>> {
    DecisionState st;
    st.decision = std::string(kModelPromotion);
    st.subject = "pump-cavitation/2";
    st.missing_roles = {"ot_engineer"};
    return std::vector<DecisionState>{st};
  });
  Result<std::vector<DecisionState>> pending = board_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].source, "model_registry");
  EXPECT_EQ((*pending)[0].subject, "pump-cavitation/2");

  board_->AddPendingSource("control", []() -> Result<std::vector<DecisionState>> {
    return UnavailableError("control.db locked");
  });
  pending = board_->Pending();
  ASSERT_FALSE(pending.ok());
  EXPECT_THAT(pending.status().message(), HasSubstr("pending approvals from control"));
}

TEST_F(BoardTest, ApprovalsSurviveReopen) {
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "olga", "ot_engineer", "").ok());
  ASSERT_TRUE(board_->Approve(kFirmwareRelease, kFw, "sam", "security_lead", "").ok());
  board_.reset();
  board_ = OpenBoard(Policies::Defaults());
  EXPECT_TRUE(board_->Check(kFirmwareRelease, kFw).ok());
}

TEST_F(BoardTest, ConcurrentApprovalsByOnePrincipalFillOneRole) {
  // Two threads race to have one principal approve in both roles: at most one role wins.
  std::vector<Status> results(2);
  std::thread a([&] {
    results[0] = board_->Approve(kFirmwareRelease, kFw, "mal", "ot_engineer", "").status();
  });
  std::thread b([&] {
    results[1] = board_->Approve(kFirmwareRelease, kFw, "mal", "security_lead", "").status();
  });
  a.join();
  b.join();
  EXPECT_NE(results[0].ok(), results[1].ok());
  EXPECT_FALSE(board_->Check(kFirmwareRelease, kFw).ok());
}

}  // namespace
}  // namespace weft::core::governance
