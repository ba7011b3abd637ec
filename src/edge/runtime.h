// Runtime: one weft-edge process. Reads edge.yaml and plant.yaml, runs the connectors, the
// pipeline and local inference, and forwards everything through the durable queue to the broker.
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Runtime> rt, Runtime::Start("edge.yaml"));
//   ... rt->MetricsText(), rt->Health(), rt->Reload(), rt->DeployModel(...) ...
//   rt->Stop();   // or the destructor
//
// Data path and threads:
//   connectors (their own threads) --Ingest--> inbox --(processing thread)--> Pipeline and
//   InferenceEngine --> one BatchBuilder per priority --> DurableQueue.Append --> UplinkSender
//   (its own thread) --QoS 1--> broker. A batch is closed when it holds uplink.batch.max_samples
//   records or is uplink.batch.max_interval old; it is "acknowledged" by the edge once Append
//   returned (durable per uplink.fsync), and leaves the queue when the broker acknowledged it.
//   What is lost on kill -9: only records not yet in a closed batch (at most max_interval).
//   The inbox is bounded (kMaxInbox samples): if the processing thread falls that far behind,
//   newer samples are dropped and counted (weft_edge_ingest_dropped_total), never blocking the
//   connectors' network threads.
//
// Commands from the core, on <commands_topic>/<id>/cmd/<name> (QoS 1), answered on
// <commands_topic>/<id>/reply with {"command","ok","message"}:
//   reload   re-reads edge.yaml and plant.yaml; connectors, pipeline and inference are rebuilt
//            (the broker, the uplink and http settings need a restart). A bad file keeps the
//            running configuration and the reply says why.
//   deploy   {"model": NAME, "artifact": PATH, "version": V, "sha256": HEX}: loads the model
//            file, checks its sha256 (required), and swaps it in without stopping inference.
//   rebirth  asks every Sparkplug edge node of the scope for a rebirth.
//   control_grant    the core's signed mode grant (control/core/grant.h envelope JSON) for one
//            of the `control:` loops: verified with control.grant_key, applied, and kept in
//            grants_dir/<loop>.json (re-applied, verified again, at the next start).
//   control_approve  {"loop": ID, "proposal": ID, "principal": NAME}: approves a supervised
//            proposal (within one period).
//   ota      the core's signed OTA command (fleet/device/ota_agent.h), run by the OtaAgent on a
//            thread of its own (a download or a benchmark never stalls the data path); the
//            reply says the command was handled, the outcome goes to ota/status. Kinds:
//            model        the file is loaded as a TreeModel, its latency benchmarked over 200
//                         predictions on zero features (`bench` published), the health check
//                         fails when p99 > the command's latency_budget_us, then it is deployed
//                         as by `deploy`; a rollback re-deploys the previous OTA version.
//            edge_config  validated as an edge.yaml, written over the running file (the
//                         original kept as <state>/ota/edge_config.original.yaml), reloaded;
//                         a failed reload is rolled back (previous file written, reloaded).
//            firmware     the version is recorded (real firmware is the simulator's business).
//
// Provisioning (edge.yaml `provisioning:`, issue 9): when the broker has no tls, Start runs
// fleet::ZtpClient::Ensure (state under <state_dir>/identity) before connecting, and connects
// to the mqtts:// broker of the answer with the device certificate; the edge id is the device
// id. With an identity the OtaAgent runs (state under <state_dir>/ota) and `state` (retained)
// is published on every new broker session.
//
// Closed loops (edge.yaml `control:`, issue 8): each loop runs on its own thread (Tick every
// period, and the control commands for it in between); one heartbeat thread bumps the PLC
// heartbeats so that a slow model cannot starve the PLC's watchdog. Their ActionRecords go to
// the processing thread and up the uplink in high-priority batches. Loops are built at start
// (a reload does not change them: restart weft-edge).
// Only principals the broker's ACL lets publish there can command the edge (see the core's
// broker configuration); every command and its outcome is logged.
//
// Thread-safety: the public methods are thread-safe.
#ifndef WEFT_EDGE_RUNTIME_H_
#define WEFT_EDGE_RUNTIME_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/loop/control_loop.h"
#include "edge/connector.h"
#include "edge/edge_config.h"
#include "edge/http_endpoint.h"
#include "edge/inference/inference_engine.h"
#include "edge/inference/tree_model.h"
#include "edge/pipeline/pipeline.h"
#include "edge/signal_table.h"
#include "edge/uplink/batch_codec.h"
#include "edge/uplink/durable_queue.h"
#include "edge/uplink_sender.h"
#include "fleet/device/ota_agent.h"
#include "fleet/device/ztp_client.h"
#include "model/plant.h"
#include "mqtt/client.h"

