// Server-sent events (the text/event-stream format of the HTML standard) as GET /api/v1/live
// writes them.
//
//   std::string chunk = SseEvent("values", R"({"asset":"m1"})", 7);
//   // "event: values\nid: 7\ndata: {\"asset\":\"m1\"}\n\n"
//   chunk += SseComment("keep-alive");   // ": keep-alive\n\n" (ignored by clients)
//   SseRetry(3000);                      // "retry: 3000\n\n" (reconnect delay, ms)
//
// Contracts: an event is its fields, each on its own line, ended by an empty line. `data` may hold
// line breaks (\n, \r\n or \r): each line becomes its own "data:" field, which a client joins with
// "\n". The event name and comment text may not hold line breaks (they are replaced by spaces, so
// that a caller's text can never start a field of its own). An id of -1 writes no id field.
//
// Thread-safety: pure functions.
#ifndef WEFT_CORE_WEB_SSE_H_
#define WEFT_CORE_WEB_SSE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace weft::core::web {

std::string SseEvent(std::string_view event, std::string_view data, int64_t id = -1);
std::string SseComment(std::string_view text);
std::string SseRetry(int64_t milliseconds);

}  // namespace weft::core::web

#endif  // WEFT_CORE_WEB_SSE_H_
