#include "core/ingest/ingestor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "core/ingest/batch_rows.h"
#include "edge/sample.h"

namespace weft::core {
namespace {

using edge::uplink::DecodedBatch;
using lake::RecordBatch;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// "<prefix>/<edge>/<rest>" -> (edge, rest); nullopt when the topic is not under prefix.
std::optional<std::pair<std::string_view, std::string_view>> SplitTopic(std::string_view topic,
                                                                        std::string_view prefix) {
  if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
      topic[prefix.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = topic.substr(prefix.size() + 1);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::pair{rest.substr(0, slash), rest.substr(slash + 1)};
}

// MQTT topic filter matching ('+' one level, '#' the rest, including the parent level).
bool TopicMatches(std::string_view filter, std::string_view topic) {
  while (true) {
    const size_t fs = filter.find('/');
    const size_t ts = topic.find('/');
    const std::string_view f = filter.substr(0, fs);
    const std::string_view t = topic.substr(0, ts);
    if (f == "#") return true;
    if (f != "+" && f != t) return false;
    if (fs == std::string_view::npos || ts == std::string_view::npos) {
      if (fs == std::string_view::npos && ts == std::string_view::npos) return true;
      // "a/#" matches "a" too.
      return ts == std::string_view::npos && filter.substr(fs + 1) == "#";
    }
    filter.remove_prefix(fs + 1);
    topic.remove_prefix(ts + 1);
  }
}

size_t Records(const Incoming& in) {
  return in.batch.samples.size() + in.batch.aggregates.size() + in.batch.events.size() +
         in.batch.actions.size();
}

}  // namespace

void LakeLatency::Record(int64_t ms, uint64_t count) {
  buckets_[Bucket(ms)] += count;
  total_ += count;
}

size_t LakeLatency::Bucket(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return static_cast<size_t>(ms);
  if (ms < 60'000) return 1000 + static_cast<size_t>((ms - 1000) / 10);
  return 1000 + 5900;
}

int64_t LakeLatency::UpperBound(size_t bucket) {
  if (bucket < 1000) return static_cast<int64_t>(bucket) + 1;
  if (bucket < 6900) return 1000 + static_cast<int64_t>(bucket - 999) * 10;
  return INT64_MAX;
}

int64_t LakeLatency::Quantile(double q) const {
  if (total_ == 0) return -1;
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return UpperBound(i);
  }
  return UpperBound(buckets_.size() - 1);
}

Ingestor::Ingestor(IngestOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock), sequencer_(options_.max_held_per_stream) {}

Result<std::unique_ptr<Ingestor>> Ingestor::Start(IngestOptions options, const Clock* clock) {
  if (options.worker_count == 0 || options.worker_index >= options.worker_count) {
    return InvalidArgumentError("ingest: worker " + std::to_string(options.worker_index) + " of " +
                                std::to_string(options.worker_count) +
                                ": the index must be below the count");
  }
  std::unique_ptr<Ingestor> in(new Ingestor(std::move(options), clock));
  const IngestOptions& o = in->options_;
  WEFT_RETURN_IF_ERROR(EnsureTables(o.lake_root, clock));
  for (int i = 0; i < kLakeTableCount; ++i) {
    const auto id = static_cast<LakeTableId>(i);
    WEFT_ASSIGN_OR_RETURN(in->tables_[static_cast<size_t>(i)], OpenTable(o.lake_root, id, clock));
    WEFT_ASSIGN_OR_RETURN(in->versions_[static_cast<size_t>(i)],
                          in->tables_[static_cast<size_t>(i)]->TxnVersions());
  }
  // Telemetry's txn versions are the streams' watermarks (it is committed last).
  for (const auto& [app, v] : in->versions_[static_cast<size_t>(LakeTableId::kTelemetry)]) {
    const size_t slash = app.find('/');
    if (slash != std::string::npos && in->Owns(std::string_view(app).substr(0, slash))) {
      in->sequencer_.SetCommitted(app, static_cast<uint64_t>(v));
    }
  }

  mqtt::ClientOptions co;
  co.client_id = "weft-core-ingest-" + std::to_string(o.worker_index) + "-of-" +
                 std::to_string(o.worker_count);
  co.clean_session = false;  // batches published while we are away wait at the broker
  co.tls = o.tls;
  WEFT_ASSIGN_OR_RETURN(in->client_, mqtt::Client::Connect(o.broker, co, std::chrono::seconds(10)));
  in->client_->SetMessageHandler([p = in.get()](const mqtt::Message& m) { p->OnMessage(m); });
  WEFT_RETURN_IF_ERROR(in->client_->Subscribe(o.uplink_topic + "/+/+", 1));
  WEFT_RETURN_IF_ERROR(in->client_->Subscribe(o.edge_topic + "/+/floor/+", 1));
  // Tell every known edge where we are: one that has batches out and uncommitted sends them
  // again now rather than after its resend timeout.
  for (const auto& [app, seq] : in->sequencer_.CommittedAll()) in->Announce(app, seq);
  in->thread_ = std::thread([p = in.get()] { p->Run(); });
  if (o.compact_every.count() > 0 && o.worker_index == 0) {
    in->compactor_ = std::thread([p = in.get()] { p->Compact(); });
  }
  return in;
}

Ingestor::~Ingestor() {
  Stop();
}

bool Ingestor::Owns(std::string_view edge_id) const {
  return options_.worker_count <= 1 ||
         Fnv1a(edge_id) % options_.worker_count == options_.worker_index;
}

Status Ingestor::SendEdgeCommand(std::string_view edge_id, std::string_view name,
                                 std::string_view payload) {
  for (auto [what, text] : {std::pair{"edge id", edge_id}, std::pair{"command name", name}}) {
    if (text.empty() || text.size() > 256) {
      return InvalidArgumentError(std::string("edge command: the ") + what +
                                  " must be 1 to 256 characters");
    }
    for (char c : text) {
      if (c == '/' || c == '+' || c == '#' || static_cast<unsigned char>(c) < 0x20) {
        return InvalidArgumentError(std::string("edge command: the ") + what + " '" +
                                    std::string(text) +
                                    "' may not hold '/', '+', '#' or control characters");
      }
    }
  }
  if (client_ == nullptr || !client_->connected()) {
    return UnavailableError("edge command: weft-core is not connected to the broker");
  }
  const std::string topic =
      options_.edge_topic + "/" + std::string(edge_id) + "/cmd/" + std::string(name);
  return client_->Publish(topic, std::string(payload), 1, /*retain=*/false)
      .WithContext("edge command " + std::string(name) + " to " + std::string(edge_id));
}

Status Ingestor::Subscribe(const std::string& filter,
                           std::function<void(const mqtt::Message&)> callback) {
  if (filter.empty()) return InvalidArgumentError("ingest subscribe: the topic filter is empty");
  if (!callback) {
    return InvalidArgumentError("ingest subscribe: no callback for '" + filter + "'");
  }
  if (client_ == nullptr) return UnavailableError("ingest subscribe: the ingestor is stopped");
  {
    std::lock_guard<std::mutex> lock(subscribers_mu_);
    subscribers_.push_back({filter, std::move(callback)});
  }
  return client_->Subscribe(filter, 1).WithContext("ingest subscribe '" + filter + "'");
}

void Ingestor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  room_cv_.notify_all();
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (compactor_.joinable()) compactor_.join();
  client_.reset();
}

IngestStats Ingestor::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  IngestStats s = stats_;
  s.inbox_bytes = inbox_bytes_;
  s.latency_p50_ms = latency_.Quantile(0.5);
  s.latency_p99_ms = latency_.Quantile(0.99);
  return s;
}

