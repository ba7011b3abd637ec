// ModbusConnector: polls Modbus TCP devices for the SignalTable's Modbus signals and delivers
// their engineering values as samples.
//
//   ModbusConnectorOptions opts;
//   opts.endpoint_overrides["10.20.0.31:502"] = "127.0.0.1:15020";   // remapped plant / tests
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<ModbusConnector> c,
//                         ModbusConnector::Create(table, opts));
//   WEFT_RETURN_IF_ERROR(c->Start({.on_samples = push, .on_event = note}));
//   ConnectorHealth h = c->Health();   // {"timeout": 3, "exception_illegal_data_address": 1}
//   c->Stop();
//
// What it does:
//   - builds a PollPlan (poll_plan.h) and runs one thread per endpoint (host:port, one TCP
//     connection; a gateway's unit ids share it), using libmodbus.
//   - polls each group (unit id, period) on its own schedule without drift: the next deadline
//     is the previous deadline + period; deadlines already missed are skipped (counted as
//     "missed_poll"). The first poll of every group is at Start.
//   - a poll makes the group's reads in order; its samples carry the poll's start time (from
//     the injected Clock) and are delivered in one on_samples call (none when no read
//     succeeded). Failed reads deliver nothing.
//   - problems are counted in Health().errors by kind: "timeout", "connection",
//     "exception_illegal_function", "exception_illegal_data_address",
//     "exception_illegal_data_value", "exception_server_failure", "exception_server_busy",
//     "exception_gateway_path_unavailable", "exception_gateway_target_failed", other
//     "exception_*", "bad_reply", "short_reply", "decode", "missed_poll"; and logged, at most
//     once per log_interval per endpoint and kind (with the number held back).
//   - an exception reply or a bad reply fails that read only; the poll goes on. A timeout or a
//     connection error closes the connection: the rest of the poll is skipped and the endpoint
//     reconnects at its next deadline once the backoff (doubling from reconnect_backoff_min to
//     reconnect_backoff_max, reset by a reply) has passed.
//   - on_event gets one Event{kind "comm_loss"} when an endpoint goes down (including a first
//     connection that fails) and one Event{kind "comm_restored"} at the first reply after that.
//     Event::signal is the endpoint's first signal, source "modbus://host:port" (the plant's
//     address, not the override), message the cause.
//   - Stop() wakes the threads and joins them; it waits at most for the read or connect in
//     flight, i.e. about response_timeout.
//
// Health().state: kStopped (before Start / after Stop), kStarting (until every endpoint has
// had its first outcome), kRunning (every endpoint up), kDegraded (some endpoint down).
// messages = replies received (normal ones), samples = samples delivered.
//
// Thread-safety: Start/Stop from one controlling thread; Health from any thread. The sinks are
// called from the endpoint threads, concurrently when there are several endpoints.
#ifndef WEFT_EDGE_CONNECTORS_MODBUS_MODBUS_CONNECTOR_H_
#define WEFT_EDGE_CONNECTORS_MODBUS_MODBUS_CONNECTOR_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "edge/connector.h"
#include "edge/connectors/modbus/poll_plan.h"
#include "edge/signal_table.h"

namespace weft::edge::modbus {

struct ModbusConnectorOptions {
  //! How long a read (or a connect) may take; 1 ms .. 60 s.
  std::chrono::milliseconds response_timeout{500};
  //! Wait before reconnecting after a failure, doubling up to the max; min >= 1 ms, max >= min.
  std::chrono::milliseconds reconnect_backoff_min{200};
  std::chrono::milliseconds reconnect_backoff_max{std::chrono::seconds(10)};
  //! "host:port" of the plant -> "host:port" to connect to instead (tests, remapped plants).
  //! An override that names no endpoint of the table is logged as a warning.
  std::map<std::string, std::string> endpoint_overrides;
  PollPlanOptions plan;
  //! Sample and event timestamps; null = SystemClock::Default(). Must outlive the connector.
  //! Scheduling uses the steady clock regardless.
  const Clock* clock = nullptr;
  //! Each endpoint logs each kind of problem at most once per interval.
  std::chrono::milliseconds log_interval{std::chrono::seconds(10)};
};

class ModbusConnector final : public Connector {
 public:
  //! Plans the polls. Errors: those of BuildPollPlan, InvalidArgument for options out of range
  //! or an override that is not "host:port".
  static Result<std::unique_ptr<ModbusConnector>> Create(const SignalTable& table,
                                                         ModbusConnectorOptions options);
  //! Stop()s.
  ~ModbusConnector() override;
  ModbusConnector(const ModbusConnector&) = delete;
  ModbusConnector& operator=(const ModbusConnector&) = delete;

  //! Starts the endpoint threads. FailedPrecondition if already started (a connector runs
  //! once) or if sinks.on_samples is empty.
  Status Start(ConnectorSinks sinks) override;
  void Stop() override;
  ConnectorHealth Health() const override;

  //! The plan (overrides not applied); for diagnostics and tests.
  const PollPlan& plan() const { return plan_; }

 private:
  class Poller;  // One endpoint's thread and connection, in the .cc.
  friend class Poller;

  // Health bookkeeping shared with the pollers.
  struct Shared {
    mutable std::mutex mu;
    std::condition_variable cv;       // wakes the pollers on stop
    bool stop = false;                // GUARDED_BY(mu)
    ConnectorHealth health;           // GUARDED_BY(mu); state computed in Health()
    bool started = false;             // GUARDED_BY(mu)
    std::vector<int> endpoint_state;  // GUARDED_BY(mu): -1 unknown, 0 down, 1 up
  };

  ModbusConnector(PollPlan plan, ModbusConnectorOptions options,
                  std::vector<std::pair<std::string, uint16_t>> targets);

  const PollPlan plan_;
  const ModbusConnectorOptions options_;
  // Where each endpoint of plan_ is really reached (after overrides).
  const std::vector<std::pair<std::string, uint16_t>> targets_;
  std::unique_ptr<Shared> shared_;
  ConnectorSinks sinks_;  // set by Start, read by the pollers
  std::vector<std::unique_ptr<Poller>> pollers_;
  std::vector<std::thread> threads_;
  bool ran_ = false;  // Start was called (controlling thread only)
};

}  // namespace weft::edge::modbus

#endif  // WEFT_EDGE_CONNECTORS_MODBUS_MODBUS_CONNECTOR_H_
