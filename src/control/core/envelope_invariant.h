// Test support (not part of the library's API): runs Decide over a sequence decoded from bytes
// and checks the envelope's INVARIANT after every decision. Shared by the libFuzzer target
// control_envelope_fuzz and the deterministic 100k-sequence unit test.
//
//   std::string why;
//   if (!RunEnvelopeSequence(bytes, size, &why)) { report(why); }
//
// Thread-safety: reentrant.
#ifndef WEFT_CONTROL_CORE_ENVELOPE_INVARIANT_H_
#define WEFT_CONTROL_CORE_ENVELOPE_INVARIANT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::control::testing {

struct EnvelopeSequenceStats;

//! Decodes `data` into an envelope (bounds, step, rate, safe, interlocks) and a sequence of
//! steps (proposal, elapsed time, interlock signal values, hand mode, whether the PLC's value is
//! known), runs Decide on each, feeding each written value back as last_written, and checks
//! CheckInvariant. False, with `why`, on the first violation.
bool RunEnvelopeSequence(const uint8_t* data, size_t size, std::string* why,
                         struct EnvelopeSequenceStats* stats = nullptr);

//! What the decisions were, so a test can show the sequences exercise every rule.
struct EnvelopeSequenceStats {
  uint64_t writes = 0, rate_limited = 0, clamped = 0, holds = 0, safes = 0, hand = 0;
  uint64_t interlock_trips = 0, invalid_envelopes = 0;
};

}  // namespace weft::control::testing

#endif  // WEFT_CONTROL_CORE_ENVELOPE_INVARIANT_H_
