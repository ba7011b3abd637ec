#include "sim/fault_commands.h"

#include <spdlog/spdlog.h>

namespace weft::sim {

Result<std::unique_ptr<FaultCommands>> FaultCommands::Start(Simulator& sim,
                                                            const mqtt::BrokerAddress& broker) {
  std::unique_ptr<FaultCommands> fc(new FaultCommands());
  mqtt::ClientOptions options;
  options.client_id = "weft-sim-commands";
  WEFT_ASSIGN_OR_RETURN(fc->client_,
                        mqtt::Client::Connect(broker, options, std::chrono::seconds(10)));
  FaultCommands* raw = fc.get();
  fc->client_->SetMessageHandler([raw, &sim](const mqtt::Message& m) {
    Diagnostics diags;
    Result<ScheduledFault> fault = ParseFaultCommand(m.payload, sim.plant(), &diags);
    if (!fault.ok()) {
      raw->refused_.fetch_add(1);
      spdlog::warn("sim: fault command refused: {}",
                   diags.all().empty() ? fault.status().message() : diags.ToString());
      return;
    }
    raw->accepted_.fetch_add(1);
    spdlog::info("sim: fault command: {} on {}", FaultTypeName(fault->type), fault->asset);
    sim.InjectFault(*std::move(fault));
  });
  WEFT_RETURN_IF_ERROR(fc->client_->Subscribe(kFaultCommandTopic, 1));
  return fc;
}

}  // namespace weft::sim
