#include "fleet/pki.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "fleet/openssl_util.h"

namespace weft::fleet {

using pki_internal::Asn1IntPtr;
using pki_internal::BioPtr;
using pki_internal::BnPtr;
using pki_internal::CrlPtr;
using pki_internal::ExtPtr;
using pki_internal::NamePtr;
using pki_internal::PKeyPtr;
using pki_internal::ReqPtr;
using pki_internal::StoreCtxPtr;
using pki_internal::StorePtr;
using pki_internal::WithOpenSslErrors;
using pki_internal::X509Ptr;

// A ParsedCa keeps what every signature needs, decoded once: the certificate, the key, the
// issuer name and the extensions that are the same in every certificate it issues. OpenSSL
// allows concurrent reads (and signatures) with these objects; nothing here is modified after
// ParseCa returns.
class ParsedCa {
 public:
  X509Ptr cert;
  PKeyPtr key;
  NamePtr issuer;
  ExtPtr basic_constraints;  // critical CA:FALSE
  ExtPtr key_usage;          // critical digitalSignature
  ExtPtr key_usage_rsa;      // critical digitalSignature, keyEncipherment
  ExtPtr eku_client;         // clientAuth
  ExtPtr eku_server;         // serverAuth
  ExtPtr authority_key_id;   // keyid of the CA's public key
};

class TrustStore {
 public:
  StorePtr store;
};

namespace {

// Certificates start this much before "now": a device whose clock lags a little still accepts
// its fresh certificate.
constexpr auto kBackdate = std::chrono::minutes(5);
// No certificate, CSR or CA bundle Weft handles comes near this; bounds parser work.
constexpr size_t kMaxPemBytes = 1 << 20;

time_t ToTimeT(TimePoint t) {
  return static_cast<time_t>(
      std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count());
}

TimePoint FromTimeT(time_t t) {
  return TimePoint(std::chrono::duration_cast<Micros>(std::chrono::seconds(t)));
}

Result<TimePoint> FromAsn1Time(const ASN1_TIME* t, const char* what) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return InvalidArgumentError(WithOpenSslErrors(std::string("unreadable ") + what + " time"));
  }
  return FromTimeT(timegm(&tm));
}

const EVP_MD* DigestFor(const EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
}

Result<PKeyPtr> GenerateKey(const char* type, const char* curve) {
  PKeyPtr key(curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                               : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  if (!key)
    return InternalError(WithOpenSslErrors(std::string("cannot generate a ") + type + " key"));
  return key;
}

Result<KeyPair> PemsOf(EVP_PKEY* key) {
  BioPtr priv = pki_internal::NewMemBio();
  BioPtr pub = pki_internal::NewMemBio();
  if (!priv || !pub ||
      PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key) != 1) {
    return InternalError(WithOpenSslErrors("cannot encode the key as PEM"));
  }
  return KeyPair{pki_internal::BioText(priv.get()), pki_internal::BioText(pub.get())};
}

Result<PKeyPtr> ReadPrivateKey(std::string_view pem, const char* what) {
  BioPtr bio = pki_internal::MemBio(pem);
  PKeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return InvalidArgumentError(WithOpenSslErrors(std::string(what) + " is not a PEM private key"));
  }
  return key;
}

Result<X509Ptr> ReadCert(std::string_view pem, const char* what) {
  if (pem.size() > kMaxPemBytes) return InvalidArgumentError(std::string(what) + " is too large");
  BioPtr bio = pki_internal::MemBio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    return InvalidArgumentError(WithOpenSslErrors(std::string(what) + " is not a PEM certificate"));
  }
  return cert;
}

Result<ReqPtr> ReadCsr(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return InvalidArgumentError("the CSR is too large");
  BioPtr bio = pki_internal::MemBio(pem);
  ReqPtr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) {
    return InvalidArgumentError(
        WithOpenSslErrors("the CSR is not a PEM certificate request (BEGIN CERTIFICATE REQUEST)"));
  }
  return req;
}

