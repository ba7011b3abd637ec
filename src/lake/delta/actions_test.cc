#include "lake/delta/actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

TEST(ActionsTest, ParsesEveryActionType) {
  std::string commit =
      R"({"commitInfo":{"timestamp":1587968586154,"operation":"WRITE","isBlindAppend":true}})"
      "\n"
      R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["columnMapping"],"writerFeatures":["columnMapping"]}})"
      "\n"
      R"({"metaData":{"id":"abc","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":["p"],"configuration":{"k":"v"},"createdTime":5}})"
      "\n"
      R"({"add":{"path":"p=1/a%20b.parquet","partitionValues":{"p":"1","q":null},"size":10,"modificationTime":7,"dataChange":true,"stats":"{\"numRecords\":3}","tags":{"t":"1"},"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":36,"cardinality":2}}})"
      "\n"
      R"({"remove":{"path":"old.parquet","deletionTimestamp":9,"dataChange":true}})"
      "\n"
      R"({"txn":{"appId":"app","version":42,"lastUpdated":8}})"
      "\n"
      R"({"cdc":{"path":"_change_data/c.parquet","partitionValues":{},"size":3,"dataChange":false}})"
      "\n"
      R"({"domainMetadata":{"domain":"delta.x","configuration":"{}","removed":false}})"
      "\n"
      R"({"checkpointMetadata":{"version":4,"tags":{}}})"
      "\n"
      R"({"sidecar":{"path":"s.parquet","sizeInBytes":12,"modificationTime":3,"tags":{}}})"
      "\n";
  Result<std::vector<Action>> actions = ParseCommit(commit, "c.json");
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  ASSERT_EQ(actions->size(), 10u);
  const auto& info = std::get<CommitInfo>((*actions)[0]);
  EXPECT_EQ(info.timestamp, 1587968586154);
  EXPECT_EQ(info.operation, "WRITE");
  const auto& p = std::get<Protocol>((*actions)[1]);
  EXPECT_EQ(p.min_reader_version, 3);
  EXPECT_TRUE(p.HasReaderFeature("columnMapping"));
  const auto& m = std::get<Metadata>((*actions)[2]);
  EXPECT_EQ(m.partition_columns, std::vector<std::string>{"p"});
  EXPECT_EQ(m.configuration.at("k"), "v");
  const auto& add = std::get<AddFile>((*actions)[3]);
  EXPECT_EQ(add.size, 10);
  EXPECT_EQ(add.partition_values.at("p"), "1");
  EXPECT_FALSE(add.partition_values.at("q").has_value());
  ASSERT_TRUE(add.deletion_vector);
  EXPECT_EQ(add.deletion_vector->UniqueId(), "uab@1");
  EXPECT_EQ(*DecodeActionPath(add.path), "p=1/a b.parquet");
  EXPECT_EQ(std::get<Txn>((*actions)[5]).version, 42);
  EXPECT_EQ(std::get<Sidecar>((*actions)[9]).size_in_bytes, 12);

  // Round trip: serialize and parse again gives the same actions.
  Result<std::vector<Action>> again = ParseCommit(SerializeCommit(*actions), "again.json");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), actions->size());
  for (size_t i = 0; i < again->size(); ++i) {
    EXPECT_EQ(SerializeAction((*again)[i]), SerializeAction((*actions)[i]));
  }
}

TEST(ActionsTest, ToleratesUnknownActionsAndFields) {
  Result<std::vector<Action>> actions =
      ParseCommit(R"({"futureAction":{"x":1}})"
                  "\n\n"
                  R"({"txn":{"appId":"a","version":1,"newField":[1,2]}})"
                  "\n",
                  "f.json");
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_EQ(std::get<Txn>((*actions)[0]).app_id, "a");
}

TEST(ActionsTest, ErrorsNameFileLineAndField) {
  Result<std::vector<Action>> bad = ParseCommit(
      R"({"txn":{"appId":"a","version":1}})"
      "\n"
      R"({"add":{"path":"x","partitionValues":{},"size":"big","modificationTime":1,"dataChange":true}})",
      "_delta_log/00000000000000000003.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("_delta_log/00000000000000000003.json line 2: add.size"));
  Result<std::vector<Action>> broken = ParseCommit("{\"add\":", "x.json");
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("x.json line 1"));
  Result<std::vector<Action>> missing = ParseCommit(R"({"add":{"partitionValues":{}}})", "y.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("add.path: missing"));
}

TEST(ActionsTest, ParsesStats) {
  Result<FileStats> s = ParseFileStats(
      R"({"numRecords":5,"minValues":{"a":1,"s":{"b":"x"}},"maxValues":{"a":9},"nullCount":{"a":0,"s":{"b":2}},"tightBounds":false})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->num_records, 5);
  EXPECT_EQ(s->tight_bounds, false);
  EXPECT_EQ(s->min_values.at("a"), "1");
  EXPECT_EQ(s->min_values.at("s.b"), "\"x\"");
  EXPECT_EQ(s->null_count.at("s.b"), 2);
  EXPECT_FALSE(ParseFileStats(R"({"numRecords":"many"})").ok());
}

TEST(ActionsTest, PathEncoding) {
  EXPECT_EQ(EncodeActionPath("day=2024-01-01/a b%.parquet"), "day=2024-01-01/a%20b%25.parquet");
  EXPECT_EQ(*DecodeActionPath("test%25file"), "test%file");
  EXPECT_FALSE(DecodeActionPath("bad%2").ok());
}

TEST(ActionsTest, CommitInfoHasEngineInfo) {
  CommitInfo c = MakeCommitInfo(123, "WRITE", {{"mode", "Append"}}, 4, true);
  EXPECT_THAT(c.json, HasSubstr("\"engineInfo\":\"weft/0.1.0\""));
  EXPECT_THAT(c.json, HasSubstr("\"readVersion\":4"));
  EXPECT_THAT(SerializeAction(c), HasSubstr("{\"commitInfo\":{\"timestamp\":123"));
}

}  // namespace
}  // namespace weft::lake::delta
