// The Sparkplug B host connector and the JSON connector against a real mosquitto broker on a
// free loopback port, with a real edge node (sparkplug::EdgeNodeSession over mqtt::Client).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "edge/connectors/mqtt/json_connector.h"
#include "edge/connectors/mqtt/sparkplug_connector.h"
#include "mqtt/client.h"
#include "sparkplug/edge_node_session.h"
#include "sparkplug/payload.h"
#include "sparkplug/topic.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::edge {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr uint64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z, ms

bool WaitFor(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

std::shared_ptr<const SignalTable> Table() {
  static const std::shared_ptr<const SignalTable> table = std::make_shared<const SignalTable>(
      *SignalTable::FromPlant(weft::testing::ExamplePlant(), {}));
  return table;
}

// What the sinks received.
struct Sink {
  std::mutex mu;
  std::vector<Sample> samples;
  std::vector<Event> events;
  ConnectorSinks sinks() {
    return {.on_samples =
                [this](std::span<const Sample> s) {
                  std::lock_guard<std::mutex> lock(mu);
                  samples.insert(samples.end(), s.begin(), s.end());
                },
            .on_event =
                [this](const Event& e) {
                  std::lock_guard<std::mutex> lock(mu);
                  events.push_back(e);
                }};
  }
  size_t SampleCount() {
    std::lock_guard<std::mutex> lock(mu);
    return samples.size();
  }
  std::vector<std::string> EventKinds() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> kinds;
    for (const Event& e : events) kinds.push_back(e.kind);
    return kinds;
  }
};

// A subscriber that keeps every message.
struct Observer {
  std::unique_ptr<mqtt::Client> client;
  std::mutex mu;
  std::vector<mqtt::Message> messages;
  static std::unique_ptr<Observer> Make(const mqtt::BrokerAddress& broker, const std::string& id,
                                        const std::string& pattern) {
    auto o = std::make_unique<Observer>();
    mqtt::ClientOptions options;
    options.client_id = id;
    auto c = mqtt::Client::Connect(broker, options, seconds(5));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    o->client = std::move(*c);
    Observer* raw = o.get();
    o->client->SetMessageHandler([raw](const mqtt::Message& m) {
      std::lock_guard<std::mutex> lock(raw->mu);
      raw->messages.push_back(m);
    });
    EXPECT_TRUE(o->client->Subscribe(pattern, 1).ok());
    return o;
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return messages.size();
  }
  std::vector<mqtt::Message> All() {
    std::lock_guard<std::mutex> lock(mu);
    return messages;
  }
};

sparkplug::DataType SparkplugType(model::DataType t) {
  switch (t) {
    case model::DataType::kBool: return sparkplug::DataType::kBoolean;
    case model::DataType::kInt32: return sparkplug::DataType::kInt32;
    case model::DataType::kInt64: return sparkplug::DataType::kInt64;
    case model::DataType::kFloat32: return sparkplug::DataType::kFloat;
    case model::DataType::kString: return sparkplug::DataType::kString;
    default: return sparkplug::DataType::kDouble;
  }
}

// A value of the datatype for "index i".
sparkplug::MetricValue ValueOf(sparkplug::DataType t, int i) {
  switch (t) {
    case sparkplug::DataType::kBoolean: return i % 2 == 1;
    case sparkplug::DataType::kInt32:
    case sparkplug::DataType::kInt64: return int64_t{i};
    case sparkplug::DataType::kFloat: return static_cast<float>(i) + 0.5f;
    case sparkplug::DataType::kString: return std::to_string(i);
    default: return static_cast<double>(i) + 0.25;
  }
}

double AsDouble(const sparkplug::MetricValue& v) {
  return std::visit(
      [](const auto& x) -> double {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, std::string>) {
          return -1;
        } else {
          return static_cast<double>(x);
        }
      },
      v);
}

class SparkplugConnectorTest : public ::testing::Test {
 protected:
  static constexpr std::string_view kDevice = "l1-sp-01";

  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    address_ = *mqtt::BrokerAddress::Parse(broker_->url());

