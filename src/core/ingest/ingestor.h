// Ingestor: edge batches from the broker into the lake, exactly once per (edge, class, seq).
//
//   IngestOptions o{.lake_root = "/var/lib/weft/lake", .broker = broker_address};
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Ingestor> in, Ingestor::Start(o, &clock));
//   ... in->stats() ...
//   in->Stop();   // commits what it holds, then disconnects
//
// Flow: the MQTT client (persistent session) receives batches on <uplink_topic>/<edge>/<class>
// and the edges' floor announcements; a bounded inbox hands them to the commit thread (when it
// is full the network thread waits: backpressure reaches the broker, memory stays bounded). The
// commit thread decodes each batch (a batch whose edge id differs from its topic's, or that
// does not decode, is refused, counted, logged and kept in <state_dir>/rejected/), puts each
// stream in order (sequencer.h), and commits a cycle when it holds `commit_max_rows` records or
// its oldest batch has waited `commit_interval`.
//
// Exactly once: a cycle commits to events, aggregates, predictions and actions (the tables that
// have rows), then telemetry, each with one Delta txn action per stream, appId "<edge>/<class>",
// version = the cycle's last seq of that stream. Telemetry is committed last and always carries
// every stream's txn, so its txn versions are the streams' committed watermarks; a table that
// committed before a crash holds a txn at least as high, and a redelivered batch is written only
// to the tables whose txn version is below its seq. After the telemetry commit the ingestor
// publishes each stream's watermark, retained, on <edge_topic>/<edge>/committed/<class>: the
// edge drops those batches from its buffer only then (edge.yaml uplink.ack: core). A batch that
// arrives ahead of a gap is held and the watermark is announced again (at most once a second
// per stream), which the edge answers by sending the missing batches again; at start every
// known stream's watermark is announced, for the same reason.
//
// Several workers: `worker_count` processes each take the edges whose id hashes to their
// `worker_index` (FNV-1a modulo the count), so each stream has one writer and keeps its order.
//
// Commands to edges: SendEdgeCommand publishes on <edge_topic>/<edge>/cmd/<name> (QoS 1, not
// retained) through the ingest's broker connection; the edge answers on .../reply (edge/README).
//
// Other subscribers: Subscribe(filter, callback) subscribes the same broker connection to an
// MQTT topic filter and hands each matching message to the callback (e.g. the OTA service's
// weft/v1/edge/+/ota/status). Callbacks run on the network thread, in subscription order, before
// and independent of the ingest: they must be quick and must not call Subscribe.
//
// Thread-safety: Start/Stop from one thread; stats(), SendEdgeCommand and Subscribe from any.
#ifndef WEFT_CORE_INGEST_INGESTOR_H_
#define WEFT_CORE_INGEST_INGESTOR_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/catalog/catalog.h"
#include "core/ingest/sequencer.h"
#include "core/ingest/tables.h"
#include "mqtt/client.h"

namespace weft::core {

struct IngestOptions {
  std::string lake_root;
  std::string state_dir;  //!< rejected batches go to <state_dir>/rejected; "" = not kept
  mqtt::BrokerAddress broker;
  std::optional<mqtt::TlsOptions> tls;
  std::string uplink_topic = "weft/v1/uplink";
  std::string edge_topic = "weft/v1/edge";
  uint32_t worker_index = 0;
  uint32_t worker_count = 1;
  std::chrono::milliseconds commit_interval{1000};
  size_t commit_max_rows = 1'000'000;
  size_t inbox_max_bytes = size_t{64} << 20;
  size_t max_held_per_stream = 256;
  //! Signals (with their context, edge and tags) and prediction models are catalogued as they
  //! arrive; each (edge, signal) at most every `catalog_every`. Null: no catalog.
  catalog::Catalog* catalog = nullptr;
  std::chrono::seconds catalog_every{30};
  //! Background compaction: every `compact_every` (0 = never), each table's files smaller than
  //! `compact_small_file_bytes` are rewritten into one file per partition (Delta OPTIMIZE,
  //! dataChange=false; it does not conflict with the ingest's appends). Worker 0 only.
  std::chrono::milliseconds compact_every{std::chrono::minutes(10)};
  int64_t compact_small_file_bytes = int64_t{32} << 20;
};

//! Latency from a sample's timestamp to the end of the commit that made it readable, in
//! milliseconds: buckets of 1 ms up to 1 s, then 10 ms up to 60 s, then one overflow bucket.
class LakeLatency {
 public:
  void Record(int64_t ms, uint64_t count);
  //! The q-quantile (0..1) in ms, the upper bound of its bucket; -1 when empty.
  int64_t Quantile(double q) const;
  uint64_t count() const { return total_; }

