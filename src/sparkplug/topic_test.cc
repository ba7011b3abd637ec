#include "sparkplug/topic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace weft::sparkplug {
namespace {

using ::testing::HasSubstr;

Topic NodeTopic(MessageType type) {
  Topic t;
  t.group_id = "lyon";
  t.type = type;
  t.edge_node_id = "edge-l1";
  return t;
}

Topic DeviceTopic(MessageType type) {
  Topic t = NodeTopic(type);
  t.device_id = "press-3";
  return t;
}

TEST(Topic, PrintsAndParsesEveryNodeMessageType) {
  const std::vector<std::pair<MessageType, std::string>> cases = {
      {MessageType::kNBirth, "spBv1.0/lyon/NBIRTH/edge-l1"},
      {MessageType::kNDeath, "spBv1.0/lyon/NDEATH/edge-l1"},
      {MessageType::kNData, "spBv1.0/lyon/NDATA/edge-l1"},
      {MessageType::kNCmd, "spBv1.0/lyon/NCMD/edge-l1"},
  };
  for (const auto& [type, text] : cases) {
    SCOPED_TRACE(text);
    const Topic t = NodeTopic(type);
    EXPECT_TRUE(ValidateTopic(t).ok());
    EXPECT_FALSE(IsDeviceMessage(type));
    EXPECT_EQ(TopicString(t), text);
    Result<Topic> parsed = ParseTopic(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, t);
  }
}

TEST(Topic, PrintsAndParsesEveryDeviceMessageType) {
  const std::vector<std::pair<MessageType, std::string>> cases = {
      {MessageType::kDBirth, "spBv1.0/lyon/DBIRTH/edge-l1/press-3"},
      {MessageType::kDDeath, "spBv1.0/lyon/DDEATH/edge-l1/press-3"},
      {MessageType::kDData, "spBv1.0/lyon/DDATA/edge-l1/press-3"},
      {MessageType::kDCmd, "spBv1.0/lyon/DCMD/edge-l1/press-3"},
  };
  for (const auto& [type, text] : cases) {
    SCOPED_TRACE(text);
    const Topic t = DeviceTopic(type);
    EXPECT_TRUE(ValidateTopic(t).ok());
    EXPECT_TRUE(IsDeviceMessage(type));
    EXPECT_EQ(TopicString(t), text);
    Result<Topic> parsed = ParseTopic(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, t);
  }
}

TEST(Topic, StateTopic) {
  Topic t;
  t.type = MessageType::kState;
  t.host_id = "weft-core";
  EXPECT_TRUE(ValidateTopic(t).ok());
  EXPECT_EQ(TopicString(t), "spBv1.0/STATE/weft-core");
  Result<Topic> parsed = ParseTopic("spBv1.0/STATE/weft-core");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, t);
  EXPECT_EQ(MessageTypeName(MessageType::kState), "STATE");
}

TEST(Topic, IdsMayHoldSpacesAndUnicode) {
  // The specification's own example group is "Sparkplug B Devices".
  Result<Topic> parsed = ParseTopic("spBv1.0/Sparkplug B Devices/NDATA/Raspberry Pi");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->group_id, "Sparkplug B Devices");
  EXPECT_EQ(parsed->edge_node_id, "Raspberry Pi");
  EXPECT_TRUE(ParseTopic("spBv1.0/Usine Nîmes/DDATA/nœud/capteur-é").ok());
}

struct BadTopic {
  std::string topic;
  std::string message;
};

TEST(Topic, RejectsBadTopicsNamingTheProblem) {
  const std::vector<BadTopic> cases = {
      {"", "namespace \"\" is not spBv1.0"},
      {"spAv1.0/g/NDATA/n", "namespace \"spAv1.0\" is not spBv1.0"},
      {"STATE/host", "namespace \"STATE\" is not spBv1.0"},
      {"spBv1.0/g/NDATA", "expected spBv1.0/<group_id>/<message_type>/<edge_node_id>"},
      {"spBv1.0", "expected spBv1.0/<group_id>"},
      {"spBv1.0/g/NFOO/n", "unknown message type \"NFOO\""},
      {"spBv1.0/g/ndata/n", "unknown message type \"ndata\""},
      {"spBv1.0/g/DDATA/n", "DDATA needs a device id"},
      {"spBv1.0/g/DBIRTH/n", "DBIRTH needs a device id"},
      {"spBv1.0/g/NDATA/n/d", "NDATA takes no device id"},
      {"spBv1.0/g/NBIRTH/n/d", "NBIRTH takes no device id"},
      {"spBv1.0/g/DDATA/n/d/x", "too many levels after the device id"},
      {"spBv1.0//NDATA/n", "group id is empty"},
      {"spBv1.0/g/NDATA/", "edge node id is empty"},
      {"spBv1.0/g/DDATA/n/", "device id is empty"},
      {"spBv1.0/g+/NDATA/n", "group id \"g+\" contains the reserved character '+'"},
      {"spBv1.0/g/NDATA/n#", "edge node id \"n#\" contains the reserved character '#'"},
      {"spBv1.0/g/DDATA/n/+", "device id \"+\" contains the reserved character '+'"},
      {"spBv1.0/STATE/", "host id is empty"},
      {"spBv1.0/STATE/#", "host id \"#\" contains the reserved character '#'"},
      {"spBv1.0/g\xff/NDATA/n", "group id is not valid UTF-8"},
  };
  for (const BadTopic& c : cases) {
    SCOPED_TRACE(c.topic);
    Result<Topic> parsed = ParseTopic(c.topic);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message));
    EXPECT_THAT(parsed.status().message(), HasSubstr("topic \"" + c.topic + "\""));
  }
}

TEST(Topic, ValidateRejectsInconsistentTopics) {
  Topic no_device = DeviceTopic(MessageType::kDData);
  no_device.device_id.clear();
  EXPECT_THAT(ValidateTopic(no_device).message(), HasSubstr("device id is empty"));

  Topic extra_device = NodeTopic(MessageType::kNData);
  extra_device.device_id = "d";
  EXPECT_THAT(ValidateTopic(extra_device).message(), HasSubstr("NDATA takes no device id"));

  Topic other_namespace = NodeTopic(MessageType::kNData);
  other_namespace.namespace_ = "spAv1.0";
  EXPECT_THAT(ValidateTopic(other_namespace).message(), HasSubstr("is not spBv1.0"));

  Topic state_with_group;
  state_with_group.type = MessageType::kState;
  state_with_group.host_id = "h";
  state_with_group.group_id = "g";
  EXPECT_THAT(ValidateTopic(state_with_group).message(), HasSubstr("only a host id"));

  Topic slash = NodeTopic(MessageType::kNData);
  slash.edge_node_id = "a/b";
  EXPECT_THAT(ValidateTopic(slash).message(), HasSubstr("reserved character '/'"));
}

}  // namespace
}  // namespace weft::sparkplug
