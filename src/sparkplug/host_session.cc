#include "sparkplug/host_session.h"

#include <array>
#include <variant>

#include "sparkplug/edge_node_session.h"

namespace weft::sparkplug {
namespace {

constexpr std::array<std::string_view, 10> kProblemNames = {
    "none",          "bad_topic",      "bad_payload",   "invalid_birth", "data_before_birth",
    "unknown_alias", "unknown_metric", "type_mismatch", "seq_gap",       "bd_seq_mismatch"};

bool WantsRebirth(HostProblem problem) {
  switch (problem) {
    case HostProblem::kBadPayload:
    case HostProblem::kDataBeforeBirth:
    case HostProblem::kUnknownAlias:
    case HostProblem::kUnknownMetric:
    case HostProblem::kTypeMismatch:
    case HostProblem::kSeqGap: return true;
    default: return false;
  }
}

std::string Quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// "edge node lyon/edge-l1" or "device lyon/edge-l1/press-3".
std::string Who(const Topic& t) {
  std::string s = t.device_id.empty() ? "edge node " : "device ";
  s += t.group_id + "/" + t.edge_node_id;
  if (!t.device_id.empty()) s += "/" + t.device_id;
  return s;
}

// A non-negative integer value (bdSeq is Int64 in Sparkplug 3.0; older nodes send UInt64).
std::optional<uint64_t> AsUnsigned(const MetricValue& v) {
  if (const auto* u = std::get_if<uint64_t>(&v)) return *u;
  if (const auto* s = std::get_if<int64_t>(&v); s != nullptr && *s >= 0) {
    return static_cast<uint64_t>(*s);
  }
  return std::nullopt;
}

std::optional<uint64_t> BdSeqOf(const Payload& payload) {
  for (const Metric& m : payload.metrics) {
    if (m.name && *m.name == kBdSeqMetric) return AsUnsigned(m.value);
  }
  return std::nullopt;
}

uint64_t PointTime(const Metric& m, const Payload& p) {
  return m.timestamp_ms.value_or(p.timestamp_ms.value_or(0));
}

}  // namespace

std::string_view HostProblemName(HostProblem problem) {
  const auto i = static_cast<size_t>(problem);
  return i < kProblemNames.size() ? kProblemNames[i] : "?";
}

HostSession::HostSession(const Clock& clock, HostSessionOptions options)
    : clock_(&clock), options_(options) {}

Message HostSession::RebirthRequest(std::string_view group_id, std::string_view edge_node_id,
                                    uint64_t timestamp_ms) {
  Topic topic;
  topic.group_id = std::string(group_id);
  topic.type = MessageType::kNCmd;
  topic.edge_node_id = std::string(edge_node_id);
  Metric rebirth;
  rebirth.name = std::string(kRebirthMetric);
  rebirth.timestamp_ms = timestamp_ms;
  rebirth.type = DataType::kBoolean;
  rebirth.value = true;
  Payload payload;
  payload.timestamp_ms = timestamp_ms;
  payload.metrics.push_back(std::move(rebirth));
  Message message;
  message.topic = TopicString(topic);
  message.payload = Encode(payload);
  message.qos = 0;
  message.retain = false;
  return message;
}

const HostSession::NodeState* HostSession::FindNode(std::string_view group_id,
                                                    std::string_view edge_node_id) const {
  auto it = nodes_.find(NodeKey(group_id, edge_node_id));
  return it == nodes_.end() ? nullptr : &it->second;
}

bool HostSession::NodeOnline(std::string_view group_id, std::string_view edge_node_id) const {
  const NodeState* node = FindNode(group_id, edge_node_id);
  return node != nullptr && node->born;
}

bool HostSession::DeviceOnline(std::string_view group_id, std::string_view edge_node_id,
                               std::string_view device_id) const {
  const NodeState* node = FindNode(group_id, edge_node_id);
  if (node == nullptr || !node->born) return false;
  auto it = node->devices.find(device_id);
  return it != node->devices.end() && it->second.born;
}

std::optional<uint64_t> HostSession::NodeBdSeq(std::string_view group_id,
                                               std::string_view edge_node_id) const {
  const NodeState* node = FindNode(group_id, edge_node_id);
  if (node == nullptr || !node->born) return std::nullopt;
  return node->bd_seq;
}

void HostSession::Report(HostEvent* event, NodeState* node, HostProblem problem, Status status) {
  if (event->problem == HostProblem::kNone) {
    event->problem = problem;
    event->status = std::move(status);
  }
  if (node == nullptr || !WantsRebirth(problem) || event->rebirth_needed) return;
  const TimePoint now = clock_->Now();
  if (node->rebirth_requested_at && now - *node->rebirth_requested_at < options_.rebirth_holdoff) {
    return;
  }
  node->rebirth_requested_at = now;
  event->rebirth_needed = true;
}

void HostSession::CheckSeq(HostEvent* event, NodeState* node, const Payload& payload) {
  const std::string_view type = MessageTypeName(event->topic.type);
  if (!payload.seq) {
    Report(event, node, HostProblem::kSeqGap,
           InvalidArgumentError(std::string(type) + " from " + Who(event->topic) + " has no seq"));
    return;
  }
  if (*payload.seq > 255) {
    Report(event, node, HostProblem::kSeqGap,
           InvalidArgumentError(std::string(type) + " from " + Who(event->topic) + ": seq " +
                                std::to_string(*payload.seq) + " is outside 0..255"));
    return;
  }
  const auto seq = static_cast<uint8_t>(*payload.seq);
  const auto expected = static_cast<uint8_t>(node->last_seq + 1);
  node->last_seq = seq;  // resynchronise, so that one gap is reported once
  if (seq != expected) {
    Report(event, node, HostProblem::kSeqGap,
           DataLossError(std::string(type) + " from " + Who(event->topic) + ": seq " +
                         std::to_string(seq) + ", expected " + std::to_string(expected) +
                         " (messages lost or out of order)"));
  }
}

void HostSession::RecordBirth(HostEvent* event, NodeState* node, const std::string& device_id,
                              DeviceState* target, const Payload& payload) {
  const std::string type(MessageTypeName(event->topic.type));
  for (size_t i = 0; i < payload.metrics.size(); ++i) {
    const Metric& m = payload.metrics[i];
    const std::string where = type + " of " + Who(event->topic) + ", metric " + std::to_string(i);
    if (!m.name) {
      Report(event, node, HostProblem::kInvalidBirth,
             InvalidArgumentError(where + " has no name (births must name every metric)"));
      continue;
    }
    if (m.type == DataType::kUnknown) {
      Report(event, node, HostProblem::kInvalidBirth,
             InvalidArgumentError(where + " (" + Quoted(*m.name) +
                                  ") has no datatype (births must give every metric's)"));
      continue;
    }
    if (m.alias) {
      auto [it, inserted] =
          node->by_alias.try_emplace(*m.alias, MetricInfo{device_id, *m.name, m.type});
      if (!inserted && (it->second.device_id != device_id || it->second.name != *m.name)) {
        Report(event, node, HostProblem::kInvalidBirth,
               InvalidArgumentError(
                   where + " (" + Quoted(*m.name) + "): alias " + std::to_string(*m.alias) +
                   " is already used by metric " + Quoted(it->second.name) +
                   (it->second.device_id.empty() ? std::string(" of the node")
                                                 : " of device " + Quoted(it->second.device_id))));
        continue;
      }
      it->second.type = m.type;
      target->aliases.push_back(*m.alias);
    }
    target->types_by_name[*m.name] = m.type;
    event->points.push_back(DataPoint{device_id, *m.name, PointTime(m, payload), m.type, m.value,
                                      m.is_historical, m.quality});
  }
}

void HostSession::OnNodeBirth(HostEvent* event, const Payload& payload) {
  NodeState& node = nodes_[NodeKey(event->topic.group_id, event->topic.edge_node_id)];
  node = NodeState();  // a new birth replaces everything, and answers any rebirth request
  node.born = true;
  node.bd_seq = BdSeqOf(payload);
  if (payload.seq && *payload.seq <= 255) node.last_seq = static_cast<uint8_t>(*payload.seq);
  if (!payload.seq || *payload.seq != 0) {
    Report(event, &node, HostProblem::kInvalidBirth,
           InvalidArgumentError("NBIRTH of " + Who(event->topic) + ": seq " +
                                (payload.seq ? std::to_string(*payload.seq) : "missing") +
                                ", must be 0"));
  }
  if (!node.bd_seq) {
    Report(event, &node, HostProblem::kInvalidBirth,
           InvalidArgumentError("NBIRTH of " + Who(event->topic) +
                                " has no integer metric \"bdSeq\""));
  }
  RecordBirth(event, &node, "", &node.node, payload);
  node.node.born = true;
}

void HostSession::OnNodeDeath(HostEvent* event, const Payload& payload) {
  auto it = nodes_.find(NodeKey(event->topic.group_id, event->topic.edge_node_id));
  if (it == nodes_.end() || !it->second.born) return;  // nothing to take offline
  NodeState& node = it->second;
  const std::optional<uint64_t> bd_seq = BdSeqOf(payload);
  if (bd_seq && node.bd_seq && *bd_seq != *node.bd_seq) {
    Report(event, &node, HostProblem::kBdSeqMismatch,
           FailedPreconditionError("NDEATH of " + Who(event->topic) + " has bdSeq " +
                                   std::to_string(*bd_seq) + " but the current NBIRTH has " +
                                   std::to_string(*node.bd_seq) +
                                   ": the will of an earlier session, ignored"));
    return;
  }
  node.born = false;
  node.node.born = false;
  for (auto& [id, device] : node.devices) device.born = false;
}

void HostSession::OnDeviceBirth(HostEvent* event, const Payload& payload) {
  NodeState& node = nodes_[NodeKey(event->topic.group_id, event->topic.edge_node_id)];
  if (!node.born) {
    Report(event, &node, HostProblem::kDataBeforeBirth,
           FailedPreconditionError("DBIRTH of " + Who(event->topic) +
                                   " before the NBIRTH of its edge node"));
    return;
  }
  CheckSeq(event, &node, payload);
  DeviceState& device = node.devices[event->topic.device_id];
  for (uint64_t alias : device.aliases) node.by_alias.erase(alias);  // a rebirth redefines them
  device = DeviceState();
  RecordBirth(event, &node, event->topic.device_id, &device, payload);
  device.born = true;
}

void HostSession::OnDeviceDeath(HostEvent* event, const Payload& payload) {
  NodeState& node = nodes_[NodeKey(event->topic.group_id, event->topic.edge_node_id)];
  if (!node.born) {
    Report(event, &node, HostProblem::kDataBeforeBirth,
           FailedPreconditionError("DDEATH of " + Who(event->topic) +
                                   " before the NBIRTH of its edge node"));
    return;
  }
  CheckSeq(event, &node, payload);
  auto it = node.devices.find(event->topic.device_id);
  if (it != node.devices.end()) it->second.born = false;
}

void HostSession::OnData(HostEvent* event, const Payload& payload) {
  const Topic& topic = event->topic;
  const std::string type(MessageTypeName(topic.type));
  NodeState& node = nodes_[NodeKey(topic.group_id, topic.edge_node_id)];
  if (!node.born) {
    Report(event, &node, HostProblem::kDataBeforeBirth,
           FailedPreconditionError(type + " from " + Who(topic) +
                                   " before the NBIRTH of its edge node"));
    return;
  }
  const DeviceState* target = &node.node;
  if (topic.type == MessageType::kDData) {
    auto it = node.devices.find(topic.device_id);
    if (it == node.devices.end() || !it->second.born) {
      Report(event, &node, HostProblem::kDataBeforeBirth,
             FailedPreconditionError("DDATA from " + Who(topic) + " before its DBIRTH"));
      CheckSeq(event, &node, payload);  // still counts in the node's sequence
      return;
    }
    target = &it->second;
  }
  CheckSeq(event, &node, payload);
  for (size_t i = 0; i < payload.metrics.size(); ++i) {
    const Metric& m = payload.metrics[i];
    const std::string where = type + " from " + Who(topic) + ", metric " + std::to_string(i);
    std::string name;
    DataType birth_type = DataType::kUnknown;
    if (m.alias) {
      auto it = node.by_alias.find(*m.alias);
      if (it == node.by_alias.end() || it->second.device_id != topic.device_id) {
        Report(event, &node, HostProblem::kUnknownAlias,
               NotFoundError(where + ": alias " + std::to_string(*m.alias) +
                             " is not defined by the " +
                             (topic.device_id.empty() ? "NBIRTH" : "DBIRTH")));
        continue;
      }
      name = it->second.name;
      birth_type = it->second.type;
    } else if (m.name) {
      auto it = target->types_by_name.find(*m.name);
      if (it == target->types_by_name.end()) {
        Report(event, &node, HostProblem::kUnknownMetric,
               NotFoundError(where + ": metric " + Quoted(*m.name) + " is not in the " +
                             (topic.device_id.empty() ? "NBIRTH" : "DBIRTH")));
        continue;
      }
      name = *m.name;
      birth_type = it->second;
    } else {
      Report(event, &node, HostProblem::kUnknownMetric,
             InvalidArgumentError(where + " has neither name nor alias"));
      continue;
    }
    if (m.type != DataType::kUnknown && m.type != birth_type) {
      Report(
          event, &node, HostProblem::kTypeMismatch,
          InvalidArgumentError(where + " (" + Quoted(name) + "): datatype " + DataTypeName(m.type) +
                               ", but the birth says " + DataTypeName(birth_type)));
      continue;
    }
    Result<MetricValue> value = ApplyDataType(m.value, birth_type);
    if (!value.ok()) {
      Report(event, &node, HostProblem::kTypeMismatch,
             value.status().WithContext(where + " (" + Quoted(name) + ")"));
      continue;
    }
    event->points.push_back(DataPoint{topic.device_id, std::move(name), PointTime(m, payload),
                                      birth_type, std::move(value).value(), m.is_historical,
                                      m.quality});
  }
}

HostEvent HostSession::Feed(const Topic& topic, const Payload& payload) {
  HostEvent event;
  event.topic = topic;
  if (Status valid = ValidateTopic(topic); !valid.ok()) {
    event.problem = HostProblem::kBadTopic;
    event.status = valid;
    return event;
  }
  switch (topic.type) {
    case MessageType::kNBirth: OnNodeBirth(&event, payload); break;
    case MessageType::kNDeath: OnNodeDeath(&event, payload); break;
    case MessageType::kDBirth: OnDeviceBirth(&event, payload); break;
    case MessageType::kDDeath: OnDeviceDeath(&event, payload); break;
    case MessageType::kNData:
    case MessageType::kDData: OnData(&event, payload); break;
    case MessageType::kNCmd:
    case MessageType::kDCmd:
    case MessageType::kState: break;
  }
  return event;
}

HostEvent HostSession::Feed(std::string_view topic, std::string_view payload) {
  Result<Topic> parsed = ParseTopic(topic);
  if (!parsed.ok()) {
    HostEvent event;
    event.problem = HostProblem::kBadTopic;
    event.status = parsed.status();
    return event;
  }
  const MessageType type = parsed->type;
  if (type == MessageType::kNCmd || type == MessageType::kDCmd || type == MessageType::kState) {
    HostEvent event;
    event.topic = std::move(parsed).value();
    return event;
  }
  Result<Payload> decoded = Decode(payload);
  if (!decoded.ok()) {
    HostEvent event;
    event.topic = std::move(parsed).value();
    NodeState& node = nodes_[NodeKey(event.topic.group_id, event.topic.edge_node_id)];
    Report(&event, &node, HostProblem::kBadPayload,
           decoded.status().WithContext(std::string(MessageTypeName(type)) + " from " +
                                        Who(event.topic)));
    return event;
  }
  return Feed(*parsed, *decoded);
}

}  // namespace weft::sparkplug
