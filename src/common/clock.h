// Clock: where Weft code gets "now". Inject a Clock instead of calling the system clock, so
// tests decide what time it is.
//
//   SystemClock clock;            // production
//   ManualClock clock(TimeFromUnixMicros(0));
//   clock.Advance(std::chrono::seconds(5));   // tests
//
// Thread-safety: both implementations are safe to use from several threads.
#ifndef WEFT_COMMON_CLOCK_H_
#define WEFT_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft {

//! Microseconds since the Unix epoch, UTC: the resolution of Weft's timestamps end to end
//! (Parquet TIMESTAMP(MICROS, UTC), Delta, Sparkplug's milliseconds widened).
using Micros = std::chrono::microseconds;
using TimePoint = std::chrono::sys_time<Micros>;

inline TimePoint TimeFromUnixMicros(int64_t us) {
  return TimePoint(Micros(us));
}
inline int64_t UnixMicros(TimePoint t) {
  return t.time_since_epoch().count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  //! Wall-clock time, UTC.
  virtual TimePoint Now() const = 0;
};

//! The operating system's real-time clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  //! A process-wide instance, for mains that wire dependencies.
  static SystemClock& Default();
};

//! A clock that moves only when told to. For tests and for simulated time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_us_(UnixMicros(start)) {}
  TimePoint Now() const override { return TimeFromUnixMicros(now_us_.load()); }
  void Set(TimePoint t) { now_us_.store(UnixMicros(t)); }
  void Advance(Micros d) { now_us_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace weft

#endif  // WEFT_COMMON_CLOCK_H_
