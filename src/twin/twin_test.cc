#include "twin/twin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

// Counts heap allocations so a test can check that Step and Output never allocate. Not inlined:
// GCC 12 would otherwise see malloc() paired with operator delete, or free() with a new
// expression, and warn (-Wmismatched-new-delete), although the replacements match each other.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

[[gnu::noinline]] void* operator new(std::size_t size) {
  ++g_allocations;
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) std::abort();
  return p;
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t /*size*/) noexcept {
  std::free(p);
}

namespace weft::twin {
namespace {

using ::testing::HasSubstr;

TEST(Rng, SameSeedSameNumbersDifferentSeedDifferent) {
  Rng a(42);
  Rng b(42);
  Rng c(43);
  bool any_difference = false;
  for (int i = 0; i < 1000; ++i) {
    const double x = a.Normal(0, 1);
    EXPECT_EQ(x, b.Normal(0, 1));
    if (x != c.Normal(0, 1)) any_difference = true;
  }
  EXPECT_TRUE(any_difference);
}

TEST(Rng, FirstDrawsArePinned) {
  // The transformations are our own, so a seed gives these numbers on every standard library.
  Rng rng(1);
  const double u = rng.Uniform(0, 1);
  Rng again(1);
  EXPECT_EQ(u, again.Uniform(0, 1));
  std::mt19937_64 engine(1);
  EXPECT_EQ(u, static_cast<double>(engine() >> 11) * 0x1.0p-53);
}

TEST(Rng, DistributionsHaveTheirMoments) {
  Rng rng(7);
  constexpr int kN = 400000;
  double uniform_sum = 0;
  double normal_sum = 0;
  double normal_sq = 0;
  double exp_sum = 0;
  int heads = 0;
  double uniform_min = 1e9;
  double uniform_max = -1e9;
  for (int i = 0; i < kN; ++i) {
    const double u = rng.Uniform(2, 5);
    uniform_min = std::min(uniform_min, u);
    uniform_max = std::max(uniform_max, u);
    uniform_sum += u;
    const double z = rng.Normal(10, 3);
    normal_sum += z;
    normal_sq += (z - 10) * (z - 10);
    const double e = rng.Exponential(4);
    ASSERT_GE(e, 0);
    ASSERT_TRUE(std::isfinite(e));
    exp_sum += e;
    if (rng.Bernoulli(0.3)) ++heads;
  }
  // Tolerances are 5 standard errors of each mean.
  EXPECT_GE(uniform_min, 2);
  EXPECT_LT(uniform_max, 5);
  EXPECT_NEAR(uniform_sum / kN, 3.5, 5 * (3 / std::sqrt(12.0)) / std::sqrt(kN));
  EXPECT_NEAR(normal_sum / kN, 10, 5 * 3 / std::sqrt(kN));
  EXPECT_NEAR(std::sqrt(normal_sq / kN), 3, 5 * 3 / std::sqrt(2.0 * kN));
  EXPECT_NEAR(exp_sum / kN, 4, 5 * 4 / std::sqrt(kN));
  EXPECT_NEAR(static_cast<double>(heads) / kN, 0.3, 5 * std::sqrt(0.3 * 0.7 / kN));
}

TEST(Rng, BernoulliEdges) {
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rng.Bernoulli(0));
    EXPECT_TRUE(rng.Bernoulli(1));
  }
}

TEST(FaultKind, NamesRoundTrip) {
  for (FaultKind k : {FaultKind::kBearingWear, FaultKind::kCoolingLoss, FaultKind::kCavitation,
                      FaultKind::kImpellerWear}) {
    Result<FaultKind> parsed = ParseFaultKind(FaultKindName(k));
    ASSERT_TRUE(parsed.ok()) << FaultKindName(k);
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(FaultKindName(FaultKind::kBearingWear), "bearing_wear");
  EXPECT_EQ(FaultKindName(FaultKind::kCoolingLoss), "cooling_loss");
  EXPECT_EQ(FaultKindName(FaultKind::kCavitation), "cavitation");
  EXPECT_EQ(FaultKindName(FaultKind::kImpellerWear), "impeller_wear");
}

TEST(FaultKind, UnknownNameIsInvalidArgumentWithHint) {
  Result<FaultKind> parsed = ParseFaultKind("bearing_waer");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("did you mean 'bearing_wear'"));
}

