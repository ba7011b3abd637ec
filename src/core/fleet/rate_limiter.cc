#include "core/fleet/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace weft::core::fleet {

RateLimiter::RateLimiter(RateLimit limit, const Clock* clock, size_t max_keys)
    : limit_({std::max(limit.rate_per_s, 1e-9), std::max(limit.burst, 1.0)}),
      clock_(clock),
      max_keys_(std::max<size_t>(max_keys, 1)) {}

RateLimiter::Bucket& RateLimiter::Refilled(std::string_view key, TimePoint now) {
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) Evict(now);
    it = buckets_.emplace(std::string(key), Bucket{limit_.burst, now}).first;
    return it->second;
  }
  Bucket& b = it->second;
  if (now > b.updated) {
    const double seconds = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(limit_.burst, b.tokens + seconds * limit_.rate_per_s);
    b.updated = now;
  }
  return b;
}

Micros RateLimiter::RetryAfter(const Bucket& b) const {
  const double missing = 1.0 - b.tokens;
  if (missing <= 0) return Micros(0);
  return Micros(static_cast<int64_t>(std::ceil(missing / limit_.rate_per_s * 1e6)));
}

void RateLimiter::Evict(TimePoint now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double seconds = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + seconds * limit_.rate_per_s >= limit_.burst) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() >= max_keys_) buckets_.clear();
}

RateDecision RateLimiter::Take(std::string_view key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = Refilled(key, clock_->Now());
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {true, Micros(0)};
  }
  return {false, RetryAfter(b)};
}

RateDecision RateLimiter::Check(std::string_view key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = Refilled(key, clock_->Now());
  if (b.tokens >= 1.0) return {true, Micros(0)};
  return {false, RetryAfter(b)};
}

void RateLimiter::Charge(std::string_view key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = Refilled(key, clock_->Now());
  b.tokens = std::max(-limit_.burst, b.tokens - 1.0);
}

size_t RateLimiter::keys() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

}  // namespace weft::core::fleet