    // The device's metrics as the plant binds them, plus one the plant does not know.
    const std::vector<SignalId>* ids = Table()->AssetSignals(kDevice);
    ASSERT_NE(ids, nullptr);
    for (SignalId id : *ids) {
      const SignalInfo& s = Table()->at(id);
      if (s.protocol != model::Protocol::kSparkplugB) continue;
      defs_.push_back({s.signal_model->spec.source.sparkplug->metric, SparkplugType(s.type)});
      ids_.push_back(id);
    }
    ASSERT_GE(defs_.size(), 3u);
    defs_.push_back({"not_in_plant", sparkplug::DataType::kDouble});
    auto edge = sparkplug::EdgeNodeSession::Create("lyon", "edge-l1");
    ASSERT_TRUE(edge.ok());
    edge_ = std::make_unique<sparkplug::EdgeNodeSession>(std::move(*edge));
    ASSERT_TRUE(edge_->AddDevice(std::string(kDevice), defs_).ok());
    mqtt::ClientOptions o;
    o.client_id = "edge-l1";
    sparkplug::Message death = edge_->NodeDeath();
    o.will = mqtt::Will{death.topic, death.payload, death.qos, death.retain};
    auto c = mqtt::Client::Connect(address_, o, seconds(5));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    edge_client_ = std::move(*c);
  }

  void StartConnector(SparkplugConnectorOptions o = {}) {
    o.broker = address_;
    if (o.host_id == "weft-edge") o.host_id = "test-host";
    auto c = SparkplugConnector::Create(Table(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    connector_ = std::move(*c);
    ASSERT_TRUE(connector_->Start(sink_.sinks()).ok());
    EXPECT_EQ(connector_->Health().state, ConnectorState::kRunning);
  }

  void Publish(const Result<sparkplug::Message>& m) {
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE(edge_client_->Publish(m->topic, m->payload, m->qos, m->retain).ok());
  }
  void PublishRaw(const std::string& topic, std::string_view payload) {
    ASSERT_TRUE(edge_client_->Publish(topic, payload, 0, false).ok());
  }

  std::vector<sparkplug::MetricValue> BirthValues() const {
    std::vector<sparkplug::MetricValue> v;
    for (size_t i = 0; i < defs_.size(); ++i) v.push_back(ValueOf(defs_[i].type, int(i)));
    return v;
  }
  void Births(uint64_t ts_ms) {
    Publish(edge_->NodeBirth(ts_ms, {}));
    Publish(edge_->DeviceBirth(kDevice, ts_ms, BirthValues()));
  }
  uint64_t ErrorCount(const std::string& kind) {
    ConnectorHealth h = connector_->Health();
    auto it = h.errors.find(kind);
    return it == h.errors.end() ? 0 : it->second;
  }

  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  mqtt::BrokerAddress address_;
  std::vector<sparkplug::MetricDef> defs_;
  std::vector<SignalId> ids_;  //!< per def, except the last (not_in_plant)
  std::unique_ptr<sparkplug::EdgeNodeSession> edge_;
  std::unique_ptr<mqtt::Client> edge_client_;
  Sink sink_;
  std::unique_ptr<SparkplugConnector> connector_;
};

TEST_F(SparkplugConnectorTest, BirthAndDataBecomeSamplesWithTheTablesIds) {
  StartConnector();
  Births(kT0);
  // The DBIRTH carries every metric: the plant's become samples, not_in_plant is counted.
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= ids_.size(); })) << broker_->Log();
  {
    std::lock_guard<std::mutex> lock(sink_.mu);
    ASSERT_EQ(sink_.samples.size(), ids_.size());
    for (size_t i = 0; i < ids_.size(); ++i) {
      EXPECT_EQ(sink_.samples[i].signal, ids_[i]) << defs_[i].name;
      EXPECT_EQ(sink_.samples[i].ts_us, static_cast<int64_t>(kT0) * 1000);
      EXPECT_DOUBLE_EQ(sink_.samples[i].value, AsDouble(ValueOf(defs_[i].type, int(i))));
      EXPECT_EQ(sink_.samples[i].quality, quality::kGood);
    }
  }
  EXPECT_EQ(ErrorCount("unmapped_metric"), 1u);

  // DDATA by alias: two rounds, to go through the alias cache's miss and hit paths, with a
  // metric timestamp of its own.
  for (int round = 0; round < 2; ++round) {
    const size_t before = sink_.SampleCount();
    Publish(edge_->DeviceData(kDevice, kT0 + 1000 + static_cast<uint64_t>(round),
                              {{size_t{0}, ValueOf(defs_[0].type, 10 + round), kT0 + 500},
                               {size_t{2}, ValueOf(defs_[2].type, 20 + round), std::nullopt},
                               {defs_.size() - 1, 3.0, std::nullopt}}));  // not_in_plant
    ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= before + 2; }));
    std::lock_guard<std::mutex> lock(sink_.mu);
    ASSERT_EQ(sink_.samples.size(), before + 2);
    const Sample& a = sink_.samples[before];
    const Sample& b = sink_.samples[before + 1];
    EXPECT_EQ(a.signal, ids_[0]);
    EXPECT_EQ(a.ts_us, static_cast<int64_t>(kT0 + 500) * 1000);
    EXPECT_DOUBLE_EQ(a.value, AsDouble(ValueOf(defs_[0].type, 10 + round)));
    EXPECT_EQ(b.signal, ids_[2]);
    EXPECT_EQ(b.ts_us, static_cast<int64_t>(kT0 + 1000 + static_cast<uint64_t>(round)) * 1000);
    EXPECT_DOUBLE_EQ(b.value, AsDouble(ValueOf(defs_[2].type, 20 + round)));
  }
  EXPECT_EQ(ErrorCount("unmapped_metric"), 3u);

  // A value whose Quality property is not GOOD (192): built by hand, the session does not send
  // properties; it takes the session's next seq.
  {
    sparkplug::Payload p;
    p.timestamp_ms = kT0 + 3000;
    p.seq = edge_->next_seq();
    sparkplug::Metric m;
    m.alias = edge_->Alias(kDevice, defs_[1].name);
    m.timestamp_ms = kT0 + 3000;
    m.type = defs_[1].type;
    m.value = ValueOf(defs_[1].type, 3);
    m.quality = 500;  // STALE
    p.metrics.push_back(m);
    const size_t before = sink_.SampleCount();
    PublishRaw("spBv1.0/lyon/DDATA/edge-l1/" + std::string(kDevice), sparkplug::Encode(p));
    ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() > before; }));
    std::lock_guard<std::mutex> lock(sink_.mu);
    EXPECT_EQ(sink_.samples.back().signal, ids_[1]);
    EXPECT_EQ(sink_.samples.back().quality, quality::kBadSource);
  }
  ConnectorHealth h = connector_->Health();
  EXPECT_EQ(h.name, "sparkplug");
  EXPECT_EQ(h.samples, sink_.SampleCount());
  EXPECT_GE(h.messages, 5u);
  EXPECT_EQ(ErrorCount("seq_gap"), 0u);
}

