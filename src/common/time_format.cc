#include "common/time_format.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace weft {
namespace {

struct DurationSuffix {
  std::string_view name;
  int64_t micros;
};
constexpr DurationSuffix kSuffixes[] = {
    {"us", 1},         {"ms", 1000},      {"s", 1000000},
    {"min", 60000000}, {"h", 3600000000}, {"d", 86400000000},
};

}  // namespace

Result<Micros> ParseDuration(std::string_view text) {
  size_t split = 0;
  while (split < text.size() &&
         ((text[split] >= '0' && text[split] <= '9') || text[split] == '.')) {
    ++split;
  }
  std::string_view number = text.substr(0, split);
  std::string_view suffix = text.substr(split);
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(
        "invalid duration '" + std::string(text) + "': " + std::string(why) +
        "; expected a number and a unit (us, ms, s, min, h, d), e.g. 500ms");
  };
  if (number.empty()) return bad("no number");
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size()) return bad("not a number");
  for (const auto& s : kSuffixes) {
    if (s.name == suffix) {
      double us = value * static_cast<double>(s.micros);
      if (!std::isfinite(us) || us > 9.2e18) return bad("too large");
      return Micros(static_cast<int64_t>(std::llround(us)));
    }
  }
  return bad(suffix.empty() ? "no unit" : "unknown unit '" + std::string(suffix) + "'");
}

std::string FormatDuration(Micros d) {
  int64_t us = d.count();
  for (auto it = std::rbegin(kSuffixes); it != std::rend(kSuffixes); ++it) {
    if (us != 0 && us % it->micros == 0) {
      return std::to_string(us / it->micros) + std::string(it->name);
    }
  }
  return std::to_string(us) + "us";
}

Result<std::chrono::sys_days> ParseDate(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("invalid date '" + std::string(text) +
                                "'; expected YYYY-MM-DD, e.g. 2026-09-14");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  auto num = [&](size_t pos, size_t len, int* out) {
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, *out);
    return ec == std::errc() && p == text.data() + pos + len;
  };
  int y = 0, m = 0, d = 0;
  if (!num(0, 4, &y) || !num(5, 2, &m) || !num(8, 2, &d)) return bad();
  std::chrono::year_month_day ymd{std::chrono::year(y),
                                  std::chrono::month(static_cast<unsigned>(m)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return bad();
  return std::chrono::sys_days(ymd);
}

std::string FormatDate(std::chrono::sys_days day) {
  std::chrono::year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

Result<int64_t> ParseTimestampMicros(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid timestamp '" + std::string(text) +
                                "': " + std::string(why) +
                                "; expected ISO-8601, e.g. 2026-11-25T10:00:00Z or "
                                "2026-11-25 10:00:00.123456+01:00");
  };
  if (text.size() < 10) return bad("too short");
  Result<std::chrono::sys_days> day = ParseDate(text.substr(0, 10));
  if (!day.ok()) return bad("the date part is not YYYY-MM-DD");
  int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(day->time_since_epoch()).count();
  std::string_view rest = text.substr(10);
  if (rest.empty()) return micros;
  if (rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') return bad("expected 'T' after the date");
  rest.remove_prefix(1);
  auto two_digits = [&](int* out, int max) {
    if (rest.size() < 2 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
        !std::isdigit(static_cast<unsigned char>(rest[1]))) {
      return false;
    }
    *out = (rest[0] - '0') * 10 + (rest[1] - '0');
    rest.remove_prefix(2);
    return *out <= max;
  };
  int hh = 0, mm = 0, ss = 0;
  if (!two_digits(&hh, 23)) return bad("the hour must be 00-23");
  if (rest.empty() || rest[0] != ':') return bad("expected ':' after the hour");
  rest.remove_prefix(1);
  if (!two_digits(&mm, 59)) return bad("the minutes must be 00-59");
  if (!rest.empty() && rest[0] == ':') {
    rest.remove_prefix(1);
    if (!two_digits(&ss, 60)) return bad("the seconds must be 00-60");
  }
  micros += ((int64_t{hh} * 60 + mm) * 60 + ss) * 1'000'000;
  if (!rest.empty() && (rest[0] == '.' || rest[0] == ',')) {
    rest.remove_prefix(1);
    int digits = 0;
    int64_t fraction = 0;
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {
      if (digits < 6) fraction = fraction * 10 + (rest[0] - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0 || digits > 9) return bad("the fraction of a second must have 1-9 digits");
    for (int d = digits; d < 6; ++d) fraction *= 10;
    micros += fraction;
  }
  if (rest.empty() || rest == "Z" || rest == "z") return micros;
  if (rest[0] != '+' && rest[0] != '-') return bad("expected 'Z' or an offset like +01:00");
  const int sign = rest[0] == '-' ? -1 : 1;
  rest.remove_prefix(1);
  int oh = 0, om = 0;
  if (!two_digits(&oh, 23)) return bad("the offset hours must be 00-23");
  if (!rest.empty() && rest[0] == ':') rest.remove_prefix(1);
  if (!rest.empty() && !two_digits(&om, 59)) return bad("the offset minutes must be 00-59");
  if (!rest.empty()) return bad("unexpected text after the offset");
  return micros - sign * (int64_t{oh} * 60 + om) * 60 * 1'000'000;
}

std::string FormatTimestampMicros(int64_t micros) {
  const int64_t per_day = int64_t{86'400} * 1'000'000;
  int64_t days = micros / per_day;
  int64_t rem = micros % per_day;
  if (rem < 0) {
    rem += per_day;
    --days;
  }
  const std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(days))};
  const int64_t secs = rem / 1'000'000;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                static_cast<int>(rem % 1'000'000));
  return buf;
}

std::chrono::sys_days DayOf(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t);
}

}  // namespace weft
