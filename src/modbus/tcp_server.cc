#include "modbus/tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <modbus/modbus.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <optional>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

namespace weft::modbus {
namespace {

using SteadyClock = std::chrono::steady_clock;

// MBAP header: transaction id (2), protocol id (2), length (2), unit id (1). The length field
// counts the unit id and the PDU, so a frame is 6 + length bytes.
constexpr size_t kMbapHeaderLength = 7;
constexpr size_t kMbapPrefixLength = 6;
// Unit id + function code at least; unit id + the largest PDU (253 bytes) at most.
constexpr uint16_t kMinMbapLength = 2;
constexpr uint16_t kMaxMbapLength = 1 + MODBUS_MAX_PDU_LENGTH;
constexpr size_t kMaxFrameLength = kMbapPrefixLength + kMaxMbapLength;  // 260
// Room for one whole frame plus the start of the next: recv() always has space.
constexpr size_t kClientBufferSize = 2 * kMaxFrameLength;
// How long to stop accepting after accept() fails for lack of descriptors or memory, so that the
// still-readable listening socket does not make the loop spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// Longer idle timeouts mean "never".
constexpr auto kMaxIdleTimeout = std::chrono::hours(24 * 365);

// libmodbus's exception codes are a C enum; give them the byte type the wire uses.
constexpr uint8_t kIllegalFunction = MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
constexpr uint8_t kIllegalDataAddress = MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
constexpr uint8_t kIllegalDataValue = MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
constexpr uint8_t kServerFailure = MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
constexpr uint8_t kGatewayTarget = MODBUS_EXCEPTION_GATEWAY_TARGET;

uint16_t ReadU16(const uint8_t* p) {
  return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
}

std::string ErrnoText(int err) {
  return std::system_category().message(err);
}

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct ModbusContextDeleter {
  void operator()(modbus_t* ctx) const {
    // The context never owns a client socket (see Loop::Reply); detach before freeing anyway.
    modbus_set_socket(ctx, -1);
    modbus_free(ctx);
  }
};
using ModbusContext = std::unique_ptr<modbus_t, ModbusContextDeleter>;

struct ModbusMappingDeleter {
  void operator()(modbus_mapping_t* mapping) const { modbus_mapping_free(mapping); }
};
using ModbusMapping = std::unique_ptr<modbus_mapping_t, ModbusMappingDeleter>;

Status BindError(const std::string& where, int err) {
  const std::string message = where + ": " + ErrnoText(err);
  switch (err) {
    case EADDRINUSE: return UnavailableError(message + " (another process listens there)");
    case EACCES: return PermissionDeniedError(message);
    case EADDRNOTAVAIL: return InvalidArgumentError(message + " (not an address of this host)");
    default: return InternalError(message);
  }
}

struct Listener {
  UniqueFd fd;
  uint16_t port = 0;
};

Result<Listener> OpenListener(const std::string& address, uint16_t port, int backlog) {
  const std::string where = "modbus server bind " + address + " port " + std::to_string(port);
  if (address.empty()) {
    return InvalidArgumentError(where + ": empty address; use e.g. 0.0.0.0 or 127.0.0.1");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int gai = getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
  if (gai != 0 || found == nullptr) {
    return InvalidArgumentError(where + ": expected an IPv4 or IPv6 literal (" + gai_strerror(gai) +
                                ")");
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, &freeaddrinfo);

  Listener listener;
  listener.fd = UniqueFd(socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                found->ai_protocol));
  if (!listener.fd.valid()) return InternalError(where + ": socket: " + ErrnoText(errno));
  const int one = 1;
  // Lets a restarted simulator rebind at once while old connections sit in TIME_WAIT.
  if (setsockopt(listener.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return InternalError(where + ": SO_REUSEADDR: " + ErrnoText(errno));
  }
  if (bind(listener.fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    return BindError(where, errno);
  }
  if (listen(listener.fd.get(), backlog) != 0) return BindError(where + " (listen)", errno);

  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  if (getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    return InternalError(where + ": getsockname: " + ErrnoText(errno));
  }
  if (bound.ss_family == AF_INET) {
    listener.port = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  } else if (bound.ss_family == AF_INET6) {
    listener.port = ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
  } else {
    return InternalError(where + ": unexpected address family");
  }
  return listener;
}

}  // namespace

// The server thread: owns the sockets of the listener and the clients, the libmodbus context
// used to encode replies, and a scratch mapping the replies are built from.
// Thread-safety: Run() and everything it calls run on the server thread only; RequestStop() and
// Snapshot() may be called from any thread.
class ModbusTcpServer::Loop {
 public:
  Loop(std::shared_ptr<RegisterBank> bank, const TcpServerOptions& options, UniqueFd listen_fd,
       UniqueFd wake_read_fd, ModbusContext ctx, ModbusMapping mapping)
      : bank_(std::move(bank)),
        options_(options),
        wake_read_fd_(std::move(wake_read_fd)),
        listen_fd_(std::move(listen_fd)),
        ctx_(std::move(ctx)),
        mapping_(std::move(mapping)) {}

  void Run();
  void RequestStop() { stop_requested_.store(true); }
  //! Asks for silence on/off; WaitSilenceApplied() blocks until the loop has applied it.
  void RequestSilent(bool silent) {
    std::lock_guard<std::mutex> lock(silent_mu_);
    silent_wanted_ = silent;
  }
  void WaitSilenceApplied() {
    std::unique_lock<std::mutex> lock(silent_mu_);
    silent_cv_.wait(lock, [&] { return silent_applied_ == silent_wanted_ || finished_; });
  }
  TcpServerStats Snapshot() const;

 private:
  struct Client {
    UniqueFd fd;
    std::array<uint8_t, kClientBufferSize> buffer{};
    size_t used = 0;
    SteadyClock::time_point last_activity;
  };
  enum class ClientState { kOpen, kPeerClosed, kDrop };
  enum class Action { kReply, kException, kMalformed };
  struct Decision {
    Action action = Action::kReply;
    uint8_t exception = 0;
  };

  int PollTimeoutMs(SteadyClock::time_point now) const;
  void DrainWakePipe() const;
  void AcceptClients(SteadyClock::time_point now);
  ClientState ServiceClient(Client& client, SteadyClock::time_point now);
  // Handles one complete frame; false when the client must be dropped.
  bool HandleFrame(int fd, const uint8_t* frame, size_t length);
  // Validates the request and performs its bank operations, leaving what a normal reply reads
  // in mapping_.
  Decision Execute(const uint8_t* frame, size_t length);
  Decision Read(Table table, const uint8_t* pdu, size_t pdu_length);
  Decision Write(Table table, uint16_t address, std::span<const uint16_t> values);

  static Decision Reply() { return {Action::kReply, 0}; }
  static Decision Exception(uint8_t code) { return {Action::kException, code}; }
  static Decision Malformed() { return {Action::kMalformed, 0}; }

  const std::shared_ptr<RegisterBank> bank_;
  const TcpServerOptions options_;
  const UniqueFd wake_read_fd_;
  // Server thread only.
  UniqueFd listen_fd_;
  ModbusContext ctx_;
  ModbusMapping mapping_;
  std::vector<std::unique_ptr<Client>> clients_;
  SteadyClock::time_point accept_resume_{};

  std::atomic<bool> stop_requested_{false};
  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> connections_refused_{0};
  std::atomic<uint64_t> clients_dropped_{0};
  std::atomic<uint64_t> malformed_frames_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> exceptions_{0};
  std::atomic<uint64_t> active_clients_{0};

  std::mutex silent_mu_;
  std::condition_variable silent_cv_;
  bool silent_wanted_ = false;   // GUARDED_BY(silent_mu_)
  bool silent_applied_ = false;  // GUARDED_BY(silent_mu_)
  bool finished_ = false;        // GUARDED_BY(silent_mu_): Run() has returned
  bool silent_ = false;          // server thread only: the applied state
};

TcpServerStats ModbusTcpServer::Loop::Snapshot() const {
  TcpServerStats s;
  s.connections_accepted = connections_accepted_.load();
  s.connections_refused = connections_refused_.load();
  s.clients_dropped = clients_dropped_.load();
  s.malformed_frames = malformed_frames_.load();
  s.requests = requests_.load();
  s.exceptions = exceptions_.load();
  s.active_clients = active_clients_.load();
  return s;
}

void ModbusTcpServer::Loop::Run() {
  std::vector<pollfd> fds;
  while (!stop_requested_.load()) {
    SteadyClock::time_point now = SteadyClock::now();
    fds.clear();
    fds.push_back({wake_read_fd_.get(), POLLIN, 0});
    // poll() ignores negative descriptors: that is how accepting pauses during a backoff.
    fds.push_back({now >= accept_resume_ ? listen_fd_.get() : -1, POLLIN, 0});
    for (const auto& client : clients_) fds.push_back({client->fd.get(), POLLIN, 0});

    const int ready = poll(fds.data(), static_cast<nfds_t>(fds.size()), PollTimeoutMs(now));
    if (ready < 0) {
      if (errno == EINTR) continue;
      // Not expected with valid descriptors; avoid a hot loop if it ever happens.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (fds[0].revents != 0) DrainWakePipe();
    if (stop_requested_.load()) break;
    {
      std::lock_guard<std::mutex> lock(silent_mu_);
      if (silent_wanted_ != silent_) {
        silent_ = silent_wanted_;
        if (silent_) {
          // A dead device: every connection goes, and requests already read are not answered.
          clients_dropped_.fetch_add(clients_.size());
          clients_.clear();
          active_clients_.store(0);
        }
      }
      silent_applied_ = silent_;
      silent_cv_.notify_all();
      // A silent device answers nothing: the sockets polled before this point are skipped.
      if (silent_) {
        if ((fds[1].revents & POLLIN) != 0) AcceptClients(now);
        continue;
      }
    }

    now = SteadyClock::now();
    // clients_ has not changed since fds was built: entry i + 2 is client i.
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (fds[i + 2].revents == 0) continue;
      const ClientState state = ServiceClient(*clients_[i], now);
      if (state == ClientState::kOpen) continue;
      if (state == ClientState::kDrop) clients_dropped_.fetch_add(1);
      clients_[i].reset();
    }
    if (options_.idle_timeout.count() > 0) {
      for (auto& client : clients_) {
        if (client && now - client->last_activity >= options_.idle_timeout) {
          clients_dropped_.fetch_add(1);
          client.reset();
        }
      }
    }
    std::erase(clients_, nullptr);
    if ((fds[1].revents & POLLIN) != 0) AcceptClients(now);
    active_clients_.store(clients_.size());
  }
  // Close the clients and stop listening now, so that nobody connects to a server that will
  // never answer (the Loop itself lives until the ModbusTcpServer is destroyed).
  clients_.clear();
  active_clients_.store(0);
  listen_fd_.Reset();
  std::lock_guard<std::mutex> lock(silent_mu_);
  finished_ = true;
  silent_cv_.notify_all();
}

int ModbusTcpServer::Loop::PollTimeoutMs(SteadyClock::time_point now) const {
  std::optional<SteadyClock::time_point> wake_at;
  if (now < accept_resume_) wake_at = accept_resume_;
  if (options_.idle_timeout.count() > 0) {
    for (const auto& client : clients_) {
      const SteadyClock::time_point deadline = client->last_activity + options_.idle_timeout;
      if (!wake_at || deadline < *wake_at) wake_at = deadline;
    }
  }
  if (!wake_at) return -1;  // Only a socket or the wake pipe can end the wait.
  if (*wake_at <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wake_at - now).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, INT_MAX));
}

void ModbusTcpServer::Loop::DrainWakePipe() const {
  std::array<uint8_t, 64> sink{};
  while (read(wake_read_fd_.get(), sink.data(), sink.size()) > 0) {
  }
}

void ModbusTcpServer::Loop::AcceptClients(SteadyClock::time_point now) {
  while (true) {
    UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays queued; retry a bit later.
        accept_resume_ = now + kAcceptBackoff;
      }
      return;
    }
    if (silent_ || clients_.size() >= options_.max_clients) {
      connections_refused_.fetch_add(1);
      continue;  // `fd` closes here: the refusal.
    }
    const int one = 1;
    // Replies are small and clients wait for each one: do not let Nagle delay them.
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto client = std::make_unique<Client>();
    client->fd = std::move(fd);
    client->last_activity = now;
    clients_.push_back(std::move(client));
    connections_accepted_.fetch_add(1);
  }
}

