#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/time_format.h"
#include "core/views/view_def.h"
#include "core/views/view_reader.h"
#include "lake/lake_table.h"
#include "lake/parquet/reader.h"
#include "lake/parquet/source.h"
#include "lake/predicate.h"
#include "lake/record_batch.h"
#include "model/plant_loader.h"

namespace weft::core::views {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ------------------------------------------------------------------------------------------------
// Parsing

constexpr char kMotorHealth[] = R"(views:
  motor_health:
    description: Motor condition, 1 s grid
    asset_type: motor
    period: 1s
    signals:
      winding_temp: {unit: degC}
      vibration_rms: {unit: mm/s, agg: max}
      current: {unit: A, as: current_a, agg: last}
    good_only: true
    fill: none
)";

TEST(ParseViewsTest, ParsesAViewInDeclaredOrder) {
  Result<std::vector<ViewDef>> views = ParseViews(kMotorHealth, "views.yaml");
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  ASSERT_EQ(views->size(), 1u);
  const ViewDef& v = views->front();
  EXPECT_EQ(v.name, "motor_health");
  EXPECT_EQ(v.description, "Motor condition, 1 s grid");
  EXPECT_EQ(v.asset_types, std::vector<std::string>{"motor"});
  EXPECT_EQ(v.period_us, 1'000'000);
  EXPECT_TRUE(v.good_only);
  EXPECT_EQ(v.fill, Fill::kNone);
  ASSERT_EQ(v.signals.size(), 3u);
  // Declared order, not alphabetical.
  EXPECT_EQ(v.signals[0].signal, "winding_temp");
  EXPECT_EQ(v.signals[1].signal, "vibration_rms");
  EXPECT_EQ(v.signals[2].signal, "current");
  EXPECT_EQ(v.signals[0].column, "winding_temp");
  EXPECT_EQ(v.signals[2].column, "current_a");
  EXPECT_EQ(v.signals[0].agg, Agg::kMean);
  EXPECT_EQ(v.signals[1].agg, Agg::kMax);
  EXPECT_EQ(v.signals[2].agg, Agg::kLast);
  EXPECT_EQ(v.signals[1].unit.symbol, "mm/s");
  EXPECT_EQ(v.where.line, 2);  // the name
  EXPECT_EQ(v.where.column, 3);
  EXPECT_EQ(v.signals[2].where.line, 9);
}

TEST(ParseViewsTest, DefaultsShorthandAndAssetTypeList) {
  Result<std::vector<ViewDef>> views = ParseViews(R"(views:
  b_view:
    period: 250ms
    signals: {current: A}
  a_view:
    asset_type: [motor, pump]
    period: 1min
    fill: previous
    good_only: false
    signals: {flow: {unit: m3/h}}
)",
                                                  "v.yaml");
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  ASSERT_EQ(views->size(), 2u);
  EXPECT_EQ((*views)[0].name, "b_view");  // document order
  EXPECT_TRUE((*views)[0].asset_types.empty());
  EXPECT_EQ((*views)[0].period_us, 250'000);
  EXPECT_EQ((*views)[0].signals[0].unit.symbol, "A");
  EXPECT_TRUE((*views)[0].good_only);
  EXPECT_EQ((*views)[0].fill, Fill::kNone);
  EXPECT_EQ((*views)[1].asset_types, (std::vector<std::string>{"motor", "pump"}));
  EXPECT_EQ((*views)[1].period_us, 60'000'000);
  EXPECT_EQ((*views)[1].fill, Fill::kPrevious);
  EXPECT_FALSE((*views)[1].good_only);

  Result<const ViewDef*> found = FindView(*views, "a_view");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->name, "a_view");
  Result<const ViewDef*> typo = FindView(*views, "a_veiw");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(typo.status().message(), HasSubstr("did you mean 'a_view'"));
}

