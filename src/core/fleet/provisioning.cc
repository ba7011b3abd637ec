#include "core/fleet/provisioning.h"

#include <grp.h>
#include <openssl/rand.h>
#include <unistd.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>
#include <utility>

#include "common/log.h"
#include "common/time_format.h"
#include "fleet/signing.h"

namespace weft::core::fleet {
namespace {

namespace pki = ::weft::fleet;
namespace fs = std::filesystem;

constexpr std::string_view kProvisionAction = "fleet.provision";
constexpr std::string_view kRenewAction = "fleet.renew";
constexpr std::string_view kRevokeAction = "fleet.revoke";
constexpr std::string_view kCoreIdentity = "weft-core";
constexpr Micros kCaValidity = std::chrono::hours(24 * 365 * 20);
constexpr Micros kBrokerCertValidity = std::chrono::hours(24 * 365);
// CRLs are rewritten at every change and at every start (WriteBrokerConfig); nextUpdate only
// has to outlast the longest gap between those (OpenSSL refuses every client once it passes).
constexpr Micros kCrlNextUpdate = std::chrono::hours(24 * 365);
constexpr Micros kMaxClaimTokenTtl = std::chrono::hours(24 * 30);
constexpr size_t kMaxPemBytes = 16 * 1024;

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in.good() && !in.eof()) return UnavailableError("error reading " + path);
  return s.str();
}

Status MakeDir(const std::string& dir, fs::perms perms) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create directory " + dir + ": " + ec.message());
  fs::permissions(dir, perms, ec);
  if (ec) return UnavailableError("cannot set permissions of " + dir + ": " + ec.message());
  return Status::Ok();
}

// Loads <state>/fleet/ca.{pem,key}, creating them on first use.
Result<pki::CertAuthority> LoadOrMakeCa(const std::string& state_dir, TimePoint now) {
  const std::string dir = state_dir + "/fleet";
  const std::string cert_path = dir + "/ca.pem";
  const std::string key_path = dir + "/ca.key";
  std::error_code ec;
  const bool have_cert = fs::exists(cert_path, ec);
  const bool have_key = fs::exists(key_path, ec);
  if (have_cert && have_key) {
    pki::CertAuthority ca;
    WEFT_ASSIGN_OR_RETURN(ca.cert_pem, ReadWholeFile(cert_path));
    WEFT_ASSIGN_OR_RETURN(ca.key_pem, ReadWholeFile(key_path));
    return ca;
  }
  if (have_cert != have_key) {
    return FailedPreconditionError("fleet CA in " + dir + " is incomplete (" +
                                   (have_cert ? key_path : cert_path) +
                                   " is missing); restore it from backup: a new CA would orphan "
                                   "every provisioned device");
  }
  WEFT_RETURN_IF_ERROR(MakeDir(dir, fs::perms::owner_all));
  WEFT_ASSIGN_OR_RETURN(pki::CertAuthority ca,
                        pki::MakeCa({.common_name = "Weft Fleet CA", .organization = "Weft"},
                                    kCaValidity, now));
  // Key first: a crash in between leaves a key without certificate, refused above, never a
  // certificate whose key is lost.
  WEFT_RETURN_IF_ERROR(pki::WriteFileAtomic(key_path, ca.key_pem, 0600));
  WEFT_RETURN_IF_ERROR(pki::WriteFileAtomic(cert_path, ca.cert_pem, 0644));
  return ca;
}

std::string Base64Url(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

bool IsIpLiteral(std::string_view host) {
  if (host.empty()) return false;
  bool v4 = true;
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || c == '.')) v4 = false;
  }
  return v4 || host.find(':') != std::string_view::npos;
}

std::string Iso(TimePoint t) {
  return FormatTimestampMicros(UnixMicros(t));
}

}  // namespace

struct ProvisioningService::Identity {
  AllowlistEntry entry;
  pki::CsrInfo csr;
  std::string csr_pem;
};