// The CSR's public key, after checking the CSR is signed by it (proof the requester holds the
// private key) and that the key is one we issue certificates for.
Result<EVP_PKEY*> VerifiedCsrKey(X509_REQ* req) {
  EVP_PKEY* key = X509_REQ_get0_pubkey(req);
  if (key == nullptr) {
    return InvalidArgumentError(WithOpenSslErrors("the CSR's public key is unreadable"));
  }
  if (X509_REQ_verify(req, key) != 1) {
    return InvalidArgumentError(
        WithOpenSslErrors("the CSR's signature does not verify with its own public key"));
  }
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < 2048) {
      return InvalidArgumentError("the CSR's RSA key has " +
                                  std::to_string(EVP_PKEY_get_bits(key)) +
                                  " bits; at least 2048 are required");
    }
  } else if (id != EVP_PKEY_EC && id != EVP_PKEY_ED25519) {
    return InvalidArgumentError(
        "the CSR's key type is not supported (expected EC, Ed25519 or RSA >= 2048)");
  }
  return key;
}

// Subject with the empty fields left out. REQUIRES for certificates: a common name.
Result<NamePtr> BuildName(const Subject& s) {
  NamePtr name(X509_NAME_new());
  if (!name) return InternalError(WithOpenSslErrors("cannot allocate a name"));
  const std::pair<int, const std::string*> fields[] = {
      {NID_organizationName, &s.organization},
      {NID_organizationalUnitName, &s.organizational_unit},
      {NID_commonName, &s.common_name},
      {NID_serialNumber, &s.serial_number},
  };
  for (const auto& [nid, value] : fields) {
    if (value->empty()) continue;
    if (value->find('\0') != std::string::npos || value->size() > 64) {
      return InvalidArgumentError(std::string("subject ") + OBJ_nid2ln(nid) +
                                  " must be 1 to 64 characters without NUL");
    }
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1) {
      return InvalidArgumentError(WithOpenSslErrors(std::string("subject ") + OBJ_nid2ln(nid) +
                                                    " '" + *value + "' is not acceptable"));
    }
  }
  return name;
}

std::string NameField(const X509_NAME* name, int nid) {
  if (name == nullptr) return {};
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    pki_internal::DrainOpenSslErrors();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Subject SubjectOf(const X509_NAME* name) {
  return Subject{NameField(name, NID_commonName), NameField(name, NID_serialNumber),
                 NameField(name, NID_organizationName),
                 NameField(name, NID_organizationalUnitName)};
}

Result<std::string> PublicKeyPem(EVP_PKEY* key) {
  BioPtr bio = pki_internal::NewMemBio();
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return InternalError(WithOpenSslErrors("cannot encode the public key"));
  }
  return pki_internal::BioText(bio.get());
}

Result<std::string> PublicKeySha256(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return InternalError(WithOpenSslErrors("cannot encode the public key"));
  std::string hex = pki_internal::Sha256HexOf(der, static_cast<size_t>(len));
  OPENSSL_free(der);
  return hex;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    pki_internal::DrainOpenSslErrors();
    return {};
  }
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) {
    pki_internal::DrainOpenSslErrors();
    return {};
  }
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 16 random bytes, the first in [0x10, 0x7f]: a positive INTEGER of exactly 16 octets (no DER
// padding) whose hex form is always 32 digits; 124 random bits.
Result<Asn1IntPtr> RandomSerial() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return UnavailableError(WithOpenSslErrors("the random generator failed (serial number)"));
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x10);
  BnPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  Asn1IntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial) return InternalError(WithOpenSslErrors("cannot encode a serial number"));
  return serial;
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio = pki_internal::NewMemBio();
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return InternalError(WithOpenSslErrors("cannot encode the certificate"));
  }
  return pki_internal::BioText(bio.get());
}

Result<std::string> CertFingerprint(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return InternalError(WithOpenSslErrors("cannot encode the certificate (DER)"));
  std::string hex = pki_internal::Sha256HexOf(der, static_cast<size_t>(len));
  OPENSSL_free(der);
  return hex;
}

// An extension from OpenSSL's config syntax; `issuer`/`subject` for key identifiers.
Result<ExtPtr> ConfExtension(int nid, const char* value, X509* issuer, X509* subject) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext) {
    return InternalError(
        WithOpenSslErrors(std::string("cannot make the ") + OBJ_nid2ln(nid) + " extension"));
  }
  return ext;
}

Status AddExtension(X509* cert, X509_EXTENSION* ext) {
  if (X509_add_ext(cert, ext, -1) != 1) {
    return InternalError(WithOpenSslErrors("cannot add a certificate extension"));
  }
  return Status::Ok();
}

