#include "fleet/device/ota_agent.h"

#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fleet/device/device_io.h"
#include "fleet/pki.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::fleet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;

Status WriteText(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return InternalError("cannot write " + path);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return Status::Ok();
}

struct Published {
  std::string subtopic;
  json payload;
  bool retain;
};

class OtaAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_.emplace(std::move(*dir));
    auto key = GenerateEd25519Key();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
  }

  OtaAgent::Options MakeOptions() {
    OtaAgent::Options o;
    o.state_dir = dir_->path() + "/ota";
    o.device_id = "dev-0001";
    o.hardware_model = "gw-200";
    o.site = "lyon";
    o.ota_public_key_pem = key_.public_pem;
    o.clock = &clock_;
    o.base_versions = {{"firmware", "1.0.0"}, {"model/bearing-wear", "1"}};
    o.publish = [this](const std::string& sub, const std::string& payload, bool retain) {
      std::lock_guard<std::mutex> lock(mu_);
      if (publish_down_) return UnavailableError("not connected");
      published_.push_back({sub, json::parse(payload), retain});
      return Status::Ok();
    };
    o.install = [this](const ArtifactManifest& m, const std::string& file) {
      installs_.push_back(m.version + "@" + *internal::ReadWholeFile(file));
      return install_result_;
    };
    o.health = [this](const ArtifactManifest& m, const OtaContext& c) {
      contexts_.push_back(c);
      if (on_health_) on_health_();
      return m.version == unhealthy_version_ ? UnavailableError("p99 9000us over budget")
                                             : Status::Ok();
    };
    o.restore = [this](const ArtifactManifest& failed,
                       const std::optional<ArtifactManifest>& previous, const std::string& file) {
      restores_.push_back(failed.version + "->" +
                          (previous ? previous->version + "@" + *internal::ReadWholeFile(file)
                                    : std::string("original")));
      return Status::Ok();
    };
    return o;
  }

  // An artifact file, its manifest and the command for it.
  std::string Command(const std::string& campaign, const std::string& kind,
                      const std::string& name, const std::string& version,
                      const std::string& content, std::vector<std::string> hw = {"gw-200"},
                      bool tamper = false) {
    const std::string file = dir_->path() + "/" + name + "-" + version + ".bin";
    EXPECT_TRUE(WriteText(file, content).ok());
    ArtifactManifest m;
    m.kind = kind;
    m.name = name;
    m.version = version;
    m.sha256 = Sha256Hex(content);
    m.size = content.size();
    m.hardware_models = std::move(hw);
    std::string manifest = ManifestJson(m);
    auto sig = SignBytes(key_.private_pem, manifest);
    EXPECT_TRUE(sig.ok());
    if (tamper) manifest.replace(manifest.find(version), version.size(), version + "9");
    return json{{"campaign", campaign},
                {"artifact", {{"manifest", manifest}, {"signature", *sig}, {"url", "file://" + file}}},
                {"health_timeout_s", 5},
                {"latency_budget_us", 2000}}
        .dump();
  }

  std::vector<std::string> States(const std::string& campaign) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& p : published_) {
      if (p.subtopic == "ota/status" && p.payload.value("campaign", "") == campaign) {
        out.push_back(p.payload.value("state", ""));
      }
    }
    return out;
  }
  json LastStatus() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = published_.rbegin(); it != published_.rend(); ++it) {
      if (it->subtopic == "ota/status") return it->payload;
    }
    return json();
  }
  json LastState() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = published_.rbegin(); it != published_.rend(); ++it) {
      if (it->subtopic == "state") {
        EXPECT_TRUE(it->retain);
        return it->payload;
      }
    }
    return json();
  }

  std::optional<TempDir> dir_;
  KeyPair key_;
  ManualClock clock_{TimeFromUnixMicros(1'790'000'000'000'000)};
  std::mutex mu_;
  std::vector<Published> published_;
  bool publish_down_ = false;
  std::vector<std::string> installs_, restores_;
  std::vector<OtaContext> contexts_;
  Status install_result_;
  std::string unhealthy_version_;
  std::function<void()> on_health_;
};

TEST_F(OtaAgentTest, InstallsVerifiedArtifactAndReportsStatusThenState) {
  auto agent = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  ASSERT_TRUE((*agent)->HandleCommand(Command("c1", "model", "bearing-wear", "2", "MODEL-V2")).ok());
  EXPECT_EQ(States("c1"), (std::vector<std::string>{"downloading", "installing", "succeeded"}));
  const json st = LastStatus();
  EXPECT_EQ(st["device"], "dev-0001");
  EXPECT_EQ(st["version"], "2");
  EXPECT_EQ(st["previous_version"], "1");
  EXPECT_EQ(st["target_version"], "2");
  EXPECT_EQ(installs_, (std::vector<std::string>{"2@MODEL-V2"}));
  ASSERT_EQ(contexts_.size(), 1u);
  EXPECT_EQ(contexts_[0].campaign, "c1");
  EXPECT_EQ(contexts_[0].health_timeout, std::chrono::seconds(5));
  EXPECT_EQ(contexts_[0].latency_budget_us, 2000);
  const json state = LastState();
  EXPECT_EQ(state["versions"]["models"]["bearing-wear"], "2");
  EXPECT_EQ(state["versions"]["firmware"], "1.0.0");
  EXPECT_EQ(state["hardware_model"], "gw-200");
  EXPECT_EQ((*agent)->Versions().at("model/bearing-wear"), "2");
  EXPECT_EQ(*internal::ReadWholeFile((*agent)->CurrentFile("model", "bearing-wear")), "MODEL-V2");

  // The same artifact again (a redelivered command): succeeded, not installed twice.
  ASSERT_TRUE((*agent)->HandleCommand(Command("c1", "model", "bearing-wear", "2", "MODEL-V2")).ok());
  EXPECT_EQ(installs_.size(), 1u);
  EXPECT_EQ(LastStatus()["state"], "succeeded");

  // Committed versions survive a restart.
  agent->reset();
  auto again = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Versions().at("model/bearing-wear"), "2");
}

