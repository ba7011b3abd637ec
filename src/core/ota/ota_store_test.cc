// The OTA store and the living registry: versions, persistence, history, latency summaries.
#include "core/ota/ota_store.h"

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "core/ota/registry.h"
#include "testing/test_env.h"

namespace weft::core::ota {
namespace {

using std::chrono::seconds;

TEST(CompareVersionsTest, NumericPartsCompareAsNumbers) {
  EXPECT_LT(CompareVersions("1.9", "1.10"), 0);
  EXPECT_GT(CompareVersions("2.0.0", "1.99.99"), 0);
  EXPECT_EQ(CompareVersions("1.4.0", "1.4.0"), 0);
  EXPECT_LT(CompareVersions("1.4", "1.4.1"), 0);
  EXPECT_LT(CompareVersions("1.4.0-rc1", "1.4.0-rc2"), 0);
  EXPECT_EQ(SplitList("a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(JoinList({"a", "b"}), "a,b");
}

class OtaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = OtaStore::Open(dir_->path() + "/ota.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  ManualClock clock_{TimeFromUnixMicros(*ParseTimestampMicros("2026-11-26T08:00:00Z"))};
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<OtaStore> store_;
};

TEST_F(OtaStoreTest, HardwareCertificationSurvivesAReopen) {
  Registry reg(store_.get(), &clock_, nullptr);
  EXPECT_FALSE(*reg.IsCertified("gw-200"));  // unknown: not certified
  ASSERT_TRUE(reg.PutHardwareModel("gw-200", true, "lab tested").ok());
  ASSERT_TRUE(reg.PutHardwareModel("gw-100", false, "").ok());
  EXPECT_FALSE(reg.PutHardwareModel("gw/200", true, "").ok());
  Reopen();
  Registry again(store_.get(), &clock_, nullptr);
  EXPECT_TRUE(*again.IsCertified("gw-200"));
  EXPECT_FALSE(*again.IsCertified("gw-100"));
  EXPECT_EQ(store_->ListHardwareModels()->size(), 2u);
}

TEST_F(OtaStoreTest, CertificationAsksTheBoardAndKeepsTheFirstReleaseTime) {
  int asked = 0;
  bool approve = false;
  Registry reg(store_.get(), &clock_, [&](std::string_view d, std::string_view s) {
    ++asked;
    EXPECT_EQ(d, "firmware_release");
    EXPECT_EQ(s, "gw-200/1.4.0");
    return approve ? Status::Ok() : FailedPreconditionError("needs approval by: security_lead");
  });
  ASSERT_TRUE(reg.AddFirmware("gw-200", "1.4.0", "fixes").ok());
  EXPECT_EQ(reg.CertifyFirmware("gw-200", "1.4.0").status().code(),
            StatusCode::kFailedPrecondition);
  approve = true;
  const TimePoint t1 = clock_.Now();
  auto f = reg.CertifyFirmware("gw-200", "1.4.0");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->status, FirmwareStatus::kCertified);
  EXPECT_EQ(f->released_at, t1);
  // Deprecated, then certified again: the release time stays the first one.
  clock_.Advance(seconds(3600));
  ASSERT_TRUE(reg.SetFirmwareStatus("gw-200", "1.4.0", FirmwareStatus::kDeprecated, "").ok());
  EXPECT_FALSE(reg.SetFirmwareStatus("gw-200", "1.4.0", FirmwareStatus::kCertified, "").ok());
  EXPECT_EQ(reg.CertifyFirmware("gw-200", "1.4.0")->released_at, t1);
  EXPECT_EQ(asked, 3);
  ASSERT_TRUE(reg.SetFirmwareStatus("gw-200", "1.4.0", FirmwareStatus::kVulnerable, "CVE").ok());
  EXPECT_EQ(reg.CertifyFirmware("gw-200", "1.4.0").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg.LatestCertified("gw-200").status().code(), StatusCode::kNotFound);
  // A null board certifies nothing.
  Registry no_board(store_.get(), &clock_, nullptr);
  ASSERT_TRUE(no_board.AddFirmware("gw-200", "1.5.0", "").ok());
  EXPECT_FALSE(no_board.CertifyFirmware("gw-200", "1.5.0").ok());
}

TEST_F(OtaStoreTest, InventoryRecordsAVersionChangeOnlyWhenTheVersionChanges) {
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(store_->PutInventory({"d1", "gw-200", "lyon", {{"firmware", "1.3.0"}}, t0}).ok());
  ASSERT_TRUE(
      store_->PutInventory({"d1", "gw-200", "lyon", {{"firmware", "1.3.0"}}, t0 + seconds(5)})
          .ok());
  ASSERT_TRUE(store_
                  ->PutInventory({"d1", "gw-200", "lyon",
                                  {{"firmware", "1.4.0"}, {"model/bearing-wear", "2"}},
                                  t0 + seconds(9)})
                  .ok());
  auto h = store_->VersionHistory("d1", "firmware");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].version, "1.3.0");
  EXPECT_EQ((*h)[1].version, "1.4.0");
  EXPECT_EQ((*h)[1].since, t0 + seconds(9));
  auto inv = store_->ListInventory();
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->size(), 1u);
  EXPECT_EQ((*inv)[0].versions.at("model/bearing-wear"), "2");
  EXPECT_EQ((*inv)[0].last_seen, t0 + seconds(9));
}