ModbusTcpServer::Loop::ClientState ModbusTcpServer::Loop::ServiceClient(
    Client& client, SteadyClock::time_point now) {
  // One recv per wake-up keeps the loop fair between clients; the buffer always has room for a
  // whole frame because complete frames are consumed below.
  const ssize_t n = recv(client.fd.get(), client.buffer.data() + client.used,
                         client.buffer.size() - client.used, 0);
  if (n == 0) return ClientState::kPeerClosed;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return ClientState::kOpen;
    return ClientState::kPeerClosed;  // ECONNRESET and the like: the peer went away.
  }
  client.used += static_cast<size_t>(n);
  client.last_activity = now;

  size_t offset = 0;
  while (client.used - offset >= kMbapHeaderLength) {
    const uint8_t* frame = client.buffer.data() + offset;
    const uint16_t protocol = ReadU16(frame + 2);
    const uint16_t length = ReadU16(frame + 4);
    if (protocol != 0 || length < kMinMbapLength || length > kMaxMbapLength) {
      malformed_frames_.fetch_add(1);
      return ClientState::kDrop;
    }
    const size_t frame_length = kMbapPrefixLength + length;
    if (client.used - offset < frame_length) break;  // Wait for the rest.
    if (!HandleFrame(client.fd.get(), frame, frame_length)) return ClientState::kDrop;
    offset += frame_length;
  }
  if (offset > 0) {
    std::memmove(client.buffer.data(), client.buffer.data() + offset, client.used - offset);
    client.used -= offset;
  }
  return ClientState::kOpen;
}

