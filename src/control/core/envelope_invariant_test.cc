// The envelope's INVARIANT over 100k random sequences (deterministic seed; 10k in sanitizer
// builds), so that every build
// checks what the fuzzer control_envelope_fuzz checks in fuzz builds.
#include "control/core/envelope_invariant.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace weft::control {
namespace {

// Sanitizer builds are ~15x slower; they run a tenth of the sequences (the release build and
// the fuzzer run the rest).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kSequences = 10000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kSequences = 10000;
#else
constexpr int kSequences = 100000;
#endif
#else
constexpr int kSequences = 100000;
#endif

TEST(EnvelopeInvariant, RandomSequences) {
  std::mt19937_64 rng(20261126);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(4, 160);
  std::vector<uint8_t> data;
  testing::EnvelopeSequenceStats stats;
  for (int i = 0; i < kSequences; ++i) {
    data.resize(length(rng));
    for (uint8_t& b : data) b = static_cast<uint8_t>(byte(rng));
    std::string why;
    ASSERT_TRUE(testing::RunEnvelopeSequence(data.data(), data.size(), &why, &stats))
        << "sequence " << i << ": " << why;
  }
  // The sequences reach every rule, many times.
  const uint64_t n = kSequences;
  EXPECT_GT(stats.writes, n / 10);
  EXPECT_GT(stats.rate_limited, n / 10);
  EXPECT_GT(stats.clamped, n / 100);
  EXPECT_GT(stats.holds, n / 10);
  EXPECT_GT(stats.safes, n / 100);
  EXPECT_GT(stats.hand, n / 100);
  EXPECT_GT(stats.interlock_trips, n / 10);
  EXPECT_GT(stats.invalid_envelopes, n / 100);
  std::printf(
      "writes %llu (rate-limited %llu, clamped %llu), holds %llu, safes %llu, hand %llu, "
      "interlock trips %llu, invalid envelopes %llu\n",
      static_cast<unsigned long long>(stats.writes),
      static_cast<unsigned long long>(stats.rate_limited),
      static_cast<unsigned long long>(stats.clamped), static_cast<unsigned long long>(stats.holds),
      static_cast<unsigned long long>(stats.safes), static_cast<unsigned long long>(stats.hand),
      static_cast<unsigned long long>(stats.interlock_trips),
      static_cast<unsigned long long>(stats.invalid_envelopes));
}

TEST(EnvelopeInvariant, EmptyAndTinyInputs) {
  std::string why;
  EXPECT_TRUE(testing::RunEnvelopeSequence(nullptr, 0, &why)) << why;
  const uint8_t one[] = {1};
  EXPECT_TRUE(testing::RunEnvelopeSequence(one, 1, &why)) << why;
}

}  // namespace
}  // namespace weft::control
