#include "edge/connectors/modbus/modbus_connector.h"

#include <modbus/modbus.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <set>
#include <utility>

#include "common/log.h"

namespace weft::edge::modbus {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Modbus exception replies arrive as errno MODBUS_ENOBASE + exception code.
std::string ErrorKind(int err) {
  switch (err) {
    case ETIMEDOUT: return "timeout";
    case EMBXILFUN: return "exception_illegal_function";
    case EMBXILADD: return "exception_illegal_data_address";
    case EMBXILVAL: return "exception_illegal_data_value";
    case EMBXSFAIL: return "exception_server_failure";
    case EMBXACK: return "exception_acknowledge";
    case EMBXSBUSY: return "exception_server_busy";
    case EMBXNACK: return "exception_negative_acknowledge";
    case EMBXMEMPAR: return "exception_memory_parity";
    case EMBXGPATH: return "exception_gateway_path_unavailable";
    case EMBXGTAR: return "exception_gateway_target_failed";
    case EMBBADEXC:
    case EMBUNKEXC: return "exception_unknown";
    case EMBBADDATA:
    case EMBMDATA:
    case EMBBADSLAVE:
    case EMBBADCRC: return "bad_reply";
    default: return "connection";
  }
}

// Whether the peer answered (so the link is up) although the read failed.
bool IsReply(const std::string& kind) {
  return kind.starts_with("exception_") || kind == "bad_reply";
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgumentError("endpoint override '" + text + "': expected host:port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || port == 0 || port > 65535 || host.empty()) {
    return InvalidArgumentError("endpoint override '" + text +
                                "': expected host:port with a port in 1..65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace

// One endpoint: its connection, its schedule, its thread's state. Everything here is used only
// by the endpoint's thread, except through `shared_` (under its mutex).
class ModbusConnector::Poller {
 public:
  Poller(size_t index, const EndpointPlan& plan, std::string host, uint16_t port,
         const ModbusConnectorOptions& options, const Clock& clock, Shared& shared,
         const ConnectorSinks& sinks)
      : index_(index),
        plan_(plan),
        host_(std::move(host)),
        port_(port),
        options_(options),
        clock_(clock),
        shared_(shared),
        sinks_(sinks),
        source_("modbus://" + plan.name()),
        backoff_(options.reconnect_backoff_min) {
    const std::vector<SignalId> signals = plan.Signals();
    event_signal_ = signals.empty() ? 0 : signals.front();
  }

  ~Poller() { Disconnect(); }

  void Run() {
    std::vector<SteadyClock::time_point> next(plan_.groups.size(), SteadyClock::now());
    while (true) {
      const auto due = std::min_element(next.begin(), next.end());
      {
        std::unique_lock lock(shared_.mu);
        shared_.cv.wait_until(lock, *due, [&] { return shared_.stop; });
        if (shared_.stop) break;
      }
      if (SteadyClock::now() < *due) continue;  // spurious wake-up
      const auto g = static_cast<size_t>(due - next.begin());
      Poll(plan_.groups[g]);
      // No drift: the next deadline follows the previous one; the missed ones are skipped.
      const auto period = std::chrono::duration_cast<SteadyClock::duration>(plan_.groups[g].period);
      next[g] += period;
      const auto now = SteadyClock::now();
      if (next[g] <= now) {
        const auto missed = (now - next[g]) / period + 1;
        next[g] += missed * period;
        CountError("missed_poll", static_cast<uint64_t>(missed),
                   "poll of unit " + std::to_string(plan_.groups[g].unit_id) + " every " +
                       std::to_string(plan_.groups[g].period.count()) + " us overran by " +
                       std::to_string(missed) + " period(s)",
                   /*consequence=*/true);
      }
    }
    Disconnect();
  }

 private:
  bool StopRequested() {
    std::lock_guard lock(shared_.mu);
    return shared_.stop;
  }

  void Disconnect() {
    if (ctx_ == nullptr) return;
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }

  // Opens the connection; on failure returns the cause.
  Status Connect() {
    const std::string service = std::to_string(port_);
    ctx_ = modbus_new_tcp_pi(host_.c_str(), service.c_str());
    if (ctx_ == nullptr) {
      return UnavailableError("cannot create a Modbus context for " + host_ + ":" + service);
    }
    const auto timeout_us =
        std::chrono::duration_cast<std::chrono::microseconds>(options_.response_timeout).count();
    modbus_set_response_timeout(ctx_, static_cast<uint32_t>(timeout_us / 1000000),
                                static_cast<uint32_t>(timeout_us % 1000000));
    if (modbus_connect(ctx_) == -1) {
      const int err = errno;
      Disconnect();
      return UnavailableError("connect to " + host_ + ":" + service +
                              " failed: " + modbus_strerror(err));
    }
    return Status::Ok();
  }

  // Counts (and maybe logs) a problem. A consequence of another problem (a poll overrun by a
  // timeout) does not replace last_error.
  void CountError(const std::string& kind, uint64_t n, const std::string& message,
                  bool consequence = false) {
    const std::string text = source_ + ": " + message;
    {
      std::lock_guard lock(shared_.mu);
      shared_.health.errors[kind] += n;
      if (!consequence) shared_.health.last_error = text;
    }
    LogLimited& l = logs_[kind];
    const auto now = SteadyClock::now();
    if (l.logged && now - l.last < options_.log_interval) {
      l.held_back += n;
      return;
    }
    if (l.held_back > 0) {
      spdlog::warn("{} [{}] ({} more since the last report)", text, kind, l.held_back);
    } else {
      spdlog::warn("{} [{}]", text, kind);
    }
    l.logged = true;
    l.last = now;
    l.held_back = 0;
  }

  void SetEndpointState(int state) {
    std::lock_guard lock(shared_.mu);
    shared_.endpoint_state[index_] = state;
  }

  void Emit(const std::string& kind, const std::string& message) {
    if (!sinks_.on_event) return;
    Event e;
    e.signal = event_signal_;
    e.ts_us = UnixMicros(clock_.Now());
    e.kind = kind;
    e.source = source_;
    e.message = message;
    sinks_.on_event(e);
  }

  void MarkDown(const std::string& cause) {
    Disconnect();
    next_connect_ = SteadyClock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.reconnect_backoff_max);
    if (up_ != 0) {
      up_ = 0;
      SetEndpointState(0);
      Emit("comm_loss", cause);
    }
  }

  void MarkUp() {
    backoff_ = options_.reconnect_backoff_min;
    if (up_ == 1) return;
    const bool was_down = up_ == 0;
    up_ = 1;
    SetEndpointState(1);
    if (was_down) Emit("comm_restored", "replies from " + host_ + ":" + std::to_string(port_));
  }

  // One read into regs_ / bits_; returns the number of values read, or -1 with errno set.
  int Read(const PollRead& r) {
    const int start = r.start;
    const int count = r.count;
    switch (r.table) {
      case model::ModbusTable::kHoldingRegister:
        regs_.resize(r.count);
        return modbus_read_registers(ctx_, start, count, regs_.data());
      case model::ModbusTable::kInputRegister:
        regs_.resize(r.count);
        return modbus_read_input_registers(ctx_, start, count, regs_.data());
      case model::ModbusTable::kCoil:
        bits_.resize(r.count);
        return modbus_read_bits(ctx_, start, count, bits_.data());
      case model::ModbusTable::kDiscreteInput:
        bits_.resize(r.count);
        return modbus_read_input_bits(ctx_, start, count, bits_.data());
    }
    errno = EINVAL;
    return -1;
  }

  void Poll(const PollGroup& group) {
    if (ctx_ == nullptr) {
      if (SteadyClock::now() < next_connect_) return;
      Status s = Connect();
      if (!s.ok()) {
        CountError("connection", 1, s.message());
        MarkDown(s.message());
        return;
      }
    }
    const int64_t ts_us = UnixMicros(clock_.Now());
    samples_.clear();
    uint64_t replies = 0, decode_failures = 0;
    for (const PollRead& r : group.reads) {
      if (StopRequested()) break;
      modbus_set_slave(ctx_, group.unit_id);
      const int n = Read(r);
      const std::string where = "unit " + std::to_string(group.unit_id) + " " +
                                std::string(model::ModbusTableName(r.table)) + " " +
                                std::to_string(r.start) + "+" + std::to_string(r.count);
      if (n == -1) {
        const int err = errno;
        const std::string kind = ErrorKind(err);
        const std::string message = "read " + where + ": " + modbus_strerror(err);
        CountError(kind, 1, message);
        if (IsReply(kind)) {
          if (kind == "bad_reply") modbus_flush(ctx_);
          MarkUp();
          continue;
        }
        MarkDown(message);
        break;
      }
      MarkUp();
      ++replies;
      if (n != r.count) {
        CountError("short_reply", 1, "read " + where + ": got " + std::to_string(n) + " value(s)");
      }
      const auto got = static_cast<size_t>(std::max(n, 0));
      const bool bit_table =
          r.table == model::ModbusTable::kCoil || r.table == model::ModbusTable::kDiscreteInput;
      const std::span<const uint16_t> regs =
          bit_table ? std::span<const uint16_t>()
                    : std::span<const uint16_t>(regs_).first(std::min(got, regs_.size()));
      const std::span<const uint8_t> bits =
          bit_table ? std::span<const uint8_t>(bits_).first(std::min(got, bits_.size()))
                    : std::span<const uint8_t>();
      decode_failures += DecodeRead(r, regs, bits, ts_us, &samples_);
    }
    if (decode_failures > 0) {
      CountError("decode", decode_failures, "values that could not be decoded from a reply");
    }
    {
      std::lock_guard lock(shared_.mu);
      shared_.health.messages += replies;
      shared_.health.samples += samples_.size();
    }
    if (!samples_.empty()) sinks_.on_samples(samples_);
  }

  struct LogLimited {
    bool logged = false;
    SteadyClock::time_point last;
    uint64_t held_back = 0;
  };

  const size_t index_;
  const EndpointPlan& plan_;
  const std::string host_;
  const uint16_t port_;
  const ModbusConnectorOptions& options_;
  const Clock& clock_;
  Shared& shared_;
  const ConnectorSinks& sinks_;
  const std::string source_;
  SignalId event_signal_ = 0;

  modbus_t* ctx_ = nullptr;
  int up_ = -1;  // -1 unknown (never connected), 0 down, 1 up
  std::chrono::milliseconds backoff_;
  SteadyClock::time_point next_connect_{};
  std::vector<uint16_t> regs_;
  std::vector<uint8_t> bits_;
  std::vector<Sample> samples_;
  std::map<std::string, LogLimited> logs_;
};

Result<std::unique_ptr<ModbusConnector>> ModbusConnector::Create(const SignalTable& table,
                                                                 ModbusConnectorOptions options) {
  using std::chrono::milliseconds;
  if (options.response_timeout < milliseconds(1) ||
      options.response_timeout > std::chrono::seconds(60)) {
    return InvalidArgumentError(
        "modbus connector: response_timeout must be within 1 ms..60 s, "
        "got " +
        std::to_string(options.response_timeout.count()) + " ms");
  }
  if (options.reconnect_backoff_min < milliseconds(1) ||
      options.reconnect_backoff_max < options.reconnect_backoff_min) {
    return InvalidArgumentError(
        "modbus connector: reconnect backoff must have 1 ms <= min <= max, got min " +
        std::to_string(options.reconnect_backoff_min.count()) + " ms, max " +
        std::to_string(options.reconnect_backoff_max.count()) + " ms");
  }
  WEFT_ASSIGN_OR_RETURN(PollPlan plan, BuildPollPlan(table, options.plan));
  std::vector<std::pair<std::string, uint16_t>> targets;
  std::set<std::string> used;
  for (const EndpointPlan& e : plan.endpoints) {
    auto it = options.endpoint_overrides.find(e.name());
    if (it == options.endpoint_overrides.end()) {
      targets.emplace_back(e.host, e.port);
      continue;
    }
    WEFT_ASSIGN_OR_RETURN(auto target, ParseHostPort(it->second));
    targets.push_back(std::move(target));
    used.insert(it->first);
  }
  for (const auto& [from, to] : options.endpoint_overrides) {
    if (!used.contains(from)) {
      WEFT_RETURN_IF_ERROR(ParseHostPort(to));
      spdlog::warn(
          "modbus connector: endpoint override '{}' names no Modbus endpoint of this "
          "edge; ignored",
          from);
    }
  }
  return std::unique_ptr<ModbusConnector>(
      new ModbusConnector(std::move(plan), std::move(options), std::move(targets)));
}

ModbusConnector::ModbusConnector(PollPlan plan, ModbusConnectorOptions options,
                                 std::vector<std::pair<std::string, uint16_t>> targets)
    : plan_(std::move(plan)),
      options_(std::move(options)),
      targets_(std::move(targets)),
      shared_(std::make_unique<Shared>()) {
  shared_->health.name = "modbus";
  shared_->endpoint_state.assign(plan_.endpoints.size(), -1);
}

ModbusConnector::~ModbusConnector() {
  Stop();
}

Status ModbusConnector::Start(ConnectorSinks sinks) {
  if (ran_)
    return FailedPreconditionError(
        "modbus connector: already started (a connector runs "
        "once; make a new one to restart)");
  if (!sinks.on_samples) return FailedPreconditionError("modbus connector: on_samples is empty");
  ran_ = true;
  sinks_ = std::move(sinks);
  {
    std::lock_guard lock(shared_->mu);
    shared_->started = true;
  }
  const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock::Default();
  for (size_t i = 0; i < plan_.endpoints.size(); ++i) {
    pollers_.push_back(std::make_unique<Poller>(i, plan_.endpoints[i], targets_[i].first,
                                                targets_[i].second, options_, clock, *shared_,
                                                sinks_));
  }
  for (auto& p : pollers_) threads_.emplace_back([poller = p.get()] { poller->Run(); });
  return Status::Ok();
}

void ModbusConnector::Stop() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stop = true;
    shared_->started = false;
  }
  shared_->cv.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  pollers_.clear();
}

ConnectorHealth ModbusConnector::Health() const {
  std::lock_guard lock(shared_->mu);
  ConnectorHealth h = shared_->health;
  if (!shared_->started) {
    h.state = ConnectorState::kStopped;
    return h;
  }
  const auto& states = shared_->endpoint_state;
  if (std::find(states.begin(), states.end(), 0) != states.end()) {
    h.state = ConnectorState::kDegraded;
  } else if (std::find(states.begin(), states.end(), -1) != states.end()) {
    h.state = ConnectorState::kStarting;
  } else {
    h.state = ConnectorState::kRunning;
  }
  return h;
}

}  // namespace weft::edge::modbus
