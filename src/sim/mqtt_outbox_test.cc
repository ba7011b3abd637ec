// MqttOutbox against a real mosquitto: order and completeness across batches, a lost connection
// as an error, and a reconnect that drops the old session's messages and keeps subscriptions.
#include "sim/mqtt_outbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "testing/test_env.h"

namespace weft::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Observer {
  std::unique_ptr<mqtt::Client> client;
  std::mutex mu;
  std::vector<mqtt::Message> got;
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  }
  bool WaitFor(size_t n) {
    for (int i = 0; i < 400 && Count() < n; ++i) std::this_thread::sleep_for(milliseconds(10));
    return Count() >= n;
  }
};

std::unique_ptr<Observer> Observe(const mqtt::BrokerAddress& broker, const std::string& pattern) {
  auto o = std::make_unique<Observer>();
  mqtt::ClientOptions options;
  options.client_id = "outbox-observer";
  auto c = mqtt::Client::Connect(broker, options, seconds(5));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  if (!c.ok()) return nullptr;
  o->client = std::move(*c);
  Observer* raw = o.get();
  o->client->SetMessageHandler([raw](const mqtt::Message& m) {
    std::lock_guard<std::mutex> lock(raw->mu);
    raw->got.push_back(m);
  });
  EXPECT_TRUE(o->client->Subscribe(pattern, 1).ok());
  return o;
}

class MqttOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    address_ = *mqtt::BrokerAddress::Parse(broker_->url());
  }
  MqttOutbox::Connection Connection(std::string id) {
    MqttOutbox::Connection c;
    c.broker = address_;
    c.options.client_id = std::move(id);
    return c;
  }
  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  mqtt::BrokerAddress address_;
};

TEST_F(MqttOutboxTest, EveryMessageArrivesInOrderAcrossBatches) {
  auto observer = Observe(address_, "out/#");
  ASSERT_TRUE(observer);
  auto outbox = MqttOutbox::Start(Connection("outbox-order"), /*reconnect=*/false);
  ASSERT_TRUE(outbox.ok()) << outbox.status().ToString();
  constexpr int kMessages = 20000;
  for (int i = 0; i < kMessages; ++i) {
    // Three topics, QoS 0 and 1 mixed, batches of 1 to 200 messages.
    (*outbox)->Add("out/" + std::to_string(i % 3), std::to_string(i), i % 10 == 0 ? 1 : 0, false);
    if (i % 200 == 0 || i % 7 == 0) {
      ASSERT_TRUE((*outbox)->Flush().ok());
    }
  }
  ASSERT_TRUE((*outbox)->Close(seconds(20)).ok());
  EXPECT_EQ((*outbox)->published(), static_cast<uint64_t>(kMessages));
  ASSERT_TRUE(observer->WaitFor(kMessages)) << observer->Count();
  // MQTT orders the messages of one QoS level; QoS 0 and 1 may overtake each other (in flight
  // windows), so each level is checked on its own.
  std::lock_guard<std::mutex> lock(observer->mu);
  std::vector<std::string> want[2], got[2];
  for (int i = 0; i < kMessages; ++i) {
    want[i % 10 == 0].push_back("out/" + std::to_string(i % 3) + " " + std::to_string(i));
  }
  for (const mqtt::Message& m : observer->got) {
    got[std::stoi(m.payload) % 10 == 0].push_back(m.topic + " " + m.payload);
  }
  EXPECT_EQ(got[0], want[0]);
  EXPECT_EQ(got[1], want[1]);
}

TEST_F(MqttOutboxTest, UnreachableBrokerIsRefusedAtStart) {
  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  MqttOutbox::Connection c = Connection("outbox-nobody");
  c.broker = {"127.0.0.1", *port};
  auto outbox = MqttOutbox::Start(std::move(c), false);
  ASSERT_FALSE(outbox.ok());
  EXPECT_EQ(outbox.status().code(), StatusCode::kUnavailable);
}

TEST_F(MqttOutboxTest, LostConnectionIsAnErrorWithoutReconnect) {
  auto outbox = MqttOutbox::Start(Connection("outbox-lost"), /*reconnect=*/false);
  ASSERT_TRUE(outbox.ok()) << outbox.status().ToString();
  broker_->Stop();
  Status st;
  for (int i = 0; i < 500 && st.ok(); ++i) {
    (*outbox)->Add("out/x", "payload", 0, false);
    st = (*outbox)->Flush();
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find(address_.ToString()), std::string::npos) << st.message();
  EXPECT_FALSE((*outbox)->Close(seconds(1)).ok());
}

TEST_F(MqttOutboxTest, ReconnectDropsTheLostSessionAndKeepsSubscriptions) {
  std::atomic<int> commands{0};
  MqttOutbox::Connection c = Connection("outbox-again");
  c.subscriptions.emplace_back("cmd/#", 1);
  c.handler = [&](const mqtt::Message&) { commands.fetch_add(1); };
  auto outbox = MqttOutbox::Start(std::move(c), /*reconnect=*/true);
  ASSERT_TRUE(outbox.ok()) << outbox.status().ToString();
  broker_->Stop();
  bool lost = false;
  for (int i = 0; i < 500 && !lost; ++i) {
    (*outbox)->Add("out/x", "old", 0, false);
    ASSERT_TRUE((*outbox)->Flush().ok());  // reconnect mode: not an error
    lost = (*outbox)->TakeLost();
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(lost);
  EXPECT_FALSE((*outbox)->TakeLost());       // once per lost connection
  (*outbox)->Add("out/x", "old", 0, false);  // added before the reconnect: dropped
  ASSERT_TRUE((*outbox)->FlushNow().ok());
  ASSERT_TRUE(broker_->Restart().ok());
  auto observer = Observe(address_, "out/#");
  ASSERT_TRUE(observer);
  mqtt::ClientOptions again;
  again.client_id = "outbox-again-2";
  (*outbox)->Reconnect(again);
  for (int i = 0; i < 3; ++i) (*outbox)->Add("out/x", "new" + std::to_string(i), 1, false);
  ASSERT_TRUE((*outbox)->FlushNow().ok());
  ASSERT_TRUE(observer->WaitFor(3));
  // The new session subscribed again, with the same handler.
  for (int i = 0; i < 300 && commands.load() == 0; ++i) {
    ASSERT_TRUE(observer->client->Publish("cmd/rebirth", "1", 1, false).ok());
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GT(commands.load(), 0);
  ASSERT_TRUE((*outbox)->Close(seconds(10)).ok());
  std::this_thread::sleep_for(milliseconds(100));
  std::lock_guard<std::mutex> lock(observer->mu);
  std::vector<std::string> out;
  for (const auto& m : observer->got) {
    if (m.topic == "out/x") out.push_back(m.payload);
  }
  EXPECT_EQ(out, (std::vector<std::string>{"new0", "new1", "new2"}));
}

}  // namespace
}  // namespace weft::sim
