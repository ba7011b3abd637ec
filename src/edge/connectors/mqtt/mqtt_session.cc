#include "edge/connectors/mqtt/mqtt_session.h"

#include <algorithm>

namespace weft::edge {

Result<std::unique_ptr<mqtt::Client>> MqttSession::Connect() {
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<mqtt::Client> client,
                        mqtt::Client::Connect(broker_, hooks_.options(), timing_.connect_timeout));
  // The handler holds the raw client: it runs on that client's network thread, which ends
  // before the client is destroyed.
  mqtt::Client* raw = client.get();
  client->SetMessageHandler([this, raw](const mqtt::Message& m) { hooks_.on_message(*raw, m); });
  if (hooks_.on_connected) {
    Status s = hooks_.on_connected(*client);
    if (!s.ok()) return s.WithContext("after connecting to " + broker_.ToString());
  }
  connections_.fetch_add(1);
  return client;
}

Status MqttSession::Start(const mqtt::BrokerAddress& broker, Hooks hooks, Timing timing) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (supervisor_.joinable() || client_ != nullptr) {
      return FailedPreconditionError("MQTT session to " + broker.ToString() + " already started");
    }
    stopping_ = false;
  }
  broker_ = broker;
  hooks_ = std::move(hooks);
  timing_ = timing;
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<mqtt::Client> client, Connect());
  {
    std::lock_guard<std::mutex> lock(mu_);
    client_ = std::move(client);
  }
  supervisor_ = std::thread([this] { Supervise(); });
  return Status::Ok();
}

void MqttSession::Supervise() {
  std::chrono::milliseconds backoff = timing_.min_backoff;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_; });
    if (stopping_) break;
    if (client_ != nullptr && client_->connected() && client_->connects() == 1) continue;
    // Lost (or silently re-established with stale subscriptions and will): start afresh.
    std::unique_ptr<mqtt::Client> old = std::move(client_);
    lock.unlock();
    if (old != nullptr && hooks_.on_connection_problem) {
      hooks_.on_connection_problem(
          UnavailableError("connection to " + broker_.ToString() + " lost; reconnecting"));
    }
    old.reset();  // joins its network thread
    Result<std::unique_ptr<mqtt::Client>> fresh = Connect();
    lock.lock();
    if (fresh.ok()) {
      backoff = timing_.min_backoff;
      if (stopping_) {
        // Stop() came while connecting: hand the client over so that Stop() ends it cleanly.
        client_ = std::move(fresh).value();
        break;
      }
      client_ = std::move(fresh).value();
      continue;
    }
    if (hooks_.on_connection_problem) {
      lock.unlock();
      hooks_.on_connection_problem(fresh.status());
      lock.lock();
    }
    cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, timing_.max_backoff);
  }
}

void MqttSession::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  std::unique_ptr<mqtt::Client> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    client = std::move(client_);
  }
  if (client == nullptr) return;
  if (hooks_.before_disconnect && client->connected()) hooks_.before_disconnect(*client);
  client.reset();
}

bool MqttSession::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_ != nullptr && client_->connected();
}

Status MqttSession::Publish(const std::string& topic, std::string_view payload, int qos,
                            bool retain) {
  std::lock_guard<std::mutex> lock(mu_);
  if (client_ == nullptr) return UnavailableError("not connected to " + broker_.ToString());
  return client_->Publish(topic, payload, qos, retain);
}

void MqttSession::DropConnection() {
  std::lock_guard<std::mutex> lock(mu_);
  if (client_ != nullptr) client_->DropConnection();
}

Status StartConnectorSession(MqttSession& session, const mqtt::BrokerAddress& broker,
                             std::chrono::milliseconds connect_timeout, MqttSession::Hooks hooks,
                             std::atomic<ConnectorState>& state, const std::atomic<bool>& stopping,
                             ConnectorCounters& counters, std::string_view what) {
  hooks.on_connection_problem = [&state, &stopping, &counters](const Status& s) {
    if (!stopping) state = ConnectorState::kDegraded;
    counters.Problem("connection", 1, s.message());
  };
  MqttSession::Timing timing;
  timing.connect_timeout = connect_timeout;
  Status s = session.Start(broker, std::move(hooks), timing);
  if (!s.ok()) {
    state = ConnectorState::kFailed;
    counters.Problem("connection", 1, s.message());
    return s.WithContext(what);
  }
  return Status::Ok();
}

}  // namespace weft::edge
