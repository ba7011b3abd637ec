// SparkplugConnector: a Sparkplug B host application (Sparkplug 3.0) that turns the metrics of
// the edge nodes in the SignalTable into Samples.
//
//   SparkplugConnectorOptions o{.broker = *mqtt::BrokerAddress::Parse("mqtt://127.0.0.1:1883"),
//                               .host_id = "weft-edge-lyon"};
//   WEFT_ASSIGN_OR_RETURN(auto c, SparkplugConnector::Create(table, o));
//   WEFT_RETURN_IF_ERROR(c->Start({.on_samples = ..., .on_event = ...}));
//   ...
//   c->Stop();                                      // STATE offline, clean disconnect
//
// Session (per MQTT connection; a lost connection is replaced by a new one, see mqtt_session.h):
// - CONNECT with clean session and the will `spBv1.0/STATE/<host_id>`
//   {"online":false,"timestamp":T}, QoS 1, retained; T = the time of the connection attempt;
// - subscribe to its own STATE topic (QoS 1) and to `spBv1.0/<group>/#` (QoS 0) for each group
//   of the table's SparkplugNodes();
// - publish `spBv1.0/STATE/<host_id>` {"online":true,"timestamp":T}, QoS 1, retained, with the
//   same T as the will; republish it whenever its own STATE topic says offline while connected;
// - Stop() publishes {"online":false,"timestamp":T} (same T) before a clean DISCONNECT.
//
// Messages: every message from an edge node of the table goes through sparkplug::HostSession.
// Other nodes of the subscribed groups are ignored (this edge does not serve them); NCMD, DCMD
// and STATE are ignored.
// - Points (births and DATA) whose (group, node, device, metric) the table knows become Samples:
//   numbers and booleans as double; ts = the point's timestamp (ms -> us), or the time of receipt
//   when it has none; a "Quality" property other than 192 (GOOD) sets quality::kBadSource.
//   Other points count as "unmapped_metric" (bdSeq and "Node Control/..." excepted); nulls as
//   "null_value", strings/bytes/arrays bound to a signal as "non_numeric_value".
// - HostSession problems count by HostProblemName ("seq_gap", "bad_payload", ...), are logged
//   (rate-limited), and when HostEvent::rebirth_needed the rebirth NCMD is published (QoS 0).
// - Events (signal: the node's or device's first signal in the table): "node_online" (NBIRTH),
//   "node_offline" (NDEATH of the current session), "device_online" (DBIRTH), "device_offline"
//   (DDEATH, or the NDEATH of its node), "rebirth_requested".
//
// Hot path: a DATA metric sent by alias is resolved to its SignalId through a per-node vector
// indexed by alias (filled on first use, cleared by the node's births), without building strings.
//
// Thread-safety: as Connector. Sinks are called on the MQTT network thread.
#ifndef WEFT_EDGE_CONNECTORS_MQTT_SPARKPLUG_CONNECTOR_H_
#define WEFT_EDGE_CONNECTORS_MQTT_SPARKPLUG_CONNECTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "edge/connector.h"
#include "edge/connectors/mqtt/connector_counters.h"
#include "edge/connectors/mqtt/mqtt_session.h"
#include "edge/signal_table.h"
#include "mqtt/client.h"
#include "sparkplug/host_session.h"

namespace weft::edge {

struct SparkplugConnectorOptions {
  mqtt::BrokerAddress broker;
  std::optional<mqtt::TlsOptions> tls;  //!< required for mqtts:// brokers
  //! The Sparkplug host id: the STATE topic is spBv1.0/STATE/<host_id>. Must be a valid topic
  //! element (non-empty, no '/', '+', '#').
  std::string host_id = "weft-edge";
  //! MQTT client id; "" = "weft-edge-sparkplug-<host_id>".
  std::string client_id;
  std::chrono::milliseconds connect_timeout{5000};
  sparkplug::HostSessionOptions session;
};

class SparkplugConnector final : public Connector {
 public:
  //! InvalidArgument for a bad host id, or a table without Sparkplug signals. `clock` (time of
  //! receipt, STATE timestamps, rebirth holdoff) must outlive the connector.
  static Result<std::unique_ptr<SparkplugConnector>> Create(
      std::shared_ptr<const SignalTable> table, SparkplugConnectorOptions options,
      const Clock& clock = SystemClock::Default());
  ~SparkplugConnector() override;

