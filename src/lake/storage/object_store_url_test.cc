#include "lake/storage/object_store_url.h"

#include <gtest/gtest.h>

#include "testing/test_env.h"

namespace weft::lake {
namespace {

TEST(ObjectStoreUrlTest, ParsesPathsFileAndS3Urls) {
  auto local = ParseObjectStoreUrl("/data/lake/t");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->kind, ObjectStoreLocation::Kind::kLocal);
  EXPECT_EQ(local->path, "/data/lake/t");
  EXPECT_EQ(ParseObjectStoreUrl("relative/t")->path, "relative/t");
  EXPECT_EQ(ParseObjectStoreUrl("file:///data/lake/t")->path, "/data/lake/t");

  auto s3 = ParseObjectStoreUrl("s3://lake/tables/plant_metrics/");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->kind, ObjectStoreLocation::Kind::kS3);
  EXPECT_EQ(s3->bucket, "lake");
  EXPECT_EQ(s3->prefix, "tables/plant_metrics");
  EXPECT_EQ(ParseObjectStoreUrl("s3://lake")->prefix, "");
  EXPECT_EQ(ParseObjectStoreUrl("s3a://lake/t")->bucket, "lake");
}

TEST(ObjectStoreUrlTest, RefusesWhatItCannotOpen) {
  for (std::string_view url : {"", "s3://", "s3:///prefix", "file://host/x", "gs://b/t",
                               "abfss://c@a.dfs.core.windows.net/t", "s3://b/t?versionId=1"}) {
    auto parsed = ParseObjectStoreUrl(url);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << url;
  }
  EXPECT_NE(ParseObjectStoreUrl("gs://b/t").status().message().find("s3://bucket/prefix"),
            std::string::npos);
}

TEST(ObjectStoreUrlTest, OpensALocalStore) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  auto store = OpenObjectStore("file://" + dir->path() + "/t");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("k", "v").ok());
  EXPECT_EQ((*store)->Describe("k"), dir->path() + "/t/k");
  auto again = OpenObjectStore(dir->path() + "/t");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Get("k").value(), "v");
}

TEST(ObjectStoreUrlTest, OpensAnS3StoreWithoutContactingIt) {
  ObjectStoreOptions options;
  options.use_environment = false;
  options.s3.region = "eu-west-1";
  auto store = OpenObjectStore("s3://bucket/t", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe("_delta_log/0.json"), "s3://bucket/t/_delta_log/0.json");
}

}  // namespace
}  // namespace weft::lake
