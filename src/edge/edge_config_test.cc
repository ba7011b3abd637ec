#include "edge/edge_config.h"

#include <gtest/gtest.h>

namespace weft::edge {
namespace {

constexpr char kMinimal[] = R"(weft_edge: 1
id: edge-lyon
plant: ../examples/plant.yaml
broker: {url: "mqtt://127.0.0.1:1883"}
)";

TEST(EdgeConfig, MinimalFileGetsDefaults) {
  Diagnostics diags;
  auto c = ParseEdgeConfig(kMinimal, "/etc/weft/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.id, "edge-lyon");
  EXPECT_EQ(c->config.plant_path, "/etc/examples/plant.yaml");
  EXPECT_EQ(c->config.client_id, "weft-edge-edge-lyon");
  EXPECT_EQ(c->config.uplink.dir, "/etc/weft/buffer-edge-lyon");
  EXPECT_EQ(c->config.uplink.max_bytes, uint64_t{256} << 20);
  EXPECT_EQ(c->config.uplink.fsync, uplink::FsyncPolicy::kEveryAppend);
  EXPECT_TRUE(c->config.sources.sparkplug);
  EXPECT_FALSE(c->pipeline.has_value());
  EXPECT_TRUE(c->config.uplink.ack_by_core) << "a batch waits for the core's commit by default";
  EXPECT_EQ(c->config.firmware.rfind("weft-edge ", 0), 0u) << c->config.firmware;
}

TEST(EdgeConfig, FirmwareAndAckAreRead) {
  std::string yaml =
      std::string(kMinimal) +
      "firmware: gw-2.4.1\nuplink: {ack: broker, uncommitted: 64, resend_after: 5s}\n";
  Diagnostics diags;
  auto c = ParseEdgeConfig(yaml, "/etc/weft/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.firmware, "gw-2.4.1");
  EXPECT_FALSE(c->config.uplink.ack_by_core);
  EXPECT_EQ(c->config.uplink.uncommitted, 64u);
  EXPECT_EQ(c->config.uplink.resend_after, std::chrono::seconds(5));
  auto bad =
      ParseEdgeConfig(std::string(kMinimal) + "uplink: {ack: sometimes}\n", "e.yaml", &diags);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("uplink.ack"), std::string::npos) << bad.status().message();
}

TEST(EdgeConfig, EverySectionIsRead) {
  std::string yaml = std::string(kMinimal) + R"(scope: [lyon, brno]
sources:
  sparkplug: {host_id: host-1}
  json: {enabled: false}
  modbus: {timeout: 250ms, endpoints: {"10.20.0.31:502": "127.0.0.1:15020"}}
uplink: {topic: plant/up, dir: /var/buf, max_bytes: 64MiB, fsync: interval, fsync_interval: 2s,
         batch: {max_samples: 100, max_interval: 200ms}, zstd_level: 3, inflight: 8}
http: {listen: "127.0.0.1:0"}
pipeline: {defaults: {deadband: 0}}
)";
  Diagnostics diags;
  auto c = ParseEdgeConfig(yaml, "edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const EdgeConfig& e = c->config;
  EXPECT_EQ(e.scope.ids, (std::vector<std::string>{"lyon", "brno"}));
  EXPECT_EQ(e.sources.host_id, "host-1");
  EXPECT_FALSE(e.sources.json);
  EXPECT_EQ(e.sources.modbus_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(e.sources.modbus_endpoints.at("10.20.0.31:502"), "127.0.0.1:15020");
  EXPECT_EQ(e.uplink.topic, "plant/up");
  EXPECT_EQ(e.uplink.max_bytes, uint64_t{64} << 20);
  EXPECT_EQ(e.uplink.fsync, uplink::FsyncPolicy::kInterval);
  EXPECT_EQ(e.uplink.fsync_interval, std::chrono::seconds(2));
  EXPECT_EQ(e.uplink.batch_max_samples, 100u);
  EXPECT_EQ(e.uplink.batch_max_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(e.uplink.zstd_level, 3);
  EXPECT_EQ(e.uplink.inflight, 8u);
  EXPECT_EQ(e.http_listen, "127.0.0.1:0");
  EXPECT_TRUE(c->pipeline.has_value());
}

TEST(EdgeConfig, TlsPathsResolveAndMustMatchTheScheme) {
  Diagnostics diags;
  auto c = ParseEdgeConfig(R"(weft_edge: 1
id: e1
plant: p.yaml
broker: {url: "mqtts://broker:8883", tls: {ca: pki/ca.pem, cert: pki/e1.pem, key: pki/e1.key}}
)",
                           "/srv/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->config.tls.has_value());
  EXPECT_EQ(c->config.tls->ca_file, "/srv/pki/ca.pem");
  EXPECT_EQ(c->config.tls->key_file, "/srv/pki/e1.key");

  Diagnostics d2;
  auto bad = ParseEdgeConfig(R"(weft_edge: 1
id: e1
plant: p.yaml
broker: {url: "mqtts://broker:8883"}
)",
                             "edge.yaml", &d2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("tls"), std::string::npos) << bad.status().message();
}

TEST(EdgeConfig, EveryProblemIsReportedWithItsPlace) {
  Diagnostics diags;
  auto c = ParseEdgeConfig(R"(weft_edge: 1
id: "bad id!"
plant: p.yaml
broker: {url: "http://x"}
uplink: {max_bytes: lots, fsync: sometimes, inflght: 3}
http: {listen: nowhere}
)",
                           "edge.yaml", &diags);
  ASSERT_FALSE(c.ok());
  std::string m = diags.ToString();
  for (const char* want : {"edge.yaml:2", "mqtt://", "edge.yaml:5", "max_bytes", "fsync", "inflght",
                           "did you mean", "edge.yaml:6"}) {
    EXPECT_NE(m.find(want), std::string::npos) << want << " in:\n" << m;
  }
}

TEST(EdgeConfig, UplinkMayGoToAnotherBrokerWithItsOwnTls) {
  Diagnostics diags;
  auto c = ParseEdgeConfig(R"(weft_edge: 1
id: e1
plant: p.yaml
broker: {url: "mqtt://127.0.0.1:1883"}
uplink: {broker: {url: "mqtts://core:8883", tls: {ca: ca.pem, cert: e1.pem, key: e1.key}}}
)",
                           "/srv/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->config.uplink.broker.has_value());
  EXPECT_EQ(c->config.uplink.broker->ToString(), "mqtts://core:8883");
  ASSERT_TRUE(c->config.uplink.tls.has_value());
  EXPECT_EQ(c->config.uplink.tls->cert_file, "/srv/e1.pem");
  EXPECT_FALSE(c->config.tls.has_value()) << "the sources' broker stays plain";

  Diagnostics d2;
  auto bad = ParseEdgeConfig(R"(weft_edge: 1
id: e1
plant: p.yaml
broker: {url: "mqtt://127.0.0.1:1883"}
uplink: {broker: {url: "mqtts://core:8883", client_id: other}}
)",
                             "edge.yaml", &d2);
  ASSERT_FALSE(bad.ok());
  std::string m = d2.ToString();
  EXPECT_NE(m.find("add tls"), std::string::npos) << m;
  EXPECT_NE(m.find("takes no client_id"), std::string::npos) << m;
}

TEST(EdgeConfig, TheControlSectionIsKeptWithItsPlaceForTheRuntime) {
  Diagnostics diags;
  auto none = ParseEdgeConfig(kMinimal, "edge.yaml", &diags);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->control.has_value()) << "no control: section, no loops";

