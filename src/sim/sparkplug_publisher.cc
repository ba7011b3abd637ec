#include "sim/sparkplug_publisher.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <map>

#include "sparkplug/payload.h"
#include "sparkplug/topic.h"

namespace weft::sim {
namespace {

sparkplug::DataType ToSparkplug(model::DataType t) {
  switch (t) {
    case model::DataType::kBool: return sparkplug::DataType::kBoolean;
    case model::DataType::kInt32: return sparkplug::DataType::kInt32;
    case model::DataType::kInt64: return sparkplug::DataType::kInt64;
    case model::DataType::kFloat32: return sparkplug::DataType::kFloat;
    case model::DataType::kFloat64: return sparkplug::DataType::kDouble;
    case model::DataType::kString: return sparkplug::DataType::kString;
  }
  return sparkplug::DataType::kDouble;
}

sparkplug::MetricValue ToValue(model::DataType t, double v) {
  switch (t) {
    case model::DataType::kBool: return v != 0;
    case model::DataType::kInt32:
      return static_cast<int64_t>(std::clamp(v, -2147483648.0, 2147483647.0));
    case model::DataType::kInt64: return static_cast<int64_t>(std::clamp(v, -9.2e18, 9.2e18));
    case model::DataType::kFloat32: return static_cast<float>(v);
    case model::DataType::kFloat64: return v;
    case model::DataType::kString: return std::to_string(std::llround(v));
  }
  return v;
}

}  // namespace

struct SparkplugPublisher::Node {
  explicit Node(sparkplug::EdgeNodeSession s) : session(std::move(s)) {}
  sparkplug::EdgeNodeSession session;
  bool born = false;
  std::atomic<bool> rebirth_requested{false};
  std::vector<std::string> devices;
  std::vector<std::vector<model::DataType>> types;            //!< per device, per metric
  std::vector<std::vector<sparkplug::MetricValue>> last;      //!< per device, per metric
  std::vector<std::vector<sparkplug::MetricUpdate>> pending;  //!< per device, this tick
  //! Last: destroyed first, so its thread (whose NCMD handler sets rebirth_requested) stops
  //! before the rest of the node goes.
  std::unique_ptr<MqttOutbox> outbox;
};

SparkplugPublisher::SparkplugPublisher(mqtt::BrokerAddress broker) : broker_(std::move(broker)) {}
SparkplugPublisher::~SparkplugPublisher() = default;

Result<std::unique_ptr<SparkplugPublisher>> SparkplugPublisher::Create(
    const Simulator& sim, const mqtt::BrokerAddress& broker) {
  std::unique_ptr<SparkplugPublisher> p(new SparkplugPublisher(broker));
  p->routes_.resize(sim.signals().size());
  std::map<std::pair<std::string, std::string>, int> node_index;
  std::map<std::pair<int, std::string>, int> device_index;
  std::vector<std::vector<std::vector<sparkplug::MetricDef>>> defs;  // node, device, metric
  for (size_t i = 0; i < sim.signals().size(); ++i) {
    const SimSignal& s = sim.signals()[i];
    if (s.signal->protocol != model::Protocol::kSparkplugB) continue;
    const model::SparkplugEndpoint& ep = *s.asset->connection.sparkplug;
    if (ep.device_id.empty()) {
      return UnimplementedError("asset '" + s.asset->id +
                                "': Sparkplug node-level metrics (no device id) are not "
                                "simulated yet; give the asset a device id");
    }
    auto [nit, new_node] =
        node_index.emplace(std::make_pair(ep.group_id, ep.edge_node_id), p->nodes_.size());
    if (new_node) {
      WEFT_ASSIGN_OR_RETURN(auto session,
                            sparkplug::EdgeNodeSession::Create(ep.group_id, ep.edge_node_id));
      p->nodes_.push_back(std::make_unique<Node>(std::move(session)));
      defs.emplace_back();
    }
    Node& node = *p->nodes_[static_cast<size_t>(nit->second)];
    auto [dit, new_device] =
        device_index.emplace(std::make_pair(nit->second, ep.device_id), node.devices.size());
    if (new_device) {
      node.devices.push_back(ep.device_id);
      node.types.emplace_back();
      defs[static_cast<size_t>(nit->second)].emplace_back();
    }
    auto d = static_cast<size_t>(dit->second);
    auto& device_defs = defs[static_cast<size_t>(nit->second)][d];
    Route& r = p->routes_[i];
    r.node = nit->second;
    r.device = dit->second;
    r.metric = device_defs.size();
    r.type = s.signal->spec.type;
    device_defs.push_back({s.signal->spec.source.sparkplug->metric, ToSparkplug(r.type)});
    node.types[d].push_back(r.type);
  }
  for (size_t n = 0; n < p->nodes_.size(); ++n) {
    Node& node = *p->nodes_[n];
    for (size_t d = 0; d < node.devices.size(); ++d) {
      WEFT_RETURN_IF_ERROR(node.session.AddDevice(node.devices[d], defs[n][d]));
      node.last.emplace_back(defs[n][d].size());
      node.pending.emplace_back();
    }
    WEFT_RETURN_IF_ERROR(p->Connect(node));
  }
  return p;
}

mqtt::ClientOptions SparkplugPublisher::SessionOptions(const Node& node) {
  sparkplug::Message death = node.session.NodeDeath();
  mqtt::ClientOptions options;
  options.client_id = "weft-sim-" + node.session.group_id() + "-" + node.session.edge_node_id();
  options.will = mqtt::Will{death.topic, death.payload, death.qos, death.retain};
  return options;
}

Status SparkplugPublisher::Connect(Node& node) {
  MqttOutbox::Connection c;
  c.broker = broker_;
  c.options = SessionOptions(node);
  sparkplug::Topic ncmd;
  ncmd.group_id = node.session.group_id();
  ncmd.type = sparkplug::MessageType::kNCmd;
  ncmd.edge_node_id = node.session.edge_node_id();
  c.subscriptions.emplace_back(sparkplug::TopicString(ncmd), 1);
  // Runs on the outbox thread, against its own copy of the session (the aliases, fixed since
  // Create(), are all IsRebirthRequest needs); the simulation thread answers at its next tick.
  Node* raw = &node;
  auto probe = std::make_shared<const sparkplug::EdgeNodeSession>(node.session);
  c.handler = [raw, probe](const mqtt::Message& m) {
    auto topic = sparkplug::ParseTopic(m.topic);
    auto payload = sparkplug::Decode(m.payload);
    if (!topic.ok() || !payload.ok()) {
      spdlog::warn("sim: ignoring a bad command on '{}': {}", m.topic,
                   (topic.ok() ? payload.status() : topic.status()).message());
      return;
    }
    if (probe->IsRebirthRequest(*topic, *payload)) raw->rebirth_requested.store(true);
  };
  WEFT_ASSIGN_OR_RETURN(node.outbox, MqttOutbox::Start(std::move(c), /*reconnect=*/true));
  node.born = false;
  return Status::Ok();
}

void SparkplugPublisher::Publish(Node& node, const sparkplug::Message& m) {
  node.outbox->Add(m.topic, m.payload, m.qos, m.retain);
}

Status SparkplugPublisher::Births(Node& node, uint64_t ts_ms) {
  WEFT_ASSIGN_OR_RETURN(sparkplug::Message nbirth, node.session.NodeBirth(ts_ms, {}));
  Publish(node, nbirth);
  for (size_t d = 0; d < node.devices.size(); ++d) {
    WEFT_ASSIGN_OR_RETURN(sparkplug::Message dbirth,
                          node.session.DeviceBirth(node.devices[d], ts_ms, node.last[d]));
    Publish(node, dbirth);
  }
  node.born = true;
  return Status::Ok();
}

uint64_t SparkplugPublisher::messages() const {
  uint64_t n = 0;
  for (const auto& node : nodes_) n += node->outbox ? node->outbox->published() : 0;
  return n;
}

Status SparkplugPublisher::OnTick(TimePoint now, std::span<const Sample> samples) {
  const auto ts_ms = static_cast<uint64_t>(UnixMicros(now) / 1000);
  for (const Sample& s : samples) {
    const Route& r = routes_[s.signal];
    if (r.node < 0) continue;
    Node& node = *nodes_[static_cast<size_t>(r.node)];
    auto d = static_cast<size_t>(r.device);
    sparkplug::MetricValue v = ToValue(r.type, s.value);
    node.last[d][r.metric] = v;
    if (s.sent) node.pending[d].push_back({r.metric, std::move(v), std::nullopt});
  }
  for (auto& node_ptr : nodes_) {
    Node& node = *node_ptr;
    if (node.outbox->TakeLost()) {
      // The connection is gone: a new session (bdSeq + 1, its own will) and births. What was
      // encoded for the old session since it was lost is dropped by the outbox.
      node.session.NewSession();
      node.outbox->Reconnect(SessionOptions(node));
      node.born = false;
    }
    if (!node.born || node.rebirth_requested.exchange(false)) {
      if (node.born) ++rebirths_;
      WEFT_RETURN_IF_ERROR(Births(node, ts_ms));
    } else {
      for (size_t d = 0; d < node.devices.size(); ++d) {
        if (node.pending[d].empty()) continue;
        WEFT_ASSIGN_OR_RETURN(sparkplug::Message ddata,
                              node.session.DeviceData(node.devices[d], ts_ms, node.pending[d]));
        Publish(node, ddata);
      }
    }
    for (auto& p : node.pending) p.clear();
    // The tick's messages go to the node's publishing thread in one hand-over.
    WEFT_RETURN_IF_ERROR(node.outbox->Flush());
  }
  return Status::Ok();
}

Status SparkplugPublisher::Finish() {
  Status result;
  for (auto& node : nodes_) {
    // A clean shutdown announces itself: NDEATH before DISCONNECT (the will is not sent then).
    Publish(*node, node->session.NodeDeath());
    Status st = node->outbox->FlushNow();
    if (result.ok() && !st.ok()) result = st;
  }
  for (auto& node : nodes_) {  // every NDEATH is on its way: the nodes drain in parallel
    Status st = node->outbox->Close(std::chrono::seconds(30));
    if (result.ok() && !st.ok()) result = st;
  }
  spdlog::info("sim: published {} messages (Sparkplug B, {} edge nodes, {} rebirths)", messages(),
               nodes_.size(), rebirths_);
  return result;
}

}  // namespace weft::sim
