#include "core/registry/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>

namespace weft::registry {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kRandomBytes = 32;

// Unpadded base64url (RFC 4648 section 5).
std::string Base64UrlEncode(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
    out += kBase64Url[v & 63];
  }
  if (size - i == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
  } else if (size - i == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
  }
  return out;
}

}  // namespace

Result<GeneratedToken> GenerateToken() {
  std::array<unsigned char, kRandomBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return InternalError("token generation: OpenSSL RAND_bytes failed (no entropy source?)");
  }
  GeneratedToken token;
  token.plaintext = std::string(kTokenPrefix) + Base64UrlEncode(bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  token.id = TokenId(token.plaintext);
  WEFT_ASSIGN_OR_RETURN(token.sha256_hex, HashToken(token.plaintext));
  return token;
}

bool IsWellFormedToken(std::string_view text) {
  if (text.size() != kTokenLength || text.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return false;
  }
  for (char c : text.substr(kTokenPrefix.size())) {
    if (kBase64Url.find(c) == std::string_view::npos) return false;
  }
  return true;
}

Result<std::string> HashToken(std::string_view plaintext) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(plaintext.data(), plaintext.size(), digest.data(), &digest_size, EVP_sha256(),
                 nullptr) != 1) {
    return InternalError("token hashing: OpenSSL EVP_Digest(SHA-256) failed");
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(size_t{digest_size} * 2);
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string TokenId(std::string_view plaintext) {
  return std::string(plaintext.substr(0, kTokenIdLength));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool VerifyToken(std::string_view plaintext, std::string_view sha256_hex) {
  Result<std::string> hash = HashToken(plaintext);
  return hash.ok() && ConstantTimeEquals(*hash, sha256_hex);
}

}  // namespace weft::registry
