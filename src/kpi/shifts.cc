#include "kpi/shifts.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

namespace weft::kpi {

namespace {

constexpr int64_t kDayS = 86400;
constexpr int64_t kUsPerS = 1'000'000;
constexpr size_t kMaxTzifBytes = size_t{1} << 20;  // real zone files are a few KiB

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year{static_cast<int>(y)} / month{m} / day{d}).time_since_epoch().count();
}

bool IsLeap(int64_t y) {
  return std::chrono::year{static_cast<int>(y)}.is_leap();
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  using namespace std::chrono;
  return static_cast<unsigned>((year{static_cast<int>(y)} / month{m} / last).day());
}

// Big-endian readers over a bounded buffer.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(size_t n) const { return pos_ <= bytes_.size() && bytes_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  void Skip(size_t n) { pos_ += n; }
  uint8_t U8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  int64_t I32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return static_cast<int32_t>(v);
  }
  int64_t I64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return static_cast<int64_t>(v);
  }
  std::string_view Rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

bool ValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  size_t seg_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      std::string_view seg = name.substr(seg_start, i - seg_start);
      if (seg.empty() || seg == "." || seg == "..") return false;
      seg_start = i + 1;
      continue;
    }
    char c = name[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

// A DST change date as written in a POSIX rule (see TimeZone::RuleDate).
struct ParsedDate {
  int kind = 0;
  int month = 0, week = 0, weekday = 0, day = 0;
  int64_t time_s = 7200;
};

// A cursor over a POSIX TZ rule.
class RuleText {
 public:
  explicit RuleText(std::string_view s) : s_(s) {}
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  // A zone abbreviation: 3+ letters, or <...> with letters, digits, + and -.
  bool Name() {
    if (Eat('<')) {
      size_t n = 0;
      while (!AtEnd() && Peek() != '>') {
        char c = s_[i_++];
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-';
        if (!ok) return false;
        ++n;
      }
      return Eat('>') && n >= 3;
    }
    size_t n = 0;
    while (std::isalpha(static_cast<unsigned char>(Peek()))) {
      ++i_;
      ++n;
    }
    return n >= 3;
  }
  // [+-]hh[:mm[:ss]] in seconds; hours up to `max_hours`.
  bool Time(int64_t max_hours, int64_t* out) {
    int64_t sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    int64_t parts[3] = {0, 0, 0};
    for (int p = 0; p < 3; ++p) {
      if (p > 0 && !Eat(':')) break;
      int64_t v = 0;
      int digits = 0;
      while (std::isdigit(static_cast<unsigned char>(Peek())) && digits < 3) {
        v = v * 10 + (s_[i_++] - '0');
        ++digits;
      }
      if (digits == 0) return false;
      parts[p] = v;
    }
    if (parts[0] > max_hours || parts[1] > 59 || parts[2] > 59) return false;
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
  }
  bool Number(int min, int max, int* out) {
    int v = 0;
    int digits = 0;
    while (std::isdigit(static_cast<unsigned char>(Peek())) && digits < 4) {
      v = v * 10 + (s_[i_++] - '0');
      ++digits;
    }
    if (digits == 0 || v < min || v > max) return false;
    *out = v;
    return true;
  }
  bool Date(ParsedDate* d) {
    if (Eat('M')) {
      d->kind = 0;
      if (!Number(1, 12, &d->month) || !Eat('.') || !Number(1, 5, &d->week) || !Eat('.') ||
          !Number(0, 6, &d->weekday)) {
        return false;
      }
    } else if (Eat('J')) {
      d->kind = 1;
      if (!Number(1, 365, &d->day)) return false;
    } else {
      d->kind = 2;
      if (!Number(0, 365, &d->day)) return false;
    }
    d->time_s = 7200;
    if (Eat('/')) return Time(167, &d->time_s);
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

// Parses TZif files and POSIX TZ rules into a TimeZone (friend of TimeZone).
class TimeZoneParser {
 public:
  static Result<TimeZone> Tzif(std::string_view bytes, std::string name);
  // Parses `rule` into tz->rule_; InvalidArgument naming the rule when malformed.
  static Status Posix(std::string_view rule, TimeZone* tz);
};

Status TimeZoneParser::Posix(std::string_view rule, TimeZone* tz) {
  auto bad = [&](std::string_view what) {
    return InvalidArgumentError("time zone rule '" + std::string(rule) + "': " + std::string(what));
  };
  RuleText t(rule);
  TimeZone::Rule r;
  int64_t west = 0;
  if (!t.Name()) return bad("expected a zone abbreviation (3 or more letters, or <...>)");
  if (!t.Time(24, &west)) return bad("expected the UTC offset after the abbreviation");
  r.std_offset_s = -west;  // POSIX offsets count west of Greenwich
  if (!t.AtEnd()) {
    if (!t.Name()) return bad("expected a daylight-saving abbreviation");
    r.has_dst = true;
    r.dst_offset_s = r.std_offset_s + 3600;
    if (!t.AtEnd() && t.Peek() != ',') {
      if (!t.Time(24, &west)) return bad("expected the daylight-saving UTC offset");
      r.dst_offset_s = -west;
    }
    if (t.Eat(',')) {
      ParsedDate start, end;
      if (!t.Date(&start)) return bad("expected the start of daylight saving (Mm.w.d, Jn or n)");
      if (!t.Eat(',')) return bad("expected ',' and the end of daylight saving");
      if (!t.Date(&end)) return bad("expected the end of daylight saving (Mm.w.d, Jn or n)");
      r.start = TimeZone::RuleDate{start.kind,    start.month, start.week,
                                   start.weekday, start.day,   start.time_s};
      r.end = TimeZone::RuleDate{end.kind, end.month, end.week, end.weekday, end.day, end.time_s};
    } else {
      // No rule: the POSIX default of glibc (US rules since 2007).
      r.start = TimeZone::RuleDate{0, 3, 2, 0, 0, 7200};
      r.end = TimeZone::RuleDate{0, 11, 1, 0, 0, 7200};
    }
  }
  if (!t.AtEnd()) return bad("unexpected text at the end");
  tz->rule_ = r;
  return Status::Ok();
}

Result<TimeZone> TimeZoneParser::Tzif(std::string_view bytes, std::string name) {
  auto bad = [&](std::string_view what) {
    return DataLossError("time zone '" + name + "': not a valid TZif file: " + std::string(what));
  };
  ByteReader r(bytes);
  if (!r.Has(44) || bytes.substr(0, 4) != "TZif") return bad("no TZif header");
  r.Skip(4);
  const uint8_t version = r.U8();
  if (version != 0 && (version < '2' || version > '9')) return bad("unknown version");
  r.Skip(15);
  struct Counts {
    int64_t isut, isstd, leap, time, type, chars;
  };
  auto read_counts = [&](Counts* c) {
    c->isut = r.I32();
    c->isstd = r.I32();
    c->leap = r.I32();
    c->time = r.I32();
    c->type = r.I32();
    c->chars = r.I32();
    return c->isut >= 0 && c->isstd >= 0 && c->leap >= 0 && c->time >= 0 && c->type >= 1 &&
           c->type <= 256 && c->chars >= 0;
  };
  auto block_size = [](const Counts& c, size_t time_size) {
    return static_cast<size_t>(c.time) * (time_size + 1) + static_cast<size_t>(c.type) * 6 +
           static_cast<size_t>(c.chars) + static_cast<size_t>(c.leap) * (time_size + 4) +
           static_cast<size_t>(c.isstd) + static_cast<size_t>(c.isut);
  };
  Counts c{};
  if (!read_counts(&c)) return bad("bad counts in the header");
  size_t time_size = 4;
  if (version >= '2') {
    // Skip the 32-bit block and read the second header and the 64-bit block.
    size_t skip = block_size(c, 4);
    if (!r.Has(skip + 44)) return bad("truncated");
    r.Skip(skip);
    if (r.Rest().substr(0, 4) != "TZif") return bad("no second header");
    r.Skip(20);
    if (!read_counts(&c)) return bad("bad counts in the second header");
    time_size = 8;
  }
  if (!r.Has(block_size(c, time_size))) return bad("truncated data block");
  TimeZone tz;
  tz.name_ = std::move(name);
  std::vector<int64_t> times(static_cast<size_t>(c.time));
  for (auto& t : times) t = time_size == 8 ? r.I64() : r.I32();
  std::vector<uint8_t> idx(static_cast<size_t>(c.time));
  for (auto& i : idx) {
    i = r.U8();
    if (i >= c.type) return bad("a transition names a local time type that does not exist");
  }
  std::vector<int64_t> offsets(static_cast<size_t>(c.type));
  for (auto& o : offsets) {
    o = r.I32();
    r.Skip(2);  // isdst, abbreviation index: not needed for offsets
    if (o < -26 * 3600 || o > 26 * 3600) return bad("a UTC offset beyond ±26 h");
  }
  r.Skip(static_cast<size_t>(c.chars) + static_cast<size_t>(c.leap) * (time_size + 4) +
         static_cast<size_t>(c.isstd) + static_cast<size_t>(c.isut));
  tz.initial_offset_s_ = offsets[0];
  for (size_t i = 0; i < times.size(); ++i) {
    if (i > 0 && times[i] <= times[i - 1]) return bad("transitions are not in ascending order");
    tz.transitions_.push_back({times[i], offsets[idx[i]]});
  }
  if (version >= '2') {
    // Footer: "\n<POSIX TZ rule>\n"; an empty rule means none.
    std::string_view rest = r.Rest();
    if (rest.size() < 2 || rest[0] != '\n') return bad("no footer");
    size_t nl = rest.find('\n', 1);
    if (nl == std::string_view::npos) return bad("unterminated footer");
    std::string_view rule = rest.substr(1, nl - 1);
    if (!rule.empty()) {
      Status st = Posix(rule, &tz);
      if (!st.ok()) return bad(st.message());
      if (tz.transitions_.empty()) tz.initial_offset_s_ = tz.rule_->std_offset_s;
    }
  }
  return tz;
}

// ---------------------------------------------------------------------------------------------
// TimeZone.

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  return tz;
}

Result<TimeZone> TimeZone::Load(std::string_view name, std::string_view zoneinfo_dir) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") {
    TimeZone tz = Utc();
    tz.name_ = std::string(name);
    return tz;
  }
  if (!ValidZoneName(name)) {
    return InvalidArgumentError("'" + std::string(name) +
                                "' is not a time zone name; expected an IANA name such as "
                                "Europe/Paris or UTC");
  }
  std::string dir(zoneinfo_dir);
  if (dir.empty()) {
    const char* env = std::getenv("TZDIR");
    dir = env != nullptr && *env != '\0' ? env : "/usr/share/zoneinfo";
  }
  const std::string path = dir + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("time zone '" + std::string(name) + "': cannot open " + path + ": " +
                         std::strerror(errno));
  }
  std::string bytes(kMaxTzifBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > kMaxTzifBytes) {
    return DataLossError("time zone '" + std::string(name) + "': " + path +
                         " is larger than a zone file can be");
  }
  return FromTzif(bytes, std::string(name));
}