std::string ParseError(const std::string& yaml) {
  Result<std::vector<ViewDef>> views = ParseViews(yaml, "views.yaml");
  EXPECT_FALSE(views.ok());
  if (views.ok()) return "";
  EXPECT_EQ(views.status().code(), StatusCode::kInvalidArgument);
  return views.status().message();
}

TEST(ParseViewsTest, UnknownKeyNamesLocationAndSuggests) {
  const std::string msg = ParseError(R"(views:
  motor_health:
    period: 1s
    signls: {current: A}
)");
  EXPECT_THAT(msg, HasSubstr("views.yaml:4:5: error: views.motor_health.signls"));
  EXPECT_THAT(msg, HasSubstr("did you mean 'signals'"));
  EXPECT_THAT(msg, HasSubstr("[unknown_field]"));
  // The missing `signals` is reported in the same run.
  EXPECT_THAT(msg, HasSubstr("missing required field 'signals'"));
  EXPECT_THAT(msg, HasSubstr("views.yaml: 2 errors"));
}

TEST(ParseViewsTest, UnknownSignalKeyAndAgg) {
  const std::string msg = ParseError(R"(views:
  v:
    period: 1s
    signals:
      current: {unit: A, agg: maen}
      speed: {unit: rpm, as: rpm, aggregate: max}
)");
  EXPECT_THAT(msg, HasSubstr("views.yaml:5:31: error: views.v.signals.current.agg: unknown agg "
                             "'maen' (did you mean 'mean'?)"));
  EXPECT_THAT(msg, HasSubstr("[unknown_agg]"));
  EXPECT_THAT(msg, HasSubstr("views.yaml:6:35: error: views.v.signals.speed.aggregate"));
}

TEST(ParseViewsTest, BadUnit) {
  const std::string msg = ParseError(R"(views:
  v:
    period: 1s
    signals:
      energy: {unit: kwh}
)");
  EXPECT_THAT(msg, HasSubstr("views.yaml:5:22: error: views.v.signals.energy.unit"));
  EXPECT_THAT(msg, HasSubstr("did you mean 'kWh'"));
  EXPECT_THAT(msg, HasSubstr("[unknown_unit]"));
}

