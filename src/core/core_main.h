// weft-core's main: flags, logging, the ingest worker and the operations endpoint.
//
//   weft-core --lake DIR --broker mqtt://127.0.0.1:1883 [--state DIR] [--worker 0/2]
//             [--http 127.0.0.1:9470] [--commit-interval 1s]
//             [--api-listen 127.0.0.1:8443] [--tls-cert PEM --tls-key PEM] [--views FILE]
//
// Prints "weft-core worker I/N lake=... http=127.0.0.1:<port> api=https://<host>:<port>" on
// stdout once ingesting (for scripts that pass port 0), stops cleanly on SIGINT/SIGTERM
// (committing what it holds). The REST API (src/core/api/README.md) keeps its registry and audit
// log in the state directory (and control governance: <state>/control.db, the mode-grant key
// <state>/keys/control-grant.pem, generated on first use); without --tls-cert it generates a self-signed certificate into
// <state>/tls/ at first start, and an empty registry gets an admin token in <state>/admin.token.
#ifndef WEFT_CORE_CORE_MAIN_H_
#define WEFT_CORE_CORE_MAIN_H_

#include <ostream>

namespace weft::core {

int CoreMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace weft::core

#endif  // WEFT_CORE_CORE_MAIN_H_
