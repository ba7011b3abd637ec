#include "sparkplug/edge_node_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace weft::sparkplug {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kT0 = 1'700'000'000'000;

EdgeNodeSession MakeSession() {
  Result<EdgeNodeSession> s =
      EdgeNodeSession::Create("lyon", "edge-l1", {{"Uptime", DataType::kInt64}});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  EdgeNodeSession session = std::move(s).value();
  EXPECT_TRUE(session
                  .AddDevice("press-3", {{"Temp", DataType::kDouble},
                                         {"Running", DataType::kBoolean},
                                         {"Count", DataType::kUInt32}})
                  .ok());
  EXPECT_TRUE(session.AddDevice("pump-1", {{"Flow", DataType::kFloat}}).ok());
  return session;
}

Payload DecodeOk(const Message& m) {
  Result<Payload> p = Decode(m.payload);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : Payload();
}

const Metric* Find(const Payload& p, std::string_view name) {
  for (const Metric& m : p.metrics) {
    if (m.name && *m.name == name) return &m;
  }
  return nullptr;
}

// Births every device and returns the seq the next message carries.
void BirthAll(EdgeNodeSession& s) {
  ASSERT_TRUE(s.NodeBirth(kT0, {int64_t{10}}).ok());
  ASSERT_TRUE(s.DeviceBirth("press-3", kT0, {21.5, true, uint64_t{4}}).ok());
  ASSERT_TRUE(s.DeviceBirth("pump-1", kT0, {1.5f}).ok());
}

TEST(EdgeNodeSession, NodeDeathIsTheWillWithBdSeq) {
  EdgeNodeSession s = MakeSession();
  const Message will = s.NodeDeath();
  EXPECT_EQ(will.topic, "spBv1.0/lyon/NDEATH/edge-l1");
  EXPECT_EQ(will.qos, 1);
  EXPECT_FALSE(will.retain);
  const Payload p = DecodeOk(will);
  EXPECT_FALSE(p.seq.has_value());
  ASSERT_EQ(p.metrics.size(), 1u);
  EXPECT_EQ(p.metrics[0].name, "bdSeq");
  EXPECT_EQ(p.metrics[0].type, DataType::kInt64);
  EXPECT_EQ(p.metrics[0].value, MetricValue(int64_t{0}));
  EXPECT_EQ(DecodeOk(s.NodeDeath(kT0)).timestamp_ms, kT0);
}

TEST(EdgeNodeSession, NodeBirthHasBdSeqRebirthAndNodeMetrics) {
  EdgeNodeSession s = MakeSession();
  Result<Message> birth = s.NodeBirth(kT0, {int64_t{10}});
  ASSERT_TRUE(birth.ok()) << birth.status().ToString();
  EXPECT_EQ(birth->topic, "spBv1.0/lyon/NBIRTH/edge-l1");
  EXPECT_EQ(birth->qos, 0);
  EXPECT_FALSE(birth->retain);
  const Payload p = DecodeOk(*birth);
  EXPECT_EQ(p.seq, 0u);
  EXPECT_EQ(p.timestamp_ms, kT0);
  ASSERT_EQ(p.metrics.size(), 3u);

  const Metric* bd_seq = Find(p, "bdSeq");
  ASSERT_NE(bd_seq, nullptr);
  EXPECT_EQ(bd_seq->type, DataType::kInt64);
  EXPECT_EQ(bd_seq->value, MetricValue(int64_t{0}));
  EXPECT_EQ(bd_seq->value, DecodeOk(s.NodeDeath()).metrics[0].value);

  const Metric* rebirth = Find(p, "Node Control/Rebirth");
  ASSERT_NE(rebirth, nullptr);
  EXPECT_EQ(rebirth->type, DataType::kBoolean);
  EXPECT_EQ(rebirth->value, MetricValue(false));

  const Metric* uptime = Find(p, "Uptime");
  ASSERT_NE(uptime, nullptr);
  EXPECT_EQ(uptime->value, MetricValue(int64_t{10}));
  for (const Metric& m : p.metrics) {
    EXPECT_TRUE(m.name.has_value());
    EXPECT_TRUE(m.alias.has_value());
    EXPECT_EQ(m.timestamp_ms, kT0);
    EXPECT_NE(m.type, DataType::kUnknown);
  }
  EXPECT_EQ(rebirth->alias, s.Alias("", "Node Control/Rebirth"));
}