void Ingestor::OnMessage(const mqtt::Message& m) {
  {
    std::lock_guard<std::mutex> lock(subscribers_mu_);
    for (const Subscriber& s : subscribers_) {
      if (TopicMatches(s.filter, m.topic)) s.callback(m);
    }
  }
  if (!TopicMatches(options_.uplink_topic + "/+/+", m.topic) &&
      !TopicMatches(options_.edge_topic + "/+/floor/+", m.topic)) {
    return;  // only a subscriber's topic
  }
  Message msg{m.topic, m.payload, std::nullopt};
  if (auto where = SplitTopic(m.topic, options_.uplink_topic); where && Owns(where->first)) {
    msg.decoded = edge::uplink::DecodeBatch(m.payload);
    if (msg.decoded->ok()) msg.payload.clear();  // kept only to quarantine a refused batch
  }
  std::unique_lock<std::mutex> lock(mu_);
  // Backpressure: the network thread waits, so the broker holds the rest (bounded memory here).
  room_cv_.wait(lock, [&] { return stop_ || inbox_bytes_ < options_.inbox_max_bytes; });
  if (stop_) return;
  inbox_bytes_ += m.payload.size();
  inbox_.push_back(std::move(msg));
  cv_.notify_one();
}

void Ingestor::Run() {
  std::vector<Incoming> cycle;
  size_t cycle_records = 0;
  auto cycle_started = std::chrono::steady_clock::now();
  auto retry_at = std::chrono::steady_clock::time_point{};
  while (true) {
    std::deque<Message> work;
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_ || !inbox_.empty(); });
      work.swap(inbox_);
      inbox_bytes_ = 0;
      stopping = stop_;
    }
    room_cv_.notify_all();
    std::vector<Incoming> ready;
    for (Message& m : work) Handle(std::move(m), &ready);
    for (Incoming& in : ready) {
      if (cycle.empty()) cycle_started = std::chrono::steady_clock::now();
      cycle_records += Records(in);
      cycle.push_back(std::move(in));
    }
    const auto now = std::chrono::steady_clock::now();
    const bool due = !cycle.empty() && now >= retry_at &&
                     (stopping || cycle_records >= options_.commit_max_rows ||
                      now - cycle_started >= options_.commit_interval);
    if (due) {
      Status s = Commit(cycle);
      if (s.ok()) {
        cycle.clear();
        cycle_records = 0;
      } else {
        spdlog::error("weft-core ingest: commit of {} batches failed (retrying in 1 s): {}",
                      cycle.size(), s.ToString());
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.commit_errors;
        retry_at = now + std::chrono::seconds(1);
        if (stopping) return;  // what was not committed is sent again by the edges
      }
    }
    if (stopping && cycle.empty()) return;
  }
}

