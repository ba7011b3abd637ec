// Catalog: every lake table, column, signal and model the core knows, with tags assigned on
// ingest and by declarative rules (tag_rules.h), lineage, and tag queries. Stored in SQLite.
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Catalog> cat, Catalog::Open("catalog.db", &clock));
//   WEFT_RETURN_IF_ERROR(cat->SetRules(rules));                     // from tag_rules.yaml
//   WEFT_RETURN_IF_ERROR(cat->RegisterTable({.name = "telemetry", .location = path, ...}));
//   WEFT_RETURN_IF_ERROR(cat->Observe(signal));                     // per batch context
//   WEFT_ASSIGN_OR_RETURN(auto hits, cat->FindSignals({{"sensitivity", "restricted"},
//                                                      {"asset_type", "motor"}}));
//   WEFT_ASSIGN_OR_RETURN(auto tags, cat->SignalTags("l1-sp-01", "current"));  // access control
//
// Tags. Each tag is (entity, key, value, source) where source is "ingest" (from the signal's
// context or the table registration), "rule:<name>" (a tag rule) or "manual" (SetTag). An entity
// may hold the same key from several sources; its effective value is the one from the highest
// source: manual > ingest > rule. So a per-asset declaration in plant.yaml (e.g. sensitivity:
// restricted) is never lowered by a catch-all rule, and a person can always correct a tag.
// Automatic tags of a signal: site, area, line, asset, asset_type, signal, unit, quantity,
// protocol, edge, firmware (when known) and the asset's free tags as they are (a free tag named
// like one of the former is dropped). A model gets model and model_version.
//
// Observe is the ingest's hot path: a signal whose context, edge and firmware are unchanged is
// answered from memory (a 64-bit fingerprint per signal) without touching SQLite, except to move
// its last_seen forward at most once per `last_seen_resolution`. stats() counts the writes.
//
// Rules are configuration, not stored: call SetRules after Open. SetRules re-tags every signal
// in one transaction, unless the rules tag exactly as the last rules applied to this database
// did (TagRules::Canonical), which keeps a restart cheap.
//
// Durability: WAL with synchronous=NORMAL: a crash of the process loses nothing committed; a
// power cut may lose the last transactions, which the ingest then observes again (the catalog is
// derived from the data flow). Schema migrations use PRAGMA user_version; a newer database is
// refused.
//
// Thread-safety: every method is safe from several threads (one connection behind a mutex).
// Several processes may open the same file: reads see their writes, but each process's Observe
// cache knows only its own writes (one process, weft-core's ingest, should be the writer).
#ifndef WEFT_CORE_CATALOG_CATALOG_H_
#define WEFT_CORE_CATALOG_CATALOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/catalog/tag_rules.h"

struct sqlite3;

namespace weft::core::catalog {

enum class EntityKind { kTable, kColumn, kSignal, kModel, kView };
//! "table", "column", "signal", "model", "view".
std::string_view EntityKindName(EntityKind kind);
Result<EntityKind> ParseEntityKind(std::string_view name);

//! A catalogued thing. Keys: a table or view by name ("telemetry"), a column as
//! "<table>.<column>", a signal as "<asset>/<signal>", a model as "<name>@<version>".
struct EntityRef {
  EntityKind kind = EntityKind::kSignal;
  std::string key{};
  friend bool operator==(const EntityRef&, const EntityRef&) = default;
};
EntityRef TableRef(std::string_view table);
EntityRef ColumnRef(std::string_view table, std::string_view column);
EntityRef SignalRef(std::string_view asset, std::string_view signal);
EntityRef ModelRef(std::string_view name, std::string_view version);
EntityRef ViewRef(std::string_view view);
//! "signal l1-sp-01/current".
std::string ToString(const EntityRef& ref);

inline constexpr char kSourceIngest[] = "ingest";
inline constexpr char kSourceManual[] = "manual";
inline constexpr char kRuleSourcePrefix[] = "rule:";

struct Tag {
  std::string key{}, value{};
  std::string source{};  //!< "ingest", "rule:<name>" or "manual"
  friend bool operator==(const Tag&, const Tag&) = default;
};

struct ColumnDef {
  std::string name{}, type{}, description{};
};
struct TableDef {
  std::string name{};  //!< 1-128 of A-Z a-z 0-9 _ - (no '.')
  std::string location{};
  std::string description{};
  std::string owner_domain{};        //!< also tagged owner_domain (source ingest) when not empty
  std::vector<ColumnDef> columns{};  //!< in order
};
struct TableRecord {
  std::string name{}, location{}, description{}, owner_domain{};
  TimePoint registered_at{};
};
struct ColumnRecord {
  std::string table{}, name{}, type{}, description{};
  int64_t position = 0;  //!< 0-based order in the table
};
struct SignalRecord {
  std::string site{}, area{}, line{}, asset{}, asset_type{}, signal{};
  std::string unit{}, quantity{}, protocol{}, address{};
  std::string edge{};      //!< the edge it was last seen from
  std::string firmware{};  //!< "" = never reported
  TimePoint first_seen{};
  TimePoint last_seen{};  //!< to within CatalogOptions::last_seen_resolution
};
struct ModelRecord {
  std::string name{}, version{};
  TimePoint first_seen{};
};

//! Data flows from `upstream` to `downstream`, e.g. signal l1-sp-01/current -> table telemetry
//! ("ingested by weft-core from edge edge-l1"), table telemetry -> view motor_health.
struct LineageEdge {
  EntityRef upstream{}, downstream{};
  std::string how{};
  friend bool operator==(const LineageEdge&, const LineageEdge&) = default;
};
enum class LineageDirection { kUpstream, kDownstream, kBoth };

//! One condition of a tag query: the entity's effective tag `key` equals `value`.
struct TagCondition {
  std::string key{}, value{};
};
//! All conditions must hold (AND); empty: everything.
using TagQuery = std::vector<TagCondition>;
//! "sensitivity=restricted,asset_type=motor" -> two conditions. InvalidArgument naming the
//! part when one has no '=' or an invalid key.
Result<TagQuery> ParseTagQuery(std::string_view text);
inline constexpr size_t kMaxTagConditions = 32;

struct CatalogOptions {
  //! last_seen is written at most this often per signal (each write is a SQLite transaction).
  Micros last_seen_resolution = std::chrono::minutes(1);
};

struct CatalogStats {
  uint64_t observe_calls = 0;
  uint64_t observe_unchanged = 0;  //!< answered from the cache without a write
  uint64_t signals_added = 0;
  uint64_t signals_changed = 0;  //!< context, edge or firmware changed
  uint64_t last_seen_updates = 0;
  uint64_t models_added = 0;
  uint64_t retags = 0;              //!< SetRules runs that re-tagged every signal
  uint64_t write_transactions = 0;  //!< every SQLite write this object made
};

class Catalog {
 public:
  //! Opens or creates the database at `path` (a new file is mode 0600), migrates it, and loads
  //! the Observe cache. REQUIRES: clock outlives the catalog.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path, const Clock* clock,
                                               CatalogOptions options = {});
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  //! The schema version this code writes.
  static int SchemaVersion();