nlohmann::json ProvisionResponse::ToJson() const {
  const std::string prefix = "weft/v1/edge/" + device_id;
  return {{"device_id", device_id},
          {"site", site},
          {"hardware_model", hardware_model},
          {"certificate", certificate},
          {"serial", serial_hex},
          {"ca", ca},
          {"not_after", Iso(not_after)},
          {"renew_after", Iso(renew_after)},
          {"broker", {{"url", broker_url}}},
          {"topics", {{"prefix", prefix}, {"publish", prefix + "/#"},
                      {"commands", prefix + "/cmd/#"}}},
          {"ota_public_key", ota_public_key},
          {"issued_new", issued_new}};
}

ProvisioningService::ProvisioningService(ProvisioningOptions options)
    : options_(std::move(options)),
      global_rate_(options_.global_rate, options_.clock, 1),
      refused_per_address_(options_.refused_per_address, options_.clock),
      per_serial_(options_.per_serial, options_.clock),
      broker_admin_(options_.state_dir + "/broker"),
      broker_url_(options_.broker_url) {
  broker_sync_ = std::make_unique<BrokerSync>([this] { return RewriteBroker(); });
  for (std::string_view r : kRefusalReasons) stats_.refused[std::string(r)] = 0;
}

ProvisioningService::~ProvisioningService() = default;

Result<std::unique_ptr<ProvisioningService>> ProvisioningService::Open(
    ProvisioningOptions options) {
  if (options.state_dir.empty()) return InvalidArgumentError("provisioning: no state directory");
  if (options.registry == nullptr || options.audit == nullptr || options.clock == nullptr) {
    return InvalidArgumentError("provisioning: registry, audit log and clock are required");
  }
  if (options.device_cert_validity <= Micros(0)) {
    return InvalidArgumentError("provisioning: --device-cert-validity must be positive");
  }
  if (options.global_rate.rate_per_s <= 0) {
    return InvalidArgumentError("provisioning: --provision-rate must be positive");
  }
  if (!options.manufacturer_ca_pem.empty()) {
    // One parse up front: an unreadable bundle is a configuration error, not a refusal later.
    Result<pki::CertInfo> first = pki::ParseCert(options.manufacturer_ca_pem);
    if (!first.ok()) {
      return InvalidArgumentError("--manufacturer-ca: not a PEM certificate bundle: " +
                                  first.status().message());
    }
  }
  WEFT_RETURN_IF_ERROR(MakeDir(options.state_dir, fs::perms::owner_all | fs::perms::group_read |
                                                      fs::perms::group_exec |
                                                      fs::perms::others_read |
                                                      fs::perms::others_exec));
  std::unique_ptr<ProvisioningService> svc(new ProvisioningService(std::move(options)));
  const ProvisioningOptions& o = svc->options_;
  WEFT_ASSIGN_OR_RETURN(svc->store_, FleetStore::Open(o.state_dir + "/fleet.db", o.clock));
  WEFT_ASSIGN_OR_RETURN(svc->ca_, LoadOrMakeCa(o.state_dir, o.clock->Now()));
  Result<std::shared_ptr<const pki::ParsedCa>> parsed = pki::ParseCa(svc->ca_);
  if (!parsed.ok()) {
    return DataLossError("fleet CA in " + o.state_dir + "/fleet: " + parsed.status().message());
  }
  svc->parsed_ca_ = *std::move(parsed);
  return svc;
}

std::string ProvisioningService::broker_url() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return broker_url_;
}

ProvisioningStats ProvisioningService::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

std::mutex& ProvisioningService::DeviceLock(std::string_view device_id) {
  return device_locks_[std::hash<std::string_view>{}(device_id) % device_locks_.size()];
}

void ProvisioningService::Audit(std::string_view action, std::string_view decision,
                                const std::string& principal, const std::string& resource,
                                nlohmann::json detail) {
  Result<uint64_t> r = options_.audit->Append({.principal = principal,
                                               .action = std::string(action),
                                               .resource = resource,
                                               .decision = std::string(decision),
                                               .detail = std::move(detail)});
  if (!r.ok()) spdlog::warn("provisioning: audit record not written: {}", r.status().ToString());
}

