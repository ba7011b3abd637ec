// UplinkSender: drains the durable queue to the broker. Each batch is published with QoS 1 on
// <topic>/<edge id>/<priority> and leaves the queue only when the broker has acknowledged it.
//
//   UplinkSender sender(queue.get(), client.get(), {.topic = "weft/v1/uplink", .edge_id = "e1"});
//   sender.Start();
//   ... producers Append to the queue ...
//   sender.Stop();
//
// Order and priority: up to `inflight` batches are published and unacknowledged at a time; free
// slots go to the most important class first (critical, high, normal, low), and within a class
// batches go oldest first, so a backlog drains in order while new data queues behind it. An ack
// removes a batch once every older batch of its class is acknowledged too (the queue's cursor
// only moves forward).
//
// Delivery is at least once: after a reconnect libmosquitto sends its unacknowledged messages
// again, a batch unacknowledged for `resend_after` is published again, and after a restart
// everything not acknowledged is read from the queue and sent again. The core makes it exactly
// once by (edge id, priority, seq), which every batch carries.
//
// Acknowledgement: with `wait_for_commit` (edge.yaml `uplink.ack: core`, the default) a batch
// leaves the queue only when the core says it is committed to the lake (OnCommitted, from the
// core's retained message on `<commit_topic>/<priority>`), not when the broker has it: the
// broker acknowledges on receipt, and a core that crashes between receiving and committing
// would lose what the broker already counted as delivered. Then at most `uncommitted` batches
// are out at a time; batches not committed within `resend_after` are sent again, and so are the
// batches after a watermark that the core repeats (its way to say "the next one is missing",
// answered once a batch is `nack_after` old). The core commits each stream contiguously; to let
// it skip seqs the queue evicted, the sender publishes the oldest seq it still holds per class
// (retained, on `<floor_topic>/<priority>`) at start and after every eviction. Without
// `wait_for_commit` (`ack: broker`, for edges without a core) the broker's PUBACK removes.
//
// Thread-safety: Start/Stop from one thread; stats() from any. The sender runs one thread; acks
// arrive on the MQTT client's network thread.
#ifndef WEFT_EDGE_UPLINK_SENDER_H_
#define WEFT_EDGE_UPLINK_SENDER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "edge/sample.h"
#include "edge/uplink/durable_queue.h"
#include "mqtt/client.h"

namespace weft::edge {

struct UplinkSenderOptions {
  std::string topic = "weft/v1/uplink";
  std::string edge_id;
  uint32_t inflight = 32;  //!< published and not acknowledged by the broker
  std::chrono::milliseconds resend_after{30000};
  bool wait_for_commit = false;
  uint32_t uncommitted = 512;  //!< with wait_for_commit: published and not committed
  std::chrono::milliseconds nack_after{1000};
  std::string floor_topic = "";  //!< with wait_for_commit: "<floor_topic>/<priority>", retained
};

struct UplinkSenderStats {
  uint64_t published = 0;  //!< publications, resends included
  uint64_t acked = 0;      //!< batches acknowledged
  uint64_t resent = 0;
  uint64_t publish_errors = 0;
  uint64_t inflight = 0;
  uint64_t committed = 0;  //!< batches the core confirmed (wait_for_commit)
};

//! "<topic>/<edge id>/<priority name>".
std::string UplinkTopic(const std::string& topic, const std::string& edge_id, Priority p);

class UplinkSender {
 public:
  //! `queue` and `client` must outlive the sender. Sets the client's ack handler.
  UplinkSender(uplink::DurableQueue* queue, mqtt::Client* client, UplinkSenderOptions options);
  ~UplinkSender();
  UplinkSender(const UplinkSender&) = delete;
  UplinkSender& operator=(const UplinkSender&) = delete;

  void Start();
  void Stop();
  //! Wakes the sender (e.g. after an Append) instead of waiting for its next 50 ms round.
  void Notify();
  //! The core has committed every batch of class `p` up to `seq` (wait_for_commit). A repeated
  //! watermark asks for the batches after it again. Thread-safe.
  void OnCommitted(Priority p, uint64_t seq);
  UplinkSenderStats stats() const;

 private:
  struct InFlight {
    int mid = 0;
    bool acked = false;
    std::chrono::steady_clock::time_point sent{};
  };
  void Run();
  //! Publishes what fits in the window; returns whether anything was published.
  bool Fill();
  void OnAck(int mid);
  //! REQUIRES: mu_ held, mid in by_mid_.
  void AckLocked(int mid);
  void Publish(int cls, uint64_t seq, const std::string& bytes);
  //! Publishes each class's oldest queued seq when it changed by eviction (or was never sent).
  void PublishFloors();

  uplink::DurableQueue* queue_;
  mqtt::Client* client_;
  UplinkSenderOptions options_;
  std::array<std::string, kPriorityCount> topics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  //! Per class: seq -> state of the batches published and not yet removed, oldest first.
  std::array<std::map<uint64_t, InFlight>, kPriorityCount> inflight_;
  std::unordered_map<int, std::pair<int, uint64_t>> by_mid_;  //!< mid -> (class, seq)
  std::array<uint64_t, kPriorityCount> next_seq_{};           //!< next seq to read per class
  std::unordered_set<int> early_acks_;  //!< acks whose publication was not registered yet
  std::array<uint64_t, kPriorityCount> committed_{};  //!< the core's watermark per class
  std::array<uint64_t, kPriorityCount> floor_evictions_{};  //!< evictions at the last floor
  bool floors_sent_ = false;                                //!< owned by the sender thread
  std::unordered_set<int> ignored_mids_;  //!< floor announcements: their acks are not batches'
  UplinkSenderStats stats_;
  std::thread thread_;
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_UPLINK_SENDER_H_
