// What `weft demo` and its fleet (demo_cli.cc, demo_fleet.cc) share: loopback port probes and a
// bounded wait.
//
//   if (!LoopbackListening(1883)) StartBroker();
//   const int plc = FreeLoopbackPorts(21000, 32000, 6);      // 6 consecutive free ports, or 0
//   if (!WaitFor([&] { return LoopbackListening(plc); }, std::chrono::seconds(10))) ...
//
// Thread-safety: reentrant.
#ifndef WEFT_CLI_DEMO_SUPPORT_H_
#define WEFT_CLI_DEMO_SUPPORT_H_

#include <atomic>
#include <chrono>
#include <functional>

namespace weft::cli {

//! True when something accepts TCP connections on 127.0.0.1:`port`.
bool LoopbackListening(int port);

//! True when a server could bind 127.0.0.1:`port` now (with SO_REUSEADDR, as mosquitto binds:
//! connections of a past server in TIME_WAIT do not make the port look taken).
bool LoopbackBindable(int port);

//! The first of `n` consecutive loopback ports in [first, end) that are bindable and that
//! nobody listens on; 0 when there are none. The search starts at a place that depends on the
//! process id, so that demos started at the same moment (tests run in parallel) do not pick the
//! same ports before either binds them.
int FreeLoopbackPorts(int first, int end, int n);

//! Calls `done` every `every` until it is true (true), `timeout` passes or `*stop` is nonzero
//! (false).
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every = std::chrono::milliseconds(50),
             const std::atomic<int>* stop = nullptr);

}  // namespace weft::cli

#endif  // WEFT_CLI_DEMO_SUPPORT_H_
