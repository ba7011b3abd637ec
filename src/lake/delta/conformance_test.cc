// Conformance: every Delta table in tests/conformance/delta-tables (written by Spark,
// Databricks and delta-rs), read at every version its log names, through the real local store.
// Each (table, version) either builds a snapshot whose files, partition values, schema and
// stats are consistent, or is refused with kUnimplemented naming what is not supported. Known
// facts, cross-checked by replaying the JSON by hand, are asserted per table.

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "lake/delta/deletion_vector.h"
#include "lake/delta/snapshot.h"
#include "lake/storage/local_store.h"

namespace weft::lake::delta {
namespace {

using ::testing::HasSubstr;

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> SubDirs(const std::string& path) {
  std::vector<std::string> out;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (IsDir(path + "/" + name)) out.push_back(name);
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

//! Table name (relative to the root) for every directory holding a _delta_log (two levels deep).
std::vector<std::string> FindTables() {
  std::vector<std::string> tables;
  for (const std::string& d : SubDirs(WEFT_DELTA_TABLES_DIR)) {
    std::string path = std::string(WEFT_DELTA_TABLES_DIR) + "/" + d;
    if (IsDir(path + "/_delta_log")) {
      tables.push_back(d);
      continue;
    }
    for (const std::string& sub : SubDirs(path)) {
      if (IsDir(path + "/" + sub + "/_delta_log")) tables.push_back(d + "/" + sub);
    }
  }
  return tables;
}

std::unique_ptr<LocalObjectStore> OpenTable(const std::string& table) {
  Result<std::unique_ptr<LocalObjectStore>> store = LocalObjectStore::Open(
      std::string(WEFT_DELTA_TABLES_DIR) + "/" + table, {.sync = false, .create_root = false});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::set<int64_t> Versions(const LogListing& listing) {
  std::set<int64_t> versions;
  for (const LogFile& c : listing.commits) versions.insert(c.version);
  for (const Checkpoint& c : listing.checkpoints) versions.insert(c.version);
  return versions;
}

Result<Snapshot> Load(const std::string& table, int64_t version) {
  std::unique_ptr<LocalObjectStore> store = OpenTable(table);
  if (!store) return InternalError("no store");
  return LoadSnapshot(*store, {.version = version});
}

std::vector<size_t> FileCounts(const std::string& table, int64_t last) {
  std::vector<size_t> counts;
  for (int64_t v = 0; v <= last; ++v) {
    Result<Snapshot> s = Load(table, v);
    EXPECT_TRUE(s.ok()) << table << "@" << v << ": " << s.status().ToString();
    counts.push_back(s.ok() ? s->files().size() : 9999);
  }
  return counts;
}

// Every table at every version: a consistent snapshot, or a refusal that names the reason.
TEST(DeltaConformanceTest, EveryTableAtEveryVersion) {
  std::vector<std::string> tables = FindTables();
  ASSERT_GE(tables.size(), 40u) << "conformance tables missing under " << WEFT_DELTA_TABLES_DIR;
  int built = 0;
  int refused = 0;
  std::printf("%-45s %7s  %s\n", "table", "version", "result");
  for (const std::string& table : tables) {
    std::unique_ptr<LocalObjectStore> store = OpenTable(table);
    ASSERT_TRUE(store);
    Result<LogListing> listing = ListLog(*store);
    ASSERT_TRUE(listing.ok()) << table << ": " << listing.status().ToString();
    std::set<int64_t> versions = Versions(*listing);
    EXPECT_FALSE(versions.empty()) << table;
    for (int64_t v : versions) {
      Result<Snapshot> s = LoadSnapshot(*store, *listing, {.version = v});
      if (!s.ok()) {
        ++refused;
        std::printf("%-45s %7lld  refused: %s\n", table.c_str(), static_cast<long long>(v),
                    s.status().ToString().c_str());
        // Refusals are for unsupported features only, never for a log we misread; the one
        // exception is a version whose commits metadata cleanup removed.
        if (s.status().code() == StatusCode::kNotFound) {
          EXPECT_THAT(s.status().message(), HasSubstr("metadata cleanup")) << table << "@" << v;
          continue;
        }
        EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented)
            << table << "@" << v << ": " << s.status().ToString();
        EXPECT_THAT(s.status().message(),
                    ::testing::AnyOf(HasSubstr("feature"), HasSubstr("not implemented"),
                                     HasSubstr("reader version")))
            << table << "@" << v;
        continue;
      }
      ++built;
      EXPECT_EQ(s->version(), v);
      EXPECT_FALSE(s->metadata().id.empty()) << table;
      int64_t rows = 0;
      bool all_counted = true;
      for (const AddFile& f : s->files()) {
        Result<std::map<std::string, PartitionValue>> pv = s->LogicalPartitionValues(f);
        EXPECT_TRUE(pv.ok()) << table << "@" << v << " " << f.path << ": "
                             << pv.status().ToString();
        Result<std::optional<int64_t>> n = s->NumRecords(f);
        EXPECT_TRUE(n.ok()) << table << "@" << v << " " << f.path << ": " << n.status().ToString();
        if (n.ok() && n->has_value()) {
          rows += **n;
        } else {
          all_counted = false;
        }
        EXPECT_TRUE(DecodeActionPath(f.path).ok()) << f.path;
      }
      std::printf(
          "%-45s %7lld  ok: protocol %d/%d, %zu columns, %zu partition columns, %zu files, "
          "%s rows%s\n",
          table.c_str(), static_cast<long long>(v), s->protocol().min_reader_version,
          s->protocol().min_writer_version, s->schema().fields.size(),
          s->metadata().partition_columns.size(), s->files().size(),
          all_counted ? std::to_string(rows).c_str() : "?",
          s->checkpoint_version() ? " (from checkpoint)" : "");
    }
  }
  std::printf("built %d snapshots, refused %d\n", built, refused);
  EXPECT_GT(built, 100);
}

TEST(DeltaConformanceTest, SimpleTableFilesPerVersion) {
  EXPECT_EQ(FileCounts("simple_table", 4), (std::vector<size_t>{6, 22, 6, 6, 5}));
  Result<Snapshot> s = Load("simple_table", 4);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->schema().fields.size(), 1u);
  EXPECT_EQ(s->schema().fields[0].name, "id");
  EXPECT_EQ(s->schema().fields[0].type->kind, DataType::Kind::kLong);
  EXPECT_EQ(s->protocol().min_reader_version, 1);
  ASSERT_TRUE(s->commit_info());
  EXPECT_EQ(s->commit_info()->operation, "DELETE");
}

TEST(DeltaConformanceTest, CheckpointsTablesFilesPerVersion) {
  std::vector<size_t> expected;
  for (size_t i = 0; i <= 12; ++i) expected.push_back(i);
  EXPECT_EQ(FileCounts("checkpoints", 12), expected);
  EXPECT_EQ(FileCounts("delta-1.2.1-only-struct-stats", 12), expected);
  expected.clear();
  for (size_t i = 1; i <= 11; ++i) expected.push_back(i);
  EXPECT_EQ(FileCounts("simple_table_with_checkpoint", 10), expected);
}

TEST(DeltaConformanceTest, PartitionValues) {
  Result<Snapshot> s = Load("delta-0.8.0-partitioned", 0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::string> seen;
  for (const AddFile& f : s->files()) {
    auto pv = s->LogicalPartitionValues(f);
    ASSERT_TRUE(pv.ok());
    seen.push_back(std::get<std::string>(pv->at("year")) + "-" +
                   std::get<std::string>(pv->at("month")) + "-" +
                   std::get<std::string>(pv->at("day")));
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"2020-1-1", "2020-2-3", "2020-2-5", "2021-12-20",
                                            "2021-12-4", "2021-4-5"}));

