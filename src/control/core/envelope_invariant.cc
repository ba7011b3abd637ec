#include "control/core/envelope_invariant.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "control/core/envelope.h"

namespace weft::control::testing {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Reads the fuzz input front to back; zeros once it is spent.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }

  // Mostly plausible values, sometimes the nasty ones a model or a PLC can produce.
  double Value(double scale) {
    const uint8_t kind = U8();
    if (kind < 24) {
      static constexpr double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(),
                                            kInf,
                                            -kInf,
                                            0.0,
                                            -0.0,
                                            1e308,
                                            -1e308,
                                            std::numeric_limits<double>::denorm_min(),
                                            1e-300,
                                            std::numeric_limits<double>::max(),
                                            -std::numeric_limits<double>::max(),
                                            1e17,
                                            -1e17,
                                            1e9,
                                            0.5,
                                            1.0};
      return kSpecial[kind % (sizeof(kSpecial) / sizeof(kSpecial[0]))];
    }
    if (kind < 40) {
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(U8()) << (8 * i);
      double d = 0;
      std::memcpy(&d, &bits, sizeof(d));
      return d;
    }
    return (static_cast<double>(static_cast<int16_t>(U16())) / 1000.0) * scale;
  }

  // A finite value > 0.
  double Positive(double scale) {
    double d = std::fabs(Value(scale));
    if (!std::isfinite(d) || d == 0) d = scale * (1 + U8()) / 64.0;
    return d;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

const std::vector<model::physics::Expr>& Expressions() {
  static const std::vector<model::physics::Expr> exprs = [] {
    std::vector<model::physics::Expr> out;
    for (const char* text : {"a", "b", "a - b", "a * 2", "max(a, b)", "sqrt(a)", "a / b"}) {
      out.push_back(*model::physics::ParseExpr(text));
    }
    return out;
  }();
  return exprs;
}

Envelope DecodeEnvelope(Bytes& in) {
  Envelope e;
  const uint8_t flags = in.U8();
  if ((flags & 0x7) == 0) {
    // Raw numbers: may be invalid; Decide must then hold.
    e.min = in.Value(100);
    e.max = in.Value(100);
    e.max_step = in.Value(10);
    e.max_rate_per_s = in.Value(1);
    e.safe = in.Value(100);
    e.readback_tolerance = in.Value(1);
  } else {
    const double scale = (flags & 0x8) != 0 ? 1e12 : 50;
    e.min = in.Value(scale);
    if (!std::isfinite(e.min)) e.min = -10;
    e.max = e.min + in.Positive(scale);
    if (!std::isfinite(e.max)) e.max = e.min;
    const double frac = in.U8() / 255.0;
    e.safe = e.min + frac * (e.max - e.min);
    if (!(e.safe >= e.min && e.safe <= e.max)) e.safe = e.min;
    e.max_step = in.Positive((flags & 0x10) != 0 ? 1e-6 : 5);
    e.max_rate_per_s = in.Positive((flags & 0x20) != 0 ? 1e-9 : 0.5);
    e.readback_tolerance = 0.05;
  }
  const size_t n = in.U8() % 4;
  for (size_t i = 0; i < n; ++i) {
    Interlock il;
    il.name = "il" + std::to_string(i);
    il.expr = Expressions()[in.U8() % Expressions().size()];
    const uint8_t b = in.U8();
    if ((b & 1) != 0) il.above = in.Value(50);
    if ((b & 2) != 0) il.below = in.Value(50);
    if (std::isnan(il.above)) il.above = kInf;
    if (std::isnan(il.below)) il.below = -kInf;
    il.then = (b & 4) != 0 ? Interlock::Then::kSafe : Interlock::Then::kHold;
    e.interlocks.push_back(std::move(il));
  }
  return e;
}

}  // namespace

bool RunEnvelopeSequence(const uint8_t* data, size_t size, std::string* why,
                         EnvelopeSequenceStats* stats) {
  Bytes in(data, size);
  const Envelope env = DecodeEnvelope(in);
  const bool valid = ValidateEnvelope(env).ok();
  if (stats != nullptr && !valid) ++stats->invalid_envelopes;
  std::optional<double> last;
  double since = kInf;
  double a = 0;
  double b = 0;
  for (int step = 0; step < 512 && !in.empty(); ++step) {
    const uint8_t flags = in.U8();
    EnvelopeInput input;
    input.proposed = in.Value((flags & 0x40) != 0 ? 1e6 : 40);
    const double elapsed = (flags & 0x80) != 0 ? in.Value(100) : in.Positive(30);
    since = since + elapsed;  // NaN and negative times reach Decide too
    if ((flags & 0x1) != 0) a = in.Value(40);
    if ((flags & 0x2) != 0) b = in.Value(40);
    input.hand_mode = (flags & 0x3C) == 0x3C;
    if ((flags & 0x3C) == 0x04) last = std::nullopt;   // the PLC's value is not known
    if ((flags & 0x3C) == 0x08) last = in.Value(100);  // the operator or the PLC changed it
    input.last_written = last;
    input.seconds_since_last_write = since;
    input.signal = [&](std::string_view name) {
      if (name == "a") return a;
      if (name == "b") return b;
      return std::numeric_limits<double>::quiet_NaN();
    };
    const Decision d = Decide(env, input);
    if (!CheckInvariant(env, input, d, why)) {
      if (why != nullptr) *why = "step " + std::to_string(step) + ": " + *why;
      return false;
    }
    if (stats != nullptr) {
      if (input.hand_mode) ++stats->hand;
      if (d.action == Decision::Action::kWrite) ++stats->writes;
      if (d.action == Decision::Action::kHold) ++stats->holds;
      if (d.action == Decision::Action::kSafe) ++stats->safes;
      for (const std::string& r : d.reasons) {
        if (r.rfind("rate-limited", 0) == 0) ++stats->rate_limited;
        if (r.rfind("clamped", 0) == 0) ++stats->clamped;
        if (r.rfind("interlock", 0) == 0) ++stats->interlock_trips;
      }
    }
    if (d.action != Decision::Action::kHold) {
      last = d.value;  // the PLC now holds what was written
      since = 0;
    }
  }
  return true;
}

}  // namespace weft::control::testing
