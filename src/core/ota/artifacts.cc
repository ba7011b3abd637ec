#include "core/ota/artifacts.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "fleet/broker_config.h"
#include "fleet/pki.h"
#include "fleet/signing.h"

namespace weft::core::ota {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

Result<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return DataLossError("odd number of hex digits");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return DataLossError("not hex");
    out += static_cast<char>(v);
  }
  return out;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Status ValidateName(std::string_view what, std::string_view text) {
  if (text.empty() || text.size() > 128) {
    return InvalidArgumentError(std::string(what) + " must be 1 to 128 characters");
  }
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':';
    if (!ok) {
      return InvalidArgumentError(std::string(what) + " '" + std::string(text) +
                                  "' may contain only letters, digits and . _ - :");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<ArtifactStore>> ArtifactStore::Open(ArtifactOptions options,
                                                           OtaStore* store, const Clock* clock) {
  if (options.state_dir.empty() || store == nullptr || clock == nullptr) {
    return InvalidArgumentError("ota artifacts: state_dir, store and clock are required");
  }
  std::unique_ptr<ArtifactStore> a(new ArtifactStore());
  a->options_ = std::move(options);
  a->store_ = store;
  a->clock_ = clock;
  const std::string keys = a->options_.state_dir + "/keys";
  std::error_code ec;
  fs::create_directories(keys, ec);
  fs::create_directories(a->options_.state_dir + "/ota/artifacts", ec);
  if (ec) return UnavailableError("ota artifacts: cannot create directories: " + ec.message());
  fs::permissions(keys, fs::perms::owner_all, ec);

  a->signing_key_file_ = keys + "/ota-signing.pem";
  const std::string pub_file = keys + "/ota-signing.pub.pem";
  if (!fs::exists(a->signing_key_file_)) {
    WEFT_ASSIGN_OR_RETURN(fleet::KeyPair kp, fleet::GenerateEd25519Key());
    WEFT_RETURN_IF_ERROR(fleet::WriteFileAtomic(pub_file, kp.public_pem, 0644));
    WEFT_RETURN_IF_ERROR(fleet::WriteFileAtomic(a->signing_key_file_, kp.private_pem, 0600));
  }
  WEFT_ASSIGN_OR_RETURN(a->private_pem_, ReadFile(a->signing_key_file_));
  Result<std::string> pub = ReadFile(pub_file);
  if (!pub.ok()) {
    return FailedPreconditionError("ota artifacts: " + a->signing_key_file_ +
                                   " exists but its public key " + pub_file +
                                   " does not; restore it (or remove both to make a new key, "
                                   "which devices must then pin again)");
  }
  a->public_pem_ = *pub;

  const std::string url_key_file = keys + "/ota-url.key";
  if (!fs::exists(url_key_file)) {
    std::array<unsigned char, 32> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
      return InternalError("ota artifacts: RAND_bytes failed");
    }
    WEFT_RETURN_IF_ERROR(
        fleet::WriteFileAtomic(url_key_file, Hex(key.data(), key.size()) + "\n", 0600));
  }
  WEFT_ASSIGN_OR_RETURN(std::string url_hex, ReadFile(url_key_file));
  while (!url_hex.empty() && (url_hex.back() == '\n' || url_hex.back() == '\r')) {
    url_hex.pop_back();
  }
  Result<std::string> url_key = Unhex(url_hex);
  if (!url_key.ok() || url_key->size() < 16) {
    return DataLossError("ota artifacts: " + url_key_file + " is not a hex key of >= 16 bytes");
  }
  a->url_key_ = *url_key;
  return a;
}

Result<ArtifactRecord> ArtifactStore::Put(const NewArtifact& n, std::string_view bytes,
                                          const std::string& uploaded_by) {
  if (n.kind != "firmware" && n.kind != "edge_config" && n.kind != "model") {
    return InvalidArgumentError("artifact kind '" + n.kind +
                                "' is not one of firmware, edge_config, model");
  }
  WEFT_RETURN_IF_ERROR(ValidateName("artifact name", n.name));
  WEFT_RETURN_IF_ERROR(ValidateName("artifact version", n.version));
  if (n.hardware_models.empty()) {
    return InvalidArgumentError("an artifact needs at least one hardware model (hardware_models)");
  }
  for (const std::string& h : n.hardware_models) {
    WEFT_RETURN_IF_ERROR(ValidateName("hardware model", h));
  }
  if (bytes.size() > options_.max_bytes) {
    return Status(StatusCode::kResourceExhausted,
                  "artifact of " + std::to_string(bytes.size()) + " bytes is over the limit of " +
                      std::to_string(options_.max_bytes));
  }
  if (bytes.empty()) return InvalidArgumentError("artifact body is empty");

  fleet::ArtifactManifest m;
  m.kind = n.kind;
  m.name = n.name;
  m.version = n.version;
  m.sha256 = fleet::Sha256Hex(bytes);
  m.size = bytes.size();
  m.hardware_models = n.hardware_models;
  std::sort(m.hardware_models.begin(), m.hardware_models.end());
  m.hardware_models.erase(std::unique(m.hardware_models.begin(), m.hardware_models.end()),
                          m.hardware_models.end());
  const std::string manifest = fleet::ManifestJson(m);

  Result<ArtifactRecord> existing = store_->GetArtifact(m.sha256);
  if (existing.ok()) {
    if (existing->manifest == manifest) return *existing;
    return AlreadyExistsError("artifact " + m.sha256 + " is already stored as " +
                              existing->kind + " " + existing->name + " " + existing->version);
  }

  const std::string dir = options_.state_dir + "/ota/artifacts/" + m.sha256.substr(0, 2);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("ota artifacts: cannot create " + dir + ": " + ec.message());
  WEFT_RETURN_IF_ERROR(fleet::WriteFileAtomic(dir + "/" + m.sha256, bytes, 0644));

  WEFT_ASSIGN_OR_RETURN(std::string sig, fleet::SignBytes(private_pem_, manifest));
  ArtifactRecord r{m.sha256, m.kind,      m.name, m.version,   m.size,         m.hardware_models,
                   manifest, std::move(sig), uploaded_by, clock_->Now()};
  Status s = store_->PutArtifact(r);
  if (s.code() == StatusCode::kAlreadyExists) {  // a concurrent identical upload won
    return store_->GetArtifact(m.sha256);
  }
  WEFT_RETURN_IF_ERROR(s);
  return r;
}

Result<std::string> ArtifactStore::FilePath(std::string_view sha256) {
  if (!IsHex64(sha256)) {
    return InvalidArgumentError("artifact id must be 64 lowercase hex digits (its sha256)");
  }
  WEFT_RETURN_IF_ERROR(store_->GetArtifact(sha256));
  std::string path = options_.state_dir + "/ota/artifacts/" + std::string(sha256.substr(0, 2)) +
                     "/" + std::string(sha256);
  if (!fs::exists(path)) {
    return DataLossError("artifact " + std::string(sha256) + " is recorded but " + path +
                         " is missing");
  }
  return path;
}

std::string ArtifactStore::UrlSig(std::string_view sha256, std::string_view device,
                                  int64_t expires) const {
  const std::string msg =
      std::string(sha256) + "\n" + std::string(device) + "\n" + std::to_string(expires);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), url_key_.data(), static_cast<int>(url_key_.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &len);
  return Hex(mac.data(), len);
}

std::string ArtifactStore::DownloadUrl(std::string_view base_url, std::string_view sha256,
                                       std::string_view device, int64_t expires_unix_s) const {
  // Device ids are ValidateName'd (no characters that need percent-encoding).
  return std::string(base_url) + "/api/v1/ota/artifacts/" + std::string(sha256) +
         "?device=" + std::string(device) + "&expires=" + std::to_string(expires_unix_s) +
         "&sig=" + UrlSig(sha256, device, expires_unix_s);
}

Status ArtifactStore::CheckDownload(std::string_view sha256, std::string_view device,
                                    std::string_view expires, std::string_view sig) const {
  const Status denied = PermissionDeniedError(
      "artifact download refused: the URL is invalid or expired (ask for a new campaign "
      "command)");
  int64_t exp = 0;
  auto [p, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), exp);
  if (ec != std::errc() || p != expires.data() + expires.size() || device.empty()) return denied;
  const std::string want = UrlSig(sha256, device, exp);
  if (sig.size() != want.size() || CRYPTO_memcmp(sig.data(), want.data(), want.size()) != 0) {
    return denied;
  }
  if (exp * 1'000'000 < UnixMicros(clock_->Now())) return denied;
  return Status::Ok();
}

}  // namespace weft::core::ota