 private:
  static size_t Bucket(int64_t ms);
  static int64_t UpperBound(size_t bucket);
  std::array<uint64_t, 1000 + 5900 + 1> buckets_{};
  uint64_t total_ = 0;
};

struct IngestStats {
  uint64_t messages = 0;      //!< uplink publications received
  uint64_t other_shard = 0;   //!< of edges another worker owns
  uint64_t rejected = 0;      //!< undecodable, or the edge id does not match the topic
  uint64_t duplicates = 0;    //!< batches already committed (or about to be)
  uint64_t held = 0;          //!< batches that arrived ahead of a gap (total)
  uint64_t dropped_held = 0;  //!< held beyond the bound (the edge sends them again)
  uint64_t batches_committed = 0;
  uint64_t commits = 0;        //!< cycles committed
  uint64_t commit_errors = 0;  //!< failed attempts (the cycle is retried)
  uint64_t conflicts = 0;      //!< a table had a stream committed by someone else: re-read
  std::array<uint64_t, kLakeTableCount> rows{};  //!< rows committed per table
  uint64_t watermarks_published = 0;
  uint64_t floors = 0;
  uint64_t catalog_errors = 0;   //!< catalog writes that failed (ingest goes on)
  uint64_t compactions = 0;      //!< OPTIMIZE commits
  uint64_t files_compacted = 0;  //!< small files rewritten by them
  uint64_t compaction_errors = 0;
  uint64_t inbox_bytes = 0;
  int64_t latency_p50_ms = -1, latency_p99_ms = -1;  //!< sample ts -> readable in the lake
};

class Ingestor {
 public:
  //! Creates the lake tables if needed, reads the streams' committed seqs, connects and starts.
  static Result<std::unique_ptr<Ingestor>> Start(IngestOptions options, const Clock* clock);
  ~Ingestor();
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  //! Commits what is ready, then stops. Idempotent.
  void Stop();
  IngestStats stats() const;
  bool connected() const { return client_ && client_->connected(); }
  //! Whether `edge_id` belongs to this worker.
  bool Owns(std::string_view edge_id) const;
  //! Publishes `payload` as command `name` to edge `edge_id` (any edge, not only this worker's).
  //! InvalidArgument when the edge id or the name is empty or holds '/', '+', '#' or a control
  //! character; Unavailable when the broker connection is down (the caller may retry).
  Status SendEdgeCommand(std::string_view edge_id, std::string_view name, std::string_view payload);
  //! Subscribes the ingest's connection (QoS 1) to `filter` ('+' and '#' wildcards) and calls
  //! `callback` with every message whose topic matches it, on the network thread. The broker
  //! keeps the subscription in the persistent session. InvalidArgument for an empty filter or a
  //! null callback; Unavailable when the broker does not acknowledge. REQUIRES: not called from
  //! a subscriber's callback.
  Status Subscribe(const std::string& filter, std::function<void(const mqtt::Message&)> callback);

 private:
  struct Message {
    std::string topic, payload;
    //! Uplink batches are decoded on the network thread (in parallel with the commit thread's
    //! writing); nullopt for other topics.
    std::optional<Result<edge::uplink::DecodedBatch>> decoded;
  };
  Ingestor(IngestOptions options, const Clock* clock);
  void OnMessage(const mqtt::Message& m);
  void Run();
  void Handle(Message m, std::vector<Incoming>* ready);
  //! Commits `cycle` (in stream order). On failure the cycle is kept for a retry.
  Status Commit(std::vector<Incoming>& cycle);
  Status CommitTable(LakeTableId t, const std::vector<Incoming>& cycle);
  void Announce(const std::string& app, uint64_t seq);
  //! The compaction thread: OPTIMIZE every table every compact_every, until Stop.
  void Compact();
  void Reject(const Message& m, const Status& why);
  //! Catalogues the batch's signals and models (rate-limited per signal).
  void Catalogue(const edge::uplink::DecodedBatch& b);

  IngestOptions options_;
  const Clock* clock_;
  std::array<std::unique_ptr<lake::LakeTable>, kLakeTableCount> tables_;
  //! Per table: the committed txn version of every stream (owned by the commit thread).
  std::array<std::map<std::string, int64_t>, kLakeTableCount> versions_;
  //! Per table: the rows of the cycle being committed, reused (owned by the commit thread).
  std::array<lake::RecordBatch, kLakeTableCount> rows_;
  StreamSequencer sequencer_;  // owned by the commit thread
  std::map<std::string, std::chrono::steady_clock::time_point> last_gap_announce_;
  //! Per edge: when its cataloguing window started and which signal ids were catalogued in it
  //! (each signal at most once per catalog_every, at the cost of a bit test per context).
  struct EdgeCatalogue {
    std::chrono::steady_clock::time_point since{};
    std::vector<bool> done;
  };
  std::map<std::string, EdgeCatalogue, std::less<>> catalogued_edges_;
  //! When each "<model>@<version>" was last catalogued.
  std::map<std::string, std::chrono::steady_clock::time_point> catalogued_models_;
  std::unique_ptr<mqtt::Client> client_;

  struct Subscriber {
    std::string filter;
    std::function<void(const mqtt::Message&)> callback;
  };
  mutable std::mutex subscribers_mu_;        // taken on the network thread for each message
  std::vector<Subscriber> subscribers_;      // GUARDED_BY(subscribers_mu_)

  mutable std::mutex mu_;
  std::condition_variable cv_;       // the commit thread waits for messages
  std::condition_variable room_cv_;  // the network thread waits for room
  std::condition_variable stop_cv_;  // the compactor waits for its next round or Stop
  std::deque<Message> inbox_;        // GUARDED_BY(mu_)
  size_t inbox_bytes_ = 0;           // GUARDED_BY(mu_)
  bool stop_ = false;                // GUARDED_BY(mu_)
  IngestStats stats_;                // GUARDED_BY(mu_)
  LakeLatency latency_;              // GUARDED_BY(mu_)
  std::thread thread_;
  std::thread compactor_;
};

}  // namespace weft::core

#endif  // WEFT_CORE_INGEST_INGESTOR_H_