Status SetValidity(X509* cert, TimePoint now, Micros validity, TimePoint* not_before,
                   TimePoint* not_after) {
  if (validity.count() <= 0) return InvalidArgumentError("the validity must be positive");
  const time_t from = ToTimeT(now - kBackdate);
  const time_t to = ToTimeT(now + validity);
  if (ASN1_TIME_set(X509_getm_notBefore(cert), from) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), to) == nullptr) {
    return InvalidArgumentError(WithOpenSslErrors("the validity period cannot be encoded"));
  }
  *not_before = FromTimeT(from);
  *not_after = FromTimeT(to);
  return Status::Ok();
}

bool IsDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '*';
  });
}

Status AddSubjectAltNames(X509* cert, const IssueOptions& o) {
  if (o.dns_sans.empty() && o.ip_sans.empty()) return Status::Ok();
  using GeneralNames = pki_internal::Ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
  GeneralNames names(sk_GENERAL_NAME_new_null());
  if (!names) return InternalError(WithOpenSslErrors("cannot allocate the SAN list"));
  for (const std::string& dns : o.dns_sans) {
    if (!IsDnsName(dns)) return InvalidArgumentError("DNS SAN '" + dns + "' is not a host name");
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (ia5 == nullptr || ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return InternalError(WithOpenSslErrors("cannot encode a DNS SAN"));
    }
    GENERAL_NAME* gen = GENERAL_NAME_new();
    if (gen == nullptr) {
      ASN1_IA5STRING_free(ia5);
      return InternalError(WithOpenSslErrors("cannot allocate a SAN"));
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gen) <= 0) {
      GENERAL_NAME_free(gen);
      return InternalError(WithOpenSslErrors("cannot add a SAN"));
    }
  }
  for (const std::string& ip : o.ip_sans) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr || ip.find('\0') != std::string::npos) {
      ASN1_OCTET_STRING_free(octets);
      pki_internal::DrainOpenSslErrors();
      return InvalidArgumentError("IP SAN '" + ip + "' is not an IPv4 or IPv6 address");
    }
    GENERAL_NAME* gen = GENERAL_NAME_new();
    if (gen == nullptr) {
      ASN1_OCTET_STRING_free(octets);
      return InternalError(WithOpenSslErrors("cannot allocate a SAN"));
    }
    GENERAL_NAME_set0_value(gen, GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), gen) <= 0) {
      GENERAL_NAME_free(gen);
      return InternalError(WithOpenSslErrors("cannot add a SAN"));
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return InternalError(WithOpenSslErrors("cannot add the subjectAltName extension"));
  }
  return Status::Ok();
}

// Copies the SubjectPublicKeyInfo from `from` into `cert` as it is encoded. X509_set_pubkey
// would re-encode the key through OpenSSL 3.0's encoder machinery, which costs more than the
// signature itself.
Status CopyPublicKey(X509* cert, X509_PUBKEY* from) {
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(&algorithm, &bits, &bits_len, &algor, from) != 1 || bits_len <= 0) {
    return InvalidArgumentError(WithOpenSslErrors("the CSR's public key is unreadable"));
  }
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(nullptr, &param_type, &param, algor);
  void* param_copy = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
  } else if (param_type == V_ASN1_SEQUENCE) {
    param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
  } else if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) {
    return InvalidArgumentError("the CSR's public key has unsupported algorithm parameters");
  }
  ASN1_OBJECT* algorithm_copy = OBJ_dup(algorithm);
  auto* bits_copy =
      static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<size_t>(bits_len)));
  const bool params_ok =
      param_copy != nullptr || param_type == V_ASN1_NULL || param_type == V_ASN1_UNDEF;
  if (algorithm_copy == nullptr || bits_copy == nullptr || !params_ok ||
      X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), algorithm_copy, param_type, param_copy,
                             bits_copy, bits_len) != 1) {
    ASN1_OBJECT_free(algorithm_copy);
    OPENSSL_free(bits_copy);
    if (param_type == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param_copy));
    if (param_type == V_ASN1_SEQUENCE) ASN1_STRING_free(static_cast<ASN1_STRING*>(param_copy));
    return InternalError(WithOpenSslErrors("cannot copy the public key into the certificate"));
  }
  return Status::Ok();
}

