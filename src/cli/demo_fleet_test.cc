#include "cli/demo_fleet.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "testing/test_env.h"

namespace weft::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(DemoFleetPlanTest, TwentyFourSimulatedDevicesTwoGatewaysTwoSitesTwoModels) {
  const DemoFleetPlan p = DefaultDemoFleetPlan();
  int simulated = 0, gateways = 0;
  std::map<std::string, int> per_site, per_model;
  std::set<std::string> ids, serial_prefixes;
  for (const DemoFleetBatch& b : p.batches) {
    (b.gateway ? gateways : simulated) += b.count;
    per_site[b.site] += b.count;
    per_model[b.hardware_model] += b.count;
    serial_prefixes.insert(b.serial_prefix);
    for (int i = 1; i <= b.count; ++i) ids.insert(DemoDeviceId(b, i));
  }
  // lyon 8 + 4 + 1 gateway = 13, brno 8 + 4 + 1 = 13; edge-gw-2 8 + 4 + 1, edge-gw-3 4 + 8 + 1.
  EXPECT_EQ(simulated, 24);
  EXPECT_EQ(gateways, 2);
  EXPECT_EQ(per_site, (std::map<std::string, int>{{"brno", 13}, {"lyon", 13}}));
  EXPECT_EQ(per_model, (std::map<std::string, int>{{"edge-gw-2", 13}, {"edge-gw-3", 13}}));
  EXPECT_EQ(ids.size(), 26u);  // no id twice
  EXPECT_EQ(serial_prefixes.size(), p.batches.size());
  // The failing and the revoked devices are simulated devices of the plan, at different sites:
  // the revoked one is not among the campaigns' failures.
  for (const std::string& f : p.failing) {
    EXPECT_TRUE(ids.count(f) > 0) << f;
    EXPECT_EQ(f.rfind("brno-", 0), 0u) << f;
  }
  EXPECT_TRUE(ids.count(p.revoked) > 0);
  EXPECT_EQ(p.revoked.rfind("lyon-", 0), 0u);
  EXPECT_EQ(p.sites, (std::vector<std::string>{"lyon", "brno"}));
}

TEST(DemoFleetPlanTest, DeviceIdsMatchWeftSimFactory) {
  // weft-sim factory names devices <prefix>%04d.
  const DemoFleetBatch b{"x", "lyon", "edge-gw-2", "lyon-gw2-", "LY2-", 12, false};
  EXPECT_EQ(DemoDeviceId(b, 1), "lyon-gw2-0001");
  EXPECT_EQ(DemoDeviceId(b, 12), "lyon-gw2-0012");
}

TEST(FleetBrokerConfTest, AppendsABridgeToThePlantBroker) {
  const std::string generated =
      "per_listener_settings false\nacl_file /s/broker/acl\n\nlistener 19001 127.0.0.1\n"
      "require_certificate true";  // no final newline: one is added
  Result<std::string> c = FleetBrokerConf(generated, "127.0.0.1:1883", "weft-fleet-19001");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rfind(generated + "\n", 0), 0u) << "the core's text comes first, unchanged";
  for (const char* line :
       {"\nconnection weft-fleet-19001\n", "\naddress 127.0.0.1:1883\n",
        "\nremote_clientid weft-fleet-19001\n", "\ntopic weft/v1/edge/+/ota/status out 1\n",
        "\ntopic weft/v1/edge/+/state out 1\n", "\ntopic weft/v1/edge/+/bench out 1\n",
        "\ntopic weft/v1/edge/+/cmd/ota in 1\n"}) {
    EXPECT_NE(c->find(line), std::string::npos) << line;
  }
  // Nothing else crosses: four topic lines in all.
  size_t topics = 0;
  for (size_t p = c->find("\ntopic "); p != std::string::npos; p = c->find("\ntopic ", p + 1)) {
    ++topics;
  }
  EXPECT_EQ(topics, 4u);
}

