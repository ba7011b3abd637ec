#include "edge/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "edge/uplink/batch_codec.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::edge {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

bool WaitFor(const std::function<bool()>& done, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

struct Inbox {
  std::mutex mu;
  std::vector<mqtt::Message> messages;
  size_t Count(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& m : messages) n += m.topic.rfind(prefix, 0) == 0 ? 1u : 0u;
    return n;
  }
};

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    config_ = dir_->path() + "/edge.yaml";
    WriteConfig("[b1-cv-01]");
    mqtt::ClientOptions o;
    o.client_id = "test-peer";
    auto c = mqtt::Client::Connect(*mqtt::BrokerAddress::Parse(broker_->url()), o, seconds(5));
    ASSERT_TRUE(c.ok());
    peer_ = std::move(*c);
    peer_->SetMessageHandler([this](const mqtt::Message& m) {
      std::lock_guard<std::mutex> lock(inbox_.mu);
      inbox_.messages.push_back(m);
    });
    ASSERT_TRUE(peer_->Subscribe("weft/#", 1).ok());
  }

  void WriteConfig(const std::string& scope, const std::string& uplink_broker = "") {
    std::ofstream(config_)
        << "weft_edge: 1\nid: e1\nplant: "
        << std::filesystem::absolute(weft::testing::ExamplePlantPath()).string()
        << "\nscope: " << scope << "\nbroker: {url: \"" << broker_->url()
        << "\"}\nsources: {sparkplug: {enabled: false}, modbus: {enabled: false}}\n"
        << "uplink: {"
        << (uplink_broker.empty() ? "" : "broker: {url: \"" + uplink_broker + "\"}, ")
        << "dir: " << dir_->path() << "/buf, batch: {max_samples: 5, max_interval: 200ms}}\n"
        << "http: {listen: \"127.0.0.1:0\"}\n";
  }

  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::string config_;
  std::unique_ptr<mqtt::Client> peer_;
  Inbox inbox_;
};

TEST_F(RuntimeTest, JsonSamplesGoUpInBatchesWithTheirContext) {
  auto rt = Runtime::Start(config_);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  // The JSON connector subscribes asynchronously after its connection.
  std::this_thread::sleep_for(milliseconds(300));
  for (int i = 0; i < 12; ++i) {
    std::string payload =
        "{\"ts\":" + std::to_string(1767225600000 + i * 1000) +
        ",\"asset\":\"b1-cv-01\",\"values\":{\"belt_speed\":" + std::to_string(1.0 + i) + "}}";
    ASSERT_TRUE(peer_->Publish("brno/b1/b1-cv-01/telemetry", payload, 1, false).ok());
  }
  std::vector<Sample> got;
  std::string context_asset, context_line;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(inbox_.mu);
        got.clear();
        for (const auto& m : inbox_.messages) {
          if (m.topic.rfind("weft/v1/uplink/e1/", 0) != 0) continue;
          auto b = uplink::DecodeBatch(m.payload);
          if (!b.ok()) continue;
          for (const Sample& s : b->samples) {
            const uplink::BatchContext* c = b->ContextOf(s.signal);
            if (c->signal != "belt_speed") continue;
            got.push_back(s);
            context_asset = c->asset;
            context_line = c->line;
          }
        }
        return got.size() >= 12;
      },
      seconds(10)))
      << got.size() << " samples";
  EXPECT_EQ(context_asset, "b1-cv-01");
  EXPECT_EQ(context_line, "b1-packaging");
  EXPECT_EQ(got[0].ts_us, 1767225600000000);
  EXPECT_EQ(got[11].value, 12.0);
  std::string metrics;
  EXPECT_TRUE(WaitFor(
      [&] {
        metrics = (*rt)->MetricsText();  // connector counters are refreshed twice a second
        return metrics.find("weft_edge_connector_samples_total{connector=\"json\"} 12") !=
               std::string::npos;
      },
      seconds(3)))
      << metrics;
  EXPECT_NE(metrics.find("weft_edge_samples_in_total 12"), std::string::npos) << metrics;
  EXPECT_TRUE((*rt)->Health().healthy) << (*rt)->Health().json;
}

TEST_F(RuntimeTest, CommandsAreAnsweredAndReloadAppliesANewScope) {
  auto rt = Runtime::Start(config_);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  const std::string cmd = "weft/v1/edge/e1/cmd/";
  auto reply = [&](size_t n) -> std::string {
    if (!WaitFor([&] { return inbox_.Count("weft/v1/edge/e1/reply") >= n; }, seconds(10))) {
      return "no reply";
    }
    std::lock_guard<std::mutex> lock(inbox_.mu);
    size_t seen = 0;
    for (const auto& m : inbox_.messages) {
      if (m.topic == "weft/v1/edge/e1/reply" && ++seen == n) return m.payload;
    }
    return "?";
  };
  // The runtime subscribes to its commands on its processing thread, just after starting.
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(peer_->Publish(cmd + "launch", "", 1, false).ok());
  std::string r1 = reply(1);
  EXPECT_NE(r1.find("\"ok\":false"), std::string::npos) << r1;
  EXPECT_NE(r1.find("unknown command 'launch'"), std::string::npos) << r1;

  ASSERT_TRUE(peer_
                  ->Publish(cmd + "deploy",
                            R"({"model": "m", "artifact": "/nope.json", "version": "1"})", 1, false)
                  .ok());
  std::string r2 = reply(2);
  EXPECT_NE(r2.find("\"ok\":false"), std::string::npos);
  EXPECT_NE(r2.find("sha256"), std::string::npos) << "deploy needs the artifact's hash: " << r2;

  ASSERT_TRUE(peer_->Publish(cmd + "deploy", "not json", 1, false).ok());
  EXPECT_NE(reply(3).find("not a JSON object"), std::string::npos);

  // Reload with a wider scope: the second asset's samples now go up.
  WriteConfig("[b1-cv-01, b1-cv-02]");
  ASSERT_TRUE(peer_->Publish(cmd + "reload", "", 1, false).ok());
  std::string r4 = reply(4);
  EXPECT_NE(r4.find("\"ok\":true"), std::string::npos) << r4;
  EXPECT_EQ((*rt)->stats().reloads, 1u);
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(
      peer_
          ->Publish("brno/b1/b1-cv-02/telemetry",
                    R"({"ts":1767225600000,"asset":"b1-cv-02","values":{"belt_speed":2.5}})", 1,
                    false)
          .ok());
  EXPECT_TRUE(WaitFor([&] { return (*rt)->stats().samples_in >= 1; }, seconds(5)));

  // A broken file is refused and the running configuration stays.
  std::ofstream(config_) << "weft_edge: 1\nid: e1\n";
  Status s = (*rt)->Reload();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE((*rt)->Health().healthy);
  EXPECT_EQ((*rt)->stats().reloads, 1u);
}