bool ModbusTcpServer::Loop::HandleFrame(int fd, const uint8_t* frame, size_t length) {
  const Decision decision = Execute(frame, length);
  if (decision.action == Action::kMalformed) {
    malformed_frames_.fetch_add(1);
    return false;
  }
  requests_.fetch_add(1);
  // One context serves every client: point it at this client's socket for the reply only.
  modbus_set_socket(ctx_.get(), fd);
  int rc = 0;
  if (decision.action == Action::kException) {
    exceptions_.fetch_add(1);
    rc = modbus_reply_exception(ctx_.get(), frame, decision.exception);
  } else {
    rc = modbus_reply(ctx_.get(), frame, static_cast<int>(length), mapping_.get());
  }
  modbus_set_socket(ctx_.get(), -1);
  // A failed or partial send (the client does not read its replies) drops the client rather
  // than blocking the server thread.
  return rc >= 0;
}

ModbusTcpServer::Loop::Decision ModbusTcpServer::Loop::Execute(const uint8_t* frame,
                                                               size_t length) {
  const uint8_t unit = frame[kMbapHeaderLength - 1];
  const uint8_t* pdu = frame + kMbapHeaderLength;
  const size_t pdu_length = length - kMbapHeaderLength;  // >= 1: the MBAP length is >= 2.
  const uint8_t function = pdu[0];

  if (options_.unit_id != 0 && options_.unit_id != 255 && unit != options_.unit_id) {
    return Exception(kGatewayTarget);
  }

  switch (function) {
    case MODBUS_FC_READ_COILS: return Read(Table::kCoils, pdu, pdu_length);
    case MODBUS_FC_READ_DISCRETE_INPUTS: return Read(Table::kDiscreteInputs, pdu, pdu_length);
    case MODBUS_FC_READ_HOLDING_REGISTERS: return Read(Table::kHoldingRegisters, pdu, pdu_length);
    case MODBUS_FC_READ_INPUT_REGISTERS: return Read(Table::kInputRegisters, pdu, pdu_length);

    case MODBUS_FC_WRITE_SINGLE_COIL: {
      if (pdu_length != 5) return Malformed();
      const uint16_t address = ReadU16(pdu + 1);
      const uint16_t value = ReadU16(pdu + 3);
      if (value != 0xFF00 && value != 0x0000) return Exception(kIllegalDataValue);
      const uint16_t bit = value != 0 ? 1 : 0;
      return Write(Table::kCoils, address, std::span<const uint16_t>(&bit, 1));
    }
    case MODBUS_FC_WRITE_SINGLE_REGISTER: {
      if (pdu_length != 5) return Malformed();
      const uint16_t value = ReadU16(pdu + 3);
      return Write(Table::kHoldingRegisters, ReadU16(pdu + 1),
                   std::span<const uint16_t>(&value, 1));
    }
    case MODBUS_FC_WRITE_MULTIPLE_COILS: {
      if (pdu_length < 6 || pdu_length != 6u + pdu[5]) return Malformed();
      const uint16_t address = ReadU16(pdu + 1);
      const uint16_t count = ReadU16(pdu + 3);
      if (count < 1 || count > MODBUS_MAX_WRITE_BITS || pdu[5] != (count + 7) / 8) {
        return Exception(kIllegalDataValue);
      }
      std::array<uint16_t, MODBUS_MAX_WRITE_BITS> bits{};
      for (size_t i = 0; i < count; ++i) bits[i] = (pdu[6 + i / 8] >> (i % 8)) & 1u;
      return Write(Table::kCoils, address, std::span<const uint16_t>(bits.data(), count));
    }
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: {
      if (pdu_length < 6 || pdu_length != 6u + pdu[5]) return Malformed();
      const uint16_t address = ReadU16(pdu + 1);
      const uint16_t count = ReadU16(pdu + 3);
      if (count < 1 || count > MODBUS_MAX_WRITE_REGISTERS || pdu[5] != 2 * count) {
        return Exception(kIllegalDataValue);
      }
      std::array<uint16_t, MODBUS_MAX_WRITE_REGISTERS> values{};
      for (size_t i = 0; i < count; ++i) values[i] = ReadU16(pdu + 6 + 2 * i);
      return Write(Table::kHoldingRegisters, address,
                   std::span<const uint16_t>(values.data(), count));
    }
    case MODBUS_FC_WRITE_AND_READ_REGISTERS: {
      if (pdu_length < 10 || pdu_length != 10u + pdu[9]) return Malformed();
      const uint16_t read_address = ReadU16(pdu + 1);
      const uint16_t read_count = ReadU16(pdu + 3);
      const uint16_t write_address = ReadU16(pdu + 5);
      const uint16_t write_count = ReadU16(pdu + 7);
      if (read_count < 1 || read_count > MODBUS_MAX_WR_READ_REGISTERS || write_count < 1 ||
          write_count > MODBUS_MAX_WR_WRITE_REGISTERS || pdu[9] != 2 * write_count) {
        return Exception(kIllegalDataValue);
      }
      const uint32_t size = bank_->size(Table::kHoldingRegisters);
      if (uint32_t{read_address} + read_count > size ||
          uint32_t{write_address} + write_count > size) {
        return Exception(kIllegalDataAddress);
      }
      // The write happens before the read, as the specification orders.
      std::array<uint16_t, MODBUS_MAX_WR_WRITE_REGISTERS> values{};
      for (size_t i = 0; i < write_count; ++i) values[i] = ReadU16(pdu + 10 + 2 * i);
      const Decision written = Write(Table::kHoldingRegisters, write_address,
                                     std::span<const uint16_t>(values.data(), write_count));
      if (written.action != Action::kReply) return written;
      // modbus_reply applies the write to the mapping, then answers from it: give it the bank's
      // state after the write for the read range.
      const Status read = bank_->GetRegisters(
          Table::kHoldingRegisters, read_address,
          std::span<uint16_t>(mapping_->tab_registers + read_address, read_count));
      return read.ok() ? Reply() : Exception(kServerFailure);
    }
    default: return Exception(kIllegalFunction);
  }
}