TEST(ParseViewsTest, BadPeriods) {
  EXPECT_THAT(ParseError("views:\n  v:\n    period: fast\n    signals: {current: A}\n"),
              HasSubstr("views.yaml:3:13: error: views.v.period: invalid period 'fast'"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 0s\n    signals: {current: A}\n"),
              HasSubstr("expected more than 0"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1000d\n    signals: {current: A}\n"),
              HasSubstr("[invalid_period]"));
  EXPECT_THAT(ParseError("views:\n  v:\n    signals: {current: A}\n"),
              HasSubstr("missing required field 'period'"));
}

TEST(ParseViewsTest, OtherMistakes) {
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1s\n    fill: previos\n    signals: {a: A}\n"),
              HasSubstr("unknown fill 'previos' (did you mean 'previous'?)"));
  EXPECT_THAT(
      ParseError("views:\n  v:\n    period: 1s\n    signals: {a: A, b: {unit: A, as: a}}\n"),
      HasSubstr("output column 'a' is already used"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1s\n    signals: {ts: s}\n"),
              HasSubstr("output column 'ts' is reserved"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1s\n    signals: {}\n"),
              HasSubstr("[no_signals]"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1s\n    good_only: yes please\n"
                         "    signals: {a: A}\n"),
              HasSubstr("expected true or false"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1s\n    signals: {a: {agg: max}}\n"),
              HasSubstr("missing required field 'unit'"));
  EXPECT_THAT(ParseError("view:\n  v: {}\n"), HasSubstr("did you mean 'views'"));
  EXPECT_THAT(ParseError("views: [a, b\n"), HasSubstr("[yaml_syntax]"));
  EXPECT_THAT(ParseError(""), HasSubstr("empty"));
  EXPECT_THAT(ParseError("views:\n  v:\n    period: 1s\n    asset_type: 'mo tor'\n"
                         "    signals: {a: A}\n"),
              HasSubstr("invalid asset type id"));
}

TEST(ParseViewsTest, ExampleViewsFileParsesAndMatchesThePlant) {
  const char* src = std::getenv("WEFT_SOURCE_DIR");
  const std::string root = src != nullptr ? src : WEFT_TEST_SOURCE_DIR;
  Result<std::vector<ViewDef>> views = LoadViewsFile(root + "/examples/views.yaml");
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  Result<const ViewDef*> motor = FindView(*views, "motor_health");
  ASSERT_TRUE(motor.ok());

  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(root + "/examples/plant.yaml", &diags);
  ASSERT_TRUE(plant.ok()) << diags.ToString();
  // Every view's asset types exist in the plant and declare its signals in a convertible unit.
  for (const ViewDef& v : *views) {
    for (const std::string& type_name : v.asset_types) {
      const model::AssetType* type = plant->FindAssetType(type_name);
      ASSERT_NE(type, nullptr) << v.name << ": " << type_name;
      for (const ViewSignal& s : v.signals) {
        auto it = std::find_if(type->signals.begin(), type->signals.end(),
                               [&](const auto& t) { return t.name == s.signal; });
        ASSERT_NE(it, type->signals.end()) << v.name << ": " << s.signal;
        Result<model::Unit> stored = model::ParseUnit(it->unit);
        ASSERT_TRUE(stored.ok());
        EXPECT_TRUE(model::Convertible(*stored, s.unit)) << v.name << ": " << s.signal;
      }
    }
  }
  // cnc_spindle extends motor: IncludeSubtypes adds it.
  ViewDef expanded = **motor;
  IncludeSubtypes(*plant, &expanded);
  EXPECT_THAT(expanded.asset_types, ::testing::Contains("cnc_spindle"));
  EXPECT_THAT(expanded.asset_types, Not(::testing::Contains("pump")));
}

// ------------------------------------------------------------------------------------------------
// Reading

constexpr char kTelemetrySchema[] =
    "date date not null, ts timestamp not null, edge string not null, stream string, seq long, "
    "site string, area string, line string, asset string not null, asset_type string, "
    "signal string not null, unit string, quantity string, value double, quality int";

const int64_t kT0 = *ParseTimestampMicros("2026-11-25T10:00:00Z");
int64_t At(double seconds) {
  return kT0 + static_cast<int64_t>(std::llround(seconds * 1e6));
}

struct Sample {
  double t;  //!< seconds after kT0
  std::string asset;
  std::string signal;
  std::string unit;
  std::optional<double> value;
  int quality = 0;
  std::string asset_type = "motor";
};

struct Place {
  std::string site, area, line;
};

Place PlaceOf(const std::string& asset) {
  if (asset == "m2") return {"brno", "pack", "b1"};
  return {"lyon", "machining", "l1"};
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("weft-views-test-" + std::to_string(rd()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

class ViewReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<lake::LakeTable>> t =
        lake::LakeTable::Open(dir_.str() + "/telemetry", &clock_, /*create_location=*/true);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    table_ = std::move(t).value();
    Result<std::vector<lake::BatchField>> schema = lake::ParseSchemaText(kTelemetrySchema);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = *schema;
    ASSERT_TRUE(table_->Create(schema_, {"date"}).ok());

    // Appended out of order (m2 before m1, later samples first): the output is still sorted.
    Append({
        {0.0, "m2", "winding_temp", "K", 323.15},
        {0.5, "m2", "current", "mA", 5000},
        {3.0, "m1", "winding_temp", "degC", 60},
        {1.2, "m1", "winding_temp", "degC", 54},
        {0.0, "m1", "winding_temp", "degC", 50},
        {0.5, "m1", "winding_temp", "degC", 52},
        {0.1, "m1", "vibration_rms", "mm/s", 1.5},
        {0.6, "m1", "vibration_rms", "mm/s", 2.5},
        {2.5, "m1", "vibration_rms", "mm/s", 3.0, /*quality=*/4},  // bad: only sample of t=2
        {0.9, "m1", "current", "A", 12},
        {0.2, "m1", "current", "A", 10},
        {1.0, "m1", "current", "A", 11},
        {1.5, "m1", "current", "A", std::nullopt},   // no value
        {0.4, "p1", "current", "A", 99, 0, "pump"},  // another asset type
        {0.4, "m1", "speed", "rpm", 1480},           // not in the view
    });
    Result<std::vector<ViewDef>> views = ParseViews(kMotorHealth, "views.yaml");
    ASSERT_TRUE(views.ok()) << views.status().ToString();
    view_ = views->front();
  }

  void Append(const std::vector<Sample>& samples) {
    lake::RecordBatch b(schema_);
    auto col = [&](const char* name) -> lake::Column& {
      return b.column(static_cast<size_t>(b.Find(name)));
    };
    for (const Sample& s : samples) {
      const int64_t ts = At(s.t);
      const Place p = PlaceOf(s.asset);
      col("date").AppendInt(DayOf(TimeFromUnixMicros(ts)).time_since_epoch().count());
      col("ts").AppendInt(ts);
      col("edge").AppendString("edge-1");
      col("stream").AppendString("s");
      col("seq").AppendInt(1);
      col("site").AppendString(p.site);
      col("area").AppendString(p.area);
      col("line").AppendString(p.line);
      col("asset").AppendString(s.asset);
      col("asset_type").AppendString(s.asset_type);
      col("signal").AppendString(s.signal);
      col("unit").AppendString(s.unit);
      col("quantity").AppendNull();
      if (s.value) {
        col("value").AppendDouble(*s.value);
      } else {
        col("value").AppendNull();
      }
      col("quality").AppendInt(s.quality);
    }
    Result<lake::AppendResult> r = table_->Append(b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  Result<lake::RecordBatch> Read(const ViewQuery& q, ViewReadStats* stats = nullptr) {
    return ReadView(*table_, view_, q, stats);
  }
  static ViewQuery Range(double from_s, double to_s) {
    ViewQuery q;
    q.from_us = At(from_s);
    q.to_us = At(to_s);
    return q;
  }

  ManualClock clock_{TimeFromUnixMicros(kT0)};
  TempDir dir_;
  std::unique_ptr<lake::LakeTable> table_;
  std::vector<lake::BatchField> schema_;
  ViewDef view_;
};

// A row of the wide output: ts offset in seconds, asset, then the signal columns.
struct Row {
  double t;
  std::string asset;
  std::vector<std::optional<double>> values;
};

std::vector<Row> Rows(const lake::RecordBatch& b) {
  std::vector<Row> out;
  for (size_t i = 0; i < b.num_rows(); ++i) {
    Row r;
    r.t = static_cast<double>(b.column(0).IntAt(i) - kT0) / 1e6;
    r.asset = std::string(b.column(1).StringAt(i));
    for (size_t c = 2; c < b.num_columns(); ++c) {
      r.values.push_back(b.column(c).IsValid(i) ? std::optional<double>(b.column(c).DoubleAt(i))
                                                : std::nullopt);
    }
    out.push_back(std::move(r));
  }
  return out;
}

void ExpectRow(const Row& r, double t, const std::string& asset,
               const std::vector<std::optional<double>>& values) {
  SCOPED_TRACE(asset + " @" + std::to_string(t));
  EXPECT_EQ(r.t, t);
  EXPECT_EQ(r.asset, asset);
  ASSERT_EQ(r.values.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(r.values[i].has_value(), values[i].has_value()) << "column " << i;
    if (values[i]) {
      EXPECT_NEAR(*r.values[i], *values[i], 1e-9) << "column " << i;
    }
  }
}

constexpr std::nullopt_t kNull = std::nullopt;

TEST_F(ViewReaderTest, ResamplesConvertsAndSorts) {
  ViewReadStats stats;
  Result<lake::RecordBatch> out = Read(Range(0, 10), &stats);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->num_columns(), 5u);
  EXPECT_EQ(out->fields()[0].name, "ts");
  EXPECT_EQ(out->fields()[0].type, lake::ColumnType::kTimestampMicros);
  EXPECT_EQ(out->fields()[1].name, "asset");
  EXPECT_EQ(out->fields()[2].name, "winding_temp");
  EXPECT_EQ(out->fields()[3].name, "vibration_rms");
  EXPECT_EQ(out->fields()[4].name, "current_a");
  EXPECT_EQ(out->fields()[4].type, lake::ColumnType::kDouble);

  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 4u);
  // m1 @0: winding mean(50, 52), vibration max(1.5, 2.5), current last of (0.2: 10, 0.9: 12).
  ExpectRow(rows[0], 0, "m1", {51.0, 2.5, 12.0});
  ExpectRow(rows[1], 1, "m1", {54.0, kNull, 11.0});
  // t=2 had only a bad-quality sample: no row. t=3 winding only.
  ExpectRow(rows[2], 3, "m1", {60.0, kNull, kNull});
  // m2: 323.15 K -> 50 degC, 5000 mA -> 5 A.
  ExpectRow(rows[3], 0, "m2", {50.0, kNull, 5.0});

  EXPECT_EQ(stats.rows_bad_quality, 1u);
  EXPECT_EQ(stats.rows_null_value, 1u);
  EXPECT_EQ(stats.rows_used, 11u);
}

TEST_F(ViewReaderTest, FillPreviousCarriesLastValueForward) {
  view_.fill = Fill::kPrevious;
  Result<lake::RecordBatch> out = Read(Range(0, 10));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 4u);
  ExpectRow(rows[0], 0, "m1", {51.0, 2.5, 12.0});
  ExpectRow(rows[1], 1, "m1", {54.0, 2.5, 11.0});
  ExpectRow(rows[2], 3, "m1", {60.0, 2.5, 11.0});
  // Nothing to carry from another asset.
  ExpectRow(rows[3], 0, "m2", {50.0, kNull, 5.0});
}

TEST_F(ViewReaderTest, GoodOnlyFalseKeepsFlaggedSamples) {
  view_.good_only = false;
  Result<lake::RecordBatch> out = Read(Range(0, 10));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 5u);
  ExpectRow(rows[2], 2, "m1", {kNull, 3.0, kNull});
}

TEST_F(ViewReaderTest, TimeRangeFromInclusiveToExclusive) {
  // [1.2, 3.0): the winding sample at exactly 1.2 is in, current at 1.0 is before, 3.0 is out.
  Result<lake::RecordBatch> out = Read(Range(1.2, 3.0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 1u);
  ExpectRow(rows[0], 1, "m1", {54.0, kNull, kNull});  // ts is the period start, before `from`

  out = Read(Range(3.0, 3.000001));
  ASSERT_TRUE(out.ok());
  rows = Rows(*out);
  ASSERT_EQ(rows.size(), 1u);
  ExpectRow(rows[0], 3, "m1", {60.0, kNull, kNull});

  out = Read(Range(0.0, 0.0));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ViewReaderTest, AssetFilter) {
  ViewQuery q = Range(0, 10);
  q.asset = "m2";
  Result<lake::RecordBatch> out = Read(q);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 1u);
  ExpectRow(rows[0], 0, "m2", {50.0, kNull, 5.0});

  q.asset = "nobody";
  out = Read(q);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_rows(), 0u);
  EXPECT_EQ(out->num_columns(), 5u);
}

TEST_F(ViewReaderTest, RowFilterSeesPlaceAndAsset) {
  ViewQuery q = Range(0, 10);
  std::vector<std::string> seen;
  q.row_filter = [&](std::string_view site, std::string_view area, std::string_view line,
                     std::string_view asset) {
    seen.push_back(std::string(site) + "/" + std::string(area) + "/" + std::string(line) + "/" +
                   std::string(asset));
    return site == "lyon";
  };
  ViewReadStats stats;
  Result<lake::RecordBatch> out = Read(q, &stats);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 3u);
  for (const Row& r : rows) EXPECT_EQ(r.asset, "m1");
  EXPECT_EQ(stats.rows_filtered, 2u);
  EXPECT_THAT(seen, ::testing::Contains("brno/pack/b1/m2"));
  EXPECT_THAT(seen, ::testing::Contains("lyon/machining/l1/m1"));
}

TEST_F(ViewReaderTest, UnconvertibleUnitIsAnErrorNamingEverything) {
  Append({{100.0, "m3", "winding_temp", "bar", 2.0}});
  Result<lake::RecordBatch> out = Read(Range(100, 101));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("view 'motor_health'"));
  EXPECT_THAT(out.status().message(), HasSubstr("signal 'winding_temp'"));
  EXPECT_THAT(out.status().message(), HasSubstr("asset 'm3'"));
  EXPECT_THAT(out.status().message(), HasSubstr("'bar'"));
  EXPECT_THAT(out.status().message(), HasSubstr("'degC'"));
  // Outside the range it is not read, so the earlier data still reads.
  EXPECT_TRUE(Read(Range(0, 10)).ok());
}

