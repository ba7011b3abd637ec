#include "control/core/grant.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace weft::control {

namespace {

using Json = nlohmann::ordered_json;
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// A grant may be issued this much "in the future" of the edge's clock (clock skew).
constexpr auto kClockSkew = std::chrono::minutes(5);

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

// Strict base64 (with padding); nullopt when `text` is not.
std::optional<std::string> Unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return std::nullopt;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
  if (len < 0) return std::nullopt;
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

Result<PKey> ReadKey(const std::string& pem, bool is_private) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  EVP_PKEY* raw = nullptr;
  if (bio) {
    raw = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                     : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  }
  PKey key(raw, &EVP_PKEY_free);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    return InvalidArgumentError(is_private
                                    ? "the grant-signing key is not an Ed25519 private key (PEM)"
                                    : "the grant key is not an Ed25519 public key (PEM)");
  }
  return key;
}

Result<std::string> PemOf(EVP_PKEY* pkey, bool is_private) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  const bool ok = bio && (is_private ? PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr,
                                                                0, nullptr, nullptr) == 1
                                     : PEM_write_bio_PUBKEY(bio.get(), pkey) == 1);
  if (!ok) return InternalError("OpenSSL cannot encode the grant key");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Writes `bytes` to a new file (exclusive when `exclusive`) with `mode`, fsynced.
Status WriteNewFile(const std::string& path, std::string_view bytes, mode_t mode, bool exclusive) {
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError("the key file " + path + " already exists");
    return UnavailableError(Errno("cannot create", path));
  }
  Status s = ::fchmod(fd, mode) == 0 ? Status::Ok() : UnavailableError(Errno("cannot chmod", path));
  size_t done = 0;
  while (s.ok() && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      s = UnavailableError(Errno("cannot write", path));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (s.ok() && ::fsync(fd) != 0) s = UnavailableError(Errno("cannot fsync", path));
  ::close(fd);
  return s;
}

// Empty when the approvals allow `mode`; else why not.
std::string MissingApprovals(Mode mode, const std::vector<GrantApproval>& approvals) {
  if (mode == Mode::kShadow) return "";
  bool ops = false;
  bool ot = false;
  for (const GrantApproval& a : approvals) {
    if (a.principal.empty()) continue;
    if (a.role == kRoleOpsManager) ops = true;
    if (a.role == kRoleOtEngineer) ot = true;
  }
  const std::string m(ModeName(mode));
  if (!ops && !ot) {
    return "mode " + m +
           " needs approvals by an ops_manager and an ot_engineer; the grant has "
           "neither";
  }
  if (!ops) return "mode " + m + " needs an ops_manager approval; the grant has none";
  if (!ot) return "mode " + m + " needs an ot_engineer approval; the grant has none";
  std::string same;
  for (const GrantApproval& a : approvals) {
    if (a.role != kRoleOpsManager || a.principal.empty()) continue;
    same = a.principal;
    for (const GrantApproval& b : approvals) {
      if (b.role == kRoleOtEngineer && !b.principal.empty() && b.principal != a.principal) {
        return "";
      }
    }
  }
  return "mode " + m +
         " needs an ops_manager and an ot_engineer approval by two different "
         "principals; both are by '" +
         same + "'";
}

Result<TimePoint> TimeField(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return InvalidArgumentError(where + ": missing or non-text \"" + key + "\"");
  }
  Result<int64_t> us = ParseTimestampMicros(it->get_ref<const std::string&>());
  if (!us.ok()) {
    return InvalidArgumentError(where + ": \"" + key + "\": " + us.status().message());
  }
  return TimeFromUnixMicros(*us);
}

Result<std::string> StringField(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return InvalidArgumentError(where + ": missing or non-text \"" + key + "\"");
  }
  return it->get<std::string>();
}

Result<ModeGrant> ParseGrantJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("the signed grant is not a JSON object");
  }
  auto version = j.find("weft_control_grant");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
    return InvalidArgumentError("the signed grant is not a weft_control_grant version 1");
  }
  ModeGrant g;
  const std::string where = "grant";
  WEFT_ASSIGN_OR_RETURN(g.edge, StringField(j, "edge", where));
  WEFT_ASSIGN_OR_RETURN(g.loop, StringField(j, "loop", where));
  WEFT_ASSIGN_OR_RETURN(std::string mode, StringField(j, "mode", where));
  Result<Mode> m = ParseMode(mode);
  if (!m.ok()) return InvalidArgumentError("grant: " + m.status().message());
  g.mode = *m;
  auto approvals = j.find("approvals");
  if (approvals == j.end() || !approvals->is_array()) {
    return InvalidArgumentError("grant: missing or non-list \"approvals\"");
  }
  for (size_t i = 0; i < approvals->size(); ++i) {
    const Json& a = (*approvals)[i];
    const std::string at = "grant: approvals[" + std::to_string(i) + "]";
    if (!a.is_object()) return InvalidArgumentError(at + " is not an object");
    GrantApproval ga;
    WEFT_ASSIGN_OR_RETURN(ga.principal, StringField(a, "principal", at));
    WEFT_ASSIGN_OR_RETURN(ga.role, StringField(a, "role", at));
    WEFT_ASSIGN_OR_RETURN(ga.at, TimeField(a, "at", at));
    g.approvals.push_back(std::move(ga));
  }
  WEFT_ASSIGN_OR_RETURN(g.issued_at, TimeField(j, "issued_at", where));
  WEFT_ASSIGN_OR_RETURN(g.expires_at, TimeField(j, "expires_at", where));
  return g;
}

}  // namespace

