#include "lake/delta/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lake/delta/memory_store_for_test.h"

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

Schema TelemetrySchema() {
  Schema s;
  s.fields.push_back({"ts", DataType::Primitive(DataType::Kind::kTimestamp), true, {}});
  s.fields.push_back({"value", DataType::Primitive(DataType::Kind::kDouble), true, {}});
  s.fields.push_back({"day", DataType::Primitive(DataType::Kind::kDate), true, {}});
  return s;
}

AddFile File(const std::string& name, const std::string& day = "2024-05-01") {
  AddFile f;
  f.path = "day=" + day + "/" + name;
  f.partition_values["day"] = day;
  f.size = 100;
  f.modification_time = 1;
  f.stats = R"({"numRecords":10})";
  return f;
}

class TableTest : public ::testing::Test {
 protected:
  TableTest()
      : clock_(TimeFromUnixMicros(1'700'000'000'000'000)),
        store_(&clock_),
        table_(&store_, &clock_) {}
  Snapshot Create() {
    Result<Snapshot> s = table_.Create({.schema = TelemetrySchema(), .partition_columns = {"day"}});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  }
  ManualClock clock_;
  testing::MemoryStore store_;
  DeltaTable table_;
};

TEST_F(TableTest, CreateWritesProtocolMetadataAndCommitInfo) {
  Snapshot s = Create();
  EXPECT_EQ(s.version(), 0);
  EXPECT_EQ(s.protocol().min_reader_version, 1);
  EXPECT_EQ(s.protocol().min_writer_version, 2);
  EXPECT_EQ(s.metadata().partition_columns, std::vector<std::string>{"day"});
  EXPECT_EQ(s.schema().fields.size(), 3u);
  ASSERT_TRUE(s.commit_info());
  EXPECT_THAT(s.commit_info()->json, HasSubstr("weft/0.1.0"));
  EXPECT_EQ(table_.Create({.schema = TelemetrySchema()}).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_F(TableTest, TimestampNtzNeedsTableFeatures) {
  Schema schema;
  schema.fields.push_back({"t", DataType::Primitive(DataType::Kind::kTimestampNtz), true, {}});
  Result<Snapshot> s = table_.Create({.schema = schema});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->protocol().min_reader_version, 3);
  EXPECT_TRUE(s->protocol().HasReaderFeature("timestampNtz"));
}

TEST_F(TableTest, AppendsAndIsIdempotentPerTxn) {
  Snapshot s0 = Create();
  Result<CommitResult> r1 =
      table_.Append(s0, {File("a.parquet")}, Txn{.app_id = "edge-1", .version = 1});
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->version, 1);
  EXPECT_FALSE(r1->already_committed);
  Snapshot s1 = *table_.Latest();
  EXPECT_EQ(s1.files().size(), 1u);
  EXPECT_EQ(s1.TxnVersion("edge-1"), 1);
  // The same batch again: no-op.
  Result<CommitResult> again =
      table_.Append(s1, {File("a2.parquet")}, Txn{.app_id = "edge-1", .version = 1});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_committed);
  EXPECT_EQ(table_.Latest()->version(), 1);
  // The same batch retried from a stale snapshot: the winner holds our txn -> no-op.
  Result<CommitResult> stale =
      table_.Append(s0, {File("a3.parquet")}, Txn{.app_id = "edge-1", .version = 1});
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->already_committed);
  EXPECT_EQ(table_.Latest()->files().size(), 1u);
}