Status ProvisioningService::Refuse(std::string_view action, std::string_view reason,
                                   const Status& s, const std::string& remote_addr,
                                   const std::string& subject) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.refused[std::string(reason)];
  }
  // Only refusals count against the address: a fleet behind one NAT provisions freely, a
  // scanner trying serials is slowed down.
  if (!remote_addr.empty()) refused_per_address_.Charge(remote_addr);
  Audit(action, "deny", subject.empty() ? "anonymous" : subject, "fleet/provision",
        {{"reason", reason}, {"message", s.message()}, {"remote_addr", remote_addr}});
  return s;
}

Status ProvisioningService::RateLimited(std::string_view action, const RateDecision& d,
                                        Micros* retry_after, const std::string& remote_addr,
                                        const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.rate_limited;
    ++stats_.refused["rate_limited"];
  }
  if (retry_after != nullptr) *retry_after = d.retry_after;
  const int64_t seconds = std::max<int64_t>(1, (d.retry_after.count() + 999'999) / 1'000'000);
  Status s(StatusCode::kResourceExhausted,
           "too many provisioning requests (" + what + "); retry after " +
               std::to_string(seconds) + " s");
  Audit(action, "deny", "anonymous", "fleet/provision",
        {{"reason", "rate_limited"}, {"limit", what}, {"remote_addr", remote_addr}});
  return s;
}

Result<ProvisionResponse> ProvisioningService::Provision(const ProvisionRequest& request,
                                                         Micros* retry_after) {
  const std::string& addr = request.remote_addr;
  if (RateDecision d = global_rate_.Take("*"); !d.allowed) {
    return RateLimited(kProvisionAction, d, retry_after, addr, "global");
  }
  if (!addr.empty()) {
    if (RateDecision d = refused_per_address_.Check(addr); !d.allowed) {
      return RateLimited(kProvisionAction, d, retry_after, addr, "refused attempts from " + addr);
    }
  }
  auto refuse = [&](std::string_view reason, const Status& s, const std::string& subject) {
    return Refuse(kProvisionAction, reason, s, addr, subject);
  };
  if (request.csr.empty() || request.csr.size() > kMaxPemBytes ||
      request.factory_cert.size() > kMaxPemBytes) {
    return refuse("bad_request",
                  InvalidArgumentError("provision: csr is required (PEM, at most 16 KiB)"), "");
  }
  const bool by_token = !request.claim_token.empty();
  if (by_token == !request.factory_cert.empty()) {
    return refuse("bad_request",
                  InvalidArgumentError("provision: give either factory_cert and proof, or "
                                       "claim_token"),
                  "");
  }
  const TimePoint now = options_.clock->Now();

  std::string serial;
  std::string factory_ou;
  std::string token_hash;
  std::optional<ClaimTokenRecord> token;
  if (by_token) {
    token_hash = pki::Sha256Hex(request.claim_token);
    Result<ClaimTokenRecord> t = store_->GetClaimToken(token_hash);
    if (!t.ok()) {
      if (t.status().code() != StatusCode::kNotFound) return t.status();
      return refuse("unknown_claim_token", PermissionDeniedError("unknown claim token"), "");
    }
    token = *std::move(t);
    serial = token->serial;
    if (!token->used_at && token->expires_at <= now) {
      return refuse("claim_token_expired",
                    FailedPreconditionError("claim token for serial '" + serial +
                                            "' expired at " + Iso(token->expires_at)),
                    "factory:" + serial);
    }
  } else {
    if (options_.manufacturer_ca_pem.empty()) {
      return refuse("untrusted_factory_cert",
                    PermissionDeniedError("factory certificate refused: this core trusts no "
                                          "manufacturer CA (--manufacturer-ca)"),
                    "");
    }
    Result<pki::CertInfo> factory =
        pki::VerifyCert(request.factory_cert, options_.manufacturer_ca_pem, now);
    if (!factory.ok()) {
      return refuse("untrusted_factory_cert",
                    PermissionDeniedError("factory certificate does not chain to a trusted "
                                          "manufacturer CA: " +
                                          factory.status().message()),
                    "");
    }
    serial = factory->subject.serial_number.empty() ? factory->subject.common_name
                                                    : factory->subject.serial_number;
    factory_ou = factory->subject.organizational_unit;
    std::string signed_text(pki::kProvisionProofContext);
    signed_text += request.csr;
    Status proof = pki::VerifyBytes(request.factory_cert, signed_text, request.proof);
    if (!proof.ok()) {
      return refuse("bad_proof",
                    PermissionDeniedError("proof of possession does not verify with the factory "
                                          "certificate's key (sign \"weft-provision-v1\\n\" + "
                                          "csr with the factory key): " +
                                          proof.message()),
                    "factory:" + serial);
    }
  }
  const std::string who = "factory:" + serial;
  if (RateDecision d = per_serial_.Take(serial); !d.allowed) {
    return RateLimited(kProvisionAction, d, retry_after, addr, "serial " + serial);
  }
  Result<AllowlistEntry> entry = store_->GetAllowlistEntry(serial);
  if (!entry.ok()) {
    if (entry.status().code() != StatusCode::kNotFound) return entry.status();
    return refuse("unknown_serial",
                  PermissionDeniedError("serial '" + serial + "' is not on the allowlist"), who);
  }
  if (!by_token && factory_ou != entry->hardware_model) {
    return refuse("hardware_model_mismatch",
                  PermissionDeniedError("factory certificate says hardware model '" + factory_ou +
                                        "' (subject OU) but the allowlist says '" +
                                        entry->hardware_model + "' for serial '" + serial + "'"),
                  who);
  }
  if (options_.is_certified) {
    Result<bool> certified = options_.is_certified(entry->hardware_model);
    if (!certified.ok()) return certified.status().WithContext("checking the hardware model");
    if (!*certified) {
      return refuse("uncertified_hardware_model",
                    FailedPreconditionError("hardware model '" + entry->hardware_model +
                                            "' is not certified"),
                    who);
    }
  }
  Result<pki::CsrInfo> csr = pki::ParseCsr(request.csr);
  if (!csr.ok()) {
    return refuse("bad_csr", InvalidArgumentError("csr: " + csr.status().message()), who);
  }
  Identity id{*std::move(entry), *std::move(csr), request.csr};
  Result<ProvisionResponse> r = Issue(id, token_hash, "");
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.code() == StatusCode::kFailedPrecondition) {
      const bool used = s.message().find("already used") != std::string::npos;
      const bool revoked = s.message().find("revoked") != std::string::npos;
      return refuse(used ? "claim_token_used" : revoked ? "device_revoked" : "bad_request", s,
                    who);
    }
    if (s.code() == StatusCode::kPermissionDenied) return refuse("unknown_claim_token", s, who);
    Audit(kProvisionAction, "error", who, "fleet/devices/" + id.entry.device_id,
          {{"message", s.message()}, {"remote_addr", addr}});
    return s;
  }
  Audit(kProvisionAction, "done", r->device_id, "fleet/devices/" + r->device_id,
        {{"serial", serial},
         {"certificate", r->serial_hex},
         {"issued_new", r->issued_new},
         {"superseded", r->superseded_serial},
         {"via", by_token ? "claim" : "factory_cert"},
         {"remote_addr", addr}});
  return r;
}

