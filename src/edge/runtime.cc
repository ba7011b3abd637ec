#include "edge/runtime.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "edge/connectors/modbus/modbus_connector.h"
#include "edge/connectors/mqtt/json_connector.h"
#include "edge/connectors/mqtt/sparkplug_connector.h"
#include "edge/inference/inference_config.h"
#include "edge/inference/tree_model.h"
#include "edge/pipeline/policy.h"
#include "model/plant_loader.h"

namespace weft::edge {
namespace {

constexpr auto kRound = std::chrono::milliseconds(20);

}  // namespace

// Hands the pipeline's output to the open batches.
class Runtime::Sink final : public PipelineSink {
 public:
  explicit Sink(Runtime* rt) : rt_(rt) {}
  void OnSample(const Sample& s, Priority p) override {
    rt_->Add(p, [&](uplink::BatchBuilder& b) { b.Add(s); });
  }
  void OnAggregate(const Aggregate& a, Priority p) override {
    rt_->Add(p, [&](uplink::BatchBuilder& b) { b.Add(a); });
  }
  void OnEvent(const Event& e, Priority p) override {
    rt_->Add(p, [&](uplink::BatchBuilder& b) { b.Add(e); });
  }

 private:
  Runtime* rt_;
};

Runtime::Runtime(EdgeConfig config, RuntimeOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Default()) {}

int64_t Runtime::NowUs() const {
  return UnixMicros(clock_.Now());
}

Result<std::unique_ptr<Runtime>> Runtime::Start(const std::string& config_path,
                                                RuntimeOptions options) {
  Diagnostics diags;
  Result<EdgeConfigFile> file = LoadEdgeConfig(config_path, &diags);
  if (!file.ok()) {
    return diags.error_count() > 1 ? Status(file.status().code(), diags.ToString()) : file.status();
  }
  std::unique_ptr<Runtime> rt(new Runtime(file->config, std::move(options)));
  const EdgeConfig& c = rt->config_;

  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Generation> gen, rt->Build(*file));
  rt->gen_ = std::move(gen);

  uplink::DurableQueueOptions qo;
  qo.max_bytes = c.uplink.max_bytes;
  qo.fsync = c.uplink.fsync;
  qo.fsync_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(c.uplink.fsync_interval);
  WEFT_ASSIGN_OR_RETURN(rt->queue_, uplink::DurableQueue::Open(c.uplink.dir, qo));
  auto qs = rt->queue_->stats();
  if (qs.bytes > 0 || qs.corrupted_frames > 0) {
    spdlog::info(
        "weft-edge: buffer {} holds {} bytes to send ({} corrupted frames cut at recovery)",
        c.uplink.dir, qs.bytes, qs.corrupted_frames);
  }

  mqtt::ClientOptions mo;
  mo.client_id = c.client_id;
  mo.tls = c.uplink.broker ? c.uplink.tls : c.tls;
  mo.max_inflight = c.uplink.inflight;
  Result<std::unique_ptr<mqtt::Client>> client =
      mqtt::Client::Connect(c.uplink.broker.value_or(c.broker), mo, std::chrono::seconds(10));
  if (!client.ok()) {
    // Later outages are bridged by the queue; the first connection must succeed (known gap).
    return client.status().WithContext("weft-edge needs the broker at start");
  }
  rt->uplink_client_ = std::move(*client);
  rt->uplink_client_->SetMessageHandler(
      [r = rt.get()](const mqtt::Message& m) { r->OnCommandMessage(m); });
  UplinkSenderOptions so;
  so.topic = c.uplink.topic;
  so.edge_id = c.id;
  so.inflight = c.uplink.inflight;
  so.wait_for_commit = c.uplink.ack_by_core;
  so.uncommitted = c.uplink.uncommitted;
  so.resend_after = std::chrono::duration_cast<std::chrono::milliseconds>(c.uplink.resend_after);
  so.floor_topic = c.commands_topic + "/" + c.id + "/floor";
  rt->sender_ = std::make_unique<UplinkSender>(rt->queue_.get(), rt->uplink_client_.get(), so);

  rt->sink_ = std::make_unique<Sink>(rt.get());
  rt->gen_->pipeline =
      std::make_unique<Pipeline>(*rt->gen_->table, std::move(rt->gen_->policies), *rt->sink_);
  WEFT_RETURN_IF_ERROR(rt->StartConnectors(*rt->gen_));
  rt->sender_->Start();
  rt->processor_ = std::thread([r = rt.get()] { r->Process(); });

