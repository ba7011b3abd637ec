#include "lake/delta/partition.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace weft::lake::delta {

namespace {

using Kind = DataType::Kind;

Status Bad(const DataType& type, std::string_view text, std::string_view why = "") {
  std::string msg = "partition value '" + std::string(text) + "' is not a valid " + type.Name();
  if (!why.empty()) msg += " (" + std::string(why) + ")";
  return InvalidArgumentError(std::move(msg));
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Digits at s[pos, pos+n) as a number, or -1.
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<int32_t> ParseDate(std::string_view s, size_t* consumed) {
  // YYYY-M[M]-D[D]; Spark writes two digits, older writers sometimes one.
  size_t pos = 0;
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    pos = 1;
  }
  size_t y_end = s.find('-', pos);
  if (y_end == std::string_view::npos || y_end - pos < 4 || y_end - pos > 6) return std::nullopt;
  int y = Digits(s, pos, y_end - pos);
  size_t m_end = s.find('-', y_end + 1);
  if (m_end == std::string_view::npos || m_end - y_end - 1 < 1 || m_end - y_end - 1 > 2) {
    return std::nullopt;
  }
  int m = Digits(s, y_end + 1, m_end - y_end - 1);
  size_t d_len = 0;
  while (m_end + 1 + d_len < s.size() && d_len < 2 && s[m_end + 1 + d_len] >= '0' &&
         s[m_end + 1 + d_len] <= '9') {
    ++d_len;
  }
  if (d_len == 0) return std::nullopt;
  int d = Digits(s, m_end + 1, d_len);
  if (y < 0 || m < 1 || d < 1) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(negative ? -y : y),
                                  std::chrono::month(static_cast<unsigned>(m)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  *consumed = m_end + 1 + d_len;
  auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return static_cast<int32_t>(days);
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  size_t pos = 0;
  std::optional<int32_t> days = ParseDate(s, &pos);
  if (!days) return std::nullopt;
  int64_t micros = static_cast<int64_t>(*days) * 86400LL * 1000000LL;
  if (pos == s.size()) return micros;  // a date alone: midnight
  if (s[pos] != ' ' && s[pos] != 'T') return std::nullopt;
  int hh = Digits(s, pos + 1, 2);
  if (hh < 0 || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
  int mm = Digits(s, pos + 4, 2);
  if (mm < 0 || pos + 6 >= s.size() || s[pos + 6] != ':') return std::nullopt;
  int ss = Digits(s, pos + 7, 2);
  if (ss < 0 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  pos += 9;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) {
        frac = frac * 10 + (s[pos] - '0');
      } else if (digits >= 9) {
        return std::nullopt;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = std::min(digits, 6); i < 6; ++i) frac *= 10;
  }
  micros += ((hh * 60LL + mm) * 60LL + ss) * 1000000LL + frac;
  if (pos == s.size()) return micros;
  if (s.substr(pos) == "Z") return micros;
  // +HH:MM / -HH:MM offsets.
  if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
    int oh = Digits(s, pos + 1, 2);
    int om = Digits(s, pos + 4, 2);
    if (oh < 0 || om < 0) return std::nullopt;
    int64_t offset = (oh * 60LL + om) * 60LL * 1000000LL;
    return s[pos] == '+' ? micros - offset : micros + offset;
  }
  return std::nullopt;
}

Result<PartitionValue> ParseDecimal(const DataType& type, std::string_view s) {
  std::string_view t = s;
  bool negative = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  size_t dot = t.find('.');
  std::string_view int_part = t.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? "" : t.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return Bad(type, s);
  for (char c : int_part) {
    if (c < '0' || c > '9') return Bad(type, s);
  }
  for (char c : frac_part) {
    if (c < '0' || c > '9') return Bad(type, s);
  }
  std::string frac(frac_part);
  // Extra fractional digits are allowed only when they are zeros (no silent rounding).
  while (frac.size() > static_cast<size_t>(type.scale)) {
    if (frac.back() != '0') return Bad(type, s, "more fractional digits than the scale");
    frac.pop_back();
  }
  frac.append(static_cast<size_t>(type.scale) - frac.size(), '0');
  std::string unscaled = std::string(int_part) + frac;
  size_t nz = unscaled.find_first_not_of('0');
  unscaled = nz == std::string::npos ? "0" : unscaled.substr(nz);
  if (unscaled != "0" && unscaled.size() > static_cast<size_t>(type.precision)) {
    return Bad(type, s, "too many digits for the precision");
  }
  if (negative && unscaled != "0") unscaled = "-" + unscaled;
  return PartitionValue(DecimalValue{unscaled, type.scale});
}

std::string TwoDigits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02d", v);
  return buf;
}

