#include "common/strings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace weft {
namespace {

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(EditDistance("motor", "motor"), 0u);
  EXPECT_EQ(EditDistance("moter", "motor"), 1u);
  EXPECT_EQ(EditDistance("pmup", "pump"), 1u);  // a swap of neighbours is one edit
  EXPECT_EQ(EditDistance("nmae", "name"), 1u);
  EXPECT_EQ(EditDistance("abc", "ca"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("KWH", "kWh"), 0u);  // case-insensitive
}

TEST(ClosestMatch, SuggestsOnlyPlausibleTypos) {
  std::vector<std::string> types = {"motor", "pump", "compressor", "conveyor", "hvac_zone"};
  EXPECT_EQ(ClosestMatch("moter", types), "motor");
  EXPECT_EQ(ClosestMatch("compresor", types), "compressor");
  EXPECT_EQ(ClosestMatch("pmup", types), "pump");
  EXPECT_EQ(ClosestMatch("turbine", types), "");
  EXPECT_EQ(ClosestMatch("x", {}), "");
}

TEST(Join, Separates) {
  EXPECT_EQ(Join({"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(Join({"a"}, "; "), "a");
  EXPECT_EQ(Join({}), "");
}

}  // namespace
TEST(UnknownNameMessage, HintsTheClosestOrListsAll) {
  EXPECT_EQ(UnknownNameMessage("column", "asest", {"ts", "asset"}),
            "unknown column 'asest'; did you mean 'asset'?");
  EXPECT_EQ(UnknownNameMessage("type", "zzzzzz", {"int", "long"}),
            "unknown type 'zzzzzz'; the types are int, long");
}

TEST(FormatDouble, ShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(1e300), "1e+300");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
  EXPECT_EQ(FormatDouble(42.0), "42");
  EXPECT_EQ(FormatDouble(std::nan("")), "nan");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-inf");
  const double x = 0.30000000000000004;
  EXPECT_EQ(std::stod(FormatDouble(x)), x);
}

TEST(JsonNestingBeyond, FindsTheFirstBracketTooDeepAndSkipsStrings) {
  EXPECT_EQ(JsonNestingBeyond(R"({"a": [1, {"b": 2}]})", 3), std::nullopt);
  EXPECT_EQ(JsonNestingBeyond(R"({"a": [1, {"b": 2}]})", 2), std::optional<size_t>(10));
  EXPECT_EQ(JsonNestingBeyond(R"({"s": "[[[[\"{{{{"})", 1), std::nullopt) << "brackets in strings";
  EXPECT_EQ(JsonNestingBeyond("[[][][]]", 2), std::nullopt) << "depth, not count";
  EXPECT_EQ(JsonNestingBeyond(std::string(100, '['), 64), std::optional<size_t>(64));
}

}  // namespace weft
