#include "mqtt/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
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

TEST(BrokerAddress, TlsSchemesDefaultTo8883) {
  auto a = BrokerAddress::Parse("mqtts://broker.example");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(a->port, 8883);
  EXPECT_EQ(a->ToString(), "mqtts://broker.example:8883");
  auto b = BrokerAddress::Parse("ssl://10.0.0.1:9999");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 9999);
  EXPECT_FALSE(BrokerAddress::Parse("mqtt://h")->tls);
}

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

TEST_F(MqttClientTest, AckHandlerGetsEachMessageIdAndQueuedMessagesSurviveABrokerRestart) {
  auto sub = Connect("ack-sub");
  Inbox inbox;
  sub->SetMessageHandler([&](const Message& m) { inbox.Add(m); });
  ClientOptions o;
  o.client_id = "ack-pub";
  auto pub = Client::Connect(address_, o, seconds(5));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  std::mutex mu;
  std::vector<int> acked;
  (*pub)->SetAckHandler([&](int mid) {
    std::lock_guard<std::mutex> lock(mu);
    acked.push_back(mid);
  });
  std::vector<int> mids;
  for (int i = 0; i < 5; ++i) {
    auto mid = (*pub)->PublishWithId("ack/t", "m" + std::to_string(i), 1, false);
    ASSERT_TRUE(mid.ok()) << mid.status().ToString();
    mids.push_back(*mid);
  }
  ASSERT_TRUE((*pub)->WaitForAcks(seconds(5)).ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(acked, mids);
    acked.clear();
  }
  // The broker goes away: a QoS 1 message published meanwhile is queued, and QoS 0 refused;
  // after the broker is back, libmosquitto reconnects by itself, sends the queued message, and
  // both it and new messages are acknowledged, in order.
  broker_->Stop();
  for (int i = 0; i < 50 && (*pub)->connected(); ++i) std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE((*pub)->connected());
  auto refused = (*pub)->PublishWithId("ack/t", "qos0", 0, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  auto queued = (*pub)->PublishWithId("ack/t", "queued", 1, false);
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  ASSERT_TRUE(broker_->Restart().ok());
  for (int i = 0; i < 1000 && !(*pub)->connected(); ++i)
    std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE((*pub)->connected()) << broker_->Log();
  EXPECT_EQ((*pub)->connects(), 2u);
  auto mid = (*pub)->PublishWithId("ack/t", "after", 1, false);
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  for (int i = 0; i < 250; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acked.size() >= 2) break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(acked, (std::vector<int>{*queued, *mid}));
}

// A listener on `port` that never accepts, its backlog filled: a client's connect() to it hangs
// (the SYN is dropped), as towards a broker that is overloaded or just coming up.
class StallingListener {
 public:
  explicit StallingListener(uint16_t port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
          ::listen(listener_, 0) == 0;
    for (int i = 0; ok_ && i < 3; ++i) {  // fill the accept queue
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      ::fcntl(fd, F_SETFL, O_NONBLOCK);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      fillers_.push_back(fd);
    }
  }
  ~StallingListener() { Close(); }
  bool ok() const { return ok_; }
  void Close() {
    for (int fd : fillers_) ::close(fd);
    fillers_.clear();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }

 private:
  int listener_ = -1;
  bool ok_ = false;
  std::vector<int> fillers_;
};

// ~Client used to join libmosquitto's loop thread (mosquitto_loop_stop without force), which
// reconnects with a blocking connect() and decides to stop from a state that a concurrent
// reconnect can overwrite: a client destroyed while it reconnected could wait for minutes, or
// forever (the edge_test hang under load). Here the reconnect is held in connect() by a listener
// that does not accept; the destructor must still return promptly.
TEST_F(MqttClientTest, DestroyingAClientWhileItReconnectsReturnsPromptly) {
  auto c = Connect("reconnecting");
  ASSERT_TRUE(c);
  broker_->Stop();
  for (int i = 0; i < 250 && c->connected(); ++i) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_FALSE(c->connected());
  StallingListener stall(broker_->port());
  ASSERT_TRUE(stall.ok());
  std::this_thread::sleep_for(milliseconds(1500));  // the first retry is due after 1 s
  auto destroyed = std::make_shared<std::promise<void>>();
  std::future<void> done = destroyed->get_future();
  auto start = std::chrono::steady_clock::now();
  std::thread([client = std::move(c), destroyed]() mutable {
    client.reset();
    destroyed->set_value();
  }).detach();  // detached: if ~Client hangs, the test fails instead of hanging with it
  const bool returned = done.wait_for(seconds(5)) == std::future_status::ready;
  stall.Close();
  ASSERT_TRUE(returned) << "~Client waited for its network thread's connect()";
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
}

TEST(MqttClientTls, MutualTlsConnectsAndAPlainClientOrAWrongCaIsRefused) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  auto pki = weft::testing::TestPki::Make(dir->path());
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  weft::testing::BrokerOptions bo;
  bo.tls = *pki;
  bo.require_client_certificate = true;
  auto broker = weft::testing::MosquittoBroker::Start(bo);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  auto address = BrokerAddress::Parse((*broker)->url());
  ASSERT_TRUE(address.ok());
  EXPECT_TRUE(address->tls);

  ClientOptions o;
  o.client_id = "tls-client";
  o.tls = TlsOptions{pki->ca_cert, pki->client_cert, pki->client_key, true};
  auto c = Client::Connect(*address, o, seconds(5));
  ASSERT_TRUE(c.ok()) << c.status().ToString() << "\n" << (*broker)->Log();
  Inbox inbox;
  (*c)->SetMessageHandler([&](const Message& m) { inbox.Add(m); });
  ASSERT_TRUE((*c)->Subscribe("tls/#", 1).ok());
  ASSERT_TRUE((*c)->Publish("tls/x", "over tls", 1, false).ok());
  ASSERT_TRUE(inbox.WaitFor(1, seconds(5)));
  EXPECT_EQ(inbox.messages[0].payload, "over tls");

  // No client certificate: the broker requires one.
  ClientOptions no_cert = o;
  no_cert.client_id = "tls-no-cert";
  no_cert.tls->cert_file.clear();
  no_cert.tls->key_file.clear();
  EXPECT_FALSE(Client::Connect(*address, no_cert, milliseconds(1500)).ok());
  // The broker's certificate is not signed by the CA we trust.
  auto other_dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(other_dir.ok());
  auto other = weft::testing::TestPki::Make(other_dir->path());
  ASSERT_TRUE(other.ok());
  ClientOptions wrong_ca = o;
  wrong_ca.client_id = "tls-wrong-ca";
  wrong_ca.tls->ca_file = other->ca_cert;
  EXPECT_FALSE(Client::Connect(*address, wrong_ca, milliseconds(1500)).ok());
  // mqtts:// without TLS options, and TLS options for mqtt://, are refused up front.
  ClientOptions plain;
  plain.client_id = "plain";
  auto refused = Client::Connect(*address, plain, milliseconds(500));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("CA file"), std::string::npos);
}

}  // namespace
}  // namespace weft::mqtt