std::string FormatDate(int32_t days) {
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(days))};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace

Result<PartitionValue> ParsePartitionValue(const DataType& type,
                                           const std::optional<std::string>& text) {
  if (!text || text->empty()) return PartitionValue(std::monostate{});
  const std::string& s = *text;
  switch (type.kind) {
    case Kind::kString:
    case Kind::kBinary: return PartitionValue(s);
    case Kind::kBoolean:
      if (s == "true") return PartitionValue(true);
      if (s == "false") return PartitionValue(false);
      return Bad(type, s);
    case Kind::kByte:
    case Kind::kShort:
    case Kind::kInteger:
    case Kind::kLong: {
      std::optional<int64_t> v = ParseInt(s);
      if (!v) return Bad(type, s);
      int64_t lo = std::numeric_limits<int64_t>::min();
      int64_t hi = std::numeric_limits<int64_t>::max();
      if (type.kind == Kind::kByte) lo = -128, hi = 127;
      if (type.kind == Kind::kShort) lo = -32768, hi = 32767;
      if (type.kind == Kind::kInteger)
        lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
      if (*v < lo || *v > hi) return Bad(type, s, "out of range");
      return PartitionValue(*v);
    }
    case Kind::kFloat:
    case Kind::kDouble: {
      if (s == "NaN") return PartitionValue(std::nan(""));
      if (s == "Infinity") return PartitionValue(std::numeric_limits<double>::infinity());
      if (s == "-Infinity") return PartitionValue(-std::numeric_limits<double>::infinity());
      double v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || ptr != s.data() + s.size()) return Bad(type, s);
      return PartitionValue(v);
    }
    case Kind::kDecimal: return ParseDecimal(type, s);
    case Kind::kDate: {
      size_t consumed = 0;
      std::optional<int32_t> days = ParseDate(s, &consumed);
      if (!days || consumed != s.size()) return Bad(type, s, "expected YYYY-MM-DD");
      return PartitionValue(DateValue{*days});
    }
    case Kind::kTimestamp:
    case Kind::kTimestampNtz: {
      std::optional<int64_t> micros = ParseTimestamp(s);
      if (!micros) return Bad(type, s, "expected YYYY-MM-DD HH:MM:SS[.ffffff] or ISO 8601");
      return PartitionValue(TimestampValue{*micros});
    }
    default: return InvalidArgumentError("type " + type.Name() + " cannot be a partition column");
  }
}

std::optional<std::string> SerializePartitionValue(const DataType& type,
                                                   const PartitionValue& value) {
  struct Visitor {
    const DataType& type;
    std::optional<std::string> operator()(std::monostate) const { return std::nullopt; }
    std::optional<std::string> operator()(bool b) const { return b ? "true" : "false"; }
    std::optional<std::string> operator()(int64_t v) const { return std::to_string(v); }
    std::optional<std::string> operator()(double v) const {
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
      char buf[64];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
      return std::string(buf, ptr);
    }
    std::optional<std::string> operator()(const std::string& s) const { return s; }
    std::optional<std::string> operator()(const DateValue& d) const {
      return FormatDate(d.days_since_epoch);
    }
    std::optional<std::string> operator()(const TimestampValue& t) const {
      int64_t us = t.micros_since_epoch;
      int64_t day_us = 86400LL * 1000000LL;
      int64_t days = us / day_us;
      int64_t rem = us % day_us;
      if (rem < 0) {
        rem += day_us;
        --days;
      }
      int64_t secs = rem / 1000000;
      int64_t frac = rem % 1000000;
      char buf[32];
      std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
      std::string out = FormatDate(static_cast<int32_t>(days)) +
                        (type.kind == Kind::kTimestampNtz ? " " : "T") +
                        TwoDigits(static_cast<int>(secs / 3600)) + ":" +
                        TwoDigits(static_cast<int>(secs / 60 % 60)) + ":" +
                        TwoDigits(static_cast<int>(secs % 60)) + buf;
      if (type.kind != Kind::kTimestampNtz) out += "Z";
      return out;
    }
    std::optional<std::string> operator()(const DecimalValue& d) const {
      std::string digits = d.unscaled;
      bool negative = !digits.empty() && digits[0] == '-';
      if (negative) digits.erase(0, 1);
      size_t scale = static_cast<size_t>(d.scale);
      if (digits.size() <= scale) digits.insert(0, scale - digits.size() + 1, '0');
      if (scale > 0) digits.insert(digits.size() - scale, ".");
      return (negative ? "-" : "") + digits;
    }
  };
  return std::visit(Visitor{type}, value);
}

}  // namespace weft::lake::delta
