// HttpEndpoint: the edge's small HTTP server for operations: GET /metrics (Prometheus text
// format 0.0.4) and GET /health (JSON; 200 when healthy, 503 when not).
//
//   HttpEndpoint::Handlers h{.metrics = [&] { return runtime.MetricsText(); },
//                            .health = [&] { return runtime.Health(); }};
//   WEFT_ASSIGN_OR_RETURN(auto http, HttpEndpoint::Start("127.0.0.1:9464", h));
//   http->port();   // the bound port (useful with port 0)
//
// Read-only and unauthenticated by design, like a Prometheus exporter: it must listen on a
// loopback or management address only; the message of a bind failure says which address.
// Metrics are gathered when scraped (the handlers read the components' counters), so the hot
// path pays nothing for them.
//
// Thread-safety: the handlers run on the server's threads; they must be thread-safe.
#ifndef WEFT_EDGE_HTTP_ENDPOINT_H_
#define WEFT_EDGE_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace weft::edge {

struct HealthReport {
  bool healthy = false;
  std::string json;  //!< the body of /health
};

//! Builds Prometheus text: one HELP/TYPE header per family, then its samples.
class MetricsText {
 public:
  //! `labels` is the inside of {...}, e.g. R"(priority="low")", or "".
  MetricsText& Counter(const std::string& name, const std::string& help, double value,
                       const std::string& labels = "");
  MetricsText& Gauge(const std::string& name, const std::string& help, double value,
                     const std::string& labels = "");
  //! Appends text already in the exposition format (e.g. a histogram).
  MetricsText& Raw(const std::string& text);
  const std::string& str() const { return text_; }

 private:
  void Sample(const std::string& name, const std::string& help, const char* type, double value,
              const std::string& labels);
  std::string text_;
  std::string last_family_;
};

//! Escapes a label value ("\\", "\"", newline).
std::string LabelValue(const std::string& v);

class HttpEndpoint {
 public:
  struct Handlers {
    std::function<std::string()> metrics;
    std::function<HealthReport()> health;
  };
  //! `listen` is "host:port" (port 0: any free port). Unavailable when it cannot bind.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen, Handlers handlers);
  ~HttpEndpoint();
  int port() const { return port_; }

 private:
  HttpEndpoint() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_HTTP_ENDPOINT_H_