  HttpEndpoint::Handlers h;
  h.metrics = [r = rt.get()] { return r->MetricsText(); };
  h.health = [r = rt.get()] { return r->Health(); };
  WEFT_ASSIGN_OR_RETURN(
      rt->http_,
      HttpEndpoint::Start(
          rt->options_.http_listen.empty() ? c.http_listen : rt->options_.http_listen, h));
  spdlog::info("weft-edge {}: {} signals of {}, sources on {}, uplink to {}, buffer {}, http {}",
               c.id, rt->gen_->table->size(), c.plant_path, c.broker.ToString(),
               c.uplink.broker.value_or(c.broker).ToString(), c.uplink.dir, rt->http_->port());
  return rt;
}

Result<std::unique_ptr<Runtime::Generation>> Runtime::Build(const EdgeConfigFile& file) {
  const EdgeConfig& c = file.config;
  auto g = std::make_unique<Generation>();
  Diagnostics plant_diags;
  Result<model::Plant> plant = model::LoadPlantFile(c.plant_path, &plant_diags);
  if (!plant.ok()) return plant.status();
  g->plant = std::make_shared<const model::Plant>(std::move(*plant));
  WEFT_ASSIGN_OR_RETURN(SignalTable table, SignalTable::FromPlant(*g->plant, c.scope));
  g->table = std::make_shared<const SignalTable>(std::move(table));

  // The sections that need the plant: read from the file's text again with a reader of their own.
  Diagnostics diags;
  model::YamlReader r(c.file, &diags);
  if (file.pipeline) {
    WEFT_ASSIGN_OR_RETURN(g->policies, ParsePipelineSection(r, *file.pipeline, *g->table));
  } else {
    g->policies = DefaultPolicies(*g->table);
  }
  inference::InferenceConfig ic;
  if (file.inference) {
    std::optional<inference::InferenceConfig> parsed = inference::ParseInferenceSection(
        r, *file.inference, std::filesystem::path(c.file).parent_path());
    if (!parsed) return diags.ToStatus(c.file);
    ic = std::move(*parsed);
  }
  WEFT_ASSIGN_OR_RETURN(
      g->inference, inference::InferenceEngine::Create(ic, *g->table,
                                                       [this](const Event& e) { IngestEvent(e); }));

  const SourcesConfig& s = c.sources;
  bool any_sparkplug = !g->table->SparkplugNodes().empty();
  bool any_json = !g->table->JsonTopics().empty();
  bool any_modbus = false;
  for (const SignalInfo& si : g->table->signals()) {
    any_modbus = any_modbus || si.protocol == model::Protocol::kModbusTcp;
  }
  if (s.sparkplug && any_sparkplug) {
    SparkplugConnectorOptions o;
    o.broker = c.broker;
    o.tls = c.tls;
    o.host_id = s.host_id;
    o.client_id = c.client_id + "-sparkplug";
    WEFT_ASSIGN_OR_RETURN(auto conn, SparkplugConnector::Create(g->table, o, clock_));
    g->sparkplug = conn.get();
    g->connectors.push_back(std::move(conn));
  }
  if (s.json && any_json) {
    JsonConnectorOptions o;
    o.broker = c.broker;
    o.tls = c.tls;
    o.client_id = c.client_id + "-json";
    WEFT_ASSIGN_OR_RETURN(auto conn, JsonConnector::Create(g->table, o));
    g->connectors.push_back(std::move(conn));
  }
  if (s.modbus && any_modbus) {
    modbus::ModbusConnectorOptions o;
    o.response_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s.modbus_timeout);
    o.endpoint_overrides = s.modbus_endpoints;
    o.clock = &clock_;
    WEFT_ASSIGN_OR_RETURN(auto conn, modbus::ModbusConnector::Create(*g->table, o));
    g->connectors.push_back(std::move(conn));
  }
  return g;
}

Status Runtime::StartConnectors(Generation& g) {
  ConnectorSinks sinks;
  sinks.on_samples = [this](std::span<const Sample> s) { Ingest(s); };
  sinks.on_event = [this](const Event& e) { IngestEvent(e); };
  for (auto& c : g.connectors) {
    Status s = c->Start(sinks);
    if (!s.ok()) {
      // A source that is down at start is retried by its connector where it can be (Modbus);
      // one that refuses to start at all is reported and the others go on.
      spdlog::error("weft-edge: connector {} did not start: {}", c->Health().name, s.ToString());
    }
  }
  return Status::Ok();
}

