// A small MQTT 3.1.1 client over libmosquitto, used by the simulator, the edge and the core.
//
//   WEFT_ASSIGN_OR_RETURN(BrokerAddress broker, BrokerAddress::Parse("mqtt://127.0.0.1:1883"));
//   ClientOptions options{.client_id = "weft-sim-lyon-edge-l1"};
//   options.will = Will{"spBv1.0/lyon/NDEATH/edge-l1", death_payload, 1, false};
//   WEFT_ASSIGN_OR_RETURN(auto client, Client::Connect(broker, options, std::chrono::seconds(5)));
//   client->SetMessageHandler([](const Message& m) { ... });   // runs on the network thread
//   WEFT_RETURN_IF_ERROR(client->Subscribe("spBv1.0/lyon/NCMD/edge-l1", 1));
//   WEFT_RETURN_IF_ERROR(client->Publish(topic, payload, /*qos=*/1, /*retain=*/false));
//   WEFT_RETURN_IF_ERROR(client->WaitForAcks(std::chrono::seconds(5)));
//
// The network runs on the client's own thread (mosquitto_loop in a loop, not
// mosquitto_loop_start). A lost connection is retried with backoff (1, 4, 9, .. 30 s) and a
// non-blocking connect; `connected()` says whether the session is up and `connects()` counts
// sessions, so a caller (e.g. a Sparkplug edge node, whose death certificate must change per
// session) can notice a reconnect and act. Destruction is bounded (about a second at most) in
// every state, including while the broker is down or a reconnect is in progress.
//
// Thread-safety: Publish, Subscribe and the accessors may be called from any thread.
#ifndef WEFT_MQTT_CLIENT_H_
#define WEFT_MQTT_CLIENT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"

struct mosquitto;
struct mosquitto_message;

namespace weft::mqtt {

struct BrokerAddress {
  std::string host;
  uint16_t port = 1883;
  bool tls = false;  //!< mqtts:// (then ClientOptions::tls must say which CA to trust)
  //! "mqtt://host[:port]" (also "tcp://"; port 1883 by default) or "mqtts://host[:port]" (also
  //! "ssl://"; port 8883 by default); InvalidArgument naming what is wrong otherwise.
  static Result<BrokerAddress> Parse(std::string_view url);
  std::string ToString() const {
    return (tls ? "mqtts://" : "mqtt://") + host + ":" + std::to_string(port);
  }
};

//! TLS for mqtts:// brokers: the CA that signed the broker's certificate and, for mutual TLS,
//! the client's certificate and key (PEM files). The broker's host name is verified against its
//! certificate unless `verify_hostname` is false (e.g. a broker addressed by IP whose
//! certificate names a DNS name).
struct TlsOptions {
  std::string ca_file;
  std::string cert_file;  //!< "" = no client certificate
  std::string key_file;
  bool verify_hostname = true;
};

struct Will {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = false;
};

struct ClientOptions {
  std::string client_id;
  bool clean_session = true;
  int keepalive_s = 30;
  std::optional<Will> will;
  //! QoS 1/2 messages in flight at once (0 = no limit); more raises throughput on fast links.
  unsigned max_inflight = 1000;
  //! true: libmosquitto's own thread runs the network. false: the owner calls Poll() often (at
  //! least every keepalive/2); messages are then written by the publishing thread itself,
  //! without waking another thread per message (the fast path for bulk publishers). In this
  //! mode the message handler runs inside Poll(), and a lost connection is not retried: the
  //! owner sees connected() false and makes a new Client.
  bool network_thread = true;
  //! Required when the broker address is mqtts://; refused otherwise.
  std::optional<TlsOptions> tls;
};

struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

class Client {
 public:
  //! Connects and waits for the broker's CONNACK. Unavailable when the broker cannot be reached
  //! or does not accept within `timeout`; the message names the broker and the reason.
  static Result<std::unique_ptr<Client>> Connect(const BrokerAddress& broker,
                                                 const ClientOptions& options,
                                                 std::chrono::milliseconds timeout);
  //! Disconnects cleanly (no will is sent) and stops the network thread. Returns within about
  //! a second whatever the connection's state (a reconnect in progress is abandoned).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Status Publish(const std::string& topic, std::string_view payload, int qos, bool retain);
  //! As Publish, and returns the message id that the ack handler will be given when the broker
  //! acknowledges it (QoS 1/2), or when it is written (QoS 0). With the network thread, a QoS 1/2
  //! message published while the connection is down is queued in memory by libmosquitto and
  //! sent, then acknowledged, after the reconnect (a QoS 0 one is refused with Unavailable). What
  //! is queued is lost with the process: a caller that must not lose it keeps it until the ack.
  Result<int> PublishWithId(const std::string& topic, std::string_view payload, int qos,
                            bool retain);
  //! REQUIRES: set before publishing; called on the network thread (or inside Poll).
  void SetAckHandler(std::function<void(int message_id)> handler);
  //! Subscribes and waits (up to 10 s) for the broker's SUBACK, so that messages published after
  //! it returns are delivered. REQUIRES: not called from the message handler (the network
  //! thread delivers the SUBACK).
  Status Subscribe(const std::string& pattern, int qos);

  //! REQUIRES: set before subscribing; called on the network thread, must not block for long.
  void SetMessageHandler(std::function<void(const Message&)> handler);

  //! Waits until every QoS>0 message published so far is acknowledged; DeadlineExceeded else.
  Status WaitForAcks(std::chrono::milliseconds timeout);

  //! Runs the network once (send, receive, keepalive) for up to `timeout`. Only for
  //! network_thread = false; a no-op otherwise.
  void Poll(std::chrono::milliseconds timeout);

  //! Ends the connection abruptly, without DISCONNECT, so the broker publishes the will (as
  //! after a crash or a cable pull). For tests and for simulating communication loss.
  void DropConnection();

  bool connected() const { return connected_.load(); }
  uint64_t connects() const { return connects_.load(); }
  uint64_t published() const { return published_.load(); }
  uint64_t acked() const { return acked_.load(); }
  const BrokerAddress& broker() const { return broker_; }

 private:
  Client(BrokerAddress broker, ClientOptions options);
  //! Waits until `done()` or the timeout, driving the network itself without a network thread.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  //! The network thread: runs mosquitto_loop, reconnects with backoff, ends once stopping_ is set
  //! (after sending DISCONNECT when there is a connection to send it on).
  void RunNetwork();
  static void OnConnect(mosquitto*, void* self, int rc);
  static void OnDisconnect(mosquitto*, void* self, int rc);
  static void OnPublish(mosquitto*, void* self, int mid);
  static void OnMessage(mosquitto*, void* self, const mosquitto_message* msg);
  static void OnSubscribe(mosquitto*, void* self, int mid, int qos_count, const int* granted);

  BrokerAddress broker_;
  ClientOptions options_;
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> acked_{0};
  std::atomic<int> last_connack_{-1};
  std::atomic<uint64_t> subacks_{0};
  std::atomic<bool> stopping_{false};  //!< set by the destructor: the network thread ends
  std::thread network_;                //!< with network_thread; joined by the destructor
  std::mutex mu_;
  std::condition_variable cv_;  //!< signalled on connect, on each ack, and on stopping
  std::function<void(const Message&)> handler_;  // set before subscribing (see REQUIRES)
  std::function<void(int)> ack_handler_;         // set before publishing (see REQUIRES)
  Message scratch_;  //!< reused for each message handed to handler_ (one network thread)
};

}  // namespace weft::mqtt

#endif  // WEFT_MQTT_CLIENT_H_