TEST(EdgeNodeSession, DeviceBirthHasNamesAliasesAndDatatypes) {
  EdgeNodeSession s = MakeSession();
  ASSERT_TRUE(s.NodeBirth(kT0, {int64_t{1}}).ok());
  Result<Message> dbirth = s.DeviceBirth("press-3", kT0, {21.5, true, uint64_t{4}});
  ASSERT_TRUE(dbirth.ok()) << dbirth.status().ToString();
  EXPECT_EQ(dbirth->topic, "spBv1.0/lyon/DBIRTH/edge-l1/press-3");
  EXPECT_EQ(dbirth->qos, 0);
  const Payload p = DecodeOk(*dbirth);
  EXPECT_EQ(p.seq, 1u);
  ASSERT_EQ(p.metrics.size(), 3u);
  EXPECT_EQ(p.metrics[0].name, "Temp");
  EXPECT_EQ(p.metrics[0].type, DataType::kDouble);
  EXPECT_EQ(p.metrics[0].value, MetricValue(21.5));
  EXPECT_EQ(p.metrics[1].name, "Running");
  EXPECT_EQ(p.metrics[1].type, DataType::kBoolean);
  EXPECT_EQ(p.metrics[2].name, "Count");
  EXPECT_EQ(p.metrics[2].type, DataType::kUInt32);
  EXPECT_EQ(p.metrics[2].value, MetricValue(uint64_t{4}));
  for (const Metric& m : p.metrics) {
    ASSERT_TRUE(m.alias.has_value());
    EXPECT_EQ(m.alias, s.Alias("press-3", *m.name));
  }
}

TEST(EdgeNodeSession, AliasesAreUniqueAcrossTheNode) {
  EdgeNodeSession s = MakeSession();
  std::set<uint64_t> aliases;
  for (const char* name : {"bdSeq", "Node Control/Rebirth", "Uptime"}) {
    ASSERT_TRUE(s.Alias("", name).has_value()) << name;
    EXPECT_TRUE(aliases.insert(*s.Alias("", name)).second) << name;
  }
  for (const char* name : {"Temp", "Running", "Count"}) {
    EXPECT_TRUE(aliases.insert(*s.Alias("press-3", name)).second) << name;
  }
  EXPECT_TRUE(aliases.insert(*s.Alias("pump-1", "Flow")).second);
  EXPECT_FALSE(s.Alias("press-3", "Nope").has_value());
  EXPECT_FALSE(s.Alias("nope", "Temp").has_value());
}

TEST(EdgeNodeSession, DeviceDataHasAliasesOnlyAndNoNames) {
  EdgeNodeSession s = MakeSession();
  BirthAll(s);
  Result<Message> ddata = s.DeviceData(
      "press-3", kT0 + 1000,
      {{std::string("Temp"), 22.0}, {size_t{1}, false}, {size_t{2}, MetricValue(), kT0 + 500}});
  ASSERT_TRUE(ddata.ok()) << ddata.status().ToString();
  EXPECT_EQ(ddata->topic, "spBv1.0/lyon/DDATA/edge-l1/press-3");
  EXPECT_EQ(ddata->qos, 0);
  EXPECT_FALSE(ddata->retain);
  const Payload p = DecodeOk(*ddata);
  EXPECT_EQ(p.seq, 3u);
  ASSERT_EQ(p.metrics.size(), 3u);
  for (const Metric& m : p.metrics) {
    EXPECT_FALSE(m.name.has_value());
    EXPECT_TRUE(m.alias.has_value());
  }
  EXPECT_EQ(p.metrics[0].alias, s.Alias("press-3", "Temp"));
  EXPECT_EQ(p.metrics[0].value, MetricValue(22.0));
  EXPECT_EQ(p.metrics[0].timestamp_ms, kT0 + 1000);
  EXPECT_EQ(p.metrics[1].alias, s.Alias("press-3", "Running"));
  EXPECT_EQ(p.metrics[1].value, MetricValue(false));
  EXPECT_TRUE(p.metrics[2].is_null);
  EXPECT_EQ(p.metrics[2].timestamp_ms, kT0 + 500);
  // Names never appear in the bytes.
  EXPECT_EQ(ddata->payload.find("Temp"), std::string::npos);

  Result<Message> ndata = s.NodeData(kT0, {{std::string("Uptime"), int64_t{11}}});
  ASSERT_TRUE(ndata.ok()) << ndata.status().ToString();
  EXPECT_EQ(ndata->topic, "spBv1.0/lyon/NDATA/edge-l1");
  const Payload np = DecodeOk(*ndata);
  EXPECT_EQ(np.seq, 4u);
  EXPECT_FALSE(np.metrics[0].name.has_value());
  EXPECT_EQ(np.metrics[0].alias, s.Alias("", "Uptime"));
}

