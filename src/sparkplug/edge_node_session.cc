#include "sparkplug/edge_node_session.h"

#include <set>
#include <utility>

#include "sparkplug/utf8.h"

namespace weft::sparkplug {
namespace {

std::string Quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

}  // namespace

EdgeNodeSession::EdgeNodeSession(std::string group_id, std::string edge_node_id)
    : group_id_(std::move(group_id)), edge_node_id_(std::move(edge_node_id)) {}

Result<EdgeNodeSession> EdgeNodeSession::Create(std::string group_id, std::string edge_node_id,
                                                const std::vector<MetricDef>& node_metrics) {
  Topic topic;
  topic.group_id = group_id;
  topic.type = MessageType::kNBirth;
  topic.edge_node_id = edge_node_id;
  WEFT_RETURN_IF_ERROR(ValidateTopic(topic));
  EdgeNodeSession session(std::move(group_id), std::move(edge_node_id));
  session.bd_seq_alias_ = session.next_alias_++;
  session.rebirth_alias_ = session.next_alias_++;
  WEFT_ASSIGN_OR_RETURN(session.node_metrics_, session.Define(node_metrics, true));
  return session;
}

Result<EdgeNodeSession::Metrics> EdgeNodeSession::Define(const std::vector<MetricDef>& defs,
                                                         bool node_level) {
  const std::string owner = node_level ? "node metric" : "device metric";
  std::set<std::string_view> seen;
  for (size_t i = 0; i < defs.size(); ++i) {
    const MetricDef& d = defs[i];
    const std::string where = owner + " " + std::to_string(i);
    if (d.name.empty()) return InvalidArgumentError(where + ": the name is empty");
    if (!internal::IsValidUtf8(d.name)) {
      return InvalidArgumentError(where + ": the name is not valid UTF-8");
    }
    if (node_level && (d.name == kBdSeqMetric || d.name == kRebirthMetric)) {
      return InvalidArgumentError(where + ": " + Quoted(d.name) +
                                  " is reserved; the session adds it to the NBIRTH itself");
    }
    if (!seen.insert(d.name).second) {
      return InvalidArgumentError(where + ": duplicate name " + Quoted(d.name));
    }
    if (!IsMetricDataType(d.type)) {
      return InvalidArgumentError(where + " (" + Quoted(d.name) + "): " + DataTypeName(d.type) +
                                  " is not a metric datatype");
    }
  }
  Metrics metrics;
  for (const MetricDef& d : defs) {
    metrics.by_name.emplace(d.name, metrics.slots.size());
    metrics.slots.push_back({d.name, d.type, next_alias_++});
  }
  return metrics;
}

Status EdgeNodeSession::AddDevice(std::string device_id, const std::vector<MetricDef>& metrics) {
  Topic topic;
  topic.group_id = group_id_;
  topic.type = MessageType::kDBirth;
  topic.edge_node_id = edge_node_id_;
  topic.device_id = device_id;
  WEFT_RETURN_IF_ERROR(ValidateTopic(topic));
  if (devices_.count(device_id) != 0) {
    return AlreadyExistsError("device " + Quoted(device_id) + " was already added to edge node " +
                              Quoted(edge_node_id_));
  }
  Result<Metrics> defined = Define(metrics, false);
  if (!defined.ok()) return defined.status().WithContext("device " + Quoted(device_id));
  topic.type = MessageType::kDData;
  Device& device = devices_[std::move(device_id)];
  device.metrics = std::move(defined).value();
  device.ddata_topic = TopicString(topic);
  return Status::Ok();
}

Result<std::vector<Metric>> EdgeNodeSession::BirthMetrics(
    const Metrics& metrics, uint64_t timestamp_ms, const std::vector<MetricValue>& values) const {
  if (values.size() != metrics.slots.size()) {
    return InvalidArgumentError("expected " + std::to_string(metrics.slots.size()) +
                                " values (one per metric, in definition order), got " +
                                std::to_string(values.size()));
  }
  std::vector<Metric> out;
  out.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Slot& slot = metrics.slots[i];
    Status valid = CheckValue(slot.type, values[i]);
    if (!valid.ok()) return valid.WithContext("metric " + Quoted(slot.name));
    Metric m;
    m.name = slot.name;
    m.alias = slot.alias;
    m.timestamp_ms = timestamp_ms;
    m.type = slot.type;
    m.value = values[i];
    m.is_null = std::holds_alternative<std::monostate>(values[i]);
    out.push_back(std::move(m));
  }
  return out;
}

