#include "edge/connectors/mqtt/connector_counters.h"

#include <spdlog/spdlog.h>

namespace weft::edge {

void ConnectorCounters::Count(std::string_view kind, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) it = kinds_.emplace(std::string(kind), Kind{}).first;
  it->second.count += n;
}

void ConnectorCounters::Problem(std::string_view kind, uint64_t n, const std::string& message) {
  uint64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) it = kinds_.emplace(std::string(kind), Kind{}).first;
    Kind& k = it->second;
    k.count += n;
    last_error_ = message;
    const auto now = std::chrono::steady_clock::now();
    if (k.logged && now - k.last_log < log_interval_) {
      k.unlogged += n;
      return;
    }
    k.logged = true;
    k.last_log = now;
    suppressed = k.unlogged;
    k.unlogged = 0;
  }
  if (suppressed > 0) {
    spdlog::warn("{} connector: {} ({}; {} more of this kind not logged)", name_, message, kind,
                 suppressed);
  } else {
    spdlog::warn("{} connector: {} ({})", name_, message, kind);
  }
}

ConnectorHealth ConnectorCounters::Health(ConnectorState state) const {
  ConnectorHealth h;
  h.name = name_;
  h.state = state;
  h.messages = messages();
  h.samples = samples();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [kind, k] : kinds_) h.errors[kind] = k.count;
  h.last_error = last_error_;
  return h;
}

}  // namespace weft::edge
