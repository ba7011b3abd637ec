// Internal to weft::fleet_pki: RAII handles for OpenSSL objects, memory BIOs, hex, and the
// OpenSSL error queue turned into message text. Not part of the public API.
//
// Thread-safety: stateless helpers; OpenSSL's error queue is per thread.
#ifndef WEFT_FLEET_OPENSSL_UTIL_H_
#define WEFT_FLEET_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::fleet::pki_internal {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
template <typename T, auto Free>
using Ptr = std::unique_ptr<T, Deleter<Free>>;

using BioPtr = Ptr<BIO, BIO_free_all>;
using PKeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtxPtr = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using X509Ptr = Ptr<X509, X509_free>;
using ReqPtr = Ptr<X509_REQ, X509_REQ_free>;
using CrlPtr = Ptr<X509_CRL, X509_CRL_free>;
using NamePtr = Ptr<X509_NAME, X509_NAME_free>;
using ExtPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using StoreCtxPtr = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using BnPtr = Ptr<BIGNUM, BN_free>;
using Asn1IntPtr = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1TimePtr = Ptr<ASN1_TIME, ASN1_TIME_free>;

//! Drains this thread's OpenSSL error queue into "; "-joined text (empty when there was none).
inline std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

//! `what` plus OpenSSL's reasons, e.g. "cannot parse the CSR (OpenSSL: error:...)".
inline std::string WithOpenSslErrors(std::string what) {
  const std::string errors = DrainOpenSslErrors();
  if (!errors.empty()) what += " (OpenSSL: " + errors + ")";
  return what;
}

//! A read-only memory BIO over `data` (which must outlive it), or null when too large.
inline BioPtr MemBio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

inline BioPtr NewMemBio() {
  return BioPtr(BIO_new(BIO_s_mem()));
}

inline std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

inline std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

inline std::string Sha256HexOf(const unsigned char* data, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr) != 1) {
    DrainOpenSslErrors();
    return {};
  }
  return Hex(md, len);
}

}  // namespace weft::fleet::pki_internal

#endif  // WEFT_FLEET_OPENSSL_UTIL_H_