// The certificate for `key` (already checked) under `ca`; `spki` is the key as the CSR encodes
// it (copied as is), or null to encode `key`.
Result<IssuedCert> SignPublicKey(const ParsedCa& ca, EVP_PKEY* key, X509_PUBKEY* spki,
                                 const Subject& subject, const IssueOptions& o, TimePoint now) {
  if (subject.common_name.empty()) {
    return InvalidArgumentError("the certificate subject needs a common name");
  }
  WEFT_ASSIGN_OR_RETURN(NamePtr name, BuildName(subject));
  WEFT_ASSIGN_OR_RETURN(Asn1IntPtr serial, RandomSerial());
  X509Ptr cert(X509_new());
  if (!cert) return InternalError(WithOpenSslErrors("cannot allocate a certificate"));
  IssuedCert out;
  WEFT_RETURN_IF_ERROR(SetValidity(cert.get(), now, o.validity, &out.not_before, &out.not_after));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      X509_set_issuer_name(cert.get(), ca.issuer.get()) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot fill in the certificate"));
  }
  if (spki != nullptr) {
    WEFT_RETURN_IF_ERROR(CopyPublicKey(cert.get(), spki));
  } else if (X509_set_pubkey(cert.get(), key) != 1) {
    return InternalError(WithOpenSslErrors("cannot set the certificate's public key"));
  }
  const bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
  WEFT_RETURN_IF_ERROR(AddExtension(cert.get(), ca.basic_constraints.get()));
  WEFT_RETURN_IF_ERROR(AddExtension(cert.get(), rsa ? ca.key_usage_rsa.get() : ca.key_usage.get()));
  WEFT_RETURN_IF_ERROR(
      AddExtension(cert.get(), o.server ? ca.eku_server.get() : ca.eku_client.get()));
  WEFT_ASSIGN_OR_RETURN(ExtPtr ski,
                        ConfExtension(NID_subject_key_identifier, "hash", nullptr, cert.get()));
  WEFT_RETURN_IF_ERROR(AddExtension(cert.get(), ski.get()));
  WEFT_RETURN_IF_ERROR(AddExtension(cert.get(), ca.authority_key_id.get()));
  if (!o.server && (!o.dns_sans.empty() || !o.ip_sans.empty())) {
    return InvalidArgumentError("SANs are for server certificates (IssueOptions::server)");
  }
  WEFT_RETURN_IF_ERROR(AddSubjectAltNames(cert.get(), o));
  if (X509_sign(cert.get(), ca.key.get(), DigestFor(ca.key.get())) <= 0) {
    return InternalError(WithOpenSslErrors("cannot sign the certificate with the CA key"));
  }
  WEFT_ASSIGN_OR_RETURN(out.cert_pem, CertPem(cert.get()));
  WEFT_ASSIGN_OR_RETURN(out.fingerprint_sha256, CertFingerprint(cert.get()));
  out.serial_hex = SerialHex(serial.get());
  return out;
}

Result<CertInfo> InfoOf(X509* cert) {
  CertInfo info;
  info.subject = SubjectOf(X509_get_subject_name(cert));
  info.issuer = SubjectOf(X509_get_issuer_name(cert));
  info.serial_hex = SerialHex(X509_get0_serialNumber(cert));
  if (info.serial_hex.empty())
    return InvalidArgumentError("the certificate's serial is unreadable");
  WEFT_ASSIGN_OR_RETURN(info.fingerprint_sha256, CertFingerprint(cert));
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) {
    return InvalidArgumentError(WithOpenSslErrors("the certificate's public key is unreadable"));
  }
  WEFT_ASSIGN_OR_RETURN(info.public_key_pem, PublicKeyPem(key));
  WEFT_ASSIGN_OR_RETURN(info.not_before, FromAsn1Time(X509_get0_notBefore(cert), "notBefore"));
  WEFT_ASSIGN_OR_RETURN(info.not_after, FromAsn1Time(X509_get0_notAfter(cert), "notAfter"));
  return info;
}

std::string DescribeCert(X509* cert) {
  const std::string cn = NameField(X509_get_subject_name(cert), NID_commonName);
  return cn.empty() ? std::string("the certificate") : "certificate '" + cn + "'";
}

}  // namespace

