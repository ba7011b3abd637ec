// weft-core's main: flags, logging, the ingest worker and the operations endpoint.
//
//   weft-core --lake DIR --broker mqtt://127.0.0.1:1883 [--state DIR] [--worker 0/2]
//             [--http 127.0.0.1:9470] [--commit-interval 1s]
//
// Prints "weft-core http=127.0.0.1:<port>" on stdout once ingesting (for scripts that pass
// port 0), stops cleanly on SIGINT/SIGTERM (committing what it holds).
#ifndef WEFT_CORE_CORE_MAIN_H_
#define WEFT_CORE_CORE_MAIN_H_

#include <ostream>

namespace weft::core {

int CoreMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace weft::core

#endif  // WEFT_CORE_CORE_MAIN_H_
