#include "core/scenario/edge_lake_writer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lake/lake_table.h"
#include "model/plant_loader.h"
#include "testing/test_env.h"

namespace weft::core::scenario {
namespace {

constexpr char kPlant[] = R"(
weft: 1
enterprise: {name: Acme}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
  labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
- id: s1
  timezone: UTC
  areas:
  - id: a1
    lines:
    - id: l1
      assets:
      - {id: m1, type: motor, connection: {sparkplug: {group: g, node: n, device: m1}}}
)";

constexpr int64_t kDay = int64_t{86'400'000'000};
constexpr int64_t kT0 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z

struct Rows {
  std::vector<std::vector<lake::Scalar>> rows;
  std::vector<std::string> names;
  std::string Text(size_t r, const std::string& col) const {
    for (size_t c = 0; c < names.size(); ++c) {
      if (names[c] == col) {
        const lake::Scalar& v = rows[r][c];
        return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "<null>";
      }
    }
    return "<no column>";
  }
  int64_t Int(size_t r, const std::string& col) const {
    for (size_t c = 0; c < names.size(); ++c) {
      if (names[c] == col) return std::get<int64_t>(rows[r][c]);
    }
    return -1;
  }
};

Rows ReadAll(const std::string& root, LakeTableId t, const Clock* clock) {
  Rows out;
  auto table = OpenTable(root, t, clock);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  Status s = (*table)->Scan({}, [&](const lake::RecordBatch& b) {
    if (out.names.empty()) {
      for (const auto& f : b.fields()) out.names.push_back(f.name);
    }
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::vector<lake::Scalar> row;
      for (size_t c = 0; c < b.num_columns(); ++c) row.push_back(b.column(c).At(r));
      out.rows.push_back(std::move(row));
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class EdgeLakeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    auto plant = model::ParsePlant(kPlant, "plant.yaml", &diags);
    ASSERT_TRUE(plant.ok()) << diags.ToString();
    plant_ = std::move(*plant);
    auto table = edge::SignalTable::FromPlant(plant_, {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_.emplace(std::move(*table));
    auto dir = testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    root_ = dir_->path() + "/lake";
  }
  edge::SignalId Id(const char* signal) { return *table_->Find("m1", signal); }

  model::Plant plant_;
  std::optional<edge::SignalTable> table_;
  std::optional<testing::TempDir> dir_;
  std::string root_;
  ManualClock clock_{TimeFromUnixMicros(kT0)};
};

TEST_F(EdgeLakeWriterTest, RowsLandInEachTableWithContextStreamAndSeq) {
  EdgeLakeWriterOptions o;
  o.max_records = 2;  // two records make a batch
  auto w = EdgeLakeWriter::Open(root_, "edge-t", *table_, &clock_, o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EdgeLakeWriter& writer = **w;
  const edge::SignalId temp = Id("winding_temp");
  // Normal stream: three samples -> batch 1 (two samples), batch 2 (one, closed by Finish).
  writer.OnSample({temp, kT0 + 1'000'000, 50.5, 0}, edge::Priority::kNormal);
  writer.OnSample({temp, kT0 + 2'000'000, 51.0, 0}, edge::Priority::kNormal);
  writer.OnSample({temp, kT0 + 3'000'000, 51.5, 0}, edge::Priority::kNormal);
  edge::Aggregate agg{
      Id("vibration_rms"), kT0, kT0 + 900'000'000, 90, 1.2, 1.1, 1.3, 0.05, 1.25, 0};
  writer.OnAggregate(agg, edge::Priority::kNormal);  // batch 2 holds it too
  // High stream: a detector event and an action.
  writer.AddEvent({Id("vibration_rms"), kT0 + 900'000'000, "cusum", "vibration_cusum", 9.5, 8,
                   "m1.vibration_rms: fired"},
                  edge::Priority::kHigh);
  edge::uplink::ActionRecordValue a;
  a.ts_us = kT0 + 60'000'000;
  a.loop = "m1-loop";
  a.site = "s1";
  a.asset = "m1";
  a.kind = "write";
  a.requested = 20.5;
  writer.AddAction(a);
  ASSERT_TRUE(writer.Advance(kT0 + 4'000'000).ok());
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(writer.stats().batches, 3u);  // normal 1, normal 2, high 1

  Rows tel = ReadAll(root_, LakeTableId::kTelemetry, &clock_);
  ASSERT_EQ(tel.rows.size(), 3u);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(tel.Text(r, "edge"), "edge-t");
    EXPECT_EQ(tel.Text(r, "stream"), "normal");
    EXPECT_EQ(tel.Text(r, "site"), "s1");
    EXPECT_EQ(tel.Text(r, "area"), "a1");
    EXPECT_EQ(tel.Text(r, "line"), "l1");
    EXPECT_EQ(tel.Text(r, "asset"), "m1");
    EXPECT_EQ(tel.Text(r, "asset_type"), "motor");
    EXPECT_EQ(tel.Text(r, "signal"), "winding_temp");
    EXPECT_EQ(tel.Text(r, "unit"), "degC");
    EXPECT_EQ(tel.Text(r, "quantity"), "temperature");
  }
  // Seqs 1, 1, 2 for the three samples (max_records 2).
  std::vector<int64_t> seqs;
  for (size_t r = 0; r < 3; ++r) seqs.push_back(tel.Int(r, "seq"));
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 1, 2}));

  Rows aggs = ReadAll(root_, LakeTableId::kAggregates, &clock_);
  ASSERT_EQ(aggs.rows.size(), 1u);
  EXPECT_EQ(aggs.Text(0, "signal"), "vibration_rms");
  EXPECT_EQ(aggs.Int(0, "seq"), 2);
  Rows events = ReadAll(root_, LakeTableId::kEvents, &clock_);
  ASSERT_EQ(events.rows.size(), 1u);
  EXPECT_EQ(events.Text(0, "kind"), "cusum");
  EXPECT_EQ(events.Text(0, "stream"), "high");
  Rows actions = ReadAll(root_, LakeTableId::kActions, &clock_);
  ASSERT_EQ(actions.rows.size(), 1u);
  EXPECT_EQ(actions.Text(0, "loop"), "m1-loop");
  EXPECT_EQ(actions.Text(0, "line"), "<null>");  // "" becomes null, as the ingest writes it

  // Telemetry's txns are every stream's watermark: normal 2, high 1.
  auto t = OpenTable(root_, LakeTableId::kTelemetry, &clock_);
  ASSERT_TRUE(t.ok());
  auto v = (*t)->TxnVersions();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->at("edge-t/normal"), 2);
  EXPECT_EQ(v->at("edge-t/high"), 1);
  // Events only record the stream that gave them rows.
  auto e = OpenTable(root_, LakeTableId::kEvents, &clock_);
  ASSERT_TRUE(e.ok());
  auto ev = (*e)->TxnVersions();
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->size(), 1u);
  EXPECT_EQ(ev->at("edge-t/high"), 1);
}

