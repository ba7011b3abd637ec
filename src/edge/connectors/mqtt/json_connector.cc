#include "edge/connectors/mqtt/json_connector.h"

#include <utility>

namespace weft::edge {

Result<std::unique_ptr<JsonConnector>> JsonConnector::Create(
    std::shared_ptr<const SignalTable> table, JsonConnectorOptions options) {
  if (table == nullptr) return InvalidArgumentError("JSON connector: no signal table");
  if (table->JsonTopics().empty()) {
    return InvalidArgumentError(
        "JSON connector: no signal of the table comes from JSON over MQTT (connection.mqtt)");
  }
  return std::unique_ptr<JsonConnector>(new JsonConnector(std::move(table), std::move(options)));
}

JsonConnector::JsonConnector(std::shared_ptr<const SignalTable> table, JsonConnectorOptions options)
    : table_(std::move(table)),
      options_(std::move(options)),
      topics_(table_->JsonTopics()),
      decoder_(*table_, options_.decode) {}

JsonConnector::~JsonConnector() {
  Stop();
}

Status JsonConnector::Start(ConnectorSinks sinks) {
  if (state_ != ConnectorState::kStopped) {
    return FailedPreconditionError("JSON connector already started");
  }
  sinks_ = std::move(sinks);
  stopping_ = false;
  state_ = ConnectorState::kStarting;
  MqttSession::Hooks hooks;
  hooks.options = [this] {
    mqtt::ClientOptions o;
    o.client_id = options_.client_id;
    o.tls = options_.tls;
    return o;
  };
  hooks.on_connected = [this](mqtt::Client& c) -> Status {
    for (const std::string& topic : topics_) {
      WEFT_RETURN_IF_ERROR(c.Subscribe(topic, options_.qos));
    }
    state_ = ConnectorState::kRunning;
    return Status::Ok();
  };
  hooks.on_message = [this](mqtt::Client&, const mqtt::Message& m) { OnMessage(m); };
  return StartConnectorSession(session_, options_.broker, options_.connect_timeout,
                               std::move(hooks), state_, stopping_, counters_, "JSON connector");
}

void JsonConnector::Stop() {
  stopping_ = true;
  session_.Stop();
  state_ = ConnectorState::kStopped;
}

ConnectorHealth JsonConnector::Health() const {
  return counters_.Health(state_.load());
}

void JsonConnector::OnMessage(const mqtt::Message& m) {
  counters_.AddMessages(1);
  Status s = decoder_.Decode(m.topic, m.payload, &decoded_);
  if (!s.ok()) {
    counters_.Problem(
        s.code() == StatusCode::kResourceExhausted ? "oversize_payload" : "bad_payload", 1,
        s.message());
    return;
  }
  const struct {
    uint64_t n;
    const char* kind;
  } field_counts[] = {{decoded_.unmapped_fields, "unmapped_field"},
                      {decoded_.wrong_type_fields, "wrong_type"},
                      {decoded_.null_fields, "null_value"}};
  for (const auto& [n, kind] : field_counts) {
    if (n == 0) continue;
    std::string message;
    for (const JsonFieldProblem& p : decoded_.problems) {
      if (p.kind == kind) {
        message = p.message;
        break;
      }
    }
    counters_.Problem(kind, n, message);
  }
  if (!decoded_.samples.empty()) {
    counters_.AddSamples(decoded_.samples.size());
    if (sinks_.on_samples) sinks_.on_samples(decoded_.samples);
  }
}

}  // namespace weft::edge