  // The section is read (and checked against the plant) by the runtime, which needs the plant;
  // here it is kept as written, with its place for the diagnostics.
  auto c = ParseEdgeConfig(std::string(kMinimal) + R"(control:
  grant_key: keys/control-grant.pub.pem
  loops: []
)",
                           "/etc/weft/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->control.has_value());
  EXPECT_TRUE(c->control->node.IsMap());
  EXPECT_EQ(c->control->node["grant_key"].as<std::string>(), "keys/control-grant.pub.pem");
  EXPECT_EQ(c->control->loc.file, "/etc/weft/edge.yaml");
  EXPECT_EQ(c->control->loc.line, 6) << "the line of the section's first key (grant_key)";

  // A misspelt section name is still an unknown top-level key, with a suggestion.
  Diagnostics d2;
  auto bad = ParseEdgeConfig(std::string(kMinimal) + "controls: {loops: []}\n", "edge.yaml", &d2);
  ASSERT_FALSE(bad.ok());
  const std::string m = d2.ToString() + bad.status().message();
  EXPECT_NE(m.find("edge.yaml:5"), std::string::npos) << m;
  EXPECT_NE(m.find("control"), std::string::npos) << m;
}

TEST(EdgeConfig, ProvisioningLetsTheCoreNameTheEdgeAndItsBroker) {
  Diagnostics diags;
  auto c = ParseEdgeConfig(R"(weft_edge: 1
plant: p.yaml
provisioning: {core: "https://core.plant:8443", factory_dir: factory}
)",
                           "/etc/weft/edge.yaml", &diags);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->config.provisioning.has_value());
  EXPECT_EQ(c->config.provisioning->core_url, "https://core.plant:8443");
  EXPECT_EQ(c->config.provisioning->factory_dir, "/etc/weft/factory");
  EXPECT_EQ(c->config.provisioning->state_dir, "/etc/weft/state");
  EXPECT_TRUE(c->config.id.empty());

  mqtt::TlsOptions tls{.ca_file = "/s/ca.pem", .cert_file = "/s/d.pem", .key_file = "/s/d.key",
                       .verify_hostname = true};
  EdgeConfig e = c->config;
  ASSERT_TRUE(AdoptDeviceIdentity(&e, "dev-0001", "mqtts://broker.plant:8883", tls).ok());
  EXPECT_EQ(e.id, "dev-0001");
  EXPECT_EQ(e.broker.ToString(), "mqtts://broker.plant:8883");
  ASSERT_TRUE(e.tls.has_value());
  EXPECT_EQ(e.tls->cert_file, "/s/d.pem");
  EXPECT_EQ(e.client_id, "weft-edge-dev-0001");
  EXPECT_EQ(e.uplink.dir, "/etc/weft/buffer-dev-0001");

  // An id in the file must be the device's.
  auto named = ParseEdgeConfig(std::string(kMinimal) +
                                   "provisioning: {core: \"https://c:1\", factory_dir: f, "
                                   "state_dir: /var/lib/weft}\n",
                               "/etc/weft/edge.yaml", &diags);
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->config.provisioning->state_dir, "/var/lib/weft");
  EdgeConfig n = named->config;
  Status s = AdoptDeviceIdentity(&n, "dev-0001", "mqtts://b:8883", tls);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("dev-0001"), std::string::npos) << s.ToString();
  EXPECT_TRUE(AdoptDeviceIdentity(&n, "edge-lyon", "mqtts://b:8883", tls).ok());
  EXPECT_FALSE(AdoptDeviceIdentity(&n, "edge-lyon", "mqtt://b:1883", tls).ok());
}