TEST_F(EdgeLakeWriterTest, CommitsOncePerUtcDayAndAReopenContinuesTheSeqs) {
  {
    auto w = EdgeLakeWriter::Open(root_, "edge-t", *table_, &clock_, {});
    ASSERT_TRUE(w.ok());
    const edge::SignalId temp = Id("winding_temp");
    // Day 1: samples every 10 min, Advance after each; then the first tick of day 2.
    for (int64_t t = kT0; t < kT0 + kDay; t += 600'000'000) {
      (*w)->OnSample({temp, t, 40, 0}, edge::Priority::kNormal);
      ASSERT_TRUE((*w)->Advance(t).ok());
    }
    EXPECT_EQ((*w)->stats().commits[0], 0u);  // nothing committed within the day
    (*w)->OnSample({temp, kT0 + kDay, 41, 0}, edge::Priority::kNormal);
    ASSERT_TRUE((*w)->Advance(kT0 + kDay).ok());
    EXPECT_EQ((*w)->stats().commits[0], 1u);
    // 144 samples of day 1 + the first of day 2 (it was in the batch closed at the day change).
    EXPECT_EQ((*w)->stats().rows[0], 145u);
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto t = OpenTable(root_, LakeTableId::kTelemetry, &clock_);
  ASSERT_TRUE(t.ok());
  const int64_t seq1 = (*t)->TxnVersions()->at("edge-t/normal");
  EXPECT_GT(seq1, 1);
  // A second writer on the same lake appends after the first one's seqs.
  auto w2 = EdgeLakeWriter::Open(root_, "edge-t", *table_, &clock_, {});
  ASSERT_TRUE(w2.ok());
  (*w2)->OnSample({Id("winding_temp"), kT0 + 2 * kDay, 42, 0}, edge::Priority::kNormal);
  ASSERT_TRUE((*w2)->Finish().ok());
  EXPECT_EQ((*t)->TxnVersions()->at("edge-t/normal"), seq1 + 1);
  EXPECT_EQ(*(*t)->Count(), 146);
}

TEST_F(EdgeLakeWriterTest, RefusesAnEdgeIdThatCannotNameAStream) {
  auto w = EdgeLakeWriter::Open(root_, "a/b", *table_, &clock_, {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("a/b"), std::string::npos);
}

}  // namespace
}  // namespace weft::core::scenario