Result<KeyPair> GenerateEcKey() {
  WEFT_ASSIGN_OR_RETURN(PKeyPtr key, GenerateKey("EC", "P-256"));
  return PemsOf(key.get());
}

Result<KeyPair> GenerateEd25519Key() {
  WEFT_ASSIGN_OR_RETURN(PKeyPtr key, GenerateKey("ED25519", nullptr));
  return PemsOf(key.get());
}

Result<CertAuthority> MakeCa(const Subject& s, Micros validity, TimePoint now) {
  if (s.common_name.empty()) return InvalidArgumentError("the CA subject needs a common name");
  WEFT_ASSIGN_OR_RETURN(PKeyPtr key, GenerateKey("EC", "P-256"));
  WEFT_ASSIGN_OR_RETURN(NamePtr name, BuildName(s));
  WEFT_ASSIGN_OR_RETURN(Asn1IntPtr serial, RandomSerial());
  X509Ptr cert(X509_new());
  if (!cert) return InternalError(WithOpenSslErrors("cannot allocate a certificate"));
  TimePoint from;
  TimePoint to;
  WEFT_RETURN_IF_ERROR(SetValidity(cert.get(), now, validity, &from, &to));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot fill in the CA certificate"));
  }
  const std::pair<int, const char*> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,keyCertSign,cRLSign"},
      {NID_subject_key_identifier, "hash"},
  };
  for (const auto& [nid, value] : extensions) {
    WEFT_ASSIGN_OR_RETURN(ExtPtr ext, ConfExtension(nid, value, cert.get(), cert.get()));
    WEFT_RETURN_IF_ERROR(AddExtension(cert.get(), ext.get()));
  }
  // After the SKI: the AKI of a self-signed certificate is its own key identifier.
  WEFT_ASSIGN_OR_RETURN(ExtPtr aki, ConfExtension(NID_authority_key_identifier, "keyid:always",
                                                  cert.get(), cert.get()));
  WEFT_RETURN_IF_ERROR(AddExtension(cert.get(), aki.get()));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return InternalError(WithOpenSslErrors("cannot self-sign the CA certificate"));
  }
  WEFT_ASSIGN_OR_RETURN(std::string cert_pem, CertPem(cert.get()));
  WEFT_ASSIGN_OR_RETURN(KeyPair pems, PemsOf(key.get()));
  return CertAuthority{std::move(cert_pem), std::move(pems.private_pem)};
}

Result<std::string> MakeCsr(const std::string& key_pem, const Subject& s) {
  WEFT_ASSIGN_OR_RETURN(PKeyPtr key, ReadPrivateKey(key_pem, "the CSR key"));
  WEFT_ASSIGN_OR_RETURN(NamePtr name, BuildName(s));
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot fill in the CSR"));
  }
  if (X509_REQ_sign(req.get(), key.get(), DigestFor(key.get())) <= 0) {
    return InternalError(WithOpenSslErrors("cannot sign the CSR"));
  }
  BioPtr bio = pki_internal::NewMemBio();
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot encode the CSR"));
  }
  return pki_internal::BioText(bio.get());
}

Result<CsrInfo> ParseCsr(std::string_view csr_pem) {
  WEFT_ASSIGN_OR_RETURN(ReqPtr req, ReadCsr(csr_pem));
  WEFT_ASSIGN_OR_RETURN(EVP_PKEY * key, VerifiedCsrKey(req.get()));
  CsrInfo info;
  info.subject = SubjectOf(X509_REQ_get_subject_name(req.get()));
  WEFT_ASSIGN_OR_RETURN(info.public_key_pem, PublicKeyPem(key));
  WEFT_ASSIGN_OR_RETURN(info.public_key_sha256, PublicKeySha256(key));
  return info;
}