Status ProvisioningService::EnsurePrincipal(const AllowlistEntry& entry) {
  registry::RegistryStore& reg = *options_.registry;
  Result<registry::Principal> p = reg.GetPrincipal(entry.device_id);
  if (p.ok()) {
    if (p->kind != registry::PrincipalKind::kDevice) {
      return FailedPreconditionError("principal '" + entry.device_id +
                                     "' exists and is not a device; choose another device id");
    }
    if (p->disabled) {
      return FailedPreconditionError("device '" + entry.device_id +
                                     "' was revoked (its principal is disabled)");
    }
  } else if (p.status().code() == StatusCode::kNotFound) {
    Result<registry::Principal> created = reg.CreatePrincipal(
        {entry.device_id, registry::PrincipalKind::kDevice,
         "device " + entry.device_id + " (" + entry.hardware_model + ")", entry.device_id});
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return created.status().WithContext("creating the device principal");
    }
  } else {
    return p.status();
  }
  Result<registry::Grant> g =
      reg.AddGrant({entry.device_id, registry::Role::kDevice, entry.site, std::nullopt});
  if (!g.ok() && g.status().code() != StatusCode::kAlreadyExists) {
    return g.status().WithContext("granting the device role");
  }
  return Status::Ok();
}

Result<ProvisionResponse> ProvisioningService::Issue(const Identity& id,
                                                     const std::string& claim_token_sha256,
                                                     const std::string& renew_from_serial) {
  const AllowlistEntry& e = id.entry;
  // One device at a time in this process: the CA signs once per device and key.
  std::lock_guard<std::mutex> device_lock(DeviceLock(e.device_id));
  WEFT_ASSIGN_OR_RETURN(std::optional<CertificateRecord> current,
                        store_->CurrentCertificate(e.device_id));
  const bool same_key = current && current->public_key_sha256 == id.csr.public_key_sha256;
  CertificateRecord cert;
  if (same_key && renew_from_serial.empty()) {
    cert = *current;  // idempotent: RecordIssuance returns the stored one
  } else {
    WEFT_RETURN_IF_ERROR(EnsurePrincipal(e));
    const TimePoint now = options_.clock->Now();
    pki::Subject subject{.common_name = e.device_id,
                         .serial_number = e.serial,
                         .organization = "Weft fleet",
                         .organizational_unit = e.hardware_model};
    WEFT_ASSIGN_OR_RETURN(
        pki::IssuedCert issued,
        pki::SignCsr(*parsed_ca_, id.csr_pem, subject,
                     {.validity = options_.device_cert_validity}, now));
    cert.serial_hex = issued.serial_hex;
    cert.device_id = e.device_id;
    cert.fingerprint_sha256 = issued.fingerprint_sha256;
    cert.public_key_sha256 = id.csr.public_key_sha256;
    cert.cert_pem = issued.cert_pem;
    cert.not_before = issued.not_before;
    cert.not_after = issued.not_after;
  }
  WEFT_ASSIGN_OR_RETURN(IssuanceOutcome outcome,
                        store_->RecordIssuance({e, cert, claim_token_sha256, renew_from_serial}));
  if (outcome.issued_new && (outcome.new_device || !outcome.superseded_serial.empty())) {
    // The ACL (a new device) or the CRL (a superseded certificate) changed: the broker must know
    // before the device is told to connect.
    Result<BrokerReload> reload = broker_sync_->Sync();
    if (!reload.ok()) {
      spdlog::warn("provisioning: broker files not rewritten after issuing to '{}': {}",
                    e.device_id, reload.status().ToString());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!outcome.issued_new) {
      ++stats_.idempotent;
    } else {
      ++stats_.issued;
      if (!outcome.superseded_serial.empty()) ++stats_.superseded;
      if (!renew_from_serial.empty()) ++stats_.renewed;
    }
  }
  const CertificateRecord& c = outcome.cert;
  ProvisionResponse r;
  r.device_id = e.device_id;
  r.site = e.site;
  r.hardware_model = e.hardware_model;
  r.certificate = c.cert_pem;
  r.serial_hex = c.serial_hex;
  r.ca = ca_.cert_pem;
  r.not_after = c.not_after;
  // Renew after 2/3 of the validity.
  r.renew_after = c.not_before + (c.not_after - c.not_before) * 2 / 3;
  r.broker_url = broker_url();
  if (options_.ota_public_key) {
    Result<std::string> key = options_.ota_public_key();
    if (key.ok()) {
      r.ota_public_key = *std::move(key);
    } else {
      spdlog::warn("provisioning: OTA public key unavailable: {}", key.status().ToString());
    }
  }
  r.issued_new = outcome.issued_new;
  r.superseded_serial = outcome.superseded_serial;
  return r;
}