ModbusTcpServer::Loop::Decision ModbusTcpServer::Loop::Read(Table table, const uint8_t* pdu,
                                                            size_t pdu_length) {
  if (pdu_length != 5) return Malformed();
  const uint16_t address = ReadU16(pdu + 1);
  const uint16_t count = ReadU16(pdu + 3);
  const bool bits = IsBitTable(table);
  const unsigned max_count = bits ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS;
  if (count < 1 || count > max_count) return Exception(kIllegalDataValue);
  if (uint32_t{address} + count > bank_->size(table)) return Exception(kIllegalDataAddress);

  Status copied;
  if (bits) {
    uint8_t* tab = table == Table::kCoils ? mapping_->tab_bits : mapping_->tab_input_bits;
    copied = bank_->GetBits(table, address, std::span<uint8_t>(tab + address, count));
  } else {
    uint16_t* tab =
        table == Table::kHoldingRegisters ? mapping_->tab_registers : mapping_->tab_input_registers;
    copied = bank_->GetRegisters(table, address, std::span<uint16_t>(tab + address, count));
  }
  return copied.ok() ? Reply() : Exception(kServerFailure);
}

ModbusTcpServer::Loop::Decision ModbusTcpServer::Loop::Write(Table table, uint16_t address,
                                                             std::span<const uint16_t> values) {
  switch (bank_->ApplyClientWrite(table, address, values)) {
    case WriteVerdict::kAccepted: return Reply();
    case WriteVerdict::kIllegalAddress: return Exception(kIllegalDataAddress);
    case WriteVerdict::kIllegalValue: return Exception(kIllegalDataValue);
  }
  return Exception(kServerFailure);
}

