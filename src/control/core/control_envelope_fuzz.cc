// libFuzzer target: any bytes, decoded into a safety envelope and a sequence of proposals,
// times, interlock signal values and hand-mode switches (envelope_invariant.h), never make
// Decide break the envelope's INVARIANT (envelope.h). A violation aborts with the reason.
// Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "control/core/envelope_invariant.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string why;
  if (!weft::control::testing::RunEnvelopeSequence(data, size, &why)) {
    std::fprintf(stderr, "envelope INVARIANT broken: %s\n", why.c_str());
    std::abort();
  }
  return 0;
}
