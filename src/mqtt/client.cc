#include "mqtt/client.h"

#include <mosquitto.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <thread>

namespace weft::mqtt {
namespace {

std::once_flag g_lib_init;

std::string MosqError(int rc) {
  return mosquitto_strerror(rc);
}

}  // namespace

Result<BrokerAddress> BrokerAddress::Parse(std::string_view url) {
  std::string_view rest = url;
  BrokerAddress out;
  for (std::string_view scheme : {"mqtt://", "tcp://", "mqtts://", "ssl://"}) {
    if (rest.substr(0, scheme.size()) == scheme) {
      rest.remove_prefix(scheme.size());
      out.tls = scheme == "mqtts://" || scheme == "ssl://";
      out.port = out.tls ? 8883 : 1883;
      break;
    }
  }
  if (rest.size() == url.size()) {
    return InvalidArgumentError(
        "broker address '" + std::string(url) +
        "' must start with mqtt:// or mqtts://, e.g. mqtt://127.0.0.1:1883");
  }
  size_t colon = rest.rfind(':');
  out.host = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgumentError("broker address '" + std::string(url) +
                                  "': port must be a number from 1 to 65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  if (out.host.empty()) {
    return InvalidArgumentError("broker address '" + std::string(url) + "' has no host");
  }
  return out;
}

Client::Client(BrokerAddress broker, ClientOptions options)
    : broker_(std::move(broker)), options_(std::move(options)) {}

Result<std::unique_ptr<Client>> Client::Connect(const BrokerAddress& broker,
                                                const ClientOptions& options,
                                                std::chrono::milliseconds timeout) {
  std::call_once(g_lib_init, [] { mosquitto_lib_init(); });
  std::unique_ptr<Client> c(new Client(broker, options));
  c->mosq_ = mosquitto_new(options.client_id.empty() ? nullptr : options.client_id.c_str(),
                           options.clean_session, c.get());
  if (c->mosq_ == nullptr) return InternalError("mosquitto_new failed");
  mosquitto_connect_callback_set(c->mosq_, &Client::OnConnect);
  mosquitto_disconnect_callback_set(c->mosq_, &Client::OnDisconnect);
  mosquitto_publish_callback_set(c->mosq_, &Client::OnPublish);
  mosquitto_message_callback_set(c->mosq_, &Client::OnMessage);
  mosquitto_subscribe_callback_set(c->mosq_, &Client::OnSubscribe);
  mosquitto_max_inflight_messages_set(c->mosq_, options.max_inflight);
  // With the network thread, publications from other threads are queued for it (and wake it)
  // instead of being written by the publishing thread.
  if (options.network_thread) mosquitto_threaded_set(c->mosq_, true);
  if (broker.tls != options.tls.has_value()) {
    return InvalidArgumentError(
        broker.tls
            ? "broker " + broker.ToString() + " is mqtts://: give the CA file (tls.ca) to trust"
            : "TLS options given for " + broker.ToString() + ", which is not mqtts://");
  }
  if (options.tls) {
    const TlsOptions& t = *options.tls;
    if (t.cert_file.empty() != t.key_file.empty()) {
      return InvalidArgumentError(
          "TLS client certificate and key go together: give both or neither");
    }
    int rc = mosquitto_tls_set(c->mosq_, t.ca_file.c_str(), nullptr,
                               t.cert_file.empty() ? nullptr : t.cert_file.c_str(),
                               t.key_file.empty() ? nullptr : t.key_file.c_str(), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      return InvalidArgumentError(
          "TLS setup for " + broker.ToString() + " (ca '" + t.ca_file + "', cert '" + t.cert_file +
          "'): " + MosqError(rc) +
          (rc == MOSQ_ERR_ERRNO ? std::string(": ") + strerror(errno) : ""));
    }
    rc = mosquitto_tls_insecure_set(c->mosq_, !t.verify_hostname);
    if (rc != MOSQ_ERR_SUCCESS)
      return InternalError("mosquitto_tls_insecure_set: " + MosqError(rc));
  }
  if (options.will) {
    const Will& w = *options.will;
    int rc = mosquitto_will_set(c->mosq_, w.topic.c_str(), static_cast<int>(w.payload.size()),
                                w.payload.data(), w.qos, w.retain);
    if (rc != MOSQ_ERR_SUCCESS) {
      return InvalidArgumentError("will on '" + w.topic + "': " + MosqError(rc));
    }
  }
  int rc = mosquitto_connect_async(c->mosq_, broker.host.c_str(), broker.port, options.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    return UnavailableError(
        "cannot connect to " + broker.ToString() + ": " + MosqError(rc) +
        (rc == MOSQ_ERR_ERRNO ? std::string(" (") + strerror(errno) + ")" : ""));
  }
  if (options.network_thread) {
    Client* self = c.get();
    c->network_ = std::thread([self] { self->RunNetwork(); });
  }
  bool up = c->WaitUntil([&] { return c->connected_.load() || c->last_connack_ > 0; }, timeout);
  if (!up || !c->connected_) {
    int connack = c->last_connack_.load();
    return UnavailableError(
        "no session with " + broker.ToString() + " within " + std::to_string(timeout.count()) +
        " ms" +
        (connack > 0 ? ": broker refused (" + std::string(mosquitto_connack_string(connack)) + ")"
                     : ""));
  }
  return c;
}

Client::~Client() {
  if (mosq_ == nullptr) return;
  if (network_.joinable()) {
    // Not mosquitto_loop_stop: libmosquitto's thread reconnects with a blocking connect() and
    // decides to end from the session state, which a reconnect racing with mosquitto_disconnect
    // overwrites; joining it could then wait for minutes or forever. Our thread checks
    // stopping_ at every step and never blocks for more than ~100 ms.
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();             // out of a backoff wait
    mosquitto_disconnect(mosq_);  // queues DISCONNECT and wakes mosquitto_loop's select
    network_.join();
  } else {
    mosquitto_disconnect(mosq_);
    mosquitto_loop(mosq_, 0, 1);  // send the DISCONNECT
  }
  mosquitto_destroy(mosq_);
}

namespace {
//! How long a connection attempt may go without a CONNACK before it is started again.
constexpr std::chrono::seconds kConnectTimeout{3};
}  // namespace

void Client::RunNetwork() {
  using std::chrono::steady_clock;
  constexpr auto kGoodbyeTimeout = std::chrono::milliseconds(1000);
  bool goodbye = false;  // DISCONNECT queued by this thread after stopping_
  steady_clock::time_point goodbye_deadline{};
  uint64_t failures = 0;  // consecutive failed connection attempts, for the backoff
  uint64_t sessions = connects_.load();
  steady_clock::time_point attempt_started = steady_clock::now();
  while (true) {
    if (stopping_.load() && !goodbye) {
      // Queued again here (the destructor's may have found no socket while a reconnect was
      // opening one): this thread is the only one that reconnects, so after this call no new
      // connection starts. No socket: nothing to say goodbye on.
      if (mosquitto_disconnect(mosq_) != MOSQ_ERR_SUCCESS) return;
      goodbye = true;
      goodbye_deadline = steady_clock::now() + kGoodbyeTimeout;
    }
    const int rc = mosquitto_loop(mosq_, 100, 1);
    if (goodbye) {
      // Ends once DISCONNECT is written and the socket closed, or when the broker does not take
      // it in time (then mosquitto_destroy closes the socket).
      if (rc != MOSQ_ERR_SUCCESS || steady_clock::now() >= goodbye_deadline) return;
      continue;
    }
    if (connects_.load() != sessions) {
      sessions = connects_.load();
      failures = 0;
    }
    if (rc == MOSQ_ERR_SUCCESS) {
      // libmosquitto (2.0.11) never reports a TLS connection that the peer refused: the loop
      // succeeds with no session forever. An attempt without a session after kConnectTimeout is
      // therefore started again.
      if (!connected_.load()) {
        if (steady_clock::now() - attempt_started > kConnectTimeout) {
          attempt_started = steady_clock::now();
          mosquitto_reconnect_async(mosq_);
        }
        // A dead socket makes mosquitto_loop return at once: do not spin while connecting.
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return stopping_.load(); });
      }
      continue;
    }
    // Errors that a retry cannot fix end the thread, as in mosquitto_loop_forever; the client
    // then stays disconnected (connected() false). A TLS error is retried (unlike
    // mosquitto_loop_forever): a broker going away during the handshake gives one too.
    switch (rc) {
      case MOSQ_ERR_NOMEM:
      case MOSQ_ERR_PROTOCOL:
      case MOSQ_ERR_INVAL:
      case MOSQ_ERR_NOT_FOUND:
      case MOSQ_ERR_PAYLOAD_SIZE:
      case MOSQ_ERR_NOT_SUPPORTED:
      case MOSQ_ERR_AUTH:
      case MOSQ_ERR_ACL_DENIED:
      case MOSQ_ERR_UNKNOWN:
      case MOSQ_ERR_EAI:
      case MOSQ_ERR_PROXY:
        connected_ = false;
        return;
      default:
        break;
    }
    connected_ = false;
    // Backoff 1, 4, 9, 16, 25, 30, 30 .. s (libmosquitto's exponential schedule), cut short by
    // the destructor.
    ++failures;
    const auto delay = std::chrono::seconds(std::min<uint64_t>(30, failures * failures));
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, delay, [&] { return stopping_.load(); })) continue;
    }
    // Non-blocking: the connection completes (or fails) inside mosquitto_loop, so this thread
    // never sits in connect() where the destructor could not reach it.
    attempt_started = steady_clock::now();
    mosquitto_reconnect_async(mosq_);
  }
}