Result<ProvisionResponse> ProvisioningService::Renew(const RenewRequest& request,
                                                     Micros* retry_after) {
  const std::string& addr = request.remote_addr;
  if (RateDecision d = global_rate_.Take("*"); !d.allowed) {
    return RateLimited(kRenewAction, d, retry_after, addr, "global");
  }
  if (!addr.empty()) {
    if (RateDecision d = refused_per_address_.Check(addr); !d.allowed) {
      return RateLimited(kRenewAction, d, retry_after, addr, "refused attempts from " + addr);
    }
  }
  auto refuse = [&](std::string_view reason, const Status& s, const std::string& subject) {
    return Refuse(kRenewAction, reason, s, addr, subject);
  };
  if (request.csr.empty() || request.certificate.empty() || request.csr.size() > kMaxPemBytes ||
      request.certificate.size() > kMaxPemBytes) {
    return refuse("bad_request",
                  InvalidArgumentError("renew: certificate and csr are required (PEM, at most "
                                       "16 KiB each)"),
                  "");
  }
  const TimePoint now = options_.clock->Now();
  Result<pki::CertInfo> presented = pki::VerifyCert(request.certificate, ca_.cert_pem, now);
  if (!presented.ok()) {
    return refuse("untrusted_certificate",
                  PermissionDeniedError("certificate was not issued by this fleet CA or is no "
                                        "longer valid: " +
                                        presented.status().message()),
                  "");
  }
  const std::string device_id = presented->subject.common_name;
  std::string signed_text(pki::kProvisionProofContext);
  signed_text += request.csr;
  Status proof = pki::VerifyBytes(request.certificate, signed_text, request.proof);
  if (!proof.ok()) {
    return refuse("bad_proof",
                  PermissionDeniedError("proof of possession does not verify with the "
                                        "certificate's key: " +
                                        proof.message()),
                  device_id);
  }
  Result<CertificateRecord> record = store_->GetCertificate(presented->serial_hex);
  if (!record.ok()) {
    if (record.status().code() != StatusCode::kNotFound) return record.status();
    return refuse("untrusted_certificate", PermissionDeniedError(record.status().message()),
                  device_id);
  }
  if (record->device_id != device_id) {
    return refuse("untrusted_certificate",
                  PermissionDeniedError("certificate " + record->serial_hex +
                                        " does not belong to '" + device_id + "'"),
                  device_id);
  }
  if (record->revoked_at && record->reason != "superseded") {
    return refuse("device_revoked",
                  FailedPreconditionError("certificate " + record->serial_hex +
                                          " was revoked (" + record->reason + ")"),
                  device_id);
  }
  if (RateDecision d = per_serial_.Take("device:" + device_id); !d.allowed) {
    return RateLimited(kRenewAction, d, retry_after, addr, "device " + device_id);
  }
  Result<DeviceRecord> device = store_->GetDevice(device_id);
  if (!device.ok()) return device.status();
  Result<pki::CsrInfo> csr = pki::ParseCsr(request.csr);
  if (!csr.ok()) {
    return refuse("bad_csr", InvalidArgumentError("csr: " + csr.status().message()), device_id);
  }
  Identity id{{device->serial, device->id, device->site, device->hardware_model, "", {}},
              *std::move(csr), request.csr};
  Result<ProvisionResponse> r = [&]() -> Result<ProvisionResponse> {
    if (record->revoked_at) {
      // A retry of a renewal that succeeded: the superseding certificate for this key.
      WEFT_ASSIGN_OR_RETURN(std::optional<CertificateRecord> current,
                            store_->CurrentCertificate(device_id));
      if (!current || current->public_key_sha256 != id.csr.public_key_sha256) {
        return FailedPreconditionError("certificate " + record->serial_hex +
                                       " was superseded; it is no longer the device's current "
                                       "one (provision again with the factory identity)");
      }
      return Issue(id, "", "");  // same key, not a renewal: returns the current certificate
    }
    return Issue(id, "", record->serial_hex);
  }();
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.code() == StatusCode::kFailedPrecondition) {
      const bool revoked = s.message().find("revoked") != std::string::npos &&
                           s.message().find("superseded") == std::string::npos;
      return refuse(revoked ? "device_revoked" : "not_current_certificate", s, device_id);
    }
    Audit(kRenewAction, "error", device_id, "fleet/devices/" + device_id,
          {{"message", s.message()}, {"remote_addr", addr}});
    return s;
  }
  Audit(kRenewAction, "done", device_id, "fleet/devices/" + device_id,
        {{"from", record->serial_hex},
         {"certificate", r->serial_hex},
         {"issued_new", r->issued_new},
         {"remote_addr", addr}});
  return r;
}