TEST(FleetBrokerConfTest, RefusesABadPlantBrokerOrAConfWithoutListener) {
  const std::string ok = "x\nlistener 19001 127.0.0.1\n";
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":1883", "127.0.0.1:0", "127.0.0.1:70000",
                          "127.0.0.1:18x3", "127.0.0.1:-5"}) {
    Result<std::string> c = FleetBrokerConf(ok, bad, "b");
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("HOST:PORT"), std::string::npos) << bad;
  }
  Result<std::string> none = FleetBrokerConf("allow_anonymous false\n", "127.0.0.1:1883", "b");
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
}

TEST(MergeAllowlistsTest, OneHeaderEveryRowButTheExcludedDevices) {
  const std::string a =
      "serial,device_id,site,hardware_model\nLY2-000001,lyon-gw2-0001,lyon,edge-gw-2\n"
      "LY2-000002,lyon-gw2-0002,lyon,edge-gw-2\n";
  const std::string b =
      "serial,device_id,site,hardware_model\r\nBR3-000001,brno-gw3-0001,brno,edge-gw-3\r\n\r\n";
  Result<std::string> m = MergeAllowlists({a, b}, {"lyon-gw2-0002"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m,
            "serial,device_id,site,hardware_model\nLY2-000001,lyon-gw2-0001,lyon,edge-gw-2\n"
            "BR3-000001,brno-gw3-0001,brno,edge-gw-3\n");
  // Excluding by serial does nothing: the exclusion is by device id.
  Result<std::string> by_serial = MergeAllowlists({a}, {"LY2-000001"});
  ASSERT_TRUE(by_serial.ok());
  EXPECT_NE(by_serial->find("LY2-000001"), std::string::npos);
}

TEST(MergeAllowlistsTest, BadBatchesAreDataLossNamingTheBatch) {
  const std::string good = "serial,device_id,site,hardware_model\nS1,d1,lyon,gw\n";
  Result<std::string> no_header = MergeAllowlists({good, "S2,d2,lyon,gw\n"}, {});
  EXPECT_EQ(no_header.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(no_header.status().message().find("allowlist 2"), std::string::npos);
  Result<std::string> short_row =
      MergeAllowlists({"serial,device_id,site,hardware_model\nS1\n"}, {});
  EXPECT_EQ(short_row.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(MergeAllowlists({""}, {}).status().code(), StatusCode::kDataLoss);
}

TEST(ReportingDevicesTest, CountsTheAskedDevicesThatReportAFirmware) {
  const json inventory = json::parse(R"([
    {"device": "a", "versions": {"firmware": "1.0.0"}},
    {"device": "b", "versions": {}},
    {"device": "c", "versions": {"firmware": ""}},
    {"device": "d", "versions": {"firmware": "1.1.0", "model/x": "2"}},
    {"device": "e", "versions": {"firmware": "1.0.0"}},
    {"device": 7, "versions": {"firmware": "1.0.0"}},
    "junk"
  ])");
  // a and d qualify; b has no firmware, c an empty one; e was not asked for.
  EXPECT_EQ(ReportingDevices(inventory, {"a", "b", "c", "d", "z"}),
            (std::set<std::string>{"a", "d"}));
  EXPECT_TRUE(ReportingDevices(json::object(), {"a"}).empty());
}

class PrepareDemoFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    ctx_.dir = dir_->path();
    ctx_.bin = "/opt/weft/bin";
    ctx_.core_state = fs::path(dir_->path()) / "core-state";
    ctx_.plant_broker = "127.0.0.1:1883";
    // A stand-in for `weft-sim factory`: records the call, writes the allowlist it would.
    ctx_.run = [this](const std::string& name,
                      const std::vector<std::string>& argv) -> Result<int> {
      calls_.push_back({name, argv});
      for (size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "--out") {
          fs::create_directories(argv[i + 1]);
          std::ofstream(fs::path(argv[i + 1]) / "allowlist.csv")
              << "serial,device_id,site,hardware_model\n";
        }
      }
      return exit_code_;
    };
    ctx_.start = [](const std::string&, const std::vector<std::string>&) {
      return UnavailableError("nothing is started before weft-core");
    };
  }
  std::optional<weft::testing::TempDir> dir_;
  DemoFleetContext ctx_;
  std::vector<std::pair<std::string, std::vector<std::string>>> calls_;
  int exit_code_ = 0;
};

