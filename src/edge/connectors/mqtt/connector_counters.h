// ConnectorCounters: the counters and problem log behind ConnectorHealth, shared by the MQTT
// connectors.
//
//   ConnectorCounters counters("sparkplug");
//   counters.AddMessages(1);                                   // hot path: relaxed atomics
//   counters.Problem("bad_payload", 1, "DDATA from lyon/edge-l1: truncated field at byte 7");
//   ConnectorHealth h = counters.Health(ConnectorState::kRunning);
//
// Problems are counted by kind and logged through spdlog at warn level, at most once per kind
// per `log_interval` (the next log line says how many were not logged), so a flood of bad input
// cannot flood the log.
//
// Thread-safety: every method may be called from any thread.
#ifndef WEFT_EDGE_CONNECTORS_MQTT_CONNECTOR_COUNTERS_H_
#define WEFT_EDGE_CONNECTORS_MQTT_CONNECTOR_COUNTERS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "edge/connector.h"

namespace weft::edge {

class ConnectorCounters {
 public:
  explicit ConnectorCounters(std::string name,
                             std::chrono::milliseconds log_interval = std::chrono::seconds(10))
      : name_(std::move(name)), log_interval_(log_interval) {}

  void AddMessages(uint64_t n) { messages_.fetch_add(n, std::memory_order_relaxed); }
  void AddSamples(uint64_t n) { samples_.fetch_add(n, std::memory_order_relaxed); }
  //! Counts `n` problems of `kind` and logs `message` (rate-limited per kind). The message is
  //! kept as ConnectorHealth::last_error.
  void Problem(std::string_view kind, uint64_t n, const std::string& message);
  //! Counts without logging (for expected, high-volume kinds such as unmapped metrics).
  void Count(std::string_view kind, uint64_t n);

  uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }
  ConnectorHealth Health(ConnectorState state) const;

 private:
  struct Kind {
    uint64_t count = 0;
    uint64_t unlogged = 0;
    std::chrono::steady_clock::time_point last_log{};
    bool logged = false;
  };

  const std::string name_;
  const std::chrono::milliseconds log_interval_;
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> samples_{0};
  mutable std::mutex mu_;
  std::map<std::string, Kind, std::less<>> kinds_;  // GUARDED_BY(mu_)
  std::string last_error_;                          // GUARDED_BY(mu_)
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_CONNECTORS_MQTT_CONNECTOR_COUNTERS_H_
