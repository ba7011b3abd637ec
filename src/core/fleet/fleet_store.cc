#include "core/fleet/fleet_store.h"

#include <sqlite3.h>

#include <array>
#include <utility>

#include "sqlite/statement.h"

namespace weft::core::fleet {
namespace {

using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::Statement;
using ::weft::sqlite::Transaction;

// One migration per element; never edit a released one, append. Times are µs since the epoch.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE allowlist (
  serial         TEXT PRIMARY KEY NOT NULL,
  device_id      TEXT NOT NULL UNIQUE,
  site           TEXT NOT NULL,
  hardware_model TEXT NOT NULL,
  added_by       TEXT NOT NULL,
  added_at_us    INTEGER NOT NULL
);
CREATE TABLE claim_tokens (
  sha256_hex    TEXT PRIMARY KEY NOT NULL,
  serial        TEXT NOT NULL REFERENCES allowlist (serial),
  created_at_us INTEGER NOT NULL,
  expires_at_us INTEGER NOT NULL,
  used_at_us    INTEGER
);
CREATE TABLE devices (
  id                  TEXT PRIMARY KEY NOT NULL,
  serial              TEXT NOT NULL UNIQUE REFERENCES allowlist (serial),
  site                TEXT NOT NULL,
  hardware_model      TEXT NOT NULL,
  provisioned_at_us   INTEGER NOT NULL,
  current_cert_serial TEXT NOT NULL DEFAULT '',
  revoked             INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  revoked_at_us       INTEGER,
  revoke_reason       TEXT NOT NULL DEFAULT '',
  revoked_by          TEXT NOT NULL DEFAULT ''
);
CREATE TABLE certificates (
  serial_hex        TEXT PRIMARY KEY NOT NULL,
  device_id         TEXT NOT NULL REFERENCES devices (id),
  fingerprint       TEXT NOT NULL UNIQUE,
  public_key_sha256 TEXT NOT NULL,
  cert_pem          TEXT NOT NULL,
  not_before_us     INTEGER NOT NULL,
  not_after_us      INTEGER NOT NULL,
  issued_at_us      INTEGER NOT NULL,
  revoked_at_us     INTEGER,
  reason            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX certificates_by_device ON certificates (device_id);
-- At most one valid certificate per device, enforced by the database itself.
CREATE UNIQUE INDEX one_valid_certificate ON certificates (device_id) WHERE revoked_at_us IS NULL;
)sql",
};

constexpr size_t kMaxText = 256;

Status ValidateText(std::string_view what, std::string_view text) {
  if (text.size() > kMaxText) {
    return InvalidArgumentError(std::string(what) + " is longer than 256 characters");
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgumentError(std::string(what) + " contains a control character");
    }
  }
  return Status::Ok();
}

constexpr std::string_view kAllowlistColumns =
    "serial, device_id, site, hardware_model, added_by, added_at_us";
AllowlistEntry ReadAllowlist(const Statement& r) {
  return AllowlistEntry{r.Text(0), r.Text(1), r.Text(2),
                        r.Text(3), r.Text(4), TimeFromUnixMicros(r.Int(5))};
}

constexpr std::string_view kCertColumns =
    "serial_hex, device_id, fingerprint, public_key_sha256, cert_pem, not_before_us, "
    "not_after_us, issued_at_us, revoked_at_us, reason";
CertificateRecord ReadCert(const Statement& r) {
  CertificateRecord c;
  c.serial_hex = r.Text(0);
  c.device_id = r.Text(1);
  c.fingerprint_sha256 = r.Text(2);
  c.public_key_sha256 = r.Text(3);
  c.cert_pem = r.Text(4);
  c.not_before = TimeFromUnixMicros(r.Int(5));
  c.not_after = TimeFromUnixMicros(r.Int(6));
  c.issued_at = TimeFromUnixMicros(r.Int(7));
  if (auto v = r.OptionalInt(8)) c.revoked_at = TimeFromUnixMicros(*v);
  c.reason = r.Text(9);
  return c;
}

// The device's current certificate's not_after comes from a join.
constexpr std::string_view kDeviceSelect =
    "SELECT d.id, d.serial, d.site, d.hardware_model, d.revoked, d.provisioned_at_us, "
    "COALESCE(c.not_after_us, 0), d.current_cert_serial, d.revoked_at_us, d.revoke_reason, "
    "d.revoked_by FROM devices d LEFT JOIN certificates c ON c.serial_hex = d.current_cert_serial";
