// ArtifactStore: OTA artifacts (firmware images, edge configurations, models) stored by content,
// their Ed25519-signed manifests, and the short-lived HMAC download URLs minted for one device.
//
//   WEFT_ASSIGN_OR_RETURN(auto artifacts, ArtifactStore::Open({.state_dir = dir}, store, &clock));
//   WEFT_ASSIGN_OR_RETURN(ArtifactRecord a,
//       artifacts->Put({.kind = "model", .name = "bearing-wear", .version = "3",
//                       .hardware_models = {"m4"}}, bytes, "alice"));
//   std::string url = artifacts->DownloadUrl("https://core:8443", a.sha256, "dev-1", expires);
//   Status ok = artifacts->CheckDownload(a.sha256, "dev-1", expires_unix, sig);
//
// Files: <state>/ota/artifacts/<sha256[0:2]>/<sha256> (written to a temporary file, synced,
// renamed: a reader never sees half an artifact); the signing key
// <state>/keys/ota-signing.pem (Ed25519 PKCS#8, 0600, made on first use) and its public key
// ota-signing.pub.pem (what devices pin: the provisioning response's ota_public_key); the URL
// key <state>/keys/ota-url.key (32 random bytes, hex, 0600).
// The manifest is fleet::ManifestJson (canonical JSON: sorted keys); the signature covers its
// exact bytes. A download URL's sig is HMAC-SHA256(url key, "<sha256>\n<device>\n<expires>") in
// lowercase hex, compared in constant time.
//
// Thread-safety: every method is safe from any thread; keys are read once at Open.
#ifndef WEFT_CORE_OTA_ARTIFACTS_H_
#define WEFT_CORE_OTA_ARTIFACTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/ota/ota_store.h"

namespace weft::core::ota {

struct ArtifactOptions {
  std::string state_dir;                    //!< required
  uint64_t max_bytes = uint64_t{64} << 20;  //!< refuse larger uploads
};

//! What an upload declares; sha256 and size come from the bytes.
struct NewArtifact {
  std::string kind;  //!< firmware | edge_config | model
  std::string name, version;
  std::vector<std::string> hardware_models;  //!< at least one
};

class ArtifactStore {
 public:
  //! Creates the directories and keys when missing. `store` and `clock` are not owned.
  static Result<std::unique_ptr<ArtifactStore>> Open(ArtifactOptions options, OtaStore* store,
                                                     const Clock* clock);

  //! Stores the bytes, signs the manifest and records the artifact. InvalidArgument for a bad
  //! kind, name, version or hardware model list (names: 1..128 of letters, digits, . _ - :);
  //! ResourceExhausted over max_bytes; an identical upload (same bytes and manifest) returns the
  //! existing record; the same bytes with another manifest are AlreadyExists.
  Result<ArtifactRecord> Put(const NewArtifact& a, std::string_view bytes,
                             const std::string& uploaded_by);
  //! The file holding artifact `sha256` (NotFound when unknown).
  Result<std::string> FilePath(std::string_view sha256);
  //! "<base_url>/api/v1/ota/artifacts/<sha256>?device=<id>&expires=<unix s>&sig=<hex>".
  std::string DownloadUrl(std::string_view base_url, std::string_view sha256,
                          std::string_view device, int64_t expires_unix_s) const;
  //! OK when `sig` is the URL signature for (sha256, device, expires) and `expires` is not in
  //! the past; PermissionDenied otherwise (the message does not say which part is wrong).
  Status CheckDownload(std::string_view sha256, std::string_view device,
                       std::string_view expires, std::string_view sig) const;
  //! The PEM public key devices verify manifests with.
  const std::string& public_key_pem() const { return public_pem_; }
  //! The signing key file (for tests that verify with fleet::VerifyBytes, use public_key_pem).
  const std::string& signing_key_file() const { return signing_key_file_; }

 private:
  ArtifactStore() = default;
  std::string UrlSig(std::string_view sha256, std::string_view device, int64_t expires) const;

  ArtifactOptions options_;
  OtaStore* store_ = nullptr;
  const Clock* clock_ = nullptr;
  std::string private_pem_, public_pem_, signing_key_file_;
  std::string url_key_;  //!< raw bytes
};

//! Ids of devices, names, versions, hardware models: 1..128 characters of letters, digits and
//! . _ - : (no '/', so they are safe in topics, paths and subjects "<hw>/<version>").
Status ValidateName(std::string_view what, std::string_view text);

}  // namespace weft::core::ota

#endif  // WEFT_CORE_OTA_ARTIFACTS_H_