TEST_F(OtaAgentTest, RefusesTamperedWrongHardwareAndWrongDigest) {
  auto agent = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)
                  ->HandleCommand(Command("c-tamper", "firmware", "fw", "2.0.0", "FW2",
                                          {"gw-200"}, /*tamper=*/true))
                  .ok());
  EXPECT_EQ(States("c-tamper"), (std::vector<std::string>{"failed"}));
  EXPECT_NE(LastStatus()["reason"].get<std::string>().find("signature"), std::string::npos);

  ASSERT_TRUE((*agent)->HandleCommand(Command("c-hw", "firmware", "fw", "2.0.0", "FW2", {"gw-100"})).ok());
  EXPECT_EQ(States("c-hw"), (std::vector<std::string>{"failed"}));
  EXPECT_NE(LastStatus()["reason"].get<std::string>().find("gw-200"), std::string::npos);
  EXPECT_EQ(LastStatus()["version"], "1.0.0");

  // The file at the URL is not what was signed.
  std::string cmd = Command("c-digest", "firmware", "fw", "2.0.0", "FW2");
  ASSERT_TRUE(WriteText(dir_->path() + "/fw-2.0.0.bin", "FWX").ok());
  ASSERT_TRUE((*agent)->HandleCommand(cmd).ok());
  EXPECT_EQ(States("c-digest"), (std::vector<std::string>{"downloading", "failed"}));
  EXPECT_NE(LastStatus()["reason"].get<std::string>().find("sha256"), std::string::npos);
  ASSERT_TRUE(WriteText(dir_->path() + "/fw-2.0.0.bin", "FW2-longer").ok());
  ASSERT_TRUE((*agent)->HandleCommand(cmd).ok());
  EXPECT_NE(LastStatus()["reason"].get<std::string>().find("size"), std::string::npos);

  EXPECT_TRUE(installs_.empty());
  EXPECT_EQ((*agent)->Versions().at("firmware"), "1.0.0");
  EXPECT_EQ((*agent)->CurrentFile("firmware", "fw"), "");
}

