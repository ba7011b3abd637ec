#include "lake/delta/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lake/delta/memory_store_for_test.h"

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

constexpr char kSchemaString[] =
    R"({\"type\":\"struct\",\"fields\":[{\"name\":\"v\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]})";

std::string Header(
    std::string protocol = R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})",
    std::string configuration = "{}") {
  return std::string(R"({"commitInfo":{"timestamp":1}})") + "\n" + protocol + "\n" +
         R"({"metaData":{"id":"t","format":{"provider":"parquet","options":{}},"schemaString":")" +
         kSchemaString + R"(","partitionColumns":["day"],"configuration":)" + configuration +
         "}}\n";
}

std::string Add(const std::string& path, const std::string& day, int records = 1) {
  return R"({"add":{"path":")" + path + R"(","partitionValues":{"day":")" + day +
         R"("},"size":1,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":)" +
         std::to_string(records) + R"(}"}})" + "\n";
}

std::string Remove(const std::string& path) {
  return R"({"remove":{"path":")" + path +
         R"(","deletionTimestamp":1,"dataChange":true}})"
         "\n";
}

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() : clock_(TimeFromUnixMicros(1'000'000'000)), store_(&clock_) {}
  void Put(int64_t version, const std::string& content, int64_t modified_ms = -1) {
    ASSERT_TRUE(store_.PutIfAbsent(CommitKey(version), content).ok());
    if (modified_ms >= 0) store_.SetModified(CommitKey(version), modified_ms);
  }
  ManualClock clock_;
  testing::MemoryStore store_;
};

TEST_F(SnapshotTest, ReplaysAddsRemovesTxnsAndDomains) {
  Put(0,
      Header() + Add("day=2024-01-01/a.parquet", "2024-01-01", 3) + Add("b.parquet", "2024-01-02"));
  Put(1, Remove("day=2024-01-01/a.parquet") + Add("c.parquet", "2024-01-03") +
             R"({"txn":{"appId":"w","version":1}})"
             "\n" +
             R"({"domainMetadata":{"domain":"d1","configuration":"x","removed":false}})"
             "\n");
  Put(2,
      R"({"txn":{"appId":"w","version":2}})"
      "\n" +
          std::string(R"({"domainMetadata":{"domain":"d1","configuration":"x","removed":true}})") +
          "\n" + Add("day=2024-01-01/a.parquet", "2024-01-01", 4));

  Result<Snapshot> s0 = LoadSnapshot(store_, {.version = 0});
  ASSERT_TRUE(s0.ok()) << s0.status().ToString();
  ASSERT_EQ(s0->files().size(), 2u);
  EXPECT_EQ(s0->files()[0].path, "b.parquet");
  EXPECT_EQ(*s0->NumRecords(s0->files()[1]), 3);

  Result<Snapshot> s1 = LoadSnapshot(store_, {.version = 1});
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  ASSERT_EQ(s1->files().size(), 2u);
  EXPECT_EQ(s1->tombstones().size(), 1u);
  EXPECT_EQ(s1->TxnVersion("w"), 1);
  EXPECT_EQ(s1->domains().size(), 1u);
  auto pv = s1->LogicalPartitionValues(s1->files()[1]);
  ASSERT_TRUE(pv.ok());
  EXPECT_EQ(pv->at("day"), PartitionValue(DateValue{19725}));

  Result<Snapshot> s2 = LoadSnapshot(store_);
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_EQ(s2->version(), 2);
  EXPECT_EQ(s2->files().size(), 3u);  // a.parquet re-added
  EXPECT_TRUE(s2->tombstones().empty());
  EXPECT_EQ(s2->TxnVersion("w"), 2);
  EXPECT_TRUE(s2->domains().empty());
}

TEST_F(SnapshotTest, TimeTravelByTimestamp) {
  Put(0, Header(), 1000);
  Put(1, Add("a.parquet", "2024-01-01"), 2000);
  Put(2, Add("b.parquet", "2024-01-01"), 3000);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 2500})->version(), 1);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 3000})->version(), 2);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 1000})->version(), 0);
  Result<Snapshot> before = LoadSnapshot(store_, {.timestamp_ms = 999});
  EXPECT_EQ(before.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadSnapshot(store_, {.version = 1})->timestamp_ms(), 2000);
  EXPECT_EQ(LoadSnapshot(store_, {.version = 7}).status().code(), StatusCode::kNotFound);
}

TEST_F(SnapshotTest, InCommitTimestampsWin) {
  Put(0,
      R"({"commitInfo":{"timestamp":5,"inCommitTimestamp":100}})"
      "\n" +
          Header(),
      50);
  Put(1,
      R"({"commitInfo":{"timestamp":6,"inCommitTimestamp":200}})"
      "\n" +
          Add("a.parquet", "2024-01-01"),
      10);
  EXPECT_EQ(LoadSnapshot(store_)->timestamp_ms(), 200);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 150})->version(), 0);
}