// The signals of each built-in asset type, copied from src/model/builtin_asset_types.cc (this
// test cannot link weft::model). Every twin output must be one of them.
const std::map<std::string, std::set<std::string>>& AssetTypeSignals() {
  static const auto* const kSignals = new std::map<std::string, std::set<std::string>>{
      {"motor",
       {"winding_temp", "bearing_temp_de", "bearing_temp_nde", "vibration_rms", "current",
        "voltage", "power", "energy", "speed", "running"}},
      {"pump",
       {"flow", "suction_pressure", "discharge_pressure", "motor_current", "power", "energy",
        "speed", "vibration_rms", "bearing_temp", "fluid_temp", "running"}},
      {"compressor",
       {"discharge_pressure", "discharge_temp", "inlet_temp", "oil_temp", "free_air_delivery",
        "power", "energy", "load", "vibration_rms", "dew_point", "state", "running_hours"}},
      {"conveyor",
       {"belt_speed", "motor_current", "power", "energy", "state", "down_reason", "cycle_time",
        "good_count", "reject_count", "vibration_rms", "item_id"}},
      {"hvac_zone",
       {"zone_temp", "zone_humidity", "outdoor_temp", "supply_air_temp", "setpoint", "occupancy",
        "co2", "heat_pump_power", "heat_pump_energy", "cop"}},
  };
  return *kSignals;
}

TEST(MakeTwin, BuildsEveryModel) {
  EXPECT_THAT(TwinModels(),
              ::testing::ElementsAre("motor", "pump", "compressor", "conveyor", "hvac_zone"));
  for (const std::string& model : TwinModels()) {
    Result<std::unique_ptr<Twin>> twin = MakeTwin(model, {});
    ASSERT_TRUE(twin.ok()) << model << ": " << twin.status().ToString();
    const TwinInfo& info = (*twin)->info();
    EXPECT_EQ(info.name, model);
    EXPECT_EQ(info.version, "1.0.0");
    EXPECT_FALSE(info.parameters.empty());
    std::set<std::string> names;
    for (const Parameter& p : info.parameters) {
      EXPECT_FALSE(p.unit.empty()) << model << "." << p.name;
      EXPECT_FALSE(p.description.empty()) << model << "." << p.name;
      EXPECT_TRUE(std::isfinite(p.value)) << model << "." << p.name;
      EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << model << "." << p.name;
    }
    EXPECT_FALSE((*twin)->InputNames().empty());
  }
}

TEST(MakeTwin, OutputsAreSignalsOfTheAssetType) {
  for (const std::string& model : TwinModels()) {
    std::unique_ptr<Twin> twin = MakeTwin(model, {}).value();
    const std::set<std::string>& signals = AssetTypeSignals().at(model);
    std::vector<std::string> outputs = twin->OutputNames();
    EXPECT_GE(outputs.size(), 10u) << model;
    Rng rng(1);
    twin->Step(1.0, rng);
    for (const std::string& name : outputs) {
      EXPECT_TRUE(signals.count(name))
          << model << " output '" << name << "' is not a signal of its asset type";
      std::optional<double> value = twin->Output(name);
      ASSERT_TRUE(value.has_value()) << model << "." << name;
      EXPECT_TRUE(std::isfinite(*value)) << model << "." << name;
    }
    EXPECT_FALSE(twin->Output("no_such_output").has_value());
  }
}

