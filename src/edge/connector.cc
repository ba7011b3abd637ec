#include "edge/connector.h"

namespace weft::edge {

std::string_view ConnectorStateName(ConnectorState s) {
  switch (s) {
    case ConnectorState::kStopped: return "stopped";
    case ConnectorState::kStarting: return "starting";
    case ConnectorState::kRunning: return "running";
    case ConnectorState::kDegraded: return "degraded";
    case ConnectorState::kFailed: return "failed";
  }
  return "unknown";
}

}  // namespace weft::edge