// --- ModbusTcpServer --------------------------------------------------------------------------

Result<std::unique_ptr<ModbusTcpServer>> ModbusTcpServer::Start(
    const std::string& bind_address, uint16_t port, std::shared_ptr<RegisterBank> bank) {
  return Start(bind_address, port, std::move(bank), TcpServerOptions{});
}

Result<std::unique_ptr<ModbusTcpServer>> ModbusTcpServer::Start(const std::string& bind_address,
                                                                uint16_t port,
                                                                std::shared_ptr<RegisterBank> bank,
                                                                const TcpServerOptions& options) {
  if (bank == nullptr) return InvalidArgumentError("modbus server: bank is null");
  if (options.max_clients == 0) {
    return InvalidArgumentError("modbus server: options.max_clients must be at least 1");
  }
  TcpServerOptions effective = options;
  if (effective.idle_timeout > kMaxIdleTimeout) {
    // Deadlines are steady_clock time points in nanoseconds: keep them far from overflowing.
    effective.idle_timeout = std::chrono::milliseconds(0);
  }
  const int backlog = static_cast<int>(std::min<uint32_t>(options.max_clients, 128));
  WEFT_ASSIGN_OR_RETURN(Listener listener, OpenListener(bind_address, port, backlog));

  int pipe_fds[2] = {-1, -1};
  if (pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return InternalError("modbus server: pipe2: " + ErrnoText(errno));
  }
  UniqueFd wake_read(pipe_fds[0]);
  UniqueFd wake_write(pipe_fds[1]);

  // The context only encodes and sends replies (modbus_set_socket per reply); it never
  // connects or listens, so its address is irrelevant.
  ModbusContext ctx(modbus_new_tcp("0.0.0.0", MODBUS_TCP_DEFAULT_PORT));
  if (ctx == nullptr) {
    return InternalError("modbus server: modbus_new_tcp: " + std::string(modbus_strerror(errno)));
  }
  // Requests are validated before libmodbus sees them, so it never takes the error paths that
  // sleep for the response timeout and flush the socket; keep that timeout tiny regardless.
  modbus_set_response_timeout(ctx.get(), 0, 1000);
  modbus_set_error_recovery(ctx.get(), MODBUS_ERROR_RECOVERY_NONE);

  ModbusMapping mapping(modbus_mapping_new_start_address(
      0, bank->size(Table::kCoils), 0, bank->size(Table::kDiscreteInputs), 0,
      bank->size(Table::kHoldingRegisters), 0, bank->size(Table::kInputRegisters)));
  if (mapping == nullptr) {
    return Status(StatusCode::kResourceExhausted,
                  "modbus server: cannot allocate the reply mapping: " + ErrnoText(errno));
  }

  auto loop = std::make_unique<Loop>(std::move(bank), effective, std::move(listener.fd),
                                     std::move(wake_read), std::move(ctx), std::move(mapping));
  std::unique_ptr<ModbusTcpServer> server(
      new ModbusTcpServer(bind_address, listener.port, wake_write.Release(), std::move(loop)));
  try {
    server->thread_ = std::thread([loop_ptr = server->loop_.get()] { loop_ptr->Run(); });
  } catch (const std::system_error& e) {
    return UnavailableError(std::string("modbus server: cannot start its thread: ") + e.what());
  }
  server->thread_id_ = server->thread_.get_id();
  return server;
}

