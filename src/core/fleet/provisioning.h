// ProvisioningService: zero-touch provisioning on the core side. A device presents its factory
// identity (a certificate from a manufacturer CA plus a proof of possession of its key, or a
// one-time claim token) and a CSR; the core checks it, signs the CSR with the fleet CA (subject
// CN = the allowlisted device id), records the certificate and answers with the device's
// configuration (site, broker, topics, the CA, the OTA signing key).
//
//   ProvisioningOptions o;
//   o.state_dir = "/var/lib/weft";           // fleet.db, fleet/ca.{pem,key}, broker/
//   o.manufacturer_ca_pem = ReadFile("factory-ca.pem");
//   o.registry = registry; o.audit = audit; o.clock = &SystemClock::Default();
//   o.is_certified = [&](std::string_view hw) { return ota_registry.IsCertified(hw); };
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ProvisioningService> svc,
//                         ProvisioningService::Open(std::move(o)));
//   WEFT_RETURN_IF_ERROR(svc->WriteBrokerConfig({.host = "0.0.0.0", .port = 8883}).status());
//   Result<ProvisionResponse> r = svc->Provision({.factory_cert = pem, .proof = sig, .csr = csr,
//                                                  .remote_addr = "10.0.0.7"});
//
// Checks, in order (each refusal has its own message, is counted in stats() and audited with
// decision "deny"): the global rate; the caller's address has not been refused too often; the
// factory certificate chains to a manufacturer CA (or the claim token is known, unused, not
// expired); the proof (signature of fleet::kProvisionProofContext + csr) verifies with the
// factory certificate's key; the serial's rate; the serial (factory subject serialNumber, else
// CN) is on the allowlist; the factory OU equals the allowlisted hardware model; the hardware
// model is certified; the CSR parses (and its self-signature verifies); the device is not revoked.
//
// Guarantees:
// - One valid certificate per device. The same device with the same CSR public key gets its
//   stored certificate back (no new serial); a new key supersedes (the old certificate is revoked,
//   reason "superseded", and lands in the CRL). Calls for one device are serialised in-process
//   (striped locks, so the CA signs once) and by the database (BEGIN IMMEDIATE, a partial unique
//   index) across processes. Signing happens outside the database lock.
// - The device's registry principal (kind device, cert_subject = device id, role device on its
//   site) exists before its first certificate is stored.
// - A change of the active device set or of the revoked certificates rewrites the broker's
//   crl.pem + acl and SIGHUPs it before the call returns (rewrites shared by concurrent calls),
//   once WriteBrokerConfig has created <state>/broker.
//
// Thread-safety: every method is safe from several threads. Pointers in the options are not
// owned and must outlive the service.
#ifndef WEFT_CORE_FLEET_PROVISIONING_H_
#define WEFT_CORE_FLEET_PROVISIONING_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/audit/audit_log.h"
#include "core/fleet/broker_admin.h"
#include "core/fleet/fleet_store.h"
#include "core/fleet/rate_limiter.h"
#include "core/registry/registry_store.h"
#include "fleet/broker_config.h"
#include "fleet/pki.h"

