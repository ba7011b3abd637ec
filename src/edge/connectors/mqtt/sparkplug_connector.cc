#include "edge/connectors/mqtt/sparkplug_connector.h"

#include <limits>
#include <set>
#include <type_traits>
#include <utility>
#include <variant>

#include "sparkplug/edge_node_session.h"
#include "sparkplug/payload.h"
#include "sparkplug/topic.h"

namespace weft::edge {
namespace {

using sparkplug::MessageType;

constexpr int32_t kQualityGood = 192;
constexpr uint64_t kMaxMs = static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 1000);

// Metrics the specification reserves: part of every NBIRTH, never plant signals.
bool IsReservedMetric(std::string_view name) {
  return name == sparkplug::kBdSeqMetric || name.starts_with("Node Control/") ||
         name.starts_with("Device Control/");
}

std::string NodeKey(std::string_view group, std::string_view node) {
  std::string key(group);
  key.push_back('\x1f');
  key.append(node);
  return key;
}

// The value as a sample value: numbers and booleans only.
enum class Conversion { kOk, kNull, kNotNumeric };
Conversion ToDouble(const sparkplug::MetricValue& value, double* out) {
  return std::visit(
      [out](const auto& v) -> Conversion {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return Conversion::kNull;
        } else if constexpr (std::is_same_v<T, std::string>) {
          return Conversion::kNotNumeric;
        } else if constexpr (std::is_same_v<T, bool>) {
          *out = v ? 1.0 : 0.0;
          return Conversion::kOk;
        } else {
          *out = static_cast<double>(v);
          return Conversion::kOk;
        }
      },
      value);
}

}  // namespace

Result<std::unique_ptr<SparkplugConnector>> SparkplugConnector::Create(
    std::shared_ptr<const SignalTable> table, SparkplugConnectorOptions options,
    const Clock& clock) {
  if (table == nullptr) return InvalidArgumentError("Sparkplug connector: no signal table");
  sparkplug::Topic state;
  state.group_id.clear();
  state.type = MessageType::kState;
  state.edge_node_id.clear();
  state.host_id = options.host_id;
  if (Status s = sparkplug::ValidateTopic(state); !s.ok()) {
    return InvalidArgumentError("Sparkplug connector: host id '" + options.host_id +
                                "' is not a valid topic element: " + s.message());
  }
  if (options.client_id.empty()) options.client_id = "weft-edge-sparkplug-" + options.host_id;
  std::unique_ptr<SparkplugConnector> c(
      new SparkplugConnector(std::move(table), std::move(options), clock));
  std::set<std::string> groups;
  for (const SignalInfo& s : c->table_->signals()) {
    if (s.protocol != model::Protocol::kSparkplugB || s.asset_model == nullptr ||
        !s.asset_model->connection.sparkplug) {
      continue;
    }
    const model::SparkplugEndpoint& ep = *s.asset_model->connection.sparkplug;
    auto [it, inserted] =
        c->node_index_.try_emplace(NodeKey(ep.group_id, ep.edge_node_id), c->nodes_.size());
    if (inserted) {
      Node node;
      node.group_id = ep.group_id;
      node.edge_node_id = ep.edge_node_id;
      node.any_signal = s.id;
      c->nodes_.push_back(std::move(node));
      groups.insert(ep.group_id);
    }
    c->nodes_[it->second].device_signal.try_emplace(ep.device_id, s.id);
  }
  if (c->nodes_.empty()) {
    return InvalidArgumentError(
        "Sparkplug connector: no signal of the table comes from a Sparkplug B edge node");
  }
  c->groups_.assign(groups.begin(), groups.end());
  return c;
}

SparkplugConnector::SparkplugConnector(std::shared_ptr<const SignalTable> table,
                                       SparkplugConnectorOptions options, const Clock& clock)
    : table_(std::move(table)),
      options_(std::move(options)),
      clock_(clock),
      state_topic_(std::string(sparkplug::kNamespace) + "/STATE/" + options_.host_id),
      host_(clock, options_.session) {}

