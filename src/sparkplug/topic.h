// Sparkplug B topic namespace: `spBv1.0/<group_id>/<MESSAGE_TYPE>/<edge_node_id>[/<device_id>]`,
// and the host application's `spBv1.0/STATE/<host_id>`.
//
//   Topic t{.group_id = "lyon", .type = MessageType::kDData, .edge_node_id = "edge-l1",
//           .device_id = "press-3"};
//   std::string s = TopicString(t);            // "spBv1.0/lyon/DDATA/edge-l1/press-3"
//   WEFT_ASSIGN_OR_RETURN(Topic parsed, ParseTopic(s));
//
// Rules (Sparkplug 3.0, chapter 4 "Topics and Messages"): the namespace is "spBv1.0"; group,
// edge node, device and host ids are non-empty UTF-8 without '+', '/' or '#'; DBIRTH, DDEATH,
// DDATA and DCMD name a device, the other message types must not.
//
// Thread-safety: values and pure functions.
#ifndef WEFT_SPARKPLUG_TOPIC_H_
#define WEFT_SPARKPLUG_TOPIC_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::sparkplug {

//! The Sparkplug B namespace element.
inline constexpr std::string_view kNamespace = "spBv1.0";

enum class MessageType { kNBirth, kNDeath, kDBirth, kDDeath, kNData, kDData, kNCmd, kDCmd, kState };

//! The topic element: "NBIRTH", ..., "STATE".
std::string_view MessageTypeName(MessageType type);

//! True for DBIRTH, DDEATH, DDATA and DCMD: the topics that end in a device id.
bool IsDeviceMessage(MessageType type);

struct Topic {
  std::string namespace_ = std::string(kNamespace);
  std::string group_id{};  //!< empty for STATE
  MessageType type = MessageType::kNData;
  std::string edge_node_id{};  //!< empty for STATE
  std::string device_id{};     //!< set exactly when IsDeviceMessage(type)
  std::string host_id{};       //!< set exactly for STATE

  friend bool operator==(const Topic&, const Topic&) = default;
};

//! OK when `topic` satisfies the rules above; InvalidArgument naming the offending element.
Status ValidateTopic(const Topic& topic);

//! The MQTT topic string. REQUIRES: ValidateTopic(topic).ok() (otherwise the elements are joined
//! as given, which is not a valid Sparkplug topic).
std::string TopicString(const Topic& topic);

//! Parses an MQTT topic. InvalidArgument naming the problem (wrong namespace, unknown message
//! type, missing or extra device id, empty id, reserved character) and quoting the topic.
Result<Topic> ParseTopic(std::string_view topic);

//! An MQTT message ready to publish: what EdgeNodeSession and HostSession produce.
struct Message {
  std::string topic{};
  std::string payload{};
  int qos = 0;
  bool retain = false;
};

}  // namespace weft::sparkplug

#endif  // WEFT_SPARKPLUG_TOPIC_H_
