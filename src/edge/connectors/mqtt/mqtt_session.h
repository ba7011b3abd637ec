// MqttSession: an MQTT connection that a connector keeps up. It connects, lets the connector
// subscribe and announce itself, and when the connection is lost it makes a new one (a new
// mqtt::Client, so the will and the subscriptions are set afresh) with backoff.
//
//   MqttSession::Hooks hooks;
//   hooks.options = [] { return mqtt::ClientOptions{.client_id = "weft-edge-json"}; };
//   hooks.on_connected = [](mqtt::Client& c) { return c.Subscribe("brno/#", 1); };
//   hooks.on_message = [](mqtt::Client&, const mqtt::Message& m) { ... };  // network thread
//   MqttSession session;
//   WEFT_RETURN_IF_ERROR(session.Start(broker, std::move(hooks)));  // first connection
//   ...
//   session.Stop();                                 // before_disconnect, then a clean DISCONNECT
//
// Why a new client per connection: mqtt::Client reconnects by itself, but with clean sessions
// the broker forgets the subscriptions, and a Sparkplug host's STATE will must carry the time of
// each connection attempt. So a supervisor thread watches the client (every 50 ms); when it is
// disconnected or has reconnected on its own, the supervisor destroys it and connects anew.
//
// Messages of one client are handled on that client's network thread; clients never overlap
// (the old one's thread has ended before the next connects), so on_message never runs twice at
// once and state it touches needs no lock against itself.
//
// Thread-safety: Start/Stop from one controlling thread; connected(), connections() and
// DropConnection() from any thread.
#ifndef WEFT_EDGE_CONNECTORS_MQTT_MQTT_SESSION_H_
#define WEFT_EDGE_CONNECTORS_MQTT_MQTT_SESSION_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "edge/connector.h"
#include "edge/connectors/mqtt/connector_counters.h"
#include "mqtt/client.h"

namespace weft::edge {

class MqttSession {
 public:
  struct Hooks {
    //! The options of the next connection (called before each connection attempt).
    std::function<mqtt::ClientOptions()> options;
    //! After each connection: subscribe and publish births. An error drops the connection and
    //! counts as a failed attempt.
    std::function<Status(mqtt::Client&)> on_connected;
    //! Each received message, on the client's network thread.
    std::function<void(mqtt::Client&, const mqtt::Message&)> on_message;
    //! Before the clean disconnect of Stop() (e.g. a STATE offline). Optional.
    std::function<void(mqtt::Client&)> before_disconnect;
    //! A connection was lost or an attempt failed (not called for the first attempt). Optional.
    std::function<void(const Status&)> on_connection_problem;
  };
  struct Timing {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds min_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
  };

  MqttSession() = default;
  ~MqttSession() { Stop(); }
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  //! Connects once (Unavailable when the broker cannot be reached, or on_connected's error),
  //! then starts the supervisor. FailedPrecondition if already started.
  Status Start(const mqtt::BrokerAddress& broker, Hooks hooks, Timing timing);
  Status Start(const mqtt::BrokerAddress& broker, Hooks hooks) {
    return Start(broker, std::move(hooks), Timing{});
  }
  //! Idempotent. Ends the supervisor, calls before_disconnect, disconnects cleanly.
  void Stop();

  bool connected() const;
  //! Publishes on the current connection; Unavailable when there is none.
  Status Publish(const std::string& topic, std::string_view payload, int qos, bool retain);
  //! Connections made since Start (the first included).
  uint64_t connections() const { return connections_.load(); }
  //! Ends the current connection abruptly (the broker sends the will), as a cable pull would;
  //! the supervisor then reconnects. For tests.
  void DropConnection();

 private:
  Result<std::unique_ptr<mqtt::Client>> Connect();
  void Supervise();

  mqtt::BrokerAddress broker_;
  Hooks hooks_;
  Timing timing_;
  std::atomic<uint64_t> connections_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<mqtt::Client> client_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                 // GUARDED_BY(mu_)
  std::thread supervisor_;
};

//! Starts `session` on behalf of a connector, with the lifecycle both MQTT connectors share: a
//! lost connection or a failed reconnect marks `state` degraded (unless `stopping`) and is
//! counted as "connection"; a failed first connection marks it failed, is counted, and comes
//! back with `what` as context. `hooks.on_connection_problem` is set here.
Status StartConnectorSession(MqttSession& session, const mqtt::BrokerAddress& broker,
                             std::chrono::milliseconds connect_timeout, MqttSession::Hooks hooks,
                             std::atomic<ConnectorState>& state, const std::atomic<bool>& stopping,
                             ConnectorCounters& counters, std::string_view what);

}  // namespace weft::edge

#endif  // WEFT_EDGE_CONNECTORS_MQTT_MQTT_SESSION_H_
