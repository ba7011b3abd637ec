// Connector: one source of samples (an MQTT broker with Sparkplug B or JSON, Modbus TCP devices).
// Every connector has the same lifecycle and reports into the same sinks, so the runtime starts,
// stops, reconfigures and watches them alike.
//
//   std::unique_ptr<Connector> c = ...;              // e.g. ModbusConnector::Create(table, cfg)
//   WEFT_RETURN_IF_ERROR(c->Start(sinks));           // samples flow to sinks.on_sample
//   ConnectorHealth h = c->Health();                 // state, counters, last error
//   c->Stop();
//
// Bad input from the network (undecodable payloads, unknown metrics, Modbus exceptions,
// timeouts) never ends a connector: it is counted in ConnectorHealth, logged (rate-limited) with
// the place and the problem, and the connector carries on.
//
// Reconfiguring a connector replaces it: the runtime stops it and starts one made from the new
// SignalTable and configuration (Runtime::Reload), so a connector never sees its inputs change.
//
// Thread-safety: Start/Stop from one controlling thread; Health from any thread.
// The sinks are called from the connector's own thread(s); they must be thread-safe if several
// connectors share them.
#ifndef WEFT_EDGE_CONNECTOR_H_
#define WEFT_EDGE_CONNECTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>

#include "common/status.h"
#include "edge/sample.h"

namespace weft::edge {

struct ConnectorSinks {
  //! A batch of samples decoded from one message or one poll (never empty).
  std::function<void(std::span<const Sample>)> on_samples;
  //! Events a connector concludes itself (e.g. "node offline", "rebirth requested"); optional.
  std::function<void(const Event&)> on_event;
};

enum class ConnectorState { kStopped, kStarting, kRunning, kDegraded, kFailed };
std::string_view ConnectorStateName(ConnectorState s);

struct ConnectorHealth {
  std::string name;  //!< e.g. "sparkplug", "json", "modbus"
  ConnectorState state = ConnectorState::kStopped;
  uint64_t messages = 0;  //!< messages received or polls done
  uint64_t samples = 0;   //!< samples delivered to the sinks
  //! Problems by kind, e.g. {"bad_payload": 3, "unknown_alias": 1, "timeout": 7}.
  std::map<std::string, uint64_t> errors;
  std::string last_error;  //!< the last problem's message ("" if none)
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual Status Start(ConnectorSinks sinks) = 0;
  //! Idempotent; returns when the connector's threads have ended.
  virtual void Stop() = 0;
  virtual ConnectorHealth Health() const = 0;
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_CONNECTOR_H_
