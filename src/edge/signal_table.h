// SignalTable: the signals one edge serves, each with the context the plant model gives it.
//
//   WEFT_ASSIGN_OR_RETURN(SignalTable table, SignalTable::FromPlant(plant, scope));
//   std::optional<SignalId> id = table.FindSparkplug("lyon", "edge-l1", "l1-sp-01",
//   "winding_temp"); const SignalInfo& info = table.at(*id);      // site, line, asset, type, unit,
//   range, tags
//
// Built once from plant.yaml (model::Plant) and the edge's scope; a reload builds a new table.
// Ids are dense (0 .. size()-1) in plant order, so per-signal state can live in vectors.
//
// Thread-safety: immutable after construction; share it read-only (e.g. std::shared_ptr<const>).
#ifndef WEFT_EDGE_SIGNAL_TABLE_H_
#define WEFT_EDGE_SIGNAL_TABLE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "edge/sample.h"
#include "model/plant.h"

namespace weft::edge {

//! A signal with its context: everything enrichment adds to a sample. The strings are views
//! into the Plant the table was built from (which outlives it): a 5,000-signal edge holds one
//! copy of its context, the plant's.
struct SignalInfo {
  SignalId id = 0;
  std::string_view site, area, line, asset, asset_type;
  std::string_view signal;  //!< signal name within the asset
  std::string_view unit, quantity;
  model::DataType type = model::DataType::kFloat64;
  std::optional<double> min, max;  //!< valid range, inclusive
  Micros period{0};                //!< nominal sampling period
  model::Protocol protocol = model::Protocol::kSparkplugB;
  std::string_view address;                   //!< human-readable source, as model::Signal::address
  const model::Asset* asset_model = nullptr;  //!< into the Plant the table was built from
  const model::Signal* signal_model = nullptr;  //!< idem (holds the protocol binding)

  //! The asset's free metadata (none without an asset_model).
  const std::map<std::string, std::string>& tags() const;
};

//! Which assets an edge serves: every listed id (site, area, line or asset) selects what is
//! below it; empty = the whole plant.
struct EdgeScope {
  std::vector<std::string> ids;
};

class SignalTable {
 public:
  //! NotFound when a scope id names nothing in the plant; InvalidArgument when the scope holds no
  //! signal. `plant` must outlive the table.
  static Result<SignalTable> FromPlant(const model::Plant& plant, const EdgeScope& scope);

  size_t size() const { return signals_.size(); }
  const SignalInfo& at(SignalId id) const { return signals_[id]; }
  const std::vector<SignalInfo>& signals() const { return signals_; }
  const model::Plant& plant() const { return *plant_; }
  //! Distinct for every table FromPlant builds (copies share it: they hold the same signals), so
  //! a cache of per-signal data can tell that the table it was made from was replaced.
  uint64_t epoch() const { return epoch_; }

  std::optional<SignalId> Find(std::string_view asset, std::string_view signal) const;
  //! A Sparkplug metric of a device ("" = the node's own metrics).
  std::optional<SignalId> FindSparkplug(std::string_view group, std::string_view node,
                                        std::string_view device, std::string_view metric) const;
  //! A field (dotted path) of the JSON documents published on `topic`.
  std::optional<SignalId> FindJson(std::string_view topic, std::string_view field) const;
  //! The signals of each asset, in template order, by asset id.
  const std::vector<SignalId>* AssetSignals(std::string_view asset) const;
  //! The distinct JSON topics and Sparkplug (group, node) pairs the table's signals come from.
  std::vector<std::string> JsonTopics() const;
  std::vector<std::pair<std::string, std::string>> SparkplugNodes() const;

 private:
  //! A 64-bit hash of the parts (FNV-1a, with a separator): the indexes keep hashes, not the
  //! strings (the table of a 5,000-signal edge stays small); lookups verify the candidates.
  static uint64_t Key(std::initializer_list<std::string_view> parts);
  template <typename Match>
  std::optional<SignalId> Lookup(const std::unordered_multimap<uint64_t, SignalId>& index,
                                 uint64_t key, Match match) const;

  const model::Plant* plant_ = nullptr;
  uint64_t epoch_ = 0;
  std::vector<SignalInfo> signals_;
  std::unordered_multimap<uint64_t, SignalId> by_asset_signal_, by_sparkplug_, by_json_;
  std::map<std::string, std::vector<SignalId>, std::less<>> by_asset_;
};

}  // namespace weft::edge

#endif  // WEFT_EDGE_SIGNAL_TABLE_H_
