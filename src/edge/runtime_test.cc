#include "edge/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <thread>

#include "edge/uplink/batch_codec.h"
#include "fleet/pki.h"
#include "fleet/signing.h"
#include "modbus/tcp_server.h"
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

  //! An edge.yaml with a `control:` section (issue 8) after the usual sections; lyon-hz-01's
  //! PLC (10.20.0.50:502) is reached at `plc` ("" = not overridden).
  std::string WriteControlConfig(const std::string& scope, const std::string& control,
                                 const std::string& plc = "") {
    std::string text =
        "weft_edge: 1\nid: e1\nplant: " +
        std::filesystem::absolute(weft::testing::ExamplePlantPath()).string() +
        "\nscope: " + scope + "\nbroker: {url: \"" + broker_->url() + "\"}\n" +
        "sources: {sparkplug: {enabled: false}, json: {enabled: false}, modbus: {enabled: false" +
        (plc.empty() ? "" : ", endpoints: {\"10.20.0.50:502\": \"" + plc + "\"}") + "}}\n" +
        "uplink: {ack: broker, dir: " + dir_->path() +
        "/buf, batch: {max_samples: 5, max_interval: 100ms}}\n" +
        "http: {listen: \"127.0.0.1:0\"}\n" + control;
    std::ofstream(config_) << text;
    return text;
  }

  //! The control actions the edge sent up so far.
  std::vector<uplink::ActionRecordValue> UplinkActions() {
    std::lock_guard<std::mutex> lock(inbox_.mu);
    std::vector<uplink::ActionRecordValue> out;
    for (const auto& m : inbox_.messages) {
      if (m.topic.rfind("weft/v1/uplink/e1/", 0) != 0) continue;
      auto b = uplink::DecodeBatch(m.payload);
      if (!b.ok()) continue;
      out.insert(out.end(), b->actions.begin(), b->actions.end());
    }
    return out;
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

//! The 1-based line of the first line of `text` that contains `needle` (0: none).
int LineOf(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

// One loop on lyon-hz-01 (issue 8) with a python3 model proposing 21.5; {mode} and {safe} are
// substituted by the tests.
constexpr char kControlLoop[] = R"yaml(control:
  loops:
    - id: hz1
      asset: lyon-hz-01
      write: remote_setpoint
      heartbeat: heartbeat
      mode_signal: control_mode
      readback: setpoint
      read: [zone_temp]
      period: 150ms
      mode: {mode}
      source:
        process: {command: [python3, -c, "import sys\nfor l in sys.stdin: print('{\"setpoint\": 21.5}', flush=True)"], timeout: 2s}
      envelope:
        min: 16
        max: 23
        max_step: 1
        max_rate: 1/s
        safe: {safe}
)yaml";

std::string ControlLoopYaml(const std::string& mode, const std::string& safe) {
  std::string s = kControlLoop;
  s.replace(s.find("{mode}"), 6, mode);
  s.replace(s.find("{safe}"), 6, safe);
  return s;
}

TEST_F(RuntimeTest, ABadControlSectionIsRefusedWithItsPlace) {
  // safe outside [min, max]: refused at start, at the line of `safe:`.
  const std::string text = WriteControlConfig("[lyon-hz-01]", ControlLoopYaml("shadow", "30"));
  auto rt = Runtime::Start(config_);
  ASSERT_FALSE(rt.ok());
  const std::string msg = rt.status().message();
  const std::string place = config_ + ":" + std::to_string(LineOf(text, "safe: 30")) + ":";
  EXPECT_NE(msg.find(place), std::string::npos) << "expected " << place << " in: " << msg;
  EXPECT_NE(msg.find("safe 30 is outside [min 16, max 23]"), std::string::npos) << msg;

  // A wanted mode that is not one: named with its place and the choices.
  const std::string t2 = WriteControlConfig("[lyon-hz-01]", ControlLoopYaml("turbo", "18"));
  auto rt2 = Runtime::Start(config_);
  ASSERT_FALSE(rt2.ok());
  const std::string m2 = rt2.status().message();
  EXPECT_NE(m2.find(config_ + ":" + std::to_string(LineOf(t2, "mode: turbo")) + ":"),
            std::string::npos)
      << m2;
  EXPECT_NE(m2.find("turbo"), std::string::npos) << m2;

  // A wanted non-shadow mode without a grant key: no one could ever allow it.
  WriteControlConfig("[lyon-hz-01]", ControlLoopYaml("autonomous", "18"));
  auto rt3 = Runtime::Start(config_);
  ASSERT_FALSE(rt3.ok());
  EXPECT_NE(rt3.status().message().find("grant_key"), std::string::npos)
      << rt3.status().message();
}

TEST_F(RuntimeTest, AControlLoopOnAnAssetOutOfScopeIsRefused) {
  // The plant has lyon-hz-01, but this edge serves b1-cv-01 only.
  WriteControlConfig("[b1-cv-01]", ControlLoopYaml("shadow", "18"));
  auto rt = Runtime::Start(config_);
  ASSERT_FALSE(rt.ok());
  const std::string msg = rt.status().message();
  EXPECT_NE(msg.find("lyon-hz-01"), std::string::npos) << msg;
  EXPECT_NE(msg.find("outside this edge's scope"), std::string::npos) << msg;
  EXPECT_NE(msg.find(config_), std::string::npos) << msg;
  // An asset the plant does not have at all.
  std::string yaml = ControlLoopYaml("shadow", "18");
  yaml.replace(yaml.find("asset: lyon-hz-01"), 17, "asset: lyon-hz-99");
  WriteControlConfig("[lyon-hz-01]", yaml);
  auto rt2 = Runtime::Start(config_);
  ASSERT_FALSE(rt2.ok());
  EXPECT_NE(rt2.status().message().find("lyon-hz-99"), std::string::npos)
      << rt2.status().message();
}

TEST_F(RuntimeTest, AShadowLoopReadsThePlcAndRecordsButNeverWrites) {
  // lyon-hz-01's PLC in process: zone 20.5 degC, effective setpoint 21.0, local mode.
  auto bank = modbus::RegisterBank::Create({.holding_registers = 32, .input_registers = 32});
  ASSERT_TRUE(bank.ok()) << bank.status().ToString();
  ASSERT_TRUE((*bank)->SetRegister(modbus::Table::kInputRegisters, 0, 205).ok());
  ASSERT_TRUE((*bank)->SetRegister(modbus::Table::kHoldingRegisters, 4, 210).ok());
  std::atomic<int> client_writes{0};
  (*bank)->SetWriteListener([&](modbus::Table, uint16_t, uint16_t) { ++client_writes; });
  auto server = modbus::ModbusTcpServer::Start("127.0.0.1", 0, *bank);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string plc = "127.0.0.1:" + std::to_string((*server)->port());
  WriteControlConfig("[lyon-hz-01]", ControlLoopYaml("shadow", "18"), plc);
  auto rt = Runtime::Start(config_);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();

  // Every period: a "shadow" action with what would have been written (21.0 -> 21.5, within
  // max_step 1), sent up the uplink; the PLC is read, never written.
  std::vector<uplink::ActionRecordValue> shadow;
  ASSERT_TRUE(WaitFor(
      [&] {
        shadow.clear();
        for (const auto& a : UplinkActions()) {
          if (a.kind == "shadow") shadow.push_back(a);
        }
        return shadow.size() >= 3;
      },
      seconds(10)))
      << shadow.size() << " shadow actions; metrics:\n"
      << (*rt)->MetricsText();
  for (const auto& a : shadow) {
    EXPECT_EQ(a.loop, "hz1");
    EXPECT_EQ(a.asset, "lyon-hz-01");
    EXPECT_EQ(a.mode, "shadow");
    EXPECT_EQ(a.site, "lyon");
    EXPECT_DOUBLE_EQ(a.requested, 21.5);
    EXPECT_NEAR(a.before, 21.0, 1e-9);
    EXPECT_NEAR(a.after, 21.5, 1e-9) << "what would have been written";
  }
  EXPECT_GT((*server)->stats().requests, 0u) << "the loop reads the PLC";
  EXPECT_EQ(client_writes.load(), 0) << "shadow never writes, not even a heartbeat";
  EXPECT_EQ(*(*bank)->GetRegister(modbus::Table::kHoldingRegisters, 12), 0);
  EXPECT_EQ(*(*bank)->GetRegister(modbus::Table::kHoldingRegisters, 13), 0);
  const std::string metrics = (*rt)->MetricsText();
  EXPECT_NE(metrics.find("weft_edge_control_mode{loop=\"hz1\"} 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("weft_edge_control_writes_total{loop=\"hz1\"} 0"), std::string::npos)
      << metrics;

  // A control_grant signed by nobody the edge trusts (no grant_key): refused, still shadow.
  ASSERT_TRUE(peer_->Publish("weft/v1/edge/e1/cmd/control_grant",
                             R"({"grant": "{\"loop\":\"hz1\"}", "signature": "AAAA"})", 1, false)
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return inbox_.Count("weft/v1/edge/e1/reply") >= 1; }, seconds(5)));
  {
    std::lock_guard<std::mutex> lock(inbox_.mu);
    for (const auto& m : inbox_.messages) {
      if (m.topic == "weft/v1/edge/e1/reply") {
        EXPECT_NE(m.payload.find("\"ok\":false"), std::string::npos) << m.payload;
      }
    }
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        for (const auto& a : UplinkActions()) {
          if (a.kind == "grant_refused" && a.loop == "hz1") return true;
        }
        return false;
      },
      seconds(5)))
      << "the refusal is recorded for the lake's actions table";
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(client_writes.load(), 0);
  EXPECT_NE((*rt)->MetricsText().find("weft_edge_control_mode{loop=\"hz1\"} 0"), std::string::npos);
  (*rt)->Stop();
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

