#include "edge/http_endpoint.h"

#include <httplib.h>

#include "common/strings.h"

namespace weft::edge {

std::string LabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void MetricsText::Sample(const std::string& name, const std::string& help, const char* type,
                         double value, const std::string& labels) {
  if (name != last_family_) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    last_family_ = name;
  }
  text_ += name;
  if (!labels.empty()) text_ += "{" + labels + "}";
  text_ += " " + FormatDouble(value) + "\n";
}

MetricsText& MetricsText::Counter(const std::string& name, const std::string& help, double value,
                                  const std::string& labels) {
  Sample(name, help, "counter", value, labels);
  return *this;
}

MetricsText& MetricsText::Gauge(const std::string& name, const std::string& help, double value,
                                const std::string& labels) {
  Sample(name, help, "gauge", value, labels);
  return *this;
}

MetricsText& MetricsText::Raw(const std::string& text) {
  text_ += text;
  last_family_.clear();
  return *this;
}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen,
                                                          Handlers handlers) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("http listen address '" + listen + "' is not host:port");
  }
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint());
  e->server_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second process
  // bind the same port and take some of the requests.
  e->server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Two workers are plenty for scrapes and health checks (httplib's default is 8 threads).
  e->server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  e->server_->Get("/metrics", [h = handlers](const httplib::Request&, httplib::Response& res) {
    res.set_content(h.metrics ? h.metrics() : std::string(), "text/plain; version=0.0.4");
  });
  e->server_->Get("/health", [h = handlers](const httplib::Request&, httplib::Response& res) {
    HealthReport r = h.health ? h.health() : HealthReport{false, R"({"healthy":false})"};
    res.status = r.healthy ? 200 : 503;
    res.set_content(r.json, "application/json");
  });
  int bound = port == 0 ? e->server_->bind_to_any_port(host)
                        : (e->server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return UnavailableError("cannot listen for HTTP on " + listen +
                            " (address in use or not local?); set http.listen in edge.yaml");
  }
  e->port_ = bound;
  e->thread_ = std::thread([s = e->server_.get()] { s->listen_after_bind(); });
  // stop() is a no-op until the server runs: wait, so that the destructor can always stop it.
  for (int i = 0; i < 5000 && !e->server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return e;
}

HttpEndpoint::~HttpEndpoint() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace weft::edge
