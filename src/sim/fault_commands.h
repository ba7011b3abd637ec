// FaultCommands: faults injected by command while the simulator runs. Subscribes to
// kFaultCommandTopic ("weft/sim/faults") and injects each valid command at the next tick; a bad
// command is logged with what is wrong and counted, never applied.
//
//   mosquitto_pub -t weft/sim/faults -m '{"asset": "l1-sp-05", "kind": "bearing_wear"}'
//
// Thread-safety: commands arrive on the MQTT thread; Simulator::InjectFault is thread-safe.
#ifndef WEFT_SIM_FAULT_COMMANDS_H_
#define WEFT_SIM_FAULT_COMMANDS_H_

#include <atomic>
#include <memory>

#include "mqtt/client.h"
#include "sim/simulator.h"

namespace weft::sim {

class FaultCommands {
 public:
  //! REQUIRES: `sim` outlives the returned object.
  static Result<std::unique_ptr<FaultCommands>> Start(Simulator& sim,
                                                      const mqtt::BrokerAddress& broker);
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  FaultCommands() = default;
  std::unique_ptr<mqtt::Client> client_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace weft::sim

#endif  // WEFT_SIM_FAULT_COMMANDS_H_
