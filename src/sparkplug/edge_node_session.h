// EdgeNodeSession: the Sparkplug B state of one edge node and its devices, as the edge publishes
// it. It builds the messages; the caller owns the MQTT connection and publishes them.
//
//   WEFT_ASSIGN_OR_RETURN(EdgeNodeSession s, EdgeNodeSession::Create("lyon", "edge-l1"));
//   WEFT_RETURN_IF_ERROR(s.AddDevice("press-3", {{"Temp", DataType::kDouble},
//                                                {"Running", DataType::kBoolean}}));
//   Message will = s.NodeDeath();                      // the will of the MQTT CONNECT
//   ... connect ...
//   Publish(s.NodeBirth(now_ms, {}));                  // NBIRTH: seq 0, bdSeq, rebirth metric
//   Publish(s.DeviceBirth("press-3", now_ms, {21.5, true}));
//   Publish(s.DeviceData("press-3", now_ms, {{"Temp", 22.0}}));      // aliases only
//   on NCMD: if (s.IsRebirthRequest(topic, payload)) { NodeBirth, DeviceBirth for each device }
//   on reconnect: s.NewSession(); will = s.NodeDeath(); connect; births again.
//
// Rules followed (Sparkplug 3.0, chapters 4 "Topics and Messages", 5 "Operational Behavior" and
// 6 "Payloads"):
// - seq: NBIRTH carries 0; every DBIRTH, NDATA, DDATA and DDEATH after it carries the previous
//   value + 1, wrapping 255 -> 0. NDEATH carries none.
// - bdSeq: a metric "bdSeq" (Int64) in the NDEATH will and in the NBIRTH of the same MQTT
//   session, with the same value; 0 in the first session, + 1 (mod 256) per NewSession(). A
//   rebirth inside a session repeats the same bdSeq.
// - NBIRTH holds bdSeq, "Node Control/Rebirth" (Boolean, false) and every node metric; births
//   carry name, alias, datatype, timestamp and value of every metric. NDATA and DDATA carry
//   alias, datatype, timestamp and value, never the name.
// - Aliases are unique across the node (node metrics and all devices), assigned in order of
//   definition, and stable for the life of the object.
// - QoS 0, retain false, except the NDEATH will: QoS 1.
// - DATA, DBIRTH and DDEATH need the NBIRTH of the current session (FailedPrecondition
//   otherwise); DDATA needs the device's DBIRTH since that NBIRTH.
//
// Values are given per metric definition, in the C++ type of its datatype (see payload.h);
// std::monostate sends a null.
//
// Thread-safety: none; one owner (the edge node's connector thread).
#ifndef WEFT_SPARKPLUG_EDGE_NODE_SESSION_H_
#define WEFT_SPARKPLUG_EDGE_NODE_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "sparkplug/payload.h"
#include "sparkplug/topic.h"

namespace weft::sparkplug {

//! Names of the metrics the specification reserves.
inline constexpr std::string_view kBdSeqMetric = "bdSeq";
inline constexpr std::string_view kRebirthMetric = "Node Control/Rebirth";

struct MetricDef {
  std::string name{};  //!< non-empty UTF-8; may use '/' for folders ("Motor/Current")
  DataType type = DataType::kDouble;
};

//! One changed value for NodeData/DeviceData.
struct MetricUpdate {
  //! The metric: its index in the MetricDef list, or its name.
  std::variant<size_t, std::string> metric{};
  MetricValue value{};  //!< std::monostate sends a null
  //! Acquisition time; default: the message's timestamp.
  std::optional<uint64_t> timestamp_ms{};
};

class EdgeNodeSession {
 public:
  //! InvalidArgument when an id is not a valid topic element or a node metric definition is
  //! invalid (empty or non-UTF-8 name, a reserved name, a duplicate, a non-metric datatype).
  static Result<EdgeNodeSession> Create(std::string group_id, std::string edge_node_id,
                                        const std::vector<MetricDef>& node_metrics = {});

  //! Declares a device and its metrics; aliases are assigned now. InvalidArgument for a bad id or
  //! definition, AlreadyExists for a device id already added. Its DBIRTH may follow at once.
  Status AddDevice(std::string device_id, const std::vector<MetricDef>& metrics);

  //! The NDEATH to register as the MQTT will before connecting (or to publish before an
  //! intentional disconnect): topic NDEATH, payload with only the metric bdSeq = bd_seq(), no seq;
  //! QoS 1, retain false. `timestamp_ms` is optional (a will's time is not known in advance).
  Message NodeDeath(std::optional<uint64_t> timestamp_ms = std::nullopt) const;