  // --- Registration (the integrator calls these at start) ---

  //! Creates or replaces a table and its columns (columns no longer listed are removed, with
  //! their tags). The integrator passes the lake's schemas (core/ingest/tables.h).
  Status RegisterTable(const TableDef& table);

  // --- Ingest ---

  //! Records a signal seen in a batch: new or changed signals are stored with their ingest and
  //! rule tags and a lineage edge to `telemetry`; unchanged ones cost a hash and a map lookup.
  //! InvalidArgument when asset or signal is empty or a field is not valid text.
  Status Observe(const ObservedSignal& signal);
  //! Records a model version seen in predictions (tags model, model_version; lineage to the
  //! predictions table). Cached like Observe.
  Status ObserveModel(std::string_view name, std::string_view version);

  // --- Rules and manual curation ---

  //! Replaces the rules: every signal's rule tags are recomputed (one transaction).
  Status SetRules(TagRules rules);
  //! Sets a manual tag (wins over ingest and rule tags). NotFound for an unknown table, column,
  //! signal or model; InvalidArgument for a bad key or value.
  Status SetTag(const EntityRef& entity, std::string_view key, std::string_view value);
  //! Removes a manual tag; NotFound when there is none.
  Status RemoveTag(const EntityRef& entity, std::string_view key);
  //! Adds or updates (same ends: new `how`) a lineage edge.
  Status AddLineage(const LineageEdge& edge);

  // --- Queries ---

  //! Signals whose effective tags satisfy `query`, ordered by asset then signal.
  Result<std::vector<SignalRecord>> FindSignals(const TagQuery& query);
  Result<SignalRecord> GetSignal(std::string_view asset, std::string_view signal);
  //! Every tag row of an entity (all sources), ordered by key then source precedence (the
  //! effective one first).
  Result<std::vector<Tag>> TagsOf(const EntityRef& entity);
  //! The effective tags of an entity, key -> value (empty map for an unknown entity).
  Result<std::map<std::string, std::string>> EffectiveTags(const EntityRef& entity);
  //! EffectiveTags of a signal: the tags access control checks (registry Resource::tags).
  Result<std::map<std::string, std::string>> SignalTags(std::string_view asset,
                                                        std::string_view signal);
  Result<std::vector<TableRecord>> ListTables();
  //! NotFound for an unknown table.
  Result<std::vector<ColumnRecord>> ListColumns(std::string_view table);
  Result<std::vector<ModelRecord>> ListModels();
  Result<std::vector<LineageEdge>> Lineage(const EntityRef& entity,
                                           LineageDirection direction = LineageDirection::kBoth);

  CatalogStats stats() const;

 private:
  struct Known {
    uint64_t fingerprint = 0;  // of the context and edge (not firmware)
    std::string firmware;      // last stored; "" = none
    int64_t last_seen_us = 0;  // last stored
  };
  Catalog(std::string path, sqlite3* db, const Clock* clock, CatalogOptions options);
  Status LoadCacheLocked();
  Status WriteSignalLocked(const ObservedSignal& signal, const std::string& key, int64_t now_us);
  Status TagSignalRulesLocked(const std::string& key, const ObservedSignal& facts);
  Result<bool> EntityExistsLocked(const EntityRef& entity);
  Status BeginLocked(std::string_view what);
  Status CommitLocked(std::string_view what);
  void RollbackLocked();

  const std::string path_;
  const Clock* clock_;
  const CatalogOptions options_;

  mutable std::mutex mutex_;
  sqlite3* db_;                                     // GUARDED_BY(mutex_)
  TagRules rules_;                                  // GUARDED_BY(mutex_)
  std::unordered_map<std::string, Known> signals_;  // GUARDED_BY(mutex_); key "<asset>/<signal>"
  std::unordered_set<std::string> models_;          // GUARDED_BY(mutex_); "<name>@<version>"
  std::string key_buffer_;                          // GUARDED_BY(mutex_); reused by Observe
  CatalogStats stats_;                              // GUARDED_BY(mutex_)
};

}  // namespace weft::core::catalog

#endif  // WEFT_CORE_CATALOG_CATALOG_H_
