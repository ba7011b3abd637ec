#include "mqtt/client.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "testing/test_env.h"

namespace weft::mqtt {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Collects messages from the network thread.
struct Inbox {
  std::mutex mu;
  std::vector<Message> messages;
  void Add(const Message& m) {
    std::lock_guard<std::mutex> lock(mu);
    messages.push_back(m);
  }
  bool WaitFor(size_t n, milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (messages.size() >= n) return true;
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }
};

class MqttClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    address_ = *BrokerAddress::Parse(broker_->url());
  }
  std::unique_ptr<Client> Connect(const std::string& id, std::optional<Will> will = {}) {
    ClientOptions o;
    o.client_id = id;
    o.will = std::move(will);
    auto c = Client::Connect(address_, o, seconds(5));
    EXPECT_TRUE(c.ok()) << c.status().ToString() << "\n" << broker_->Log();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  BrokerAddress address_;
};

TEST(BrokerAddress, ParsesAndRefusesWithReasons) {
  auto a = BrokerAddress::Parse("mqtt://10.0.0.7:1884");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "10.0.0.7");
  EXPECT_EQ(a->port, 1884);
  EXPECT_EQ(BrokerAddress::Parse("tcp://broker")->port, 1883);
  EXPECT_NE(BrokerAddress::Parse("broker:1883").status().message().find("must start with mqtt://"),
            std::string::npos);
  EXPECT_NE(BrokerAddress::Parse("mqtt://h:0").status().message().find("port"), std::string::npos);
  EXPECT_NE(BrokerAddress::Parse("mqtt://h:http").status().message().find("port"),
            std::string::npos);
  EXPECT_NE(BrokerAddress::Parse("mqtt://:1883").status().message().find("no host"),
            std::string::npos);
}

TEST_F(MqttClientTest, PublishedMessagesReachASubscriberInOrder) {
  auto sub = Connect("sub");
  auto pub = Connect("pub");
  ASSERT_TRUE(sub && pub);
  Inbox inbox;
  sub->SetMessageHandler([&](const Message& m) { inbox.Add(m); });
  ASSERT_TRUE(sub->Subscribe("plant/#", 1).ok());
  std::this_thread::sleep_for(milliseconds(200));  // SUBACK
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pub->Publish("plant/m" + std::to_string(i % 3), std::to_string(i), 1, false).ok());
  }
  ASSERT_TRUE(pub->WaitForAcks(seconds(5)).ok());
  EXPECT_EQ(pub->acked(), 100u);
  ASSERT_TRUE(inbox.WaitFor(100, seconds(5)));
  std::lock_guard<std::mutex> lock(inbox.mu);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(inbox.messages[static_cast<size_t>(i)].payload, std::to_string(i));
  }
  EXPECT_EQ(inbox.messages[4].topic, "plant/m1");
  EXPECT_EQ(inbox.messages[4].qos, 1);
}

TEST_F(MqttClientTest, BinaryPayloadsSurvive) {
  auto c = Connect("bin");
  ASSERT_TRUE(c);
  Inbox inbox;
  c->SetMessageHandler([&](const Message& m) { inbox.Add(m); });
  ASSERT_TRUE(c->Subscribe("b", 1).ok());
  std::this_thread::sleep_for(milliseconds(200));
  std::string payload("\0\x01\xff\x80zz\0", 7);
  ASSERT_TRUE(c->Publish("b", payload, 1, false).ok());
  ASSERT_TRUE(inbox.WaitFor(1, seconds(5)));
  EXPECT_EQ(inbox.messages[0].payload, payload);
}

TEST_F(MqttClientTest, WillIsPublishedWhenTheConnectionDrops) {
  auto watcher = Connect("watcher");
  ASSERT_TRUE(watcher);
  Inbox inbox;
  watcher->SetMessageHandler([&](const Message& m) { inbox.Add(m); });
  ASSERT_TRUE(watcher->Subscribe("death/#", 1).ok());
  std::this_thread::sleep_for(milliseconds(200));
  auto node = Connect("node", Will{"death/node", "gone", 1, false});
  ASSERT_TRUE(node);
  node->DropConnection();
  ASSERT_TRUE(inbox.WaitFor(1, seconds(10))) << broker_->Log();
  EXPECT_EQ(inbox.messages[0].topic, "death/node");
  EXPECT_EQ(inbox.messages[0].payload, "gone");
}

TEST_F(MqttClientTest, CleanDisconnectSendsNoWill) {
  auto watcher = Connect("watcher2");
  ASSERT_TRUE(watcher);
  Inbox inbox;
  watcher->SetMessageHandler([&](const Message& m) { inbox.Add(m); });
  ASSERT_TRUE(watcher->Subscribe("death/#", 1).ok());
  std::this_thread::sleep_for(milliseconds(200));
  Connect("node2", Will{"death/node2", "gone", 1, false}).reset();  // destructor disconnects
  EXPECT_FALSE(inbox.WaitFor(1, milliseconds(500)));
}

TEST(MqttClient, UnreachableBrokerIsUnavailableWithTheAddress) {
  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  ClientOptions o;
  o.client_id = "nobody";
  auto start = std::chrono::steady_clock::now();
  auto c = Client::Connect({"127.0.0.1", *port}, o, milliseconds(500));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("127.0.0.1:" + std::to_string(*port)), std::string::npos)
      << c.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
}

}  // namespace
}  // namespace weft::mqtt