Result<RevokeOutcome> ProvisioningService::Revoke(std::string_view device_id,
                                                  std::string_view reason, std::string_view by) {
  const std::string resource = "fleet/devices/" + std::string(device_id);
  if (reason.empty()) return InvalidArgumentError("revoke: a reason is required");
  RevokeOutcome out;
  out.device_id = std::string(device_id);
  {
    std::lock_guard<std::mutex> device_lock(DeviceLock(device_id));
    WEFT_ASSIGN_OR_RETURN(out.revoked_serials, store_->RevokeDevice(device_id, reason, by));
  }
  Status disabled = options_.registry->DisablePrincipal(device_id);
  if (!disabled.ok() && disabled.code() != StatusCode::kNotFound) {
    Audit(kRevokeAction, "error", std::string(by), resource,
          {{"message", disabled.message()}, {"revoked", out.revoked_serials}});
    return disabled.WithContext("certificates revoked, but disabling the device principal");
  }
  Result<BrokerReload> reload = broker_sync_->Sync();
  if (!reload.ok()) {
    Audit(kRevokeAction, "error", std::string(by), resource,
          {{"message", reload.status().message()}, {"revoked", out.revoked_serials}});
    return reload.status().WithContext(
        "certificates revoked, but the broker's CRL/ACL could not be rewritten (retry)");
  }
  out.broker = *std::move(reload);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.revoked_devices;
  }
  Audit(kRevokeAction, "done", std::string(by), resource,
        {{"reason", reason}, {"revoked", out.revoked_serials}, {"broker", out.broker.note}});
  return out;
}

