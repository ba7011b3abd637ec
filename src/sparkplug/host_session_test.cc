#include "sparkplug/host_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sparkplug/edge_node_session.h"

namespace weft::sparkplug {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kT0 = 1'700'000'000'000;

class HostSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<EdgeNodeSession> s =
        EdgeNodeSession::Create("lyon", "edge-l1", {{"Uptime", DataType::kInt64}});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    edge_.emplace(std::move(s).value());
    ASSERT_TRUE(edge_
                    ->AddDevice("press-3", {{"Temp", DataType::kDouble},
                                            {"Running", DataType::kBoolean},
                                            {"Offset", DataType::kInt16}})
                    .ok());
  }

  HostEvent Feed(const Message& m) { return host_.Feed(m.topic, m.payload); }
  HostEvent Feed(const Result<Message>& m) {
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? Feed(*m) : HostEvent();
  }

  void BirthAll() {
    HostEvent nbirth = Feed(edge_->NodeBirth(kT0, {int64_t{100}}));
    ASSERT_EQ(nbirth.problem, HostProblem::kNone) << nbirth.status.ToString();
    HostEvent dbirth = Feed(edge_->DeviceBirth("press-3", kT0, {20.0, true, int64_t{-3}}));
    ASSERT_EQ(dbirth.problem, HostProblem::kNone) << dbirth.status.ToString();
  }

  ManualClock clock_{TimeFromUnixMicros(0)};
  HostSession host_{clock_};
  std::optional<EdgeNodeSession> edge_;
};

TEST_F(HostSessionTest, BirthsAreRecordedAndReportedAsPoints) {
  HostEvent nbirth = Feed(edge_->NodeBirth(kT0, {int64_t{100}}));
  EXPECT_EQ(nbirth.problem, HostProblem::kNone);
  EXPECT_TRUE(nbirth.status.ok());
  EXPECT_FALSE(nbirth.rebirth_needed);
  EXPECT_EQ(nbirth.topic.type, MessageType::kNBirth);
  ASSERT_EQ(nbirth.points.size(), 3u);
  EXPECT_EQ(nbirth.points[2], (DataPoint{"", "Uptime", kT0, DataType::kInt64, int64_t{100}}));
  EXPECT_TRUE(host_.NodeOnline("lyon", "edge-l1"));
  EXPECT_EQ(host_.NodeBdSeq("lyon", "edge-l1"), 0u);

  HostEvent dbirth = Feed(edge_->DeviceBirth("press-3", kT0, {20.0, true, int64_t{-3}}));
  EXPECT_EQ(dbirth.problem, HostProblem::kNone) << dbirth.status.ToString();
  ASSERT_EQ(dbirth.points.size(), 3u);
  EXPECT_EQ(dbirth.points[0], (DataPoint{"press-3", "Temp", kT0, DataType::kDouble, 20.0}));
  EXPECT_EQ(dbirth.points[2], (DataPoint{"press-3", "Offset", kT0, DataType::kInt16, int64_t{-3}}));
  EXPECT_TRUE(host_.DeviceOnline("lyon", "edge-l1", "press-3"));
}

TEST_F(HostSessionTest, ResolvesAliasesInData) {
  BirthAll();
  HostEvent ddata = Feed(edge_->DeviceData(
      "press-3", kT0 + 1000,
      {{std::string("Temp"), 21.5}, {std::string("Offset"), int64_t{-7}, kT0 + 900}}));
  EXPECT_EQ(ddata.problem, HostProblem::kNone) << ddata.status.ToString();
  ASSERT_EQ(ddata.points.size(), 2u);
  EXPECT_EQ(ddata.points[0], (DataPoint{"press-3", "Temp", kT0 + 1000, DataType::kDouble, 21.5}));
  EXPECT_EQ(ddata.points[1],
            (DataPoint{"press-3", "Offset", kT0 + 900, DataType::kInt16, int64_t{-7}}));

  HostEvent ndata = Feed(edge_->NodeData(kT0 + 2000, {{size_t{0}, int64_t{101}}}));
  EXPECT_EQ(ndata.problem, HostProblem::kNone) << ndata.status.ToString();
  ASSERT_EQ(ndata.points.size(), 1u);
  EXPECT_EQ(ndata.points[0], (DataPoint{"", "Uptime", kT0 + 2000, DataType::kInt64, int64_t{101}}));
}