TEST_F(OtaAgentTest, UnhealthyUpdateRollsBackToThePreviousVersion) {
  auto agent = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->HandleCommand(Command("c1", "firmware", "fw", "1.1.0", "FW11")).ok());
  unhealthy_version_ = "1.2.0";
  ASSERT_TRUE((*agent)->HandleCommand(Command("c2", "firmware", "fw", "1.2.0", "FW12")).ok());
  EXPECT_EQ(States("c2"), (std::vector<std::string>{"downloading", "installing", "rolled_back"}));
  const json st = LastStatus();
  EXPECT_EQ(st["version"], "1.1.0");
  EXPECT_EQ(st["previous_version"], "1.1.0");
  EXPECT_EQ(st["target_version"], "1.2.0");
  EXPECT_NE(st["reason"].get<std::string>().find("over budget"), std::string::npos);
  EXPECT_EQ(restores_, (std::vector<std::string>{"1.2.0->1.1.0@FW11"}));
  EXPECT_EQ((*agent)->Versions().at("firmware"), "1.1.0");
  EXPECT_EQ(*internal::ReadWholeFile((*agent)->CurrentFile("firmware", "fw")), "FW11");
  EXPECT_EQ(LastState()["versions"]["firmware"], "1.1.0");
  EXPECT_FALSE(fs::exists(dir_->path() + "/ota/firmware/fw/trial"));

  // A failed install rolls back too; with no earlier OTA the device returns to its original.
  install_result_ = InternalError("flash write failed");
  ASSERT_TRUE((*agent)->HandleCommand(Command("c3", "model", "bearing-wear", "5", "M5")).ok());
  EXPECT_EQ(LastStatus()["state"], "rolled_back");
  EXPECT_EQ(LastStatus()["version"], "1");
  EXPECT_EQ(restores_.back(), "5->original");
  EXPECT_EQ((*agent)->CurrentFile("model", "bearing-wear"), "");
}

TEST_F(OtaAgentTest, KillDuringTrialIsRolledBackAndReportedAtStart) {
  // The trial's on-disk state is copied while the health check runs: that is what a kill -9
  // at that moment leaves behind.
  const std::string crashed = dir_->path() + "/crashed";
  {
    auto agent = OtaAgent::Start(MakeOptions());
    ASSERT_TRUE(agent.ok());
    ASSERT_TRUE((*agent)->HandleCommand(Command("c1", "edge_config", "edge.yaml", "3", "CFG3")).ok());
    on_health_ = [&] { fs::copy(dir_->path() + "/ota", crashed, fs::copy_options::recursive); };
    ASSERT_TRUE((*agent)->HandleCommand(Command("c2", "edge_config", "edge.yaml", "4", "CFG4")).ok());
    on_health_ = nullptr;
  }
  ASSERT_TRUE(fs::exists(crashed + "/edge_config/edge.yaml/trial"));
  published_.clear();
  restores_.clear();
  OtaAgent::Options o = MakeOptions();
  o.state_dir = crashed;
  auto restarted = OtaAgent::Start(std::move(o));
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_EQ(States("c2"), (std::vector<std::string>{"rolled_back"}));
  const json st = LastStatus();
  EXPECT_EQ(st["version"], "3");
  EXPECT_EQ(st["target_version"], "4");
  EXPECT_NE(st["reason"].get<std::string>().find("interrupted"), std::string::npos);
  EXPECT_EQ(restores_, (std::vector<std::string>{"4->3@CFG3"}));
  EXPECT_EQ((*restarted)->Versions().at("edge_config"), "3");
  EXPECT_FALSE(fs::exists(crashed + "/edge_config/edge.yaml/trial"));
}

