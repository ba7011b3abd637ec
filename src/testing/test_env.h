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

//! A real mosquitto broker process listening on 127.0.0.1 only, anonymous access allowed, with
//! its configuration and log in a temporary directory.
class MosquittoBroker {
 public:
  static Result<std::unique_ptr<MosquittoBroker>> Start();
  ~MosquittoBroker();
  uint16_t port() const { return port_; }
  std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }
  //! The broker's log so far (for failure messages).
  std::string Log() const;

 private:
  MosquittoBroker(TempDir dir, pid_t pid, uint16_t port)
      : dir_(std::move(dir)), pid_(pid), port_(port) {}
  TempDir dir_;
  pid_t pid_;
  uint16_t port_;
};

}  // namespace weft::testing

#endif  // WEFT_TESTING_TEST_ENV_H_