Result<TimeZone> TimeZone::FromTzif(std::string_view bytes, std::string name) {
  return TimeZoneParser::Tzif(bytes, std::move(name));
}

Result<TimeZone> TimeZone::FromPosixRule(std::string_view rule) {
  TimeZone tz;
  tz.name_ = std::string(rule);
  WEFT_RETURN_IF_ERROR(TimeZoneParser::Posix(rule, &tz));
  tz.initial_offset_s_ = tz.rule_->std_offset_s;
  return tz;
}

int64_t TimeZone::RuleOffsetAt(const Rule& rule, int64_t utc_s) {
  if (!rule.has_dst) return rule.std_offset_s;
  // Keep the year within what std::chrono::year holds (±32767): ±2^39 s is ±17,000 years.
  constexpr int64_t kLimit = int64_t{1} << 39;
  utc_s = std::clamp(utc_s, -kLimit, kLimit);
  // The year is the local standard-time year; DST changes are never near New Year.
  const int64_t local_day = FloorDiv(utc_s + rule.std_offset_s, kDayS);
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{local_day}}};
  const int64_t y = static_cast<int>(ymd.year());
  auto local_date_s = [&](const RuleDate& d) -> int64_t {
    int64_t day = 0;
    if (d.kind == 0) {
      const auto m = static_cast<unsigned>(d.month);
      const int64_t first = DaysFromCivil(y, m, 1);
      const auto first_wd = static_cast<int>(weekday{sys_days{days{first}}}.c_encoding());
      int64_t dom = 1 + (d.weekday - first_wd + 7) % 7 + (d.week - 1) * 7;
      while (dom > static_cast<int64_t>(DaysInMonth(y, m))) dom -= 7;
      day = first + dom - 1;
    } else if (d.kind == 1) {
      // Jn: 1..365, February 29 never counted.
      day = DaysFromCivil(y, 1, 1) + d.day - 1 + (IsLeap(y) && d.day >= 60 ? 1 : 0);
    } else {
      day = DaysFromCivil(y, 1, 1) + d.day;
    }
    return day * kDayS + d.time_s;
  };
  // Start is given in standard local time, end in daylight-saving local time.
  const int64_t start = local_date_s(rule.start) - rule.std_offset_s;
  const int64_t end = local_date_s(rule.end) - rule.dst_offset_s;
  const bool dst = start < end ? (utc_s >= start && utc_s < end)    // northern hemisphere
                               : !(utc_s >= end && utc_s < start);  // southern
  return dst ? rule.dst_offset_s : rule.std_offset_s;
}