Result<std::shared_ptr<const ParsedCa>> ParseCa(const CertAuthority& ca) {
  auto parsed = std::make_shared<ParsedCa>();
  WEFT_ASSIGN_OR_RETURN(parsed->cert, ReadCert(ca.cert_pem, "the CA certificate"));
  WEFT_ASSIGN_OR_RETURN(parsed->key, ReadPrivateKey(ca.key_pem, "the CA key"));
  if (X509_check_private_key(parsed->cert.get(), parsed->key.get()) != 1) {
    return InvalidArgumentError(
        WithOpenSslErrors("the CA key does not belong to the CA certificate"));
  }
  if (X509_check_ca(parsed->cert.get()) < 1) {
    return InvalidArgumentError("the CA certificate is not a CA (basicConstraints CA:TRUE)");
  }
  parsed->issuer.reset(X509_NAME_dup(X509_get_subject_name(parsed->cert.get())));
  if (!parsed->issuer) return InternalError(WithOpenSslErrors("cannot copy the CA name"));
  X509* c = parsed->cert.get();
  WEFT_ASSIGN_OR_RETURN(parsed->basic_constraints,
                        ConfExtension(NID_basic_constraints, "critical,CA:FALSE", c, nullptr));
  WEFT_ASSIGN_OR_RETURN(parsed->key_usage,
                        ConfExtension(NID_key_usage, "critical,digitalSignature", c, nullptr));
  WEFT_ASSIGN_OR_RETURN(
      parsed->key_usage_rsa,
      ConfExtension(NID_key_usage, "critical,digitalSignature,keyEncipherment", c, nullptr));
  WEFT_ASSIGN_OR_RETURN(parsed->eku_client,
                        ConfExtension(NID_ext_key_usage, "clientAuth", c, nullptr));
  WEFT_ASSIGN_OR_RETURN(parsed->eku_server,
                        ConfExtension(NID_ext_key_usage, "serverAuth", c, nullptr));
  WEFT_ASSIGN_OR_RETURN(parsed->authority_key_id,
                        ConfExtension(NID_authority_key_identifier, "keyid:always", c, nullptr));
  return std::shared_ptr<const ParsedCa>(std::move(parsed));
}

Result<IssuedCert> SignCsr(const ParsedCa& ca, std::string_view csr_pem, const Subject& subject,
                           const IssueOptions& o, TimePoint now) {
  WEFT_ASSIGN_OR_RETURN(ReqPtr req, ReadCsr(csr_pem));
  WEFT_ASSIGN_OR_RETURN(EVP_PKEY * key, VerifiedCsrKey(req.get()));
  return SignPublicKey(ca, key, X509_REQ_get_X509_PUBKEY(req.get()), subject, o, now);
}

Result<IssuedCert> SignCsr(const CertAuthority& ca, std::string_view csr_pem,
                           const Subject& subject, const IssueOptions& o, TimePoint now) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const ParsedCa> parsed, ParseCa(ca));
  return SignCsr(*parsed, csr_pem, subject, o, now);
}

Result<std::pair<KeyPair, IssuedCert>> IssueKeyAndCert(const CertAuthority& ca,
                                                       const Subject& subject,
                                                       const IssueOptions& o, TimePoint now) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const ParsedCa> parsed, ParseCa(ca));
  WEFT_ASSIGN_OR_RETURN(PKeyPtr key, GenerateKey("EC", "P-256"));
  WEFT_ASSIGN_OR_RETURN(IssuedCert cert,
                        SignPublicKey(*parsed, key.get(), nullptr, subject, o, now));
  WEFT_ASSIGN_OR_RETURN(KeyPair pems, PemsOf(key.get()));
  return std::make_pair(std::move(pems), std::move(cert));
}

Result<CertInfo> ParseCert(std::string_view cert_pem) {
  WEFT_ASSIGN_OR_RETURN(X509Ptr cert, ReadCert(cert_pem, "the certificate"));
  return InfoOf(cert.get());
}

Result<std::shared_ptr<const TrustStore>> ParseTrustStore(std::string_view trusted_pem) {
  if (trusted_pem.size() > kMaxPemBytes) {
    return InvalidArgumentError("the trusted CA bundle is too large");
  }
  auto trust = std::make_shared<TrustStore>();
  trust->store.reset(X509_STORE_new());
  BioPtr bio = pki_internal::MemBio(trusted_pem);
  if (!trust->store || !bio) return InternalError(WithOpenSslErrors("cannot allocate a store"));
  int count = 0;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      const unsigned long err = ERR_peek_last_error();
      if (count > 0 && ERR_GET_LIB(err) == ERR_LIB_PEM &&
          ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the end of the bundle
        break;
      }
      return InvalidArgumentError(WithOpenSslErrors(
          "trusted CA certificate #" + std::to_string(count + 1) + " is not a PEM certificate"));
    }
    if (X509_STORE_add_cert(trust->store.get(), cert.get()) != 1) {
      // A duplicate certificate in the bundle is harmless.
      pki_internal::DrainOpenSslErrors();
    }
    ++count;
  }
  return std::shared_ptr<const TrustStore>(std::move(trust));
}