TEST_F(ViewReaderTest, NewSignalAppearsWithoutSchemaChange) {
  Result<std::vector<lake::BatchField>> before = table_->Schema();
  ASSERT_TRUE(before.ok());
  // A signal first seen now: bearing temperature, in degF.
  Append({{0.3, "m1", "bearing_temp_de", "degF", 104.0},
          {1.7, "m1", "bearing_temp_de", "degF", 122.0}});
  Result<std::vector<lake::BatchField>> after = table_->Schema();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());

  // The old view is unchanged.
  Result<lake::RecordBatch> out = Read(Range(0, 10));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_columns(), 5u);
  EXPECT_EQ(out->num_rows(), 4u);

  Result<std::vector<ViewDef>> views = ParseViews(R"(views:
  bearings:
    asset_type: motor
    period: 1s
    signals:
      bearing_temp_de: {unit: degC}
      winding_temp: {unit: degC}
)",
                                                  "views.yaml");
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  view_ = views->front();
  out = Read(Range(0, 10));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->fields()[2].name, "bearing_temp_de");
  std::vector<Row> rows = Rows(*out);
  ASSERT_EQ(rows.size(), 4u);
  ExpectRow(rows[0], 0, "m1", {40.0, 51.0});  // 104 degF = 40 degC
  ExpectRow(rows[1], 1, "m1", {50.0, 54.0});  // 122 degF = 50 degC
  ExpectRow(rows[2], 3, "m1", {kNull, 60.0});
  ExpectRow(rows[3], 0, "m2", {kNull, 50.0});

  // Time travel to before the new signal was written (version 1: the first append).
  ViewQuery q = Range(0, 10);
  q.version = 1;
  out = Read(q);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  rows = Rows(*out);
  ASSERT_EQ(rows.size(), 4u);
  ExpectRow(rows[0], 0, "m1", {kNull, 51.0});
  ExpectRow(rows[1], 1, "m1", {kNull, 54.0});
}

