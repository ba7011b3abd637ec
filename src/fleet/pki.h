// The fleet PKI: keys, a certificate authority, CSRs, certificates and CRLs (X.509 over the
// OpenSSL 3 C API). EC P-256 keys for X.509; random positive 128-bit serials.
//
//   WEFT_ASSIGN_OR_RETURN(CertAuthority ca, MakeCa({.common_name = "Weft Fleet CA"},
//                                                  std::chrono::days(3650), clock.Now()));
//   WEFT_ASSIGN_OR_RETURN(KeyPair key, GenerateEcKey());                         // device
//   WEFT_ASSIGN_OR_RETURN(std::string csr, MakeCsr(key.private_pem, {.common_name = "x"}));
//   WEFT_ASSIGN_OR_RETURN(CsrInfo info, ParseCsr(csr));                           // core
//   WEFT_ASSIGN_OR_RETURN(IssuedCert cert, SignCsr(ca, csr, {.common_name = "dev-0001"},
//                                                  {.validity = std::chrono::days(30)}, now));
//   Result<CertInfo> ok = VerifyCert(cert.cert_pem, ca.cert_pem, now);
//
// Many signatures with one CA: parse it once (ParseCa) and pass the ParsedCa to SignCsr.
//
// PEM formats: private keys PKCS#8 ("BEGIN PRIVATE KEY"), public keys SubjectPublicKeyInfo
// ("BEGIN PUBLIC KEY"), certificates "BEGIN CERTIFICATE", CSRs "BEGIN CERTIFICATE REQUEST",
// CRLs "BEGIN X509 CRL". Serials and fingerprints are lowercase hex without separators.
// Errors carry OpenSSL's own error text (the thread's OpenSSL error queue is always drained).
//
// Thread-safety: free functions without shared state, safe from any thread. A ParsedCa is
// immutable and may be used by many threads at once.
#ifndef WEFT_FLEET_PKI_H_
#define WEFT_FLEET_PKI_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::fleet {

struct KeyPair {
  std::string private_pem{};  //!< PKCS#8 PEM
  std::string public_pem{};   //!< SubjectPublicKeyInfo PEM
};

//! A fresh EC P-256 key.
Result<KeyPair> GenerateEcKey();
//! A fresh Ed25519 key (artifact signing).
Result<KeyPair> GenerateEd25519Key();

//! The subject (or issuer) name fields Weft uses; empty fields are absent from the name.
struct Subject {
  std::string common_name{};          //!< CN
  std::string serial_number{};        //!< serialNumber (2.5.4.5), e.g. a factory serial
  std::string organization{};         //!< O
  std::string organizational_unit{};  //!< OU, e.g. the hardware model in factory certificates
};

struct CertAuthority {
  std::string cert_pem{};
  std::string key_pem{};  //!< PKCS#8 PEM; a secret
};

//! A self-signed CA over a new P-256 key (basicConstraints CA:TRUE critical, keyUsage
//! keyCertSign|cRLSign critical, subjectKeyIdentifier), valid [now - 5 min, now + validity].
Result<CertAuthority> MakeCa(const Subject& s, Micros validity, TimePoint now);

//! A PEM CSR for `key_pem`'s public key, self-signed with it (SHA-256; pure for Ed25519).
Result<std::string> MakeCsr(const std::string& key_pem, const Subject& s);

struct CsrInfo {
  Subject subject{};
  std::string public_key_pem{};
  std::string public_key_sha256{};  //!< hex SHA-256 of the public key's DER (SubjectPublicKeyInfo)
};
//! Parses a PEM CSR and verifies its self-signature (InvalidArgument otherwise).
Result<CsrInfo> ParseCsr(std::string_view csr_pem);

struct IssueOptions {
  Micros validity{0};   //!< > 0; not_after = now + validity
  bool server = false;  //!< serverAuth EKU + SANs; otherwise clientAuth EKU
  std::vector<std::string> dns_sans{};
  std::vector<std::string> ip_sans{};  //!< IPv4 or IPv6 literals
};

