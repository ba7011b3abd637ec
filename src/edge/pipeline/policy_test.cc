#include "edge/pipeline/policy.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/example_plant.h"

namespace weft::edge {
namespace {

using std::chrono::seconds;

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { table_ = Table({}); }

  static std::unique_ptr<SignalTable> Table(EdgeScope scope) {
    Result<SignalTable> t = SignalTable::FromPlant(testing::ExamplePlant(), scope);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::make_unique<SignalTable>(*std::move(t)) : nullptr;
  }

  // Parses an edge.yaml holding (at least) a `pipeline:` section.
  Result<std::vector<SignalPolicy>> Parse(const std::string& yaml,
                                          const SignalTable* table = nullptr) {
    diags_ = Diagnostics();
    model::YamlReader r("edge.yaml", &diags_);
    std::optional<model::YamlValue> root = r.ParseDocument(yaml, 1 << 20);
    if (!root) return diags_.ToStatus("edge.yaml");
    model::YamlFields f = r.OpenMap(*root, {"pipeline"});
    std::optional<model::YamlValue> section = f.Get("pipeline");
    if (!section) return InvalidArgumentError("test: no pipeline section");
    return ParsePipelineSection(r, *section, table ? *table : *table_);
  }

  const SignalPolicy& Of(const std::vector<SignalPolicy>& policies, const char* asset,
                         const char* signal) {
    SignalId id = table_->Find(asset, signal).value();
    EXPECT_EQ(policies[id].signal, id);
    return policies[id];
  }

