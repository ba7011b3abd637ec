// EdgeConfig: what edge.yaml says about one edge runtime (weft-edge).
//
//   Diagnostics diags;
//   Result<EdgeConfigFile> cfg = LoadEdgeConfig("deploy/edge.yaml", &diags);
//   // cfg->config: id, plant path, scope, broker, sources, uplink, http
//   // cfg->pipeline / cfg->inference: the raw sections, read once the plant is loaded
//
// The file (paths are relative to the file's own directory):
//
//   weft_edge: 1
//   id: edge-lyon                      # the edge's id: client ids, topics, batch keys
//   plant: ../examples/plant.yaml
//   scope: [lyon]                      # site/area/line/asset ids served (default: all)
//   broker:
//     url: mqtts://broker.plant:8883   # or mqtt://
//     tls: {ca: ca.pem, cert: edge.pem, key: edge.key, verify_hostname: true}
//   sources:
//     sparkplug: {enabled: true, host_id: weft-edge-lyon}
//     json: {enabled: true}
//     modbus: {enabled: true, timeout: 500ms, endpoints: {"10.20.0.31:502": "127.0.0.1:15020"}}
//   uplink:
//     broker: {url: mqtts://core.example:8883, tls: {...}}   # default: the broker above
//     topic: weft/v1/uplink            # batches on <topic>/<id>/<priority>
//     dir: /var/lib/weft-edge/buffer
//     max_bytes: 256MiB
//     fsync: every_batch               # every_batch | interval | never
//     fsync_interval: 1s
//     batch: {max_samples: 5000, max_interval: 1s}
//     zstd_level: 1
//     inflight: 32                     # batches published and not yet acknowledged
//     ack: core                        # core: kept until the core committed it | broker
//     uncommitted: 512                 # batches sent and not yet committed (ack: core)
//     resend_after: 30s                # not acknowledged / committed by then: sent again
//   http: {listen: 127.0.0.1:9464}     # /metrics, /health; port 0 = any free port
//   pipeline: ...                      # see pipeline/README.md
//   inference: ...                     # see inference/README.md
//   control: ...                       # closed loops: see control/core/control_config.h
//   provisioning:                      # zero-touch provisioning (fleet/device/ztp_client.h)
//     core: https://core.plant:8443    # weft-core's API
//     factory_dir: /etc/weft/factory   # factory.pem + factory.key (or claim.token), core-ca.pem
//     state_dir: /var/lib/weft-edge    # identity/ and ota/ (default: <edge.yaml dir>/state)
//
// With `provisioning:`, `id` and `broker` may be left out: when the broker has no `tls:`,
// weft-edge provisions itself at start (or reuses its stored identity), takes the id and the
// mqtts:// broker from the core's answer and connects with the device certificate (an `id` that
// differs from the device id is an error). It also runs the OTA agent (`ota` command).
//
// Every problem is reported with file:line:column and field path, all in one run.
#ifndef WEFT_EDGE_EDGE_CONFIG_H_
#define WEFT_EDGE_EDGE_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "edge/signal_table.h"
#include "edge/uplink/durable_queue.h"
#include "model/yaml_reader.h"
#include "mqtt/client.h"

namespace weft::edge {

struct UplinkConfig {
  //! Where batches go when it is not the sources' broker (e.g. a central broker across the WAN
  //! while the machines publish to a site broker); nullopt = the sources' broker.
  std::optional<mqtt::BrokerAddress> broker;
  std::optional<mqtt::TlsOptions> tls;
  std::string topic = "weft/v1/uplink";
  std::string dir;  //!< default: <edge.yaml dir>/buffer-<id>
  uint64_t max_bytes = uint64_t{256} << 20;
  uplink::FsyncPolicy fsync = uplink::FsyncPolicy::kEveryAppend;
  Micros fsync_interval{std::chrono::seconds(1)};
  uint32_t batch_max_samples = 5000;
  Micros batch_max_interval{std::chrono::seconds(1)};
  int zstd_level = 1;
  uint32_t inflight = 32;
  //! true (`ack: core`): a batch leaves the buffer when the core has committed it; false
  //! (`ack: broker`): when the broker has acknowledged it (an edge without a core).
  bool ack_by_core = true;
  uint32_t uncommitted = 512;  //!< with ack_by_core: batches sent and not yet committed
  Micros resend_after{std::chrono::seconds(30)};  //!< not acknowledged/committed: send again
};

struct SourcesConfig {
  bool sparkplug = true;
  std::string host_id;  //!< default: weft-edge-<id>
  bool json = true;
  bool modbus = true;
  Micros modbus_timeout{std::chrono::milliseconds(500)};
  //! Plant address "host:port" -> where to reach it, "host:port".
  std::map<std::string, std::string> modbus_endpoints;
};

//! The `provisioning:` section: where the core is and where the device's files are.
struct ProvisioningConfig {
  std::string core_url;     //!< https://host:port
  std::string factory_dir;  //!< resolved against the file's directory
  std::string state_dir;    //!< default: <edge.yaml dir>/state; identity/ and ota/ under it
};

struct EdgeConfig {
  std::string file;  //!< edge.yaml as given
  std::string id;
  std::string plant_path;  //!< resolved against the file's directory
  EdgeScope scope;
  mqtt::BrokerAddress broker;
  std::string client_id;  //!< default: weft-edge-<id>
  std::optional<mqtt::TlsOptions> tls;
  SourcesConfig sources;
  UplinkConfig uplink;
  std::string http_listen = "127.0.0.1:9464";
  //! Topic prefix of commands from the core: <commands>/<id>/{reload,deploy,rebirth}.
  std::string commands_topic = "weft/v1/edge";
  //! The device's firmware version, reported with every batch (the core catalogues it);
  //! default: this weft-edge's own version.
  std::string firmware;
  //! Zero-touch provisioning and OTA; nullopt = a hand-configured edge.
  std::optional<ProvisioningConfig> provisioning;
};

//! A parsed edge.yaml: the settings, and the sections that need the plant to be read.
struct EdgeConfigFile {
  EdgeConfig config;
  std::optional<model::YamlValue> pipeline;
  std::optional<model::YamlValue> inference;
  //! The `control:` section (closed loops, issue 8), read once the plant is loaded.
  std::optional<model::YamlValue> control;
  //! Keeps the reader (file name, diagnostics sink) for the sections' second phase.
  std::string text;
};

Result<EdgeConfigFile> LoadEdgeConfig(const std::string& path, Diagnostics* diags);
Result<EdgeConfigFile> ParseEdgeConfig(std::string_view yaml, const std::string& file,
                                       Diagnostics* diags);

//! Applies a provisioned identity to a configuration with a `provisioning:` section: the id
//! (FailedPrecondition when the file names another one), the broker (mqtts:// with the device
//! certificate `tls`), and the defaults derived from the id (client id, Sparkplug host id,
//! uplink dir). The uplink broker, when the file names one, is left as configured.
Status AdoptDeviceIdentity(EdgeConfig* c, const std::string& device_id,
                           const std::string& broker_url, const mqtt::TlsOptions& tls);

//! "256MiB", "1GB", "4096" -> bytes; nullopt when it is not a size.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace weft::edge

#endif  // WEFT_EDGE_EDGE_CONFIG_H_