DeviceRecord ReadDevice(const Statement& r) {
  DeviceRecord d;
  d.id = r.Text(0);
  d.serial = r.Text(1);
  d.site = r.Text(2);
  d.hardware_model = r.Text(3);
  d.revoked = r.Int(4) != 0;
  d.provisioned_at = TimeFromUnixMicros(r.Int(5));
  d.cert_not_after = TimeFromUnixMicros(r.Int(6));
  d.current_cert_serial = r.Text(7);
  if (auto v = r.OptionalInt(8)) d.revoked_at = TimeFromUnixMicros(*v);
  d.revoke_reason = r.Text(9);
  d.revoked_by = r.Text(10);
  return d;
}

std::string Cat(std::string_view a, std::string_view b, std::string_view c = "") {
  std::string s(a);
  s += b;
  s += c;
  return s;
}

Result<std::optional<CertificateRecord>> CurrentCertLocked(sqlite3* db, const std::string& path,
                                                           std::string_view device_id) {
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db, path,
                         Cat("SELECT ", kCertColumns,
                             " FROM certificates WHERE device_id = ?1 AND revoked_at_us IS NULL")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, device_id));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading the current certificate"));
  if (!row) return std::optional<CertificateRecord>();
  return std::optional<CertificateRecord>(ReadCert(q));
}

Result<std::optional<DeviceRecord>> DeviceLocked(sqlite3* db, const std::string& path,
                                                 std::string_view id) {
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db, path, Cat(kDeviceSelect, " WHERE d.id = ?1")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, id));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading a device"));
  if (!row) return std::optional<DeviceRecord>();
  return std::optional<DeviceRecord>(ReadDevice(q));
}

}  // namespace

Status ValidateFleetId(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return InvalidArgumentError(std::string(what) + " must be 1 to 64 characters, got " +
                                std::to_string(id.size()));
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidArgumentError(std::string(what) + " '" + std::string(id) +
                                  "' may contain only letters, digits and . _ -");
    }
  }
  if (id == "." || id == "..") {
    return InvalidArgumentError(std::string(what) + " cannot be '.' or '..'");
  }
  return Status::Ok();
}

int FleetStore::SchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

Result<std::unique_ptr<FleetStore>> FleetStore::Open(const std::string& path, const Clock* clock) {
  if (clock == nullptr) return InvalidArgumentError("fleet store " + path + ": no clock given");
  // FULL: an issued or revoked certificate must survive a power cut.
  WEFT_ASSIGN_OR_RETURN(sqlite3 * db,
                        ::weft::sqlite::OpenDatabase(path, "fleet", sqlite::Durability::kFull));
  std::unique_ptr<FleetStore> store(new FleetStore(path, db, clock));
  WEFT_RETURN_IF_ERROR(::weft::sqlite::Migrate(db, path, "fleet", kMigrations));
  return store;
}

FleetStore::FleetStore(std::string path, sqlite3* db, const Clock* clock)
    : path_(std::move(path)), clock_(clock), db_(db) {}

FleetStore::~FleetStore() {
  sqlite3_close_v2(db_);
}

Result<AllowlistEntry> FleetStore::AddAllowlistEntry(const AllowlistEntry& entry) {
  WEFT_RETURN_IF_ERROR(ValidateFleetId("serial", entry.serial));
  WEFT_RETURN_IF_ERROR(ValidateFleetId("device id", entry.device_id));
  WEFT_RETURN_IF_ERROR(ValidateFleetId("site", entry.site));
  WEFT_RETURN_IF_ERROR(ValidateFleetId("hardware model", entry.hardware_model));
  WEFT_RETURN_IF_ERROR(ValidateText("added_by", entry.added_by));
  AllowlistEntry out = entry;
  out.added_at = clock_->Now();
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_, path_,
                         "INSERT INTO allowlist (serial, device_id, site, hardware_model, "
                         "added_by, added_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  WEFT_RETURN_IF_ERROR(insert.BindAll(std::string_view(out.serial), std::string_view(out.device_id),
                                      std::string_view(out.site),
                                      std::string_view(out.hardware_model),
                                      std::string_view(out.added_by), UnixMicros(out.added_at)));
  Status s = insert.Run("adding to the allowlist");
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(s.message().find("serial") != std::string::npos
                                  ? "serial '" + out.serial + "' is already on the allowlist"
                                  : "device id '" + out.device_id +
                                        "' is already on the allowlist (another serial)");
  }
  WEFT_RETURN_IF_ERROR(s);
  return out;
}

