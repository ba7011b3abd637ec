#include "mlops/twins/twin_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

namespace weft::mlops {
namespace {

class TwinRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("weft_twin_registry_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<TwinRegistry> Open() {
    auto r = TwinRegistry::Open(dir_.string(), &clock_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }
  std::filesystem::path dir_;
  ManualClock clock_{TimeFromUnixMicros(1'767'225'600'000'000)};
};

TEST_F(TwinRegistryTest, BaseVersionHasEveryParameterAndIsRegisteredOnce) {
  auto reg = Open();
  Result<TwinVersion> base = reg->EnsureBase("motor-l1", "motor", "alice");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  EXPECT_EQ(base->version, "1.0.0");
  EXPECT_EQ(base->base_model, "motor");
  EXPECT_EQ(base->parameters.size(), 24u);
  EXPECT_DOUBLE_EQ(base->parameters.at("thermal_resistance"), 0.09);
  clock_.Advance(std::chrono::seconds(5));
  Result<TwinVersion> again = reg->EnsureBase("motor-l1", "motor", "bob");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->created_by, "alice");
  EXPECT_EQ(reg->List("motor-l1")->size(), 1u);
  Result<TwinVersion> other = reg->EnsureBase("motor-l1", "pump", "bob");
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg->EnsureBase("bad name", "motor", "x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(reg->EnsureBase("m", "moter", "x").ok());
}

TEST_F(TwinRegistryTest, VersionsGetTheNextMinorAndPersist) {
  {
    auto reg = Open();
    ASSERT_TRUE(reg->EnsureBase("motor", "motor", "alice").ok());
    NewTwinVersion v{"motor",
                     "1.0.0",
                     {{"thermal_resistance", 0.117}},
                     {{"rmse_after", {{"winding_temp", 0.3}}}},
                     {{"delta_version", 4}},
                     "alice"};
    Result<TwinVersion> v1 = reg->Register(v);
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    EXPECT_EQ(v1->version, "1.1.0");
    EXPECT_EQ(v1->parent_version, "1.0.0");
    EXPECT_EQ(v1->parameters.size(), 24u);
    EXPECT_DOUBLE_EQ(v1->parameters.at("thermal_resistance"), 0.117);
    EXPECT_EQ(reg->Register(v)->version, "1.2.0");
    v.parent_version = "1.1.0";
    EXPECT_EQ(reg->Register(v)->version, "1.3.0");
  }
  auto reg = Open();  // reopened: everything is on disk
  Result<TwinVersion> latest = reg->Latest("motor");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, "1.3.0");
  EXPECT_EQ(latest->parent_version, "1.1.0");
  Result<TwinVersion> v1 = reg->Get("motor", "1.1.0");
  ASSERT_TRUE(v1.ok());
  EXPECT_DOUBLE_EQ(v1->fit_metrics["rmse_after"]["winding_temp"].get<double>(), 0.3);
  EXPECT_EQ(v1->lineage["delta_version"].get<int>(), 4);
  EXPECT_EQ(v1->created_at, clock_.Now());
  std::vector<std::string> versions;
  Result<std::vector<TwinVersion>> all = reg->List();  // held: the loop reads into it
  ASSERT_TRUE(all.ok());
  for (const TwinVersion& v : *all) versions.push_back(v.version);
  EXPECT_EQ(versions, (std::vector<std::string>{"1.0.0", "1.1.0", "1.2.0", "1.3.0"}));
  Result<TwinVersion> missing = reg->Get("motor", "9.0.0");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("1.0.0, 1.1.0"), std::string::npos);
  EXPECT_EQ(reg->Latest("nothing").status().code(), StatusCode::kNotFound);

  auto twin = reg->MakeTwinFor("motor", "1.1.0");
  ASSERT_TRUE(twin.ok());
  for (const twin::Parameter& p : (*twin)->info().parameters) {
    if (p.name == "thermal_resistance") {
      EXPECT_DOUBLE_EQ(p.value, 0.117);
    }
  }
}

TEST_F(TwinRegistryTest, RefusesBadParametersAndUnknownParents) {
  auto reg = Open();
  ASSERT_TRUE(reg->EnsureBase("motor", "motor", "a").ok());
  NewTwinVersion v{"motor", "1.0.0", {{"thermal_resistanse", 0.1}}, {}, {}, "a"};
  Result<TwinVersion> r = reg->Register(v);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("thermal_resistanse"), std::string::npos);
  v.parameters = {{"thermal_resistance", -1}};
  EXPECT_EQ(reg->Register(v).status().code(), StatusCode::kInvalidArgument);
  v.parameters = {};
  v.parent_version = "1.5.0";
  EXPECT_EQ(reg->Register(v).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg->List("motor")->size(), 1u);  // nothing half-registered
}

TEST_F(TwinRegistryTest, MakeTwinForRegistersABuiltInBaseOnFirstUse) {
  auto reg = Open();
  auto t = reg->MakeTwinFor("pump", "1.0.0");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->info().name, "pump");
  EXPECT_TRUE(reg->Get("pump", "1.0.0").ok());
  EXPECT_EQ(reg->MakeTwinFor("pump", "1.4.0").status().code(), StatusCode::kNotFound);
}

