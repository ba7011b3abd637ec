// PollPlan: which Modbus reads the connector makes, how often, and which signals each feeds.
//
//   WEFT_ASSIGN_OR_RETURN(PollPlan plan, BuildPollPlan(table, PollPlanOptions{}));
//   for (const EndpointPlan& e : plan.endpoints)          // one TCP connection each
//     for (const PollGroup& g : e.groups)                 // one unit id and period each
//       for (const PollRead& r : g.reads)                 // one request each
//         ... read r.count registers of r.table at r.start, then DecodeRead(r, regs, ...) ...
//
// How the plan is made, from the table's Modbus signals (protocol kModbusTcp; the binding from
// signal_model->spec.source.modbus, the endpoint from asset_model->connection.modbus):
//   - signals are grouped per endpoint (host, port): one connection, one poller thread; a
//     gateway serving several unit ids is one endpoint;
//   - within an endpoint, per (unit id, period): one PollGroup, polled together, whose samples
//     are delivered as one batch;
//   - within a group, per table, values are sorted by absolute address (base + address) and
//     merged into contiguous reads while the hole between two values is at most max_gap
//     registers (or max_bit_gap bits) and the read stays within max_registers (or max_bits).
//     A value is never split across reads: a 32-bit value is always read whole.
//   - groups are ordered by (unit, period), reads by (table, start).
// Errors (InvalidArgument naming the signal): a Modbus signal without binding or endpoint, a
// value running past address 65535, a binding ValidateBinding refuses, a period that is not
// positive, options out of range. NotFound: the table has no Modbus signal.
//
// Thread-safety: values.
#ifndef WEFT_EDGE_CONNECTORS_MODBUS_POLL_PLAN_H_
#define WEFT_EDGE_CONNECTORS_MODBUS_POLL_PLAN_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "edge/sample.h"
#include "edge/signal_table.h"
#include "model/plant.h"

namespace weft::edge::modbus {

struct PollPlanOptions {
  //! Largest read, in registers (1..125, the Modbus limit) and in bits (1..2000).
  uint32_t max_registers = 125;
  uint32_t max_bits = 2000;
  //! Largest hole of unused registers (bits) a read may span to merge two values (0 = only
  //! adjacent values merge).
  uint32_t max_gap = 8;
  uint32_t max_bit_gap = 64;
};

//! One signal fed by a read.
struct PollItem {
  SignalId signal = 0;
  //! Index of the value's first register (bit) in the read's reply.
  uint32_t offset = 0;
  model::ModbusBinding binding;
};

//! One Modbus request: `count` registers (or bits) of `table` from absolute address `start`.
struct PollRead {
  model::ModbusTable table = model::ModbusTable::kHoldingRegister;
  uint16_t start = 0;
  uint16_t count = 0;
  std::vector<PollItem> items;  //!< by offset
};

//! The reads of one unit id polled together every `period`.
struct PollGroup {
  uint8_t unit_id = 1;
  Micros period{0};
  std::vector<PollRead> reads;
};

//! One Modbus TCP connection and what is polled through it.
struct EndpointPlan {
  std::string host;
  uint16_t port = 502;
  std::vector<PollGroup> groups;
  //! "host:port", e.g. "10.20.0.50:502".
  std::string name() const { return host + ":" + std::to_string(port); }
  //! Every signal the endpoint feeds, in plan order.
  std::vector<SignalId> Signals() const;
};

struct PollPlan {
  std::vector<EndpointPlan> endpoints;  //!< ordered by (host, port)
  size_t read_count() const;
  size_t signal_count() const;
};

//! See the file comment.
Result<PollPlan> BuildPollPlan(const SignalTable& table, const PollPlanOptions& options);

//! Decodes the samples of one read's reply: `registers` for register tables, `bits` (one
//! element per bit) for bit tables; the other span is ignored. Appends one sample per item with
//! `ts_us` to `out`; an item whose value cannot be decoded (a reply shorter than the read) is
//! skipped and counted in the return value. Never fails otherwise.
size_t DecodeRead(const PollRead& read, std::span<const uint16_t> registers,
                  std::span<const uint8_t> bits, int64_t ts_us, std::vector<Sample>* out);

}  // namespace weft::edge::modbus

#endif  // WEFT_EDGE_CONNECTORS_MODBUS_POLL_PLAN_H_
