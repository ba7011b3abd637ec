// mosquitto configuration for the fleet's mutual-TLS broker: the listener's mosquitto.conf,
// the per-device ACL, and atomic file writes (the core rewrites crl.pem and acl, then SIGHUPs).
//
//   BrokerFiles files{.dir = state + "/broker"};
//   WEFT_RETURN_IF_ERROR(WriteFileAtomic(files.dir + "/mosquitto.conf",
//                                        MosquittoConf(files.dir, {.port = 8883}), 0644));
//   WEFT_ASSIGN_OR_RETURN(std::string acl, AclText({"dev-0001", "dev-0002"}));
//   WEFT_RETURN_IF_ERROR(WriteFileAtomic(files.dir + "/acl", acl, 0644));
//
// The broker identifies clients by their certificate's CN (use_identity_as_username), so the
// ACL's `user` lines are device ids. Files the broker reads must be readable by the user
// mosquitto drops to (when started as root): the caller chooses modes (server.key: 0640 with
// the right group, or 0644 in tests).
//
// Thread-safety: free functions without shared state. WriteFileAtomic to one path from two
// threads: last rename wins, readers never see a partial file.
#ifndef WEFT_FLEET_BROKER_CONFIG_H_
#define WEFT_FLEET_BROKER_CONFIG_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::fleet {

struct BrokerFiles {
  std::string dir{};  //!< <state>/broker
};

struct BrokerListener {
  std::string host = "127.0.0.1";
  uint16_t port = 8883;
};

//! mosquitto.conf text for the mTLS listener: per_listener_settings false, listener PORT HOST,
//! cafile <dir>/ca.pem (the fleet CA), certfile <dir>/server.pem, keyfile <dir>/server.key,
//! require_certificate true, use_identity_as_username true, crlfile <dir>/crl.pem,
//! acl_file <dir>/acl, tls_version tlsv1.2, allow_anonymous false, persistence false,
//! log_dest file <dir>/mosquitto.log, pid_file <dir>/mosquitto.pid.
std::string MosquittoConf(const std::string& dir, const BrokerListener& listener);

//! True when `id` is a valid device id / identity: [A-Za-z0-9._-]{1,64}.
bool IsValidDeviceId(std::string_view id);

//! The ACL text for these active devices (sorted, deduplicated): per device d
//!   user d / topic write weft/v1/edge/d/# / topic write weft/v1/uplink/d/# (its batches) /
//!   topic read weft/v1/edge/d/cmd/# /
//!   topic read weft/v1/edge/d/committed/#
//! and `user <service_identity>` / `topic readwrite #`. An invalid id is InvalidArgument (so no
//! wildcard, '+', '#', '/', space or newline can reach the file).
Result<std::string> AclText(const std::vector<std::string>& active_devices,
                            const std::string& service_identity = "weft-core");

//! Writes `data` to `path` via a temp file in the same directory: write, fchmod(mode), fsync,
//! rename, fsync of the directory. Errors name the path and the failing step.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode);

}  // namespace weft::fleet

#endif  // WEFT_FLEET_BROKER_CONFIG_H_