Result<CertInfo> VerifyCert(std::string_view cert_pem, const TrustStore& trusted, TimePoint now) {
  WEFT_ASSIGN_OR_RETURN(X509Ptr cert, ReadCert(cert_pem, "the certificate"));
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), trusted.store.get(), cert.get(), nullptr) != 1) {
    return InternalError(WithOpenSslErrors("cannot set up certificate verification"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // set_time also sets X509_V_FLAG_USE_CHECK_TIME. PARTIAL_CHAIN: any certificate in the trusted
  // set is an anchor (a manufacturer may hand out an intermediate CA).
  X509_VERIFY_PARAM_set_time(param, ToTimeT(now));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_USE_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    pki_internal::DrainOpenSslErrors();
    return PermissionDeniedError(
        DescribeCert(cert.get()) + " does not verify: " + X509_verify_cert_error_string(error) +
        " (at depth " + std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + ")");
  }
  return InfoOf(cert.get());
}

Result<CertInfo> VerifyCert(std::string_view cert_pem, std::string_view trusted_pem,
                            TimePoint now) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const TrustStore> trust, ParseTrustStore(trusted_pem));
  return VerifyCert(cert_pem, *trust, now);
}

Result<std::string> MakeCrl(const CertAuthority& ca, const std::vector<Revoked>& revoked,
                            TimePoint now, Micros next_update) {
  if (next_update.count() <= 0) return InvalidArgumentError("the CRL's next update must be later");
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const ParsedCa> parsed, ParseCa(ca));
  CrlPtr crl(X509_CRL_new());
  pki_internal::Asn1TimePtr last(ASN1_TIME_set(nullptr, ToTimeT(now)));
  pki_internal::Asn1TimePtr next(ASN1_TIME_set(nullptr, ToTimeT(now + next_update)));
  if (!crl || !last || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), parsed->issuer.get()) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot fill in the CRL"));
  }
  std::set<std::string> seen;
  for (const Revoked& r : revoked) {
    const std::string& hex = r.serial_hex;
    const bool is_hex =
        !hex.empty() && hex.size() <= 40 && std::all_of(hex.begin(), hex.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        });
    if (!is_hex) {
      return InvalidArgumentError("revoked serial '" + hex + "' is not 1 to 40 hex digits");
    }
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size())) {
      BN_free(raw);
      return InvalidArgumentError(WithOpenSslErrors("revoked serial '" + hex + "' is unreadable"));
    }
    BnPtr bn(raw);
    Asn1IntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    char* canonical = BN_bn2hex(bn.get());
    const std::string key = canonical != nullptr ? canonical : hex;
    OPENSSL_free(canonical);
    if (!seen.insert(key).second) continue;
    pki_internal::Asn1TimePtr when(ASN1_TIME_set(nullptr, ToTimeT(r.revoked_at)));
    X509_REVOKED* entry = X509_REVOKED_new();
    if (!serial || !when || entry == nullptr ||
        X509_REVOKED_set_serialNumber(entry, serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry, when.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry) != 1) {
      X509_REVOKED_free(entry);
      return InternalError(WithOpenSslErrors("cannot add serial " + hex + " to the CRL"));
    }
  }
  X509_CRL_sort(crl.get());
  // The CRL number increases with each rewrite: seconds since the epoch.
  Asn1IntPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), static_cast<int64_t>(ToTimeT(now))) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1 ||
      X509_CRL_add_ext(crl.get(), parsed->authority_key_id.get(), -1) != 1) {
    return InternalError(WithOpenSslErrors("cannot add the CRL extensions"));
  }
  if (X509_CRL_sign(crl.get(), parsed->key.get(), DigestFor(parsed->key.get())) <= 0) {
    return InternalError(WithOpenSslErrors("cannot sign the CRL"));
  }
  BioPtr bio = pki_internal::NewMemBio();
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return InternalError(WithOpenSslErrors("cannot encode the CRL"));
  }
  return pki_internal::BioText(bio.get());
}

}  // namespace weft::fleet
