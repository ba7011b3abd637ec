#include "lake/delta/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lake/delta/memory_store_for_test.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest()
      : clock_(TimeFromUnixMicros(1'700'000'000'000'000)),
        store_(&clock_),
        table_(&store_, &clock_) {}
  ManualClock clock_;
  testing::MemoryStore store_;
  DeltaTable table_;
};

Schema PartitionedSchema() {
  Schema s;
  s.fields.push_back({"v", DataType::Primitive(DataType::Kind::kLong), true, {}});
  s.fields.push_back({"p", DataType::Primitive(DataType::Kind::kString), true, {}});
  return s;
}

TEST_F(CheckpointTest, WrittenCheckpointReadsBackAsTheSameActions) {
  std::vector<Action> actions;
  actions.emplace_back(Protocol{});
  Metadata m;
  m.id = "id-1";
  m.schema_string = SerializeSchema(PartitionedSchema());
  m.partition_columns = {"p"};
  m.configuration = {{"delta.appendOnly", "false"}};
  m.created_time = 5;
  actions.emplace_back(m);
  actions.emplace_back(Txn{.app_id = "edge-1", .version = 7, .last_updated = 9});
  actions.emplace_back(DomainMetadata{.domain = "user.x", .configuration = "{\"a\":1}"});
  AddFile a;
  a.path = "p=x%20y/a.parquet";
  a.partition_values = {{"p", "x y"}};
  a.size = 123;
  a.modification_time = 456;
  a.data_change = false;
  a.stats = R"({"numRecords":3,"minValues":{"v":1}})";
  a.tags = {{"k", "v"}};
  actions.emplace_back(a);
  AddFile null_partition = a;
  null_partition.path = "p=__HIVE_DEFAULT_PARTITION__/b.parquet";
  null_partition.partition_values = {{"p", std::nullopt}};
  null_partition.stats.reset();
  null_partition.tags.clear();
  actions.emplace_back(null_partition);
  actions.emplace_back(
      RemoveFile{.path = "old.parquet", .deletion_timestamp = 11, .data_change = false});

  Result<std::string> bytes = EncodeCheckpointParquet(actions);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(store_.Put(ClassicCheckpointKey(3), *bytes).ok());
  Result<std::vector<Action>> read = ReadParquetActions(store_, ClassicCheckpointKey(3));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), actions.size());
  for (size_t i = 0; i < actions.size(); ++i) {
    EXPECT_EQ(SerializeAction((*read)[i]), SerializeAction(actions[i])) << i;
  }
}

TEST_F(CheckpointTest, SnapshotsStartFromTheCheckpointAndMatchTheReplay) {
  Result<Snapshot> s = table_.Create({.schema = PartitionedSchema(), .partition_columns = {"p"}});
  ASSERT_TRUE(s.ok());
  for (int i = 1; i <= 12; ++i) {
    AddFile f;
    f.path = "p=" + std::to_string(i % 3) + "/f" + std::to_string(i) + ".parquet";
    f.partition_values = {{"p", std::to_string(i % 3)}};
    f.size = i;
    f.stats = R"({"numRecords":2})";
    Result<CommitResult> r = table_.Append(*s, {f}, Txn{.app_id = "w", .version = i});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->checkpoint_status.ok()) << r->checkpoint_status.ToString();
    s = table_.Latest();
    ASSERT_TRUE(s.ok());
  }
  EXPECT_EQ(s->checkpoint_version(), 10);
  Result<Snapshot> replayed = LoadSnapshot(store_, {.ignore_checkpoints = true});
  ASSERT_TRUE(replayed.ok());
  EXPECT_FALSE(replayed->checkpoint_version().has_value());
  ASSERT_EQ(s->files().size(), 12u);
  ASSERT_EQ(replayed->files().size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(s->files()[i].size, replayed->files()[i].size);
    EXPECT_EQ(s->files()[i].stats, replayed->files()[i].stats);
    EXPECT_EQ(s->files()[i].path, replayed->files()[i].path);
    EXPECT_EQ(s->files()[i].partition_values, replayed->files()[i].partition_values);
  }
  EXPECT_EQ(s->TxnVersion("w"), 12);
  EXPECT_EQ(s->metadata().schema_string, replayed->metadata().schema_string);
  // After metadata cleanup the checkpoint alone carries versions 10..12.
  for (int v = 0; v < 10; ++v) ASSERT_TRUE(store_.Delete(CommitKey(v)).ok());
  Result<Snapshot> cleaned = LoadSnapshot(store_);
  ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
  EXPECT_EQ(cleaned->files().size(), 12u);
  EXPECT_EQ(LoadSnapshot(store_, {.version = 5}).status().code(), StatusCode::kNotFound);
}

