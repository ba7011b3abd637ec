#include "common/strings.h"

#include <gtest/gtest.h>

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
}  // namespace weft