Result<const EdgeNodeSession::Slot*> EdgeNodeSession::Resolve(const Metrics& metrics,
                                                              const MetricUpdate& u) {
  const Slot* slot = nullptr;
  if (const auto* index = std::get_if<size_t>(&u.metric)) {
    if (*index >= metrics.slots.size()) {
      return InvalidArgumentError("metric index " + std::to_string(*index) + " is out of range (" +
                                  std::to_string(metrics.slots.size()) + " metrics defined)");
    }
    slot = &metrics.slots[*index];
  } else {
    const auto& name = std::get<std::string>(u.metric);
    auto it = metrics.by_name.find(name);
    if (it == metrics.by_name.end()) {
      return InvalidArgumentError("no metric named " + Quoted(name) + " was defined");
    }
    slot = &metrics.slots[it->second];
  }
  Status valid = CheckValue(slot->type, u.value);
  if (!valid.ok()) return valid.WithContext("metric " + Quoted(slot->name));
  return slot;
}

Result<std::string> EdgeNodeSession::DataPayload(const Metrics& metrics, uint64_t timestamp_ms,
                                                 const std::vector<MetricUpdate>& updates) {
  // Straight to the wire (AppendDataMetric); DATA messages carry the alias only, never the name.
  std::string out;
  out.reserve(16 + 24 * updates.size());  // typical scalar metric: 20-24 bytes
  AppendPayloadTimestamp(timestamp_ms, &out);
  for (const MetricUpdate& u : updates) {
    WEFT_ASSIGN_OR_RETURN(const Slot* slot, Resolve(metrics, u));
    if (!AppendDataMetric(slot->alias, u.timestamp_ms.value_or(timestamp_ms), slot->type, u.value,
                          &out)) {
      return GeneralDataPayload(metrics, timestamp_ms, updates);
    }
  }
  AppendPayloadSeq(TakeSeq(), &out);
  return out;
}

Result<std::string> EdgeNodeSession::GeneralDataPayload(const Metrics& metrics,
                                                        uint64_t timestamp_ms,
                                                        const std::vector<MetricUpdate>& updates) {
  Payload payload;
  payload.timestamp_ms = timestamp_ms;
  payload.metrics.reserve(updates.size());
  for (const MetricUpdate& u : updates) {
    WEFT_ASSIGN_OR_RETURN(const Slot* slot, Resolve(metrics, u));
    Metric m;
    m.alias = slot->alias;
    m.timestamp_ms = u.timestamp_ms.value_or(timestamp_ms);
    m.type = slot->type;
    m.value = u.value;
    m.is_null = std::holds_alternative<std::monostate>(u.value);
    payload.metrics.push_back(std::move(m));
  }
  payload.seq = TakeSeq();
  return Encode(payload);
}

Message EdgeNodeSession::Build(MessageType type, std::string_view device_id, const Payload& payload,
                               int qos) const {
  Topic topic;
  topic.group_id = group_id_;
  topic.type = type;
  topic.edge_node_id = edge_node_id_;
  topic.device_id = std::string(device_id);
  Message message;
  message.topic = TopicString(topic);
  message.payload = Encode(payload);
  message.qos = qos;
  message.retain = false;
  return message;
}

uint8_t EdgeNodeSession::TakeSeq() {
  const uint8_t seq = next_seq_;
  next_seq_ = static_cast<uint8_t>(next_seq_ + 1);  // wraps 255 -> 0
  return seq;
}

Message EdgeNodeSession::NodeDeath(std::optional<uint64_t> timestamp_ms) const {
  Metric bd_seq;
  bd_seq.name = std::string(kBdSeqMetric);
  bd_seq.timestamp_ms = timestamp_ms;
  bd_seq.type = DataType::kInt64;
  bd_seq.value = static_cast<int64_t>(bd_seq_);
  Payload payload;
  payload.timestamp_ms = timestamp_ms;
  payload.metrics.push_back(std::move(bd_seq));
  return Build(MessageType::kNDeath, "", payload, /*qos=*/1);
}

Result<Message> EdgeNodeSession::NodeBirth(uint64_t timestamp_ms,
                                           const std::vector<MetricValue>& node_values) {
  Result<std::vector<Metric>> user = BirthMetrics(node_metrics_, timestamp_ms, node_values);
  if (!user.ok()) return user.status().WithContext("NBIRTH");

  Payload payload;
  payload.timestamp_ms = timestamp_ms;
  payload.seq = 0;
  Metric bd_seq;
  bd_seq.name = std::string(kBdSeqMetric);
  bd_seq.alias = bd_seq_alias_;
  bd_seq.timestamp_ms = timestamp_ms;
  bd_seq.type = DataType::kInt64;
  bd_seq.value = static_cast<int64_t>(bd_seq_);
  payload.metrics.push_back(std::move(bd_seq));
  Metric rebirth;
  rebirth.name = std::string(kRebirthMetric);
  rebirth.alias = rebirth_alias_;
  rebirth.timestamp_ms = timestamp_ms;
  rebirth.type = DataType::kBoolean;
  rebirth.value = false;
  payload.metrics.push_back(std::move(rebirth));
  for (Metric& m : *user) payload.metrics.push_back(std::move(m));

  node_born_ = true;
  next_seq_ = 1;
  for (auto& [id, device] : devices_) device.born = false;
  return Build(MessageType::kNBirth, "", payload, /*qos=*/0);
}