TEST_F(ViewReaderTest, PushesDownTimeDateAndNames) {
  ViewQuery q = Range(0, 10);
  q.asset = "o'brien";
  const std::string p = ViewScanPredicate(view_, q, /*has_date=*/true, /*has_asset_type=*/true);
  EXPECT_EQ(p,
            "ts >= '2026-11-25T10:00:00.000000Z' and ts < '2026-11-25T10:00:10.000000Z' and "
            "date >= '2026-11-25' and date <= '2026-11-25' and asset = 'o''brien' and "
            "asset_type = 'motor' and signal >= 'current' and signal <= 'winding_temp'");
  // The predicate is valid for the table.
  Result<std::vector<lake::BatchField>> schema = table_->Schema();
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(lake::Predicate::Parse(p, *schema).ok());

  // A range ending at midnight does not reach into the next day.
  ViewQuery day;
  day.from_us = *ParseTimestampMicros("2026-11-24T00:00:00Z");
  day.to_us = *ParseTimestampMicros("2026-11-25T00:00:00Z");
  EXPECT_THAT(ViewScanPredicate(view_, day, true, false),
              HasSubstr("date >= '2026-11-24' and date <= '2026-11-24' and signal"));

  // Data on another day is in another partition: its file is skipped, not read.
  Append({{-2 * 86400.0, "m1", "winding_temp", "degC", 10}});
  ViewReadStats stats;
  Result<lake::RecordBatch> out = Read(Range(0, 10), &stats);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->num_rows(), 4u);
  EXPECT_EQ(stats.scan.files_total, 2u);
  EXPECT_EQ(stats.scan.files_skipped, 1u);
  out = Read(Range(-2 * 86400.0, -2 * 86400.0 + 1), &stats);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->num_rows(), 1u);
  EXPECT_EQ(stats.scan.files_skipped, 1u);
}

