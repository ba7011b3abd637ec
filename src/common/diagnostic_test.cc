#include "common/diagnostic.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Diagnostics, FormatsPlaceFieldMessageAndKind) {
  Diagnostics d;
  d.Error("unknown_asset_type", {"plant.yaml", 12, 15}, "sites[0].type", "unknown type 'x'");
  d.Warning("no_assumptions", {"plant.yaml", 3, 0}, "", "no assumptions");
  EXPECT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.warning_count(), 1u);
  EXPECT_EQ(d.all()[0].ToString(),
            "plant.yaml:12:15: error: sites[0].type: unknown type 'x' [unknown_asset_type]");
  EXPECT_EQ(d.all()[1].ToString(), "plant.yaml:3: warning: no assumptions [no_assumptions]");
  EXPECT_NE(d.ToString().find("1 error, 1 warning"), std::string::npos);
}

TEST(Diagnostics, StatusSummarisesTheFirstError) {
  Diagnostics d;
  EXPECT_TRUE(d.ToStatus("plant.yaml").ok());
  d.Warning("w", {"f", 1, 1}, "", "just a warning");
  EXPECT_TRUE(d.ToStatus("plant.yaml").ok());
  d.Error("k", {"f", 2, 3}, "a.b", "bad");
  d.Error("k", {"f", 4, 5}, "a.c", "worse");
  Status s = d.ToStatus("plant.yaml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("plant.yaml: 2 errors (first: f:2:3: error: a.b: bad [k])"),
            std::string::npos)
      << s.message();
}

TEST(Diagnostics, StopsRecordingButKeepsCounting) {
  Diagnostics d;
  for (size_t i = 0; i < Diagnostics::kMaxRecorded + 5; ++i) d.Error("k", {}, "", "e");
  EXPECT_EQ(d.all().size(), Diagnostics::kMaxRecorded);
  EXPECT_EQ(d.error_count(), Diagnostics::kMaxRecorded + 5);
  EXPECT_NE(d.ToString().find("... 5 more not shown"), std::string::npos);
}

TEST(Diagnostics, SortByLocationReadsLikeTheFile) {
  Diagnostics d;
  d.Error("a", {"f", 9, 1}, "", "third");
  d.Error("b", {"f", 2, 5}, "", "second");
  d.Error("c", {"f", 2, 1}, "", "first");
  d.Error("d", {"f", 2, 5}, "", "second, found later");
  d.SortByLocation();
  std::vector<std::string> order;
  for (const auto& x : d.all()) order.push_back(x.message);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "second, found later", "third"}));
}

TEST(Diagnostics, ErrorsSinceReportsOnlyTheNewErrors) {
  Diagnostics d;
  d.Error("old", {"a.yaml", 1, 1}, "x", "before the mark");
  const Diagnostics::Mark mark = d.mark();
  EXPECT_TRUE(d.ErrorsSince(mark, "b.yaml").ok());
  d.Warning("w", {"b.yaml", 2, 1}, "y", "a warning is not an error");
  d.Error("bad_value", {"b.yaml", 3, 5}, "views.v.period", "period must be positive");
  Status s = d.ErrorsSince(mark, "b.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("b.yaml: 1 error\n"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("b.yaml:3:5"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("before the mark"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("a warning"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace weft
