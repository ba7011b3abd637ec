#include "edge/signal_table.h"

#include <algorithm>
#include <atomic>
#include <set>

namespace weft::edge {

const std::map<std::string, std::string>& SignalInfo::tags() const {
  static const std::map<std::string, std::string> kNone;
  return asset_model != nullptr ? asset_model->tags : kNone;
}

uint64_t SignalTable::Key(std::initializer_list<std::string_view> parts) {
  uint64_t h = 14695981039346656037ull;
  for (std::string_view p : parts) {
    for (char c : p) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    h ^= 0x1f;  // a separator that ids, topics and metric names do not contain
    h *= 1099511628211ull;
  }
  return h;
}

template <typename Match>
std::optional<SignalId> SignalTable::Lookup(
    const std::unordered_multimap<uint64_t, SignalId>& index, uint64_t key, Match match) const {
  auto [begin, end] = index.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    if (match(signals_[it->second])) return it->second;
  }
  return std::nullopt;
}

Result<SignalTable> SignalTable::FromPlant(const model::Plant& plant, const EdgeScope& scope) {
  std::set<std::string, std::less<>> wanted(scope.ids.begin(), scope.ids.end());
  std::set<std::string, std::less<>> matched;
  auto in_scope = [&](const model::Asset& a) {
    if (wanted.empty()) return true;
    bool hit = false;
    for (const std::string* id : {&a.site, &a.area, &a.line, &a.id}) {
      if (wanted.count(*id) != 0) {
        matched.insert(*id);
        hit = true;
      }
    }
    return hit;
  };
  static std::atomic<uint64_t> epochs{0};
  SignalTable t;
  t.plant_ = &plant;
  t.epoch_ = ++epochs;
  t.signals_.reserve(plant.SignalCount());  // an upper bound; SignalInfo is large
  for (const model::Asset* a : plant.AllAssets()) {
    if (!in_scope(*a)) continue;
    std::vector<SignalId>& of_asset = t.by_asset_[a->id];
    for (const model::Signal& s : a->signals) {
      SignalInfo info;
      info.id = static_cast<SignalId>(t.signals_.size());
      info.site = a->site;
      info.area = a->area;
      info.line = a->line;
      info.asset = a->id;
      info.asset_type = a->type;
      info.signal = s.spec.name;
      info.unit = s.spec.unit;
      info.quantity = s.spec.quantity;
      info.type = s.spec.type;
      info.min = s.spec.min;
      info.max = s.spec.max;
      info.period = s.spec.period;
      info.protocol = s.protocol;
      info.address = s.address;
      info.asset_model = a;
      info.signal_model = &s;
      t.by_asset_signal_.emplace(Key({a->id, s.spec.name}), info.id);
      if (s.protocol == model::Protocol::kSparkplugB && a->connection.sparkplug &&
          s.spec.source.sparkplug) {
        const model::SparkplugEndpoint& ep = *a->connection.sparkplug;
        t.by_sparkplug_.emplace(
            Key({ep.group_id, ep.edge_node_id, ep.device_id, s.spec.source.sparkplug->metric}),
            info.id);
      }
      if (s.protocol == model::Protocol::kMqttJson && a->connection.mqtt && s.spec.source.mqtt) {
        t.by_json_.emplace(Key({a->connection.mqtt->topic, s.spec.source.mqtt->field}), info.id);
      }
      of_asset.push_back(info.id);
      t.signals_.push_back(std::move(info));
    }
  }
  for (const std::string& id : wanted) {
    if (matched.count(id) == 0) {
      return NotFoundError("edge scope: '" + id +
                           "' is not a site, area, line or asset id of the plant in '" +
                           plant.file + "'");
    }
  }
  t.signals_.shrink_to_fit();
  for (auto* index : {&t.by_asset_signal_, &t.by_sparkplug_, &t.by_json_}) index->rehash(0);
  if (t.signals_.empty()) {
    return InvalidArgumentError("edge scope: no signal of the plant in '" + plant.file +
                                "' is in scope; list site, area, line or asset ids");
  }
  return t;
}

std::optional<SignalId> SignalTable::Find(std::string_view asset, std::string_view signal) const {
  return Lookup(by_asset_signal_, Key({asset, signal}),
                [&](const SignalInfo& s) { return s.asset == asset && s.signal == signal; });
}

std::optional<SignalId> SignalTable::FindSparkplug(std::string_view group, std::string_view node,
                                                   std::string_view device,
                                                   std::string_view metric) const {
  return Lookup(by_sparkplug_, Key({group, node, device, metric}), [&](const SignalInfo& s) {
    const model::SparkplugEndpoint& ep = *s.asset_model->connection.sparkplug;
    return ep.group_id == group && ep.edge_node_id == node && ep.device_id == device &&
           s.signal_model->spec.source.sparkplug->metric == metric;
  });
}

std::optional<SignalId> SignalTable::FindJson(std::string_view topic,
                                              std::string_view field) const {
  return Lookup(by_json_, Key({topic, field}), [&](const SignalInfo& s) {
    return s.asset_model->connection.mqtt->topic == topic &&
           s.signal_model->spec.source.mqtt->field == field;
  });
}

const std::vector<SignalId>* SignalTable::AssetSignals(std::string_view asset) const {
  auto it = by_asset_.find(asset);
  return it == by_asset_.end() ? nullptr : &it->second;
}

std::vector<std::string> SignalTable::JsonTopics() const {
  std::set<std::string> topics;
  for (const SignalInfo& s : signals_) {
    if (s.protocol == model::Protocol::kMqttJson && s.asset_model->connection.mqtt) {
      topics.insert(s.asset_model->connection.mqtt->topic);
    }
  }
  return {topics.begin(), topics.end()};
}

std::vector<std::pair<std::string, std::string>> SignalTable::SparkplugNodes() const {
  std::set<std::pair<std::string, std::string>> nodes;
  for (const SignalInfo& s : signals_) {
    if (s.protocol == model::Protocol::kSparkplugB && s.asset_model->connection.sparkplug) {
      const model::SparkplugEndpoint& ep = *s.asset_model->connection.sparkplug;
      nodes.emplace(ep.group_id, ep.edge_node_id);
    }
  }
  return {nodes.begin(), nodes.end()};
}

}  // namespace weft::edge