TEST_F(RuntimeTest, WithTheUplinkDownEverythingReceivedIsStoredOnDisk) {
  auto uplink = weft::testing::MosquittoBroker::Start();
  ASSERT_TRUE(uplink.ok());
  WriteConfig("[b1-cv-01]", (*uplink)->url());
  {
    auto rt = Runtime::Start(config_);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    (*uplink)->Stop();
    std::this_thread::sleep_for(milliseconds(300));
    for (int i = 0; i < 23; ++i) {
      std::string payload = "{\"ts\":" + std::to_string(1767225600000 + i) +
                            ",\"values\":{\"belt_speed\":" + std::to_string(i) + "}}";
      ASSERT_TRUE(peer_->Publish("brno/b1/b1-cv-01/telemetry", payload, 1, false).ok());
    }
    ASSERT_TRUE(WaitFor([&] { return (*rt)->stats().samples_in >= 23; }, seconds(5)));
    (*rt)->Stop();  // closes the open batch (max_samples 5: 23 = 4 full + 1 open)
    EXPECT_EQ((*rt)->stats().append_errors, 0u);
  }
  auto q = uplink::DurableQueue::Open(dir_->path() + "/buf");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto batches = (*q)->ReadFrom(Priority::kNormal, 0, 100);
  ASSERT_TRUE(batches.ok());
  std::set<int64_t> ts;
  for (const auto& qb : *batches) {
    auto b = uplink::DecodeBatch(qb.bytes);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    for (const Sample& smp : b->samples) {
      if (b->ContextOf(smp.signal)->signal == "belt_speed") ts.insert(smp.ts_us);
    }
  }
  EXPECT_EQ(ts.size(), 23u) << "every sample received is in the buffer, waiting for the uplink";
}

TEST(RuntimeTls, MutualTlsToTheBrokerForSourcesAndUplink) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  auto pki = weft::testing::TestPki::Make(dir->path());
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  weft::testing::BrokerOptions bo;
  bo.tls = *pki;
  bo.require_client_certificate = true;
  auto broker = weft::testing::MosquittoBroker::Start(bo);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  std::string config = dir->path() + "/edge.yaml";
  std::ofstream(config) << "weft_edge: 1\nid: e-tls\nplant: "
                        << std::filesystem::absolute(weft::testing::ExamplePlantPath()).string()
                        << "\nscope: [b1-cv-01]\nbroker: {url: \"" << (*broker)->url()
                        << "\", tls: {ca: ca.pem, cert: client.pem, key: client.key}}\n"
                        << "sources: {sparkplug: {enabled: false}, modbus: {enabled: false}}\n"
                        << "uplink: {batch: {max_samples: 1, max_interval: 100ms}}\n"
                        << "http: {listen: \"127.0.0.1:0\"}\n";
  auto rt = Runtime::Start(config);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString() << "\n" << (*broker)->Log();

  mqtt::ClientOptions o;
  o.client_id = "tls-peer";
  o.tls = mqtt::TlsOptions{pki->ca_cert, pki->client_cert, pki->client_key, true};
  auto peer = mqtt::Client::Connect(*mqtt::BrokerAddress::Parse((*broker)->url()), o, seconds(5));
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  std::atomic<int> batches{0};
  (*peer)->SetMessageHandler([&](const mqtt::Message& m) {
    if (uplink::DecodeBatch(m.payload).ok()) ++batches;
  });
  ASSERT_TRUE((*peer)->Subscribe("weft/v1/uplink/#", 1).ok());
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE((*peer)
                  ->Publish("brno/b1/b1-cv-01/telemetry",
                            R"({"ts":1767225600000,"values":{"belt_speed":1.5}})", 1, false)
                  .ok());
  EXPECT_TRUE(WaitFor([&] { return batches.load() >= 1; }, seconds(10)))
      << "a sample read over TLS went up over TLS";
  EXPECT_TRUE((*rt)->Health().healthy);

  // The same edge without a client certificate is refused by the broker.
  std::ofstream(config) << "weft_edge: 1\nid: e-tls2\nplant: "
                        << std::filesystem::absolute(weft::testing::ExamplePlantPath()).string()
                        << "\nscope: [b1-cv-01]\nbroker: {url: \"" << (*broker)->url()
                        << "\", tls: {ca: ca.pem}}\nhttp: {listen: \"127.0.0.1:0\"}\n";
  auto refused = Runtime::Start(config);
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace weft::edge