namespace weft::core::fleet {

struct ProvisioningOptions {
  //! <state>: fleet.db, fleet/ca.{pem,key} (made on first use, key 0600), broker/.
  std::string state_dir;
  //! PEM bundle of the manufacturer CAs (--manufacturer-ca, repeatable: concatenate). Empty:
  //! factory certificates are refused (claim tokens still work).
  std::string manufacturer_ca_pem;
  Micros device_cert_validity = std::chrono::hours(24 * 30);  //!< --device-cert-validity
  RateLimit global_rate{500, 1000};                           //!< --provision-rate (burst 2x)
  RateLimit refused_per_address{10.0 / 60, 10};  //!< refused attempts per remote address
  RateLimit per_serial{10.0 / 60, 10};           //!< attempts per serial
  //! What devices are told to connect to ("mqtts://HOST:PORT"); "" = set by WriteBrokerConfig.
  std::string broker_url;
  //! Whether a hardware model is certified (D's registry); null = every model is certified.
  std::function<Result<bool>(std::string_view hardware_model)> is_certified;
  //! The OTA artifact signing public key (PEM) handed to devices; null = "".
  std::function<Result<std::string>()> ota_public_key;
  registry::RegistryStore* registry = nullptr;  //!< required
  audit::AuditLog* audit = nullptr;             //!< required
  const Clock* clock = nullptr;                 //!< required
};

//! POST /api/v1/provision. Either factory_cert + proof, or claim_token; always csr.
struct ProvisionRequest {
  std::string factory_cert{};  //!< PEM, issued by a manufacturer CA
  std::string proof{};  //!< base64 signature of kProvisionProofContext + csr (factory key)
  std::string claim_token{};  //!< instead of factory_cert + proof
  std::string csr{};          //!< PEM
  std::string remote_addr{};  //!< the caller's address (rate limiting, audit)
};

//! POST /api/v1/provision/renew.
struct RenewRequest {
  std::string certificate{};  //!< the device's current certificate (PEM)
  std::string proof{};  //!< signature of kProvisionProofContext + csr with the current key
  std::string csr{};
  std::string remote_addr{};
};

struct ProvisionResponse {
  std::string device_id, site, hardware_model;
  std::string certificate;  //!< PEM
  std::string serial_hex;
  std::string ca;  //!< the fleet CA (PEM): trust anchor for the broker and the core
  TimePoint not_after{}, renew_after{};
  std::string broker_url;
  std::string ota_public_key;
  bool issued_new = false;  //!< false: an earlier call's certificate, returned again
  std::string superseded_serial;

  //! The wire form: {"device_id","site","hardware_model","certificate","ca","not_after",
  //! "renew_after","broker":{"url"},"topics":{"prefix","publish","commands"},"ota_public_key"}.
  nlohmann::json ToJson() const;
};

struct RevokeOutcome {
  std::string device_id;
  std::vector<std::string> revoked_serials;  //!< by this call
  BrokerReload broker;
};

//! The files WriteBrokerConfig wrote.
struct BrokerConfigFiles {
  std::string dir, conf, ca, server_cert, server_key, crl, acl, core_cert, core_key;
  std::string url;  //!< mqtts://HOST:PORT
};

//! A claim token: the plaintext exists only in this answer.
struct IssuedClaimToken {
  std::string token;
  std::string serial;
  TimePoint expires_at{};
};

//! Counters since Open.
struct ProvisioningStats {
  uint64_t issued = 0;       //!< new certificates
  uint64_t idempotent = 0;   //!< an existing certificate returned again
  uint64_t superseded = 0;   //!< certificates replaced by a new key
  uint64_t renewed = 0;
  uint64_t revoked_devices = 0;
  uint64_t rate_limited = 0;
  std::map<std::string, uint64_t> refused;  //!< by reason code (see kRefusalReasons)
};

//! Refusal reason codes (audit detail "reason", stats().refused keys).
inline constexpr std::array<std::string_view, 14> kRefusalReasons = {
    "bad_request",         "untrusted_factory_cert", "bad_proof",
    "unknown_claim_token", "claim_token_used",       "claim_token_expired",
    "unknown_serial",      "hardware_model_mismatch", "uncertified_hardware_model",
    "bad_csr",             "device_revoked",         "untrusted_certificate",
    "not_current_certificate", "rate_limited"};

class ProvisioningService {
 public:
  //! Opens <state>/fleet.db, loads or creates the fleet CA, parses it and the manufacturer CAs
  //! once. InvalidArgument for missing options or an unreadable manufacturer bundle.
  static Result<std::unique_ptr<ProvisioningService>> Open(ProvisioningOptions options);
  ~ProvisioningService();
  ProvisioningService(const ProvisioningService&) = delete;
  ProvisioningService& operator=(const ProvisioningService&) = delete;