Result<AllowlistEntry> FleetStore::GetAllowlistEntry(std::string_view serial) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        Cat("SELECT ", kAllowlistColumns,
                                                            " FROM allowlist WHERE serial = ?1")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, serial));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading the allowlist"));
  if (!row) return NotFoundError("serial '" + std::string(serial) + "' is not on the allowlist");
  return ReadAllowlist(q);
}

Result<std::vector<AllowlistEntry>> FleetStore::ListAllowlist() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        Cat("SELECT ", kAllowlistColumns,
                                                            " FROM allowlist ORDER BY serial")));
  std::vector<AllowlistEntry> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing the allowlist"));
    if (!row) break;
    out.push_back(ReadAllowlist(q));
  }
  return out;
}

Status FleetStore::AddClaimToken(std::string_view sha256_hex, std::string_view serial,
                                 TimePoint expires_at) {
  if (sha256_hex.size() != 64) return InvalidArgumentError("claim token hash must be 64 hex");
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_, path_,
                         "INSERT INTO claim_tokens (sha256_hex, serial, created_at_us, "
                         "expires_at_us, used_at_us) VALUES (?1, ?2, ?3, ?4, NULL)"));
  WEFT_RETURN_IF_ERROR(
      insert.BindAll(sha256_hex, serial, UnixMicros(clock_->Now()), UnixMicros(expires_at)));
  Status s = insert.Run("adding a claim token");
  if (s.code() == StatusCode::kNotFound) {
    return NotFoundError("serial '" + std::string(serial) + "' is not on the allowlist");
  }
  return s;
}

Result<ClaimTokenRecord> FleetStore::GetClaimToken(std::string_view sha256_hex) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "SELECT sha256_hex, serial, created_at_us, expires_at_us, used_at_us "
                         "FROM claim_tokens WHERE sha256_hex = ?1"));
  WEFT_RETURN_IF_ERROR(q.Bind(1, sha256_hex));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading a claim token"));
  if (!row) return NotFoundError("unknown claim token");
  ClaimTokenRecord t;
  t.sha256_hex = q.Text(0);
  t.serial = q.Text(1);
  t.created_at = TimeFromUnixMicros(q.Int(2));
  t.expires_at = TimeFromUnixMicros(q.Int(3));
  if (auto v = q.OptionalInt(4)) t.used_at = TimeFromUnixMicros(*v);
  return t;
}

