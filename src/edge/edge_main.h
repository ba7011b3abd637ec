// The weft-edge command: `weft-edge --config edge.yaml [--http 127.0.0.1:0] [--log-level info]`.
// Runs until SIGINT/SIGTERM (clean stop: open batches are stored), SIGHUP reloads edge.yaml.
// Exit codes: 0 stopped cleanly, 2 bad usage or configuration, 3 could not start.
#ifndef WEFT_EDGE_EDGE_MAIN_H_
#define WEFT_EDGE_EDGE_MAIN_H_

#include <ostream>

namespace weft::edge {

int EdgeMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace weft::edge

#endif  // WEFT_EDGE_EDGE_MAIN_H_