TEST_F(TwinRegistryTest, ConcurrentRegistrationsGetDistinctVersions) {
  ASSERT_TRUE(Open()->EnsureBase("motor", "motor", "a").ok());
  constexpr int kThreads = 4, kEach = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> got(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto reg = TwinRegistry::Open(dir_.string(), &clock_);  // own connection, like a process
      ASSERT_TRUE(reg.ok());
      for (int j = 0; j < kEach; ++j) {
        NewTwinVersion v{"motor", "1.0.0", {{"iron_loss", 300.0 + i * 10 + j}}, {}, {}, "t"};
        Result<TwinVersion> r = (*reg)->Register(v);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        got[static_cast<size_t>(i)].push_back(r->version);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(Open()->Latest("motor")->version, "1.20.0");
}

TEST_F(TwinRegistryTest, CompareShowsParameterAndMetricDifferences) {
  auto reg = Open();
  ASSERT_TRUE(reg->EnsureBase("motor", "motor", "a").ok());
  NewTwinVersion v{
      "motor",
      "1.0.0",
      {{"thermal_resistance", 0.117}, {"thermal_capacitance", 21600}},
      {{"rmse_before", {{"winding_temp", 4.0}}}, {"rmse_after", {{"winding_temp", 0.3}}}},
      {},
      "a"};
  ASSERT_TRUE(reg->Register(v).ok());
  Result<TwinComparison> c = reg->Compare("motor", "1.0.0", "1.1.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->parameters.size(), 2u);
  EXPECT_EQ(c->parameters[0].name, "thermal_capacitance");
  EXPECT_DOUBLE_EQ(c->parameters[0].abs_diff, -5400);
  EXPECT_NEAR(c->parameters[0].rel_diff, -0.2, 1e-12);
  EXPECT_EQ(c->parameters[1].name, "thermal_resistance");
  EXPECT_NEAR(c->parameters[1].rel_diff, 0.3, 1e-12);
  ASSERT_EQ(c->metrics.size(), 2u);
  EXPECT_EQ(c->metrics[0].name, "rmse_after.winding_temp");  // sorted by name
  EXPECT_FALSE(c->metrics[0].a.has_value());
  EXPECT_DOUBLE_EQ(*c->metrics[0].b, 0.3);
  EXPECT_EQ(reg->Compare("motor", "1.0.0", "2.0.0").status().code(), StatusCode::kNotFound);
}

TEST(SemverTest, Parses) {
  EXPECT_EQ(*ParseSemver("1.12.3"), (std::array<int64_t, 3>{1, 12, 3}));
  EXPECT_FALSE(ParseSemver("1.2").ok());
  EXPECT_FALSE(ParseSemver("1.2.3x").ok());
  EXPECT_FALSE(ParseSemver("").ok());
}

}  // namespace
}  // namespace weft::mlops