// Issue 9: a provisioned edge (identity given, as the simulator does; ZtpClient itself is tested
// in fleet/device) connects over mTLS as its device id, publishes its state, and runs OTA.
class RuntimeOtaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    auto pki = weft::testing::TestPki::Make(dir_->path());
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    weft::testing::BrokerOptions bo;
    bo.tls = pki_;
    bo.require_client_certificate = true;
    auto broker = weft::testing::MosquittoBroker::Start(bo);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    auto key = fleet::GenerateEd25519Key();
    ASSERT_TRUE(key.ok());
    ota_key_ = *key;
    config_ = dir_->path() + "/edge.yaml";
    std::ofstream(config_) << ConfigText("[b1-cv-01]");

    mqtt::ClientOptions o;
    o.client_id = "ota-peer";
    o.tls = mqtt::TlsOptions{pki_.ca_cert, pki_.client_cert, pki_.client_key, true};
    auto peer = mqtt::Client::Connect(*mqtt::BrokerAddress::Parse(broker_->url()), o, seconds(5));
    ASSERT_TRUE(peer.ok()) << peer.status().ToString();
    peer_ = std::move(*peer);
    peer_->SetMessageHandler([this](const mqtt::Message& m) {
      std::lock_guard<std::mutex> lock(inbox_.mu);
      inbox_.messages.push_back(m);
    });
    ASSERT_TRUE(peer_->Subscribe("weft/v1/edge/#", 1).ok());
  }

  std::string ConfigText(const std::string& scope) {
    return "weft_edge: 1\nplant: " +
           std::filesystem::absolute(weft::testing::ExamplePlantPath()).string() +
           "\nscope: " + scope +
           "\nsources: {sparkplug: {enabled: false}, modbus: {enabled: false}}\n"
           "uplink: {ack: broker, batch: {max_samples: 5, max_interval: 200ms}}\n"
           "http: {listen: \"127.0.0.1:0\"}\n"
           "provisioning: {core: \"https://127.0.0.1:1\", factory_dir: factory, state_dir: state}\n";
  }

  RuntimeOptions Options() {
    fleet::DeviceIdentity id;
    id.device_id = "dev-ota";
    id.site = "brno";
    id.hardware_model = "gw-200";
    id.cert_file = pki_.client_cert;
    id.key_file = pki_.client_key;
    id.ca_file = pki_.ca_cert;
    id.broker_url = broker_->url();
    id.ota_public_key_pem = ota_key_.public_pem;
    RuntimeOptions o;
    o.identity = id;
    return o;
  }

  std::string Command(const std::string& campaign, const std::string& kind,
                      const std::string& name, const std::string& version,
                      const std::string& content, std::optional<int> budget_us = std::nullopt) {
    const std::string file = dir_->path() + "/" + campaign + ".artifact";
    std::ofstream(file, std::ios::binary) << content;
    fleet::ArtifactManifest m;
    m.kind = kind;
    m.name = name;
    m.version = version;
    m.sha256 = fleet::Sha256Hex(content);
    m.size = content.size();
    m.hardware_models = {"gw-200"};
    const std::string manifest = fleet::ManifestJson(m);
    auto sig = fleet::SignBytes(ota_key_.private_pem, manifest);
    EXPECT_TRUE(sig.ok());
    nlohmann::json j = {{"campaign", campaign},
                        {"artifact", {{"manifest", manifest}, {"signature", *sig},
                                      {"url", "file://" + file}}},
                        {"health_timeout_s", 5}};
    j["latency_budget_us"] = budget_us ? nlohmann::json(*budget_us) : nlohmann::json(nullptr);
    return j.dump();
  }

  std::vector<nlohmann::json> Messages(const std::string& topic) {
    std::lock_guard<std::mutex> lock(inbox_.mu);
    std::vector<nlohmann::json> out;
    for (const auto& m : inbox_.messages) {
      if (m.topic == topic) out.push_back(nlohmann::json::parse(m.payload, nullptr, false));
    }
    return out;
  }
  std::optional<nlohmann::json> FinalStatus(const std::string& campaign) {
    for (const auto& j : Messages("weft/v1/edge/dev-ota/ota/status")) {
      const std::string state = j.value("state", "");
      if (j.value("campaign", "") == campaign &&
          (state == "succeeded" || state == "failed" || state == "rolled_back")) {
        return j;
      }
    }
    return std::nullopt;
  }

  //! The final status of `campaign`, waiting for it to arrive (up to 10 s).
  std::optional<nlohmann::json> WaitFinal(const std::string& campaign) {
    (void)WaitFor([&] { return FinalStatus(campaign).has_value(); }, seconds(10));
    return FinalStatus(campaign);
  }

  std::unique_ptr<weft::testing::TempDir> dir_;
  weft::testing::TestPki pki_;
  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  fleet::KeyPair ota_key_;
  std::string config_;
  std::unique_ptr<mqtt::Client> peer_;
  Inbox inbox_;
};

