// The optimiser registry (setpoint_source.h): kinds registered by the optimiser libraries.
#include <mutex>

#include "control/loop/setpoint_source.h"

namespace weft::control {
namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, OptimiserFactory, std::less<>>& Registry() {
  static std::map<std::string, OptimiserFactory, std::less<>> r;
  return r;
}

}  // namespace

void RegisterOptimiser(std::string kind, OptimiserFactory factory) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry()[std::move(kind)] = std::move(factory);
}

Result<std::unique_ptr<SetpointSource>> MakeOptimiser(const OptimiserSource& config) {
  OptimiserFactory f;
  std::string known;
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    auto it = Registry().find(config.kind);
    if (it != Registry().end()) f = it->second;
    for (const auto& [k, _] : Registry()) known += (known.empty() ? "" : ", ") + k;
  }
  if (!f) {
    return NotFoundError(config.path + ": unknown optimiser kind '" + config.kind +
                         "' (known: " + (known.empty() ? "none linked in" : known) + ")");
  }
  return f(config);
}

}  // namespace weft::control
