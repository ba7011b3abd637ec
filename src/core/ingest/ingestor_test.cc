#include "core/ingest/ingestor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "core/ingest/batch_rows.h"
#include "edge/signal_table.h"
#include "edge/uplink/batch_codec.h"
#include "edge/uplink/uplink.pb.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

bool WaitFor(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    auto table = edge::SignalTable::FromPlant(weft::testing::ExamplePlant(), {});
    ASSERT_TRUE(table.ok());
    table_ = std::make_unique<edge::SignalTable>(std::move(*table));
    mqtt::ClientOptions o;
    o.client_id = "fake-edges";
    auto c = mqtt::Client::Connect(*mqtt::BrokerAddress::Parse(broker_->url()), o, seconds(5));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    pub_ = std::move(*c);
  }

  IngestOptions Options(uint32_t index = 0, uint32_t count = 1) {
    IngestOptions o;
    o.lake_root = dir_->path() + "/lake";
    o.state_dir = dir_->path() + "/state";
    o.broker = *mqtt::BrokerAddress::Parse(broker_->url());
    o.worker_index = index;
    o.worker_count = count;
    o.commit_interval = milliseconds(100);
    o.compact_every = milliseconds(0);
    return o;
  }

  // A batch of `n` samples (values seq*1000 + i) and, when `event`, one detector event.
  std::string Batch(const std::string& edge_id, edge::Priority p, uint64_t seq, int n,
                    bool event = false) {
    edge::uplink::BatchBuilder b(edge_id, p);
    const int64_t t0 = 1'795'000'000'000'000 + static_cast<int64_t>(seq) * 1'000'000;
    for (int i = 0; i < n; ++i) {
      b.Add(edge::Sample{static_cast<edge::SignalId>(i % 20), t0 + i,
                         static_cast<double>(seq * 1000 + static_cast<uint64_t>(i)), 0});
    }
    if (event) b.Add(edge::Event{3, t0, "ewma_z", "ewma", 4.5, 3, "high"});
    auto bytes = b.Finish(seq, t0, *table_);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? *bytes : "";
  }

  void Publish(const std::string& edge_id, const std::string& cls, const std::string& bytes) {
    ASSERT_TRUE(pub_->Publish("weft/v1/uplink/" + edge_id + "/" + cls, bytes, 1, false).ok());
  }

  // (edge, seq, value) of every telemetry row.
  std::multiset<std::tuple<std::string, int64_t, double>> TelemetryRows() {
    std::multiset<std::tuple<std::string, int64_t, double>> out;
    auto t = OpenTable(dir_->path() + "/lake", LakeTableId::kTelemetry, &clock_);
    EXPECT_TRUE(t.ok());
    if (!t.ok()) return out;
    Status s = (*t)->Scan({.columns = {"edge", "seq", "value"}}, [&](const lake::RecordBatch& b) {
      for (size_t r = 0; r < b.num_rows(); ++r) {
        out.emplace(std::string(b.column(0).StringAt(r)), b.column(1).IntAt(r),
                    b.column(2).DoubleAt(r));
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  int64_t Count(LakeTableId id) {
    auto t = OpenTable(dir_->path() + "/lake", id, &clock_);
    if (!t.ok()) return -1;
    auto n = (*t)->Count();
    return n.ok() ? *n : -1;
  }

  SystemClock clock_;
  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<edge::SignalTable> table_;
  std::unique_ptr<mqtt::Client> pub_;
};

TEST_F(IngestorTest, CommitsEachBatchOnceInOrderAndAnnouncesTheWatermark) {
  std::mutex mu;
  std::map<std::string, std::string> marks;
  mqtt::ClientOptions so;
  so.client_id = "watch";
  auto watch = mqtt::Client::Connect(*mqtt::BrokerAddress::Parse(broker_->url()), so, seconds(5));
  ASSERT_TRUE(watch.ok());
  (*watch)->SetMessageHandler([&](const mqtt::Message& m) {
    std::lock_guard<std::mutex> lock(mu);
    marks[m.topic] = m.payload;
  });
  ASSERT_TRUE((*watch)->Subscribe("weft/v1/edge/+/committed/+", 1).ok());

  auto in = Ingestor::Start(Options(), &clock_);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  // 1, 2, 3, 3 again, 5 before 4, then garbage and a batch on another edge's topic.
  for (uint64_t seq : {1u, 2u, 3u, 3u, 5u, 4u}) {
    Publish("e1", "normal", Batch("e1", edge::Priority::kNormal, seq, 50, seq == 2));
  }
  Publish("e1", "normal", "not a batch");
  Publish("e2", "normal", Batch("e1", edge::Priority::kNormal, 6, 50));
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().batches_committed >= 5; }, seconds(20)));
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().rejected >= 2; }, seconds(5)));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return marks["weft/v1/edge/e1/committed/normal"] == "5";
      },
      seconds(5)));
  IngestStats st = (*in)->stats();
  EXPECT_EQ(st.duplicates, 1u);
  EXPECT_GE(st.held, 1u);
  (*in)->Stop();

  auto rows = TelemetryRows();
  EXPECT_EQ(rows.size(), 250u);
  for (int64_t seq = 1; seq <= 5; ++seq) {
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(rows.count({"e1", seq, static_cast<double>(seq * 1000 + i)}), 1u)
          << "seq " << seq << " sample " << i;
    }
  }
  EXPECT_EQ(Count(LakeTableId::kEvents), 1);
  EXPECT_TRUE(std::filesystem::exists(dir_->path() + "/state/rejected"));

  // A new ingestor over the same lake: everything redelivered is a duplicate.
  auto again = Ingestor::Start(Options(), &clock_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    Publish("e1", "normal", Batch("e1", edge::Priority::kNormal, seq, 50, seq == 2));
  }
  Publish("e1", "normal", Batch("e1", edge::Priority::kNormal, 6, 10));
  ASSERT_TRUE(WaitFor([&] { return (*again)->stats().batches_committed >= 1; }, seconds(20)));
  EXPECT_EQ((*again)->stats().duplicates, 5u);
  (*again)->Stop();
  EXPECT_EQ(TelemetryRows().size(), 260u);
  EXPECT_EQ(Count(LakeTableId::kEvents), 1);
}