  // True when a diagnostic at `line` of kind `kind` has `text` in its message.
  bool Has(int line, const std::string& kind, const std::string& text) const {
    for (const Diagnostic& d : diags_.all()) {
      if (d.location.line == line && d.kind == kind && d.message.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  std::string All() const { return diags_.ToString(); }

  std::unique_ptr<SignalTable> table_;
  Diagnostics diags_;
};

TEST_F(PolicyTest, ThePrecedenceOfTheLevels) {
  auto r = Parse(R"(
pipeline:
  defaults: {deadband: 1, max_interval: 60s, route: raw, priority: normal}
  asset_types:
    cnc_spindle:            # extends motor: applied after motor
      deadband: 4
    motor:
      priority: high
      deadband: 2
      signals:
        winding_temp: {deadband: 3}
        vibration_rms: {deadband: 2%, window: 10s, stats: [mean, max, std], route: raw+aggregate}
  assets:
    l1-sp-01:
      stuck_after: 30s
      signals: {winding_temp: {deadband: 0.2, min_interval: 1s}}
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << All();
  ASSERT_EQ(r->size(), table_->size());
  // The asset's signal level wins.
  const SignalPolicy& sp1 = Of(*r, "l1-sp-01", "winding_temp");
  EXPECT_EQ(sp1.deadband, 0.2);
  EXPECT_FALSE(sp1.deadband_percent);
  EXPECT_EQ(sp1.min_interval, seconds(1));
  EXPECT_EQ(sp1.stuck_after, seconds(30));
  EXPECT_EQ(sp1.max_interval, seconds(60)) << "from defaults";
  EXPECT_EQ(sp1.priority, Priority::kHigh) << "from motor, an ancestor of cnc_spindle";
  // On another spindle, cnc_spindle's own key comes after motor's signal key.
  const SignalPolicy& sp2 = Of(*r, "l1-sp-02", "winding_temp");
  EXPECT_EQ(sp2.deadband, 4);
  EXPECT_EQ(sp2.stuck_after, seconds(0));
  // A plain motor: the type's signal key over the type's own.
  EXPECT_EQ(Of(*r, "l1-mo-01", "winding_temp").deadband, 3);
  EXPECT_EQ(Of(*r, "l1-mo-01", "current").deadband, 2);
  // A pump: only the defaults.
  const SignalPolicy& pump = Of(*r, "l1-cp-01", "flow");
  EXPECT_EQ(pump.deadband, 1);
  EXPECT_EQ(pump.priority, Priority::kNormal);
  EXPECT_EQ(pump.stale_after, seconds(3)) << "built-in: 3 periods";
  EXPECT_EQ(pump.max, 5000.0) << "range from the plant";
  // The full signal-level example on a plain motor.
  const SignalPolicy& vib = Of(*r, "l2-pr-01", "vibration_rms");
  EXPECT_EQ(vib.deadband, 2);
  EXPECT_TRUE(vib.deadband_percent);
  EXPECT_EQ(vib.window, seconds(10));
  EXPECT_EQ(vib.stats, stat::kMean | stat::kMax | stat::kStd);
  EXPECT_EQ(vib.route, Route::kRawAndAggregate);
  EXPECT_EQ(vib.priority, Priority::kHigh);
}

TEST_F(PolicyTest, RangeStaleAndOffValues) {
  auto r = Parse(R"(
pipeline:
  assets:
    l1-sp-01:
      signals:
        winding_temp: {range: [0, 120], stale_after: 0, stuck_after: 2min, max_interval: off}
        spindle_load: {range: off}
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << All();
  const SignalPolicy& w = Of(*r, "l1-sp-01", "winding_temp");
  EXPECT_EQ(w.min, 0.0);
  EXPECT_EQ(w.max, 120.0);
  EXPECT_EQ(w.stale_after, seconds(0));
  EXPECT_EQ(w.stuck_after, seconds(120));
  const SignalPolicy& load = Of(*r, "l1-sp-01", "spindle_load");
  EXPECT_FALSE(load.min.has_value());
  EXPECT_FALSE(load.max.has_value());
}

TEST_F(PolicyTest, EmptySectionIsTheDefaults) {
  auto r = Parse("pipeline:\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<SignalPolicy> d = DefaultPolicies(*table_);
  ASSERT_EQ(r->size(), d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ((*r)[i].stale_after, d[i].stale_after);
    EXPECT_EQ((*r)[i].route, Route::kRaw);
    EXPECT_EQ((*r)[i].deadband, 0);
  }
}

TEST_F(PolicyTest, UnknownNamesAreReportedWithLineAndHint) {
  auto r = Parse(R"(pipeline:
  defaults: {deadbnd: 1}
  asset_types:
    moter: {priority: high}
    motor:
      signals:
        winding_tmp: {deadband: 1}
  assets:
    l1-sp-1: {priority: low}
    l1-sp-05:
      signals: {vibration_rms: {deadband: 1}}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("pipeline: 5 errors"), std::string::npos)
      << r.status().message() << "\n"
      << All();
  EXPECT_NE(r.status().message().find("edge.yaml:2:14"), std::string::npos) << r.status().message();
  EXPECT_TRUE(Has(2, "unknown_field", "did you mean 'deadband'?")) << All();
  EXPECT_TRUE(Has(4, "unknown_asset_type", "unknown asset type 'moter'; did you mean 'motor'?"))
      << All();
  EXPECT_TRUE(Has(7, "unknown_signal",
                  "asset type 'motor': unknown signal 'winding_tmp'; did you mean 'winding_temp'?"))
      << All();
  EXPECT_TRUE(Has(9, "unknown_asset", "did you mean 'l1-sp-01'?")) << All();
  EXPECT_TRUE(Has(11, "unknown_signal", "not fitted on asset 'l1-sp-05'")) << All();
  // The field path is given too.
  bool path_found = false;
  for (const Diagnostic& d : diags_.all()) {
    path_found = path_found || d.field == "pipeline.asset_types.motor.signals.winding_tmp";
  }
  EXPECT_TRUE(path_found) << All();
}

TEST_F(PolicyTest, BadValuesAreReportedWithLineNumbers) {
  auto r = Parse(R"(pipeline:
  defaults:
    route: rwa
    priority: urgent
    deadband: -1
    window: 10 parsecs
    stats: [mean, median]
    range: [10, 0]
    min_interval: [1s]
)");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(3, "invalid_value", "unknown route 'rwa'; did you mean 'raw'?")) << All();
  EXPECT_TRUE(Has(4, "invalid_value", "unknown priority 'urgent'")) << All();
  EXPECT_TRUE(Has(5, "invalid_value", "cannot be negative")) << All();
  EXPECT_TRUE(Has(6, "invalid_value", "invalid duration")) << All();
  EXPECT_TRUE(Has(7, "invalid_value", "unknown statistic 'median'")) << All();
  EXPECT_TRUE(Has(8, "invalid_value", "min 10 is above its max 0")) << All();
  EXPECT_TRUE(Has(9, "wrong_type", "expected a text value")) << All();
  EXPECT_EQ(diags_.error_count(), 7u) << All();
}

TEST_F(PolicyTest, AggregateRouteNeedsAWindow) {
  auto r = Parse(R"(pipeline:
  asset_types:
    pump:
      route: aggregate
      signals: {flow: {window: 1min}}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(4, "inconsistent_policy", "route 'aggregate' needs a window")) << All();
  EXPECT_EQ(diags_.error_count(), 1u) << "one report per place, not per signal\n" << All();
}

TEST_F(PolicyTest, AssetOutsideTheEdgeScopeIsNamed) {
  std::unique_ptr<SignalTable> line1 = Table({{"l1-machining"}});
  auto r = Parse(R"(pipeline:
  assets:
    l2-pr-01: {priority: high}
)",
                 line1.get());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(3, "unknown_asset", "in the plant but not in this edge's scope")) << All();
}

TEST_F(PolicyTest, WrongShapesAreReportedNotThrown) {
  EXPECT_FALSE(Parse("pipeline: 5\n").ok());
  EXPECT_TRUE(Has(1, "wrong_type", "expected a mapping")) << All();
  EXPECT_FALSE(Parse("pipeline: {assets: [a, b]}\n").ok());
  EXPECT_FALSE(Parse("pipeline: {asset_types: {motor: {signals: [x]}}}\n").ok());
  EXPECT_FALSE(Parse("pipeline: {asset_types: {motor: {signals: {winding_temp: 3}}}}\n").ok());
  EXPECT_FALSE(Parse("pipeline: {defaults: {signals: {x: {}}}}\n").ok());
  EXPECT_TRUE(Has(1, "unknown_field", "unknown field 'signals'")) << All();
  EXPECT_FALSE(Parse("pipeline: {defaults: {stats: []}}\n").ok());
  EXPECT_FALSE(Parse("pipeline: {defaults: {range: [1]}}\n").ok());
  EXPECT_FALSE(Parse("pipeline: {defaults: {deadband: '%'}}\n").ok());
  EXPECT_FALSE(Parse("pipeline: {assets: {[a]: {}}}\n").ok());
}

TEST(PolicyNames, RouteAndStats) {
  EXPECT_EQ(RouteName(Route::kRawAndAggregate), "raw+aggregate");
  EXPECT_EQ(StatsName(stat::kAll), "mean,min,max,std,last,count");
  EXPECT_EQ(StatsName(stat::kMax | stat::kMean), "mean,max");
}

}  // namespace
}  // namespace weft::edge
