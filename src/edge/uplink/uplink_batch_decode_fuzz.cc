// libFuzzer target: any bytes given to DecodeBatch end in a DecodedBatch whose every signal id
// has a context, or in an InvalidArgument/DataLoss error with a message; never in a crash, a
// sanitizer report, a leak or an allocation above the 64 MiB bound. Built with -DWEFT_FUZZ=ON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edge/uplink/batch_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using weft::StatusCode;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  weft::Result<weft::edge::uplink::DecodedBatch> batch = weft::edge::uplink::DecodeBatch(bytes);
  if (!batch.ok()) {
    const StatusCode code = batch.status().code();
    if ((code != StatusCode::kInvalidArgument && code != StatusCode::kDataLoss) ||
        batch.status().message().empty()) {
      __builtin_trap();
    }
    return 0;
  }
  for (const auto& s : batch->samples) {
    if (batch->ContextOf(s.signal) == nullptr) __builtin_trap();
  }
  for (const auto& a : batch->aggregates) {
    if (batch->ContextOf(a.signal) == nullptr) __builtin_trap();
  }
  for (const auto& e : batch->events) {
    if (batch->ContextOf(e.signal) == nullptr) __builtin_trap();
  }
  if (static_cast<int>(batch->stream) >= weft::edge::kPriorityCount) __builtin_trap();
  return 0;
}
