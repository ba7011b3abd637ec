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
  MqttOutbox::Connection c;
  c.broker = broker;
  c.options.client_id = "weft-sim-json";
  WEFT_ASSIGN_OR_RETURN(p->outbox_, MqttOutbox::Start(std::move(c), /*reconnect=*/false));
  return p;
}

Status JsonPublisher::OnTick(TimePoint now, std::span<const Sample> samples) {
  if (!outbox_) return Status::Ok();
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
  const int64_t ts_ms = UnixMicros(now) / 1000;
  auto ts = std::to_chars(num, num + sizeof(num), ts_ms);
  for (size_t a = 0; a < bodies_.size(); ++a) {
    if (bodies_[a].empty()) continue;
    payload_.assign("{\"ts\":");
    payload_.append(num, ts.ptr);
    payload_ += ",\"asset\":\"";
    payload_ += asset_ids_[a];
    payload_ += "\",\"values\":{";
    payload_ += bodies_[a];
    payload_ += "}}";
    outbox_->Add(topics_[a], payload_, 1, false);
  }
  // The tick's messages go to the publishing thread in one hand-over (a lost connection comes
  // back from here as Unavailable).
  return outbox_->Flush();
}

uint64_t JsonPublisher::messages() const {
  return outbox_ ? outbox_->published() : 0;
}

Status JsonPublisher::Finish() {
  if (!outbox_) return Status::Ok();
  Status st = outbox_->Close(std::chrono::seconds(30));
  spdlog::info("sim: published {} messages (JSON, {} assets)", messages(), topics_.size());
  return st;
}

}  // namespace weft::sim