TEST_F(ViewReaderTest, MissingColumnIsFailedPrecondition) {
  TempDir other;
  Result<std::unique_ptr<lake::LakeTable>> t =
      lake::LakeTable::Open(other.str() + "/t", &clock_, true);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(
      (*t)->Create(*lake::ParseSchemaText("ts timestamp, asset string, value double"), {}).ok());
  Result<lake::RecordBatch> out = ReadView(**t, view_, Range(0, 1));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(out.status().message(), HasSubstr("'signal'"));
}

TEST_F(ViewReaderTest, WritesCsvJsonlAndParquet) {
  Result<lake::RecordBatch> out = Read(Range(0, 10));
  ASSERT_TRUE(out.ok());

  std::ostringstream csv;
  ASSERT_TRUE(WriteView(*out, Format::kCsv, csv).ok());
  EXPECT_THAT(csv.str(), ::testing::StartsWith("ts,asset,winding_temp,vibration_rms,current_a\n"
                                               "2026-11-25T10:00:00.000000Z,m1,51,2.5,12\n"
                                               "2026-11-25T10:00:01.000000Z,m1,54,,11\n"));

  std::ostringstream jsonl;
  ASSERT_TRUE(WriteView(*out, Format::kJsonl, jsonl).ok());
  EXPECT_THAT(jsonl.str(), HasSubstr("\"vibration_rms\":null"));
  const std::string lines = jsonl.str();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 4);

  std::ostringstream pq;
  ASSERT_TRUE(WriteView(*out, Format::kParquet, pq).ok());
  auto reader =
      lake::parquet::ParquetReader::Open(std::make_unique<lake::parquet::MemorySource>(pq.str()));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->metadata().num_rows, 4);
  Result<lake::parquet::FlatBatch> flat = (*reader)->ReadFlat(0, {"ts", "winding_temp"});
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  ASSERT_EQ(flat->num_rows, 4);
  EXPECT_EQ(flat->columns[0].values.int64s[0], kT0);
  EXPECT_EQ(flat->columns[1].values.doubles[1], 54.0);

  // An empty result is still a valid file / a header.
  view_.asset_types = {"nothing"};
  out = Read(Range(0, 10));
  ASSERT_TRUE(out.ok());
  std::ostringstream empty_pq;
  ASSERT_TRUE(WriteView(*out, Format::kParquet, empty_pq).ok());
  EXPECT_TRUE(lake::parquet::ParquetReader::Open(
                  std::make_unique<lake::parquet::MemorySource>(empty_pq.str()))
                  .ok());

  EXPECT_EQ(*ParseFormat("parquet"), Format::kParquet);
  Result<Format> bad = ParseFormat("jsnol");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("did you mean 'jsonl'"));
}

}  // namespace
}  // namespace weft::core::views
