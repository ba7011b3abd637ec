// JsonConnector: reads the JSON telemetry (json_telemetry.h) that plain-MQTT machines publish on
// the topics of the SignalTable's JSON assets.
//
//   JsonConnectorOptions o{.broker = *mqtt::BrokerAddress::Parse("mqtt://127.0.0.1:1883")};
//   WEFT_ASSIGN_OR_RETURN(auto c, JsonConnector::Create(table, o));
//   WEFT_RETURN_IF_ERROR(c->Start({.on_samples = ...}));
//   ...
//   c->Stop();
//
// Subscribes to each of SignalTable::JsonTopics() at `qos`; a lost connection is replaced by a
// new one (mqtt_session.h). Each message is decoded into Samples of one timestamp, delivered as
// one batch. A document that does not decode counts as "bad_payload" ("oversize_payload" above
// the size limit) and is dropped; field problems count as "unmapped_field", "wrong_type" and
// "null_value" while the document's other fields are delivered. Problems are logged,
// rate-limited.
//
// Thread-safety: as Connector. Sinks are called on the MQTT network thread.
#ifndef WEFT_EDGE_CONNECTORS_MQTT_JSON_CONNECTOR_H_
#define WEFT_EDGE_CONNECTORS_MQTT_JSON_CONNECTOR_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edge/connector.h"
#include "edge/connectors/mqtt/connector_counters.h"
#include "edge/connectors/mqtt/json_telemetry.h"
#include "edge/connectors/mqtt/mqtt_session.h"
#include "edge/signal_table.h"
#include "mqtt/client.h"

namespace weft::edge {

struct JsonConnectorOptions {
  mqtt::BrokerAddress broker;
  std::optional<mqtt::TlsOptions> tls;  //!< required for mqtts:// brokers
  std::string client_id = "weft-edge-json";
  int qos = 1;  //!< subscription QoS (the simulator publishes at 1)
  std::chrono::milliseconds connect_timeout{5000};
  JsonDecodeOptions decode;
};

class JsonConnector final : public Connector {
 public:
  //! InvalidArgument when no signal of the table comes from JSON over MQTT.
  static Result<std::unique_ptr<JsonConnector>> Create(std::shared_ptr<const SignalTable> table,
                                                       JsonConnectorOptions options);
  ~JsonConnector() override;

  //! Unavailable when the first connection fails; later losses are retried in the background.
  Status Start(ConnectorSinks sinks) override;
  void Stop() override;
  ConnectorHealth Health() const override;

  //! Ends the MQTT connection abruptly; it is then re-established. For tests.
  void DropConnectionForTest() { session_.DropConnection(); }
  uint64_t connections() const { return session_.connections(); }

 private:
  JsonConnector(std::shared_ptr<const SignalTable> table, JsonConnectorOptions options);
  void OnMessage(const mqtt::Message& m);

  const std::shared_ptr<const SignalTable> table_;
  const JsonConnectorOptions options_;
  const std::vector<std::string> topics_;
  ConnectorSinks sinks_;
  ConnectorCounters counters_{"json"};
  std::atomic<ConnectorState> state_{ConnectorState::kStopped};
  std::atomic<bool> stopping_{false};
  // Touched only by the network thread of the current connection.
  JsonTelemetryDecoder decoder_;
  JsonDecodeResult decoded_;
  MqttSession session_;  // last: destroyed (threads joined) before the state above
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_CONNECTORS_MQTT_JSON_CONNECTOR_H_