bool Client::WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  if (options_.network_thread) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, done);
  }
  // Without a network thread nobody else reconnects: an attempt that has not got a session
  // after kConnectTimeout (a broker not listening yet) is started again until the deadline.
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  auto next_attempt = start + kConnectTimeout;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (mosquitto_loop(mosq_, 10, 1) != MOSQ_ERR_SUCCESS) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // not connected (yet)
    }
    if (now >= next_attempt && !connected_.load()) {
      next_attempt = now + kConnectTimeout;
      mosquitto_reconnect_async(mosq_);
    }
  }
  return true;
}

void Client::Poll(std::chrono::milliseconds timeout) {
  if (options_.network_thread) return;
  if (mosquitto_loop(mosq_, static_cast<int>(timeout.count()), 1) != MOSQ_ERR_SUCCESS) {
    connected_ = false;
  }
}

void Client::OnConnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<Client*>(self);
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    c->last_connack_ = rc;
    if (rc == 0) {
      c->connected_ = true;
      c->connects_.fetch_add(1);
    }
  }
  c->cv_.notify_all();
}

void Client::OnDisconnect(mosquitto*, void* self, int) {
  auto* c = static_cast<Client*>(self);
  c->connected_ = false;
  c->cv_.notify_all();
}

void Client::OnPublish(mosquitto*, void* self, int mid) {
  auto* c = static_cast<Client*>(self);
  if (c->ack_handler_) c->ack_handler_(mid);
  c->acked_.fetch_add(1);
  c->cv_.notify_all();
}

