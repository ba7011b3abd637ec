// API tokens: generation, hashing and verification. The plaintext exists only in the caller's
// hands; Weft stores its SHA-256 and a short public id.
//
//   WEFT_ASSIGN_OR_RETURN(GeneratedToken t, GenerateToken());
//   // show t.plaintext to the user ONCE; store t.id and t.sha256_hex
//   if (VerifyToken(presented, stored_sha256_hex)) { ... }
//
// Format: "weft_" + 43 base64url characters (32 random bytes from OpenSSL's RAND_bytes, no
// padding), 48 characters in all. The id is the first 13 characters ("weft_" + 8): public, safe
// to show and log, and useless for authenticating (the remaining 35 characters carry 208 random
// bits). Never log a token's plaintext.
//
// Thread-safety: free functions, safe from any thread (OpenSSL 3 RAND and EVP are thread-safe).
#ifndef WEFT_CORE_REGISTRY_TOKENS_H_
#define WEFT_CORE_REGISTRY_TOKENS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::registry {

inline constexpr std::string_view kTokenPrefix = "weft_";
inline constexpr size_t kTokenLength = 48;    //!< "weft_" + 43
inline constexpr size_t kTokenIdLength = 13;  //!< "weft_" + 8

struct GeneratedToken {
  std::string plaintext;   //!< the secret; hand to the user once, never store or log
  std::string id;          //!< public id: the first kTokenIdLength characters
  std::string sha256_hex;  //!< lower-case hex SHA-256 of plaintext: what is stored
};

//! A fresh random token. Internal error if the OpenSSL RNG fails.
Result<GeneratedToken> GenerateToken();

//! True when `text` has the token format (prefix, length, base64url alphabet). Says nothing
//! about whether the token exists.
bool IsWellFormedToken(std::string_view text);

//! Lower-case hex SHA-256 (OpenSSL EVP) of `plaintext`. Internal error if EVP fails.
Result<std::string> HashToken(std::string_view plaintext);

//! The public id of a well-formed token (its first kTokenIdLength characters).
std::string TokenId(std::string_view plaintext);

//! Constant-time (CRYPTO_memcmp) equality; the time depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

//! True when SHA-256(plaintext) equals `sha256_hex`, compared in constant time.
bool VerifyToken(std::string_view plaintext, std::string_view sha256_hex);

}  // namespace weft::registry

#endif  // WEFT_CORE_REGISTRY_TOKENS_H_