TEST_F(IngestorTest, ACrashBetweenTablesIsRepairedWithoutDuplicates) {
  // As if a core died after committing batch 1's events but before its telemetry.
  ASSERT_TRUE(EnsureTables(dir_->path() + "/lake", &clock_).ok());
  {
    auto events = OpenTable(dir_->path() + "/lake", LakeTableId::kEvents, &clock_);
    ASSERT_TRUE(events.ok());
    lake::RecordBatch rows(LakeTableSchema(LakeTableId::kEvents));
    std::vector<lake::delta::Txn> txns{{.app_id = "e1/high", .version = 1}};
    // The row content does not matter here: only that the table holds batch 1 of e1/high.
    auto r = (*events)->Append(rows, txns);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto in = Ingestor::Start(Options(), &clock_);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  Publish("e1", "high", Batch("e1", edge::Priority::kHigh, 1, 20, /*event=*/true));
  Publish("e1", "high", Batch("e1", edge::Priority::kHigh, 2, 20, /*event=*/true));
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().batches_committed >= 2; }, seconds(20)));
  (*in)->Stop();
  EXPECT_EQ(Count(LakeTableId::kTelemetry), 40) << "both batches' samples";
  EXPECT_EQ(Count(LakeTableId::kEvents), 1) << "batch 1's event was there already; batch 2's added";
}

TEST_F(IngestorTest, TwoWorkersShareTheEdgesAndCommitEachBatchOnce) {
  auto w0 = Ingestor::Start(Options(0, 2), &clock_);
  auto w1 = Ingestor::Start(Options(1, 2), &clock_);
  ASSERT_TRUE(w0.ok()) << w0.status().ToString();
  ASSERT_TRUE(w1.ok()) << w1.status().ToString();
  int owned0 = 0;
  for (int e = 0; e < 6; ++e) {
    const std::string id = "edge-" + std::to_string(e);
    owned0 += (*w0)->Owns(id) ? 1 : 0;
    EXPECT_NE((*w0)->Owns(id), (*w1)->Owns(id)) << id;
    for (uint64_t seq = 1; seq <= 4; ++seq) {
      Publish(id, "normal", Batch(id, edge::Priority::kNormal, seq, 25));
    }
  }
  EXPECT_GT(owned0, 0);
  EXPECT_LT(owned0, 6);
  ASSERT_TRUE(WaitFor(
      [&] { return (*w0)->stats().batches_committed + (*w1)->stats().batches_committed >= 24; },
      seconds(30)));
  (*w0)->Stop();
  (*w1)->Stop();
  auto rows = TelemetryRows();
  EXPECT_EQ(rows.size(), 6u * 4u * 25u);
  std::set<std::tuple<std::string, int64_t, double>> distinct(rows.begin(), rows.end());
  EXPECT_EQ(distinct.size(), rows.size()) << "no row twice";
}