TEST_F(HostSessionTest, AppliesTheBirthDatatypeToUntypedData) {
  BirthAll();
  // DATA from another implementation: alias only, no datatype, Int16 -5 sign-extended to 32 bits.
  Metric offset;
  offset.alias = edge_->Alias("press-3", "Offset");
  offset.value = uint64_t{0xFFFFFFFB};
  Metric running;
  running.name = "Running";  // by name, also allowed
  running.value = false;
  Topic topic;
  topic.group_id = "lyon";
  topic.type = MessageType::kDData;
  topic.edge_node_id = "edge-l1";
  topic.device_id = "press-3";
  Payload p;
  p.timestamp_ms = kT0;
  p.seq = edge_->next_seq();
  p.metrics = {offset, running};
  HostEvent e = host_.Feed(TopicString(topic), Encode(p));
  EXPECT_EQ(e.problem, HostProblem::kNone) << e.status.ToString();
  ASSERT_EQ(e.points.size(), 2u);
  EXPECT_EQ(e.points[0].value, MetricValue(int64_t{-5}));
  EXPECT_EQ(e.points[0].type, DataType::kInt16);
  EXPECT_EQ(e.points[1].metric_name, "Running");
  EXPECT_EQ(e.points[1].value, MetricValue(false));

  // A value of the wrong kind for the birth's datatype.
  Metric wrong;
  wrong.alias = edge_->Alias("press-3", "Temp");
  wrong.value = std::string("hot");
  p.seq = (*p.seq + 1) % 256;
  p.metrics = {wrong};
  HostEvent bad = host_.Feed(TopicString(topic), Encode(p));
  EXPECT_EQ(bad.problem, HostProblem::kTypeMismatch);
  EXPECT_THAT(bad.status.message(), HasSubstr("(\"Temp\"): value does not match datatype Double"));
  EXPECT_TRUE(bad.rebirth_needed);
  EXPECT_TRUE(bad.points.empty());
}