  Result<Snapshot> null_part = Load("delta-0.8.0-null-partition", 0);
  ASSERT_TRUE(null_part.ok());
  std::set<std::string> ks;
  for (const AddFile& f : null_part->files()) {
    PartitionValue k = null_part->LogicalPartitionValues(f)->at("k");
    ks.insert(std::holds_alternative<std::monostate>(k) ? "<null>" : std::get<std::string>(k));
  }
  EXPECT_EQ(ks, (std::set<std::string>{"<null>", "A"}));

  Result<Snapshot> numeric = Load("delta-0.8.0-numeric-partition", 0);
  ASSERT_TRUE(numeric.ok());
  std::set<std::pair<int64_t, double>> xy;
  for (const AddFile& f : numeric->files()) {
    auto pv = numeric->LogicalPartitionValues(f);
    xy.insert({std::get<int64_t>(pv->at("x")), std::get<double>(pv->at("y"))});
  }
  EXPECT_EQ(xy, (std::set<std::pair<int64_t, double>>{{9, 9.9}, {10, 10.0}}));
}

TEST(DeltaConformanceTest, ColumnMappingNameModeIsResolved) {
  Result<Snapshot> s = Load("table_with_column_mapping", 0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->column_mapping_mode(), ColumnMappingMode::kName);
  EXPECT_EQ(*s->PhysicalColumnName("Super Name"), "col-3877fd94-0973-4941-ac6b-646849a1ff65");
  std::map<std::string, int64_t> rows;
  for (const AddFile& f : s->files()) {
    auto pv = s->LogicalPartitionValues(f);
    ASSERT_TRUE(pv.ok()) << pv.status().ToString();
    rows[std::get<std::string>(pv->at("Company Very Short"))] = **s->NumRecords(f);
  }
  EXPECT_EQ(rows, (std::map<std::string, int64_t>{{"BME", 1}, {"BMS", 4}}));
}

TEST(DeltaConformanceTest, DeletionVectorsAreRefusedByName) {
  for (int64_t v : {0, 1}) {
    Result<Snapshot> s = Load("table-with-dv-small", v);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
    EXPECT_THAT(s.status().message(), HasSubstr("deletionVectors"));
  }
  // The same data without DVs reads.
  Result<Snapshot> without = Load("table-without-dv-small", 0);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_EQ(without->files().size(), 1u);
}

// Tables with deletion vectors, for a caller that applies them: every vector loads (size, CRC,
// cardinality checked) and deletes only rows that exist in its file.
TEST(DeltaConformanceTest, DeletionVectorsDecodeWhenTheCallerAppliesThem) {
  int vectors = 0;
  for (const std::string& table : FindTables()) {
    std::unique_ptr<LocalObjectStore> store = OpenTable(table);
    ASSERT_TRUE(store);
    Result<LogListing> listing = ListLog(*store);
    ASSERT_TRUE(listing.ok());
    for (int64_t v : Versions(*listing)) {
      Result<Snapshot> s = LoadSnapshot(*store, *listing,
                                        {.version = v, .deletion_vectors_applied_by_caller = true});
      if (!s.ok() || !s->protocol().HasReaderFeature("deletionVectors")) continue;
      std::printf("%-45s %7lld  ok with deletion vectors applied by the caller: %zu files\n",
                  table.c_str(), static_cast<long long>(v), s->files().size());
      for (const AddFile& f : s->files()) {
        if (!f.deletion_vector) continue;
        ++vectors;
        Result<DeletedRows> rows = LoadDeletionVector(*store, *f.deletion_vector);
        ASSERT_TRUE(rows.ok()) << table << "@" << v << " " << f.path << ": "
                               << rows.status().ToString();
        Result<std::optional<int64_t>> n = s->NumRecords(f);
        ASSERT_TRUE(n.ok() && n->has_value()) << "a file with a DV must have numRecords";
        EXPECT_LT(rows->rows().back(), static_cast<uint64_t>(**n)) << f.path;
      }
    }
  }
  EXPECT_GE(vectors, 20);
  Result<Snapshot> small = [] {
    std::unique_ptr<LocalObjectStore> store = OpenTable("table-with-dv-small");
    return LoadSnapshot(*store, {.version = 1, .deletion_vectors_applied_by_caller = true});
  }();
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  ASSERT_EQ(small->files().size(), 1u);
  std::unique_ptr<LocalObjectStore> store = OpenTable("table-with-dv-small");
  Result<DeletedRows> rows = LoadDeletionVector(*store, *small->files()[0].deletion_vector);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows(), (std::vector<uint64_t>{0, 9}));  // DELETE ... WHERE value IN (0, 9)
}