Result<AllowlistEntry> ProvisioningService::AddToAllowlist(AllowlistEntry entry) {
  return store_->AddAllowlistEntry(entry);
}

Result<IssuedClaimToken> ProvisioningService::IssueClaimToken(std::string_view serial,
                                                              Micros ttl) {
  if (ttl <= Micros(0) || ttl > kMaxClaimTokenTtl) {
    return InvalidArgumentError("claim token lifetime must be between 1 s and 30 days");
  }
  WEFT_RETURN_IF_ERROR(store_->GetAllowlistEntry(serial).status());
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return InternalError("claim token: the random generator failed");
  }
  IssuedClaimToken t;
  t.token = "wclaim_" + Base64Url(bytes, sizeof bytes);
  t.serial = std::string(serial);
  t.expires_at = options_.clock->Now() + ttl;
  WEFT_RETURN_IF_ERROR(store_->AddClaimToken(pki::Sha256Hex(t.token), serial, t.expires_at));
  return t;
}

bool ProvisioningService::BrokerConfigured() const {
  std::error_code ec;
  return fs::exists(broker_admin_.dir() + "/mosquitto.conf", ec);
}

Result<BrokerReload> ProvisioningService::RewriteBroker() {
  if (!BrokerConfigured()) {
    BrokerReload r;
    r.note = "broker not managed: " + broker_admin_.dir() +
             "/mosquitto.conf does not exist (weft-core --broker-listen writes it)";
    return r;
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<RevokedSerial> revoked, store_->RevokedCertificates());
  std::vector<pki::Revoked> list;
  list.reserve(revoked.size());
  for (RevokedSerial& r : revoked) list.push_back({std::move(r.serial_hex), r.revoked_at});
  WEFT_ASSIGN_OR_RETURN(std::string crl,
                        pki::MakeCrl(ca_, list, options_.clock->Now(), kCrlNextUpdate));
  WEFT_ASSIGN_OR_RETURN(std::vector<std::string> active, store_->ActiveDeviceIds());
  WEFT_ASSIGN_OR_RETURN(std::string acl, pki::AclText(active, std::string(kCoreIdentity)));
  return broker_admin_.Apply(crl, acl);
}