TEST_F(HostSessionTest, DetectsASeqGap) {
  BirthAll();
  ASSERT_TRUE(edge_->DeviceData("press-3", kT0, {{size_t{0}, 1.0}}).ok());    // lost: seq 2
  HostEvent e = Feed(edge_->DeviceData("press-3", kT0, {{size_t{0}, 2.0}}));  // seq 3
  EXPECT_EQ(e.problem, HostProblem::kSeqGap);
  EXPECT_EQ(e.status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(e.status.message(), HasSubstr("DDATA from device lyon/edge-l1/press-3: seq 3, "
                                            "expected 2"));
  EXPECT_TRUE(e.rebirth_needed);
  ASSERT_EQ(e.points.size(), 1u);  // the message itself is fine: its values are delivered
  EXPECT_EQ(e.points[0].value, MetricValue(2.0));

  // Resynchronised: the next message is in order again.
  HostEvent next = Feed(edge_->DeviceData("press-3", kT0, {{size_t{0}, 3.0}}));
  EXPECT_EQ(next.problem, HostProblem::kNone) << next.status.ToString();
}

TEST_F(HostSessionTest, FollowsSeqAcrossTheWrap) {
  BirthAll();
  for (int i = 0; i < 600; ++i) {
    HostEvent e = Feed(edge_->NodeData(kT0, {{size_t{0}, int64_t{i}}}));
    ASSERT_EQ(e.problem, HostProblem::kNone) << i << ": " << e.status.ToString();
  }
}

TEST_F(HostSessionTest, DataBeforeBirthAsksForARebirthWithHoldoff) {
  HostEvent e = Feed(EdgeNodeSession::Create("lyon", "edge-l9")->NodeDeath());
  EXPECT_EQ(e.problem, HostProblem::kNone);  // NDEATH of an unknown node: nothing to do

  ASSERT_TRUE(edge_->NodeBirth(kT0, {int64_t{0}}).ok());  // the host missed it
  ASSERT_TRUE(edge_->DeviceBirth("press-3", kT0, {1.0, true, int64_t{0}}).ok());
  HostEvent first = Feed(edge_->DeviceData("press-3", kT0, {{size_t{0}, 1.0}}));
  EXPECT_EQ(first.problem, HostProblem::kDataBeforeBirth);
  EXPECT_THAT(first.status.message(), HasSubstr("before the NBIRTH of its edge node"));
  EXPECT_TRUE(first.rebirth_needed);
  EXPECT_TRUE(first.points.empty());
  EXPECT_EQ(first.topic.edge_node_id, "edge-l1");

  HostEvent second = Feed(edge_->DeviceData("press-3", kT0, {{size_t{0}, 2.0}}));
  EXPECT_EQ(second.problem, HostProblem::kDataBeforeBirth);
  EXPECT_FALSE(second.rebirth_needed);  // within the holdoff

  clock_.Advance(std::chrono::seconds(6));
  HostEvent third = Feed(edge_->NodeData(kT0, {}));
  EXPECT_TRUE(third.rebirth_needed);

  // The rebirth arrives: everything resolves again.
  BirthAll();
  HostEvent ok = Feed(edge_->DeviceData("press-3", kT0, {{size_t{0}, 4.0}}));
  EXPECT_EQ(ok.problem, HostProblem::kNone) << ok.status.ToString();
  ASSERT_EQ(ok.points.size(), 1u);
}

TEST_F(HostSessionTest, DeviceDataBeforeItsDBirth) {
  Feed(edge_->NodeBirth(kT0, {int64_t{0}}));
  ASSERT_TRUE(edge_->DeviceBirth("press-3", kT0, {1.0, true, int64_t{0}}).ok());  // missed
  HostEvent e = Feed(edge_->DeviceData("press-3", kT0, {{size_t{0}, 1.0}}));
  EXPECT_EQ(e.problem, HostProblem::kDataBeforeBirth);
  EXPECT_THAT(e.status.message(), HasSubstr("DDATA from device lyon/edge-l1/press-3 before its "
                                            "DBIRTH"));
  EXPECT_TRUE(e.rebirth_needed);
}

TEST_F(HostSessionTest, DetectsAnUnknownAlias) {
  BirthAll();
  Topic topic;
  topic.group_id = "lyon";
  topic.type = MessageType::kDData;
  topic.edge_node_id = "edge-l1";
  topic.device_id = "press-3";
  Metric known;
  known.alias = edge_->Alias("press-3", "Temp");
  known.type = DataType::kDouble;
  known.value = 5.0;
  Metric unknown = known;
  unknown.alias = 999;
  Metric node_alias = known;  // an alias of the node, not of this device
  node_alias.alias = edge_->Alias("", "Uptime");
  Payload p;
  p.seq = edge_->next_seq();
  p.metrics = {known, unknown, node_alias};
  HostEvent e = host_.Feed(topic, p);
  EXPECT_EQ(e.problem, HostProblem::kUnknownAlias);
  EXPECT_THAT(e.status.message(), HasSubstr("metric 1: alias 999 is not defined by the DBIRTH"));
  EXPECT_TRUE(e.rebirth_needed);
  ASSERT_EQ(e.points.size(), 1u);  // the known one still comes through
  EXPECT_EQ(e.points[0].metric_name, "Temp");

  Metric unknown_name;
  unknown_name.name = "Nope";
  unknown_name.value = 1.0;
  p.seq = (*p.seq + 1) % 256;
  p.metrics = {unknown_name};
  EXPECT_EQ(host_.Feed(topic, p).problem, HostProblem::kUnknownMetric);
}

TEST_F(HostSessionTest, DatatypeDisagreeingWithTheBirth) {
  BirthAll();
  Topic topic;
  topic.group_id = "lyon";
  topic.type = MessageType::kNData;
  topic.edge_node_id = "edge-l1";
  Metric m;
  m.alias = edge_->Alias("", "Uptime");
  m.type = DataType::kDouble;
  m.value = 1.0;
  Payload p;
  p.seq = edge_->next_seq();
  p.metrics = {m};
  HostEvent e = host_.Feed(topic, p);
  EXPECT_EQ(e.problem, HostProblem::kTypeMismatch);
  EXPECT_THAT(e.status.message(), HasSubstr("datatype Double, but the birth says Int64"));
}

TEST_F(HostSessionTest, BdSeqMismatchIgnoresAStaleDeath) {
  BirthAll();
  const Message old_will = edge_->NodeDeath();  // bdSeq 0
  edge_->NewSession();                          // reconnect: bdSeq 1
  const Message new_will = edge_->NodeDeath();
  HostEvent rebirth = Feed(edge_->NodeBirth(kT0, {int64_t{0}}));
  EXPECT_EQ(rebirth.problem, HostProblem::kNone);
  EXPECT_EQ(host_.NodeBdSeq("lyon", "edge-l1"), 1u);

  // The broker delivers the old session's will late.
  HostEvent stale = Feed(old_will);
  EXPECT_EQ(stale.problem, HostProblem::kBdSeqMismatch);
  EXPECT_THAT(stale.status.message(),
              HasSubstr("has bdSeq 0 but the current NBIRTH has 1: the will of an earlier "
                        "session, ignored"));
  EXPECT_FALSE(stale.rebirth_needed);
  EXPECT_TRUE(host_.NodeOnline("lyon", "edge-l1"));

  HostEvent death = Feed(new_will);
  EXPECT_EQ(death.problem, HostProblem::kNone);
  EXPECT_FALSE(host_.NodeOnline("lyon", "edge-l1"));
  EXPECT_FALSE(host_.DeviceOnline("lyon", "edge-l1", "press-3"));
}

TEST_F(HostSessionTest, DeviceDeathTakesTheDeviceOffline) {
  BirthAll();
  HostEvent e = Feed(edge_->DeviceDeath("press-3", kT0));
  EXPECT_EQ(e.problem, HostProblem::kNone) << e.status.ToString();
  EXPECT_FALSE(host_.DeviceOnline("lyon", "edge-l1", "press-3"));
  EXPECT_TRUE(host_.NodeOnline("lyon", "edge-l1"));
  HostEvent birth = Feed(edge_->DeviceBirth("press-3", kT0, {1.0, false, int64_t{1}}));
  EXPECT_EQ(birth.problem, HostProblem::kNone) << birth.status.ToString();
  EXPECT_TRUE(host_.DeviceOnline("lyon", "edge-l1", "press-3"));
}

TEST_F(HostSessionTest, RebirthRequestRoundTrip) {
  BirthAll();
  const Message request = HostSession::RebirthRequest("lyon", "edge-l1", kT0);
  EXPECT_EQ(request.topic, "spBv1.0/lyon/NCMD/edge-l1");
  EXPECT_EQ(request.qos, 0);
  EXPECT_FALSE(request.retain);

  // What the edge node receives from the broker.
  Result<Topic> topic = ParseTopic(request.topic);
  ASSERT_TRUE(topic.ok());
  Result<Payload> payload = Decode(request.payload);
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_FALSE(payload->seq.has_value());
  EXPECT_EQ(payload->timestamp_ms, kT0);
  ASSERT_EQ(payload->metrics.size(), 1u);
  EXPECT_EQ(payload->metrics[0].name, "Node Control/Rebirth");
  EXPECT_EQ(payload->metrics[0].type, DataType::kBoolean);
  EXPECT_TRUE(edge_->IsRebirthRequest(*topic, *payload));

  // The host ignores commands it sees on the broker.
  HostEvent e = Feed(request);
  EXPECT_EQ(e.problem, HostProblem::kNone);
  EXPECT_TRUE(e.points.empty());
  EXPECT_FALSE(HostSession::RebirthRequest("lyon", "edge-l2", kT0).topic.empty());
  EXPECT_FALSE(edge_->IsRebirthRequest(*ParseTopic("spBv1.0/lyon/NCMD/edge-l2"), *payload));
}

TEST_F(HostSessionTest, BadTopicsAndPayloads) {
  HostEvent topic = host_.Feed("spBv1.0/lyon/NOPE/edge-l1", "");
  EXPECT_EQ(topic.problem, HostProblem::kBadTopic);
  EXPECT_THAT(topic.status.message(), HasSubstr("unknown message type \"NOPE\""));
  EXPECT_FALSE(topic.rebirth_needed);

  HostEvent state = host_.Feed("spBv1.0/STATE/core", "{\"online\":true}");
  EXPECT_EQ(state.problem, HostProblem::kNone);
  EXPECT_EQ(state.topic.type, MessageType::kState);

  BirthAll();
  HostEvent payload = host_.Feed("spBv1.0/lyon/DDATA/edge-l1/press-3", "\x12\x05\x10");
  EXPECT_EQ(payload.problem, HostProblem::kBadPayload);
  EXPECT_THAT(payload.status.message(),
              HasSubstr("DDATA from device lyon/edge-l1/press-3: payload: field 2 (metrics)"));
  EXPECT_TRUE(payload.rebirth_needed);
  EXPECT_EQ(HostProblemName(payload.problem), "bad_payload");
  EXPECT_EQ(HostProblemName(HostProblem::kBdSeqMismatch), "bd_seq_mismatch");
}

TEST_F(HostSessionTest, InvalidBirthIsReportedWithoutRebirth) {
  Topic topic;
  topic.group_id = "lyon";
  topic.type = MessageType::kNBirth;
  topic.edge_node_id = "other";
  Metric unnamed;
  unnamed.alias = 1;
  unnamed.type = DataType::kDouble;
  unnamed.value = 1.0;
  Metric untyped;
  untyped.name = "x";
  untyped.value = 1.0;
  Payload p;
  p.seq = 0;
  p.metrics = {unnamed, untyped};
  HostEvent e = host_.Feed(topic, p);
  EXPECT_EQ(e.problem, HostProblem::kInvalidBirth);
  EXPECT_THAT(e.status.message(), HasSubstr("has no integer metric \"bdSeq\""));
  EXPECT_FALSE(e.rebirth_needed);
  EXPECT_TRUE(e.points.empty());
  EXPECT_TRUE(host_.NodeOnline("lyon", "other"));
}

}  // namespace
}  // namespace weft::sparkplug