  //! Unavailable when the first connection fails (the broker is not there); later losses are
  //! retried in the background (state kDegraded meanwhile).
  Status Start(ConnectorSinks sinks) override;
  void Stop() override;
  ConnectorHealth Health() const override;

  //! The STATE topic, "spBv1.0/STATE/<host_id>".
  const std::string& state_topic() const { return state_topic_; }
  //! Ends the MQTT connection abruptly (the broker publishes the STATE will); it is then
  //! re-established. For tests.
  void DropConnectionForTest() { session_.DropConnection(); }
  //! Asks every edge node of the table for a rebirth (NCMD "Node Control/Rebirth"), e.g. on a
  //! command from the core. Unavailable when not connected.
  Status RequestRebirth();
  //! MQTT connections made since Start.
  uint64_t connections() const { return session_.connections(); }

 private:
  //! What a (node, alias) resolves to, cached.
  static constexpr int64_t kUnresolved = -1;
  static constexpr int64_t kUnmapped = -2;
  static constexpr int64_t kReserved = -3;  //!< bdSeq, Node Control/...: neither sample nor error
  struct Node {
    std::string group_id, edge_node_id;
    std::optional<SignalId> any_signal;                       //!< for node events
    std::unordered_map<std::string, SignalId> device_signal;  //!< device -> any signal
    std::vector<int64_t> by_alias;  //!< alias -> SignalId or kUnresolved/kUnmapped/kReserved
    std::unordered_map<uint64_t, int64_t> by_large_alias;  //!< aliases >= kMaxVectorAlias
  };
  static constexpr uint64_t kMaxVectorAlias = 1 << 16;

  SparkplugConnector(std::shared_ptr<const SignalTable> table, SparkplugConnectorOptions options,
                     const Clock& clock);
  mqtt::ClientOptions NextClientOptions();
  Status OnConnected(mqtt::Client& client);
  void OnMessage(mqtt::Client& client, const mqtt::Message& m);
  void OnOwnState(mqtt::Client& client, const mqtt::Message& m);
  //! The signal of a point, through the alias cache when `alias` is set.
  int64_t Resolve(Node& node, const sparkplug::DataPoint& p, std::optional<uint64_t> alias);
  void Emit(std::optional<SignalId> signal, std::string kind, std::string message);
  std::string StatePayload(bool online) const;
  uint64_t NowMs() const;

  const std::shared_ptr<const SignalTable> table_;
  const SparkplugConnectorOptions options_;
  const Clock& clock_;
  const std::string state_topic_;
  std::vector<std::string> groups_;
  ConnectorSinks sinks_;
  ConnectorCounters counters_{"sparkplug"};
  std::atomic<ConnectorState> state_{ConnectorState::kStopped};
  std::atomic<uint64_t> state_timestamp_ms_{0};  //!< T of the current connection's STATE
  std::atomic<bool> stopping_{false};

  // Touched only by the network thread of the current connection (see mqtt_session.h).
  sparkplug::HostSession host_;
  std::unordered_map<std::string, size_t> node_index_;  //!< group '\x1f' node -> nodes_
  std::vector<Node> nodes_;
  std::string key_;              //!< reused lookup key
  std::vector<Sample> samples_;  //!< reused per message
  uint64_t receipt_ms_ = 0;      //!< time of receipt of the current message

  MqttSession session_;  // last: destroyed (threads joined) before the state above
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_CONNECTORS_MQTT_SPARKPLUG_CONNECTOR_H_