TEST_F(PrepareDemoFleetTest, MakesEveryBatchOnceFromOneManufacturerCaAndKeepsThePort) {
  Result<std::vector<std::string>> args = PrepareDemoFleet(ctx_);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  const fs::path fleet = fs::path(dir_->path()) / "fleet";
  ASSERT_EQ(args->size(), 4u);
  EXPECT_EQ((*args)[0], "--manufacturer-ca");
  EXPECT_EQ((*args)[1], (fleet / "manufacturer-ca" / "ca.pem").string());
  EXPECT_EQ((*args)[2], "--broker-listen");
  ASSERT_EQ((*args)[3].rfind("127.0.0.1:", 0), 0u);
  const int port = std::stoi((*args)[3].substr(10));
  EXPECT_GE(port, 18000);
  EXPECT_LT(port, 21000);

  const DemoFleetPlan plan = DefaultDemoFleetPlan();
  ASSERT_EQ(calls_.size(), plan.batches.size());
  for (size_t i = 0; i < calls_.size(); ++i) {
    const DemoFleetBatch& b = plan.batches[i];
    const std::vector<std::string>& argv = calls_[i].second;
    EXPECT_EQ(calls_[i].first, "fleet-factory-" + b.name);
    EXPECT_EQ(argv[0], "/opt/weft/bin/weft-sim");
    auto flag = [&](const std::string& f) {
      auto it = std::find(argv.begin(), argv.end(), f);
      return it == argv.end() || it + 1 == argv.end() ? std::string("<none>") : *(it + 1);
    };
    EXPECT_EQ(argv[1], "factory");
    EXPECT_EQ(flag("--out"), (fleet / "factory" / b.name).string());
    EXPECT_EQ(flag("--count"), std::to_string(b.count));
    EXPECT_EQ(flag("--prefix"), b.prefix);
    EXPECT_EQ(flag("--serial-prefix"), b.serial_prefix);
    EXPECT_EQ(flag("--site"), b.site);
    EXPECT_EQ(flag("--hardware-model"), b.hardware_model);
    EXPECT_EQ(flag("--manufacturer-ca"), (fleet / "manufacturer-ca").string());
  }

  // Again on the same DIR: the identities are there, the broker keeps its port.
  calls_.clear();
  Result<std::vector<std::string>> again = PrepareDemoFleet(ctx_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ((*again)[3], (*args)[3]);
}

TEST_F(PrepareDemoFleetTest, AFailedFactoryNamesItsLog) {
  exit_code_ = 3;
  Result<std::vector<std::string>> args = PrepareDemoFleet(ctx_);
  ASSERT_FALSE(args.ok());
  EXPECT_NE(args.status().message().find("fleet-factory-lyon-gw2 exited with 3"), std::string::npos)
      << args.status().message();
  EXPECT_NE(args.status().message().find("logs/fleet-factory-lyon-gw2.log"), std::string::npos);
}

TEST_F(PrepareDemoFleetTest, StartWithoutTheCoresBrokerFilesSaysHowToStartTheCore) {
  ASSERT_TRUE(PrepareDemoFleet(ctx_).ok());
  std::ostringstream out;
  Result<DemoFleetSummary> s = StartDemoFleet(
      ctx_, ApiTarget{.api = "https://127.0.0.1:1", .ca = "", .insecure = false, .token = ""},
      "admin-token", out);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("PrepareDemoFleet's arguments"), std::string::npos);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace weft::cli