TEST(MakeTwin, EachModelHasItsDocumentedOutputs) {
  auto outputs = [](std::string_view model) { return MakeTwin(model, {}).value()->OutputNames(); };
  EXPECT_THAT(outputs("motor"),
              ::testing::UnorderedElementsAre("winding_temp", "bearing_temp_de", "bearing_temp_nde",
                                              "vibration_rms", "current", "voltage", "power",
                                              "energy", "speed", "running"));
  EXPECT_THAT(outputs("pump"),
              ::testing::UnorderedElementsAre(
                  "flow", "suction_pressure", "discharge_pressure", "motor_current", "power",
                  "energy", "speed", "vibration_rms", "bearing_temp", "fluid_temp", "running"));
  EXPECT_THAT(outputs("compressor"), ::testing::UnorderedElementsAre(
                                         "discharge_pressure", "discharge_temp", "inlet_temp",
                                         "oil_temp", "free_air_delivery", "power", "energy", "load",
                                         "state", "running_hours", "vibration_rms", "dew_point"));
  EXPECT_THAT(outputs("conveyor"),
              ::testing::UnorderedElementsAre("belt_speed", "motor_current", "power", "energy",
                                              "state", "down_reason", "cycle_time", "good_count",
                                              "reject_count", "vibration_rms"));
  EXPECT_THAT(outputs("hvac_zone"),
              ::testing::UnorderedElementsAre("zone_temp", "zone_humidity", "outdoor_temp",
                                              "supply_air_temp", "setpoint", "occupancy", "co2",
                                              "heat_pump_power", "heat_pump_energy", "cop"));
}

