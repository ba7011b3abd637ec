#include "sparkplug/topic.h"

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "sparkplug/utf8.h"

namespace weft::sparkplug {
namespace {

constexpr std::array<std::pair<MessageType, std::string_view>, 9> kTypeNames = {{
    {MessageType::kNBirth, "NBIRTH"},
    {MessageType::kNDeath, "NDEATH"},
    {MessageType::kDBirth, "DBIRTH"},
    {MessageType::kDDeath, "DDEATH"},
    {MessageType::kNData, "NDATA"},
    {MessageType::kDData, "DDATA"},
    {MessageType::kNCmd, "NCMD"},
    {MessageType::kDCmd, "DCMD"},
    {MessageType::kState, "STATE"},
}};

// "" when `id` is a valid topic element, else what is wrong with it.
std::string IdProblem(std::string_view what, std::string_view id) {
  if (id.empty()) return std::string(what) + " is empty";
  for (char c : id) {
    if (c == '+' || c == '/' || c == '#') {
      return std::string(what) + " \"" + std::string(id) + "\" contains the reserved character '" +
             c + "'";
    }
  }
  if (!internal::IsValidUtf8(id)) return std::string(what) + " is not valid UTF-8";
  return "";
}

Status TopicError(std::string_view topic, std::string_view problem) {
  return InvalidArgumentError("topic \"" + std::string(topic) + "\": " + std::string(problem));
}

std::vector<std::string_view> SplitLevels(std::string_view topic) {
  std::vector<std::string_view> levels;
  size_t start = 0;
  while (true) {
    const size_t slash = topic.find('/', start);
    if (slash == std::string_view::npos) {
      levels.push_back(topic.substr(start));
      return levels;
    }
    levels.push_back(topic.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "?";
}

bool IsDeviceMessage(MessageType type) {
  return type == MessageType::kDBirth || type == MessageType::kDDeath ||
         type == MessageType::kDData || type == MessageType::kDCmd;
}

Status ValidateTopic(const Topic& topic) {
  if (topic.namespace_ != kNamespace) {
    return InvalidArgumentError("namespace \"" + topic.namespace_ + "\" is not " +
                                std::string(kNamespace));
  }
  std::string problem;
  if (topic.type == MessageType::kState) {
    problem = IdProblem("host id", topic.host_id);
    if (problem.empty() &&
        !(topic.group_id.empty() && topic.edge_node_id.empty() && topic.device_id.empty())) {
      problem = "a STATE topic has only a host id (group, edge node and device ids must be empty)";
    }
  } else {
    problem = IdProblem("group id", topic.group_id);
    if (problem.empty()) problem = IdProblem("edge node id", topic.edge_node_id);
    if (problem.empty() && IsDeviceMessage(topic.type)) {
      problem = IdProblem("device id", topic.device_id);
    }
    if (problem.empty() && !IsDeviceMessage(topic.type) && !topic.device_id.empty()) {
      problem = std::string(MessageTypeName(topic.type)) + " takes no device id";
    }
    if (problem.empty() && !topic.host_id.empty()) {
      problem = "only a STATE topic has a host id";
    }
  }
  if (!problem.empty()) {
    return InvalidArgumentError(std::string(MessageTypeName(topic.type)) + " topic: " + problem);
  }
  return Status::Ok();
}

std::string TopicString(const Topic& topic) {
  std::string s = topic.namespace_;
  s += '/';
  if (topic.type == MessageType::kState) {
    s += "STATE/";
    s += topic.host_id;
    return s;
  }
  s += topic.group_id;
  s += '/';
  s += MessageTypeName(topic.type);
  s += '/';
  s += topic.edge_node_id;
  if (IsDeviceMessage(topic.type)) {
    s += '/';
    s += topic.device_id;
  }
  return s;
}

Result<Topic> ParseTopic(std::string_view topic) {
  const std::vector<std::string_view> levels = SplitLevels(topic);
  if (levels[0] != kNamespace) {
    return TopicError(
        topic, "namespace \"" + std::string(levels[0]) + "\" is not " + std::string(kNamespace));
  }
  Topic t;
  if (levels.size() == 3 && levels[1] == "STATE") {
    t.type = MessageType::kState;
    t.host_id = std::string(levels[2]);
    if (std::string problem = IdProblem("host id", t.host_id); !problem.empty()) {
      return TopicError(topic, problem);
    }
    return t;
  }
  if (levels.size() < 4) {
    return TopicError(topic, "expected " + std::string(kNamespace) +
                                 "/<group_id>/<message_type>/<edge_node_id>[/<device_id>] or " +
                                 std::string(kNamespace) + "/STATE/<host_id>");
  }
  bool known = false;
  for (const auto& [type, name] : kTypeNames) {
    if (name == levels[2] && type != MessageType::kState) {
      t.type = type;
      known = true;
    }
  }
  if (!known) {
    return TopicError(topic, "unknown message type \"" + std::string(levels[2]) +
                                 "\" (expected NBIRTH, NDEATH, DBIRTH, DDEATH, NDATA, DDATA, "
                                 "NCMD or DCMD)");
  }
  const size_t expected_levels = IsDeviceMessage(t.type) ? 5 : 4;
  if (levels.size() != expected_levels) {
    const std::string type_name(MessageTypeName(t.type));
    return TopicError(topic, IsDeviceMessage(t.type)
                                 ? (levels.size() < 5 ? type_name + " needs a device id"
                                                      : "too many levels after the device id")
                                 : type_name + " takes no device id");
  }
  t.group_id = std::string(levels[1]);
  t.edge_node_id = std::string(levels[3]);
  if (expected_levels == 5) t.device_id = std::string(levels[4]);
  std::string problem = IdProblem("group id", t.group_id);
  if (problem.empty()) problem = IdProblem("edge node id", t.edge_node_id);
  if (problem.empty() && expected_levels == 5) problem = IdProblem("device id", t.device_id);
  if (!problem.empty()) return TopicError(topic, problem);
  return t;
}

}  // namespace weft::sparkplug
