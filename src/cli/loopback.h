// Loopback port probes for `weft demo` and its fleet (demo_cli.cc, demo_fleet.cc).
//
//   if (!LoopbackListening(1883)) StartBroker();
//   if (LoopbackBindable(port) && !LoopbackListening(port)) Use(port);
//
// Thread-safety: reentrant.
#ifndef WEFT_CLI_LOOPBACK_H_
#define WEFT_CLI_LOOPBACK_H_

namespace weft::cli {

//! True when something accepts TCP connections on 127.0.0.1:`port`.
bool LoopbackListening(int port);

//! True when a server could bind 127.0.0.1:`port` now (with SO_REUSEADDR, as mosquitto binds:
//! connections of a past server in TIME_WAIT do not make the port look taken).
bool LoopbackBindable(int port);

}  // namespace weft::cli

#endif  // WEFT_CLI_LOOPBACK_H_