TEST(MakeTwin, UnknownModelIsNotFoundWithHint) {
  Result<std::unique_ptr<Twin>> twin = MakeTwin("moter", {});
  ASSERT_FALSE(twin.ok());
  EXPECT_EQ(twin.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(twin.status().message(), HasSubstr("did you mean 'motor'"));
}

TEST(MakeTwin, OverridesReplaceParameters) {
  std::unique_ptr<Twin> motor = MakeTwin("motor", {{"rated_power", 22}}).value();
  bool found = false;
  for (const Parameter& p : motor->info().parameters) {
    if (p.name == "rated_power") {
      EXPECT_EQ(p.value, 22);
      EXPECT_EQ(p.unit, "kW");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(MakeTwin, UnknownOverrideIsInvalidArgumentWithHint) {
  Result<std::unique_ptr<Twin>> twin = MakeTwin("motor", {{"rated_powr", 22}});
  ASSERT_FALSE(twin.ok());
  EXPECT_EQ(twin.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(twin.status().message(), HasSubstr("did you mean 'rated_power'"));
}

TEST(MakeTwin, OutOfRangeOverrideIsInvalidArgument) {
  for (const auto& [model, param] :
       std::vector<std::pair<std::string, std::string>>{{"motor", "thermal_resistance"},
                                                        {"pump", "bep_efficiency"},
                                                        {"compressor", "receiver_volume"},
                                                        {"conveyor", "mtbf"},
                                                        {"hvac_zone", "air_capacitance"}}) {
    Result<std::unique_ptr<Twin>> twin = MakeTwin(model, {{param, -1}});
    ASSERT_FALSE(twin.ok()) << model;
    EXPECT_EQ(twin.status().code(), StatusCode::kInvalidArgument) << model;
    EXPECT_THAT(twin.status().message(), HasSubstr(param));
    EXPECT_FALSE(MakeTwin(model, {{param, std::nan("")}}).ok()) << model;
  }
}

TEST(Twin, UnknownInputIsInvalidArgumentAndBadFaultSeverityOutOfRange) {
  for (const std::string& model : TwinModels()) {
    std::unique_ptr<Twin> twin = MakeTwin(model, {}).value();
    Status s = twin->SetInput("no_such_input", 1);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << model;
    EXPECT_EQ(twin->SetInput("running", 0.5).code(),
              model == "hvac_zone" ? StatusCode::kInvalidArgument : StatusCode::kOutOfRange)
        << model;
    for (FaultKind k : {FaultKind::kBearingWear, FaultKind::kCoolingLoss, FaultKind::kCavitation,
                        FaultKind::kImpellerWear}) {
      Status injected = twin->InjectFault(k, 0.5);
      if (injected.ok()) {
        EXPECT_EQ(twin->InjectFault(k, 0).code(), StatusCode::kOutOfRange);
        EXPECT_EQ(twin->InjectFault(k, 1.5).code(), StatusCode::kOutOfRange);
        EXPECT_EQ(twin->InjectFault(k, std::nan("")).code(), StatusCode::kOutOfRange);
      } else {
        EXPECT_EQ(injected.code(), StatusCode::kUnimplemented) << model;
      }
    }
  }
}

// One input schedule for each model that exercises its dynamics within 10,000 steps.
void DriveInputs(const std::string& model, int step, Twin& twin) {
  Status s;
  if (model == "motor") {
    if (step == 0) s = twin.InjectFault(FaultKind::kBearingWear, 1);
    if (step % 1000 == 0) s = twin.SetInput("load", 0.3 + 0.1 * (step / 1000));
  } else if (model == "pump") {
    if (step % 2000 == 0) s = twin.SetInput("speed", 1500 + step / 10.0);
    if (step == 5000) s = twin.InjectFault(FaultKind::kCavitation, 0.5);
  } else if (model == "compressor") {
    if (step % 2500 == 0) s = twin.SetInput("demand", 2 + step / 1000.0);
  } else if (model == "conveyor") {
    if (step == 0) s = twin.SetInput("ideal_cycle_time", 5);
  }
  ASSERT_TRUE(s.ok()) << model << " step " << step << ": " << s.ToString();
}

struct DeterminismCase {
  std::string model;
  double dt_s;
};

TEST(Twin, SameSeedSameOutputsDifferentSeedDifferentOutputs) {
  // hvac_zone's only randomness is the daily attendance: step it in minutes to span days.
  for (const DeterminismCase& c : std::vector<DeterminismCase>{
           {"motor", 1}, {"pump", 1}, {"compressor", 1}, {"conveyor", 1}, {"hvac_zone", 60}}) {
    std::unique_ptr<Twin> a = MakeTwin(c.model, {}).value();
    std::unique_ptr<Twin> b = MakeTwin(c.model, {}).value();
    std::unique_ptr<Twin> other = MakeTwin(c.model, {}).value();
    Rng rng_a(2024);
    Rng rng_b(2024);
    Rng rng_other(2025);
    const std::vector<std::string> names = a->OutputNames();
    bool identical = true;
    bool seed_matters = false;
    for (int step = 0; step < 10000; ++step) {
      DriveInputs(c.model, step, *a);
      DriveInputs(c.model, step, *b);
      DriveInputs(c.model, step, *other);
      a->Step(c.dt_s, rng_a);
      b->Step(c.dt_s, rng_b);
      other->Step(c.dt_s, rng_other);
      for (const std::string& name : names) {
        const double va = *a->Output(name);
        // Bit for bit, not approximately.
        if (va != *b->Output(name)) identical = false;
        if (va != *other->Output(name)) seed_matters = true;
      }
    }
    EXPECT_TRUE(identical) << c.model;
    EXPECT_TRUE(seed_matters) << c.model;
  }
}

TEST(Twin, OutputsStayFiniteUnderAnyStepSize) {
  for (const std::string& model : TwinModels()) {
    std::unique_ptr<Twin> twin = MakeTwin(model, {}).value();
    Rng rng(5);
    for (double dt : {1e-3, 0.5, 1.0, 60.0, 3600.0, 86400.0}) {
      for (int i = 0; i < 20; ++i) twin->Step(dt, rng);
      for (const std::string& name : twin->OutputNames()) {
        EXPECT_TRUE(std::isfinite(*twin->Output(name))) << model << "." << name << " dt " << dt;
      }
    }
  }
}

TEST(Twin, StepAndOutputDoNotAllocate) {
  for (const std::string& model : TwinModels()) {
    std::unique_ptr<Twin> twin = MakeTwin(model, {}).value();
    const std::vector<std::string> names = twin->OutputNames();
    Rng rng(1);
    twin->Step(1, rng);
    double sink = 0;
    const long before = g_allocations.load();
    for (int i = 0; i < 1000; ++i) {
      twin->Step(i % 2 == 0 ? 0.5 : 7.0, rng);
      for (const std::string& name : names) sink += twin->Output(name).value_or(0);
      sink += twin->Output("no_such_output").value_or(0);
    }
    EXPECT_EQ(g_allocations.load() - before, 0) << model;
    EXPECT_TRUE(std::isfinite(sink));
  }
}

}  // namespace
}  // namespace weft::twin