void Ingestor::Handle(Message m, std::vector<Incoming>* ready) {
  if (auto floor = SplitTopic(m.topic, options_.edge_topic)) {
    // <edge_topic>/<edge>/floor/<class>
    auto [edge_id, rest] = *floor;
    if (rest.substr(0, 6) != "floor/" || !Owns(edge_id)) return;
    const std::optional<edge::Priority> p = edge::ParsePriority(rest.substr(6));
    uint64_t seq = 0;
    auto [end, ec] = std::from_chars(m.payload.data(), m.payload.data() + m.payload.size(), seq);
    if (!p || ec != std::errc() || end != m.payload.data() + m.payload.size()) {
      spdlog::warn("weft-core ingest: ignoring a malformed floor announcement on {}", m.topic);
      return;
    }
    const std::string app = std::string(edge_id) + "/" + std::string(edge::PriorityName(*p));
    sequencer_.SetFloor(app, seq, ready);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.floors;
    return;
  }
  auto where = SplitTopic(m.topic, options_.uplink_topic);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.messages;
    if (where && !Owns(where->first)) {
      ++stats_.other_shard;
      return;
    }
  }
  if (!where || !m.decoded) return;  // not an uplink topic (subscriptions say it cannot happen)
  Result<DecodedBatch>& b = *m.decoded;
  if (!b.ok()) return Reject(m, b.status());
  if (b->edge_id != where->first) {
    return Reject(m, PermissionDeniedError("batch of edge '" + b->edge_id +
                                           "' published on the topic of edge '" +
                                           std::string(where->first) + "'"));
  }
  if (edge::PriorityName(b->stream) != where->second) {
    return Reject(
        m, InvalidArgumentError("batch of class " + std::string(edge::PriorityName(b->stream)) +
                                " published on the topic of class " + std::string(where->second)));
  }
  if (options_.catalog != nullptr) Catalogue(*b);
  Incoming in;
  in.app = b->edge_id + "/" + std::string(edge::PriorityName(b->stream));
  in.seq = b->seq;
  in.received_us = UnixMicros(clock_->Now());
  in.batch = std::move(*b);
  const std::string app = in.app;
  const StreamSequencer::Verdict v = sequencer_.Offer(std::move(in), ready);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (v == StreamSequencer::Verdict::kDuplicate) ++stats_.duplicates;
    if (v == StreamSequencer::Verdict::kHeld) ++stats_.held;
    if (v == StreamSequencer::Verdict::kDropped) ++stats_.dropped_held;
  }
  if (v == StreamSequencer::Verdict::kHeld || v == StreamSequencer::Verdict::kDropped) {
    // Ask for the missing batch: the edge answers a repeated watermark by sending again.
    auto now = std::chrono::steady_clock::now();
    auto& last = last_gap_announce_[app];
    if (now - last >= std::chrono::seconds(1)) {
      last = now;
      Announce(app, sequencer_.committed(app));
    }
  }
}