Result<IssuanceOutcome> FleetStore::RecordIssuance(const Issuance& issuance) {
  const AllowlistEntry& e = issuance.entry;
  const CertificateRecord& cert = issuance.cert;
  if (cert.device_id != e.device_id) {
    return InternalError("RecordIssuance: certificate for '" + cert.device_id +
                         "' recorded for device '" + e.device_id + "'");
  }
  const TimePoint now = clock_->Now();
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, path_));

  WEFT_ASSIGN_OR_RETURN(std::optional<DeviceRecord> device, DeviceLocked(db_, path_, e.device_id));
  if (device && device->revoked) {
    return FailedPreconditionError("device '" + e.device_id + "' was revoked (" +
                                   device->revoke_reason + "); it cannot be provisioned again");
  }
  if (device && device->serial != e.serial) {
    return FailedPreconditionError("device '" + e.device_id + "' was provisioned with serial '" +
                                   device->serial + "', not '" + e.serial + "'");
  }
  WEFT_ASSIGN_OR_RETURN(std::optional<CertificateRecord> current,
                        CurrentCertLocked(db_, path_, e.device_id));
  if (!issuance.renew_from_serial.empty() &&
      (!current || current->serial_hex != issuance.renew_from_serial)) {
    return FailedPreconditionError("certificate " + issuance.renew_from_serial + " of device '" +
                                   e.device_id + "' is no longer its current one; provision again");
  }

  IssuanceOutcome out;
  // A renewal always gets a new certificate (a new validity), even for the same key.
  const bool same_key = current && issuance.renew_from_serial.empty() &&
                        current->public_key_sha256 == cert.public_key_sha256;

  if (!issuance.claim_token_sha256.empty()) {
    WEFT_ASSIGN_OR_RETURN(Statement q,
                          Statement::Prepare(db_, path_,
                                             "SELECT serial, expires_at_us, used_at_us "
                                             "FROM claim_tokens WHERE sha256_hex = ?1"));
    WEFT_RETURN_IF_ERROR(q.Bind(1, issuance.claim_token_sha256));
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading a claim token"));
    if (!row || q.Text(0) != e.serial) return PermissionDeniedError("unknown claim token");
    const bool used = !q.IsNull(2);
    // A used token still answers a retry of the call that used it (same key: the same
    // certificate comes back); anything else is a second use.
    if (used && !same_key) return FailedPreconditionError("claim token was already used");
    if (!used && TimeFromUnixMicros(q.Int(1)) <= now) {
      return FailedPreconditionError("claim token expired");
    }
    if (!used) {
      WEFT_ASSIGN_OR_RETURN(
          Statement mark,
          Statement::Prepare(db_, path_,
                             "UPDATE claim_tokens SET used_at_us = ?2 WHERE sha256_hex = ?1 AND "
                             "used_at_us IS NULL"));
      WEFT_RETURN_IF_ERROR(
          mark.BindAll(std::string_view(issuance.claim_token_sha256), UnixMicros(now)));
      WEFT_RETURN_IF_ERROR(mark.Run("using a claim token"));
    }
  }

  if (same_key) {
    WEFT_RETURN_IF_ERROR(txn.Commit());
    out.cert = *current;
    out.issued_new = false;
    return out;
  }
  if (current) {
    WEFT_ASSIGN_OR_RETURN(
        Statement revoke,
        Statement::Prepare(db_, path_,
                           "UPDATE certificates SET revoked_at_us = ?2, reason = 'superseded' "
                           "WHERE serial_hex = ?1"));
    WEFT_RETURN_IF_ERROR(revoke.BindAll(std::string_view(current->serial_hex), UnixMicros(now)));
    WEFT_RETURN_IF_ERROR(revoke.Run("revoking the superseded certificate"));
    out.superseded_serial = current->serial_hex;
  }
  if (!device) {
    WEFT_ASSIGN_OR_RETURN(
        Statement insert,
        Statement::Prepare(db_, path_,
                           "INSERT INTO devices (id, serial, site, hardware_model, "
                           "provisioned_at_us, current_cert_serial) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, '')"));
    WEFT_RETURN_IF_ERROR(insert.BindAll(std::string_view(e.device_id), std::string_view(e.serial),
                                        std::string_view(e.site),
                                        std::string_view(e.hardware_model), UnixMicros(now)));
    WEFT_RETURN_IF_ERROR(insert.Run("recording the device"));
    out.new_device = true;
  }
  WEFT_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_, path_,
                         "INSERT INTO certificates (serial_hex, device_id, fingerprint, "
                         "public_key_sha256, cert_pem, not_before_us, not_after_us, "
                         "issued_at_us, revoked_at_us, reason) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, '')"));
  WEFT_RETURN_IF_ERROR(
      insert.BindAll(std::string_view(cert.serial_hex), std::string_view(e.device_id),
                     std::string_view(cert.fingerprint_sha256),
                     std::string_view(cert.public_key_sha256), std::string_view(cert.cert_pem),
                     UnixMicros(cert.not_before), UnixMicros(cert.not_after), UnixMicros(now)));
  WEFT_RETURN_IF_ERROR(insert.Run("recording the certificate"));
  WEFT_ASSIGN_OR_RETURN(
      Statement update,
      Statement::Prepare(db_, path_, "UPDATE devices SET current_cert_serial = ?2 WHERE id = ?1"));
  WEFT_RETURN_IF_ERROR(
      update.BindAll(std::string_view(e.device_id), std::string_view(cert.serial_hex)));
  WEFT_RETURN_IF_ERROR(update.Run("updating the device"));
  WEFT_RETURN_IF_ERROR(txn.Commit());
  out.cert = cert;
  out.cert.issued_at = now;
  out.issued_new = true;
  return out;
}

Result<std::optional<CertificateRecord>> FleetStore::CurrentCertificate(
    std::string_view device_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return CurrentCertLocked(db_, path_, device_id);
}

