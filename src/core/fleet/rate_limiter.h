// RateLimiter: keyed token buckets on an injected clock (provisioning's global rate, refused
// attempts per remote address, attempts per serial).
//
//   RateLimiter per_address({.rate_per_s = 10.0 / 60, .burst = 10}, &clock);
//   if (RateDecision d = per_address.Check(addr); !d.allowed) return TooMany(d.retry_after);
//   ... on a refusal: per_address.Take(addr);
//
// A bucket holds up to `burst` tokens and refills at `rate_per_s`; Take spends one. A key never
// seen has a full bucket. Memory is bounded: when more than `max_keys` buckets are held, the ones
// that have refilled completely (indistinguishable from absent) are dropped, and if that is not
// enough the map is cleared (limits loosen briefly rather than memory growing without bound).
//
// Thread-safety: all methods are safe from several threads (one mutex).
#ifndef WEFT_CORE_FLEET_RATE_LIMITER_H_
#define WEFT_CORE_FLEET_RATE_LIMITER_H_

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace weft::core::fleet {

struct RateLimit {
  double rate_per_s = 1.0;  //!< refill rate; > 0
  double burst = 1.0;       //!< bucket size; >= 1
};

struct RateDecision {
  bool allowed = true;
  Micros retry_after{0};  //!< when refused: until one token is back (>= 1 s when rounded up)
};

class RateLimiter {
 public:
  //! REQUIRES: clock outlives the limiter; limit.rate_per_s > 0.
  RateLimiter(RateLimit limit, const Clock* clock, size_t max_keys = 100000);

  //! Spends one token of `key` if there is one.
  RateDecision Take(std::string_view key);
  //! Would Take succeed? Spends nothing.
  RateDecision Check(std::string_view key);
  //! Spends one token even when empty (the bucket goes negative, down to -burst): refusals
  //! keep counting while the caller is already limited.
  void Charge(std::string_view key);

  const RateLimit& limit() const { return limit_; }
  size_t keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated{};
  };
  // REQUIRES: mutex_ held. The bucket of `key`, refilled to now.
  Bucket& Refilled(std::string_view key, TimePoint now);
  Micros RetryAfter(const Bucket& b) const;
  void Evict(TimePoint now);

  const RateLimit limit_;
  const Clock* const clock_;
  const size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mutex_)
};

}  // namespace weft::core::fleet

#endif  // WEFT_CORE_FLEET_RATE_LIMITER_H_