struct IssuedCert {
  std::string cert_pem{};
  //! Random positive 128-bit serial (first byte 0x10..0x7f: 124 random bits), always 32
  //! lowercase hex digits.
  std::string serial_hex{};
  std::string fingerprint_sha256{};  //!< hex SHA-256 of the DER
  TimePoint not_before{};            //!< now - 5 min (clock skew), whole seconds
  TimePoint not_after{};             //!< now + validity, whole seconds
};

//! A CA parsed once (certificate, key, issuer name) for many signatures. Immutable.
class ParsedCa;
//! Parses `ca` and checks its key matches its certificate.
Result<std::shared_ptr<const ParsedCa>> ParseCa(const CertAuthority& ca);

//! Signs the CSR's public key (after verifying the CSR's self-signature) with `subject`: the CA
//! decides the subject, not the CSR. clientAuth EKU unless o.server. keyUsage digitalSignature
//! (+keyEncipherment for RSA keys), basicConstraints CA:FALSE, SKI/AKI.
Result<IssuedCert> SignCsr(const CertAuthority& ca, std::string_view csr_pem,
                           const Subject& subject, const IssueOptions& o, TimePoint now);
//! The same with a CA parsed once (the fast path for bulk provisioning). Thread-safe.
Result<IssuedCert> SignCsr(const ParsedCa& ca, std::string_view csr_pem, const Subject& subject,
                           const IssueOptions& o, TimePoint now);

//! Convenience: a new P-256 key and its certificate (broker server certificate, the core's
//! client certificate, factory certificates in tests and in `weft-sim factory`).
Result<std::pair<KeyPair, IssuedCert>> IssueKeyAndCert(const CertAuthority& ca,
                                                       const Subject& subject,
                                                       const IssueOptions& o, TimePoint now);

struct CertInfo {
  Subject subject{};
  Subject issuer{};
  //! Lowercase hex, whole bytes (as BN_bn2hex prints it): equals IssuedCert::serial_hex.
  std::string serial_hex{};
  std::string fingerprint_sha256{};  //!< hex SHA-256 of the DER
  std::string public_key_pem{};
  TimePoint not_before{};
  TimePoint not_after{};
};
//! Parses one PEM certificate (the first of a bundle). No trust decision.
Result<CertInfo> ParseCert(std::string_view cert_pem);

//! Verifies `cert_pem` against the CA certificates in `trusted_pem` (one or more PEM certs) at
//! `now` (X509_V_FLAG_USE_CHECK_TIME). Every trusted certificate is an anchor (partial chains
//! allowed: a manufacturer's intermediate CA may be the trusted one). No CRL or purpose check.
//! PermissionDenied naming the reason ("certificate has expired", "unable to get local issuer
//! certificate", ...); InvalidArgument for bad PEM.
Result<CertInfo> VerifyCert(std::string_view cert_pem, std::string_view trusted_pem, TimePoint now);

//! A set of trusted CA certificates parsed once (e.g. the manufacturer CA bundle), for many
//! verifications. Immutable; safe for concurrent VerifyCert calls.
class TrustStore;
//! Parses one or more PEM certificates (InvalidArgument when there is none or one is bad).
Result<std::shared_ptr<const TrustStore>> ParseTrustStore(std::string_view trusted_pem);
//! VerifyCert against a parsed trust store (same contract as above).
Result<CertInfo> VerifyCert(std::string_view cert_pem, const TrustStore& trusted, TimePoint now);

struct Revoked {
  std::string serial_hex{};  //!< hex, any case; compared by value
  TimePoint revoked_at{};
};
//! A PEM CRL (v2, SHA-256) signed by `ca`: lastUpdate now, nextUpdate now + next_update,
//! crlNumber = now in seconds (monotonic across rewrites), AKI. Serials are validated as hex.
Result<std::string> MakeCrl(const CertAuthority& ca, const std::vector<Revoked>& revoked,
                            TimePoint now, Micros next_update);

}  // namespace weft::fleet

#endif  // WEFT_FLEET_PKI_H_