SparkplugConnector::~SparkplugConnector() {
  Stop();
}

uint64_t SparkplugConnector::NowMs() const {
  const int64_t us = UnixMicros(clock_.Now());
  return us < 0 ? 0 : static_cast<uint64_t>(us / 1000);
}

std::string SparkplugConnector::StatePayload(bool online) const {
  return std::string("{\"online\":") + (online ? "true" : "false") +
         ",\"timestamp\":" + std::to_string(state_timestamp_ms_.load()) + "}";
}

mqtt::ClientOptions SparkplugConnector::NextClientOptions() {
  // Sparkplug 3.0: the will's timestamp is the time of the connection attempt, and the STATE
  // birth of this connection repeats it.
  state_timestamp_ms_ = NowMs();
  mqtt::ClientOptions o;
  o.client_id = options_.client_id;
  o.tls = options_.tls;
  o.clean_session = true;  // required of host applications on MQTT 3.1.1
  o.will = mqtt::Will{state_topic_, StatePayload(false), 1, true};
  return o;
}

Status SparkplugConnector::OnConnected(mqtt::Client& client) {
  WEFT_RETURN_IF_ERROR(client.Subscribe(state_topic_, 1));
  for (const std::string& group : groups_) {
    WEFT_RETURN_IF_ERROR(
        client.Subscribe(std::string(sparkplug::kNamespace) + "/" + group + "/#", 0));
  }
  WEFT_RETURN_IF_ERROR(client.Publish(state_topic_, StatePayload(true), 1, true));
  state_ = ConnectorState::kRunning;
  return Status::Ok();
}

Status SparkplugConnector::Start(ConnectorSinks sinks) {
  if (state_ != ConnectorState::kStopped) {
    return FailedPreconditionError("Sparkplug connector already started");
  }
  sinks_ = std::move(sinks);
  stopping_ = false;
  state_ = ConnectorState::kStarting;
  MqttSession::Hooks hooks;
  hooks.options = [this] { return NextClientOptions(); };
  hooks.on_connected = [this](mqtt::Client& c) { return OnConnected(c); };
  hooks.on_message = [this](mqtt::Client& c, const mqtt::Message& m) { OnMessage(c, m); };
  hooks.before_disconnect = [this](mqtt::Client& c) {
    // A clean shutdown announces itself with the same timestamp as the birth.
    if (c.Publish(state_topic_, StatePayload(false), 1, true).ok()) {
      (void)c.WaitForAcks(std::chrono::seconds(2));
    }
  };
  return StartConnectorSession(session_, options_.broker, options_.connect_timeout,
                               std::move(hooks), state_, stopping_, counters_,
                               "Sparkplug connector");
}

void SparkplugConnector::Stop() {
  stopping_ = true;
  session_.Stop();
  state_ = ConnectorState::kStopped;
}

ConnectorHealth SparkplugConnector::Health() const {
  return counters_.Health(state_.load());
}

void SparkplugConnector::OnOwnState(mqtt::Client& client, const mqtt::Message& m) {
  if (stopping_) return;
  // Someone (the broker, with an earlier connection's will) says this host is offline while it
  // is not: Sparkplug 3.0 wants the host to say online again at once.
  const bool offline = m.payload.find("\"online\":false") != std::string::npos ||
                       m.payload.find("\"online\": false") != std::string::npos;
  if (offline) {
    Status s = client.Publish(state_topic_, StatePayload(true), 1, true);
    if (!s.ok()) counters_.Problem("publish", 1, s.message());
  }
}

void SparkplugConnector::Emit(std::optional<SignalId> signal, std::string kind,
                              std::string message) {
  if (!sinks_.on_event || !signal) return;
  Event e;
  e.signal = *signal;
  e.ts_us = UnixMicros(clock_.Now());
  e.kind = std::move(kind);
  e.source = "sparkplug";
  e.message = std::move(message);
  sinks_.on_event(e);
}

