#include "edge/sample.h"

#include <utility>

namespace weft::edge {

std::string QualityName(uint8_t flags) {
  if (flags == quality::kGood) return "good";
  static constexpr std::pair<uint8_t, std::string_view> kNames[] = {
      {quality::kOutOfRange, "out_of_range"},
      {quality::kStale, "stale"},
      {quality::kStuck, "stuck"},
      {quality::kBadSource, "bad_source"},
      {quality::kCommLoss, "comm_loss"},
      {quality::kNotANumber, "not_a_number"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += name;
  }
  return out.empty() ? "unknown" : out;
}

std::optional<Priority> ParsePriority(std::string_view name) {
  for (int c = 0; c < kPriorityCount; ++c) {
    if (PriorityName(static_cast<Priority>(c)) == name) return static_cast<Priority>(c);
  }
  return std::nullopt;
}

std::string_view PriorityName(Priority p) {
  switch (p) {
    case Priority::kCritical: return "critical";
    case Priority::kHigh: return "high";
    case Priority::kNormal: return "normal";
    case Priority::kLow: return "low";
  }
  return "unknown";
}

}  // namespace weft::edge