Runtime::~Runtime() {
  Stop();
}

void Runtime::Stop() {
  if (stopped_.exchange(true)) return;
  http_.reset();
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    stopping_ = true;
  }
  in_cv_.notify_all();
  if (processor_.joinable()) processor_.join();
  if (sender_) sender_->Stop();
  if (queue_) (void)queue_->Sync();
  sender_.reset();
  uplink_client_.reset();
}

void Runtime::Ingest(std::span<const Sample> samples) {
  size_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    size_t room = kMaxInbox > inbox_.size() ? kMaxInbox - inbox_.size() : 0;
    size_t take = std::min(room, samples.size());
    inbox_.insert(inbox_.end(), samples.begin(), samples.begin() + static_cast<ptrdiff_t>(take));
    dropped = samples.size() - take;
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.samples_in += samples.size() - dropped;
  stats_.ingest_dropped += dropped;
}

void Runtime::IngestEvent(const Event& e) {
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    inbox_events_.push_back(e);
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  ++stats_.events_in;
}

void Runtime::Add(Priority p, const std::function<void(uplink::BatchBuilder&)>& add) {
  Open& o = open_[static_cast<size_t>(p)];
  if (!o.builder) {
    uplink::BatchBuilderOptions bo;
    bo.zstd_level = config_.uplink.zstd_level;
    bo.contexts = contexts_;
    bo.firmware = config_.firmware;
    o.builder = std::make_unique<uplink::BatchBuilder>(config_.id, p, bo);
  }
  if (o.records == 0) o.first_us = NowUs();
  add(*o.builder);
  if (++o.records >= config_.uplink.batch_max_samples) CloseBatch(p);
}

void Runtime::CloseBatch(Priority p) {
  Open& o = open_[static_cast<size_t>(p)];
  if (o.records == 0) return;
  uint64_t seq = queue_->NextSeq(p);
  Result<std::string> bytes = o.builder->Finish(seq, NowUs(), *gen_->table);
  size_t records = o.records;
  o.records = 0;
  Status s = bytes.ok() ? queue_->Append(p, seq, *bytes) : bytes.status();
  std::lock_guard<std::mutex> lock(stats_mu_);
  if (!s.ok()) {
    ++stats_.append_errors;
    spdlog::error("weft-edge: a {} batch of {} records could not be stored: {}", PriorityName(p),
                  records, s.ToString());
    return;
  }
  ++stats_.batches_appended;
  stats_.records_appended += records;
}

void Runtime::CloseBatches(bool all) {
  int64_t now = NowUs();
  bool closed = false;
  for (int c = 0; c < kPriorityCount; ++c) {
    Open& o = open_[static_cast<size_t>(c)];
    if (o.records == 0) continue;
    if (all || now - o.first_us >= config_.uplink.batch_max_interval.count()) {
      CloseBatch(static_cast<Priority>(c));
      closed = true;
    }
  }
  if (closed && sender_) sender_->Notify();
}

void Runtime::RetireGeneration() {
  // The sources stop; what they delivered is processed and stored with the table it refers to.
  for (auto& c : gen_->connectors) c->Stop();
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    work_.swap(inbox_);
    inbox_.clear();
  }
  if (!work_.empty()) {
    gen_->pipeline->Push(work_);
    gen_->inference->OnSamples(work_);
  }
  gen_->pipeline->Flush();
  CloseBatches(/*all=*/true);
}