TEST_F(IngestorTest, SignalsAreCataloguedWithTheirContextAndEdge) {
  auto cat = catalog::Catalog::Open(dir_->path() + "/catalog.db", &clock_);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  IngestOptions o = Options();
  o.catalog = cat->get();
  auto in = Ingestor::Start(o, &clock_);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  {
    edge::uplink::BatchBuilder b("e7", edge::Priority::kNormal, {.firmware = "fw 3.1"});
    for (int i = 0; i < 20; ++i) {
      b.Add(edge::Sample{static_cast<edge::SignalId>(i), 1'795'000'000'000'000 + i, 1.0, 0});
    }
    auto bytes = b.Finish(1, 1'795'000'000'000'000, *table_);
    ASSERT_TRUE(bytes.ok());
    Publish("e7", "normal", *bytes);
  }
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().batches_committed >= 1; }, seconds(20)));
  (*in)->Stop();
  EXPECT_EQ((*in)->stats().catalog_errors, 0u);
  for (edge::SignalId id : {0u, 19u}) {  // the batch used signals 0..19
    const edge::SignalInfo& info = table_->at(id);
    auto tags = (*cat)->SignalTags(std::string(info.asset), std::string(info.signal));
    ASSERT_TRUE(tags.ok()) << tags.status().ToString();
    EXPECT_EQ((*tags)["edge"], "e7");
    EXPECT_EQ((*tags)["unit"], std::string(info.unit));
    EXPECT_EQ((*tags)["asset_type"], std::string(info.asset_type));
    EXPECT_EQ((*tags)["site"], std::string(info.site));
    EXPECT_EQ((*tags)["firmware"], "fw 3.1");
  }
  auto found = (*cat)->FindSignals({{"edge", "e7"}});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 20u);
}

TEST_F(IngestorTest, CompactionRewritesSmallFilesWithoutChangingTheRows) {
  IngestOptions o = Options();
  o.compact_every = milliseconds(300);
  auto in = Ingestor::Start(o, &clock_);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    Publish("e1", "normal", Batch("e1", edge::Priority::kNormal, seq, 30));
    std::this_thread::sleep_for(milliseconds(150));  // a commit each: small files
  }
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().batches_committed >= 6; }, seconds(20)));
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().files_compacted >= 2; }, seconds(10)));
  (*in)->Stop();
  EXPECT_EQ((*in)->stats().compaction_errors, 0u);
  EXPECT_EQ(TelemetryRows().size(), 180u);
  auto t = OpenTable(dir_->path() + "/lake", LakeTableId::kTelemetry, &clock_);
  ASSERT_TRUE(t.ok());
  auto history = (*t)->History();
  ASSERT_TRUE(history.ok());
  bool optimized = false;
  for (const lake::HistoryEntry& h : *history) optimized = optimized || h.operation == "OPTIMIZE";
  EXPECT_TRUE(optimized);
}