TEST_F(CheckpointTest, ExpiredTombstonesAreDropped) {
  Metadata m;
  EXPECT_EQ(TombstoneRetentionMs(m), 7LL * 86'400'000);
  m.configuration["delta.deletedFileRetentionDuration"] = "interval 2 hours";
  EXPECT_EQ(TombstoneRetentionMs(m), 7'200'000);
  m.configuration["delta.deletedFileRetentionDuration"] = "interval 1 day";
  EXPECT_EQ(TombstoneRetentionMs(m), 86'400'000);
  m.configuration["delta.deletedFileRetentionDuration"] = "soon";
  EXPECT_EQ(TombstoneRetentionMs(m), 7LL * 86'400'000);

  Result<Snapshot> s =
      table_.Create({.schema = PartitionedSchema(),
                     .configuration = {{"delta.deletedFileRetentionDuration", "interval 1 hour"}}});
  ASSERT_TRUE(s.ok());
  const int64_t now = UnixMicros(clock_.Now()) / 1000;
  Transaction t{
      .actions = {RemoveFile{.path = "old.parquet", .deletion_timestamp = now - 7'200'000},
                  RemoveFile{.path = "recent.parquet", .deletion_timestamp = now - 60'000}},
      .operation = "DELETE"};
  ASSERT_TRUE(table_.Commit(*s, t).ok());
  Result<Snapshot> s1 = table_.Latest();
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->tombstones().size(), 2u);
  std::vector<Action> actions = CheckpointActions(*s1);
  int removes = 0;
  for (const Action& a : actions) {
    if (const auto* r = std::get_if<RemoveFile>(&a)) {
      ++removes;
      EXPECT_EQ(r->path, "recent.parquet");
    }
  }
  EXPECT_EQ(removes, 1);
}

TEST_F(CheckpointTest, MultiPartCheckpointIsReadWhenComplete) {
  Result<Snapshot> s = table_.Create({.schema = PartitionedSchema()});
  ASSERT_TRUE(s.ok());
  for (int i = 1; i <= 3; ++i) {
    AddFile f;
    f.path = "f" + std::to_string(i) + ".parquet";
    f.size = i;
    ASSERT_TRUE(table_.Append(*s, {f}).ok());
    s = table_.Latest();
  }
  // Version 3 as two parts: protocol + metaData + f1 | f2 + f3.
  std::vector<Action> all = CheckpointActions(*s);
  ASSERT_EQ(all.size(), 5u);
  std::vector<Action> part1(all.begin(), all.begin() + 3);
  std::vector<Action> part2(all.begin() + 3, all.end());
  const std::string p1 = "_delta_log/00000000000000000003.checkpoint.0000000001.0000000002.parquet";
  const std::string p2 = "_delta_log/00000000000000000003.checkpoint.0000000002.0000000002.parquet";
  ASSERT_TRUE(store_.Put(p1, *EncodeCheckpointParquet(part1)).ok());
  for (int v = 0; v <= 2; ++v) ASSERT_TRUE(store_.Delete(CommitKey(v)).ok());
  // One part only: ignored, and nothing else covers version 3.
  EXPECT_FALSE(LoadSnapshot(store_).ok());
  ASSERT_TRUE(store_.Put(p2, *EncodeCheckpointParquet(part2)).ok());
  Result<Snapshot> from_parts = LoadSnapshot(store_);
  ASSERT_TRUE(from_parts.ok()) << from_parts.status().ToString();
  EXPECT_EQ(from_parts->checkpoint_version(), 3);
  EXPECT_EQ(from_parts->files().size(), 3u);
}

TEST_F(CheckpointTest, CorruptCheckpointFallsBackOrFailsWithTheFileName) {
  Result<Snapshot> s = table_.Create({.schema = PartitionedSchema()});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(store_.Put(ClassicCheckpointKey(0), "PAR1 not really").ok());
  Result<Snapshot> fallback = LoadSnapshot(store_);
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();  // commit 0 is there
  EXPECT_FALSE(fallback->checkpoint_version().has_value());
  ASSERT_TRUE(store_.Delete(CommitKey(0)).ok());
  Result<Snapshot> broken = LoadSnapshot(store_);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("00000000000000000000.checkpoint.parquet"));
}

}  // namespace
}  // namespace weft::lake::delta