void Runtime::Process() {
  auto last_snapshot = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  auto last_trim = std::chrono::steady_clock::now();
  while (true) {
    std::deque<Command> commands;
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(in_mu_);
      in_cv_.wait_for(lock, kRound, [&] { return stopping_ || !commands_.empty(); });
      work_.swap(inbox_);
      inbox_.clear();
      work_events_.swap(inbox_events_);
      inbox_events_.clear();
      commands.swap(commands_);
      stopping = stopping_;
    }
    if (!work_.empty()) {
      gen_->pipeline->Push(work_);
      gen_->inference->OnSamples(work_);
    }
    for (const Event& e : work_events_) {
      Add(Priority::kHigh, [&](uplink::BatchBuilder& b) { b.Add(e); });
    }
    gen_->pipeline->Advance(NowUs());
    for (Command& c : commands) {
      Status s = RunCommand(c.name, c.payload);
      if (c.done) c.done(s);
    }
    // Commands are (re)subscribed on each new session of the uplink connection.
    if (uplink_client_->connected() && uplink_client_->connects() != subscribed_connects_) {
      std::string topic = config_.commands_topic + "/" + config_.id + "/cmd/+";
      Status s = uplink_client_->Subscribe(topic, 1);
      if (s.ok() && config_.uplink.ack_by_core) {
        topic = config_.commands_topic + "/" + config_.id + "/committed/+";
        s = uplink_client_->Subscribe(topic, 1);
      }
      if (s.ok()) {
        subscribed_connects_ = uplink_client_->connects();
      } else {
        spdlog::warn("weft-edge: subscribing to commands on {}: {}", topic, s.ToString());
      }
    }
    if (stopping) {
      RetireGeneration();
      return;
    }
    CloseBatches(/*all=*/false);
    auto now = std::chrono::steady_clock::now();
    if (now - last_trim >= std::chrono::seconds(10)) {
      // Give the pages freed by the connectors' per-message work back to the system, so that
      // the footprint stays what the data needs (a few ms every 10 s).
      last_trim = now;
      malloc_trim(0);
    }
    if (now - last_snapshot >= std::chrono::milliseconds(500)) {
      last_snapshot = now;
      std::vector<ConnectorHealth> health;
      for (const auto& c : gen_->connectors) health.push_back(c->Health());
      const PipelineStats& ps = gen_->pipeline->stats();
      edge::MetricsText m;
      m.Counter("weft_edge_pipeline_samples_total", "Samples into the pipeline.",
                static_cast<double>(ps.samples_in))
          .Counter("weft_edge_pipeline_raw_sent_total", "Raw samples sent up.",
                   static_cast<double>(ps.raw_sent))
          .Counter("weft_edge_pipeline_deadband_suppressed_total",
                   "Samples held back by the deadband.",
                   static_cast<double>(ps.deadband_suppressed))
          .Counter("weft_edge_pipeline_rate_limited_total", "Samples held back by min_interval.",
                   static_cast<double>(ps.rate_limited))
          .Counter("weft_edge_pipeline_heartbeats_total", "Heartbeats sent.",
                   static_cast<double>(ps.heartbeats))
          .Counter("weft_edge_pipeline_aggregates_total", "Window aggregates sent.",
                   static_cast<double>(ps.aggregates))
          .Counter("weft_edge_pipeline_quality_events_total", "Quality changes.",
                   static_cast<double>(ps.quality_events))
          .Gauge("weft_edge_signals", "Signals served.", static_cast<double>(gen_->table->size()));
      m.Raw(gen_->inference->PrometheusText());
      std::lock_guard<std::mutex> lock(stats_mu_);
      connector_health_ = std::move(health);
      gen_metrics_ = m.str();
    }
  }
}

Status Runtime::RunCommand(const std::string& name, const std::string& payload) {
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.commands;
  }
  if (name == "reload") return DoReload();
  if (name == "rebirth") {
    if (gen_->sparkplug == nullptr) return FailedPreconditionError("no Sparkplug source in scope");
    return gen_->sparkplug->RequestRebirth();
  }
  if (name == "deploy") {
    nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return InvalidArgumentError("deploy: the payload is not a JSON object");
    }
    ModelDeployment d;
    for (auto [key, field] : {std::pair{"model", &d.model}, std::pair{"artifact", &d.artifact},
                              std::pair{"version", &d.version}, std::pair{"sha256", &d.sha256}}) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_string()) {
        return InvalidArgumentError(std::string("deploy: \"") + key + "\" (a string) is required");
      }
      *field = it->get<std::string>();
    }
    return DoDeploy(d);
  }
  return InvalidArgumentError("unknown command '" + name +
                              "'; the commands are reload, deploy, rebirth");
}

Status Runtime::DoDeploy(const ModelDeployment& d) {
  if (d.sha256.empty()) return InvalidArgumentError("deploy: the artifact's sha256 is required");
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<inference::TreeModel> m,
                        inference::TreeModel::Load(d.artifact, d.model, d.version, d.sha256));
  WEFT_RETURN_IF_ERROR(gen_->inference->SwapModel(d.model, std::move(m)));
  spdlog::info("weft-edge: model {} version {} deployed from {}", d.model, d.version, d.artifact);
  return Status::Ok();
}

