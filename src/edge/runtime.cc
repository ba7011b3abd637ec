#include "edge/runtime.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"
#include "common/time_format.h"
#include "fleet/broker_config.h"
#include "control/core/control_config.h"
#include "control/loop/modbus_plc_io.h"
#include "control/loop/process_source.h"
#include "edge/connectors/modbus/modbus_connector.h"
#include "edge/connectors/mqtt/json_connector.h"
#include "edge/connectors/mqtt/sparkplug_connector.h"
#include "edge/inference/inference_config.h"
#include "edge/inference/tree_model.h"
#include "edge/pipeline/policy.h"
#include "model/plant_loader.h"
#ifdef WEFT_HAVE_CONTROL_HVAC
#include "control/hvac/hvac_comfort_optimiser.h"
#endif

namespace weft::edge {
namespace {

constexpr auto kRound = std::chrono::milliseconds(20);
constexpr auto kHeartbeatRound = std::chrono::milliseconds(100);

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `bytes` to `path` through a temporary file and a rename: a crash leaves the old or the
// new file, never half of one.
Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return UnavailableError("cannot write '" + tmp + "'");
    out << bytes;
    out.flush();
    if (!out) return UnavailableError("cannot write '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return UnavailableError("cannot rename '" + tmp + "': " + ec.message());
  return Status::Ok();
}

// The loop a grant envelope is for (its signed grant JSON's "loop"), without verifying it: the
// loop verifies.
Result<std::string> GrantLoop(const std::string& envelope_json) {
  nlohmann::json e = nlohmann::json::parse(envelope_json, nullptr, false);
  if (e.is_discarded() || !e.is_object() || !e.contains("grant") || !e["grant"].is_string()) {
    return InvalidArgumentError(
        "control_grant: the payload is not a grant envelope "
        "{\"grant\": \"...\", \"signature\": \"...\"}");
  }
  nlohmann::json g = nlohmann::json::parse(e["grant"].get<std::string>(), nullptr, false);
  if (g.is_discarded() || !g.is_object() || !g.contains("loop") || !g["loop"].is_string()) {
    return InvalidArgumentError("control_grant: the grant names no loop");
  }
  return g["loop"].get<std::string>();
}

}  // namespace

// One closed loop and its thread.
struct ControlLoopRunner {
  struct LoopCommand {
    std::string name, payload;
    std::function<void(Status)> done;
  };
  std::string id, site, line;
  std::unique_ptr<control::PlcIo> plc;
  std::unique_ptr<control::SetpointSource> source;
  std::unique_ptr<control::ControlLoop> loop;
  std::mutex mu;
  std::deque<LoopCommand> commands;  // GUARDED_BY(mu)
  std::thread thread;
};

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
  // Provisioning: the id and the broker come from the core (or the stored identity).
  std::optional<fleet::DeviceIdentity> identity = options.identity;
  std::optional<mqtt::TlsOptions> adopted_tls;
  if (const auto& p = file->config.provisioning) {
    if (!file->config.tls.has_value()) {
      if (!identity) {
        fleet::ZtpClient::Options zo;
        zo.core_url = p->core_url;
        zo.factory_dir = p->factory_dir;
        zo.state_dir = p->state_dir + "/identity";
        zo.clock = options.clock;
        Result<fleet::DeviceIdentity> ensured = fleet::ZtpClient::Ensure(zo);
        if (!ensured.ok()) return ensured.status().WithContext("weft-edge: provisioning");
        identity = *ensured;
      }
      adopted_tls = mqtt::TlsOptions{.ca_file = identity->ca_file,
                                     .cert_file = identity->cert_file,
                                     .key_file = identity->key_file,
                                     .verify_hostname = true};
      WEFT_RETURN_IF_ERROR(AdoptDeviceIdentity(&file->config, identity->device_id,
                                               identity->broker_url, *adopted_tls));
    } else if (!identity) {
      // A hand-configured broker: OTA still runs when this device was provisioned before.
      Result<fleet::DeviceIdentity> stored = fleet::LoadDeviceIdentity(p->state_dir + "/identity");
      if (stored.ok()) identity = *stored;
    }
    if (identity && identity->device_id != file->config.id) {
      return FailedPreconditionError("weft-edge: edge id '" + file->config.id +
                                     "' is not the device id '" + identity->device_id + "'");
    }
  } else if (identity) {
    return InvalidArgumentError("weft-edge: a device identity needs a provisioning: section in " +
                                config_path);
  }
  std::unique_ptr<Runtime> rt(new Runtime(file->config, std::move(options)));
  rt->identity_ = std::move(identity);
  rt->adopted_tls_ = std::move(adopted_tls);
  const EdgeConfig& c = rt->config_;

  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Generation> gen, rt->Build(*file));
  rt->gen_ = std::move(gen);
  WEFT_RETURN_IF_ERROR(rt->ParseControl(*file));  // config errors before any connection

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
  WEFT_RETURN_IF_ERROR(rt->StartControl(*file));
  if (rt->identity_) WEFT_RETURN_IF_ERROR(rt->StartOta());

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
  StopOta();  // before the processing thread: an OTA step may be waiting on it
  StopControl();  // before the processing thread, which stores the loops' last actions
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
      work_actions_.swap(inbox_actions_);
      inbox_actions_.clear();
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
    for (const control::ActionRecord& a : work_actions_) ForwardAction(a);
    work_actions_.clear();
    gen_->pipeline->Advance(NowUs());
    for (Command& c : commands) {
      if (c.name.starts_with("control_")) {
        DispatchControlCommand(std::move(c));  // runs on the loop's thread; may wait for a Tick
        continue;
      }
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
        // A new session: the device's retained state, and the OTA statuses it could not send.
        if (ota_agent_) {
          PostOta([this] {
            Status st = ota_agent_->PublishState();
            if (!st.ok()) spdlog::warn("weft-edge: publishing state: {}", st.ToString());
          });
        }
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
                              "'; the commands are reload, deploy, rebirth, control_grant, "
                              "control_approve");
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
  if (adopted_tls_ && identity_) {
    if (!file->config.provisioning || file->config.tls) {
      return FailedPreconditionError("reload: provisioning on or off needs a restart of weft-edge");
    }
    WEFT_RETURN_IF_ERROR(AdoptDeviceIdentity(&file->config, identity_->device_id,
                                             identity_->broker_url, *adopted_tls_)
                             .WithContext("reload"));
  }
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
Status Runtime::ControlGrant(const std::string& envelope_json) {
  return Call("control_grant", envelope_json);
}
Status Runtime::ControlApprove(const std::string& loop, const std::string& proposal,
                               const std::string& principal) {
  nlohmann::json j = {{"loop", loop}, {"proposal", proposal}, {"principal", principal}};
  return Call("control_approve", j.dump());
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
  if (name == "ota") {
    // Its own thread: downloads and benchmarks must not stall the data path.
    PostOta([this, payload = m.payload, reply_topic, client] {
      Status s = ota_agent_ ? ota_agent_->HandleCommand(payload)
                            : FailedPreconditionError(
                                  "ota: this edge has no provisioned identity (no OTA key)");
      if (!s.ok()) spdlog::warn("weft-edge: command 'ota' failed: {}", s.ToString());
      nlohmann::json j = {{"command", "ota"}, {"ok", s.ok()}, {"message", s.ok() ? "" : s.ToString()}};
      (void)client->Publish(reply_topic, j.dump(), 1, false);
    });
    return;
  }
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
  // Grouped by metric name, as the exposition format wants.
  std::vector<std::pair<std::string, control::LoopStats>> loop_stats;
  for (const auto& r : loops_) loop_stats.emplace_back(r->id, r->loop->stats());
  using LS = control::LoopStats;
  struct LoopMetric {
    const char* name;
    const char* help;
    bool counter;
    double (*get)(const LS&);
  };
  static constexpr LoopMetric kLoopMetrics[] = {
      {"weft_edge_control_writes_total", "Setpoints written (safe ones included).", true,
       [](const LS& x) { return static_cast<double>(x.writes); }},
      {"weft_edge_control_safe_writes_total", "Safe setpoints written.", true,
       [](const LS& x) { return static_cast<double>(x.safe_writes); }},
      {"weft_edge_control_refusals_total", "Proposals the envelope changed or held back.", true,
       [](const LS& x) { return static_cast<double>(x.refusals); }},
      {"weft_edge_control_model_failures_total", "Proposals that failed.", true,
       [](const LS& x) { return static_cast<double>(x.model_failures); }},
      {"weft_edge_control_readback_mismatches_total", "Writes not read back.", true,
       [](const LS& x) { return static_cast<double>(x.readback_mismatches); }},
      {"weft_edge_control_comms_lost_total", "Times the PLC stopped answering.", true,
       [](const LS& x) { return static_cast<double>(x.comms_losses); }},
      {"weft_edge_control_heartbeats_total", "Heartbeats written.", true,
       [](const LS& x) { return static_cast<double>(x.heartbeats); }},
      {"weft_edge_control_mode", "Effective mode: 0 shadow, 1 supervised, 2 autonomous.", false,
       [](const LS& x) { return static_cast<double>(static_cast<int>(x.mode)); }},
      {"weft_edge_control_hand_mode", "1 while the PLC is in hand mode.", false,
       [](const LS& x) { return x.hand_mode ? 1.0 : 0.0; }},
      {"weft_edge_control_comms_down", "1 while the PLC does not answer.", false,
       [](const LS& x) { return x.comms_down ? 1.0 : 0.0; }},
  };
  for (const LoopMetric& lm : kLoopMetrics) {
    for (const auto& [id, ls] : loop_stats) {
      std::string l = "loop=\"" + LabelValue(id) + "\"";
      if (lm.counter) {
        m.Counter(lm.name, lm.help, lm.get(ls), l);
      } else {
        m.Gauge(lm.name, lm.help, lm.get(ls), l);
      }
    }
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

// ---- Closed loops (issue 8). ----

Status Runtime::ParseControl(const EdgeConfigFile& file) {
  if (!file.control) return Status::Ok();
  const EdgeConfig& c = file.config;
  Diagnostics diags;
  model::YamlReader r(c.file, &diags);
  std::optional<control::ControlConfig> cc =
      control::ParseControlSection(r, *file.control, std::filesystem::path(c.file).parent_path());
  if (!cc) return Status(StatusCode::kInvalidArgument, diags.ToString());
  control_plant_ = gen_->plant;
  Status checked = control::CheckAgainstPlant(*cc, *control_plant_, &diags);
  if (!checked.ok()) return Status(checked.code(), diags.ToString());
  for (const control::LoopConfig& lc : cc->loops) {
    if (gen_->table->AssetSignals(lc.asset) == nullptr) {
      return InvalidArgumentError(c.file + ": " + lc.path + ".asset: '" + lc.asset +
                                  "' is outside this edge's scope");
    }
  }
  if (!cc->grant_key.empty()) {
    Result<std::string> key = ReadSmallFile(cc->grant_key);
    if (!key.ok()) {
      return InvalidArgumentError(c.file + ": control.grant_key: " + key.status().message());
    }
    grant_key_pem_ = std::move(*key);
  }
  control_config_ = std::move(*cc);
  return Status::Ok();
}

Status Runtime::StartControl(const EdgeConfigFile& file) {
  if (!control_config_) return Status::Ok();
  const EdgeConfig& c = file.config;
  const control::ControlConfig* cc = &*control_config_;
  if (cc->loops.empty()) return Status::Ok();
  const std::string& key_pem = grant_key_pem_;
  if (key_pem.empty()) {
    spdlog::warn("weft-edge: control.grant_key is not set: every loop stays in shadow mode");
  }
  grants_dir_ = !cc->grants_dir.empty()
                    ? cc->grants_dir
                    : (std::filesystem::path(c.uplink.dir).parent_path() / "grants").string();
  std::error_code ec;
  std::filesystem::create_directories(grants_dir_, ec);
  if (ec)
    return UnavailableError("cannot create grants_dir '" + grants_dir_ + "': " + ec.message());
#ifdef WEFT_HAVE_CONTROL_HVAC
  control::RegisterHvacComfortOptimiser();
#endif
  std::map<std::string, const model::Asset*> assets;
  for (const model::Asset* a : control_plant_->AllAssets()) assets[a->id] = a;
  for (const control::LoopConfig& lc : cc->loops) {
    auto it = assets.find(lc.asset);
    if (it == assets.end()) return InvalidArgumentError(lc.path + ": no asset '" + lc.asset + "'");
    const model::Asset& asset = *it->second;
    auto runner = std::make_unique<ControlLoopRunner>();
    runner->id = lc.id;
    runner->site = asset.site;
    runner->line = asset.line;
    control::ModbusPlcIoOptions po;
    po.response_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(c.sources.modbus_timeout);
    if (asset.connection.modbus) {
      std::string key =
          asset.connection.modbus->host + ":" + std::to_string(asset.connection.modbus->port);
      auto ov = c.sources.modbus_endpoints.find(key);
      if (ov != c.sources.modbus_endpoints.end()) po.endpoint_override = ov->second;
    }
    WEFT_ASSIGN_OR_RETURN(runner->plc, control::ModbusPlcIo::Create(asset, po));
    if (const auto* opt = std::get_if<control::OptimiserSource>(&lc.source)) {
      Result<std::unique_ptr<control::SetpointSource>> src = control::MakeOptimiser(*opt);
      if (!src.ok()) return src.status().WithContext(c.file);
      runner->source = std::move(*src);
    } else {
      const auto& ps = std::get<control::ProcessSource>(lc.source);
      control::ProcessSourceOptions o;
      o.command = ps.command;
      o.working_dir = ps.working_dir;
      o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(ps.timeout);
      runner->source = std::make_unique<control::ProcessSetpointSource>(o);
    }
    control::ControlLoopOptions lo;
    lo.edge_id = c.id;
    lo.grant_public_key_pem = key_pem;
    runner->loop = std::make_unique<control::ControlLoop>(
        lc, lo, *runner->plc, *runner->source, clock_,
        [this](const control::ActionRecord& a) { OnAction(a); });
    // A grant kept from an earlier run is verified again (it may have expired meanwhile).
    std::string kept = (std::filesystem::path(grants_dir_) / (lc.id + ".json")).string();
    if (std::filesystem::exists(kept)) {
      Result<std::string> g = ReadSmallFile(kept);
      Result<control::ModeGrant> applied =
          g.ok() ? runner->loop->ApplyGrant(*g) : Result<control::ModeGrant>(g.status());
      if (!applied.ok()) {
        spdlog::warn("weft-edge: loop {}: the kept grant {} is not valid: {}", lc.id, kept,
                     applied.status().ToString());
      }
    }
    spdlog::info("weft-edge: loop {} on {} ({} via {}), wanted mode {}, running {}", lc.id,
                 lc.asset, runner->source->name(),
                 static_cast<control::ModbusPlcIo*>(runner->plc.get())->endpoint(),
                 control::ModeName(lc.mode), control::ModeName(runner->loop->effective_mode()));
    loops_.push_back(std::move(runner));
  }
  for (auto& up : loops_) {
    ControlLoopRunner* runner = up.get();
    runner->thread = std::thread([this, runner] {
      const Micros period = runner->loop->config().period;
      TimePoint next = clock_.Now();
      while (true) {
        std::deque<ControlLoopRunner::LoopCommand> cmds;
        {
          std::unique_lock<std::mutex> lock(control_mu_);
          if (control_stopping_) break;
          {
            std::lock_guard<std::mutex> l(runner->mu);
            cmds.swap(runner->commands);
          }
          if (cmds.empty()) {
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_.Now());
            if (wait > std::chrono::milliseconds(0)) {
              control_cv_.wait_for(lock, std::min(wait, std::chrono::milliseconds(200)));
              if (control_stopping_) break;
            }
          }
        }
        for (auto& cmd : cmds) {
          Status st = RunControlCommand(*runner, cmd.name, cmd.payload);
          if (cmd.done) cmd.done(st);
        }
        TimePoint now = clock_.Now();
        if (now >= next) {
          runner->loop->Tick(now);
          next += period;
          if (next <= now) next = now + period;  // a Tick longer than a period: no catching up
        }
      }
      // Commands left: answered, not run.
      std::lock_guard<std::mutex> l(runner->mu);
      for (auto& cmd : runner->commands) {
        if (cmd.done) cmd.done(FailedPreconditionError("weft-edge is stopping"));
      }
      runner->commands.clear();
    });
  }
  heartbeat_thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(control_mu_);
    while (!control_stopping_) {
      lock.unlock();
      for (auto& runner : loops_) runner->loop->Heartbeat(clock_.Now());
      lock.lock();
      control_cv_.wait_for(lock, kHeartbeatRound, [this] { return control_stopping_; });
    }
  });
  return Status::Ok();
}