Result<BrokerReload> ProvisioningService::SyncBroker() {
  return broker_sync_->Sync();
}

Result<BrokerConfigFiles> ProvisioningService::WriteBrokerConfig(
    const pki::BrokerListener& listener) {
  BrokerConfigFiles f;
  f.dir = broker_admin_.dir();
  f.conf = f.dir + "/mosquitto.conf";
  f.ca = f.dir + "/ca.pem";
  f.server_cert = f.dir + "/server.pem";
  f.server_key = f.dir + "/server.key";
  f.crl = broker_admin_.CrlPath();
  f.acl = broker_admin_.AclPath();
  f.core_cert = f.dir + "/core.pem";
  f.core_key = f.dir + "/core.key";
  std::string host = listener.host;
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "localhost";
  f.url = "mqtts://" + host + ":" + std::to_string(listener.port);

  // rwx for the owner, r-x (and write, for its log) for the broker's group, nothing for others.
  WEFT_RETURN_IF_ERROR(MakeDir(f.dir, fs::perms::owner_all | fs::perms::group_all));
  if (::geteuid() == 0) {
    // mosquitto started as root drops to its own user: it must reach the directory and write
    // its log there.
    if (const struct group* g = ::getgrnam("mosquitto"); g != nullptr) {
      (void)::chown(f.dir.c_str(), static_cast<uid_t>(-1), g->gr_gid);
    }
  }
  const TimePoint now = options_.clock->Now();
  pki::IssueOptions server{.validity = kBrokerCertValidity, .server = true};
  server.dns_sans = {"localhost"};
  server.ip_sans = {"127.0.0.1"};
  if (!listener.host.empty() && listener.host != "0.0.0.0" && listener.host != "::" &&
      listener.host != "localhost" && listener.host != "127.0.0.1") {
    (IsIpLiteral(listener.host) ? server.ip_sans : server.dns_sans).push_back(listener.host);
  }
  WEFT_ASSIGN_OR_RETURN(auto server_pair,
                        pki::IssueKeyAndCert(ca_, {.common_name = "weft-broker"}, server, now));
  WEFT_ASSIGN_OR_RETURN(
      auto core_pair,
      pki::IssueKeyAndCert(ca_, {.common_name = std::string(kCoreIdentity)},
                           {.validity = kBrokerCertValidity}, now));
  WEFT_RETURN_IF_ERROR(broker_admin_.WriteBrokerFile(f.ca, ca_.cert_pem, 0644));
  WEFT_RETURN_IF_ERROR(broker_admin_.WriteBrokerFile(f.server_key,
                                                     server_pair.first.private_pem, 0640));
  WEFT_RETURN_IF_ERROR(
      broker_admin_.WriteBrokerFile(f.server_cert, server_pair.second.cert_pem, 0644));
  WEFT_RETURN_IF_ERROR(pki::WriteFileAtomic(f.core_key, core_pair.first.private_pem, 0600));
  WEFT_RETURN_IF_ERROR(pki::WriteFileAtomic(f.core_cert, core_pair.second.cert_pem, 0644));
  WEFT_RETURN_IF_ERROR(
      broker_admin_.WriteBrokerFile(f.conf, pki::MosquittoConf(f.dir, listener), 0644));
  // Now configured: CRL and ACL from the store (and a reload if the broker already runs).
  WEFT_RETURN_IF_ERROR(broker_sync_->Sync().status());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (options_.broker_url.empty()) broker_url_ = f.url;
  }
  return f;
}

}  // namespace weft::core::fleet
