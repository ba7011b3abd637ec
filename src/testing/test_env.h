// Test support: real processes and free loopback ports for cross-process tests. Test-only: links
// into *_test binaries, never into products.
//
//   Result<uint16_t> port = FreeLoopbackPort();
//   auto broker = MosquittoBroker::Start();         // a real mosquitto on 127.0.0.1:<free port>
//   ASSERT_TRUE(broker.ok()) << broker.status();
//   ... connect to (*broker)->port() ...
//
// Thread-safety: MosquittoBroker is not thread-safe; its destructor stops the broker.
#ifndef WEFT_TESTING_TEST_ENV_H_
#define WEFT_TESTING_TEST_ENV_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace weft::testing {

//! A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
Result<uint16_t> FreeLoopbackPort();

//! Waits until something accepts TCP connections on 127.0.0.1:port.
Status WaitForListener(uint16_t port, std::chrono::milliseconds timeout);

//! A temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  static Result<TempDir> Make();
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

//! A throwaway PKI made with the openssl command: a CA, a server certificate for "localhost"
//! and 127.0.0.1, and a client certificate (CN "weft-test-client"), all PEM files in `dir`.
struct TestPki {
  std::string ca_cert, server_cert, server_key, client_cert, client_key;
  static Result<TestPki> Make(const std::string& dir);
};

struct BrokerOptions {
  //! TLS listener (instead of plain TCP) with these PEM files when set.
  std::optional<TestPki> tls;
  bool require_client_certificate = false;
};

//! A real mosquitto broker process listening on 127.0.0.1 only, anonymous access allowed, with
//! its configuration and log in a temporary directory.
class MosquittoBroker {
 public:
  static Result<std::unique_ptr<MosquittoBroker>> Start(BrokerOptions options = {});
  ~MosquittoBroker();
  //! Stops the broker (SIGTERM, then SIGKILL after 2 s): clients see the connection drop.
  void Stop();
  //! Starts it again on the same port with the same configuration.
  Status Restart();
  uint16_t port() const { return port_; }
  std::string url() const {
    return std::string(tls_ ? "mqtts" : "mqtt") + "://127.0.0.1:" + std::to_string(port_);
  }
  //! The broker's log so far (for failure messages).
  std::string Log() const;

 private:
  MosquittoBroker(TempDir dir, pid_t pid, uint16_t port, bool tls)
      : dir_(std::move(dir)), pid_(pid), port_(port), tls_(tls) {}
  static Result<pid_t> Spawn(const std::string& conf, uint16_t port);
  TempDir dir_;
  pid_t pid_;
  uint16_t port_;
  bool tls_;
};

}  // namespace weft::testing

#endif  // WEFT_TESTING_TEST_ENV_H_