TEST_F(OtaStoreTest, LatencyKeepsTheLatestReportsAndTakesTheP99OfP99s) {
  Registry reg(store_.get(), &clock_, nullptr, /*bench_keep=*/3);
  for (int i = 0; i < 5; ++i) {  // d1: p99 100, 200, 300, 400, 500; only the latest 3 stay
    ASSERT_TRUE(reg.RecordBench({"d1", "gw-200", "m", "1", 50, 100 * (i + 1), 200,
                                 clock_.Now() + seconds(i)})
                    .ok());
  }
  ASSERT_TRUE(reg.RecordBench({"d2", "gw-200", "m", "1", 60, 350, 200, clock_.Now()}).ok());
  ASSERT_TRUE(reg.RecordBench({"d3", "gw-100", "m", "1", 60, 9000, 200, clock_.Now()}).ok());
  EXPECT_FALSE(reg.RecordBench({"d3", "gw-100", "m", "1", 600, 90, 200, clock_.Now()}).ok());
  auto l = reg.LatencyFor("gw-200", "m", "1");
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE(l->has_value());
  EXPECT_EQ((*l)->reports, 4);  // 300, 400, 500 from d1 and 350 from d2
  EXPECT_EQ((*l)->devices, 2);
  EXPECT_EQ((*l)->samples, 800);
  EXPECT_EQ((*l)->p99_us, 500);
  EXPECT_EQ((*l)->p50_us, 50);
  EXPECT_FALSE(reg.LatencyFor("gw-200", "m", "2")->has_value());
  EXPECT_EQ(reg.Latency("", "")->size(), 2u);
}

TEST_F(OtaStoreTest, CampaignIdsAreSequentialAndStatesPersist) {
  Campaign c;
  c.spec.name = "n";
  c.spec.artifact = "a";
  c.spec.latency_budget_us = 1500;
  c.created_at = clock_.Now();
  auto id1 = store_->CreateCampaign(c);
  auto id2 = store_->CreateCampaign(c);
  ASSERT_TRUE(id1.ok() && id2.ok());
  EXPECT_EQ(*id1, "c1");
  EXPECT_EQ(*id2, "c2");
  auto got = store_->GetCampaign("c2");
  ASSERT_TRUE(got.ok());
  got->state = CampaignState::kPaused;
  got->state_reason = "why";
  ASSERT_TRUE(store_->UpdateCampaign(*got).ok());
  Reopen();
  auto again = store_->GetCampaign("c2");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, CampaignState::kPaused);
  EXPECT_EQ(again->spec.latency_budget_us, 1500);
  EXPECT_EQ(store_->GetCampaign("c3").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace weft::core::ota
