#include "lake/storage/object_key.h"

#include <gtest/gtest.h>

namespace weft::lake {
namespace {

TEST(ObjectKeyTest, AcceptsRelativeSlashSeparatedKeys) {
  EXPECT_TRUE(ValidateObjectKey("a").ok());
  EXPECT_TRUE(ValidateObjectKey("_delta_log/00000000000000000000.json").ok());
  EXPECT_TRUE(ValidateObjectKey("part=1/x y&z.parquet").ok());
  EXPECT_TRUE(ValidateObjectKey("a/.hidden/..x").ok());
}

TEST(ObjectKeyTest, RefusesUnsafeKeys) {
  for (std::string_view key :
       {"", "/a", "a//b", "a/", "..", "a/../b", "./a", "a/.", ".weft-tmp-1", "a/.weft-tmp-x/b"}) {
    Status status = ValidateObjectKey(key);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << "key \"" << key << "\"";
  }
  EXPECT_EQ(ValidateObjectKey(std::string_view("a\0b", 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateObjectKey("a/../b").message().find("a/../b"), std::string::npos);
}

TEST(ObjectKeyTest, PrefixesMayBeEmptyOrEndInSlash) {
  EXPECT_TRUE(ValidateObjectPrefix("").ok());
  EXPECT_TRUE(ValidateObjectPrefix("_delta_log/").ok());
  EXPECT_TRUE(ValidateObjectPrefix("_delta_log/0000").ok());
  EXPECT_FALSE(ValidateObjectPrefix("/a").ok());
  EXPECT_FALSE(ValidateObjectPrefix("a//").ok());
  EXPECT_FALSE(ValidateObjectPrefix("../").ok());
}

}  // namespace
}  // namespace weft::lake
