// SetpointSource: what proposes a setpoint each period: a builtin optimiser (e.g. hvac_comfort)
// or an external model process (ProcessSource). Its output is never trusted: the ControlLoop
// passes every proposal through the safety envelope (control/core/envelope.h).
//
//   Result<double> p = source.Propose(clock.Now(), {{"zone_temp", 21.4}, {"occupancy", 1}});
//   if (!p.ok()) ...   // counted as a model failure; model_timeout leads to the safe setpoint
//
// Thread-safety: implementations need not be thread-safe; a ControlLoop calls its source from
// one thread at a time.
#ifndef WEFT_CONTROL_LOOP_SETPOINT_SOURCE_H_
#define WEFT_CONTROL_LOOP_SETPOINT_SOURCE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "control/core/control_config.h"

namespace weft::control {

class SetpointSource {
 public:
  virtual ~SetpointSource() = default;
  //! A proposed setpoint for `now` from this period's `inputs` (the loop's read signals).
  //! Any double may come back (NaN, inf, huge): the envelope decides what is written.
  virtual Result<double> Propose(TimePoint now, const std::map<std::string, double>& inputs) = 0;
  virtual std::string name() const = 0;
  virtual std::string version() const = 0;
};

//! Makes a builtin optimiser from `source.optimiser` of a loop (kind and params). Registered by
//! the optimiser libraries (e.g. weft::control_hvac registers "hvac_comfort"); looked up by the
//! edge when it builds its loops, so that control_loop does not depend on every optimiser.
using OptimiserFactory =
    std::function<Result<std::unique_ptr<SetpointSource>>(const OptimiserSource& config)>;

//! Registers `kind`; a second registration of the same kind replaces the first. Thread-safe.
void RegisterOptimiser(std::string kind, OptimiserFactory factory);
//! The optimiser of `config.kind`; NotFound naming the registered kinds when it is unknown.
//! Thread-safe.
Result<std::unique_ptr<SetpointSource>> MakeOptimiser(const OptimiserSource& config);

}  // namespace weft::control

#endif  // WEFT_CONTROL_LOOP_SETPOINT_SOURCE_H_