TEST_F(OtaAgentTest, FinalStatusesWaitInTheOutboxWhileOffline) {
  auto agent = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(agent.ok());
  publish_down_ = true;
  ASSERT_TRUE((*agent)->HandleCommand(Command("c1", "firmware", "fw", "2.0.0", "FW2")).ok());
  EXPECT_TRUE(States("c1").empty());
  // Even across a restart.
  agent->reset();
  auto again = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(again.ok());
  publish_down_ = false;
  ASSERT_TRUE((*again)->PublishState().ok());
  EXPECT_EQ(States("c1"), (std::vector<std::string>{"succeeded"}));
  EXPECT_EQ(LastState()["versions"]["firmware"], "2.0.0");
  // Sent once only.
  ASSERT_TRUE((*again)->PublishState().ok());
  EXPECT_EQ(States("c1").size(), 1u);
}

TEST_F(OtaAgentTest, MalformedCommandsAreRefusedNamingTheField) {
  auto agent = OtaAgent::Start(MakeOptions());
  ASSERT_TRUE(agent.ok());
  Status s = (*agent)->HandleCommand(R"({"campaign":"c9","artifact":{"manifest":"{}"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("artifact.signature"), std::string::npos) << s.ToString();
  EXPECT_EQ(States("c9"), (std::vector<std::string>{"failed"}));
  EXPECT_FALSE((*agent)->HandleCommand("not json").ok());
  auto c = ParseOtaCommand(R"({"campaign":"c","artifact":{"manifest":"m","signature":"s",
      "url":"u"},"latency_budget_us":-3})");
  EXPECT_NE(c.status().message().find("latency_budget_us"), std::string::npos);
  // Unsupported URL scheme: failed, not installed.
  std::string cmd = Command("c10", "firmware", "fw", "2.0.0", "FW2");
  json j = json::parse(cmd);
  j["artifact"]["url"] = "ftp://x/fw";
  ASSERT_TRUE((*agent)->HandleCommand(j.dump()).ok());
  EXPECT_EQ(LastStatus()["state"], "failed");
  EXPECT_TRUE(installs_.empty());
}

TEST_F(OtaAgentTest, DownloadsOverHttpsTrustingTheCoreCa) {
  fs::create_directories(dir_->path() + "/pki");
  auto pki = testing::TestPki::Make(dir_->path() + "/pki");
  ASSERT_TRUE(pki.ok()) << pki.status().ToString();
  httplib::SSLServer server(pki->server_cert.c_str(), pki->server_key.c_str());
  server.Get("/api/v1/ota/artifacts/abc", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("sig") != "good") {
      res.status = 403;
      return;
    }
    res.set_content("FW3-over-https", "application/octet-stream");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  OtaAgent::Options o = MakeOptions();
  o.core_ca_file = pki->ca_cert;
  auto agent = OtaAgent::Start(std::move(o));
  ASSERT_TRUE(agent.ok());
  const std::string base = "https://127.0.0.1:" + std::to_string(port) + "/api/v1/ota/artifacts/abc";
  json j = json::parse(Command("c1", "firmware", "fw", "3.0.0", "FW3-over-https"));
  j["artifact"]["url"] = base + "?device=dev-0001&sig=bad";
  ASSERT_TRUE((*agent)->HandleCommand(j.dump()).ok());
  EXPECT_EQ(LastStatus()["state"], "failed");
  EXPECT_NE(LastStatus()["reason"].get<std::string>().find("HTTP 403"), std::string::npos);
  j["artifact"]["url"] = base + "?device=dev-0001&sig=good";
  ASSERT_TRUE((*agent)->HandleCommand(j.dump()).ok());
  EXPECT_EQ(LastStatus()["state"], "succeeded") << LastStatus().dump();
  EXPECT_EQ(installs_, (std::vector<std::string>{"3.0.0@FW3-over-https"}));
  server.stop();
  t.join();
}

}  // namespace
}  // namespace weft::fleet