Status Runtime::DoReload() {
  Diagnostics diags;
  Result<EdgeConfigFile> file = LoadEdgeConfig(config_.file, &diags);
  if (!file.ok()) return file.status();
  const EdgeConfig& c = file->config;
  if (c.id != config_.id || c.broker.ToString() != config_.broker.ToString() ||
      c.uplink.dir != config_.uplink.dir) {
    return FailedPreconditionError("reload: id, broker and uplink.dir need a restart of weft-edge");
  }
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Generation> next, Build(*file));
  RetireGeneration();
  next->pipeline = std::make_unique<Pipeline>(*next->table, std::move(next->policies), *sink_);
  gen_ = std::move(next);
  config_.scope = c.scope;
  config_.sources = c.sources;
  WEFT_RETURN_IF_ERROR(StartConnectors(*gen_));
  std::lock_guard<std::mutex> lock(stats_mu_);
  ++stats_.reloads;
  spdlog::info("weft-edge: reloaded {}: {} signals", config_.file, gen_->table->size());
  return Status::Ok();
}

Status Runtime::Call(const std::string& name, const std::string& payload) {
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> result = done->get_future();
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    if (stopping_) return FailedPreconditionError("weft-edge is stopping");
    commands_.push_back({name, payload, [done](Status s) { done->set_value(std::move(s)); }});
  }
  in_cv_.notify_all();
  return result.get();
}

Status Runtime::Reload() {
  return Call("reload", "");
}
Status Runtime::RequestRebirth() {
  return Call("rebirth", "");
}
Status Runtime::DeployModel(const ModelDeployment& d) {
  nlohmann::json j = {
      {"model", d.model}, {"artifact", d.artifact}, {"version", d.version}, {"sha256", d.sha256}};
  return Call("deploy", j.dump());
}

void Runtime::OnCommandMessage(const mqtt::Message& m) {
  const std::string committed = config_.commands_topic + "/" + config_.id + "/committed/";
  if (m.topic.compare(0, committed.size(), committed) == 0) {
    // The core's watermark: "<seq>" on .../committed/<priority>.
    std::optional<Priority> p = ParsePriority(std::string_view(m.topic).substr(committed.size()));
    uint64_t seq = 0;
    auto [end, ec] = std::from_chars(m.payload.data(), m.payload.data() + m.payload.size(), seq);
    if (!p || ec != std::errc() || end != m.payload.data() + m.payload.size()) {
      spdlog::warn("weft-edge: ignoring a malformed commit watermark on {} ({} bytes)", m.topic,
                   m.payload.size());
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++stats_.bad_watermarks;
      return;
    }
    if (sender_) sender_->OnCommitted(*p, seq);
    return;
  }
  std::string prefix = config_.commands_topic + "/" + config_.id + "/cmd/";
  if (m.topic.compare(0, prefix.size(), prefix) != 0) return;
  std::string name = m.topic.substr(prefix.size());
  spdlog::info("weft-edge: command '{}' received", name);
  std::string reply_topic = config_.commands_topic + "/" + config_.id + "/reply";
  mqtt::Client* client = uplink_client_.get();
  std::lock_guard<std::mutex> lock(in_mu_);
  if (stopping_) return;
  commands_.push_back({name, m.payload, [name, reply_topic, client](Status s) {
                         if (s.ok()) {
                           spdlog::info("weft-edge: command '{}' done", name);
                         } else {
                           spdlog::warn("weft-edge: command '{}' failed: {}", name, s.ToString());
                         }
                         nlohmann::json j = {{"command", name},
                                             {"ok", s.ok()},
                                             {"message", s.ok() ? "" : s.ToString()}};
                         (void)client->Publish(reply_topic, j.dump(), 1, false);
                       }});
  in_cv_.notify_all();
}

RuntimeStats Runtime::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