TEST_F(SparkplugConnectorTest, BirthsAndDeathsAreEvents) {
  StartConnector();
  Births(kT0);
  ASSERT_TRUE(WaitFor([&] { return sink_.EventKinds().size() >= 2; }));
  Publish(edge_->DeviceDeath(kDevice, kT0 + 1));
  ASSERT_TRUE(WaitFor([&] { return sink_.EventKinds().size() >= 3; }));
  Publish(edge_->DeviceBirth(kDevice, kT0 + 2, BirthValues()));
  ASSERT_TRUE(WaitFor([&] { return sink_.EventKinds().size() >= 4; }));
  sparkplug::Message death = edge_->NodeDeath(kT0 + 3);
  ASSERT_TRUE(edge_client_->Publish(death.topic, death.payload, 1, false).ok());
  ASSERT_TRUE(WaitFor([&] { return sink_.EventKinds().size() >= 6; }));
  EXPECT_THAT(sink_.EventKinds(),
              ::testing::ElementsAre("node_online", "device_online", "device_offline",
                                     "device_online", "node_offline", "device_offline"));
  std::lock_guard<std::mutex> lock(sink_.mu);
  EXPECT_EQ(sink_.events[1].signal, ids_[0]);  // the device's first signal
  EXPECT_EQ(sink_.events[1].source, "sparkplug");
  EXPECT_THAT(sink_.events[4].message, HasSubstr("lyon/edge-l1"));
}