void Ingestor::Compact() {
  // Its own table handles: LakeTable calls are independent, and OPTIMIZE's commits are
  // arbitrated against the ingest's appends by the Delta log.
  std::array<std::unique_ptr<lake::LakeTable>, kLakeTableCount> tables;
  for (int i = 0; i < kLakeTableCount; ++i) {
    auto t = OpenTable(options_.lake_root, static_cast<LakeTableId>(i), clock_);
    if (!t.ok()) {
      spdlog::error("weft-core compaction: {}", t.status().ToString());
      return;
    }
    tables[static_cast<size_t>(i)] = std::move(*t);
  }
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_cv_.wait_for(lock, options_.compact_every, [&] { return stop_; })) return;
    }
    for (int i = 0; i < kLakeTableCount; ++i) {
      Result<lake::OptimizeResult> r =
          tables[static_cast<size_t>(i)]->Optimize(options_.compact_small_file_bytes);
      std::lock_guard<std::mutex> lock(mu_);
      if (!r.ok()) {
        ++stats_.compaction_errors;
        spdlog::warn("weft-core compaction of {}: {}", LakeTableName(static_cast<LakeTableId>(i)),
                     r.status().ToString());
      } else if (r->version >= 0) {
        ++stats_.compactions;
        stats_.files_compacted += r->files_removed;
      }
    }
  }
}

void Ingestor::Catalogue(const DecodedBatch& b) {
  const auto now = std::chrono::steady_clock::now();
  EdgeCatalogue& edge = catalogued_edges_[b.edge_id];
  if (now - edge.since >= options_.catalog_every) {
    edge.since = now;
    edge.done.assign(edge.done.size(), false);
  }
  auto count_error = [&](const Status& s, const std::string& what) {
    spdlog::warn("weft-core ingest: cataloguing {}: {}", what, s.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.catalog_errors;
  };
  for (const edge::uplink::BatchContext& c : b.contexts) {
    // Ids are dense per edge; a wild one is catalogued every time (the catalog's own cache
    // makes that cheap) rather than growing the bitmap to its size.
    if (c.id < (1u << 20)) {
      if (c.id >= edge.done.size()) edge.done.resize(size_t{c.id} + 1, false);
      if (edge.done[c.id]) continue;
      edge.done[c.id] = true;
    }
    catalog::ObservedSignal o{.site = c.site,
                              .area = c.area,
                              .line = c.line,
                              .asset = c.asset,
                              .asset_type = c.asset_type,
                              .signal = c.signal,
                              .unit = c.unit,
                              .quantity = c.quantity,
                              .protocol = c.protocol,
                              .address = c.address,
                              .tags = c.tags,
                              .edge = b.edge_id,
                              .firmware = b.firmware};
    Status s = options_.catalog->Observe(o);
    if (!s.ok()) count_error(s, c.asset + "/" + c.signal);
  }
  for (const edge::Event& e : b.events) {
    if (e.kind != "prediction") continue;
    auto [it, fresh] = catalogued_models_.try_emplace(e.source, now);
    if (!fresh && now - it->second < options_.catalog_every) continue;
    it->second = now;
    const size_t at = e.source.rfind('@');
    Status s = options_.catalog->ObserveModel(
        std::string_view(e.source).substr(0, at),
        at == std::string::npos ? std::string_view() : std::string_view(e.source).substr(at + 1));
    if (!s.ok()) count_error(s, "model " + e.source);
  }
}

void Ingestor::Reject(const Message& m, const Status& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.rejected;
  }
  std::string kept;
  if (!options_.state_dir.empty()) {
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::path(options_.state_dir) / "rejected";
    std::filesystem::create_directories(dir, ec);
    const std::filesystem::path file = dir / (std::to_string(UnixMicros(clock_->Now())) + "-" +
                                              std::to_string(m.payload.size()) + ".batch");
    std::ofstream out(file, std::ios::binary);
    out.write(m.payload.data(), static_cast<std::streamsize>(m.payload.size()));
    if (out.good()) kept = "; kept in " + file.string();
  }
  spdlog::warn("weft-core ingest: refused a {}-byte batch on {}: {}{}", m.payload.size(), m.topic,
               why.ToString(), kept);
}