  //! See the checks above. Errors: PermissionDenied (identity refused), FailedPrecondition
  //! (uncertified model, revoked device, used/expired claim token), InvalidArgument (malformed
  //! request or CSR), ResourceExhausted (rate; `*retry_after` set when given), Unavailable
  //! (database busy: retry).
  Result<ProvisionResponse> Provision(const ProvisionRequest& request,
                                      Micros* retry_after = nullptr);
  //! Renewal with the current device certificate (must verify against the fleet CA, not be
  //! revoked, and be the device's current one). A new certificate, superseding the old one; a
  //! retry (the old one superseded by a certificate for the same CSR key) gets that one back.
  Result<ProvisionResponse> Renew(const RenewRequest& request, Micros* retry_after = nullptr);

  //! Revokes the device's certificates (for good), disables its principal, rewrites crl.pem and
  //! acl and SIGHUPs the broker (BrokerReload::note says "broker not managed" when none runs).
  //! Audited. NotFound for an unknown device.
  Result<RevokeOutcome> Revoke(std::string_view device_id, std::string_view reason,
                               std::string_view by);

  //! Adds a serial to the allowlist (audited by the API server's mutation records).
  Result<AllowlistEntry> AddToAllowlist(AllowlistEntry entry);
  //! A one-time claim token for an allowlisted serial, valid `ttl` (> 0, at most 30 days).
  Result<IssuedClaimToken> IssueClaimToken(std::string_view serial, Micros ttl);

  //! Writes <state>/broker: mosquitto.conf, ca.pem, server.{pem,key} (SAN localhost, 127.0.0.1
  //! and the listen host), crl.pem, acl, and the core's client certificate core.{pem,key}
  //! (CN weft-core). Sets the broker URL handed to devices unless the options fixed one.
  Result<BrokerConfigFiles> WriteBrokerConfig(const ::weft::fleet::BrokerListener& listener);
  //! Rewrites crl.pem + acl now and SIGHUPs the broker (no-op note when not configured).
  Result<BrokerReload> SyncBroker();

  FleetStore& store() { return *store_; }
  const std::string& ca_pem() const { return ca_.cert_pem; }
  std::string broker_url() const;
  ProvisioningStats stats() const;

 private:
  explicit ProvisioningService(ProvisioningOptions options);

  struct Identity;  // what the checks established: allowlist entry, CSR
  Result<ProvisionResponse> Issue(const Identity& id, const std::string& claim_token_sha256,
                                  const std::string& renew_from_serial);
  Status EnsurePrincipal(const AllowlistEntry& entry);
  Result<BrokerReload> RewriteBroker();
  bool BrokerConfigured() const;
  // A refusal: counted, charged to the address, audited; returns `s`.
  Status Refuse(std::string_view action, std::string_view reason, const Status& s,
                const std::string& remote_addr, const std::string& subject);
  Status RateLimited(std::string_view action, const RateDecision& d, Micros* retry_after,
                     const std::string& remote_addr, const std::string& what);
  void Audit(std::string_view action, std::string_view decision, const std::string& principal,
             const std::string& resource, nlohmann::json detail);
  std::mutex& DeviceLock(std::string_view device_id);

  ProvisioningOptions options_;
  std::unique_ptr<FleetStore> store_;
  ::weft::fleet::CertAuthority ca_;
  std::shared_ptr<const ::weft::fleet::ParsedCa> parsed_ca_;
  RateLimiter global_rate_;
  RateLimiter refused_per_address_;
  RateLimiter per_serial_;
  BrokerAdmin broker_admin_;
  std::unique_ptr<BrokerSync> broker_sync_;
  std::array<std::mutex, 256> device_locks_;

  mutable std::mutex mutex_;
  std::string broker_url_;     // GUARDED_BY(mutex_)
  ProvisioningStats stats_;    // GUARDED_BY(mutex_)
};

}  // namespace weft::core::fleet

#endif  // WEFT_CORE_FLEET_PROVISIONING_H_