TEST(DeltaConformanceTest, UnknownReaderVersionAndFeaturesAreRefusedByName) {
  Result<Snapshot> s = Load("simple_table_features", 4);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(s.status().message(), HasSubstr("reader version 5"));
  Result<Snapshot> variant = Load("spark-variant-stable-feature-checkpoint", 1);
  ASSERT_FALSE(variant.ok());
  EXPECT_THAT(variant.status().message(), HasSubstr("variantType"));
}

TEST(DeltaConformanceTest, InCommitTimestampsAndTimeTravel) {
  std::unique_ptr<LocalObjectStore> store = OpenTable("cdc_ict_table");
  ASSERT_TRUE(store);
  Result<Snapshot> s3 = LoadSnapshot(*store, {.version = 3});
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(s3->timestamp_ms(), 1783874213881);
  EXPECT_EQ(s3->files().size(), 2u);
  Result<Snapshot> s2 = LoadSnapshot(*store, {.version = 2});
  ASSERT_TRUE(s2.ok());
  // Time travel to just before version 3's timestamp lands on version 2.
  Result<Snapshot> tt = LoadSnapshot(*store, {.timestamp_ms = s3->timestamp_ms() - 1});
  ASSERT_TRUE(tt.ok()) << tt.status().ToString();
  EXPECT_EQ(tt->version(), 2);
  EXPECT_EQ(LoadSnapshot(*store, {.timestamp_ms = s3->timestamp_ms()})->version(), 3);
}

