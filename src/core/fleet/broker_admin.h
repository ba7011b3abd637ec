// BrokerAdmin: the core's handle on the fleet's mosquitto (mutual TLS, per-device ACL): it
// rewrites the broker's crl.pem and acl atomically and tells the broker to reload them (SIGHUP to
// the pid in <dir>/mosquitto.pid). BrokerSync coalesces many rewrite requests into few rewrites
// (group commit): 1,000 devices provisioning at once cause a handful of reloads, not 1,000.
//
//   BrokerAdmin admin(state_dir + "/broker");
//   WEFT_ASSIGN_OR_RETURN(BrokerReload r, admin.Apply(crl_pem, acl_text));
//   if (!r.signalled) LOG(...) << r.note;   // "broker not managed: no <dir>/mosquitto.pid"
//
//   BrokerSync sync([&]() -> Result<BrokerReload> { ...render from the store, admin.Apply... });
//   WEFT_ASSIGN_OR_RETURN(BrokerReload r, sync.Sync());   // covers every change committed before
//
// The pid file is trusted only if /proc/<pid>/comm names mosquitto (a stale pid file never makes
// the core signal an unrelated process). When weft-core runs as root and a `mosquitto` group
// exists, the files are given to that group (mosquitto drops to that user and re-reads them on
// SIGHUP).
//
// Thread-safety: BrokerAdmin::Apply serialises itself (one mutex); BrokerSync::Sync is safe from
// any number of threads.
#ifndef WEFT_CORE_FLEET_BROKER_ADMIN_H_
#define WEFT_CORE_FLEET_BROKER_ADMIN_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::core::fleet {

//! What a rewrite did.
struct BrokerReload {
  bool signalled = false;  //!< SIGHUP sent to a running broker
  std::optional<pid_t> pid;
  std::string note;  //!< "reloaded broker pid N", or why no broker was signalled
};

class BrokerAdmin {
 public:
  //! `dir`: <state>/broker (mosquitto.conf, ca.pem, server.{pem,key}, crl.pem, acl, pid file).
  explicit BrokerAdmin(std::string dir);

  const std::string& dir() const { return dir_; }
  std::string CrlPath() const { return dir_ + "/crl.pem"; }
  std::string AclPath() const { return dir_ + "/acl"; }
  std::string PidPath() const { return dir_ + "/mosquitto.pid"; }

  //! Writes crl.pem then acl (each atomically), then SIGHUPs the managed broker if one runs.
  //! Errors: Unavailable when a file cannot be written or the signal fails.
  Result<BrokerReload> Apply(std::string_view crl_pem, std::string_view acl_text);

  //! The running mosquitto named by the pid file, or nullopt with the reason in `why`.
  std::optional<pid_t> ManagedBrokerPid(std::string* why) const;

  //! Writes a file the broker reads (atomically), readable by the broker's group when running as
  //! root (see above). `mode` e.g. 0644, 0640 for the server key.
  Status WriteBrokerFile(const std::string& path, std::string_view data, mode_t mode) const;

 private:
  const std::string dir_;
  std::mutex mutex_;  // serialises Apply (write + signal)
};

//! Group commit of broker rewrites. Sync() returns after a rewrite that STARTED after Sync was
//! called has finished, so it reflects every change committed before the call; concurrent callers
//! share rewrites.
class BrokerSync {
 public:
  using Rewrite = std::function<Result<BrokerReload>()>;
  //! REQUIRES: `rewrite` is safe to call from any thread (one call at a time is guaranteed).
  explicit BrokerSync(Rewrite rewrite);

  Result<BrokerReload> Sync();
  //! Rewrites performed so far (for tests and metrics).
  uint64_t rewrites() const;

 private:
  Rewrite rewrite_;
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  uint64_t requested_ = 0;  // GUARDED_BY(mutex_)
  uint64_t done_ = 0;       // GUARDED_BY(mutex_): requests covered by finished rewrites
  bool running_ = false;    // GUARDED_BY(mutex_)
  uint64_t rewrites_ = 0;   // GUARDED_BY(mutex_)
  Result<BrokerReload> last_ = BrokerReload{};  // GUARDED_BY(mutex_)
};

}  // namespace weft::core::fleet

#endif  // WEFT_CORE_FLEET_BROKER_ADMIN_H_
