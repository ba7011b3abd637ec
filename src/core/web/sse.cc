#include "core/web/sse.h"

namespace weft::core::web {
namespace {

//! `text` on one line: CR and LF become spaces.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string SseEvent(std::string_view event, std::string_view data, int64_t id) {
  std::string out;
  out.reserve(data.size() + event.size() + 32);
  if (!event.empty()) out += "event: " + OneLine(event) + "\n";
  if (id >= 0) out += "id: " + std::to_string(id) + "\n";
  // One data field per line of `data`; CRLF counts as one break.
  size_t start = 0;
  while (true) {
    size_t end = start;
    while (end < data.size() && data[end] != '\n' && data[end] != '\r') ++end;
    out += "data: ";
    out.append(data.substr(start, end - start));
    out += "\n";
    if (end >= data.size()) break;
    start = end + (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? 2 : 1);
  }
  out += "\n";
  return out;
}

std::string SseComment(std::string_view text) {
  return ": " + OneLine(text) + "\n\n";
}

std::string SseRetry(int64_t milliseconds) {
  return "retry: " + std::to_string(milliseconds < 0 ? 0 : milliseconds) + "\n\n";
}

}  // namespace weft::core::web
