#include "edge/http_endpoint.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

namespace weft::edge {
namespace {

TEST(MetricsText, FamiliesHaveOneHeaderAndEscapedLabels) {
  MetricsText m;
  m.Counter("weft_edge_samples_total", "Samples in.", 3, R"(source="sparkplug")")
      .Counter("weft_edge_samples_total", "Samples in.", 4, R"(source="json")")
      .Gauge("weft_edge_buffer_bytes", "Bytes in the buffer.", 1.5)
      .Gauge("weft_edge_info", "Edge.", 1, "id=\"" + LabelValue("a\"b\\c") + "\"");
  EXPECT_EQ(m.str(),
            "# HELP weft_edge_samples_total Samples in.\n# TYPE weft_edge_samples_total counter\n"
            "weft_edge_samples_total{source=\"sparkplug\"} 3\n"
            "weft_edge_samples_total{source=\"json\"} 4\n"
            "# HELP weft_edge_buffer_bytes Bytes in the buffer.\n"
            "# TYPE weft_edge_buffer_bytes gauge\nweft_edge_buffer_bytes 1.5\n"
            "# HELP weft_edge_info Edge.\n# TYPE weft_edge_info gauge\n"
            "weft_edge_info{id=\"a\\\"b\\\\c\"} 1\n");
}

TEST(HttpEndpoint, ServesMetricsAndHealthOverTcp) {
  std::atomic<bool> healthy{true};
  std::atomic<int> scrapes{0};
  HttpEndpoint::Handlers h;
  h.metrics = [&] {
    ++scrapes;
    return MetricsText().Counter("x_total", "X.", scrapes.load()).str();
  };
  h.health = [&] {
    return HealthReport{healthy.load(), healthy ? R"({"healthy":true})" : R"({"healthy":false})"};
  };
  auto e = HttpEndpoint::Start("127.0.0.1:0", h);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  httplib::Client c("127.0.0.1", (*e)->port());
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("x_total 1"), std::string::npos) << r->body;
  r = c.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  healthy = false;
  r = c.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, R"({"healthy":false})");
  r = c.Get("/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(HttpEndpoint, BusyPortIsUnavailableWithTheAddress) {
  auto first = HttpEndpoint::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok());
  std::string listen = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = HttpEndpoint::Start(listen, {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(listen), std::string::npos);
}

}  // namespace
}  // namespace weft::edge