  //! NBIRTH with seq 0. `node_values` holds one value per node metric, in definition order.
  //! Resets seq; every device needs a new DBIRTH afterwards. InvalidArgument for a wrong number
  //! of values or a value that does not fit its datatype.
  Result<Message> NodeBirth(uint64_t timestamp_ms, const std::vector<MetricValue>& node_values);

  //! NDATA with the given node metric values, by alias.
  Result<Message> NodeData(uint64_t timestamp_ms, const std::vector<MetricUpdate>& updates);

  //! DBIRTH with every metric of the device (one value per definition, in order).
  Result<Message> DeviceBirth(std::string_view device_id, uint64_t timestamp_ms,
                              const std::vector<MetricValue>& values);

  //! DDATA with the given device metric values, by alias (no names).
  Result<Message> DeviceData(std::string_view device_id, uint64_t timestamp_ms,
                             const std::vector<MetricUpdate>& updates);

  //! DDEATH: the device is gone; its DDATA needs a new DBIRTH. NotFound for an unknown device.
  Result<Message> DeviceDeath(std::string_view device_id, uint64_t timestamp_ms);

  //! Call before each new MQTT connection after the first: increments bdSeq (mod 256) and
  //! requires a new NBIRTH. Register NodeDeath() of the new session as the will.
  void NewSession();

  //! True for an NCMD addressed to this node that sets "Node Control/Rebirth" to true, named or
  //! by the alias this session gave it. The caller then publishes NodeBirth and every DeviceBirth.
  bool IsRebirthRequest(const Topic& topic, const Payload& payload) const;

  const std::string& group_id() const { return group_id_; }
  const std::string& edge_node_id() const { return edge_node_id_; }
  //! The bdSeq of the current session (0..255).
  uint64_t bd_seq() const { return bd_seq_; }
  //! The seq the next DBIRTH/NDATA/DDATA/DDEATH will carry.
  uint8_t next_seq() const { return next_seq_; }
  //! Whether the NBIRTH of the current session was built.
  bool node_born() const { return node_born_; }
  //! The alias of a metric; device_id "" for node metrics (including bdSeq and the rebirth
  //! metric). nullopt when there is no such metric.
  std::optional<uint64_t> Alias(std::string_view device_id, std::string_view metric_name) const;

 private:
  struct Slot {
    std::string name;
    DataType type = DataType::kUnknown;
    uint64_t alias = 0;
  };
  struct Metrics {
    std::vector<Slot> slots;
    std::map<std::string, size_t, std::less<>> by_name;
  };
  struct Device {
    Metrics metrics;
    std::string ddata_topic;  //!< built once: DDATA is the bulk of the traffic
    bool born = false;
  };

  EdgeNodeSession(std::string group_id, std::string edge_node_id);
  //! Validates `defs` (and, for the node, the reserved names) and assigns aliases.
  Result<Metrics> Define(const std::vector<MetricDef>& defs, bool node_level);
  Result<std::vector<Metric>> BirthMetrics(const Metrics& metrics, uint64_t timestamp_ms,
                                           const std::vector<MetricValue>& values) const;
  //! The slot an update names, its value checked against the slot's datatype.
  static Result<const Slot*> Resolve(const Metrics& metrics, const MetricUpdate& u);
  //! An NDATA/DDATA payload (takes the next seq on success).
  Result<std::string> DataPayload(const Metrics& metrics, uint64_t timestamp_ms,
                                  const std::vector<MetricUpdate>& updates);
  //! The same through Payload and Encode(), for values AppendDataMetric does not handle.
  Result<std::string> GeneralDataPayload(const Metrics& metrics, uint64_t timestamp_ms,
                                         const std::vector<MetricUpdate>& updates);
  Message Build(MessageType type, std::string_view device_id, const Payload& payload,
                int qos) const;
  uint8_t TakeSeq();

  std::string group_id_;
  std::string edge_node_id_;
  uint64_t next_alias_ = 0;
  uint64_t bd_seq_alias_ = 0;
  uint64_t rebirth_alias_ = 0;
  Metrics node_metrics_;
  std::map<std::string, Device, std::less<>> devices_;
  uint64_t bd_seq_ = 0;
  uint8_t next_seq_ = 0;
  bool node_born_ = false;
};

}  // namespace weft::sparkplug

#endif  // WEFT_SPARKPLUG_EDGE_NODE_SESSION_H_