void Runtime::StopControl() {
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    control_stopping_ = true;
  }
  control_cv_.notify_all();
  for (auto& runner : loops_) {
    if (runner->thread.joinable()) runner->thread.join();
  }
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

void Runtime::DispatchControlCommand(Command c) {
  std::string loop;
  if (c.name == "control_grant") {
    Result<std::string> l = GrantLoop(c.payload);
    if (!l.ok()) {
      if (c.done) c.done(l.status());
      return;
    }
    loop = *l;
  } else if (c.name == "control_approve") {
    nlohmann::json j = nlohmann::json::parse(c.payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("loop") || !j["loop"].is_string()) {
      if (c.done) c.done(InvalidArgumentError("control_approve: \"loop\" (a string) is required"));
      return;
    }
    loop = j["loop"].get<std::string>();
  } else {
    if (c.done) {
      c.done(InvalidArgumentError("unknown command '" + c.name +
                                  "'; the control commands are control_grant, control_approve"));
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.commands;
  }
  for (auto& runner : loops_) {
    if (runner->id != loop) continue;
    {
      std::lock_guard<std::mutex> lock(runner->mu);
      runner->commands.push_back({c.name, c.payload, std::move(c.done)});
    }
    control_cv_.notify_all();
    return;
  }
  if (c.done) c.done(NotFoundError(c.name + ": this edge runs no control loop '" + loop + "'"));
}

Status Runtime::RunControlCommand(ControlLoopRunner& r, const std::string& name,
                                  const std::string& payload) {
  if (name == "control_grant") {
    WEFT_ASSIGN_OR_RETURN(control::ModeGrant g, r.loop->ApplyGrant(payload));
    std::string kept = (std::filesystem::path(grants_dir_) / (r.id + ".json")).string();
    Status s = WriteFileAtomically(kept, payload);
    if (!s.ok()) {
      spdlog::error("weft-edge: loop {}: the grant is applied but not kept: {}", r.id,
                    s.ToString());
      return s.WithContext("grant applied for this run only");
    }
    spdlog::info("weft-edge: loop {}: grant for {} applied and kept in {}", r.id,
                 control::ModeName(g.mode), kept);
    return Status::Ok();
  }
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  auto str = [&](const char* k) -> std::string {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  std::string proposal = str("proposal"), principal = str("principal");
  if (proposal.empty() || principal.empty()) {
    return InvalidArgumentError(
        "control_approve: {\"loop\", \"proposal\", \"principal\"} (strings) are required");
  }
  return r.loop->Approve(proposal, principal);
}

void Runtime::OnAction(const control::ActionRecord& a) {
  std::lock_guard<std::mutex> lock(in_mu_);
  inbox_actions_.push_back(a);
}

void Runtime::ForwardAction(const control::ActionRecord& a) {
  uplink::ActionRecordValue v;
  v.ts_us = UnixMicros(a.ts);
  v.loop = a.loop;
  for (const auto& r : loops_) {
    if (r->id == a.loop) {
      v.site = r->site;
      v.line = r->line;
    }
  }
  v.asset = a.asset;
  v.signal = a.signal;
  v.kind = a.kind;
  v.mode = a.mode;
  v.requested = a.requested;
  v.before = a.before;
  v.after = a.after;
  v.reason = a.reason;
  v.source = a.source;
  v.source_version = a.source_version;
  v.approved_by = a.approved_by;
  v.proposal_id = a.proposal_id;
  Add(Priority::kHigh, [&](uplink::BatchBuilder& b) { b.AddAction(v); });
}

// ---- OTA (issue 9) ----

Status Runtime::StartOta() {
  const ProvisioningConfig& p = *config_.provisioning;
  fleet::OtaAgent::Options o;
  o.state_dir = p.state_dir + "/ota";
  o.device_id = identity_->device_id;
  o.hardware_model = identity_->hardware_model;
  o.site = identity_->site;
  o.ota_public_key_pem = identity_->ota_public_key_pem;
  o.core_url = p.core_url;
  o.core_ca_file = p.factory_dir + "/core-ca.pem";
  o.clock = &clock_;
  o.base_versions = {{"firmware", config_.firmware}};
  o.publish = [this](const std::string& sub, const std::string& payload, bool retain) {
    return PublishDevice(sub, payload, retain);
  };
  o.install = [this](const fleet::ArtifactManifest& m, const std::string& file) {
    return OtaInstall(m, file);
  };
  o.health = [this](const fleet::ArtifactManifest& m, const fleet::OtaContext& ctx) {
    return OtaHealth(m, ctx);
  };
  o.restore = [this](const fleet::ArtifactManifest& failed,
                     const std::optional<fleet::ArtifactManifest>& previous,
                     const std::string& file) { return OtaRestore(failed, previous, file); };
  // Start may roll back a trial a crash interrupted (and reload for it): the processing thread
  // runs by now.
  Result<std::unique_ptr<fleet::OtaAgent>> agent = fleet::OtaAgent::Start(std::move(o));
  if (!agent.ok()) return agent.status().WithContext("weft-edge: ota");
  ota_agent_ = std::move(*agent);
  ota_thread_ = std::thread([this] { OtaLoop(); });
  return Status::Ok();
}

void Runtime::StopOta() {
  {
    std::lock_guard<std::mutex> lock(ota_mu_);
    ota_stopping_ = true;
  }
  ota_cv_.notify_all();
  if (ota_thread_.joinable()) ota_thread_.join();
}

void Runtime::PostOta(std::function<void()> job) {
  if (identity_) {
    // identity_ is set before any thread starts; jobs wait for the OTA thread if need be.
    std::lock_guard<std::mutex> lock(ota_mu_);
    if (ota_stopping_) return;
    ota_jobs_.push_back(std::move(job));
    ota_cv_.notify_all();
    return;
  }
  job();  // no OTA here: the job only answers that, on the caller's thread
}

void Runtime::OtaLoop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(ota_mu_);
      ota_cv_.wait(lock, [&] { return ota_stopping_ || !ota_jobs_.empty(); });
      if (ota_stopping_) return;  // pending jobs are dropped: the core re-sends on timeout
      job = std::move(ota_jobs_.front());
      ota_jobs_.pop_front();
    }
    job();
  }
}

