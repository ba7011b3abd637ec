#include "edge/connectors/modbus/poll_plan.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "edge/connectors/modbus/register_decode.h"

namespace weft::edge::modbus {
namespace {

// One signal's value, located: what the merge works on.
struct Located {
  uint32_t start = 0;  // absolute address of the first register (bit)
  uint32_t width = 1;
  SignalId signal = 0;
  model::ModbusBinding binding;
};

std::string SignalName(const SignalInfo& s) {
  return "signal " + std::string(s.asset) + "." + std::string(s.signal);
}

Status ValidateOptions(const PollPlanOptions& o) {
  if (o.max_registers < 2 || o.max_registers > 125) {
    return InvalidArgumentError("poll plan: max_registers must be within 2..125, got " +
                                std::to_string(o.max_registers));
  }
  if (o.max_bits < 1 || o.max_bits > 2000) {
    return InvalidArgumentError("poll plan: max_bits must be within 1..2000, got " +
                                std::to_string(o.max_bits));
  }
  return Status::Ok();
}

// Merges the values of one table of one group into reads. `values` is sorted by start.
std::vector<PollRead> Merge(model::ModbusTable table, const std::vector<Located>& values,
                            uint32_t max_count, uint32_t max_gap) {
  std::vector<PollRead> reads;
  uint32_t start = 0, end = 0;  // of the read being built, [start, end)
  for (const Located& v : values) {
    const uint32_t v_end = v.start + v.width;
    if (!reads.empty()) {
      const uint32_t gap = v.start > end ? v.start - end : 0;
      const uint32_t new_end = std::max(end, v_end);
      if (gap <= max_gap && new_end - start <= max_count) {
        end = new_end;
        reads.back().count = static_cast<uint16_t>(end - start);
        reads.back().items.push_back({v.signal, v.start - start, v.binding});
        continue;
      }
    }
    start = v.start;
    end = v_end;
    PollRead r;
    r.table = table;
    r.start = static_cast<uint16_t>(start);
    r.count = static_cast<uint16_t>(v.width);
    r.items.push_back({v.signal, 0, v.binding});
    reads.push_back(std::move(r));
  }
  return reads;
}

}  // namespace

std::vector<SignalId> EndpointPlan::Signals() const {
  std::vector<SignalId> out;
  for (const PollGroup& g : groups) {
    for (const PollRead& r : g.reads) {
      for (const PollItem& i : r.items) out.push_back(i.signal);
    }
  }
  return out;
}

size_t PollPlan::read_count() const {
  size_t n = 0;
  for (const EndpointPlan& e : endpoints) {
    for (const PollGroup& g : e.groups) n += g.reads.size();
  }
  return n;
}

size_t PollPlan::signal_count() const {
  size_t n = 0;
  for (const EndpointPlan& e : endpoints) n += e.Signals().size();
  return n;
}

Result<PollPlan> BuildPollPlan(const SignalTable& table, const PollPlanOptions& options) {
  WEFT_RETURN_IF_ERROR(ValidateOptions(options));
  // endpoint (host, port) -> (unit, period) -> table -> values
  using GroupKey = std::pair<uint8_t, int64_t>;
  std::map<std::pair<std::string, uint16_t>,
           std::map<GroupKey, std::map<model::ModbusTable, std::vector<Located>>>>
      tree;
  for (const SignalInfo& s : table.signals()) {
    if (s.protocol != model::Protocol::kModbusTcp) continue;
    if (s.signal_model == nullptr || !s.signal_model->spec.source.modbus.has_value()) {
      return InvalidArgumentError(SignalName(s) + ": Modbus signal without a register binding");
    }
    if (s.asset_model == nullptr || !s.asset_model->connection.modbus.has_value()) {
      return InvalidArgumentError(SignalName(s) + ": asset '" + std::string(s.asset) +
                                  "' has no Modbus connection");
    }
    const model::ModbusBinding& b = *s.signal_model->spec.source.modbus;
    const model::ModbusEndpoint& ep = *s.asset_model->connection.modbus;
    Status valid = ValidateBinding(b);
    if (!valid.ok()) return valid.WithContext(SignalName(s));
    if (ep.host.empty()) {
      return InvalidArgumentError(SignalName(s) + ": asset '" + std::string(s.asset) +
                                  "' has an empty Modbus host");
    }
    const uint64_t start = uint64_t{ep.base} + b.address;
    if (start + b.width() > 65536) {
      return InvalidArgumentError(SignalName(s) + ": base " + std::to_string(ep.base) +
                                  " + address " + std::to_string(b.address) +
                                  " runs past Modbus address 65535");
    }
    if (s.period.count() <= 0) {
      return InvalidArgumentError(SignalName(s) + ": period must be positive, got " +
                                  std::to_string(s.period.count()) + " us");
    }
    Located v;
    v.start = static_cast<uint32_t>(start);
    v.width = b.width();
    v.signal = s.id;
    v.binding = b;
    tree[{ep.host, ep.port}][{ep.unit_id, s.period.count()}][b.table].push_back(v);
  }
  if (tree.empty()) return NotFoundError("poll plan: the signal table has no Modbus signal");

  PollPlan plan;
  for (auto& [endpoint, groups] : tree) {
    EndpointPlan e;
    e.host = endpoint.first;
    e.port = endpoint.second;
    for (auto& [key, tables] : groups) {
      PollGroup g;
      g.unit_id = key.first;
      g.period = Micros(key.second);
      for (auto& [t, values] : tables) {
        std::sort(values.begin(), values.end(), [](const Located& a, const Located& b) {
          return std::tie(a.start, a.signal) < std::tie(b.start, b.signal);
        });
        const bool bits = IsBitTable(t);
        std::vector<PollRead> reads =
            Merge(t, values, bits ? options.max_bits : options.max_registers,
                  bits ? options.max_bit_gap : options.max_gap);
        for (PollRead& r : reads) g.reads.push_back(std::move(r));
      }
      e.groups.push_back(std::move(g));
    }
    plan.endpoints.push_back(std::move(e));
  }
  return plan;
}

size_t DecodeRead(const PollRead& read, std::span<const uint16_t> registers,
                  std::span<const uint8_t> bits, int64_t ts_us, std::vector<Sample>* out) {
  size_t failed = 0;
  const bool bit_table = IsBitTable(read.table);
  for (const PollItem& item : read.items) {
    Result<double> v = InvalidArgumentError("offset past the reply");
    if (bit_table) {
      if (item.offset < bits.size()) v = DecodeBits(item.binding, bits.subspan(item.offset));
    } else if (item.offset < registers.size()) {
      v = DecodeValue(item.binding, registers.subspan(item.offset));
    }
    if (!v.ok()) {
      ++failed;
      continue;
    }
    out->push_back(Sample{.signal = item.signal, .ts_us = ts_us, .value = *v});
  }
  return failed;
}

}  // namespace weft::edge::modbus