ModbusTcpServer::ModbusTcpServer(std::string bind_address, uint16_t port, int wake_write_fd,
                                 std::unique_ptr<Loop> loop)
    : bind_address_(std::move(bind_address)),
      port_(port),
      wake_write_fd_(wake_write_fd),
      loop_(std::move(loop)) {}

ModbusTcpServer::~ModbusTcpServer() {
  Stop();
  close(wake_write_fd_);
}

void ModbusTcpServer::Wake() const {
  const uint8_t byte = 1;
  if (write(wake_write_fd_, &byte, 1) < 0) {
    // EAGAIN: the pipe is full, so a wake-up is already pending.
  }
}

void ModbusTcpServer::SetSilent(bool silent) {
  loop_->RequestSilent(silent);
  Wake();
  if (std::this_thread::get_id() != thread_id_) loop_->WaitSilenceApplied();
}

void ModbusTcpServer::Stop() {
  const auto wake = [this] {
    loop_->RequestStop();
    Wake();
  };
  if (std::this_thread::get_id() == thread_id_) {
    // Called from the bank's validator or listener: the thread cannot join itself. It stops
    // after the current request; the destructor (on another thread) joins it.
    wake();
    return;
  }
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  wake();
  if (thread_.joinable()) thread_.join();
  stopped_ = true;
}

TcpServerStats ModbusTcpServer::stats() const {
  return loop_->Snapshot();
}

}  // namespace weft::modbus
