#include "edge/edge_config.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace weft::edge {
namespace {

using model::YamlFields;
using model::YamlReader;
using model::YamlValue;
namespace ye = model::yaml_error;

constexpr size_t kMaxConfigBytes = size_t{4} << 20;

std::string Resolve(const std::string& file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::filesystem::path dir = std::filesystem::path(file).parent_path();
  return (dir / path).lexically_normal().string();
}

bool ValidHostPort(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  unsigned port = 0;
  std::string_view p = s.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  return ec == std::errc() && end == p.data() + p.size() && port <= 65535;
}

// broker: {url, client_id, tls: {ca, cert, key, verify_hostname}}
void ParseBroker(YamlReader& r, const YamlValue& v, mqtt::BrokerAddress* address,
                 std::optional<mqtt::TlsOptions>* tls, std::string* client_id) {
  YamlFields f = r.OpenMap(v, {"url", "client_id", "tls"});
  if (!f.ok()) return;
  if (auto url = r.Required(f, "url")) {
    if (auto s = r.Str(*url)) {
      Result<mqtt::BrokerAddress> a = mqtt::BrokerAddress::Parse(*s);
      if (a.ok()) {
        *address = *a;
      } else {
        r.Err(ye::kInvalidValue, *url, a.status().message());
      }
    }
  }
  if (auto id = f.Get("client_id")) {
    if (auto s = r.Str(*id)) *client_id = *s;
  }
  if (auto t_v = f.Get("tls")) {
    YamlFields t = r.OpenMap(*t_v, {"ca", "cert", "key", "verify_hostname"});
    if (t.ok()) {
      mqtt::TlsOptions o;
      if (auto ca = r.Required(t, "ca")) o.ca_file = Resolve(r.file(), r.Str(*ca).value_or(""));
      if (auto cert = t.Get("cert")) o.cert_file = Resolve(r.file(), r.Str(*cert).value_or(""));
      if (auto key = t.Get("key")) o.key_file = Resolve(r.file(), r.Str(*key).value_or(""));
      if (o.cert_file.empty() != o.key_file.empty()) {
        r.Err(ye::kMissingField, *t_v, "a client certificate needs its key: give cert and key");
      }
      if (auto vh = t.Get("verify_hostname")) o.verify_hostname = r.Bool(*vh).value_or(true);
      *tls = o;
    }
  }
  if (address->tls && !tls->has_value()) {
    r.Err(ye::kMissingField, v,
          "broker " + address->ToString() + " is mqtts://: add tls: {ca: ...}");
  }
  if (!address->tls && tls->has_value()) {
    r.Err(ye::kInvalidValue, v, "tls is set but the broker url is not mqtts://");
  }
}

void ParseSources(YamlReader& r, const YamlValue& v, SourcesConfig* s) {
  YamlFields f = r.OpenMap(v, {"sparkplug", "json", "modbus"});
  if (!f.ok()) return;
  if (auto sp = f.Get("sparkplug")) {
    YamlFields g = r.OpenMap(*sp, {"enabled", "host_id"});
    if (auto e = g.Get("enabled")) s->sparkplug = r.Bool(*e).value_or(true);
    if (auto h = g.Get("host_id")) s->host_id = r.Id(*h, "host id").value_or("");
  }
  if (auto js = f.Get("json")) {
    YamlFields g = r.OpenMap(*js, {"enabled"});
    if (auto e = g.Get("enabled")) s->json = r.Bool(*e).value_or(true);
  }
  if (auto mb = f.Get("modbus")) {
    YamlFields g = r.OpenMap(*mb, {"enabled", "timeout", "endpoints"});
    if (auto e = g.Get("enabled")) s->modbus = r.Bool(*e).value_or(true);
    if (auto t = g.Get("timeout")) {
      if (auto d = r.Duration(*t)) s->modbus_timeout = *d;
    }
    if (auto eps = g.Get("endpoints")) {
      YamlFields m = r.OpenMap(*eps, {});
      if (m.ok()) {
        for (const auto& entry : eps->node) {
          std::string from = entry.first.as<std::string>("");
          YamlValue to{entry.second, r.At(entry.second, eps->loc), eps->path + "." + from};
          std::optional<std::string> target = r.Str(to);
          if (!target) continue;
          if (!ValidHostPort(from) || !ValidHostPort(*target)) {
            r.Err(ye::kInvalidValue, to,
                  "endpoints map \"host:port\" of the plant to \"host:port\" to reach; got " +
                      model::Quote(from) + ": " + model::Quote(*target));
            continue;
          }
          s->modbus_endpoints[from] = *target;
        }
      }
    }
  }
}

void ParseUplink(YamlReader& r, const YamlValue& v, UplinkConfig* u) {
  YamlFields f = r.OpenMap(v, {"broker", "topic", "dir", "max_bytes", "fsync", "fsync_interval",
                               "batch", "zstd_level", "inflight", "ack", "uncommitted",
                               "resend_after"});
  if (!f.ok()) return;
  if (auto b = f.Get("broker")) {
    mqtt::BrokerAddress address;
    std::string client_id;
    ParseBroker(r, *b, &address, &u->tls, &client_id);
    u->broker = address;
    if (!client_id.empty())
      r.Err(ye::kInvalidValue, *b, "uplink.broker takes no client_id (the edge's is used)");
  }
  if (auto t = f.Get("topic")) {
    if (auto s = r.Str(*t)) {
      if (s->empty() || s->find_first_of("+#") != std::string::npos || s->back() == '/') {
        r.Err(ye::kInvalidValue, *t,
              "uplink topic must be a plain MQTT topic prefix (no + # or trailing /)");
      } else {
        u->topic = *s;
      }
    }
  }
  if (auto d = f.Get("dir")) u->dir = Resolve(r.file(), r.Str(*d).value_or(""));
  if (auto m = f.Get("max_bytes")) {
    std::optional<std::string> s = r.Str(*m);
    std::optional<uint64_t> bytes = s ? ParseByteSize(*s) : std::nullopt;
    if (s && (!bytes || *bytes < (uint64_t{1} << 20))) {
      r.Err(ye::kInvalidValue, *m,
            "max_bytes is a size of at least 1MiB, e.g. 256MiB; got " + model::Quote(*s));
    } else if (bytes) {
      u->max_bytes = *bytes;
    }
  }
  if (auto fs = f.Get("fsync")) {
    std::optional<std::string> s = r.Str(*fs);
    if (s == "every_batch") {
      u->fsync = uplink::FsyncPolicy::kEveryAppend;
    } else if (s == "interval") {
      u->fsync = uplink::FsyncPolicy::kInterval;
    } else if (s == "never") {
      u->fsync = uplink::FsyncPolicy::kNever;
    } else if (s) {
      r.Err(ye::kInvalidValue, *fs,
            "fsync is every_batch, interval or never; got " + model::Quote(*s));
    }
  }
  if (auto fi = f.Get("fsync_interval")) {
    if (auto d = r.Duration(*fi)) u->fsync_interval = *d;
  }
  if (auto b = f.Get("batch")) {
    YamlFields g = r.OpenMap(*b, {"max_samples", "max_interval"});
    if (auto n = g.Get("max_samples")) {
      if (auto i = r.Int(*n, 1, 1'000'000)) u->batch_max_samples = static_cast<uint32_t>(*i);
    }
    if (auto d = g.Get("max_interval")) {
      if (auto dur = r.Duration(*d)) u->batch_max_interval = *dur;
    }
  }
  if (auto z = f.Get("zstd_level")) {
    if (auto i = r.Int(*z, 1, 19)) u->zstd_level = static_cast<int>(*i);
  }
  if (auto n = f.Get("inflight")) {
    if (auto i = r.Int(*n, 1, 10'000)) u->inflight = static_cast<uint32_t>(*i);
  }
  if (auto a = f.Get("ack")) {
    std::optional<std::string> s = r.Str(*a);
    if (s == "core" || s == "broker") {
      u->ack_by_core = *s == "core";
    } else if (s) {
      r.Err(ye::kInvalidValue, *a,
            "ack is core (a batch leaves the buffer when the core has committed it) or broker "
            "(when the broker has it; for edges without a core); got " + model::Quote(*s));
    }
  }
  if (auto n = f.Get("uncommitted")) {
    if (auto i = r.Int(*n, 1, 100'000)) u->uncommitted = static_cast<uint32_t>(*i);
  }
  if (auto d = f.Get("resend_after")) {
    if (auto dur = r.Duration(*d)) u->resend_after = *dur;
  }
}

// provisioning: {core: https://HOST:PORT, factory_dir: DIR, state_dir: DIR}
void ParseProvisioning(YamlReader& r, const YamlValue& v, const std::string& file,
                       std::optional<ProvisioningConfig>* out) {
  YamlFields f = r.OpenMap(v, {"core", "factory_dir", "state_dir"});
  if (!f.ok()) return;
  ProvisioningConfig p;
  if (auto core = r.Required(f, "core")) {
    if (auto s = r.Str(*core)) {
      if (s->rfind("https://", 0) != 0 || s->size() <= 8) {
        r.Err(ye::kInvalidValue, *core,
              "core is weft-core's API as https://HOST:PORT; got " + model::Quote(*s));
      } else {
        p.core_url = *s;
      }
    }
  }
  if (auto d = r.Required(f, "factory_dir")) {
    if (auto s = r.Str(*d)) p.factory_dir = Resolve(file, *s);
  }
  p.state_dir = Resolve(file, "state");
  if (auto d = f.Get("state_dir")) {
    if (auto s = r.Str(*d)) p.state_dir = Resolve(file, *s);
  }
  *out = p;
}

void FillIdDefaults(EdgeConfig* c) {
  if (c->client_id.empty()) c->client_id = "weft-edge-" + c->id;
  if (c->sources.host_id.empty()) c->sources.host_id = "weft-edge-" + c->id;
  if (c->uplink.dir.empty()) c->uplink.dir = Resolve(c->file, "buffer-" + c->id);
}

}  // namespace

Status AdoptDeviceIdentity(EdgeConfig* c, const std::string& device_id,
                           const std::string& broker_url, const mqtt::TlsOptions& tls) {
  if (!c->id.empty() && c->id != device_id) {
    return FailedPreconditionError(c->file + ": id '" + c->id + "' is not the provisioned device id '" +
                                   device_id + "' (leave id out, or make it the device id)");
  }
  WEFT_ASSIGN_OR_RETURN(mqtt::BrokerAddress broker, mqtt::BrokerAddress::Parse(broker_url));
  if (!broker.tls) {
    return FailedPreconditionError("the core's broker url " + broker_url + " is not mqtts://");
  }
  c->id = device_id;
  c->broker = broker;
  c->tls = tls;
  FillIdDefaults(c);
  return Status::Ok();
}

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data()) return std::nullopt;
  std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {{"", 1},
                                                                     {"B", 1},
                                                                     {"KiB", 1ull << 10},
                                                                     {"MiB", 1ull << 20},
                                                                     {"GiB", 1ull << 30},
                                                                     {"TiB", 1ull << 40},
                                                                     {"KB", 1000},
                                                                     {"kB", 1000},
                                                                     {"MB", 1000'000},
                                                                     {"GB", 1000'000'000},
                                                                     {"TB", 1000'000'000'000}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      if (n > UINT64_MAX / mult) return std::nullopt;
      return n * mult;
    }
  }
  return std::nullopt;
}

Result<EdgeConfigFile> ParseEdgeConfig(std::string_view yaml, const std::string& file,
                                       Diagnostics* diags) {
  YamlReader r(file, diags);
  std::optional<YamlValue> root = r.ParseDocument(yaml, kMaxConfigBytes);
  if (!root) return diags->ToStatus(file);
  EdgeConfigFile out;
  EdgeConfig& c = out.config;
  c.file = file;
  YamlFields top = r.OpenMap(*root, {"weft_edge", "id", "plant", "scope", "broker", "sources",
                                     "uplink", "http", "commands_topic", "pipeline", "inference",
                                     "firmware", "control", "provisioning"});
  if (!top.ok()) return diags->ToStatus(file);
  if (auto v = r.Required(top, "weft_edge")) {
    (void)r.Int(*v, 1, 1);  // the only version so far
  }
  if (auto v = top.Get("provisioning")) ParseProvisioning(r, *v, file, &c.provisioning);
  // A provisioned edge learns its id and its broker from the core.
  const bool provisioned = c.provisioning.has_value();
  if (auto v = provisioned ? top.Get("id") : r.Required(top, "id")) {
    c.id = r.Id(*v, "edge id").value_or("");
  }
  if (auto v = r.Required(top, "plant")) c.plant_path = Resolve(file, r.Str(*v).value_or(""));
  if (auto v = top.Get("scope")) {
    if (auto ids = r.StrList(*v)) c.scope.ids = *ids;
  }
  if (auto v = provisioned ? top.Get("broker") : r.Required(top, "broker")) {
    ParseBroker(r, *v, &c.broker, &c.tls, &c.client_id);
  }
  if (provisioned && c.tls.has_value() && c.id.empty()) {
    // The broker's tls is configured by hand: nothing is provisioned, so nothing names the edge.
    r.Err(ye::kMissingField, *top.Get("provisioning"),
          "id is required when broker.tls is configured (weft-edge then does not provision "
          "itself, and takes its id from the file)");
  }
  if (auto v = top.Get("sources")) ParseSources(r, *v, &c.sources);
  if (auto v = top.Get("uplink")) ParseUplink(r, *v, &c.uplink);
  if (auto v = top.Get("http")) {
    YamlFields h = r.OpenMap(*v, {"listen"});
    if (auto l = h.Get("listen")) {
      std::optional<std::string> s = r.Str(*l);
      if (s && !ValidHostPort(*s)) {
        r.Err(ye::kInvalidValue, *l,
              "listen is host:port, e.g. 127.0.0.1:9464; got " + model::Quote(*s));
      } else if (s) {
        c.http_listen = *s;
      }
    }
  }
  if (auto v = top.Get("commands_topic")) c.commands_topic = r.Str(*v).value_or(c.commands_topic);
  c.firmware = "weft-edge " WEFT_VERSION;
  if (auto v = top.Get("firmware")) c.firmware = r.Str(*v).value_or(c.firmware);
  out.pipeline = top.Get("pipeline");
  out.inference = top.Get("inference");
  out.control = top.Get("control");
  if (diags->has_errors()) return diags->ToStatus(file);
  if (!c.id.empty()) FillIdDefaults(&c);
  out.text = std::string(yaml);
  return out;
}

Result<EdgeConfigFile> LoadEdgeConfig(const std::string& path, Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read edge configuration '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseEdgeConfig(ss.str(), path, diags);
}

}  // namespace weft::edge