std::string Runtime::MetricsText() const {
  RuntimeStats s;
  std::string gen_metrics;
  std::vector<ConnectorHealth> health;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    s = stats_;
    gen_metrics = gen_metrics_;
    health = connector_health_;
  }
  edge::MetricsText m;
  m.Counter("weft_edge_samples_in_total", "Samples received from the connectors.",
            static_cast<double>(s.samples_in))
      .Counter("weft_edge_ingest_dropped_total", "Samples dropped because processing fell behind.",
               static_cast<double>(s.ingest_dropped))
      .Counter("weft_edge_events_in_total", "Events from connectors and inference.",
               static_cast<double>(s.events_in))
      .Counter("weft_edge_batches_stored_total", "Batches stored in the buffer.",
               static_cast<double>(s.batches_appended))
      .Counter("weft_edge_records_stored_total",
               "Samples, aggregates and events stored in the buffer.",
               static_cast<double>(s.records_appended))
      .Counter("weft_edge_store_errors_total", "Batches that could not be stored.",
               static_cast<double>(s.append_errors))
      .Counter("weft_edge_commands_total", "Commands run.", static_cast<double>(s.commands))
      .Counter("weft_edge_reloads_total", "Successful reloads.", static_cast<double>(s.reloads))
      .Counter("weft_edge_bad_watermarks_total", "Malformed commit watermarks from the core.",
               static_cast<double>(s.bad_watermarks));
  for (const ConnectorHealth& h : health) {
    std::string l = "connector=\"" + LabelValue(h.name) + "\"";
    m.Counter("weft_edge_connector_messages_total", "Messages received or polls done.",
              static_cast<double>(h.messages), l);
  }
  for (const ConnectorHealth& h : health) {
    std::string l = "connector=\"" + LabelValue(h.name) + "\"";
    m.Counter("weft_edge_connector_samples_total", "Samples delivered by a connector.",
              static_cast<double>(h.samples), l);
  }
  for (const ConnectorHealth& h : health) {
    for (const auto& [kind, n] : h.errors) {
      m.Counter("weft_edge_connector_errors_total", "Bad input and failures, by kind.",
                static_cast<double>(n),
                "connector=\"" + LabelValue(h.name) + "\",kind=\"" + LabelValue(kind) + "\"");
    }
  }
  if (queue_) {
    uplink::DurableQueueStats q = queue_->stats();
    m.Gauge("weft_edge_buffer_bytes", "Bytes waiting in the buffer.", static_cast<double>(q.bytes));
    for (int c = 0; c < kPriorityCount; ++c) {
      m.Gauge("weft_edge_buffer_batches", "Batches waiting, by priority.",
              static_cast<double>(q.classes[static_cast<size_t>(c)].batches),
              "priority=\"" + std::string(PriorityName(static_cast<Priority>(c))) + "\"");
    }
    for (int c = 0; c < kPriorityCount; ++c) {
      m.Counter("weft_edge_buffer_evicted_batches_total",
                "Batches evicted because the buffer was full.",
                static_cast<double>(q.classes[static_cast<size_t>(c)].evicted_batches),
                "priority=\"" + std::string(PriorityName(static_cast<Priority>(c))) + "\"");
    }
    m.Counter("weft_edge_buffer_corrupted_frames_total", "Corrupt frames cut from the buffer.",
              static_cast<double>(q.corrupted_frames));
  }
  if (sender_) {
    UplinkSenderStats u = sender_->stats();
    m.Counter("weft_edge_uplink_published_total", "Batch publications (resends included).",
              static_cast<double>(u.published))
        .Counter("weft_edge_uplink_acked_total", "Batches acknowledged by the broker.",
                 static_cast<double>(u.acked))
        .Counter("weft_edge_uplink_resent_total", "Batches published again.",
                 static_cast<double>(u.resent))
        .Counter("weft_edge_uplink_committed_total",
                 "Batches the core confirmed committed to the lake (ack: core).",
                 static_cast<double>(u.committed))
        .Gauge("weft_edge_uplink_inflight", "Batches published and not yet acknowledged.",
               static_cast<double>(u.inflight))
        .Gauge("weft_edge_uplink_connected", "1 when the uplink connection is up.",
               uplink_client_ && uplink_client_->connected() ? 1 : 0);
  }
  m.Raw(gen_metrics);
  return m.str();
}

HealthReport Runtime::Health() const {
  std::vector<ConnectorHealth> health;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    health = connector_health_;
  }
  nlohmann::json j;
  bool healthy = !stopped_.load() && processor_.joinable();
  j["edge"] = config_.id;
  j["uplink_connected"] = uplink_client_ && uplink_client_->connected();
  j["buffer_bytes"] = queue_ ? queue_->stats().bytes : 0;
  nlohmann::json conns = nlohmann::json::array();
  for (const ConnectorHealth& h : health) {
    healthy = healthy && h.state != ConnectorState::kFailed;
    conns.push_back({{"name", h.name},
                     {"state", std::string(ConnectorStateName(h.state))},
                     {"messages", h.messages},
                     {"samples", h.samples},
                     {"last_error", h.last_error}});
  }
  j["connectors"] = conns;
  j["healthy"] = healthy;
  return {healthy, j.dump()};
}

}  // namespace weft::edge
