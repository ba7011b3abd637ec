#include "sim/fleet_sim.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fleet/pki.h"
#include "testing/test_env.h"

namespace weft::sim {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

const TimePoint kNow = TimeFromUnixMicros(1'790'000'000'000'000);  // 2026-09

TEST(FleetFactoryTest, MakesIdentitiesTheAllowlistAndReusesThem) {
  auto tmp = weft::testing::TempDir::Make();
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();
  ManualClock clock(kNow);
  FactoryOptions o;
  o.out_dir = tmp->path() + "/factory";
  o.count = 12;
  o.prefix = "gw-";
  auto devices = MakeFactory(o, clock);
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  ASSERT_EQ(devices->size(), 12u);
  EXPECT_EQ((*devices)[0].serial, "SN-000001");
  EXPECT_EQ((*devices)[11].device_id, "gw-0012");

  std::string ca = Slurp(o.out_dir + "/manufacturer-ca/ca.pem");
  ASSERT_NE(ca.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(fs::status(o.out_dir + "/manufacturer-ca/ca.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  std::set<std::string> cert_serials;
  for (const auto& d : *devices) {
    auto info = fleet::VerifyCert(Slurp(d.dir + "/factory.pem"), ca, kNow);
    ASSERT_TRUE(info.ok()) << d.serial << ": " << info.status().ToString();
    EXPECT_EQ(info->subject.common_name, d.serial);
    EXPECT_EQ(info->subject.serial_number, d.serial);
    EXPECT_EQ(info->subject.organizational_unit, "edge-gw-2");
    EXPECT_EQ(info->subject.organization, "Weft Devices");
    cert_serials.insert(info->serial_hex);
    EXPECT_EQ(fs::status(d.dir + "/factory.key").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    // The key is the certificate's: a CSR made with it carries the certificate's public key.
    fleet::Subject cn;
    cn.common_name = d.serial;
    auto csr = fleet::MakeCsr(Slurp(d.dir + "/factory.key"), cn);
    ASSERT_TRUE(csr.ok()) << csr.status().ToString();
    auto csr_info = fleet::ParseCsr(*csr);
    ASSERT_TRUE(csr_info.ok());
    EXPECT_EQ(csr_info->public_key_pem, info->public_key_pem);
  }
  EXPECT_EQ(cert_serials.size(), 12u);

  std::string csv = Slurp(o.out_dir + "/allowlist.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "serial,device_id,site,hardware_model");
  EXPECT_NE(csv.find("\nSN-000003,gw-0003,lyon,edge-gw-2\n"), std::string::npos);
  auto rows = ReadAllowlist(o.out_dir + "/allowlist.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 12u);
  EXPECT_EQ((*rows)[4].device_id, "gw-0005");
  EXPECT_EQ((*rows)[4].dir, o.out_dir + "/SN-000005");

  // Again, with more devices: the first twelve are kept byte for byte, three are added.
  std::string first_cert = Slurp((*devices)[0].dir + "/factory.pem");
  std::string first_ca = ca;
  o.count = 15;
  auto again = MakeFactory(o, clock);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->size(), 15u);
  EXPECT_EQ(Slurp((*again)[0].dir + "/factory.pem"), first_cert);
  EXPECT_EQ(Slurp(o.out_dir + "/manufacturer-ca/ca.pem"), first_ca);
  EXPECT_TRUE(fleet::VerifyCert(Slurp((*again)[14].dir + "/factory.pem"), ca, kNow).ok());

  // A damaged identity is made again.
  std::ofstream((*again)[1].dir + "/factory.pem", std::ios::trunc) << "garbage";
  ASSERT_TRUE(MakeFactory(o, clock).ok());
  EXPECT_TRUE(fleet::VerifyCert(Slurp((*again)[1].dir + "/factory.pem"), ca, kNow).ok());
}

TEST(FleetFactoryTest, SharedManufacturerCaAndUnlistedIdentities) {
  auto tmp = weft::testing::TempDir::Make();
  ASSERT_TRUE(tmp.ok());
  ManualClock clock(kNow);
  std::string ca_dir = tmp->path() + "/mca";
  FactoryOptions a;
  a.out_dir = tmp->path() + "/a";
  a.count = 2;
  a.manufacturer_ca_dir = ca_dir;
  ASSERT_TRUE(MakeFactory(a, clock).ok());
  // A second batch from the same manufacturer CA, kept off the first batch's allowlist.
  FactoryOptions ob = a;
  ob.out_dir = tmp->path() + "/b";
  ob.count = 1;
  ob.serial_prefix = "XX-";
  auto b = MakeFactory(ob, clock);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(
      fleet::VerifyCert(Slurp((*b)[0].dir + "/factory.pem"), Slurp(ca_dir + "/ca.pem"), kNow).ok());
  fs::rename((*b)[0].dir, tmp->path() + "/a/XX-000001");

  auto listed = ListFactory(tmp->path() + "/a");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].serial, "SN-000001");
  EXPECT_EQ((*listed)[0].device_id, "dev-0001");
  EXPECT_EQ((*listed)[2].serial, "XX-000001");
  EXPECT_EQ((*listed)[2].device_id, "") << "not on the allowlist: no device id";
  EXPECT_FALSE(fs::exists(tmp->path() + "/a/manufacturer-ca")) << "the shared CA dir was used";
}

TEST(FleetFactoryTest, RefusesBadOptions) {
  auto tmp = weft::testing::TempDir::Make();
  ASSERT_TRUE(tmp.ok());
  ManualClock clock(kNow);
  FactoryOptions o;
  o.out_dir = tmp->path();
  o.count = 1;
  o.prefix = "dev/";
  auto bad_prefix = MakeFactory(o, clock);
  EXPECT_EQ(bad_prefix.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_prefix.status().message().find("--prefix"), std::string::npos);
  o.prefix = "dev-";
  o.count = 0;
  EXPECT_EQ(MakeFactory(o, clock).status().code(), StatusCode::kInvalidArgument);
  o.count = 1;
  o.site = "a,b";
  EXPECT_EQ(MakeFactory(o, clock).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(tmp->path() + "/allowlist.csv"));
  std::ofstream(tmp->path() + "/bad.csv") << "serial,device_id,site,hardware_model\nSN-1,dev-1\n";
  auto rows = ReadAllowlist(tmp->path() + "/bad.csv");
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("bad.csv:2"), std::string::npos)
      << rows.status().message();
}

TEST(FleetFactoryTest, FailingDevicesAreStableForASeed) {
  std::vector<FactoryDevice> devices;
  for (int i = 1; i <= 1000; ++i) {
    FactoryDevice d;
    d.serial = "SN-" + std::to_string(i);
    d.device_id = "dev-" + std::to_string(i);
    devices.push_back(d);
  }
  auto a = ChooseFailingDevices(devices, 0.25, {}, 7);
  auto b = ChooseFailingDevices(devices, 0.25, {}, 7);
  auto c = ChooseFailingDevices(devices, 0.25, {}, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(a.size(), 200u);
  EXPECT_LT(a.size(), 300u);
  EXPECT_TRUE(ChooseFailingDevices(devices, 0, {}, 7).empty());
  EXPECT_EQ(ChooseFailingDevices(devices, 1, {}, 7).size(), 1000u);
  auto named = ChooseFailingDevices(devices, 0.5, {"dev-3", "SN-9", "nobody"}, 7);
  EXPECT_EQ(named, (std::set<std::string>{"dev-3", "dev-9"}));
}

int RunMain(int (*main_fn)(int, const char* const*, std::ostream&, std::ostream&),
        std::vector<std::string> args, std::string* err_text = nullptr) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int rc = main_fn(static_cast<int>(argv.size()), argv.data(), out, err);
  if (err_text) *err_text = err.str();
  return rc;
}

TEST(FleetCommandLineTest, UsageErrorsExitTwo) {
  auto tmp = weft::testing::TempDir::Make();
  ASSERT_TRUE(tmp.ok());
  std::string err;
  EXPECT_EQ(RunMain(FactoryMain, {"factory", "--count", "3"}, &err), 2);  // no --out
  EXPECT_EQ(RunMain(FactoryMain, {"factory", "--out", tmp->path(), "--count", "0"}, &err), 2);
  EXPECT_NE(err.find("--count"), std::string::npos) << err;
  ASSERT_EQ(RunMain(FactoryMain, {"factory", "--out", tmp->path() + "/f", "--count", "2"}, &err), 0)
      << err;
  EXPECT_TRUE(fs::exists(tmp->path() + "/f/SN-000002/factory.pem"));

  std::ofstream(tmp->path() + "/ca.pem") << "-----BEGIN CERTIFICATE-----\n";
  const std::vector<std::string> base = {"fleet", "--core-ca", tmp->path() + "/ca.pem",
                                         "--factory", tmp->path() + "/f", "--state",
                                         tmp->path() + "/s"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  EXPECT_EQ(RunMain(FleetMain, with({"--core", "http://127.0.0.1:1"}), &err), 2);
  EXPECT_NE(err.find("https://"), std::string::npos) << err;
  EXPECT_EQ(RunMain(FleetMain, with({"--core", "https://127.0.0.1:1", "--fail-health", "1.5"}), &err),
            2);
  EXPECT_EQ(RunMain(FleetMain, with({"--core", "https://127.0.0.1:1", "--fail-health", "0.1",
                                 "--fail-devices", "dev-0001"}),
                &err),
            2)
      << "--fail-health and --fail-devices exclude each other";
  EXPECT_EQ(RunMain(FleetMain, {"fleet", "--core", "https://127.0.0.1:1", "--core-ca",
                            tmp->path() + "/ca.pem", "--factory", tmp->path() + "/none",
                            "--state", tmp->path() + "/s"},
                &err),
            2);
  EXPECT_NE(err.find("--factory"), std::string::npos) << err;
}

// Nobody listens on the core's port: every device fails after its attempts, the report says
// why, and the exit code is 1.
TEST(FleetCommandLineTest, UnreachableCoreIsReportedPerDevice) {
  auto tmp = weft::testing::TempDir::Make();
  ASSERT_TRUE(tmp.ok());
  ASSERT_EQ(RunMain(FactoryMain, {"factory", "--out", tmp->path() + "/f", "--count", "3"}), 0);
  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  std::ofstream(tmp->path() + "/ca.pem") << Slurp(tmp->path() + "/f/manufacturer-ca/ca.pem");
  std::string err;
  int rc = RunMain(FleetMain,
               {"fleet", "--core", "https://127.0.0.1:" + std::to_string(*port), "--core-ca",
                tmp->path() + "/ca.pem", "--factory", tmp->path() + "/f", "--state",
                tmp->path() + "/s", "--devices", "2", "--max-attempts", "1", "--timeout", "2",
                "--report", tmp->path() + "/report.json"},
               &err);
  EXPECT_EQ(rc, 1) << err;
  std::string report = Slurp(tmp->path() + "/report.json");
  EXPECT_NE(report.find("\"devices_total\": 2"), std::string::npos) << report;
  EXPECT_NE(report.find("\"provisioned\": 0"), std::string::npos) << report;
  EXPECT_NE(report.find("SN-000002"), std::string::npos);
  EXPECT_EQ(report.find("SN-000003"), std::string::npos) << "--devices 2";
  EXPECT_NE(report.find("unavailable"), std::string::npos) << report;
  // The device's factory partition: links to the identity and the core's CA.
  EXPECT_TRUE(fs::is_symlink(tmp->path() + "/s/SN-000001/factory/factory.key"));
  EXPECT_EQ(Slurp(tmp->path() + "/s/SN-000001/factory/core-ca.pem"),
            Slurp(tmp->path() + "/ca.pem"));
}

}  // namespace
}  // namespace weft::sim
