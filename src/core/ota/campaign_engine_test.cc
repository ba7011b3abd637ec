// The campaign engine in-process: simulated devices answer the commands it sends, time is a
// ManualClock, and every decision happens in Tick.
#include "core/ota/campaign_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/time_format.h"
#include "core/ota/ota_service.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::core::ota {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

struct Sent {
  std::string device, name, payload;
};

class CampaignEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    auto log = audit::AuditLog::Open(dir_->path() + "/audit", &clock_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = std::move(*log);
    OtaOptions o;
    o.state_dir = dir_->path() + "/state";
    o.clock = &clock_;
    o.send_command = [this](std::string_view d, std::string_view n, std::string_view p) {
      if (!send_ok_) return UnavailableError("broker down");
      sent_.push_back({std::string(d), std::string(n), std::string(p)});
      return Status::Ok();
    };
    o.approvals = [](std::string_view decision, std::string_view subject) {
      return decision == "firmware_release" && subject == "gw-200/1.4.0"
                 ? Status::Ok()
                 : FailedPreconditionError(std::string(decision) + " of '" + std::string(subject) +
                                           "' needs approval by: security_lead, ot_engineer");
    };
    o.use_case_budget = [](std::string_view model) -> std::optional<int64_t> {
      if (model == "bearing-wear") return 2000;
      return std::nullopt;
    };
    o.audit = audit_.get();
    o.download_base_url = "https://core.test:8443";
    auto ota = OtaService::Open(std::move(o));
    ASSERT_TRUE(ota.ok()) << ota.status().ToString();
    ota_ = std::move(*ota);
  }

  static std::string Id(int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "dev-%03d", i);
    return buf;
  }

  void ReportState(const std::string& device, const std::string& hw, const std::string& site,
                   const std::string& firmware) {
    json s = {{"device", device},
              {"hardware_model", hw},
              {"site", site},
              {"versions", {{"firmware", firmware}, {"models", {{"bearing-wear", "2"}}}}},
              {"ts", FormatTimestampMicros(UnixMicros(clock_.Now()))}};
    Status st = ota_->HandleMessage("weft/v1/edge/" + device + "/state", s.dump());
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void Reply(const std::string& campaign, const std::string& device, const std::string& state,
             const std::string& version, const std::string& previous) {
    json r = {{"campaign", campaign},
              {"device", device},
              {"state", state},
              {"version", version},
              {"previous_version", previous},
              {"target_version", "1.4.0"},
              {"reason", state == "succeeded" ? "" : "health check failed"}};
    Status st = ota_->HandleMessage("weft/v1/edge/" + device + "/ota/status", r.dump());
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string UploadFirmware(bool certify) {
    auto a = ota_->artifacts().Put({"firmware", "gw-fw", "1.4.0", {"gw-200"}},
                                   "firmware image 1.4.0", "alice");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_TRUE(ota_->registry().AddFirmware("gw-200", "1.4.0", "").ok());
    if (certify) {
      auto c = ota_->registry().CertifyFirmware("gw-200", "1.4.0");
      EXPECT_TRUE(c.ok()) << c.status().ToString();
    }
    return a.ok() ? a->sha256 : "";
  }

  Campaign Current(const std::string& id) {
    auto c = ota_->store().GetCampaign(id);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : Campaign{};
  }

  std::map<std::string, CampaignDevice> Devices(const std::string& id) {
    std::map<std::string, CampaignDevice> out;
    auto all = ota_->store().ListCampaignDevices(id);
    EXPECT_TRUE(all.ok());
    for (auto& d : *all) out[d.device] = d;
    return out;
  }

  std::string AuditText() {
    std::ifstream in(dir_->path() + "/audit/audit.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  ManualClock clock_{TimeFromUnixMicros(*ParseTimestampMicros("2026-11-26T08:00:00Z"))};
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<OtaService> ota_;
  std::vector<Sent> sent_;
  bool send_ok_ = true;
};

TEST(WaveSizesTest, CumulativeCountsAndPercentages) {
  auto w = WaveSizes({"1", "10%", "50%", "100%"}, 200);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (std::vector<size_t>{1, 20, 100, 200}));
  EXPECT_EQ(*WaveSizes({"1", "10%", "100%"}, 3), (std::vector<size_t>{1, 1, 3}));
  EXPECT_FALSE(WaveSizes({"10%", "50%"}, 10).ok());  // must end at 100%
  EXPECT_FALSE(WaveSizes({"50%", "10%", "100%"}, 10).ok());
  EXPECT_FALSE(WaveSizes({"0", "100%"}, 10).ok());
  EXPECT_FALSE(WaveSizes({"x%", "100%"}, 10).ok());
}

TEST(ParseCampaignSpecTest, FieldsAndErrors) {
  auto s = ParseCampaignSpec(json::parse(R"({"name":"fw 1.4","artifact":"abc",
      "target":{"sites":["lyon"],"hardware_models":["gw-200"]},"waves":[1,"10%","100%"],
      "success_threshold":0.9,"error_threshold":0.1,"device_timeout_s":600})"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->waves, (std::vector<std::string>{"1", "10%", "100%"}));
  EXPECT_EQ(s->sites, std::vector<std::string>{"lyon"});
  EXPECT_DOUBLE_EQ(s->error_threshold, 0.1);
  EXPECT_EQ(s->device_timeout_s, 600);
  auto bad = ParseCampaignSpec(json::parse(R"({"name":"x","artifact":"a","wave":[1]})"));
  EXPECT_NE(bad.status().message().find("unknown field 'wave'"), std::string::npos);
  bad = ParseCampaignSpec(json::parse(R"({"name":"x","artifact":"a","error_threshold":2})"));
  EXPECT_NE(bad.status().message().find("error_threshold"), std::string::npos);
}

// The acceptance scenario: 200 devices, 20% of them failing (half refuse, half roll back), waves
// 1 / 10% / 50% / 100%. Wave 3 (80 devices) holds most failures: the campaign pauses the moment
// its 16th failure (20% of 80) is recorded, and wave 4 is never sent.
TEST_F(CampaignEngineTest, TwoHundredDevicesWithTwentyPercentFailuresPauseAtTheErrorThreshold) {
  for (int i = 0; i < 200; ++i) ReportState(Id(i), "gw-200", i % 2 ? "lyon" : "paris", "1.3.0");
  ReportState("other-hw", "gw-100", "lyon", "0.9");  // not a target: another hardware model
  const std::string sha = UploadFirmware(/*certify=*/true);

  CampaignSpec spec;
  spec.name = "gw-200 firmware 1.4.0";
  spec.artifact = sha;
  spec.waves = {"1", "10%", "50%", "100%"};
  spec.success_threshold = 0.8;
  spec.error_threshold = 0.2;
  spec.device_timeout_s = 3600;
  auto created = ota_->engine().Create(spec, "alice");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string id = created->id;
  EXPECT_EQ(id, "c1");
  auto started = ota_->engine().Start(id, "alice");
  ASSERT_TRUE(started.ok()) << started.status().ToString();

  // Wave 1: the canary got the command at once, signed and with a URL for it only.
  ASSERT_EQ(sent_.size(), 1u);
  auto devices = Devices(id);
  ASSERT_EQ(devices.size(), 200u);
  EXPECT_EQ(devices.count("other-hw"), 0u);
  std::vector<std::vector<std::string>> waves(4);
  for (const auto& [d, cd] : devices) waves[static_cast<size_t>(cd.wave)].push_back(d);
  EXPECT_EQ(waves[0].size(), 1u);
  EXPECT_EQ(waves[1].size(), 19u);
  EXPECT_EQ(waves[2].size(), 80u);
  EXPECT_EQ(waves[3].size(), 100u);
  EXPECT_EQ(sent_[0].device, waves[0][0]);
  EXPECT_EQ(sent_[0].name, "ota");
  const json cmd = json::parse(sent_[0].payload);
  EXPECT_EQ(cmd["campaign"], id);
  const std::string manifest = cmd["artifact"]["manifest"];
  EXPECT_TRUE(fleet::VerifyBytes(ota_->ota_public_key(), manifest,
                                 cmd["artifact"]["signature"].get<std::string>())
                  .ok());
  EXPECT_EQ(fleet::ParseManifest(manifest)->sha256, sha);
  const std::string url = cmd["artifact"]["url"];
  EXPECT_EQ(url.rfind("https://core.test:8443/api/v1/ota/artifacts/" + sha +
                          "?device=" + waves[0][0] + "&expires=",
                      0),
            0u)
      << url;

  // The failing 20%: 2 devices of wave 2 (under both thresholds), 38 of wave 3.
  std::set<std::string> failing(waves[1].begin(), waves[1].begin() + 2);
  failing.insert(waves[2].begin(), waves[2].begin() + 38);
  ASSERT_EQ(failing.size(), 40u);
  int failures = 0;
  auto answer = [&](const std::string& d) {
    if (failing.count(d) == 0) {
      Reply(id, d, "succeeded", "1.4.0", "1.3.0");
      ReportState(d, "gw-200", "lyon", "1.4.0");
    } else if (failures++ % 2 == 0) {
      Reply(id, d, "rolled_back", "1.3.0", "1.3.0");  // installed, unhealthy, restored
    } else {
      Reply(id, d, "failed", "1.3.0", "1.3.0");  // refused before install
    }
  };

  Reply(id, waves[0][0], "downloading", "1.3.0", "1.3.0");
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(sent_.size(), 1u);  // not final: wave 2 waits
  answer(waves[0][0]);
  clock_.Advance(seconds(10));
  // weft-core learns its API's port after binding: later commands name it.
  ota_->engine().SetDownloadBaseUrl("https://127.0.0.1:40001");
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(sent_.size(), 20u);  // wave 2 sent
  EXPECT_EQ(json::parse(sent_.back().payload)["artifact"]["url"].get<std::string>().rfind(
                "https://127.0.0.1:40001/api/v1/ota/artifacts/" + sha, 0),
            0u);
  EXPECT_EQ(Current(id).current_wave, 1);

  for (const std::string& d : waves[1]) answer(d);
  clock_.Advance(seconds(10));
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(sent_.size(), 100u);  // 17 of 19 succeeded >= 80%: wave 3 sent
  EXPECT_EQ(Current(id).state, CampaignState::kRunning);

  // Wave 3, one reply per tick: failures 1..15 keep it running, the 16th pauses it.
  int wave3_failures = 0;
  for (size_t k = 0; k < waves[2].size(); ++k) {
    // Interleave: a success, then a failure, so the count grows one by one.
    const std::string& d = waves[2][k % 2 == 0 ? 38 + k / 2 : k / 2];
    answer(d);
    if (failing.count(d)) ++wave3_failures;
    clock_.Advance(seconds(1));
    ASSERT_TRUE(ota_->engine().Tick().ok());
    if (wave3_failures < 16) {
      ASSERT_EQ(Current(id).state, CampaignState::kRunning) << "after " << wave3_failures;
    } else {
      break;
    }
  }
  const Campaign paused = Current(id);
  ASSERT_EQ(paused.state, CampaignState::kPaused);
  EXPECT_EQ(paused.current_wave, 2);
  EXPECT_EQ(paused.state_reason,
            "wave 3 of 4: 16 of 80 devices failed (20%), at or over the error threshold of 20%");
  EXPECT_EQ(sent_.size(), 100u);  // wave 4 never sent
  for (const std::string& d : waves[3]) EXPECT_EQ(Devices(id)[d].state, "pending");
  const std::string audit = AuditText();
  EXPECT_NE(audit.find("\"action\":\"ota.campaign.pause\""), std::string::npos);
  EXPECT_NE(audit.find("16 of 80 devices failed"), std::string::npos);

  // A paused campaign sends nothing, even as replies keep arriving.
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(sent_.size(), 100u);

  // Rolled-back devices report the previous version.
  int rolled_back = 0;
  for (const auto& [d, cd] : Devices(id)) {
    if (cd.state != "rolled_back") continue;
    ++rolled_back;
    EXPECT_EQ(cd.version, "1.3.0");
    EXPECT_EQ(cd.version, cd.previous_version);
  }
  EXPECT_GT(rolled_back, 0);

  // The operator resumes: wave 3's thresholds are waived; once all of it is final, wave 4 goes.
  ASSERT_TRUE(ota_->engine().Resume(id, "otto").ok());
  for (const std::string& d : waves[2]) {
    if (!IsFinalDeviceState(Devices(id)[d].state)) answer(d);
  }
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(sent_.size(), 200u);
  for (const std::string& d : waves[3]) answer(d);
  ASSERT_TRUE(ota_->engine().Tick().ok());
  const Campaign done = Current(id);
  EXPECT_EQ(done.state, CampaignState::kFinished);
  EXPECT_EQ(done.state_reason, "160 of 200 devices succeeded, 40 failed");
  auto describe = ota_->engine().Describe(id, false);
  ASSERT_TRUE(describe.ok());
  EXPECT_EQ((*describe)["totals"]["succeeded"], 160);
  EXPECT_EQ((*describe)["wave_progress"][2]["devices"], 80);
}

TEST_F(CampaignEngineTest, SilentDevicesTimeOutAndPauseTheCampaign) {
  for (int i = 0; i < 3; ++i) ReportState(Id(i), "gw-200", "lyon", "1.3.0");
  CampaignSpec spec;
  spec.name = "t";
  spec.artifact = UploadFirmware(true);
  spec.device_timeout_s = 60;
  spec.error_threshold = 0.5;
  auto c = ota_->engine().Create(spec, "alice");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(ota_->engine().Start(c->id, "alice").ok());
  EXPECT_EQ(sent_.size(), 3u);
  Reply(c->id, Id(0), "succeeded", "1.4.0", "1.3.0");
  clock_.Advance(seconds(60));
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(Current(c->id).state, CampaignState::kRunning);  // not yet over the timeout
  clock_.Advance(seconds(1));
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(Current(c->id).state, CampaignState::kPaused);
  EXPECT_EQ(Devices(c->id)[Id(1)].state, "timed_out");
  EXPECT_EQ(Devices(c->id)[Id(0)].state, "succeeded");
  // A late final report does not overwrite timed_out (final is final).
  Reply(c->id, Id(1), "succeeded", "1.4.0", "1.3.0");
  EXPECT_EQ(Devices(c->id)[Id(1)].state, "timed_out");
}

TEST_F(CampaignEngineTest, CommandsThatCannotBeSentStayPendingAndCancelDropsThem) {
  for (int i = 0; i < 4; ++i) ReportState(Id(i), "gw-200", i < 2 ? "lyon" : "paris", "1.3.0");
  CampaignSpec spec;
  spec.name = "lyon only";
  spec.artifact = UploadFirmware(true);
  spec.sites = {"lyon"};
  auto c = ota_->engine().Create(spec, "alice");
  ASSERT_TRUE(c.ok());
  send_ok_ = false;
  ASSERT_TRUE(ota_->engine().Start(c->id, "alice").ok());
  auto devices = Devices(c->id);
  ASSERT_EQ(devices.size(), 2u);  // only lyon
  EXPECT_EQ(devices[Id(0)].state, "pending");
  EXPECT_NE(devices[Id(0)].reason.find("broker down"), std::string::npos);
  send_ok_ = true;
  ASSERT_TRUE(ota_->engine().Tick().ok());
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_EQ(Devices(c->id)[Id(1)].state, "sent");
  auto cancelled = ota_->engine().Cancel(c->id, "alice");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, CampaignState::kCancelled);
  EXPECT_FALSE(ota_->engine().Start(c->id, "alice").ok());
}

TEST_F(CampaignEngineTest, FirmwareMustBeCertifiedThroughTheBoard) {
  ReportState(Id(0), "gw-200", "lyon", "1.3.0");
  const std::string sha = UploadFirmware(/*certify=*/false);
  CampaignSpec spec;
  spec.name = "early";
  spec.artifact = sha;
  auto c = ota_->engine().Create(spec, "alice");
  ASSERT_TRUE(c.ok());
  auto s = ota_->engine().Start(c->id, "alice");
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("gw-200/1.4.0 is candidate, not certified"),
            std::string::npos)
      << s.status().message();
  // The board refuses another version: the refusal names the missing roles.
  ASSERT_TRUE(ota_->registry().AddFirmware("gw-200", "1.5.0", "").ok());
  auto refused = ota_->registry().CertifyFirmware("gw-200", "1.5.0");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("security_lead"), std::string::npos);
  EXPECT_EQ(ota_->store().GetFirmware("gw-200", "1.5.0")->status, FirmwareStatus::kCandidate);
}