TEST_F(SparkplugConnectorTest, StateIsRetainedOnlineAndTheWillSaysOffline) {
  StartConnector();
  const std::string state_topic = "spBv1.0/STATE/test-host";
  EXPECT_EQ(connector_->state_topic(), state_topic);
  // A subscriber that comes later still sees the retained birth.
  auto fresh = Observer::Make(address_, "late-observer", state_topic);
  ASSERT_NE(fresh, nullptr);
  ASSERT_TRUE(WaitFor([&] { return fresh->Count() >= 1; }));
  mqtt::Message first = fresh->All()[0];
  EXPECT_TRUE(first.retain);
  EXPECT_THAT(first.payload, ::testing::MatchesRegex(R"(\{"online":true,"timestamp":[0-9]+\})"));
  const std::string ts = first.payload.substr(first.payload.find("\"timestamp\":"));

  // A dropped connection: the broker publishes the will, with the birth's timestamp.
  connector_->DropConnectionForTest();
  ASSERT_TRUE(WaitFor([&] { return fresh->Count() >= 2; })) << broker_->Log();
  mqtt::Message will = fresh->All()[1];
  EXPECT_EQ(will.payload, "{\"online\":false," + ts);

  // The connector comes back by itself, online again with a new connection's timestamp.
  ASSERT_TRUE(WaitFor([&] { return fresh->Count() >= 3; }, seconds(10))) << broker_->Log();
  EXPECT_THAT(fresh->All()[2].payload, HasSubstr("\"online\":true"));
  EXPECT_EQ(connector_->connections(), 2u);
  EXPECT_GE(connector_->Health().errors["connection"], 1u);
  EXPECT_TRUE(WaitFor([&] { return connector_->Health().state == ConnectorState::kRunning; }));

  // And it still decodes after the reconnection.
  Births(kT0);
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= ids_.size(); }));

  // A clean stop says offline (retained) with the same timestamp as the last birth.
  const std::string last = fresh->All().back().payload;
  connector_->Stop();
  EXPECT_EQ(connector_->Health().state, ConnectorState::kStopped);
  auto after = Observer::Make(address_, "after-stop", state_topic);
  ASSERT_NE(after, nullptr);
  ASSERT_TRUE(WaitFor([&] { return after->Count() >= 1; }));
  EXPECT_EQ(after->All()[0].payload,
            "{\"online\":false," + last.substr(last.find("\"timestamp\":")));
}