int64_t TimeZone::OffsetAtSeconds(int64_t utc_s) const {
  if (transitions_.empty()) return rule_ ? RuleOffsetAt(*rule_, utc_s) : initial_offset_s_;
  if (utc_s < transitions_.front().at_s) return initial_offset_s_;
  if (rule_ && utc_s > transitions_.back().at_s) return RuleOffsetAt(*rule_, utc_s);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_s,
                             [](int64_t t, const Transition& tr) { return t < tr.at_s; });
  return std::prev(it)->offset_s;
}

int64_t TimeZone::OffsetAt(int64_t utc_us) const {
  return OffsetAtSeconds(FloorDiv(utc_us, kUsPerS));
}

int64_t TimeZone::LocalToUtc(int64_t local_s) const {
  constexpr int64_t kLimit = int64_t{1} << 42;  // ±139,000 years: µs still fit in int64
  local_s = std::clamp(local_s, -kLimit, kLimit);
  // The offsets a day before and after: no zone changes its offset twice within two days.
  const int64_t before = OffsetAtSeconds(local_s - kDayS);
  const int64_t after = OffsetAtSeconds(local_s + kDayS);
  const int64_t u_before = local_s - before;
  const int64_t u_after = local_s - after;
  const bool before_ok = OffsetAtSeconds(u_before) == before;
  const bool after_ok = OffsetAtSeconds(u_after) == after;
  int64_t utc_s = u_before;  // a skipped wall time: the offset before the change
  if (before_ok && after_ok) {
    utc_s = std::min(u_before, u_after);  // a repeated wall time: its first occurrence
  } else if (after_ok) {
    utc_s = u_after;
  }
  return utc_s * kUsPerS;
}

