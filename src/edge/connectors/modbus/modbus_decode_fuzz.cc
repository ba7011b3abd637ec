// libFuzzer target: arbitrary bytes as Modbus replies, decoded for arbitrary bindings, never
// crash. The first bytes choose a binding (table, value type, word order, scale, offset) and a
// read layout; the rest are the reply's registers (big-endian pairs) and bits. DecodeValue and
// DecodeBits must return a value or an InvalidArgument with a message; DecodeRead must account
// for every item (a sample or a failure). Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "edge/connectors/modbus/poll_plan.h"
#include "edge/connectors/modbus/register_decode.h"

namespace {

using weft::model::ModbusBinding;
using weft::model::ModbusTable;
using weft::model::ModbusValueType;
using weft::model::WordOrder;

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  double Double() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | Byte();
    double d = 0;
    std::memcpy(&d, &bits, sizeof(d));
    return d;
  }
  std::span<const uint8_t> Rest() const {
    return pos_ < size_ ? std::span<const uint8_t>(data_ + pos_, size_ - pos_)
                        : std::span<const uint8_t>();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

ModbusBinding MakeBinding(Reader& r) {
  ModbusBinding b;
  b.table = static_cast<ModbusTable>(r.Byte() % 4);
  b.value_type = static_cast<ModbusValueType>(r.Byte() % 6);
  b.word_order = (r.Byte() & 1) != 0 ? WordOrder::kLowFirst : WordOrder::kHighFirst;
  // Mostly ordinary scales, sometimes raw doubles (NaN, inf, 0, denormals).
  const uint8_t mode = r.Byte();
  if ((mode & 3) == 0) {
    b.scale = r.Double();
    b.offset = r.Double();
  } else {
    b.scale = (mode & 4) != 0 ? 0.1 : 1.0;
    b.offset = (mode & 8) != 0 ? -40.0 : 0.0;
  }
  return b;
}

void Check(const weft::Result<double>& v) {
  if (!v.ok() &&
      (v.status().code() != weft::StatusCode::kInvalidArgument || v.status().message().empty())) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  const ModbusBinding b = MakeBinding(r);
  // A read of up to 8 items of arbitrary bindings at arbitrary offsets.
  weft::edge::modbus::PollRead read;
  read.table = b.table;
  const size_t items = r.Byte() % 9;
  for (size_t i = 0; i < items; ++i) {
    weft::edge::modbus::PollItem item;
    item.signal = static_cast<uint32_t>(i);
    item.offset = r.Byte();
    item.binding = (r.Byte() & 1) != 0 ? MakeBinding(r) : b;
    read.items.push_back(item);
  }
  const std::span<const uint8_t> rest = r.Rest();
  std::vector<uint16_t> regs;
  for (size_t i = 0; i + 1 < rest.size(); i += 2) {
    regs.push_back(static_cast<uint16_t>((rest[i] << 8) | rest[i + 1]));
  }
  read.count =
      static_cast<uint16_t>(weft::edge::modbus::IsBitTable(read.table) ? rest.size() : regs.size());

  Check(weft::edge::modbus::DecodeValue(b, regs));
  Check(weft::edge::modbus::DecodeBits(b, rest));
  std::vector<weft::edge::Sample> out;
  const size_t failed = weft::edge::modbus::DecodeRead(read, regs, rest, 1, &out);
  if (failed + out.size() != read.items.size()) __builtin_trap();
  return 0;
}