std::string GrantJson(const ModeGrant& g) {
  Json approvals = Json::array();
  for (const GrantApproval& a : g.approvals) {
    approvals.push_back(Json{{"principal", a.principal},
                             {"role", a.role},
                             {"at", FormatTimestampMicros(UnixMicros(a.at))}});
  }
  Json j{{"weft_control_grant", 1},
         {"edge", g.edge},
         {"loop", g.loop},
         {"mode", std::string(ModeName(g.mode))},
         {"approvals", std::move(approvals)},
         {"issued_at", FormatTimestampMicros(UnixMicros(g.issued_at))},
         {"expires_at", FormatTimestampMicros(UnixMicros(g.expires_at))}};
  // Replace invalid UTF-8 rather than throw: names come from the core's principals.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> SignGrantJson(std::string_view grant_json, const std::string& private_key_pem) {
  WEFT_ASSIGN_OR_RETURN(PKey key, ReadKey(private_key_pem, true));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char sig[64];
  size_t sig_len = sizeof(sig);
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &sig_len,
                     reinterpret_cast<const unsigned char*>(grant_json.data()),
                     grant_json.size()) != 1) {
    return InternalError("OpenSSL cannot sign the grant");
  }
  Json envelope{{"grant", std::string(grant_json)}, {"signature", Base64(sig, sig_len)}};
  return envelope.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> SignGrant(const ModeGrant& g, const std::string& private_key_pem) {
  if (g.edge.empty() || g.loop.empty()) {
    return InvalidArgumentError("a grant names its edge and loop");
  }
  if (g.expires_at <= g.issued_at) {
    return InvalidArgumentError("a grant expires after it is issued (expires_at " +
                                FormatTimestampMicros(UnixMicros(g.expires_at)) + " <= issued_at " +
                                FormatTimestampMicros(UnixMicros(g.issued_at)) + ")");
  }
  if (std::string missing = MissingApprovals(g.mode, g.approvals); !missing.empty()) {
    return FailedPreconditionError("cannot sign the grant for loop " + g.loop + ": " + missing);
  }
  return SignGrantJson(GrantJson(g), private_key_pem);
}

Result<ModeGrant> VerifyGrant(std::string_view envelope_json, const std::string& public_key_pem,
                              std::string_view edge, std::string_view loop, TimePoint now) {
  Json env = Json::parse(envelope_json, nullptr, /*allow_exceptions=*/false);
  if (env.is_discarded() || !env.is_object()) {
    return InvalidArgumentError(
        "the grant is not a JSON object {\"grant\": ..., \"signature\": ...}");
  }
  auto grant_it = env.find("grant");
  auto sig_it = env.find("signature");
  if (grant_it == env.end() || !grant_it->is_string() || sig_it == env.end() ||
      !sig_it->is_string()) {
    return InvalidArgumentError(
        "the grant envelope needs text fields \"grant\" (the signed JSON) and \"signature\"");
  }
  const std::string& grant_json = grant_it->get_ref<const std::string&>();
  const std::string& sig_b64 = sig_it->get_ref<const std::string&>();
  WEFT_ASSIGN_OR_RETURN(PKey key, ReadKey(public_key_pem, false));
  std::optional<std::string> sig = Unbase64(sig_b64);
  if (!sig || sig->size() != 64) {
    return PermissionDeniedError(
        "grant refused: bad signature (not a base64 Ed25519 signature of 64 bytes)");
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool verified =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(grant_json.data()),
                       grant_json.size()) == 1;
  if (!verified) {
    return PermissionDeniedError(
        "grant refused: bad signature (not signed by the core's grant key, or altered)");
  }
  WEFT_ASSIGN_OR_RETURN(ModeGrant g, ParseGrantJson(grant_json));
  g.grant_json = grant_json;
  g.signature_b64 = sig_b64;
  if (g.edge != edge) {
    return PermissionDeniedError("grant refused: it is for edge '" + g.edge + "', this is edge '" +
                                 std::string(edge) + "'");
  }
  if (g.loop != loop) {
    return PermissionDeniedError("grant refused: it is for loop '" + g.loop + "', not loop '" +
                                 std::string(loop) + "'");
  }
  if (now >= g.expires_at) {
    return PermissionDeniedError("grant refused: it expired at " +
                                 FormatTimestampMicros(UnixMicros(g.expires_at)) + " (now " +
                                 FormatTimestampMicros(UnixMicros(now)) + ")");
  }
  if (now + kClockSkew < g.issued_at) {
    return PermissionDeniedError(
        "grant refused: it is issued at " + FormatTimestampMicros(UnixMicros(g.issued_at)) +
        ", in the future (now " + FormatTimestampMicros(UnixMicros(now)) + "); check the clocks");
  }
  if (std::string missing = MissingApprovals(g.mode, g.approvals); !missing.empty()) {
    return PermissionDeniedError("grant refused: " + missing);
  }
  return g;
}

Status GenerateGrantKey(const std::string& private_pem_path, const std::string& public_pem_path) {
  PKey fresh(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  if (!fresh) return InternalError("OpenSSL cannot generate an Ed25519 key");
  WEFT_ASSIGN_OR_RETURN(std::string private_pem, PemOf(fresh.get(), true));
  WEFT_ASSIGN_OR_RETURN(std::string public_pem, PemOf(fresh.get(), false));
  WEFT_RETURN_IF_ERROR(WriteNewFile(private_pem_path, private_pem, 0600, true));
  Status s = WriteNewFile(public_pem_path, public_pem, 0644, false);
  if (!s.ok()) ::unlink(private_pem_path.c_str());  // no half pair
  return s;
}

Result<std::string> GrantPublicKeyPem(const std::string& private_key_pem) {
  WEFT_ASSIGN_OR_RETURN(PKey key, ReadKey(private_key_pem, true));
  return PemOf(key.get(), false);
}

}  // namespace weft::control