Status Runtime::Ota(const std::string& payload) {
  if (!ota_agent_) {
    return FailedPreconditionError("ota: this edge has no provisioned identity (no OTA key)");
  }
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> result = done->get_future();
  {
    std::lock_guard<std::mutex> lock(ota_mu_);
    if (ota_stopping_) return FailedPreconditionError("weft-edge is stopping");
    ota_jobs_.push_back([this, payload, done] { done->set_value(ota_agent_->HandleCommand(payload)); });
  }
  ota_cv_.notify_all();
  return result.get();
}

std::map<std::string, std::string> Runtime::OtaVersions() const {
  return ota_agent_ ? ota_agent_->Versions() : std::map<std::string, std::string>{};
}

Status Runtime::PublishDevice(const std::string& subtopic, const std::string& payload,
                              bool retain) {
  if (!uplink_client_) return FailedPreconditionError("no broker connection");
  return uplink_client_->Publish(config_.commands_topic + "/" + config_.id + "/" + subtopic,
                                 payload, 1, retain);
}

namespace {

std::string OriginalEdgeConfigPath(const EdgeConfig& c) {
  return c.provisioning->state_dir + "/ota/edge_config.original.yaml";
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` over the running edge.yaml, keeping the original once.
Status ReplaceEdgeConfig(const EdgeConfig& c, const std::string& text) {
  const std::string original = OriginalEdgeConfigPath(c);
  if (!std::filesystem::exists(original)) {
    WEFT_ASSIGN_OR_RETURN(std::string current, ReadText(c.file));
    WEFT_RETURN_IF_ERROR(fleet::WriteFileAtomic(original, current, 0644));
  }
  return fleet::WriteFileAtomic(c.file, text, 0644);
}

}  // namespace

Status Runtime::OtaInstall(const fleet::ArtifactManifest& m, const std::string& file) {
  if (m.kind == "model") {
    WEFT_ASSIGN_OR_RETURN(ota_model_, inference::TreeModel::Load(file, m.name, m.version, m.sha256));
    ota_model_file_ = file;
    return Status::Ok();
  }
  if (m.kind == "edge_config") {
    WEFT_ASSIGN_OR_RETURN(std::string text, ReadText(file));
    // Validated as if it were the running file (its relative paths resolve the same way).
    Diagnostics diags;
    Result<EdgeConfigFile> parsed = ParseEdgeConfig(text, config_.file, &diags);
    if (!parsed.ok()) {
      return InvalidArgumentError("edge_config " + m.version + " is not a valid edge.yaml: " +
                                  diags.ToString());
    }
    WEFT_RETURN_IF_ERROR(ReplaceEdgeConfig(config_, text));
    return Call("reload", "");
  }
  if (m.kind == "firmware") {
    spdlog::info("weft-edge: firmware {} {} recorded", m.name, m.version);
    return Status::Ok();
  }
  return InvalidArgumentError("ota: weft-edge does not install artifacts of kind '" + m.kind + "'");
}

Status Runtime::OtaHealth(const fleet::ArtifactManifest& m, const fleet::OtaContext& ctx) {
  // edge_config: the reload in install is the check; firmware: the simulator's business.
  if (m.kind != "model") return Status::Ok();
  if (!ota_model_) return InternalError("ota: no model loaded for the health check");
  // Latency on this hardware: 200 predictions on zero features, p50 / p99.
  constexpr size_t kRuns = 200;
  std::vector<float> features(ota_model_->num_features(), 0.0f);
  std::vector<double> us;
  us.reserve(kRuns);
  volatile float sink = 0;
  for (size_t i = 0; i < kRuns; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + ota_model_->PredictUnchecked(features.data());
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  const double p50 = us[kRuns / 2];
  const double p99 = us[(kRuns * 99) / 100];
  Status published = PublishDevice("bench", ota_agent_->BenchJson(m.name, m.version, p50, p99, kRuns),
                                   false);
  if (!published.ok()) spdlog::warn("weft-edge: publishing bench: {}", published.ToString());
  if (ctx.latency_budget_us && p99 > static_cast<double>(*ctx.latency_budget_us)) {
    ota_model_.reset();
    return FailedPreconditionError("model " + m.name + " " + m.version + ": p99 " +
                                   FormatDouble(p99) + " us exceeds the latency budget " +
                                   std::to_string(*ctx.latency_budget_us) + " us");
  }
  ota_model_.reset();
  nlohmann::json d = {
      {"model", m.name}, {"artifact", ota_model_file_}, {"version", m.version}, {"sha256", m.sha256}};
  return Call("deploy", d.dump());
}

Status Runtime::OtaRestore(const fleet::ArtifactManifest& failed,
                           const std::optional<fleet::ArtifactManifest>& previous,
                           const std::string& previous_file) {
  ota_model_.reset();
  if (failed.kind == "model") {
    // The failed model was deployed only if its health check passed the budget; deploying the
    // previous OTA version again is harmless either way. None: the configured model runs on.
    if (!previous) return Status::Ok();
    nlohmann::json d = {{"model", previous->name}, {"artifact", previous_file},
                        {"version", previous->version}, {"sha256", previous->sha256}};
    return Call("deploy", d.dump());
  }
  if (failed.kind == "edge_config") {
    const std::string from = previous ? previous_file : OriginalEdgeConfigPath(config_);
    Result<std::string> text = ReadText(from);
    if (!text.ok()) {
      // Never replaced (the trial failed before writing): nothing to put back.
      return previous ? text.status() : Status::Ok();
    }
    WEFT_RETURN_IF_ERROR(fleet::WriteFileAtomic(config_.file, *text, 0644));
    return Call("reload", "");
  }
  return Status::Ok();
}

}  // namespace weft::edge