TEST(DeltaConformanceTest, CheckpointOnlyAndVacuumedLogs) {
  // The log starts at a checkpoint (commits 0..4 removed): versions 5..12 come from it.
  std::vector<size_t> counts;
  for (int64_t v = 5; v <= 12; ++v) {
    Result<Snapshot> s = Load("checkpoints_vacuumed", v);
    ASSERT_TRUE(s.ok()) << v << ": " << s.status().ToString();
    EXPECT_EQ(s->checkpoint_version(), v < 10 ? 5 : 10);
    counts.push_back(s->files().size());
  }
  EXPECT_EQ(counts, (std::vector<size_t>{5, 6, 7, 8, 9, 10, 11, 12}));
  Result<Snapshot> gone = Load("checkpoint_with_partitions", 1);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  // Only a checkpoint at 108: its protocol (read from Parquet) names a reader feature we refuse.
  Result<Snapshot> dm = Load("table-with-domain-metadata", 108);
  ASSERT_FALSE(dm.ok());
  EXPECT_THAT(dm.status().message(), HasSubstr("deletionVectors"));
  // A _last_checkpoint that points to a checkpoint whose update failed is only a hint.
  Result<Snapshot> s = Load("table_failed_last_checkpoint_update", 3);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version(), 3);
  EXPECT_EQ(s->checkpoint_version(), 3);
  EXPECT_EQ(s->files().size(), 4u);
}

// Wherever a version can be built both from a checkpoint and from the JSON commits alone, the
// two snapshots agree: files (path, size, partition values, stats), protocol, metadata, txns.
TEST(DeltaConformanceTest, CheckpointsAgreeWithJsonReplay) {
  int compared = 0;
  for (const std::string& table : FindTables()) {
    std::unique_ptr<LocalObjectStore> store = OpenTable(table);
    ASSERT_TRUE(store);
    Result<LogListing> listing = ListLog(*store);
    ASSERT_TRUE(listing.ok());
    for (int64_t v : Versions(*listing)) {
      Result<Snapshot> a = LoadSnapshot(*store, *listing, {.version = v});
      if (!a.ok() || !a->checkpoint_version()) continue;
      Result<Snapshot> b =
          LoadSnapshot(*store, *listing, {.version = v, .ignore_checkpoints = true});
      if (!b.ok()) continue;  // commits before the checkpoint were cleaned up
      ++compared;
      SCOPED_TRACE(table + "@" + std::to_string(v));
      EXPECT_EQ(SerializeAction(a->protocol()), SerializeAction(b->protocol()));
      EXPECT_EQ(a->metadata().id, b->metadata().id);
      EXPECT_EQ(a->metadata().schema_string, b->metadata().schema_string);
      EXPECT_EQ(a->metadata().partition_columns, b->metadata().partition_columns);
      EXPECT_EQ(a->metadata().configuration, b->metadata().configuration);
      ASSERT_EQ(a->files().size(), b->files().size());
      for (size_t i = 0; i < a->files().size(); ++i) {
        const AddFile& fa = a->files()[i];
        const AddFile& fb = b->files()[i];
        EXPECT_EQ(fa.path, fb.path);
        EXPECT_EQ(fa.size, fb.size);
        EXPECT_EQ(fa.partition_values, fb.partition_values);
        EXPECT_EQ(*a->NumRecords(fa), *b->NumRecords(fb)) << fa.path;
      }
      EXPECT_EQ(a->txns().size(), b->txns().size());
      for (const auto& [app, txn] : b->txns()) EXPECT_EQ(a->TxnVersion(app), txn.version);
      EXPECT_EQ(a->domains().size(), b->domains().size());
    }
  }
  EXPECT_GE(compared, 15);
}

TEST(DeltaConformanceTest, V2CheckpointTableReads) {
  // JSON UUID-named checkpoints with Parquet sidecars; every commit is also present.
  for (int64_t v = 0; v <= 9; ++v) {
    Result<Snapshot> s = Load("checkpoint-v2-table", v);
    ASSERT_TRUE(s.ok()) << v << ": " << s.status().ToString();
    EXPECT_TRUE(s->protocol().HasReaderFeature("v2Checkpoint"));
  }
}

}  // namespace
}  // namespace weft::lake::delta
