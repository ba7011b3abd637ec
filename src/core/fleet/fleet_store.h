// FleetStore: the core's durable record of the fleet's onboarding: the allowlist of factory
// serials, one-time claim tokens (stored hashed), the provisioned devices and every certificate
// the fleet CA issued (with its revocation).
//
//   SystemClock& clock = SystemClock::Default();
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<FleetStore> store,
//                         FleetStore::Open(state_dir + "/fleet.db", &clock));
//   WEFT_RETURN_IF_ERROR(store->AddAllowlistEntry({.serial = "SN-0001", .device_id = "dev-0001",
//                                                  .site = "lyon", .hardware_model = "gw-200",
//                                                  .added_by = "ana@plant"}).status());
//   WEFT_ASSIGN_OR_RETURN(std::vector<DeviceRecord> devices, store->ListDevices());
//
// Storage: SQLite, WAL, synchronous=FULL (an issued or revoked certificate survives a power cut),
// migrations kept in PRAGMA user_version as in core/registry; SQL is fixed text with bound
// parameters. Times are µs since the Unix epoch (UTC).
//
// Invariants the store keeps (checked inside one BEGIN IMMEDIATE transaction, so they hold across
// threads and processes):
// - a device has at most one valid (not revoked) certificate: RecordIssuance revokes the previous
//   one with reason "superseded" when the public key changes, and returns the stored one instead
//   of inserting when the key is the same (idempotency);
// - a revoked device never gets a certificate again;
// - a claim token is used at most once.
//
// Ownership and thread-safety: owns its connection (closed by the destructor); every method is
// safe from several threads (one mutex serialises the connection; each call is short). `clock`
// is not owned and must outlive the store.
#ifndef WEFT_CORE_FLEET_FLEET_STORE_H_
#define WEFT_CORE_FLEET_FLEET_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

struct sqlite3;

namespace weft::core::fleet {

//! One factory serial allowed to onboard, and what it becomes.
struct AllowlistEntry {
  std::string serial{};     //!< factory serial (cert subject serialNumber, else CN)
  std::string device_id{};  //!< the fleet identity (cert CN); [A-Za-z0-9._-]{1,64}, unique
  std::string site{};       //!< plant site id (the device principal's grant scope)
  std::string hardware_model{};  //!< must equal the factory cert's OU
  std::string added_by{};
  TimePoint added_at{};
};

//! A claim token, without its secret.
struct ClaimTokenRecord {
  std::string sha256_hex;
  std::string serial;
  TimePoint created_at{};
  TimePoint expires_at{};
  std::optional<TimePoint> used_at;
};

//! A certificate the fleet CA issued.
struct CertificateRecord {
  std::string serial_hex;  //!< lowercase hex, random 128-bit
  std::string device_id;
  std::string fingerprint_sha256;  //!< hex of the DER
  std::string public_key_sha256;   //!< identifies the device key (idempotency)
  std::string cert_pem;
  TimePoint not_before{};
  TimePoint not_after{};
  TimePoint issued_at{};
  std::optional<TimePoint> revoked_at;
  std::string reason;  //!< revocation reason ("superseded", the operator's words); "" if valid
};

//! A provisioned device (engineer D's inventory joins on `id`).
struct DeviceRecord {
  std::string id, serial, site, hardware_model;
  bool revoked = false;
  TimePoint provisioned_at{};   //!< first certificate
  TimePoint cert_not_after{};   //!< of the current certificate
  std::string current_cert_serial;  //!< "" once revoked
  std::optional<TimePoint> revoked_at;
  std::string revoke_reason;
  std::string revoked_by;
};

//! What RecordIssuance stores: a signed certificate for the allowlisted device.
struct Issuance {
  AllowlistEntry entry;     //!< the device (id, serial, site, hardware model)
  CertificateRecord cert;   //!< signed, not yet stored (device_id == entry.device_id)
  //! Claim-token path: the token's SHA-256 hex; marked used in the same transaction
  //! (refused when used by an earlier call, unless that call's certificate is returned).
  std::string claim_token_sha256;
  //! Renewal: the serial of the certificate presented; refused unless it is still current.
  std::string renew_from_serial;
};

//! RecordIssuance's answer.
struct IssuanceOutcome {
  CertificateRecord cert;  //!< the device's certificate now (the stored one when idempotent)
  bool issued_new = false;  //!< false: the same key already had a certificate; it is returned
  bool new_device = false;  //!< the device's first certificate
  std::string superseded_serial;  //!< the previous certificate, revoked, or ""
};

//! A revoked certificate (for the CRL).
struct RevokedSerial {
  std::string serial_hex;
  TimePoint revoked_at{};
};

class FleetStore {
 public:
  static int SchemaVersion();

