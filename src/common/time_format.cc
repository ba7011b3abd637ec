#include "common/time_format.h"

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

std::chrono::sys_days DayOf(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t);
}

}  // namespace weft