void Client::OnMessage(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<Client*>(self);
  if (!c->handler_) return;
  Message& m = c->scratch_;  // assign() reuses the capacity of earlier messages
  m.topic.assign(msg->topic);
  m.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
  m.qos = msg->qos;
  m.retain = msg->retain;
  c->handler_(m);
}

Status Client::Publish(const std::string& topic, std::string_view payload, int qos, bool retain) {
  return PublishWithId(topic, payload, qos, retain).status();
}

Result<int> Client::PublishWithId(const std::string& topic, std::string_view payload, int qos,
                                  bool retain) {
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  // Without a connection libmosquitto still queues a QoS 1/2 message (and says NO_CONN): it is
  // sent after the reconnect and acknowledged under this id.
  if (rc == MOSQ_ERR_NO_CONN && qos > 0 && options_.network_thread) rc = MOSQ_ERR_SUCCESS;
  if (rc != MOSQ_ERR_SUCCESS) {
    return UnavailableError("publish to '" + topic + "' on " + broker_.ToString() + ": " +
                            MosqError(rc));
  }
  // QoS 0 has no acknowledgement: libmosquitto calls on_publish when it is sent.
  published_.fetch_add(1);
  return mid;
}

void Client::SetAckHandler(std::function<void(int)> handler) {
  ack_handler_ = std::move(handler);
}

Status Client::Subscribe(const std::string& pattern, int qos) {
  uint64_t before = subacks_.load();
  int rc = mosquitto_subscribe(mosq_, nullptr, pattern.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) {
    return UnavailableError("subscribe to '" + pattern + "': " + MosqError(rc));
  }
  if (!WaitUntil([&] { return subacks_.load() > before; }, std::chrono::seconds(10))) {
    return Status(StatusCode::kDeadlineExceeded,
                  "no SUBACK from " + broker_.ToString() + " for '" + pattern + "' in 10 s");
  }
  return Status::Ok();
}

void Client::OnSubscribe(mosquitto*, void* self, int, int, const int*) {
  auto* c = static_cast<Client*>(self);
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    c->subacks_.fetch_add(1);
  }
  c->cv_.notify_all();
}

void Client::SetMessageHandler(std::function<void(const Message&)> handler) {
  handler_ = std::move(handler);
}

Status Client::WaitForAcks(std::chrono::milliseconds timeout) {
  bool done = WaitUntil([&] { return acked_.load() >= published_.load(); }, timeout);
  if (!done) {
    return Status(StatusCode::kDeadlineExceeded,
                  std::to_string(published_.load() - acked_.load()) + " of " +
                      std::to_string(published_.load()) + " messages to " + broker_.ToString() +
                      " not acknowledged within " + std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

void Client::DropConnection() {
  // Shutting the socket down makes the broker see a network failure and send the will.
  int fd = mosquitto_socket(mosq_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace weft::mqtt