TEST_F(IngestorTest, ABatchWithAWildSignalIdIsWrittenWithoutAHugeIndex) {
  // A signal id near 2^32 (the batch is valid: the id has its context).
  edge::uplink::Batch raw;
  raw.set_edge_id("e9");
  raw.set_stream(static_cast<uint32_t>(edge::Priority::kNormal));
  raw.set_seq(1);
  raw.set_created_us(1'795'000'000'000'000);
  raw.add_sample_signal(4'000'000'000u);
  raw.add_sample_ts_delta(1'795'000'000'000'000);
  raw.add_sample_value(42);
  raw.add_sample_quality(0);
  edge::uplink::SignalContext* c = raw.add_contexts();
  c->set_id(4'000'000'000u);
  c->set_asset("a9");
  c->set_signal("s9");
  std::string bytes(edge::uplink::kBatchMagic);
  bytes.push_back(static_cast<char>(edge::uplink::BatchCodec::kNone));
  bytes += raw.SerializeAsString();
  ASSERT_TRUE(edge::uplink::DecodeBatch(bytes).ok());
  auto cat = catalog::Catalog::Open(dir_->path() + "/catalog.db", &clock_);
  ASSERT_TRUE(cat.ok());
  IngestOptions o = Options();
  o.catalog = cat->get();
  auto in = Ingestor::Start(o, &clock_);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  Publish("e9", "normal", bytes);
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().batches_committed >= 1; }, seconds(20)));
  (*in)->Stop();
  EXPECT_EQ(TelemetryRows().count({"e9", 1, 42.0}), 1u);
  EXPECT_TRUE((*cat)->SignalTags("a9", "s9").ok());
}

TEST_F(IngestorTest, ControlActionsLandOnceInTheActionsTableWithNullsForUnknowns) {
  auto in = Ingestor::Start(Options(), &clock_);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  const int64_t t0 = 1'795'000'000'000'000;  // 2026-11-17
  edge::uplink::BatchBuilder b("edge-lyon", edge::Priority::kHigh);
  b.AddAction({.ts_us = t0,
               .loop = "lyon-hz-01-temp",
               .site = "lyon",
               .line = "hvac",
               .asset = "lyon-hz-01",
               .signal = "remote_setpoint",
               .kind = "write",
               .mode = "autonomous",
               .requested = 25,
               .before = 21,
               .after = 22,
               .reason = "clamped to max 23",
               .source = "hvac_comfort",
               .source_version = "1",
               .approved_by = "olga,otto"});
  b.AddAction({.ts_us = t0 + 86'400'000'000,  // the next day: another partition
               .loop = "lyon-hz-01-temp",
               .asset = "lyon-hz-01",
               .kind = "hand_mode",
               .mode = "autonomous"});
  auto bytes = b.Finish(1, t0, *table_);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Publish("edge-lyon", "high", *bytes);
  Publish("edge-lyon", "high", *bytes);  // redelivered: still once
  // A second batch with samples only: the actions table gets nothing from it.
  Publish("edge-lyon", "high", Batch("edge-lyon", edge::Priority::kHigh, 2, 5));
  ASSERT_TRUE(WaitFor([&] { return (*in)->stats().batches_committed >= 2; }, seconds(20)));
  (*in)->Stop();
  EXPECT_EQ((*in)->stats().rows[static_cast<size_t>(LakeTableId::kActions)], 2u);
  EXPECT_EQ(Count(LakeTableId::kActions), 2);
  EXPECT_EQ(Count(LakeTableId::kTelemetry), 5);
  EXPECT_EQ(Count(LakeTableId::kWorkOrders), 0) << "created empty, for the API";

  auto t = OpenTable(dir_->path() + "/lake", LakeTableId::kActions, &clock_);
  ASSERT_TRUE(t.ok());
  std::vector<std::tuple<int64_t, std::string, std::string, std::string, bool, double, bool>> rows;
  Status s = (*t)->Scan(
      {.columns = {"date", "edge", "kind", "reason", "requested", "after", "site"}},
      [&](const lake::RecordBatch& r) {
        for (size_t i = 0; i < r.num_rows(); ++i) {
          rows.emplace_back(
              r.column(0).IntAt(i), std::string(r.column(1).StringAt(i)),
              std::string(r.column(2).StringAt(i)),
              !r.column(3).IsValid(i) ? "<null>" : std::string(r.column(3).StringAt(i)),
              !r.column(4).IsValid(i), !r.column(5).IsValid(i) ? -1 : r.column(5).DoubleAt(i),
              !r.column(6).IsValid(i));
        }
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::sort(rows.begin(), rows.end());
  ASSERT_EQ(rows.size(), 2u);
  const int64_t day = DayOf(t0);
  EXPECT_EQ(rows[0], std::make_tuple(day, std::string("edge-lyon"), std::string("write"),
                                     std::string("clamped to max 23"), false, 22.0, false));
  EXPECT_EQ(rows[1], std::make_tuple(day + 1, std::string("edge-lyon"), std::string("hand_mode"),
                                     std::string("<null>"), true, -1.0, true));
}

}  // namespace
}  // namespace weft::core
