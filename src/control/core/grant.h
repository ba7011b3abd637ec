// Mode grants: the core's signed permission for one loop of one edge to leave shadow mode.
// Leaving shadow needs approvals by an ops_manager and an ot_engineer (two different
// principals); the core checks them, signs a grant with its Ed25519 key, and the edge verifies
// it with the core's public key before it writes anything.
//
//   ModeGrant g{.edge = "edge-lyon", .loop = "lyon-hz-01-temp", .mode = Mode::kAutonomous,
//               .approvals = {{"olga", "ops_manager", t0}, {"otto", "ot_engineer", t1}},
//               .issued_at = now, .expires_at = now + std::chrono::hours(24)};
//   WEFT_ASSIGN_OR_RETURN(std::string envelope, SignGrant(g, private_pem));   // core
//   Result<ModeGrant> ok = VerifyGrant(envelope, public_pem, "edge-lyon",
//                                      "lyon-hz-01-temp", clock.Now());      // edge
//
// Wire format (the envelope):
//   {"grant": "<grant JSON as a string: exactly these bytes are signed>",
//    "signature": "<base64 Ed25519 signature of those bytes>"}
//   grant JSON: {"weft_control_grant":1,"edge":"edge-lyon","loop":"lyon-hz-01-temp",
//     "mode":"autonomous","approvals":[{"principal":"olga","role":"ops_manager",
//     "at":"2026-11-26T10:00:00.000000Z"},{"principal":"otto","role":"ot_engineer","at":"..."}],
//     "issued_at":"...","expires_at":"..."}
// Times are FormatTimestampMicros (common/time_format.h); any ISO-8601 form is accepted.
//
// Keys are PEM files: the private key PKCS#8 ("BEGIN PRIVATE KEY"), the public key
// SubjectPublicKeyInfo ("BEGIN PUBLIC KEY").
//
// Thread-safety: pure functions; safe from any thread.
#ifndef WEFT_CONTROL_CORE_GRANT_H_
#define WEFT_CONTROL_CORE_GRANT_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/core/envelope.h"

namespace weft::control {

inline constexpr char kRoleOpsManager[] = "ops_manager";
inline constexpr char kRoleOtEngineer[] = "ot_engineer";

struct GrantApproval {
  std::string principal;
  std::string role;  //!< kRoleOpsManager, kRoleOtEngineer (others are kept but not counted)
  TimePoint at;
};

struct ModeGrant {
  std::string edge;
  std::string loop;
  Mode mode = Mode::kShadow;
  std::vector<GrantApproval> approvals;
  TimePoint issued_at;
  TimePoint expires_at;
  //! Set by VerifyGrant (and SignGrant's output): the signed bytes and their signature.
  std::string grant_json;
  std::string signature_b64;
};

//! The grant JSON of `g` (the bytes that are signed).
std::string GrantJson(const ModeGrant& g);

//! Signs `g` with an Ed25519 private key (PEM) -> the envelope JSON. InvalidArgument when the
//! key is not an Ed25519 private key or `g` is incomplete (empty edge/loop,
//! expires_at <= issued_at); FailedPrecondition when a non-shadow mode lacks the two approvals
//! VerifyGrant requires (the signer refuses what the edge would refuse).
Result<std::string> SignGrant(const ModeGrant& g, const std::string& private_key_pem);

//! Signs arbitrary grant bytes without any check -> the envelope JSON. For tests and tools.
Result<std::string> SignGrantJson(std::string_view grant_json, const std::string& private_key_pem);

//! Verifies an envelope for (edge, loop) at `now`. PermissionDenied, naming why, when: the
//! signature does not verify with `public_key_pem`, the grant is for another edge or loop, it
//! is expired (now >= expires_at) or not yet valid (now < issued_at - 5 min), or a non-shadow
//! mode lacks an ops_manager and an ot_engineer approval by two distinct principals.
//! InvalidArgument when the envelope or the grant JSON is malformed or the key is not an
//! Ed25519 public key.
Result<ModeGrant> VerifyGrant(std::string_view envelope_json, const std::string& public_key_pem,
                              std::string_view edge, std::string_view loop, TimePoint now);

//! Creates a new Ed25519 key pair: the private key at `private_pem_path` (mode 0600, created
//! exclusively: AlreadyExists when the file exists), the public key at `public_pem_path`.
Status GenerateGrantKey(const std::string& private_pem_path, const std::string& public_pem_path);

//! The public key PEM of a private key PEM (for serving GET /api/v1/control/grant-key).
Result<std::string> GrantPublicKeyPem(const std::string& private_key_pem);

}  // namespace weft::control

#endif  // WEFT_CONTROL_CORE_GRANT_H_
