// ZtpClient: the device side of zero-touch provisioning. A device that holds only its factory
// identity and the core's address gets a fleet certificate, its site and its broker from the core.
//
//   ZtpClient::Options o;
//   o.core_url = "https://core.plant:8443";
//   o.factory_dir = "/etc/weft/factory";        // factory.pem + factory.key (or claim.token),
//                                               // core-ca.pem (trust for the core's HTTPS)
//   o.state_dir = "/var/lib/weft-edge/identity";
//   o.clock = &SystemClock::Default();
//   WEFT_ASSIGN_OR_RETURN(DeviceIdentity id, ZtpClient::Ensure(o));
//   // id.cert_file / id.key_file / id.ca_file: mutual TLS to id.broker_url as id.device_id
//
// Protocol (JSON over HTTPS, the core's certificate verified against core-ca.pem):
//   POST <core>/api/v1/provision        {"csr", "factory_cert", "proof"} or {"csr", "claim_token"}
//   POST <core>/api/v1/provision/renew  {"csr", "certificate", "proof"}
// where proof = SignBytes(key, kProvisionProofContext + csr) with the factory key (provision) or
// the current device key (renew). A fresh P-256 device key is generated for every request; it
// is written (0600) only once the core has answered with a certificate for it.
//
// Durability: key.pem, cert.pem, ca.pem and identity.json in state_dir are each written with
// tmp + fsync + rename, identity.json last: a kill -9 leaves either the old identity or the new
// one (identity.json names the files of its own generation, so a half-written renewal is never
// paired with the wrong key).
//
// Thread-safety: Ensure is a static function without shared state; two processes must not share
// one state_dir.
#ifndef WEFT_FLEET_DEVICE_ZTP_CLIENT_H_
#define WEFT_FLEET_DEVICE_ZTP_CLIENT_H_

#include <chrono>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace weft::fleet {

//! The factory's files: `dir`/factory.pem, factory.key (a manufacturer-CA certificate and its
//! key), core-ca.pem (the CA that signed the core's HTTPS certificate), and optionally
//! claim.token (a one-time token, used when there is no factory.pem).
struct FactoryIdentity {
  std::string dir;
};

//! What the core assigned to this device, as kept in <state_dir>/identity.json.
struct DeviceIdentity {
  std::string device_id, site, hardware_model;
  std::string cert_file;  //!< the device certificate (PEM), signed by the fleet CA
  std::string key_file;   //!< its private key (PEM, 0600)
  std::string ca_file;    //!< the fleet CA (the broker's certificate chains to it)
  std::string broker_url;  //!< "mqtts://host:port"
  std::string ota_public_key_pem;  //!< the core's artifact signing key (Ed25519), pinned
  std::string topic_prefix;        //!< "weft/v1/edge/<device_id>"
  TimePoint not_after;    //!< the certificate's expiry
  TimePoint renew_after;  //!< Ensure renews from this time on
};

//! Reads <state_dir>/identity.json (and checks the files it names exist); NotFound when there
//! is none, DataLoss when it is corrupt.
Result<DeviceIdentity> LoadDeviceIdentity(const std::string& state_dir);

class ZtpClient {
 public:
  struct Options {
    std::string core_url;     //!< "https://host:port"
    std::string factory_dir;  //!< see FactoryIdentity
    std::string state_dir;    //!< e.g. <state>/identity; created (0700) when missing
    const Clock* clock = nullptr;  //!< null: SystemClock::Default()
    std::chrono::milliseconds timeout{10000};  //!< per HTTP request (connect, read, write)
    int max_attempts = 8;  //!< HTTP attempts in all (429, 503, connection errors are retried)
    //! How to wait between attempts; null: std::this_thread::sleep_for. Tests inject a recorder.
    std::function<void(std::chrono::milliseconds)> sleep;
    //! First backoff (doubled per attempt, capped at 60 s, with jitter); a Retry-After header
    //! from the core takes precedence.
    std::chrono::milliseconds initial_backoff{500};
  };

  //! Returns the identity in state_dir if there is one and it is not due for renewal
  //! (now < renew_after). Due: renews with the current certificate and key (falls back to
  //! provisioning with the factory identity when the core refuses the renewal or the certificate
  //! has expired). None: provisions. The new identity is persisted before it is returned.
  //! Backs off on 429 (Retry-After) and 503 and connection errors, up to max_attempts.
  //! Errors name the step ("provision: POST https://core/api/v1/provision: HTTP 403 forbidden:
  //! <the core's message>") and map: 4xx refusals -> PermissionDenied / InvalidArgument,
  //! exhausted retries -> Unavailable, bad factory files -> FailedPrecondition.
  static Result<DeviceIdentity> Ensure(const Options& options);
};

}  // namespace weft::fleet

#endif  // WEFT_FLEET_DEVICE_ZTP_CLIENT_H_