TEST(EdgeConfig, ProvisioningProblemsNameTheirPlace) {
  Diagnostics diags;
  auto c = ParseEdgeConfig(R"(weft_edge: 1
plant: p.yaml
provisioning:
  core: "http://core:80"
  factry_dir: f
)",
                           "edge.yaml", &diags);
  ASSERT_FALSE(c.ok());
  std::string m = diags.ToString();
  for (const char* want : {"edge.yaml:4:", "https://HOST:PORT", "edge.yaml:5:", "factry_dir",
                           "factory_dir"}) {
    EXPECT_NE(m.find(want), std::string::npos) << want << " in:\n" << m;
  }
  // Without provisioning, id and broker stay required.
  Diagnostics d2;
  auto plain = ParseEdgeConfig("weft_edge: 1\nplant: p.yaml\n", "edge.yaml", &d2);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(d2.ToString().find("id"), std::string::npos) << d2.ToString();
  EXPECT_NE(d2.ToString().find("broker"), std::string::npos) << d2.ToString();
  // A hand-configured tls broker means no provisioning: then the id must be given.
  Diagnostics d3;
  auto tls_no_id = ParseEdgeConfig(R"(weft_edge: 1
plant: p.yaml
broker: {url: "mqtts://b:8883", tls: {ca: ca.pem}}
provisioning: {core: "https://c:1", factory_dir: f}
)",
                                   "edge.yaml", &d3);
  ASSERT_FALSE(tls_no_id.ok());
  EXPECT_NE(d3.ToString().find("edge.yaml:4:"), std::string::npos) << d3.ToString();
  EXPECT_NE(d3.ToString().find("id is required"), std::string::npos) << d3.ToString();
}

TEST(EdgeConfig, ByteSizes) {
  EXPECT_EQ(ParseByteSize("4096"), 4096u);
  EXPECT_EQ(ParseByteSize("2MiB"), 2u << 20);
  EXPECT_EQ(ParseByteSize("1 GB"), 1000'000'000u);
  EXPECT_FALSE(ParseByteSize("MiB").has_value());
  EXPECT_FALSE(ParseByteSize("3 parsecs").has_value());
  EXPECT_FALSE(ParseByteSize("99999999999999999999TiB").has_value());
}

}  // namespace
}  // namespace weft::edge
