// Ingestor::Subscribe over a real broker: the OTA service receives the devices' reports on the
// core's MQTT connection.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/ingest/ingestor.h"
#include "core/ota/ota_service.h"
#include "testing/test_env.h"

namespace weft::core::ota {
namespace {

using std::chrono::seconds;

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

TEST(IngestSubscribeTest, TheOtaServiceGetsStateReportsThroughTheIngestConnection) {
  auto broker = weft::testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  SystemClock& clock = SystemClock::Default();
  IngestOptions io;
  io.lake_root = dir->path() + "/lake";
  io.broker = *mqtt::BrokerAddress::Parse((*broker)->url());
  io.compact_every = std::chrono::milliseconds(0);
  auto in = Ingestor::Start(io, &clock);
  ASSERT_TRUE(in.ok()) << in.status().ToString();

  auto ota = OtaService::Open({.state_dir = dir->path() + "/state", .clock = &clock});
  ASSERT_TRUE(ota.ok()) << ota.status().ToString();
  OtaService* o = ota->get();
  EXPECT_FALSE((*in)->Subscribe("", [](const mqtt::Message&) {}).ok());
  EXPECT_FALSE((*in)->Subscribe("x/#", nullptr).ok());
  for (const std::string& f : o->Subscriptions()) {
    ASSERT_TRUE((*in)->Subscribe(f, [o](const mqtt::Message& m) {
                       (void)o->HandleMessage(m.topic, m.payload);
                     }).ok());
  }

  mqtt::ClientOptions co;
  co.client_id = "device-dev-1";
  auto dev = mqtt::Client::Connect(io.broker, co, seconds(5));
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  ASSERT_TRUE((*dev)
                  ->Publish("weft/v1/edge/dev-1/state",
                            R"({"device":"dev-1","hardware_model":"gw-200","site":"lyon",)"
                            R"("versions":{"firmware":"1.4.0"}})",
                            1, true)
                  .ok());
  // Not an OTA topic: the subscriber filters do not match, nothing is refused or stored.
  ASSERT_TRUE((*dev)->Publish("weft/v1/edge/dev-1/other", "{}", 1, false).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto inv = o->store().ListInventory();
        return inv.ok() && inv->size() == 1 && (*inv)[0].versions.count("firmware") == 1;
      },
      std::chrono::seconds(5)));
  EXPECT_EQ(o->metrics().state_reports, 1u);
  EXPECT_EQ(o->metrics().refused_reports, 0u);
  EXPECT_EQ((*in)->stats().rejected, 0u);
  (*in)->Stop();
}

}  // namespace
}  // namespace weft::core::ota
