// MqttOutbox: one MQTT connection published from its own thread, so that the simulation thread
// only encodes: no syscall, no lock and no allocation per message on its side.
//
//   MqttOutbox::Connection c{broker, options, {{ncmd_topic, 1}}, handler};
//   WEFT_ASSIGN_OR_RETURN(auto outbox, MqttOutbox::Start(std::move(c), /*reconnect=*/true));
//   outbox->Add(topic, payload, /*qos=*/0, /*retain=*/false);   // copied into the current batch
//   WEFT_RETURN_IF_ERROR(outbox->Flush());   // once per tick: the batch goes to the thread
//                                            // (or with the next ticks', within 1 ms)
//   if (outbox->TakeLost()) { ...; outbox->Reconnect(new_options); ... births ... }
//   WEFT_RETURN_IF_ERROR(outbox->Close(std::chrono::seconds(30)));   // published and acked
//
// Contract:
// - Messages are published in the order they were added, each once, by the outbox thread, which
//   owns the mqtt::Client (network_thread = false) and also polls it (acks, keepalive, incoming
//   messages: the handler runs on the outbox thread).
// - Start() connects and subscribes on the caller's thread: an unreachable broker is the caller's
//   error at once. Later errors (a refused publish, a failed reconnect) are returned by the next
//   Flush() or by Close().
// - A lost connection: with `reconnect` false it is an error (Unavailable). With `reconnect`
//   true, TakeLost() turns true once, and every message added before the next Reconnect() is
//   dropped (it belonged to the lost session); Reconnect(options) makes a new connection (new
//   client id, will...) with the same subscriptions and handler before the messages added after
//   it.
// - Batches are handed over through a ring of kBatches pre-allocated buffers: Flush() waits only
//   when the thread is that far behind (the broker is the limit), and never for the network
//   otherwise. A message waits at most about a millisecond (real time) in the producer's batch,
//   as long as Flush() is called every tick.
//
// Thread-safety: Add, Flush, Reconnect, TakeLost and Close on one producer thread; published()
// from any thread.
#ifndef WEFT_SIM_MQTT_OUTBOX_H_
#define WEFT_SIM_MQTT_OUTBOX_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "mqtt/client.h"

namespace weft::sim {

class MqttOutbox {
 public:
  struct Connection {
    mqtt::BrokerAddress broker;
    mqtt::ClientOptions options;                             //!< network_thread is forced to false
    std::vector<std::pair<std::string, int>> subscriptions;  //!< (pattern, qos)
    //! Runs on the outbox thread (inside Poll); must not block.
    std::function<void(const mqtt::Message&)> handler;
  };
  static constexpr size_t kBatches = 16;

  //! Connects (up to 10 s) and subscribes, then starts the thread. Unavailable naming the broker
  //! when it cannot.
  static Result<std::unique_ptr<MqttOutbox>> Start(Connection connection, bool reconnect);
  //! Stops the thread (what is not flushed is dropped) and disconnects.
  ~MqttOutbox();
  MqttOutbox(const MqttOutbox&) = delete;
  MqttOutbox& operator=(const MqttOutbox&) = delete;

  //! Adds a message to the current batch (nothing is sent before Flush()).
  void Add(std::string_view topic, std::string_view payload, int qos, bool retain);
  //! A new connection with these options (the old one is closed), in order with the messages.
  void Reconnect(mqtt::ClientOptions options);
  //! Hands the current batch to the thread, unless it is small and the last hand-over was less
  //! than a millisecond ago (then the next Flush() takes it along); the thread's first error, if
  //! any. Call it once per tick.
  Status Flush();
  //! As Flush(), and hands over even a small batch at once (e.g. the last messages of a run).
  Status FlushNow() { return Flush(true); }
  //! True once per lost connection (reconnect mode); see the contract above.
  bool TakeLost() { return lost_.exchange(false); }
  //! Flushes, waits until the thread published everything, then up to `timeout` for the
  //! acknowledgements of QoS 1/2 messages; stops the thread. The first error of the run.
  Status Close(std::chrono::milliseconds timeout);

  //! Messages handed to the broker's connection so far.
  uint64_t published() const { return published_.load(); }
  const mqtt::BrokerAddress& broker() const { return connection_.broker; }

 private:
  struct Entry {
    enum class Kind : uint8_t { kMessage, kReconnect } kind = Kind::kMessage;
    uint8_t qos = 0;
    bool retain = false;
    uint32_t topic = 0;  //!< topic id; for kReconnect, the index into Batch::reconnects
    size_t payload_offset = 0;
    size_t payload_size = 0;
  };
  struct Batch {
    std::vector<std::string> new_topics;  //!< topics first used in this batch, in id order
    std::string payloads;
    std::vector<Entry> entries;
    std::vector<mqtt::ClientOptions> reconnects;
    void Clear() {
      new_topics.clear();
      payloads.clear();
      entries.clear();
      reconnects.clear();
    }
  };

  MqttOutbox(Connection connection, bool reconnect, std::unique_ptr<mqtt::Client> client);
  static Result<std::unique_ptr<mqtt::Client>> Connect(const Connection& c,
                                                       const mqtt::ClientOptions& options);
  Status Flush(bool force);
  void Loop();
  //! On the outbox thread: publishes one batch.
  void Publish(const Batch& batch);
  void SetError(Status st);
  //! On the outbox thread: polls the client and notices a lost connection.
  void Poll();

  Connection connection_;
  const bool reconnect_;
  std::unique_ptr<mqtt::Client> client_;  //!< the outbox thread's (the caller's after Close)

  struct TopicHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Producer side (the simulation thread).
  std::unordered_map<std::string, uint32_t, TopicHash, std::equal_to<>> topic_ids_;
  uint64_t head_local_ = 0;  //!< the batch being filled is batches_[head_local_ % kBatches]
  std::chrono::steady_clock::time_point last_hand_over_{};

  // Consumer side (the outbox thread).
  std::vector<std::string> topics_;  //!< by topic id
  bool dropping_ = false;            //!< the connection is lost: drop until a reconnect
  uint64_t since_poll_ = 0;          //!< messages published since the last Poll

  Batch batches_[kBatches];
  std::atomic<uint64_t> head_{0};  //!< batches handed over
  std::atomic<uint64_t> tail_{0};  //!< batches published
  std::atomic<bool> consumer_sleeping_{false};
  std::atomic<bool> producer_waiting_{false};
  std::atomic<bool> closing_{false};
  std::atomic<bool> lost_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> abandon_{false};  //!< destroyed without Close(): drop what is left
  std::atomic<uint64_t> published_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  Status error_;  // GUARDED_BY(mu_): the first error
  std::thread thread_;
};

}  // namespace weft::sim

#endif  // WEFT_SIM_MQTT_OUTBOX_H_