TEST_F(SparkplugConnectorTest, SeqGapAndUnknownAliasRequestARebirth) {
  auto ncmd = Observer::Make(address_, "ncmd-observer", "spBv1.0/lyon/NCMD/edge-l1");
  ASSERT_NE(ncmd, nullptr);
  SparkplugConnectorOptions o;
  o.session.rebirth_holdoff = milliseconds(0);
  StartConnector(o);
  Births(kT0);
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= ids_.size(); }));
  EXPECT_EQ(ncmd->Count(), 0u);

  // A lost DDATA: the next one has a seq gap. Its values are still delivered.
  ASSERT_TRUE(edge_->DeviceData(kDevice, kT0 + 1, {{size_t{0}, ValueOf(defs_[0].type, 1)}}).ok());
  const size_t before = sink_.SampleCount();
  Publish(edge_->DeviceData(kDevice, kT0 + 2, {{size_t{0}, ValueOf(defs_[0].type, 2)}}));
  ASSERT_TRUE(WaitFor([&] { return ncmd->Count() >= 1; })) << broker_->Log();
  auto check_rebirth = [&](const mqtt::Message& m) {
    auto topic = sparkplug::ParseTopic(m.topic);
    auto payload = sparkplug::Decode(m.payload);
    ASSERT_TRUE(topic.ok() && payload.ok());
    EXPECT_TRUE(edge_->IsRebirthRequest(*topic, *payload));
    EXPECT_FALSE(m.retain);
  };
  check_rebirth(ncmd->All()[0]);
  EXPECT_TRUE(WaitFor([&] { return sink_.SampleCount() == before + 1; }));
  EXPECT_EQ(ErrorCount("seq_gap"), 1u);
  EXPECT_THAT(connector_->Health().last_error, HasSubstr("seq"));
  EXPECT_THAT(sink_.EventKinds(), ::testing::Contains("rebirth_requested"));

  // The node answers with births; then a DDATA with an alias its births never defined.
  Births(kT0 + 3);
  sparkplug::Payload p;
  p.timestamp_ms = kT0 + 4;
  p.seq = edge_->next_seq();
  sparkplug::Metric m;
  m.alias = 999;
  m.type = sparkplug::DataType::kDouble;
  m.value = 1.0;
  p.metrics.push_back(m);
  PublishRaw("spBv1.0/lyon/DDATA/edge-l1/" + std::string(kDevice), sparkplug::Encode(p));
  ASSERT_TRUE(WaitFor([&] { return ncmd->Count() >= 2; })) << broker_->Log();
  check_rebirth(ncmd->All()[1]);
  EXPECT_EQ(ErrorCount("unknown_alias"), 1u);
}

TEST_F(SparkplugConnectorTest, GarbageIsCountedAndTheConnectorCarriesOn) {
  SparkplugConnectorOptions o;
  o.session.rebirth_holdoff = milliseconds(0);
  StartConnector(o);
  Births(kT0);
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= ids_.size(); }));
  const std::string ddata = "spBv1.0/lyon/DDATA/edge-l1/" + std::string(kDevice);
  PublishRaw(ddata, "\xff\xff\xff\xff garbage");
  PublishRaw(ddata, "");  // a valid, empty payload: a DDATA without seq
  PublishRaw("spBv1.0/lyon/NOPE/edge-l1", "x");
  PublishRaw("spBv1.0/lyon/DDATA/edge-l1", "x");  // DDATA without a device
  PublishRaw("spBv1.0/lyon/NDATA/edge-l9", "x");  // a node this edge does not serve
  ASSERT_TRUE(WaitFor([&] { return ErrorCount("bad_topic") >= 2; }));
  EXPECT_GE(ErrorCount("bad_payload"), 1u);
  // Still decoding what follows (the garbage took no seq).
  const size_t before = sink_.SampleCount();
  Publish(edge_->DeviceData(kDevice, kT0 + 9, {{size_t{1}, ValueOf(defs_[1].type, 9)}}));
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() == before + 1; }));
  EXPECT_EQ(connector_->Health().state, ConnectorState::kRunning);
  EXPECT_EQ(ErrorCount("seq_gap"), 1u);  // the empty payload only
}

TEST(SparkplugConnector, RefusesABadHostIdAndAnUnreachableBroker) {
  SparkplugConnectorOptions o;
  o.host_id = "a/b";
  auto c = SparkplugConnector::Create(Table(), o);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("host id 'a/b'"));

  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  o.host_id = "h";
  o.broker = *mqtt::BrokerAddress::Parse("mqtt://127.0.0.1:" + std::to_string(*port));
  o.connect_timeout = milliseconds(500);
  c = SparkplugConnector::Create(Table(), o);
  ASSERT_TRUE(c.ok());
  Status s = (*c)->Start({});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ((*c)->Health().state, ConnectorState::kFailed);
}

