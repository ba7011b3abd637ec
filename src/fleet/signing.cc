#include "fleet/signing.h"

#include <openssl/pem.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "fleet/openssl_util.h"

namespace weft::fleet {

using pki_internal::BioPtr;
using pki_internal::MdCtxPtr;
using pki_internal::PKeyPtr;
using pki_internal::WithOpenSslErrors;
using pki_internal::X509Ptr;

namespace {

// Signatures Weft makes are at most a few hundred bytes (ECDSA P-256 DER: 72, Ed25519: 64,
// RSA-4096: 512); a larger "signature" is refused before decoding.
constexpr size_t kMaxSignatureB64 = 4096;

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

// Strict standard base64 with padding; nullopt otherwise.
std::optional<std::string> Unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > kMaxSignatureB64) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || (c == '=' && i + 2 >= text.size());
    if (!ok) return std::nullopt;
  }
  if (text[text.size() - 2] == '=' && text.back() != '=') return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
  if (len < 0) return std::nullopt;
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

const EVP_MD* DigestFor(const EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
}

Result<PKeyPtr> ReadVerificationKey(const std::string& pem) {
  BioPtr bio = pki_internal::MemBio(pem);
  if (!bio) return InvalidArgumentError("the public key PEM is too large");
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    EVP_PKEY* key = cert ? X509_get_pubkey(cert.get()) : nullptr;  // a new reference
    if (key == nullptr) {
      return InvalidArgumentError(WithOpenSslErrors("the verification certificate is unreadable"));
    }
    return PKeyPtr(key);
  }
  PKeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return InvalidArgumentError(WithOpenSslErrors(
        "the verification key is not a PEM public key (BEGIN PUBLIC KEY) or certificate"));
  }
  return key;
}

Status FieldError(const std::string& field, const std::string& problem) {
  return InvalidArgumentError("artifact manifest: field '" + field + "' " + problem);
}

Result<std::string> StringField(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) return FieldError(name, "is missing");
  if (!it->is_string()) return FieldError(name, "must be a string");
  std::string value = it->get<std::string>();
  if (value.empty()) return FieldError(name, "must not be empty");
  return value;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::string> SignBytes(const std::string& private_key_pem, std::string_view data) {
  BioPtr bio = pki_internal::MemBio(private_key_pem);
  PKeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return InvalidArgumentError(WithOpenSslErrors("the signing key is not a PEM private key"));
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(key.get()), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return InternalError(WithOpenSslErrors("cannot sign"));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return InternalError(WithOpenSslErrors("cannot sign"));
  }
  return Base64(reinterpret_cast<const unsigned char*>(sig.data()), len);
}

Status VerifyBytes(const std::string& public_key_or_cert_pem, std::string_view data,
                   std::string_view signature_b64) {
  WEFT_ASSIGN_OR_RETURN(PKeyPtr key, ReadVerificationKey(public_key_or_cert_pem));
  const std::optional<std::string> sig = Unbase64(signature_b64);
  if (!sig) return InvalidArgumentError("the signature is not base64 (standard, padded)");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(key.get()), nullptr, key.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot set up signature verification"));
  }
  const int rc =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
  // A malformed signature is reported as an error in the queue; either way it does not verify.
  pki_internal::DrainOpenSslErrors();
  if (rc != 1) return PermissionDeniedError("signature does not verify");
  return Status::Ok();
}

std::string Sha256Hex(std::string_view data) {
  return pki_internal::Sha256HexOf(reinterpret_cast<const unsigned char*>(data.data()),
                                   data.size());
}

Result<std::string> Sha256HexOfFile(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return NotFoundError("cannot open '" + path + "' to hash it");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return InternalError(WithOpenSslErrors("cannot start SHA-256"));
  }
  std::string buf(1 << 16, '\0');
  for (;;) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    if (n > 0 && EVP_DigestUpdate(ctx.get(), buf.data(), n) != 1) {
      return InternalError(WithOpenSslErrors("SHA-256 failed"));
    }
    if (n < buf.size()) {
      if (std::ferror(file.get()) != 0) return DataLossError("cannot read '" + path + "'");
      break;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) {
    return InternalError(WithOpenSslErrors("SHA-256 failed"));
  }
  return pki_internal::Hex(md, len);
}

std::string ManifestJson(const ArtifactManifest& m) {
  // nlohmann::json keeps object keys sorted: the canonical order.
  nlohmann::json j = {{"hardware_models", m.hardware_models},
                      {"kind", m.kind},
                      {"name", m.name},
                      {"sha256", m.sha256},
                      {"size", m.size},
                      {"version", m.version}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<ArtifactManifest> ParseManifest(std::string_view json) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("artifact manifest is not JSON: ") + e.what());
  }
  if (!j.is_object()) return InvalidArgumentError("artifact manifest must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "hardware_models" && key != "kind" && key != "name" && key != "sha256" &&
        key != "size" && key != "version") {
      return FieldError(key,
                        "is not a manifest field (hardware_models, kind, name, sha256, "
                        "size, version)");
    }
  }
  ArtifactManifest m;
  WEFT_ASSIGN_OR_RETURN(m.kind, StringField(j, "kind"));
  if (m.kind != "firmware" && m.kind != "edge_config" && m.kind != "model") {
    return FieldError("kind", "must be firmware, edge_config or model, not '" + m.kind + "'");
  }
  WEFT_ASSIGN_OR_RETURN(m.name, StringField(j, "name"));
  WEFT_ASSIGN_OR_RETURN(m.version, StringField(j, "version"));
  WEFT_ASSIGN_OR_RETURN(m.sha256, StringField(j, "sha256"));
  if (m.sha256.size() != 64 || !IsLowerHex(m.sha256)) {
    return FieldError("sha256", "must be 64 lowercase hex digits");
  }
  const auto size = j.find("size");
  if (size == j.end()) return FieldError("size", "is missing");
  if (!size->is_number_unsigned()) return FieldError("size", "must be a non-negative integer");
  m.size = size->get<uint64_t>();
  const auto models = j.find("hardware_models");
  if (models == j.end()) return FieldError("hardware_models", "is missing");
  if (!models->is_array()) return FieldError("hardware_models", "must be an array of strings");
  for (const nlohmann::json& model : *models) {
    if (!model.is_string() || model.get_ref<const std::string&>().empty()) {
      return FieldError("hardware_models", "must hold non-empty strings");
    }
    m.hardware_models.push_back(model.get<std::string>());
  }
  return m;
}

}  // namespace weft::fleet
