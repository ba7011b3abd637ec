#include "sim/json_publisher.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <map>

namespace weft::sim {

Result<std::unique_ptr<JsonPublisher>> JsonPublisher::Create(const Simulator& sim,
                                                             const mqtt::BrokerAddress& broker) {
  std::unique_ptr<JsonPublisher> p(new JsonPublisher());
  std::map<std::string, int> asset_index;
  p->routes_.resize(sim.signals().size());
  for (size_t i = 0; i < sim.signals().size(); ++i) {
    const SimSignal& s = sim.signals()[i];
    if (s.signal->protocol != model::Protocol::kMqttJson) continue;
    auto [it, inserted] = asset_index.emplace(s.asset->id, static_cast<int>(p->topics_.size()));
    if (inserted) {
      p->topics_.push_back(s.asset->connection.mqtt->topic);
      p->asset_ids_.push_back(s.asset->id);
    }
    Route& r = p->routes_[i];
    r.asset = it->second;
    r.field = s.signal->spec.source.mqtt ? s.signal->spec.source.mqtt->field : s.signal->spec.name;
    r.boolean = s.signal->spec.type == model::DataType::kBool;
  }
  p->bodies_.resize(p->topics_.size());
  if (p->topics_.empty()) return p;
  mqtt::ClientOptions options;
  options.client_id = "weft-sim-json";
  options.network_thread = false;  // driven by the simulation thread (Poll each tick)
  WEFT_ASSIGN_OR_RETURN(p->client_,
                        mqtt::Client::Connect(broker, options, std::chrono::seconds(10)));
  return p;
}

Status JsonPublisher::OnTick(TimePoint now, std::span<const Sample> samples) {
  if (!client_) return Status::Ok();
  for (auto& b : bodies_) b.clear();
  char num[64];
  for (const Sample& s : samples) {
    const Route& r = routes_[s.signal];
    if (r.asset < 0 || !s.sent) continue;
    std::string& body = bodies_[static_cast<size_t>(r.asset)];
    body += body.empty() ? "\"" : ",\"";
    body += r.field;  // field names are plant.yaml ids: no JSON escaping needed
    body += "\":";
    if (r.boolean) {
      body += s.value != 0 ? "true" : "false";
    } else if (!std::isfinite(s.value)) {
      body += "null";  // JSON has no NaN or infinity
    } else {
      auto res = std::to_chars(num, num + sizeof(num), s.value);
      body.append(num, res.ptr);
    }
  }
  client_->Poll(std::chrono::milliseconds(0));
  if (!client_->connected()) {
    return UnavailableError("lost the connection to " + client_->broker().ToString());
  }
  const int64_t ts_ms = UnixMicros(now) / 1000;
  for (size_t a = 0; a < bodies_.size(); ++a) {
    if (bodies_[a].empty()) continue;
    std::string payload = "{\"ts\":" + std::to_string(ts_ms) + ",\"asset\":\"" + asset_ids_[a] +
                          "\",\"values\":{" + bodies_[a] + "}}";
    WEFT_RETURN_IF_ERROR(client_->Publish(topics_[a], payload, 1, false));
    ++messages_;
  }
  return Status::Ok();
}

Status JsonPublisher::Finish() {
  if (!client_) return Status::Ok();
  spdlog::info("sim: published {} messages (JSON, {} assets)", messages_, topics_.size());
  return client_->WaitForAcks(std::chrono::seconds(30));
}

}  // namespace weft::sim
