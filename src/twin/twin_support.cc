#include "twin/twin_support.h"

#include <cmath>
#include <sstream>
#include <string>

#include "common/strings.h"

namespace weft::twin::internal {
namespace {

// Shortest round-trip text of a number, for messages ("0.1", not "0.100000").
std::string Num(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

std::string UnknownNameMessage(std::string_view what, std::string_view name,
                               const std::vector<std::string>& known) {
  std::string message = std::string(what) + " '" + std::string(name) + "'";
  std::string closest = ClosestMatch(name, known);
  if (!closest.empty()) message += "; did you mean '" + closest + "'?";
  message += " (known: " + Join(known) + ")";
  return message;
}

}  // namespace

Status CheckParamValue(std::string_view model, std::string_view name, double value, double lo,
                       double hi) {
  if (std::isfinite(value) && value >= lo && value <= hi) return Status::Ok();
  return InvalidArgumentError("parameter '" + std::string(name) + "' of model '" +
                              std::string(model) + "' is " + Num(value) +
                              "; expected a value in [" + Num(lo) + ", " + Num(hi) + "]");
}

Status UnknownParamError(std::string_view model, std::string_view name,
                         const std::vector<std::string>& known) {
  return InvalidArgumentError(
      UnknownNameMessage("model '" + std::string(model) + "' has no parameter", name, known));
}

Status CheckInputRange(std::string_view model, std::string_view name, double value, double lo,
                       double hi) {
  if (value >= lo && value <= hi) return Status::Ok();
  return OutOfRangeError(std::string(model) + " input '" + std::string(name) + "' = " + Num(value) +
                         " is outside [" + Num(lo) + ", " + Num(hi) + "]; not applied");
}

Status CheckInputFlag(std::string_view model, std::string_view name, double value) {
  if (value == 0 || value == 1) return Status::Ok();
  return OutOfRangeError(std::string(model) + " input '" + std::string(name) + "' = " + Num(value) +
                         " is not 0 or 1; not applied");
}

Status UnknownInputError(std::string_view model, std::string_view name,
                         const std::vector<std::string>& known) {
  return InvalidArgumentError(
      UnknownNameMessage(std::string(model) + " has no input", name, known));
}

Status CheckSeverity(std::string_view model, FaultKind kind, double severity) {
  if (severity > 0 && severity <= 1) return Status::Ok();
  return OutOfRangeError(std::string(model) + " fault '" + std::string(FaultKindName(kind)) +
                         "' severity " + Num(severity) + " is outside (0, 1]");
}

Status NoSuchFaultError(std::string_view model, FaultKind kind, std::string_view available) {
  return UnimplementedError(std::string(model) + " has no fault mode '" +
                            std::string(FaultKindName(kind)) +
                            "' (it has: " + std::string(available) + ")");
}

bool BearingWear::Advance(double dt_s) {
  if (severity_ > 0 && wear_ < 1) {
    const double k = rate_ * severity_;  // 1/s
    if (acceleration_ > 0) {
      // w + 1/a grows exponentially with rate a·k.
      const double offset = 1.0 / acceleration_;
      wear_ = (wear_ + offset) * std::exp(acceleration_ * k * dt_s) - offset;
    } else {
      wear_ += k * dt_s;
    }
    if (wear_ >= 1) wear_ = 1;
  }
  return wear_ >= 1;
}

double BearingWear::TimeToFailure(double severity) const {
  const double k = rate_ * severity;
  if (acceleration_ > 0) return std::log1p(acceleration_) / (acceleration_ * k);
  return 1.0 / k;
}

}  // namespace weft::twin::internal
