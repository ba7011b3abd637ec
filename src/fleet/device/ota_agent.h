// OtaAgent: the device side of signed OTA updates. It takes the core's `cmd/ota` command,
// verifies, downloads, installs into A/B slots, health-checks, and commits or rolls back,
// reporting each step on `ota/status` and the resulting versions on `state`.
//
//   OtaAgent::Options o;
//   o.state_dir = state + "/ota";
//   o.device_id = id.device_id; o.hardware_model = id.hardware_model; o.site = id.site;
//   o.ota_public_key_pem = id.ota_public_key_pem;           // pinned at provisioning
//   o.core_ca_file = factory_dir + "/core-ca.pem";          // trust for https:// artifact URLs
//   o.publish = [&](const std::string& sub, const std::string& json, bool retain) {
//     return client.Publish("weft/v1/edge/" + id.device_id + "/" + sub, json, 1, retain); };
//   o.install = [&](const ArtifactManifest& m, const std::string& file) { ... };
//   o.health = [&](const ArtifactManifest& m, const OtaContext& c) { ... };
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<OtaAgent> agent, OtaAgent::Start(std::move(o)));
//   agent->PublishState();                 // on every (re)connect
//   ... on cmd/ota: agent->HandleCommand(payload) ...
//
// Command (JSON): {"campaign":"c12","artifact":{"manifest":"<exact manifest JSON text>",
//   "signature":"<base64 Ed25519 over the manifest bytes>","url":"https://...|file:///..."},
//   "health_timeout_s":30,"latency_budget_us":null}
//
// Steps of HandleCommand, each refusal a final `failed` status with the reason:
//   1. the signature verifies with the pinned key over the exact manifest text;
//   2. this device's hardware model is in the manifest's hardware_models;
//   3. (the same kind/name/version already current: `succeeded` again, nothing re-installed);
//   4. `downloading`: the artifact is fetched (https with core_ca_file, or file://) into a
//      temporary file, its size and sha256 must equal the manifest's;
//   5. `installing`: slots under <state_dir>/<kind>/<name>/: current -> previous, the download
//      -> current (each a directory with manifest.json and the artifact file), and a `trial`
//      marker (campaign, versions) written with fsync before `install` is called;
//   6. `health` (null: healthy; it enforces context.health_timeout itself); OK -> the trial
//      marker is removed (commit), `succeeded`;
//      an error (or a failed install) -> current is replaced by previous, `restore` is called,
//      the marker removed, `rolled_back` with the reason.
//   Then `state` (retained) with the versions.
// A kill -9 anywhere in 5-6 leaves the trial marker: Start rolls it back the same way and
// reports `rolled_back` ("interrupted during trial").
// Final statuses are kept in <state_dir>/outbox.json until `publish` accepted them, and sent
// again by PublishState(): a device that was offline still reports.
//
// Thread-safety: all public methods are thread-safe; commands run one at a time (a second
// caller waits). install/health/restore run on the thread of HandleCommand (or Start) while it
// holds the command lock: they must not call HandleCommand (Versions, StateJson, BenchJson and
// PublishState are fine). `publish` may be called from any of the agent's callers.
#ifndef WEFT_FLEET_DEVICE_OTA_AGENT_H_
#define WEFT_FLEET_DEVICE_OTA_AGENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "fleet/signing.h"

namespace weft::fleet {

//! What a command says besides the artifact; given to the health check.
struct OtaContext {
  std::string campaign;
  std::chrono::seconds health_timeout{30};
  std::optional<int64_t> latency_budget_us;  //!< models: p99 budget, when the campaign has one
};

//! The parsed `cmd/ota` payload. Errors name the field.
struct OtaCommand {
  std::string campaign;
  std::string manifest_json;  //!< exact bytes that were signed
  std::string signature_b64;
  std::string url;
  OtaContext context;
};
Result<OtaCommand> ParseOtaCommand(std::string_view payload);

class OtaAgent {
 public:
  //! `subtopic` is "ota/status", "state" or "bench" (relative to weft/v1/edge/<device>/).
  using Publish = std::function<Status(const std::string& subtopic, const std::string& payload,
                                       bool retain)>;
  //! Makes `file` (the artifact, in its slot) the running version of the manifest's kind/name.
  using Installer = std::function<Status(const ArtifactManifest&, const std::string& file)>;
  //! After install: OK = healthy (commit), an error = roll back (its message is the reason).
  using HealthCheck = std::function<Status(const ArtifactManifest&, const OtaContext&)>;
  //! Puts back what ran before `failed`: `previous` (with its file in its slot) or, when no
  //! earlier OTA of this kind/name was ever committed, nullopt (back to the device's original).
  //! Null: `install(previous, file)` when there is a previous, nothing otherwise.
  using Restore = std::function<Status(const ArtifactManifest& failed,
                                       const std::optional<ArtifactManifest>& previous,
                                       const std::string& previous_file)>;
  //! Fetches an https:// URL into `dest`; null = cpp-httplib SSLClient trusting core_ca_file.
  //! Tests and the simulator may inject one.
  using Downloader = std::function<Status(const std::string& url, const std::string& dest)>;

  struct Options {
    std::string state_dir;  //!< <state>/ota; created when missing
    std::string device_id, hardware_model, site;
    std::string ota_public_key_pem;  //!< Ed25519 public key (PEM) the manifests must verify with
    std::string core_url, core_ca_file;  //!< for https:// downloads
    Publish publish;     //!< required
    Installer install;   //!< required
    HealthCheck health;  //!< null: healthy
    Restore restore;
    Downloader download;
    const Clock* clock = nullptr;  //!< null: SystemClock::Default()
    //! Versions before any OTA (kind or kind/name -> version), e.g. {"firmware": "1.4.0",
    //! "models/bearing-wear": "2"}; committed OTA versions override them.
    std::map<std::string, std::string> base_versions;
    std::chrono::milliseconds download_timeout{60000};
  };

  //! Creates the state directory, loads the committed versions, and rolls back an unfinished
  //! trial (publishing `rolled_back` for it, or keeping it in the outbox when publish fails).
  static Result<std::unique_ptr<OtaAgent>> Start(Options options);
  ~OtaAgent();
  OtaAgent(const OtaAgent&) = delete;
  OtaAgent& operator=(const OtaAgent&) = delete;

  //! Runs one `cmd/ota` command to a final state. OK when the command was handled (including
  //! a `failed` or `rolled_back` outcome, which is reported on ota/status); an error when the
  //! payload cannot be read at all or the local state cannot be written.
  Status HandleCommand(std::string_view payload);

  //! kind -> version for firmware/edge_config ("firmware" -> "1.4.0"), "model/<name>" ->
  //! version for models; base versions overridden by committed OTAs.
  std::map<std::string, std::string> Versions() const;

  //! The `state` JSON: {"device","hardware_model","site","versions":{"firmware","edge_config",
  //! "models":{name: version}},"ts"}.
  std::string StateJson() const;

  //! Sends the outbox (unsent final statuses) and then `state` (retained). Call on connect.
  Status PublishState();

  //! The `bench` JSON for a model benchmark (the caller publishes it with `publish`).
  std::string BenchJson(const std::string& model, const std::string& model_version,
                        double p50_us, double p99_us, size_t samples) const;

  //! Where the committed artifact of kind/name lives ("" when none).
  std::string CurrentFile(const std::string& kind, const std::string& name) const;

 private:
  explicit OtaAgent(Options options);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::fleet

#endif  // WEFT_FLEET_DEVICE_OTA_AGENT_H_
