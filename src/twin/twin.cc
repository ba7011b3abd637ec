#include "twin/twin.h"

#include <array>
#include <cmath>
#include <numbers>
#include <utility>

#include "common/strings.h"
#include "twin/compressor_twin.h"
#include "twin/conveyor_twin.h"
#include "twin/hvac_zone_twin.h"
#include "twin/motor_twin.h"
#include "twin/pump_twin.h"

namespace weft::twin {

double Rng::Unit() {
  // 53 bits fill a double's mantissa exactly: every value k·2^-53, k < 2^53, equally likely.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Rng::Uniform(double lo, double hi) {
  return lo + (hi - lo) * Unit();
}

double Rng::Normal(double mean, double stddev) {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return mean + stddev * spare_normal_;
  }
  // Box-Muller; 1 - Unit() is in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - Unit()));
  const double angle = 2.0 * std::numbers::pi * Unit();
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return mean + stddev * radius * std::cos(angle);
}

double Rng::Exponential(double mean) {
  return -mean * std::log(1.0 - Unit());
}

bool Rng::Bernoulli(double p) {
  return Unit() < p;
}

namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 4> kFaultNames = {{
    {FaultKind::kBearingWear, "bearing_wear"},
    {FaultKind::kCoolingLoss, "cooling_loss"},
    {FaultKind::kCavitation, "cavitation"},
    {FaultKind::kImpellerWear, "impeller_wear"},
}};

// Upcasts a model's own Create result to the factory's Result<unique_ptr<Twin>>.
template <typename T>
Result<std::unique_ptr<Twin>> AsTwin(Result<std::unique_ptr<T>> created) {
  if (!created.ok()) return created.status();
  return std::unique_ptr<Twin>(std::move(created).value());
}

}  // namespace

std::string_view FaultKindName(FaultKind k) {
  for (const auto& [kind, name] : kFaultNames) {
    if (kind == k) return name;
  }
  return "unknown";
}

Result<FaultKind> ParseFaultKind(std::string_view name) {
  std::vector<std::string> known;
  for (const auto& [kind, text] : kFaultNames) {
    if (text == name) return kind;
    known.emplace_back(text);
  }
  std::string message = "unknown fault kind '" + std::string(name) + "'";
  std::string closest = ClosestMatch(name, known);
  if (!closest.empty()) message += "; did you mean '" + closest + "'?";
  message += " (known: " + Join(known) + ")";
  return InvalidArgumentError(message);
}

Result<std::unique_ptr<Twin>> MakeTwin(std::string_view model,
                                       const std::map<std::string, double>& overrides) {
  if (model == MotorTwin::kModelName) return AsTwin(MotorTwin::Create(overrides));
  if (model == PumpTwin::kModelName) return AsTwin(PumpTwin::Create(overrides));
  if (model == CompressorTwin::kModelName) return AsTwin(CompressorTwin::Create(overrides));
  if (model == ConveyorTwin::kModelName) return AsTwin(ConveyorTwin::Create(overrides));
  if (model == HvacZoneTwin::kModelName) return AsTwin(HvacZoneTwin::Create(overrides));
  std::vector<std::string> known = TwinModels();
  std::string message = "unknown twin model '" + std::string(model) + "'";
  std::string closest = ClosestMatch(model, known);
  if (!closest.empty()) message += "; did you mean '" + closest + "'?";
  message += " (known: " + Join(known) + ")";
  return NotFoundError(message);
}

std::vector<std::string> TwinModels() {
  return {std::string(MotorTwin::kModelName), std::string(PumpTwin::kModelName),
          std::string(CompressorTwin::kModelName), std::string(ConveyorTwin::kModelName),
          std::string(HvacZoneTwin::kModelName)};
}

}  // namespace weft::twin
