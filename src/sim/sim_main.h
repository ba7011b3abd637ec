// The `weft-sim` command line (apps/weft-sim is a thin main around SimMain):
//
//   weft-sim --plant PLANT.yaml [--broker mqtt://HOST:PORT] [--modbus-port N] [--speed X]
//            [--seed S] [--duration SECONDS] [--faults FILE] [--labels FILE] [--record FILE]
//
// --speed is a multiple of real time (default 1; 0 = as fast as possible). Without --broker
// nothing is published (useful with --record for data generation). SIGINT/SIGTERM end the run
// cleanly: files are flushed, labels written, publishers wait for acknowledgements.
// Exit codes: 0 done; 1 invalid input (plant, faults); 2 usage; 3 a runtime failure (broker
// unreachable, file not writable).
#ifndef WEFT_SIM_SIM_MAIN_H_
#define WEFT_SIM_SIM_MAIN_H_

#include <ostream>

namespace weft::sim {

int SimMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace weft::sim

#endif  // WEFT_SIM_SIM_MAIN_H_