Status Ingestor::CommitTable(LakeTableId t, const std::vector<Incoming>& cycle) {
  auto& versions = versions_[static_cast<size_t>(t)];
  lake::LakeTable& table = *tables_[static_cast<size_t>(t)];
  RecordBatch& rows = rows_[static_cast<size_t>(t)];
  if (rows.num_columns() == 0) rows = RecordBatch(LakeTableSchema(t));
  for (int attempt = 0; attempt < 3; ++attempt) {
    rows.Clear();
    std::map<std::string, int64_t> txns;
    for (const Incoming& in : cycle) {
      auto v = versions.find(in.app);
      if (v != versions.end() && v->second >= static_cast<int64_t>(in.seq)) continue;  // has it
      const size_t before = rows.num_rows();
      AppendBatchRows(t, in, rows);
      // Telemetry records every stream's progress; the others only where they got rows.
      if (t == LakeTableId::kTelemetry || rows.num_rows() > before) {
        txns[in.app] = static_cast<int64_t>(in.seq);
      }
    }
    if (txns.empty()) return Status::Ok();
    std::vector<lake::delta::Txn> actions;
    for (const auto& [app, v] : txns) actions.push_back({.app_id = app, .version = v});
    WEFT_ASSIGN_OR_RETURN(lake::AppendResult r, table.Append(rows, std::move(actions)));
    if (!r.already_committed) {
      for (const auto& [app, v] : txns) versions[app] = v;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.rows[static_cast<size_t>(t)] += rows.num_rows();
      return Status::Ok();
    }
    // Another writer committed one of these streams: re-read and write what is still missing.
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.conflicts;
    }
    WEFT_ASSIGN_OR_RETURN(versions, table.TxnVersions());
  }
  return Status(StatusCode::kAborted,
                "lake table " + std::string(LakeTableName(t)) +
                    ": streams keep being committed by another writer; is a second core "
                    "worker configured with the same worker index?");
}

Status Ingestor::Commit(std::vector<Incoming>& cycle) {
  for (LakeTableId t : {LakeTableId::kEvents, LakeTableId::kAggregates, LakeTableId::kPredictions,
                        LakeTableId::kActions, LakeTableId::kTelemetry}) {
    WEFT_RETURN_IF_ERROR(CommitTable(t, cycle).WithContext(std::string(LakeTableName(t))));
  }
  const int64_t done_us = UnixMicros(clock_->Now());
  std::map<std::string, uint64_t> last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.commits;
    stats_.batches_committed += cycle.size();
    for (const Incoming& in : cycle) {
      last[in.app] = std::max(last[in.app], in.seq);
      for (const edge::Sample& s : in.batch.samples) latency_.Record((done_us - s.ts_us) / 1000, 1);
    }
  }
  for (const auto& [app, seq] : last) {
    sequencer_.MarkCommitted(app, seq);
    Announce(app, seq);
  }
  return Status::Ok();
}

void Ingestor::Announce(const std::string& app, uint64_t seq) {
  const size_t slash = app.find('/');
  if (slash == std::string::npos || client_ == nullptr) return;
  const std::string topic =
      options_.edge_topic + "/" + app.substr(0, slash) + "/committed/" + app.substr(slash + 1);
  Status s = client_->Publish(topic, std::to_string(seq), 1, /*retain=*/true);
  if (!s.ok()) {
    spdlog::warn("weft-core ingest: announcing {} committed up to {}: {}", app, seq, s.ToString());
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.watermarks_published;
}

}  // namespace weft::core