TEST_F(RuntimeOtaTest, ProvisionedEdgeTakesItsIdPublishesStateAndRunsOta) {
  auto rt = Runtime::Start(config_, Options());
  ASSERT_TRUE(rt.ok()) << rt.status().ToString() << "\n" << broker_->Log();
  EXPECT_EQ((*rt)->config().id, "dev-ota");
  EXPECT_TRUE((*rt)->config().broker.tls);
  ASSERT_TRUE(WaitFor([&] { return !Messages("weft/v1/edge/dev-ota/state").empty(); }, seconds(10)))
      << "state is published on connect";
  nlohmann::json state = Messages("weft/v1/edge/dev-ota/state").front();
  EXPECT_EQ(state["device"], "dev-ota");
  EXPECT_EQ(state["hardware_model"], "gw-200");
  EXPECT_EQ(state["versions"]["firmware"].get<std::string>().rfind("weft-edge ", 0), 0u);

  // edge_config: validated, written, reloaded (the new scope is applied).
  const uint64_t reloads = (*rt)->stats().reloads;
  ASSERT_TRUE((*rt)->Ota(Command("c-cfg", "edge_config", "edge.yaml", "2",
                                 ConfigText("[b1-cv-01, b1-cv-02]"))).ok());
  auto st = WaitFinal("c-cfg");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*st)["state"], "succeeded") << st->dump();
  EXPECT_EQ((*rt)->stats().reloads, reloads + 1);
  EXPECT_EQ((*rt)->OtaVersions().at("edge_config"), "2");

  // An edge_config that does not parse never replaces the running file: rolled back.
  ASSERT_TRUE((*rt)->Ota(Command("c-bad", "edge_config", "edge.yaml", "3", "weft_edge: 1\nbogus: x\n")).ok());
  st = WaitFinal("c-bad");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*st)["state"], "rolled_back") << st->dump();
  EXPECT_EQ((*st)["version"], "2");
  EXPECT_NE((*st)["reason"].get<std::string>().find("bogus"), std::string::npos) << st->dump();
  std::ifstream in(config_);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("b1-cv-02"), std::string::npos) << "version 2 is still the file";

  // A model: benchmarked (bench published), then deployed; this edge has no inference section
  // for it, so the deploy fails and the update is rolled back.
  std::ifstream model_in(std::filesystem::path(weft::testing::ExamplePlantPath()).parent_path() /
                         "../src/edge/inference/testdata/fuzz_seeds/small_logistic.json");
  std::stringstream model;
  model << model_in.rdbuf();
  ASSERT_FALSE(model.str().empty());
  ASSERT_TRUE((*rt)->Ota(Command("c-model", "model", "bearing-wear", "7", model.str(), 100000)).ok());
  ASSERT_TRUE(WaitFor([&] { return !Messages("weft/v1/edge/dev-ota/bench").empty(); }, seconds(5)));
  nlohmann::json bench = Messages("weft/v1/edge/dev-ota/bench").front();
  EXPECT_EQ(bench["model"], "bearing-wear");
  EXPECT_EQ(bench["model_version"], "7");
  EXPECT_EQ(bench["samples"], 200);
  EXPECT_LE(bench["p50_us"].get<double>(), bench["p99_us"].get<double>());
  st = WaitFinal("c-model");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*st)["state"], "rolled_back") << st->dump();
  EXPECT_EQ((*rt)->OtaVersions().count("model/bearing-wear"), 0u);

  // The ota command over MQTT is answered on reply.
  ASSERT_TRUE(peer_->Publish("weft/v1/edge/dev-ota/cmd/ota",
                             Command("c-fw", "firmware", "gw-fw", "9.9.9", "FIRMWARE"), 1, false)
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return FinalStatus("c-fw").has_value(); }, seconds(10)));
  EXPECT_EQ((*FinalStatus("c-fw"))["state"], "succeeded");
  EXPECT_TRUE(WaitFor([&] { return !Messages("weft/v1/edge/dev-ota/reply").empty(); }, seconds(5)));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto states = Messages("weft/v1/edge/dev-ota/state");
        return states.back()["versions"].value("firmware", "") == "9.9.9";
      },
      seconds(5)));
}

TEST_F(RuntimeOtaTest, AnIdInTheFileMustBeTheDeviceId) {
  std::ofstream(config_) << "id: someone-else\n" << ConfigText("[b1-cv-01]");
  auto rt = Runtime::Start(config_, Options());
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.status().message().find("dev-ota"), std::string::npos) << rt.status().ToString();
}

}  // namespace
}  // namespace weft::edge