int64_t SparkplugConnector::Resolve(Node& node, const sparkplug::DataPoint& p,
                                    std::optional<uint64_t> alias) {
  int64_t* slot = nullptr;
  if (alias) {
    if (*alias < kMaxVectorAlias) {
      if (node.by_alias.size() <= *alias) {
        node.by_alias.resize(static_cast<size_t>(*alias) + 1, kUnresolved);
      }
      slot = &node.by_alias[static_cast<size_t>(*alias)];
    } else {
      slot = &node.by_large_alias.try_emplace(*alias, kUnresolved).first->second;
    }
    if (*slot != kUnresolved) return *slot;
  }
  int64_t resolved = kUnmapped;
  if (IsReservedMetric(p.metric_name)) {
    resolved = kReserved;
  } else if (std::optional<SignalId> id = table_->FindSparkplug(node.group_id, node.edge_node_id,
                                                                p.device_id, p.metric_name)) {
    resolved = *id;
  }
  if (slot != nullptr) *slot = resolved;
  return resolved;
}

void SparkplugConnector::OnMessage(mqtt::Client& client, const mqtt::Message& m) {
  counters_.AddMessages(1);
  if (m.topic == state_topic_) {
    OnOwnState(client, m);
    return;
  }
  Result<sparkplug::Topic> topic = sparkplug::ParseTopic(m.topic);
  if (!topic.ok()) {
    counters_.Problem("bad_topic", 1, topic.status().message());
    return;
  }
  const MessageType type = topic->type;
  if (type == MessageType::kNCmd || type == MessageType::kDCmd || type == MessageType::kState) {
    return;
  }
  key_.assign(topic->group_id);
  key_.push_back('\x1f');
  key_.append(topic->edge_node_id);
  auto node_it = node_index_.find(key_);
  if (node_it == node_index_.end()) return;  // an edge node this edge does not serve
  Node& node = nodes_[node_it->second];

  // What was online before, to report transitions.
  bool node_was_online = false;
  std::vector<std::pair<const std::string*, SignalId>> devices_were_online;
  if (type == MessageType::kNDeath || type == MessageType::kDDeath) {
    node_was_online = host_.NodeOnline(node.group_id, node.edge_node_id);
    for (const auto& [device, signal] : node.device_signal) {
      if (device.empty()) continue;
      if (type == MessageType::kDDeath && device != topic->device_id) continue;
      if (host_.DeviceOnline(node.group_id, node.edge_node_id, device)) {
        devices_were_online.emplace_back(&device, signal);
      }
    }
  }

  Result<sparkplug::Payload> payload = sparkplug::Decode(m.payload);
  // An undecodable payload goes through the session as raw bytes, which reports it
  // (kBadPayload) and decides on a rebirth.
  const sparkplug::HostEvent e =
      payload.ok() ? host_.Feed(*topic, *payload) : host_.Feed(m.topic, m.payload);

  if (e.problem != sparkplug::HostProblem::kNone) {
    counters_.Problem(sparkplug::HostProblemName(e.problem), 1, e.status.message());
  }
  if (e.rebirth_needed) {
    const sparkplug::Message req =
        sparkplug::HostSession::RebirthRequest(node.group_id, node.edge_node_id, NowMs());
    Status s = client.Publish(req.topic, req.payload, req.qos, req.retain);
    if (s.ok()) {
      Emit(node.any_signal, "rebirth_requested",
           "rebirth requested from edge node " + node.group_id + "/" + node.edge_node_id + ": " +
               e.status.message());
    } else {
      counters_.Problem("publish", 1, s.message());
    }
  }

  auto who = [&node] { return node.group_id + "/" + node.edge_node_id; };
  switch (type) {
    case MessageType::kNBirth:
    case MessageType::kDBirth: {
      // Births (re)define aliases: forget what they resolved to.
      node.by_alias.clear();
      node.by_large_alias.clear();
      if (type == MessageType::kNBirth) {
        if (host_.NodeOnline(node.group_id, node.edge_node_id)) {
          Emit(node.any_signal, "node_online", "edge node " + who() + " born");
        }
      } else if (host_.DeviceOnline(node.group_id, node.edge_node_id, topic->device_id)) {
        auto d = node.device_signal.find(topic->device_id);
        Emit(d == node.device_signal.end() ? node.any_signal : d->second, "device_online",
             "device " + who() + "/" + topic->device_id + " born");
      }
      break;
    }
    case MessageType::kNDeath:
      if (node_was_online && !host_.NodeOnline(node.group_id, node.edge_node_id)) {
        Emit(node.any_signal, "node_offline", "edge node " + who() + " died (NDEATH)");
        for (const auto& [device, signal] : devices_were_online) {
          Emit(signal, "device_offline", "device " + who() + "/" + *device + " offline (NDEATH)");
        }
      }
      break;
    case MessageType::kDDeath:
      for (const auto& [device, signal] : devices_were_online) {
        if (!host_.DeviceOnline(node.group_id, node.edge_node_id, *device)) {
          Emit(signal, "device_offline", "device " + who() + "/" + *device + " died (DDEATH)");
        }
      }
      break;
    default: break;
  }
  if (e.points.empty()) return;

  // DATA points match the payload's metrics one to one when none was dropped: then each metric's
  // alias keys the cache.
  const bool aligned = payload.ok() &&
                       (type == MessageType::kNData || type == MessageType::kDData) &&
                       e.points.size() == payload->metrics.size();
  samples_.clear();
  receipt_ms_ = 0;
  uint64_t unmapped = 0, nulls = 0, non_numeric = 0, bad_time = 0;
  for (size_t i = 0; i < e.points.size(); ++i) {
    const sparkplug::DataPoint& p = e.points[i];
    const int64_t id =
        Resolve(node, p, aligned ? payload->metrics[i].alias : std::optional<uint64_t>());
    if (id == kReserved) continue;
    if (id == kUnmapped) {
      ++unmapped;
      continue;
    }
    Sample s;
    s.signal = static_cast<SignalId>(id);
    switch (ToDouble(p.value, &s.value)) {
      case Conversion::kNull: ++nulls; continue;
      case Conversion::kNotNumeric: ++non_numeric; continue;
      case Conversion::kOk: break;
    }
    uint64_t ts_ms = p.timestamp_ms;
    if (ts_ms == 0) {
      if (receipt_ms_ == 0) receipt_ms_ = NowMs();
      ts_ms = receipt_ms_;
    }
    if (ts_ms > kMaxMs) {
      ++bad_time;
      continue;
    }
    s.ts_us = static_cast<int64_t>(ts_ms) * 1000;
    if (p.quality && *p.quality != kQualityGood) s.quality = quality::kBadSource;
    samples_.push_back(s);
  }
  if (unmapped != 0) counters_.Count("unmapped_metric", unmapped);
  if (nulls != 0) counters_.Count("null_value", nulls);
  // Strings, bytes and arrays bound to a signal: expected for the plant's string signals (e.g. an
  // item id), which samples cannot carry; counted, not logged.
  if (non_numeric != 0) counters_.Count("non_numeric_value", non_numeric);
  if (bad_time != 0) {
    counters_.Problem("bad_timestamp", bad_time,
                      std::string(sparkplug::MessageTypeName(type)) + " from " + m.topic +
                          ": timestamp beyond year 292277 (ignored)");
  }
  if (!samples_.empty()) {
    counters_.AddSamples(samples_.size());
    if (sinks_.on_samples) sinks_.on_samples(samples_);
  }
}

Status SparkplugConnector::RequestRebirth() {
  for (const auto& [group, node] : table_->SparkplugNodes()) {
    const sparkplug::Message req = sparkplug::HostSession::RebirthRequest(group, node, NowMs());
    WEFT_RETURN_IF_ERROR(session_.Publish(req.topic, req.payload, req.qos, req.retain));
  }
  return Status::Ok();
}

}  // namespace weft::edge