// ---------------------------------------------------------------------------------------------
// ShiftCalendar.

ShiftCalendar::ShiftCalendar(std::string site, std::vector<model::Shift> shifts, TimeZone zone)
    : site_(std::move(site)), shifts_(std::move(shifts)), zone_(std::move(zone)) {}

Result<ShiftCalendar> ShiftCalendar::ForSite(const model::Site& site,
                                             std::string_view zoneinfo_dir) {
  if (site.timezone.empty()) return ShiftCalendar(site.id, site.shifts, TimeZone::Utc());
  Result<TimeZone> tz = TimeZone::Load(site.timezone, zoneinfo_dir);
  if (!tz.ok()) return tz.status().WithContext("site '" + site.id + "'");
  return ShiftCalendar(site.id, site.shifts, std::move(tz).value());
}

namespace {

Status CheckRange(int64_t from_us, int64_t to_us) {
  if (to_us < from_us) {
    return InvalidArgumentError("shift calendar: the range ends (" + std::to_string(to_us) +
                                " us) before it starts (" + std::to_string(from_us) + " us)");
  }
  if (from_us < kMinCalendarUs || to_us > kMaxCalendarUs) {
    return InvalidArgumentError("shift calendar: the range [" + std::to_string(from_us) + ", " +
                                std::to_string(to_us) + ") us is outside the years 1800 to 2399");
  }
  if (to_us - from_us > kMaxCalendarRangeUs) {
    return InvalidArgumentError("shift calendar: the range is longer than 3660 days");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ShiftInstance>> ShiftCalendar::Starting(int64_t from_us, int64_t to_us) const {
  WEFT_ASSIGN_OR_RETURN(std::vector<ShiftInstance> all, Overlapping(from_us, to_us));
  std::vector<ShiftInstance> out;
  for (auto& s : all) {
    if (s.start_us >= from_us && s.start_us < to_us) out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<ShiftInstance>> ShiftCalendar::Overlapping(int64_t from_us,
                                                              int64_t to_us) const {
  WEFT_RETURN_IF_ERROR(CheckRange(from_us, to_us));
  std::vector<ShiftInstance> out;
  if (to_us == from_us) return out;
  const int64_t first_day = FloorDiv(from_us, kDayS * kUsPerS);
  const int64_t last_day = FloorDiv(to_us - 1, kDayS * kUsPerS);
  if (shifts_.empty()) {
    for (int64_t d = first_day; d <= last_day; ++d) {
      out.push_back(ShiftInstance{site_, kAllDayShift, std::chrono::sys_days{std::chrono::days{d}},
                                  d * kDayS * kUsPerS, (d + 1) * kDayS * kUsPerS});
    }
    return out;
  }
  // Local days that can hold an instance overlapping the range: offsets are within ±26 h and
  // an instance lasts at most 25 h, so two days either side are enough.
  for (int64_t d = first_day - 2; d <= last_day + 2; ++d) {
    const std::chrono::sys_days day{std::chrono::days{d}};
    const unsigned iso = std::chrono::weekday{day}.iso_encoding();  // 1 Monday .. 7 Sunday
    for (const model::Shift& shift : shifts_) {
      if (!shift.days[iso - 1]) continue;
      const int64_t start_local = d * kDayS + int64_t{shift.start_minute} * 60;
      const int64_t end_local =
          (shift.crosses_midnight() ? d + 1 : d) * kDayS + int64_t{shift.end_minute} * 60;
      ShiftInstance s{site_, shift.name, day, zone_.LocalToUtc(start_local),
                      zone_.LocalToUtc(end_local)};
      if (s.end_us <= s.start_us) continue;  // a shift lost entirely in a DST gap
      if (s.start_us < to_us && s.end_us > from_us) out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const ShiftInstance& a, const ShiftInstance& b) {
    return a.start_us != b.start_us ? a.start_us < b.start_us : a.shift < b.shift;
  });
  return out;
}

}  // namespace weft::kpi