namespace weft::edge {

class SparkplugConnector;
struct ControlLoopRunner;

struct RuntimeOptions {
  const Clock* clock = nullptr;  //!< null: SystemClock::Default()
  //! Overrides edge.yaml's http.listen (e.g. "127.0.0.1:0" in tests); "" = as configured.
  std::string http_listen;
  //! A device identity to use instead of running ZTP (tests, the fleet simulator); only with a
  //! `provisioning:` section.
  std::optional<fleet::DeviceIdentity> identity;
};

struct ModelDeployment {
  std::string model, artifact, version, sha256;
};

struct RuntimeStats {
  uint64_t samples_in = 0;
  uint64_t ingest_dropped = 0;
  uint64_t events_in = 0;
  uint64_t batches_appended = 0;
  uint64_t records_appended = 0;  //!< samples + aggregates + events in appended batches
  uint64_t append_errors = 0;
  uint64_t reloads = 0;
  uint64_t commands = 0;
  uint64_t bad_watermarks = 0;  //!< malformed commit watermarks from the core
};

class Runtime {
 public:
  static constexpr size_t kMaxInbox = 1 << 18;

  static Result<std::unique_ptr<Runtime>> Start(const std::string& config_path,
                                                RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  //! Stops the connectors, closes and stores the open batches, stops the sender. Idempotent.
  void Stop();

  Status Reload();
  Status DeployModel(const ModelDeployment& d);
  Status RequestRebirth();
  //! The `control_grant` and `control_approve` commands, as from the core.
  Status ControlGrant(const std::string& envelope_json);
  Status ControlApprove(const std::string& loop, const std::string& proposal,
                        const std::string& principal);
  //! The `ota` command, as from the core: runs it on the OTA thread and waits for the outcome
  //! (OK = handled; see ota/status). FailedPrecondition without a provisioned identity.
  Status Ota(const std::string& payload);
  //! The device identity in use (provisioned or given), if any.
  const std::optional<fleet::DeviceIdentity>& identity() const { return identity_; }
  //! Versions as the `state` message reports them (empty without OTA).
  std::map<std::string, std::string> OtaVersions() const;

  std::string MetricsText() const;
  HealthReport Health() const;
  RuntimeStats stats() const;
  int http_port() const { return http_ ? http_->port() : 0; }
  const EdgeConfig& config() const { return config_; }

 private:
  //! What a configuration builds; replaced whole by Reload.
  struct Generation {
    std::shared_ptr<const model::Plant> plant;
    std::shared_ptr<const SignalTable> table;
    std::vector<SignalPolicy> policies;  //!< moved into `pipeline` once it is made
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<inference::InferenceEngine> inference;
    std::vector<std::unique_ptr<Connector>> connectors;
    SparkplugConnector* sparkplug = nullptr;  //!< among `connectors`, if enabled
  };
  class Sink;
  struct Open {
    std::unique_ptr<uplink::BatchBuilder> builder;
    int64_t first_us = 0;  //!< when the first record went in
    size_t records = 0;
  };
  struct Command {
    std::string name, payload;
    std::function<void(Status)> done;  //!< for calls from the API; null for MQTT commands
  };

  Runtime(EdgeConfig config, RuntimeOptions options);
  Result<std::unique_ptr<Generation>> Build(const EdgeConfigFile& file);
  Status StartConnectors(Generation& g);
  void Ingest(std::span<const Sample> samples);
  void IngestEvent(const Event& e);
  void Process();
  //! Stops the current generation's connectors and stores everything it still holds.
  void RetireGeneration();
  void Add(Priority p, const std::function<void(uplink::BatchBuilder&)>& add);
  void CloseBatches(bool all);
  void CloseBatch(Priority p);
  Status RunCommand(const std::string& name, const std::string& payload);
  Status DoReload();
  Status DoDeploy(const ModelDeployment& d);
  Status Call(const std::string& name, const std::string& payload);
  void OnCommandMessage(const mqtt::Message& m);
  //! Reads and checks the `control:` section into control_config_ (against the plant, scope).
  Status ParseControl(const EdgeConfigFile& file);
  //! Builds and starts the loops of control_config_ (none when there is no section).
  Status StartControl(const EdgeConfigFile& file);
  void StopControl();
  //! Hands a control command to its loop's thread; `done` is called there.
  void DispatchControlCommand(Command c);
  //! Runs on the loop's thread.
  Status RunControlCommand(ControlLoopRunner& r, const std::string& name,
                           const std::string& payload);
  void OnAction(const control::ActionRecord& a);
  //! The one place an ActionRecord becomes part of a batch (processing thread).
  void ForwardAction(const control::ActionRecord& a);
  int64_t NowUs() const;
  // OTA (issue 9): the agent and its thread.
  Status StartOta();
  void StopOta();
  void PostOta(std::function<void()> job);
  void OtaLoop();
  Status PublishDevice(const std::string& subtopic, const std::string& payload, bool retain);
  Status OtaInstall(const fleet::ArtifactManifest& m, const std::string& file);
  Status OtaHealth(const fleet::ArtifactManifest& m, const fleet::OtaContext& ctx);
  Status OtaRestore(const fleet::ArtifactManifest& failed,
                    const std::optional<fleet::ArtifactManifest>& previous,
                    const std::string& previous_file);

  EdgeConfig config_;
  RuntimeOptions options_;
  const Clock& clock_;

  std::unique_ptr<uplink::DurableQueue> queue_;
  std::unique_ptr<mqtt::Client> uplink_client_;
  std::unique_ptr<UplinkSender> sender_;
  std::unique_ptr<HttpEndpoint> http_;

  // Owned by the processing thread (and by Start/Stop around it).
  std::unique_ptr<Generation> gen_;
  std::unique_ptr<Sink> sink_;
  std::array<Open, kPriorityCount> open_;
  //! The batch contexts of the current table, shared by the builders of `open_`.
  std::shared_ptr<uplink::BatchContextCache> contexts_ =
      std::make_shared<uplink::BatchContextCache>();
  std::vector<Sample> work_;
  std::vector<Event> work_events_;
  uint64_t subscribed_connects_ = 0;

  mutable std::mutex in_mu_;
  std::condition_variable in_cv_;
  std::vector<Sample> inbox_;                         // GUARDED_BY(in_mu_)
  std::vector<Event> inbox_events_;                   // GUARDED_BY(in_mu_)
  std::vector<control::ActionRecord> inbox_actions_;  // GUARDED_BY(in_mu_)
  std::vector<control::ActionRecord> work_actions_;
  std::deque<Command> commands_;  // GUARDED_BY(in_mu_)
  bool stopping_ = false;         // GUARDED_BY(in_mu_)

  mutable std::mutex stats_mu_;
  RuntimeStats stats_;  // GUARDED_BY(stats_mu_)
  //! Snapshots for /metrics and /health, refreshed by the processing thread.
  std::string gen_metrics_;                        // GUARDED_BY(stats_mu_)
  std::vector<ConnectorHealth> connector_health_;  // GUARDED_BY(stats_mu_)

  std::thread processor_;

  // Closed loops: built by StartControl, threads joined by StopControl, freed with the runtime.
  std::optional<control::ControlConfig> control_config_;
  std::string grant_key_pem_;  //!< the core's public key (PEM); "" = none configured
  std::shared_ptr<const model::Plant> control_plant_;
  std::string grants_dir_;
  std::vector<std::unique_ptr<ControlLoopRunner>> loops_;
  std::thread heartbeat_thread_;
  std::mutex control_mu_;
  std::condition_variable control_cv_;
  bool control_stopping_ = false;  // GUARDED_BY(control_mu_)
  std::atomic<bool> stopped_{false};

  // Provisioning and OTA.
  std::optional<fleet::DeviceIdentity> identity_;
  //! The tls the identity gave the broker (re-applied to edge.yaml at reload); nullopt when the
  //! file's own broker settings are used.
  std::optional<mqtt::TlsOptions> adopted_tls_;
  std::unique_ptr<fleet::OtaAgent> ota_agent_;
  std::thread ota_thread_;
  std::mutex ota_mu_;
  std::condition_variable ota_cv_;
  std::deque<std::function<void()>> ota_jobs_;  // GUARDED_BY(ota_mu_)
  bool ota_stopping_ = false;                   // GUARDED_BY(ota_mu_)
  //! The model of the running OTA trial, between install and health (OTA thread only).
  std::unique_ptr<inference::TreeModel> ota_model_;
  std::string ota_model_file_;
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_RUNTIME_H_