TEST_F(TableTest, BlindAppendsRetryAfterLosingTheRace) {
  Snapshot s0 = Create();
  ASSERT_TRUE(table_.Append(s0, {File("other.parquet")}).ok());  // version 1 by someone else
  Result<CommitResult> r = table_.Append(s0, {File("mine.parquet")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(table_.Latest()->files().size(), 2u);
}

TEST_F(TableTest, MetadataChangeConflictsWithAppend) {
  Snapshot s0 = Create();
  Metadata m = s0.metadata();
  m.configuration["delta.appendOnly"] = "true";
  Transaction change{.actions = {m}, .operation = "SET TBLPROPERTIES"};
  ASSERT_TRUE(table_.Commit(s0, change).ok());
  Result<CommitResult> r = table_.Append(s0, {File("a.parquet")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_THAT(r.status().message(), HasSubstr("version 1 changed the table metadata"));
}

TEST_F(TableTest, DeleteGoesAfterConcurrentAppendsButNotAfterConcurrentRemoves) {
  Snapshot s0 = Create();
  ASSERT_TRUE(table_.Append(s0, {File("a.parquet"), File("b.parquet")}).ok());
  Snapshot s1 = *table_.Latest();
  ASSERT_TRUE(table_.Append(s1, {File("c.parquet")}).ok());  // concurrent ingest: version 2
  RemoveFile rm_a{.path = "day=2024-05-01/a.parquet", .deletion_timestamp = 1};
  Result<CommitResult> r = table_.Commit(s1, {.actions = {rm_a}, .operation = "DELETE"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 3);
  // From the same stale snapshot, removing b now meets version 3's remove: conflict.
  RemoveFile rm_b{.path = "day=2024-05-01/b.parquet", .deletion_timestamp = 1};
  Result<CommitResult> late = table_.Commit(s1, {.actions = {rm_b}, .operation = "DELETE"});
  EXPECT_EQ(late.status().code(), StatusCode::kAborted);
  EXPECT_EQ(table_.Latest()->files().size(), 2u);  // b, c
}

TEST_F(TableTest, CompactionGoesAfterConcurrentAppends) {
  Snapshot s0 = Create();
  ASSERT_TRUE(table_.Append(s0, {File("a.parquet"), File("b.parquet")}).ok());
  Snapshot s1 = *table_.Latest();
  AddFile ab = File("ab.parquet");
  ab.data_change = false;
  Transaction compact{
      .actions = {RemoveFile{.path = "day=2024-05-01/a.parquet", .data_change = false},
                  RemoveFile{.path = "day=2024-05-01/b.parquet", .data_change = false}, ab},
      .operation = "OPTIMIZE"};
  ASSERT_TRUE(table_.Append(s1, {File("c.parquet")}).ok());  // concurrent ingest: version 2
  Result<CommitResult> r = table_.Commit(s1, compact);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(table_.Latest()->files().size(), 2u);  // ab + c
}

TEST_F(TableTest, AppendOnlyRefusesRemoves) {
  Result<Snapshot> s =
      table_.Create({.schema = TelemetrySchema(), .configuration = {{"delta.appendOnly", "true"}}});
  ASSERT_TRUE(s.ok());
  RemoveFile rm{.path = "x.parquet"};
  EXPECT_EQ(table_.Commit(*s, {.actions = {rm}}).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TableTest, ValidatesPartitionValues) {
  Snapshot s0 = Create();
  AddFile bad = File("a.parquet", "May 1st");
  Result<CommitResult> r = table_.Append(s0, {bad});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("May 1st"));
  AddFile missing = File("b.parquet");
  missing.partition_values.clear();
  EXPECT_FALSE(table_.Append(s0, {missing}).ok());
}

TEST_F(TableTest, CheckpointIsAttemptedEveryTenCommits) {
  Snapshot s = Create();
  for (int i = 1; i <= 10; ++i) {
    Result<CommitResult> r = table_.Append(s, {File("f" + std::to_string(i) + ".parquet")});
    ASSERT_TRUE(r.ok());
    if (i == 10) {
      EXPECT_EQ(r->version, 10);
      EXPECT_TRUE(r->checkpoint_status.ok()) << r->checkpoint_status.ToString();
    } else {
      EXPECT_TRUE(r->checkpoint_status.ok());
    }
    s = *table_.Latest();
  }
  EXPECT_EQ(s.files().size(), 10u);
  Result<std::string> checkpoint = store_.Get(ClassicCheckpointKey(10));
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->substr(0, 4), "PAR1");
  Result<std::string> last = store_.Get(std::string(kLastCheckpointKey));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(ParseLastCheckpoint(*last)->version, 10);
  EXPECT_EQ(ParseLastCheckpoint(*last)->size, 12);  // protocol, metaData, 10 adds
}

TEST_F(TableTest, RandomUuidLooksLikeAUuid) {
  std::string u = RandomUuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(u, RandomUuid());
}

}  // namespace
}  // namespace weft::lake::delta