TEST(EdgeNodeSession, SeqIncrementsWrapsAndNBirthResetsIt) {
  EdgeNodeSession s = MakeSession();
  BirthAll(s);  // NBIRTH 0, DBIRTH 1, DBIRTH 2
  uint64_t expected = 3;
  for (int i = 0; i < 600; ++i) {
    Result<Message> m = (i % 3 == 0) ? s.NodeData(kT0, {{size_t{0}, int64_t{i}}})
                                     : s.DeviceData("pump-1", kT0, {{size_t{0}, 1.0f}});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(DecodeOk(*m).seq, expected) << "message " << i;
    expected = (expected + 1) % 256;
  }
  Result<Message> ddeath = s.DeviceDeath("pump-1", kT0);
  ASSERT_TRUE(ddeath.ok());
  EXPECT_EQ(ddeath->topic, "spBv1.0/lyon/DDEATH/edge-l1/pump-1");
  EXPECT_EQ(DecodeOk(*ddeath).seq, expected);

  // Rebirth within the session: NBIRTH is 0 again, then 1, 2, ...; bdSeq unchanged.
  Result<Message> nbirth = s.NodeBirth(kT0, {int64_t{0}});
  ASSERT_TRUE(nbirth.ok());
  const Payload np = DecodeOk(*nbirth);
  EXPECT_EQ(np.seq, 0u);
  EXPECT_EQ(Find(np, "bdSeq")->value, MetricValue(int64_t{0}));
  EXPECT_EQ(s.next_seq(), 1);
  Result<Message> dbirth = s.DeviceBirth("press-3", kT0, {1.0, false, uint64_t{0}});
  ASSERT_TRUE(dbirth.ok());
  EXPECT_EQ(DecodeOk(*dbirth).seq, 1u);
}

TEST(EdgeNodeSession, SeqWrapsFrom255To0) {
  EdgeNodeSession s = MakeSession();
  BirthAll(s);
  while (s.next_seq() != 255) ASSERT_TRUE(s.NodeData(kT0, {}).ok());
  Result<Message> at_255 = s.NodeData(kT0, {});
  Result<Message> at_0 = s.NodeData(kT0, {});
  ASSERT_TRUE(at_255.ok() && at_0.ok());
  EXPECT_EQ(DecodeOk(*at_255).seq, 255u);
  EXPECT_EQ(DecodeOk(*at_0).seq, 0u);
}

