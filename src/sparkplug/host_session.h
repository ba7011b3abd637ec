// HostSession: the Sparkplug B state a host application keeps about the edge nodes it hears, and
// the values their messages carry.
//
//   HostSession host(SystemClock::Default());
//   HostEvent e = host.Feed(mqtt_message.topic, mqtt_message.payload);
//   for (const DataPoint& p : e.points) Store(e.topic, p);        // births and data
//   if (e.problem != HostProblem::kNone) LOG_WARN(e.status.ToString());
//   if (e.rebirth_needed) Publish(HostSession::RebirthRequest(e.topic.group_id,
//                                                             e.topic.edge_node_id, now_ms));
//
// What it tracks, per edge node (group id + edge node id):
// - online: from its NBIRTH until an NDEATH with the same bdSeq; each device from its DBIRTH until
//   its DDEATH, the node's NDEATH or the node's next NBIRTH;
// - the birth certificates: metric name and datatype per alias and per name, for the node and
//   each device (aliases are unique across the node);
// - seq: every DBIRTH, NDATA, DDATA and DDEATH must carry the previous seq + 1 (mod 256), starting
//   from the NBIRTH's 0.
//
// DATA values are resolved through the births: the alias (or name) gives the metric's name and
// datatype, and a value sent without datatype is converted to it (ApplyDataType).
//
// Problems are values in the HostEvent, never errors of the call: the first problem found is in
// `problem`/`status`; `rebirth_needed` says to send RebirthRequest() for the node. A problem that
// does not lose data (a seq gap, an unknown alias among known ones) still delivers the points
// that can be resolved. There is no reorder window: a seq gap is reported at once (suits brokers
// that keep QoS 0 order per client, such as Mosquitto). To avoid request storms, rebirth_needed
// is set at most once per node per `rebirth_holdoff`, and again only after that node's NBIRTH or
// the holdoff's end.
//
// Thread-safety: none; one owner (the MQTT connector's thread).
#ifndef WEFT_SPARKPLUG_HOST_SESSION_H_
#define WEFT_SPARKPLUG_HOST_SESSION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "sparkplug/payload.h"
#include "sparkplug/topic.h"

namespace weft::sparkplug {

//! One value of a metric, resolved to its name and datatype.
struct DataPoint {
  std::string device_id{};  //!< "" for the edge node's own metrics
  std::string metric_name{};
  //! The metric's timestamp, else the payload's, else 0. Milliseconds since the Unix epoch, UTC.
  uint64_t timestamp_ms = 0;
  DataType type = DataType::kUnknown;
  MetricValue value{};  //!< std::monostate: null
  bool is_historical = false;
  std::optional<int32_t> quality{};  //!< the "Quality" property, when sent

  friend bool operator==(const DataPoint&, const DataPoint&) = default;
};

enum class HostProblem {
  kNone,
  kBadTopic,         //!< not a Sparkplug B topic; ignored
  kBadPayload,       //!< the payload does not decode; ignored, rebirth
  kInvalidBirth,     //!< a birth breaks a rule (no bdSeq, metric without name or datatype,
                     //!< alias used twice); the rest of it is kept; no rebirth (it would repeat)
  kDataBeforeBirth,  //!< DBIRTH/DATA/DDEATH from a node (device) without a current birth; rebirth
  kUnknownAlias,     //!< a DATA alias that the births did not define (for this device); rebirth
  kUnknownMetric,    //!< a DATA metric name that the births did not define, or neither name nor
                     //!< alias; rebirth
  kTypeMismatch,     //!< a DATA value that does not fit the birth's datatype; rebirth
  kSeqGap,           //!< seq is not the previous + 1 (mod 256), or missing; rebirth
  kBdSeqMismatch,    //!< an NDEATH whose bdSeq is not the current NBIRTH's: the will of an
                     //!< earlier session, ignored (the node stays online); no rebirth
};

//! "none", "bad_topic", "seq_gap", ...
std::string_view HostProblemName(HostProblem problem);

//! What one message meant.
struct HostEvent {
  Topic topic{};                    //!< as parsed; default-constructed for kBadTopic
  std::vector<DataPoint> points{};  //!< the values of a birth or DATA message
  HostProblem problem = HostProblem::kNone;
  Status status{};              //!< explains `problem`; OK for kNone
  bool rebirth_needed = false;  //!< send RebirthRequest(topic.group_id, topic.edge_node_id, ...)
};

struct HostSessionOptions {
  std::chrono::milliseconds rebirth_holdoff{5000};
};

class HostSession {
 public:
  //! `clock` times rebirth requests (holdoff) and must outlive the session.
  explicit HostSession(const Clock& clock, HostSessionOptions options = {});

  //! Takes one MQTT message as received. NCMD, DCMD and STATE are accepted and ignored (no
  //! points); other topics outside spBv1.0 are kBadTopic.
  HostEvent Feed(std::string_view topic, std::string_view payload);
  //! The same for a message already parsed and decoded.
  HostEvent Feed(const Topic& topic, const Payload& payload);

  //! The NCMD that asks an edge node for a new NBIRTH and DBIRTHs: metric "Node Control/Rebirth"
  //! (by name, as the specification requires), Boolean true; no seq; QoS 0, retain false.
  static Message RebirthRequest(std::string_view group_id, std::string_view edge_node_id,
                                uint64_t timestamp_ms);

  bool NodeOnline(std::string_view group_id, std::string_view edge_node_id) const;
  bool DeviceOnline(std::string_view group_id, std::string_view edge_node_id,
                    std::string_view device_id) const;
  //! The bdSeq of the node's current NBIRTH, if it had one.
  std::optional<uint64_t> NodeBdSeq(std::string_view group_id, std::string_view edge_node_id) const;

 private:
  struct MetricInfo {
    std::string device_id;
    std::string name;
    DataType type = DataType::kUnknown;
  };
  struct DeviceState {
    bool born = false;
    std::map<std::string, DataType, std::less<>> types_by_name;
    std::vector<uint64_t> aliases;
  };
  struct NodeState {
    bool born = false;
    std::optional<uint64_t> bd_seq;
    uint8_t last_seq = 0;
    std::map<uint64_t, MetricInfo> by_alias;
    DeviceState node;  // the node's own metrics
    std::map<std::string, DeviceState, std::less<>> devices;
    std::optional<TimePoint> rebirth_requested_at;
  };
  using NodeKey = std::pair<std::string, std::string>;

  const NodeState* FindNode(std::string_view group_id, std::string_view edge_node_id) const;
  void Report(HostEvent* event, NodeState* node, HostProblem problem, Status status);
  void CheckSeq(HostEvent* event, NodeState* node, const Payload& payload);
  void RecordBirth(HostEvent* event, NodeState* node, const std::string& device_id,
                   DeviceState* target, const Payload& payload);
  void OnNodeBirth(HostEvent* event, const Payload& payload);
  void OnNodeDeath(HostEvent* event, const Payload& payload);
  void OnDeviceBirth(HostEvent* event, const Payload& payload);
  void OnDeviceDeath(HostEvent* event, const Payload& payload);
  void OnData(HostEvent* event, const Payload& payload);

  const Clock* clock_;
  HostSessionOptions options_;
  std::map<NodeKey, NodeState> nodes_;
};

}  // namespace weft::sparkplug

#endif  // WEFT_SPARKPLUG_HOST_SESSION_H_