Result<CertificateRecord> FleetStore::GetCertificate(std::string_view serial_hex) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         Cat("SELECT ", kCertColumns, " FROM certificates WHERE serial_hex = ?1")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, serial_hex));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading a certificate"));
  if (!row) {
    return NotFoundError("no certificate with serial " + std::string(serial_hex) +
                         " was issued by this fleet CA");
  }
  return ReadCert(q);
}

Result<std::vector<CertificateRecord>> FleetStore::CertificatesOf(std::string_view device_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         Cat("SELECT ", kCertColumns,
                             " FROM certificates WHERE device_id = ?1 ORDER BY issued_at_us, "
                             "rowid")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, device_id));
  std::vector<CertificateRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing certificates"));
    if (!row) break;
    out.push_back(ReadCert(q));
  }
  return out;
}

Result<std::vector<DeviceRecord>> FleetStore::ListDevices() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_, Cat(kDeviceSelect, " ORDER BY d.id")));
  std::vector<DeviceRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing devices"));
    if (!row) break;
    out.push_back(ReadDevice(q));
  }
  return out;
}

Result<DeviceRecord> FleetStore::GetDevice(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(std::optional<DeviceRecord> d, DeviceLocked(db_, path_, id));
  if (!d) return NotFoundError("unknown device '" + std::string(id) + "'");
  return *std::move(d);
}

Result<std::vector<std::string>> FleetStore::RevokeDevice(std::string_view device_id,
                                                          std::string_view reason,
                                                          std::string_view by) {
  WEFT_RETURN_IF_ERROR(ValidateText("revocation reason", reason));
  WEFT_RETURN_IF_ERROR(ValidateText("revoked by", by));
  const TimePoint now = clock_->Now();
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(std::optional<DeviceRecord> device, DeviceLocked(db_, path_, device_id));
  if (!device) return NotFoundError("unknown device '" + std::string(device_id) + "'");
  std::vector<std::string> revoked;
  {
    WEFT_ASSIGN_OR_RETURN(
        Statement q, Statement::Prepare(db_, path_,
                                        "SELECT serial_hex FROM certificates WHERE device_id = ?1 "
                                        "AND revoked_at_us IS NULL ORDER BY serial_hex"));
    WEFT_RETURN_IF_ERROR(q.Bind(1, device_id));
    while (true) {
      WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing certificates to revoke"));
      if (!row) break;
      revoked.push_back(q.Text(0));
    }
  }
  WEFT_ASSIGN_OR_RETURN(
      Statement certs, Statement::Prepare(db_, path_,
                                          "UPDATE certificates SET revoked_at_us = ?2, reason = ?3 "
                                          "WHERE device_id = ?1 AND revoked_at_us IS NULL"));
  WEFT_RETURN_IF_ERROR(certs.BindAll(device_id, UnixMicros(now), reason));
  WEFT_RETURN_IF_ERROR(certs.Run("revoking certificates"));
  if (!device->revoked) {
    WEFT_ASSIGN_OR_RETURN(
        Statement dev,
        Statement::Prepare(db_, path_,
                           "UPDATE devices SET revoked = 1, revoked_at_us = ?2, "
                           "revoke_reason = ?3, revoked_by = ?4, current_cert_serial = '' "
                           "WHERE id = ?1"));
    WEFT_RETURN_IF_ERROR(dev.BindAll(device_id, UnixMicros(now), reason, by));
    WEFT_RETURN_IF_ERROR(dev.Run("revoking the device"));
  }
  WEFT_RETURN_IF_ERROR(txn.Commit());
  return revoked;
}

Result<std::vector<RevokedSerial>> FleetStore::RevokedCertificates() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_,
                                           "SELECT serial_hex, revoked_at_us FROM certificates "
                                           "WHERE revoked_at_us IS NOT NULL ORDER BY serial_hex"));
  std::vector<RevokedSerial> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing revoked certificates"));
    if (!row) break;
    out.push_back({q.Text(0), TimeFromUnixMicros(q.Int(1))});
  }
  return out;
}

Result<std::vector<std::string>> FleetStore::ActiveDeviceIds() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_,
                                           "SELECT id FROM devices WHERE revoked = 0 AND "
                                           "current_cert_serial != '' ORDER BY id"));
  std::vector<std::string> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing active devices"));
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

}  // namespace weft::core::fleet