TEST_F(CampaignEngineTest, AModelCampaignIsRefusedWhereItsP99ExceedsTheBudget) {
  auto a = ota_->artifacts().Put({"model", "bearing-wear", "3", {"gw-100", "gw-200"}},
                                 "tree model bytes", "alice");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto bench = [&](const std::string& dev, const std::string& hw, int p99) {
    json b = {{"device", dev},        {"hardware_model", hw}, {"model", "bearing-wear"},
              {"model_version", "3"}, {"p50_us", p99 / 3},    {"p99_us", p99},
              {"samples", 200}};
    ASSERT_TRUE(ota_->HandleMessage("weft/v1/edge/" + dev + "/bench", b.dump()).ok());
  };
  bench("a1", "gw-100", 2600);
  bench("a2", "gw-100", 3100);
  bench("b1", "gw-200", 900);
  CampaignSpec spec;
  spec.name = "model 3";
  spec.artifact = a->sha256;
  auto c = ota_->engine().Create(spec, "alice");  // the use case's budget: 2000 us
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("hardware model 'gw-100'"), std::string::npos);
  EXPECT_NE(c.status().message().find("p99 of 3100 us"), std::string::npos);
  EXPECT_NE(c.status().message().find("latency budget of 2000 us"), std::string::npos)
      << c.status().message();
  // The campaign's own budget wins over the use case's.
  spec.latency_budget_us = 4000;
  EXPECT_TRUE(ota_->engine().Create(spec, "alice").ok());
  // Targeting only gw-200 (p99 900 us) passes the use case's budget.
  spec.latency_budget_us.reset();
  spec.hardware_models = {"gw-200"};
  auto ok = ota_->engine().Create(spec, "alice");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ReportState("b1", "gw-200", "lyon", "1.3.0");
  ASSERT_TRUE(ota_->engine().Start(ok->id, "alice").ok());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(json::parse(sent_[0].payload)["latency_budget_us"], 2000);
}

TEST_F(CampaignEngineTest, ReportsForAnotherDeviceOrUnknownCampaignsAreRefused) {
  ReportState(Id(0), "gw-200", "lyon", "1.3.0");
  json r = {{"campaign", "c9"}, {"device", Id(1)}, {"state", "succeeded"}};
  EXPECT_EQ(ota_->HandleMessage("weft/v1/edge/" + Id(0) + "/ota/status", r.dump()).code(),
            StatusCode::kInvalidArgument);
  r["device"] = Id(0);
  EXPECT_EQ(ota_->HandleMessage("weft/v1/edge/" + Id(0) + "/ota/status", r.dump()).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ota_->HandleMessage("weft/v1/edge/" + Id(0) + "/state", "{not json").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ota_->metrics().refused_reports, 3u);
}

}  // namespace
}  // namespace weft::core::ota
