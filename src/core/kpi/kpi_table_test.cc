#include "core/kpi/kpi_table.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/kpi/kpi_test_util.h"
#include "testing/test_env.h"

namespace weft::core::kpi {
namespace {

using namespace ::weft::core::kpi::testing;  // NOLINT(google-build-using-namespace)

class KpiTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    root_ = dir_->path() + "/lake";
  }
  KpiRow Make(const std::string& kpi, int64_t start, std::optional<double> value,
              const std::string& line = "l1") {
    KpiRow r;
    r.period_start_us = start;
    r.period_end_us = start + kDay;
    r.site = "s1";
    r.area = "a1";
    r.line = line;
    r.kpi = kpi;
    r.value = value;
    r.unit = "1";
    r.coverage = 0.5;
    return r;
  }
  ManualClock clock_{TimeFromUnixMicros(kMonday)};
  std::optional<weft::testing::TempDir> dir_;
  std::string root_;
};

TEST_F(KpiTableTest, MissingTableIsNotFoundWithAHint) {
  Result<std::vector<KpiRow>> rows = ReadKpiRows(root_, {}, &clock_);
  EXPECT_EQ(rows.status().code(), StatusCode::kNotFound);
  EXPECT_NE(rows.status().message().find("weft kpi compute"), std::string::npos);
}

TEST_F(KpiTableTest, RoundTripWithNullsAndDatePartition) {
  KpiRow a = Make("oee", kMonday, 0.8);
  a.shift = "early";
  a.detail = R"({"x":1})";
  KpiRow b = Make("availability", kMonday + kDay, std::nullopt);
  b.coverage = std::nullopt;
  KpiRow nan = Make("performance", kMonday, std::nan(""));  // never written as NaN
  Result<size_t> n = AppendKpiRows(root_, {a, b, nan}, "run-1", &clock_);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);
  Result<std::vector<KpiRow>> rows = ReadKpiRows(root_, {}, &clock_);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  // Ordered by period start, then scope (shift "" before "early"), then kpi: Monday's
  // performance (shift ""), Monday's oee (shift early), Tuesday's availability.
  EXPECT_EQ((*rows)[0].kpi, "performance");
  EXPECT_FALSE((*rows)[0].value);  // NaN was written as null
  EXPECT_EQ((*rows)[1].kpi, "oee");
  EXPECT_EQ((*rows)[1].shift, "early");
  EXPECT_EQ((*rows)[1].detail, R"({"x":1})");
  EXPECT_EQ((*rows)[1].value, 0.8);
  EXPECT_EQ((*rows)[1].coverage, 0.5);
  EXPECT_EQ((*rows)[1].run_id, "run-1");
  EXPECT_EQ((*rows)[1].computed_us, kMonday);
  EXPECT_EQ((*rows)[2].kpi, "availability");
  EXPECT_FALSE((*rows)[2].value);
  EXPECT_FALSE((*rows)[2].coverage);
  // The partition is the UTC day of the period start: Tuesday's row only.
  Result<std::vector<KpiRow>> tuesday =
      ReadKpiRows(root_, {.from_us = kMonday + kDay, .to_us = kMonday + 2 * kDay}, &clock_);
  ASSERT_TRUE(tuesday.ok());
  ASSERT_EQ(tuesday->size(), 1u);
  EXPECT_EQ((*tuesday)[0].kpi, "availability");
}

TEST_F(KpiTableTest, ReadersTakeTheLatestRunPerKey) {
  ASSERT_TRUE(AppendKpiRows(root_, {Make("oee", kMonday, 0.5), Make("oee", kMonday, 0.6, "l2")},
                            "run-a", &clock_)
                  .ok());
  clock_.Advance(std::chrono::minutes(1));
  // The second run recomputes l1 only.
  ASSERT_TRUE(AppendKpiRows(root_, {Make("oee", kMonday, 0.7)}, "run-b", &clock_).ok());
  Result<std::vector<KpiRow>> rows = ReadKpiRows(root_, {.kpi = "oee"}, &clock_);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].line, "l1");
  EXPECT_EQ((*rows)[0].value, 0.7);
  EXPECT_EQ((*rows)[0].run_id, "run-b");
  EXPECT_EQ((*rows)[1].line, "l2");  // no later run: its last one stays visible
  EXPECT_EQ((*rows)[1].run_id, "run-a");
  Result<std::vector<KpiRow>> every =
      ReadKpiRows(root_, {.kpi = "oee", .latest_only = false}, &clock_);
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->size(), 3u);
  // Same computed_ts: the greater run id wins.
  KpiRow x = Make("q", kMonday, 1), y = Make("q", kMonday, 2);
  x.run_id = "run-1";
  y.run_id = "run-2";
  std::vector<KpiRow> latest = LatestRuns({y, x});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].value, 2.0);
}

TEST_F(KpiTableTest, BadRowsAreRefused) {
  EXPECT_EQ(AppendKpiRows(root_, {Make("oee", kMonday, 1)}, "", &clock_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AppendKpiRows(root_, {Make("", kMonday, 1)}, "r", &clock_).status().code(),
            StatusCode::kInvalidArgument);
  KpiRow backwards = Make("oee", kMonday, 1);
  backwards.period_end_us = kMonday - 1;
  Status s = AppendKpiRows(root_, {backwards}, "r", &clock_).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ends before it starts"), std::string::npos);
  EXPECT_TRUE(NewRunId(&clock_).rfind("run-" + std::to_string(kMonday) + "-", 0) == 0);
}

}  // namespace
}  // namespace weft::core::kpi