TEST_F(SnapshotTest, InCommitTimestampsEnabledLaterSplitTheSearch) {
  // Versions 0-1 use file times (later than the in-commit timestamps of 2-3, as in a copied
  // table); the protocol searches each side of the enablement version separately.
  Put(0, Header(), 5000);
  Put(1, Add("a.parquet", "2024-01-01"), 6000);
  Put(2,
      R"({"commitInfo":{"inCommitTimestamp":1000}})"
      "\n" +
          Add("b.parquet", "2024-01-01"),
      7000);
  Put(3,
      R"({"commitInfo":{"inCommitTimestamp":2000}})"
      "\n" +
          Add("c.parquet", "2024-01-01"),
      8000);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 1500})->version(), 2);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 9000})->version(), 3);
  EXPECT_EQ(LoadSnapshot(store_, {.timestamp_ms = 500}).status().code(), StatusCode::kNotFound);
}

TEST_F(SnapshotTest, RefusesUnsupportedReaderFeaturesByName) {
  Put(0,
      Header(
          R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})"));
  Result<Snapshot> s = LoadSnapshot(store_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(s.status().message(), HasSubstr("deletionVectors"));
}

TEST_F(SnapshotTest, RefusesColumnMappingIdMode) {
  Put(0, Header(R"({"protocol":{"minReaderVersion":2,"minWriterVersion":5}})",
                R"({"delta.columnMapping.mode":"id"})"));
  Result<Snapshot> s = LoadSnapshot(store_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("'id'"));
}

TEST_F(SnapshotTest, MissingCommitIsDataLoss) {
  Put(0, Header());
  Put(2, Add("a.parquet", "2024-01-01"));
  Result<Snapshot> s = LoadSnapshot(store_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("00000000000000000001.json"));
}

TEST_F(SnapshotTest, BadPartitionValueIsRefused) {
  Put(0, Header() + Add("a.parquet", "not-a-date"));
  Result<Snapshot> s = LoadSnapshot(store_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("a.parquet"));
  EXPECT_THAT(s.status().message(), HasSubstr("not-a-date"));
}

TEST_F(SnapshotTest, UnreadableCheckpointFallsBackToCommitsOrFailsClearly) {
  Put(0, Header() + Add("a.parquet", "2024-01-01"));
  Put(1, Add("b.parquet", "2024-01-01"));
  ASSERT_TRUE(store_.Put(ClassicCheckpointKey(1), "PAR1...").ok());
  Result<Snapshot> s = LoadSnapshot(store_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();  // commits 0..1 are all there
  EXPECT_EQ(s->files().size(), 2u);
  ASSERT_TRUE(store_.Delete(CommitKey(0)).ok());  // as after metadata cleanup
  Result<Snapshot> cleaned = LoadSnapshot(store_);
  ASSERT_FALSE(cleaned.ok());  // the checkpoint is not Parquet, and nothing else covers v0
  EXPECT_THAT(cleaned.status().message(), HasSubstr("00000000000000000001.checkpoint.parquet"));
}

TEST_F(SnapshotTest, ClassifiesLogFiles) {
  auto kind = [](const std::string& name) -> std::optional<LogFile::Kind> {
    std::optional<LogFile> f = ClassifyLogFile({"_delta_log/" + name, 1, 1});
    if (!f) return std::nullopt;
    return f->kind;
  };
  EXPECT_EQ(kind("00000000000000000007.json"), LogFile::Kind::kCommit);
  EXPECT_EQ(kind("00000000000000000010.checkpoint.parquet"), LogFile::Kind::kClassicCheckpoint);
  EXPECT_EQ(kind("00000000000000000010.checkpoint.0000000001.0000000003.parquet"),
            LogFile::Kind::kMultiPartCheckpoint);
  EXPECT_EQ(kind("00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json"),
            LogFile::Kind::kUuidCheckpoint);
  EXPECT_EQ(kind("00000000000000000010.crc"), std::nullopt);
  EXPECT_EQ(kind("00000000000000000001.00000000000000000003.compacted.json"), std::nullopt);
  EXPECT_EQ(kind("_sidecars/x.parquet"), std::nullopt);
  EXPECT_EQ(kind(".00000000000000000000.json.crc"), std::nullopt);
}

TEST_F(SnapshotTest, IncompleteMultiPartCheckpointIsIgnored) {
  Put(0, Header());
  ASSERT_TRUE(
      store_.Put("_delta_log/00000000000000000000.checkpoint.0000000001.0000000002.parquet", "x")
          .ok());
  Result<LogListing> listing = ListLog(store_);
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->checkpoints.empty());
  ASSERT_TRUE(
      store_.Put("_delta_log/00000000000000000000.checkpoint.0000000002.0000000002.parquet", "x")
          .ok());
  listing = ListLog(store_);
  ASSERT_EQ(listing->checkpoints.size(), 1u);
  EXPECT_EQ(listing->checkpoints[0].files.size(), 2u);
}

}  // namespace
}  // namespace weft::lake::delta
