#include "core/web/sse.h"

#include <gtest/gtest.h>

namespace weft::core::web {
namespace {

TEST(SseTest, EventWithNameIdAndOneLineOfData) {
  EXPECT_EQ(SseEvent("values", R"({"a":1})", 7), "event: values\nid: 7\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseEvent("", "x"), "data: x\n\n");
  EXPECT_EQ(SseEvent("ping", "", 0), "event: ping\nid: 0\ndata: \n\n");
}

TEST(SseTest, EachLineOfDataIsItsOwnField) {
  // LF, CRLF and CR all end a line; a trailing break leaves an empty last line, which a client
  // joins back into "a\nb\nc\n".
  EXPECT_EQ(SseEvent("m", "a\nb\r\nc\rd"), "event: m\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(SseEvent("m", "a\n"), "event: m\ndata: a\ndata: \n\n");
}

TEST(SseTest, NamesAndCommentsCannotStartAFieldOfTheirOwn) {
  EXPECT_EQ(SseEvent("x\ndata: evil", "1"), "event: x data: evil\ndata: 1\n\n");
  EXPECT_EQ(SseComment("keep-alive"), ": keep-alive\n\n");
  EXPECT_EQ(SseComment("a\r\nid: 9"), ": a  id: 9\n\n");
}

TEST(SseTest, Retry) {
  EXPECT_EQ(SseRetry(3000), "retry: 3000\n\n");
  EXPECT_EQ(SseRetry(-5), "retry: 0\n\n");
}

}  // namespace
}  // namespace weft::core::web