Result<Message> EdgeNodeSession::NodeData(uint64_t timestamp_ms,
                                          const std::vector<MetricUpdate>& updates) {
  if (!node_born_) {
    return FailedPreconditionError(
        "NDATA before the NBIRTH of this session: build NodeBirth first");
  }
  Result<std::string> payload = DataPayload(node_metrics_, timestamp_ms, updates);
  if (!payload.ok()) return payload.status().WithContext("NDATA");
  Topic topic;
  topic.group_id = group_id_;
  topic.type = MessageType::kNData;
  topic.edge_node_id = edge_node_id_;
  Message message;
  message.topic = TopicString(topic);
  message.payload = std::move(payload).value();
  return message;  // QoS 0, not retained
}

Result<Message> EdgeNodeSession::DeviceBirth(std::string_view device_id, uint64_t timestamp_ms,
                                             const std::vector<MetricValue>& values) {
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    return NotFoundError("DBIRTH: no device " + Quoted(device_id) + " was added");
  }
  if (!node_born_) {
    return FailedPreconditionError("DBIRTH of device " + Quoted(device_id) +
                                   " before the NBIRTH of this session: build NodeBirth first");
  }
  Result<std::vector<Metric>> metrics = BirthMetrics(it->second.metrics, timestamp_ms, values);
  if (!metrics.ok()) return metrics.status().WithContext("DBIRTH of device " + Quoted(device_id));
  Payload payload;
  payload.timestamp_ms = timestamp_ms;
  payload.seq = TakeSeq();
  payload.metrics = std::move(metrics).value();
  it->second.born = true;
  return Build(MessageType::kDBirth, device_id, payload, /*qos=*/0);
}

Result<Message> EdgeNodeSession::DeviceData(std::string_view device_id, uint64_t timestamp_ms,
                                            const std::vector<MetricUpdate>& updates) {
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    return NotFoundError("DDATA: no device " + Quoted(device_id) + " was added");
  }
  if (!node_born_ || !it->second.born) {
    return FailedPreconditionError("DDATA of device " + Quoted(device_id) +
                                   " before its DBIRTH in this session: build DeviceBirth first");
  }
  Result<std::string> payload = DataPayload(it->second.metrics, timestamp_ms, updates);
  if (!payload.ok()) return payload.status().WithContext("DDATA of device " + Quoted(device_id));
  Message message;
  message.topic = it->second.ddata_topic;
  message.payload = std::move(payload).value();
  return message;  // QoS 0, not retained
}

Result<Message> EdgeNodeSession::DeviceDeath(std::string_view device_id, uint64_t timestamp_ms) {
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    return NotFoundError("DDEATH: no device " + Quoted(device_id) + " was added");
  }
  if (!node_born_) {
    return FailedPreconditionError("DDEATH of device " + Quoted(device_id) +
                                   " before the NBIRTH of this session");
  }
  Payload payload;
  payload.timestamp_ms = timestamp_ms;
  payload.seq = TakeSeq();
  it->second.born = false;
  return Build(MessageType::kDDeath, device_id, payload, /*qos=*/0);
}

void EdgeNodeSession::NewSession() {
  bd_seq_ = (bd_seq_ + 1) % 256;
  node_born_ = false;
  next_seq_ = 0;
  for (auto& [id, device] : devices_) device.born = false;
}

bool EdgeNodeSession::IsRebirthRequest(const Topic& topic, const Payload& payload) const {
  if (topic.type != MessageType::kNCmd || topic.namespace_ != kNamespace ||
      topic.group_id != group_id_ || topic.edge_node_id != edge_node_id_) {
    return false;
  }
  for (const Metric& m : payload.metrics) {
    const bool is_rebirth =
        m.name ? *m.name == kRebirthMetric : (m.alias && *m.alias == rebirth_alias_);
    const bool* value = std::get_if<bool>(&m.value);
    if (is_rebirth && value != nullptr && *value) return true;
  }
  return false;
}

std::optional<uint64_t> EdgeNodeSession::Alias(std::string_view device_id,
                                               std::string_view metric_name) const {
  const Metrics* metrics = nullptr;
  if (device_id.empty()) {
    if (metric_name == kBdSeqMetric) return bd_seq_alias_;
    if (metric_name == kRebirthMetric) return rebirth_alias_;
    metrics = &node_metrics_;
  } else {
    auto it = devices_.find(device_id);
    if (it == devices_.end()) return std::nullopt;
    metrics = &it->second.metrics;
  }
  auto it = metrics->by_name.find(metric_name);
  if (it == metrics->by_name.end()) return std::nullopt;
  return metrics->slots[it->second].alias;
}

}  // namespace weft::sparkplug