TEST(EdgeNodeSession, NewSessionIncrementsBdSeqAndNeedsANewBirth) {
  EdgeNodeSession s = MakeSession();
  BirthAll(s);
  EXPECT_EQ(s.bd_seq(), 0u);
  s.NewSession();
  EXPECT_EQ(s.bd_seq(), 1u);
  EXPECT_FALSE(s.node_born());
  const Payload will = DecodeOk(s.NodeDeath());
  EXPECT_EQ(will.metrics[0].value, MetricValue(int64_t{1}));

  EXPECT_EQ(s.NodeData(kT0, {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.DeviceBirth("pump-1", kT0, {1.0f}).status().code(), StatusCode::kFailedPrecondition);
  Result<Message> nbirth = s.NodeBirth(kT0, {int64_t{0}});
  ASSERT_TRUE(nbirth.ok());
  // The NBIRTH of the session carries the bdSeq of the will registered for it.
  EXPECT_EQ(Find(DecodeOk(*nbirth), "bdSeq")->value, will.metrics[0].value);
  // Devices need their DBIRTH again.
  EXPECT_EQ(s.DeviceData("pump-1", kT0, {{size_t{0}, 2.0f}}).status().code(),
            StatusCode::kFailedPrecondition);

  for (int i = 0; i < 255; ++i) s.NewSession();
  EXPECT_EQ(s.bd_seq(), 0u);  // 1 + 255 wraps mod 256
}

TEST(EdgeNodeSession, RefusesMessagesOutOfOrderOrWithBadValues) {
  EdgeNodeSession s = MakeSession();
  EXPECT_THAT(s.DeviceBirth("press-3", kT0, {1.0, true, uint64_t{1}}).status().message(),
              HasSubstr("before the NBIRTH"));
  EXPECT_EQ(s.DeviceDeath("press-3", kT0).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(s.NodeBirth(kT0, {int64_t{0}}).ok());
  EXPECT_THAT(s.DeviceData("press-3", kT0, {{size_t{0}, 1.0}}).status().message(),
              HasSubstr("DDATA of device \"press-3\" before its DBIRTH"));
  EXPECT_EQ(s.DeviceBirth("nope", kT0, {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s.DeviceData("nope", kT0, {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s.DeviceDeath("nope", kT0).status().code(), StatusCode::kNotFound);

  EXPECT_THAT(s.DeviceBirth("press-3", kT0, {1.0}).status().message(),
              HasSubstr("expected 3 values (one per metric, in definition order), got 1"));
  EXPECT_THAT(s.DeviceBirth("press-3", kT0, {1.0f, true, uint64_t{1}}).status().message(),
              HasSubstr("metric \"Temp\": a Double value must be double, got float"));
  EXPECT_THAT(s.DeviceBirth("press-3", kT0, {1.0, true, uint64_t{1} << 40}).status().message(),
              HasSubstr("out of range for UInt32"));
  const uint8_t seq_before = s.next_seq();
  ASSERT_TRUE(s.DeviceBirth("press-3", kT0, {1.0, true, uint64_t{1}}).ok());
  EXPECT_EQ(s.next_seq(), static_cast<uint8_t>(seq_before + 1));  // failures took no seq
  EXPECT_THAT(s.DeviceData("press-3", kT0, {{std::string("Nope"), 1.0}}).status().message(),
              HasSubstr("no metric named \"Nope\""));
  EXPECT_THAT(s.DeviceData("press-3", kT0, {{size_t{7}, 1.0}}).status().message(),
              HasSubstr("metric index 7 is out of range (3 metrics defined)"));
  EXPECT_THAT(s.NodeData(kT0, {{size_t{0}, 1.0}}).status().message(),
              HasSubstr("metric \"Uptime\": a Int64 value must be int64_t, got double"));

  // After DDEATH the device needs a new DBIRTH.
  ASSERT_TRUE(s.DeviceDeath("press-3", kT0).ok());
  EXPECT_EQ(s.DeviceData("press-3", kT0, {{size_t{0}, 1.0}}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(EdgeNodeSession, ValidatesDefinitions) {
  EXPECT_THAT(EdgeNodeSession::Create("ly+on", "n").status().message(),
              HasSubstr("group id \"ly+on\" contains the reserved character '+'"));
  EXPECT_THAT(EdgeNodeSession::Create("g", "").status().message(),
              HasSubstr("edge node id is empty"));
  EXPECT_THAT(EdgeNodeSession::Create("g", "n", {{"bdSeq", DataType::kInt64}}).status().message(),
              HasSubstr("\"bdSeq\" is reserved"));
  EXPECT_THAT(EdgeNodeSession::Create("g", "n", {{"a", DataType::kInt8}, {"a", DataType::kInt8}})
                  .status()
                  .message(),
              HasSubstr("duplicate name \"a\""));
  EXPECT_THAT(EdgeNodeSession::Create("g", "n", {{"a", DataType::kPropertySet}}).status().message(),
              HasSubstr("PropertySet is not a metric datatype"));

  EdgeNodeSession s = MakeSession();
  EXPECT_EQ(s.AddDevice("press-3", {}).code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(s.AddDevice("d/1", {}).message(), HasSubstr("reserved character '/'"));
  EXPECT_THAT(s.AddDevice("d2", {{"", DataType::kDouble}}).message(),
              HasSubstr("device \"d2\": device metric 0: the name is empty"));
  // A device may use names that are reserved at node level.
  EXPECT_TRUE(s.AddDevice("d3", {{"bdSeq", DataType::kInt64}}).ok());
}

TEST(EdgeNodeSession, RecognisesRebirthRequests) {
  EdgeNodeSession s = MakeSession();
  Topic ncmd;
  ncmd.group_id = "lyon";
  ncmd.type = MessageType::kNCmd;
  ncmd.edge_node_id = "edge-l1";

  Metric by_name;
  by_name.name = "Node Control/Rebirth";
  by_name.type = DataType::kBoolean;
  by_name.value = true;
  Payload request;
  request.metrics = {by_name};
  EXPECT_TRUE(s.IsRebirthRequest(ncmd, request));

  Metric by_alias;
  by_alias.alias = s.Alias("", "Node Control/Rebirth");
  by_alias.value = true;  // no datatype: untyped bool
  EXPECT_TRUE(s.IsRebirthRequest(ncmd, Payload{.metrics = {by_alias}}));

  Metric other_alias = by_alias;
  other_alias.alias = s.Alias("", "Uptime");
  EXPECT_FALSE(s.IsRebirthRequest(ncmd, Payload{.metrics = {other_alias}}));

  Metric is_false = by_name;
  is_false.value = false;
  EXPECT_FALSE(s.IsRebirthRequest(ncmd, Payload{.metrics = {is_false}}));

  Topic other_node = ncmd;
  other_node.edge_node_id = "edge-l2";
  EXPECT_FALSE(s.IsRebirthRequest(other_node, request));
  Topic ndata = ncmd;
  ndata.type = MessageType::kNData;
  EXPECT_FALSE(s.IsRebirthRequest(ndata, request));
  Topic dcmd = ncmd;
  dcmd.type = MessageType::kDCmd;
  dcmd.device_id = "press-3";
  EXPECT_FALSE(s.IsRebirthRequest(dcmd, request));
}

}  // namespace
}  // namespace weft::sparkplug
