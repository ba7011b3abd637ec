// Signatures, digests and the signed artifact manifest.
//
//   WEFT_ASSIGN_OR_RETURN(std::string sig, SignBytes(key.private_pem, ManifestJson(m)));
//   Status ok = VerifyBytes(key.public_pem, manifest_text, sig);   // PermissionDenied if not
//   WEFT_ASSIGN_OR_RETURN(ArtifactManifest m2, ParseManifest(manifest_text));
//
// Any key type OpenSSL signs with: EC -> ECDSA with SHA-256 (DER signature), Ed25519 -> pure
// Ed25519, RSA -> PKCS#1 v1.5 with SHA-256. Signatures travel as standard base64.
//
// Thread-safety: free functions without shared state, safe from any thread.
#ifndef WEFT_FLEET_SIGNING_H_
#define WEFT_FLEET_SIGNING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::fleet {

//! Base64 signature of `data` with a PKCS#8 (or traditional) PEM private key.
Result<std::string> SignBytes(const std::string& private_key_pem, std::string_view data);

//! OK when `signature_b64` is a valid signature of `data` by the key in
//! `public_key_or_cert_pem` (a PUBLIC KEY or a CERTIFICATE PEM). PermissionDenied "signature
//! does not verify" otherwise; InvalidArgument for an unreadable key or base64.
Status VerifyBytes(const std::string& public_key_or_cert_pem, std::string_view data,
                   std::string_view signature_b64);

//! Lowercase hex SHA-256.
std::string Sha256Hex(std::string_view data);
//! Lowercase hex SHA-256 of a file's contents (streamed).
Result<std::string> Sha256HexOfFile(const std::string& path);

//! Proof of possession for provisioning: the device signs kProvisionProofContext + csr_pem with
//! its FACTORY key (or, for renewal, with its current device key).
inline constexpr std::string_view kProvisionProofContext = "weft-provision-v1\n";

//! An artifact's manifest. Its canonical JSON text (ManifestJson) is what the core signs.
struct ArtifactManifest {
  std::string kind{};  //!< firmware | edge_config | model
  std::string name{};
  std::string version{};
  std::string sha256{};  //!< lowercase hex, 64 chars
  uint64_t size = 0;
  std::vector<std::string> hardware_models{};

  friend bool operator==(const ArtifactManifest&, const ArtifactManifest&) = default;
};

//! Canonical JSON text: {"hardware_models":[...],"kind","name","sha256","size","version"}
//! (sorted keys, compact, nlohmann dump).
std::string ManifestJson(const ArtifactManifest& m);

//! Parses a manifest. Errors (InvalidArgument) name the field: unknown fields, missing fields,
//! wrong types, kind not one of the three, sha256 not 64 lowercase hex, empty name/version.
Result<ArtifactManifest> ParseManifest(std::string_view json);

}  // namespace weft::fleet

#endif  // WEFT_FLEET_SIGNING_H_
