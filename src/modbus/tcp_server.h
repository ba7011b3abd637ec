// ModbusTcpServer: serves a RegisterBank to Modbus TCP clients, as a simulated PLC (and as the
// peer the edge's Modbus poller is tested against).
//
//   WEFT_ASSIGN_OR_RETURN(std::shared_ptr<RegisterBank> bank,
//                         RegisterBank::Create({.holding_registers = 100,
//                                               .input_registers = 100}));
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ModbusTcpServer> server,
//                         ModbusTcpServer::Start("127.0.0.1", /*port=*/0, bank));
//   uint16_t port = server->port();   // the port the kernel picked
//   ...                               // clients connect; the simulator updates `bank`
//   server->Stop();                   // or let the destructor do it
//
// Function codes: 1 read coils, 2 read discrete inputs, 3 read holding registers, 4 read input
// registers, 5 write single coil, 6 write single register, 15 write multiple coils, 16 write
// multiple registers, 23 read/write multiple registers. Anything else gets ILLEGAL FUNCTION
// (0x01). Quantities outside the Modbus limits (and a coil value other than 0x0000/0xFF00) get
// ILLEGAL DATA VALUE (0x03); addresses outside a table get ILLEGAL DATA ADDRESS (0x02); writes
// go through the bank's write policy (register_bank.h), all or nothing. A request for another
// unit id (when Options::unit_id is set) gets GATEWAY TARGET DEVICE FAILED TO RESPOND (0x0B).
//
// Robustness: one server thread polls the listening socket and every client; sockets are
// non-blocking and each client's bytes are framed by the MBAP header's length field, so a slow
// or partial sender never stalls the others. A frame that cannot be Modbus TCP (protocol id not
// 0, length outside 2..254, a PDU whose length does not fit its function code) closes that
// client only. Connections beyond max_clients are accepted and closed at once; clients silent
// for idle_timeout are closed. libmodbus (modbus_reply, modbus_reply_exception) encodes and
// sends the responses; requests are fully validated first, so libmodbus only ever takes its
// success paths.
//
// Ownership: the server shares the bank (see RegisterBank) and owns its sockets and thread.
// Thread-safety: port(), bind_address() and stats() may be called from any thread; Stop() from
// any thread except the server thread itself (i.e. not from the bank's validator or listener,
// which run on it).
#ifndef WEFT_MODBUS_TCP_SERVER_H_
#define WEFT_MODBUS_TCP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "modbus/register_bank.h"

namespace weft::modbus {

struct TcpServerOptions {
  //! Most clients served at once; further connections are closed on accept. At least 1.
  uint32_t max_clients = 16;
  //! A client that sends nothing for this long is closed; zero, negative or over a year: never.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  //! Unit identifier the server answers to; 0 or 255 answers every unit id.
  uint8_t unit_id = 0;
};

//! Counters since Start.
struct TcpServerStats {
  uint64_t connections_accepted = 0;  //!< Clients taken on (not counting refused ones).
  uint64_t connections_refused = 0;   //!< Closed on accept because max_clients were connected.
  uint64_t clients_dropped = 0;       //!< Closed by the server: malformed frame, idle, send error.
  uint64_t malformed_frames = 0;      //!< Frames that could not be Modbus TCP.
  uint64_t requests = 0;              //!< Well-framed requests, answered normally or not.
  uint64_t exceptions = 0;            //!< Requests answered with a Modbus exception.
  uint64_t active_clients = 0;        //!< Connected now.
};

class ModbusTcpServer {
 public:
  //! Binds `bind_address` (an IPv4 or IPv6 literal, e.g. "127.0.0.1", "0.0.0.0", "::1") and
  //! `port` (0: the kernel picks a free port) and starts the server thread. Errors:
  //! InvalidArgument (bad address, null bank, max_clients 0), Unavailable (port in use),
  //! PermissionDenied (privileged port), Internal (other socket errors).
  static Result<std::unique_ptr<ModbusTcpServer>> Start(const std::string& bind_address,
                                                        uint16_t port,
                                                        std::shared_ptr<RegisterBank> bank,
                                                        const TcpServerOptions& options);
  //! Start with default TcpServerOptions.
  static Result<std::unique_ptr<ModbusTcpServer>> Start(const std::string& bind_address,
                                                        uint16_t port,
                                                        std::shared_ptr<RegisterBank> bank);

  //! Stop()s.
  ~ModbusTcpServer();
  ModbusTcpServer(const ModbusTcpServer&) = delete;
  ModbusTcpServer& operator=(const ModbusTcpServer&) = delete;

  //! The bound port (the actual one when 0 was asked).
  uint16_t port() const { return port_; }
  const std::string& bind_address() const { return bind_address_; }

  //! Closes every client and the listening socket and joins the server thread. Idempotent.
  void Stop();

  //! Simulates a device that stopped answering (a comms loss): while silent, open connections
  //! are closed, new ones are accepted and closed at once (counted as refused), and no request
  //! is answered. false answers again. Returns once the server thread has applied it (or has
  //! stopped), so a request sent after SetSilent(true) returns is never answered. From any
  //! thread except the server thread (not from the bank's validator or listener).
  void SetSilent(bool silent);

  TcpServerStats stats() const;

 private:
  class Loop;  // The server thread's state, in tcp_server.cc.

  ModbusTcpServer(std::string bind_address, uint16_t port, int wake_write_fd,
                  std::unique_ptr<Loop> loop);

  const std::string bind_address_;
  const uint16_t port_;
  // Write end of the self-pipe that wakes the server thread for Stop() and SetSilent().
  const int wake_write_fd_;
  void Wake() const;
  // Owned here, used only by the server thread (and destroyed after it is joined).
  std::unique_ptr<Loop> loop_;

  // Set once in Start(), before the server is handed out; read by Stop() to refuse self-joins.
  std::thread::id thread_id_;
  std::mutex stop_mu_;    // Serializes Stop().
  std::thread thread_;    // GUARDED_BY(stop_mu_) once Start() has returned.
  bool stopped_ = false;  // GUARDED_BY(stop_mu_)
};

}  // namespace weft::modbus

#endif  // WEFT_MODBUS_TCP_SERVER_H_