// ---- JSON ----

class JsonConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    address_ = *mqtt::BrokerAddress::Parse(broker_->url());
    mqtt::ClientOptions o;
    o.client_id = "machine";
    auto c = mqtt::Client::Connect(address_, o, seconds(5));
    ASSERT_TRUE(c.ok());
    machine_ = std::move(*c);
    JsonConnectorOptions jo;
    jo.broker = address_;
    auto jc = JsonConnector::Create(Table(), jo);
    ASSERT_TRUE(jc.ok()) << jc.status().ToString();
    connector_ = std::move(*jc);
    ASSERT_TRUE(connector_->Start(sink_.sinks()).ok());
  }
  uint64_t ErrorCount(const std::string& kind) {
    ConnectorHealth h = connector_->Health();
    auto it = h.errors.find(kind);
    return it == h.errors.end() ? 0 : it->second;
  }
  void Send(const std::string& topic, const std::string& payload) {
    ASSERT_TRUE(machine_->Publish(topic, payload, 1, false).ok());
  }

  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  mqtt::BrokerAddress address_;
  std::unique_ptr<mqtt::Client> machine_;
  Sink sink_;
  std::unique_ptr<JsonConnector> connector_;
};

TEST_F(JsonConnectorTest, DocumentsBecomeSamplesAndGarbageIsCounted) {
  const std::string topic = "brno/b1/b1-mo-01/telemetry";
  ASSERT_TRUE(Table()->FindJson(topic, "winding_temp").has_value());
  Send(topic, R"({"ts":1767225600000,"asset":"b1-mo-01","values":{"winding_temp":61.5,"x":1}})");
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= 1; })) << broker_->Log();
  {
    std::lock_guard<std::mutex> lock(sink_.mu);
    ASSERT_EQ(sink_.samples.size(), 1u);
    EXPECT_EQ(sink_.samples[0].signal, *Table()->FindJson(topic, "winding_temp"));
    EXPECT_EQ(sink_.samples[0].ts_us, 1767225600000000);
    EXPECT_EQ(sink_.samples[0].value, 61.5);
  }
  EXPECT_TRUE(WaitFor([&] { return ErrorCount("unmapped_field") == 1; }));

  Send(topic, "not json at all");
  Send(topic, R"({"ts":1.5,"values":{}})");
  Send(topic, std::string((size_t{1} << 20) + 1, ' '));
  Send(topic, R"({"ts":1,"values":{"winding_temp":"hot"}})");
  ASSERT_TRUE(WaitFor([&] { return ErrorCount("wrong_type") == 1; })) << broker_->Log();
  EXPECT_EQ(ErrorCount("bad_payload"), 2u);
  EXPECT_EQ(ErrorCount("oversize_payload"), 1u);
  EXPECT_THAT(connector_->Health().last_error, HasSubstr("is a string"));

  // Still working, on another topic too.
  const std::string other = "brno/b1/b1-cv-02/telemetry";
  Send(other, R"({"ts":2,"values":{"belt_speed":1.5,"motor_current":3}})");
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() >= 3; }));
  ConnectorHealth h = connector_->Health();
  EXPECT_EQ(h.name, "json");
  EXPECT_EQ(h.state, ConnectorState::kRunning);
  EXPECT_EQ(h.messages, 6u);
  EXPECT_EQ(h.samples, 3u);
}

TEST_F(JsonConnectorTest, ResubscribesAfterALostConnection) {
  const std::string topic = "brno/b1/b1-cv-01/telemetry";
  connector_->DropConnectionForTest();
  ASSERT_TRUE(WaitFor([&] { return connector_->connections() == 2; }, seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return connector_->Health().state == ConnectorState::kRunning; }));
  Send(topic, R"({"ts":3,"values":{"belt_speed":2}})");
  ASSERT_TRUE(WaitFor([&] { return sink_.SampleCount() == 1; })) << broker_->Log();
}

}  // namespace
}  // namespace weft::edge