  //! Opens (creating) `path` and migrates it. REQUIRES: clock outlives the store.
  static Result<std::unique_ptr<FleetStore>> Open(const std::string& path, const Clock* clock);
  ~FleetStore();
  FleetStore(const FleetStore&) = delete;
  FleetStore& operator=(const FleetStore&) = delete;

  // --- allowlist ---
  //! Validates ids; added_at is set from the clock. AlreadyExists for a known serial or device id.
  Result<AllowlistEntry> AddAllowlistEntry(const AllowlistEntry& entry);
  //! NotFound when the serial is not on the allowlist.
  Result<AllowlistEntry> GetAllowlistEntry(std::string_view serial);
  //! Ordered by serial.
  Result<std::vector<AllowlistEntry>> ListAllowlist();

  // --- claim tokens ---
  //! Stores a token hash for an allowlisted serial (NotFound otherwise).
  Status AddClaimToken(std::string_view sha256_hex, std::string_view serial, TimePoint expires_at);
  //! NotFound for an unknown hash.
  Result<ClaimTokenRecord> GetClaimToken(std::string_view sha256_hex);

  // --- certificates and devices ---
  //! The one transaction of a provisioning or a renewal (see the invariants above).
  //! FailedPrecondition: device revoked, claim token used or expired, renewal from a certificate
  //! that is no longer current.
  Result<IssuanceOutcome> RecordIssuance(const Issuance& issuance);
  //! The device's current (valid) certificate, or nullopt.
  Result<std::optional<CertificateRecord>> CurrentCertificate(std::string_view device_id);
  //! NotFound for an unknown serial.
  Result<CertificateRecord> GetCertificate(std::string_view serial_hex);
  //! All the device's certificates, oldest first.
  Result<std::vector<CertificateRecord>> CertificatesOf(std::string_view device_id);

  //! Ordered by id.
  Result<std::vector<DeviceRecord>> ListDevices();
  //! NotFound for an unknown device.
  Result<DeviceRecord> GetDevice(std::string_view id);

  //! Revokes every valid certificate of the device and marks it revoked (for good). Returns the
  //! serials revoked by this call. NotFound for an unknown device; idempotent.
  Result<std::vector<std::string>> RevokeDevice(std::string_view device_id,
                                                std::string_view reason, std::string_view by);
  //! Every revoked certificate (for the CRL), ordered by serial.
  Result<std::vector<RevokedSerial>> RevokedCertificates();
  //! Ids of the devices that are provisioned and not revoked (for the broker ACL), ordered.
  Result<std::vector<std::string>> ActiveDeviceIds();

 private:
  FleetStore(std::string path, sqlite3* db, const Clock* clock);

  const std::string path_;
  const Clock* const clock_;
  std::mutex mutex_;
  sqlite3* const db_;  // GUARDED_BY(mutex_)
};

//! [A-Za-z0-9._-]{1,64}: device ids, serials (they become certificate subjects and ACL users).
Status ValidateFleetId(std::string_view what, std::string_view id);

}  // namespace weft::core::fleet

#endif  // WEFT_CORE_FLEET_FLEET_STORE_H_
