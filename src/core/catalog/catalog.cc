#include "core/catalog/catalog.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "sqlite/statement.h"
#include "model/yaml_reader.h"

namespace weft::core::catalog {
namespace {

using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::SqliteError;
using ::weft::sqlite::Statement;

// The schema, one migration per element, applied in order; never edit a released migration,
// append one. Version N means migrations [0, N) have run. Times are µs since the Unix epoch.
// `rank` in tags is the precedence of the source (manual 3 > ingest 2 > rule 1), stored so that
// the effective value of a key is one indexed MAX().
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE catalog_tables (
  name             TEXT PRIMARY KEY NOT NULL,
  location         TEXT NOT NULL,
  description      TEXT NOT NULL,
  owner_domain     TEXT NOT NULL,
  registered_at_us INTEGER NOT NULL
);
CREATE TABLE catalog_columns (
  table_name  TEXT NOT NULL REFERENCES catalog_tables (name) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  name        TEXT NOT NULL,
  type        TEXT NOT NULL,
  description TEXT NOT NULL,
  PRIMARY KEY (table_name, name)
);
CREATE TABLE signals (
  key           TEXT PRIMARY KEY NOT NULL,  -- '<asset>/<signal>'
  site          TEXT NOT NULL,
  area          TEXT NOT NULL,
  line          TEXT NOT NULL,
  asset         TEXT NOT NULL,
  asset_type    TEXT NOT NULL,
  signal        TEXT NOT NULL,
  unit          TEXT NOT NULL,
  quantity      TEXT NOT NULL,
  protocol      TEXT NOT NULL,
  address       TEXT NOT NULL,
  edge          TEXT NOT NULL,
  firmware      TEXT NOT NULL,
  fingerprint   INTEGER NOT NULL,
  first_seen_us INTEGER NOT NULL,
  last_seen_us  INTEGER NOT NULL
);
CREATE INDEX signals_by_asset ON signals (asset, signal);
CREATE TABLE models (
  name          TEXT NOT NULL,
  version       TEXT NOT NULL,
  first_seen_us INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE tags (
  entity_kind TEXT NOT NULL,
  entity_key  TEXT NOT NULL,
  tag_key     TEXT NOT NULL,
  tag_value   TEXT NOT NULL,
  source      TEXT NOT NULL,
  rank        INTEGER NOT NULL,
  PRIMARY KEY (entity_kind, entity_key, tag_key, source)
);
CREATE INDEX tags_by_value ON tags (entity_kind, tag_key, tag_value);
CREATE TABLE lineage (
  up_kind   TEXT NOT NULL,
  up_key    TEXT NOT NULL,
  down_kind TEXT NOT NULL,
  down_key  TEXT NOT NULL,
  how       TEXT NOT NULL,
  PRIMARY KEY (up_kind, up_key, down_kind, down_key)
);
CREATE INDEX lineage_by_downstream ON lineage (down_kind, down_key);
)sql",
};

constexpr int64_t kRankRule = 1;
constexpr int64_t kRankIngest = 2;
constexpr int64_t kRankManual = 3;
constexpr size_t kMaxFieldBytes = 1024;
constexpr char kTelemetryTable[] = "telemetry";
constexpr char kPredictionsTable[] = "predictions";
constexpr char kRulesMetaKey[] = "rules";

constexpr std::array<std::string_view, 5> kKindNames = {"table", "column", "signal", "model",
                                                        "view"};

// FNV-1a over every field the catalog stores or tags from, each followed by 0xff (a byte that
// valid UTF-8 never holds), so that moving text between fields changes the hash. Stable across
// versions: it is stored.
class Fnv {
 public:
  void Add(std::string_view s) {
    for (char c : s) Byte(static_cast<unsigned char>(c));
    Byte(0xff);
  }
  uint64_t value() const { return h_; }

 private:
  void Byte(unsigned char b) {
    h_ ^= b;
    h_ *= 0x100000001b3ULL;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

uint64_t Fingerprint(const ObservedSignal& s) {
  Fnv h;
  for (const std::string* f : {&s.site, &s.area, &s.line, &s.asset, &s.asset_type, &s.signal,
                               &s.unit, &s.quantity, &s.protocol, &s.address, &s.edge}) {
    h.Add(*f);
  }
  for (const auto& [k, v] : s.tags) {
    h.Add(k);
    h.Add(v);
  }
  return h.value();
}

bool IsText(std::string_view s, size_t max_bytes) {
  if (s.size() > max_bytes) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return model::InvalidUtf8At(s) == std::string_view::npos;
}

// The fields of an observed signal: each validated, and tagged on ingest unless `tagged` is
// false (the address is stored, not a tag).
struct SignalField {
  const char* name;
  std::string ObservedSignal::*member;
  bool tagged;
};
constexpr SignalField kSignalFields[] = {{"site", &ObservedSignal::site, true},
                                         {"area", &ObservedSignal::area, true},
                                         {"line", &ObservedSignal::line, true},
                                         {"asset", &ObservedSignal::asset, true},
                                         {"asset_type", &ObservedSignal::asset_type, true},
                                         {"signal", &ObservedSignal::signal, true},
                                         {"unit", &ObservedSignal::unit, true},
                                         {"quantity", &ObservedSignal::quantity, true},
                                         {"protocol", &ObservedSignal::protocol, true},
                                         {"address", &ObservedSignal::address, false},
                                         {"edge", &ObservedSignal::edge, true},
                                         {"firmware", &ObservedSignal::firmware, true}};

Status ValidateSignal(const ObservedSignal& s) {
  if (s.asset.empty() || s.signal.empty()) {
    return InvalidArgumentError("catalog: a signal needs an asset and a signal name (got '" +
                                s.asset + "/" + s.signal + "')");
  }
  if (s.asset.find('/') != std::string::npos || s.signal.find('/') != std::string::npos) {
    return InvalidArgumentError("catalog: asset and signal names cannot contain '/' (got " +
                                model::Quote(s.asset + "/" + s.signal) + ")");
  }
  for (const SignalField& f : kSignalFields) {
    if (!IsText(s.*f.member, kMaxFieldBytes)) {
      return InvalidArgumentError("catalog: signal " + model::Quote(s.asset + "/" + s.signal) +
                                  ": field " + f.name +
                                  " is not valid text (UTF-8, no control characters, at most "
                                  "1024 bytes)");
    }
  }
  return Status::Ok();
}

bool IsTableName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Status ValidateRef(const EntityRef& e) {
  if (e.key.empty() || !IsText(e.key, kMaxFieldBytes)) {
    return InvalidArgumentError("catalog: invalid " + std::string(EntityKindName(e.kind)) +
                                " key " + model::Quote(e.key));
  }
  return Status::Ok();
}

// The ingest tags of a signal: its context (without empty values), then the asset's free tags
// that are valid and do not collide with a context key.
std::map<std::string, std::string> IngestTags(const ObservedSignal& s) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : s.tags) {
    if (IsValidTagKey(k) && IsValidTagValue(v) && !IsReservedTagKey(k)) out[k] = v;
  }
  for (const SignalField& f : kSignalFields) {
    if (f.tagged && IsValidTagValue(s.*f.member)) out[f.name] = s.*f.member;
  }

  return out;
}

constexpr std::string_view kSignalColumns =
    "s.site, s.area, s.line, s.asset, s.asset_type, s.signal, s.unit, s.quantity, s.protocol, "
    "s.address, s.edge, s.firmware, s.first_seen_us, s.last_seen_us";

SignalRecord ReadSignal(const Statement& row) {
  SignalRecord r;
  r.site = row.Text(0);
  r.area = row.Text(1);
  r.line = row.Text(2);
  r.asset = row.Text(3);
  r.asset_type = row.Text(4);
  r.signal = row.Text(5);
  r.unit = row.Text(6);
  r.quantity = row.Text(7);
  r.protocol = row.Text(8);
  r.address = row.Text(9);
  r.edge = row.Text(10);
  r.firmware = row.Text(11);
  r.first_seen = TimeFromUnixMicros(row.Int(12));
  r.last_seen = TimeFromUnixMicros(row.Int(13));
  return r;
}

ObservedSignal FactsOf(const SignalRecord& r) {
  ObservedSignal s;
  s.site = r.site;
  s.area = r.area;
  s.line = r.line;
  s.asset = r.asset;
  s.asset_type = r.asset_type;
  s.signal = r.signal;
  s.unit = r.unit;
  s.quantity = r.quantity;
  s.protocol = r.protocol;
  s.address = r.address;
  s.edge = r.edge;
  s.firmware = r.firmware;
  return s;
}

constexpr std::string_view kInsertTag =
    "INSERT OR REPLACE INTO tags (entity_kind, entity_key, tag_key, tag_value, source, rank) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names and references

std::string_view EntityKindName(EntityKind kind) {
  return kKindNames[static_cast<size_t>(kind)];
}

Result<EntityKind> ParseEntityKind(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<EntityKind>(i);
  }
  return InvalidArgumentError("unknown entity kind " + model::Quote(name) +
                              "; expected one of: table, column, signal, model, view");
}

EntityRef TableRef(std::string_view table) {
  return {EntityKind::kTable, std::string(table)};
}
EntityRef ColumnRef(std::string_view table, std::string_view column) {
  return {EntityKind::kColumn, std::string(table) + "." + std::string(column)};
}
EntityRef SignalRef(std::string_view asset, std::string_view signal) {
  return {EntityKind::kSignal, std::string(asset) + "/" + std::string(signal)};
}
EntityRef ModelRef(std::string_view name, std::string_view version) {
  return {EntityKind::kModel, std::string(name) + "@" + std::string(version)};
}
EntityRef ViewRef(std::string_view view) {
  return {EntityKind::kView, std::string(view)};
}
std::string ToString(const EntityRef& ref) {
  return std::string(EntityKindName(ref.kind)) + " " + ref.key;
}

Result<TagQuery> ParseTagQuery(std::string_view text) {
  TagQuery out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        return InvalidArgumentError("tag query: " + model::Quote(part) +
                                    " has no '='; expected key=value[,key=value...]");
      }
      TagCondition c{std::string(part.substr(0, eq)), std::string(part.substr(eq + 1))};
      if (!IsValidTagKey(c.key)) {
        return InvalidArgumentError("tag query: invalid tag key " + model::Quote(c.key) +
                                    "; expected 1-128 characters from A-Z a-z 0-9 _ - .");
      }
      out.push_back(std::move(c));
    }
    start = end + 1;
  }
  if (out.size() > kMaxTagConditions) {
    return InvalidArgumentError("tag query: more than 32 conditions");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Open

int Catalog::SchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path, const Clock* clock,
                                               CatalogOptions options) {
  if (clock == nullptr) return InvalidArgumentError("catalog " + path + ": no clock given");
  // NORMAL: a process crash loses nothing; a power cut may lose the last transactions, which
  // the ingest observes again.
  WEFT_ASSIGN_OR_RETURN(sqlite3 * db,
                        sqlite::OpenDatabase(path, "catalog", sqlite::Durability::kNormal));
  std::unique_ptr<Catalog> cat(new Catalog(path, db, clock, options));  // owns db from here
  WEFT_RETURN_IF_ERROR(sqlite::Migrate(db, path, "catalog", kMigrations));
  {
    std::lock_guard<std::mutex> lock(cat->mutex_);
    WEFT_RETURN_IF_ERROR(cat->LoadCacheLocked());
  }
  return cat;
}

Catalog::Catalog(std::string path, sqlite3* db, const Clock* clock, CatalogOptions options)
    : path_(std::move(path)), clock_(clock), options_(options), db_(db) {}

Catalog::~Catalog() {
  sqlite3_close_v2(db_);
}

Status Catalog::LoadCacheLocked() {
  WEFT_ASSIGN_OR_RETURN(
      Statement sigs,
      Statement::Prepare(db_, path_,
                         "SELECT key, fingerprint, firmware, last_seen_us FROM signals"));
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, sigs.Step("loading signals"));
    if (!row) break;
    signals_[sigs.Text(0)] = Known{static_cast<uint64_t>(sigs.Int(1)), sigs.Text(2), sigs.Int(3)};
  }
  WEFT_ASSIGN_OR_RETURN(Statement models,
                        Statement::Prepare(db_, path_, "SELECT name, version FROM models"));
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, models.Step("loading models"));
    if (!row) break;
    models_.insert(models.Text(0) + "@" + models.Text(1));
  }
  return Status::Ok();
}

Status Catalog::BeginLocked(std::string_view what) {
  return ExecFixed(db_, path_, "BEGIN IMMEDIATE", what);
}

Status Catalog::CommitLocked(std::string_view what) {
  Status s = ExecFixed(db_, path_, "COMMIT", what);
  if (!s.ok()) {
    RollbackLocked();
    return s;
  }
  ++stats_.write_transactions;
  return Status::Ok();
}

void Catalog::RollbackLocked() {
  if (sqlite3_get_autocommit(db_) == 0) (void)ExecFixed(db_, path_, "ROLLBACK", "rolling back");
}

// ---------------------------------------------------------------------------------------------
// Registration

Status Catalog::RegisterTable(const TableDef& t) {
  if (!IsTableName(t.name)) {
    return InvalidArgumentError("catalog: invalid table name " + model::Quote(t.name) +
                                "; expected 1-128 characters from A-Z a-z 0-9 _ -");
  }
  for (const std::string* f : {&t.location, &t.description, &t.owner_domain}) {
    if (!IsText(*f, kMaxFieldBytes)) {
      return InvalidArgumentError("catalog: table '" + t.name +
                                  "': location, description and owner_domain must be text "
                                  "(UTF-8, no control characters, at most 1024 bytes)");
    }
  }
  std::set<std::string> names;
  for (const ColumnDef& c : t.columns) {
    if (!model::IsValidId(c.name) || !IsText(c.type, 128) ||
        !IsText(c.description, kMaxFieldBytes)) {
      return InvalidArgumentError("catalog: table '" + t.name + "': invalid column " +
                                  model::Quote(c.name) + " (name: 1-128 of A-Z a-z 0-9 _ - .)");
    }
    if (!names.insert(c.name).second) {
      return InvalidArgumentError("catalog: table '" + t.name + "': column '" + c.name +
                                  "' is listed twice");
    }
  }
  const int64_t now = UnixMicros(clock_->Now());
  const std::string what = "registering table '" + t.name + "'";

  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(BeginLocked(what));
  Status s = [&]() -> Status {
    WEFT_ASSIGN_OR_RETURN(
        Statement upsert,
        Statement::Prepare(
            db_, path_,
            "INSERT INTO catalog_tables (name, location, description, owner_domain, "
            "registered_at_us) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
            "location = excluded.location, description = excluded.description, "
            "owner_domain = excluded.owner_domain"));
    WEFT_RETURN_IF_ERROR(upsert.BindAll(t.name, t.location, t.description, t.owner_domain, now));
    WEFT_RETURN_IF_ERROR(upsert.Run(what));

    // Columns no longer listed lose their tags (all sources) with them.
    std::vector<std::string> old_columns;
    {
      WEFT_ASSIGN_OR_RETURN(
          Statement old,
          Statement::Prepare(db_, path_, "SELECT name FROM catalog_columns WHERE table_name = ?1"));
      WEFT_RETURN_IF_ERROR(old.Bind(1, t.name));
      while (true) {
        WEFT_ASSIGN_OR_RETURN(bool row, old.Step(what));
        if (!row) break;
        old_columns.push_back(old.Text(0));
      }
    }
    WEFT_ASSIGN_OR_RETURN(
        Statement drop_tags,
        Statement::Prepare(db_, path_,
                           "DELETE FROM tags WHERE entity_kind = ?1 AND entity_key = ?2"));
    for (const std::string& c : old_columns) {
      if (names.count(c) != 0) continue;
      const std::string key = ColumnRef(t.name, c).key;
      WEFT_RETURN_IF_ERROR(drop_tags.BindAll(EntityKindName(EntityKind::kColumn), key));
      WEFT_RETURN_IF_ERROR(drop_tags.Run(what));
    }
    WEFT_ASSIGN_OR_RETURN(
        Statement drop_columns,
        Statement::Prepare(db_, path_, "DELETE FROM catalog_columns WHERE table_name = ?1"));
    WEFT_RETURN_IF_ERROR(drop_columns.Bind(1, t.name));
    WEFT_RETURN_IF_ERROR(drop_columns.Run(what));

    WEFT_ASSIGN_OR_RETURN(
        Statement insert_column,
        Statement::Prepare(db_, path_,
                           "INSERT INTO catalog_columns (table_name, position, name, type, "
                           "description) VALUES (?1, ?2, ?3, ?4, ?5)"));
    WEFT_ASSIGN_OR_RETURN(
        Statement drop_ingest,
        Statement::Prepare(db_, path_,
                           "DELETE FROM tags WHERE entity_kind = ?1 AND entity_key = ?2 AND "
                           "source = 'ingest'"));
    WEFT_ASSIGN_OR_RETURN(Statement tag, Statement::Prepare(db_, path_, kInsertTag));
    auto retag = [&](EntityKind kind, const std::string& key) -> Status {
      WEFT_RETURN_IF_ERROR(drop_ingest.BindAll(EntityKindName(kind), key));
      WEFT_RETURN_IF_ERROR(drop_ingest.Run(what));
      if (t.owner_domain.empty()) return Status::Ok();
      WEFT_RETURN_IF_ERROR(tag.BindAll(EntityKindName(kind), key, std::string_view("owner_domain"),
                                       t.owner_domain, std::string_view(kSourceIngest),
                                       kRankIngest));
      return tag.Run(what);
    };
    WEFT_RETURN_IF_ERROR(retag(EntityKind::kTable, t.name));
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const ColumnDef& c = t.columns[i];
      WEFT_RETURN_IF_ERROR(
          insert_column.BindAll(t.name, static_cast<int64_t>(i), c.name, c.type, c.description));
      WEFT_RETURN_IF_ERROR(insert_column.Run(what));
      WEFT_RETURN_IF_ERROR(retag(EntityKind::kColumn, ColumnRef(t.name, c.name).key));
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    RollbackLocked();
    return s;
  }
  return CommitLocked(what);
}

// ---------------------------------------------------------------------------------------------
// Ingest

Status Catalog::Observe(const ObservedSignal& signal) {
  // Outside the lock: the hash is the bulk of the hot path's work.
  const uint64_t fingerprint = Fingerprint(signal);
  const int64_t now = UnixMicros(clock_->Now());

  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.observe_calls;
  key_buffer_.assign(signal.asset);
  key_buffer_.push_back('/');
  key_buffer_.append(signal.signal);
  auto it = signals_.find(key_buffer_);
  if (it != signals_.end() && it->second.fingerprint == fingerprint &&
      (signal.firmware.empty() || signal.firmware == it->second.firmware)) {
    if (now - it->second.last_seen_us < options_.last_seen_resolution.count()) {
      ++stats_.observe_unchanged;
      return Status::Ok();
    }
    WEFT_ASSIGN_OR_RETURN(
        Statement touch,
        Statement::Prepare(db_, path_, "UPDATE signals SET last_seen_us = ?1 WHERE key = ?2"));
    WEFT_RETURN_IF_ERROR(touch.BindAll(now, it->first));
    WEFT_RETURN_IF_ERROR(touch.Run("updating last_seen of signal '" + it->first + "'"));
    ++stats_.write_transactions;
    ++stats_.last_seen_updates;
    it->second.last_seen_us = now;
    return Status::Ok();
  }
  WEFT_RETURN_IF_ERROR(ValidateSignal(signal));
  const bool is_new = it == signals_.end();
  const std::string key = key_buffer_;
  // An edge that does not report its firmware keeps the version last reported.
  ObservedSignal facts = signal;
  if (facts.firmware.empty() && !is_new) facts.firmware = it->second.firmware;

  const std::string what = "recording signal '" + key + "'";
  WEFT_RETURN_IF_ERROR(BeginLocked(what));
  Status s = WriteSignalLocked(facts, key, now);
  if (s.ok()) s = TagSignalRulesLocked(key, facts);
  if (!s.ok()) {
    RollbackLocked();
    return s;
  }
  WEFT_RETURN_IF_ERROR(CommitLocked(what));
  signals_[key] = Known{fingerprint, facts.firmware, now};
  ++(is_new ? stats_.signals_added : stats_.signals_changed);
  return Status::Ok();
}

// One upsert serves new and changed signals; an update keeps first_seen.
Status Catalog::WriteSignalLocked(const ObservedSignal& s, const std::string& key, int64_t now_us) {
  const std::string what = "recording signal '" + key + "'";
  WEFT_ASSIGN_OR_RETURN(
      Statement upsert,
      Statement::Prepare(
          db_, path_,
          "INSERT INTO signals (key, site, area, line, asset, asset_type, signal, unit, quantity, "
          "protocol, address, edge, firmware, fingerprint, first_seen_us, last_seen_us) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15) "
          "ON CONFLICT (key) DO UPDATE SET site = excluded.site, area = excluded.area, "
          "line = excluded.line, asset = excluded.asset, asset_type = excluded.asset_type, "
          "signal = excluded.signal, unit = excluded.unit, quantity = excluded.quantity, "
          "protocol = excluded.protocol, address = excluded.address, edge = excluded.edge, "
          "firmware = excluded.firmware, fingerprint = excluded.fingerprint, "
          "last_seen_us = excluded.last_seen_us"));
  WEFT_RETURN_IF_ERROR(upsert.BindAll(key, s.site, s.area, s.line, s.asset, s.asset_type, s.signal,
                                      s.unit, s.quantity, s.protocol, s.address, s.edge, s.firmware,
                                      static_cast<int64_t>(Fingerprint(s)), now_us));
  WEFT_RETURN_IF_ERROR(upsert.Run(what));

  const std::string_view kind = EntityKindName(EntityKind::kSignal);
  WEFT_ASSIGN_OR_RETURN(
      Statement drop,
      Statement::Prepare(db_, path_,
                         "DELETE FROM tags WHERE entity_kind = ?1 AND entity_key = ?2 AND "
                         "source = 'ingest'"));
  WEFT_RETURN_IF_ERROR(drop.BindAll(kind, key));
  WEFT_RETURN_IF_ERROR(drop.Run(what));
  WEFT_ASSIGN_OR_RETURN(Statement tag, Statement::Prepare(db_, path_, kInsertTag));
  for (const auto& [k, v] : IngestTags(s)) {
    WEFT_RETURN_IF_ERROR(
        tag.BindAll(kind, key, k, v, std::string_view(kSourceIngest), kRankIngest));
    WEFT_RETURN_IF_ERROR(tag.Run(what));
  }

  WEFT_ASSIGN_OR_RETURN(
      Statement lineage,
      Statement::Prepare(db_, path_,
                         "INSERT INTO lineage (up_kind, up_key, down_kind, down_key, how) VALUES "
                         "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (up_kind, up_key, down_kind, down_key) "
                         "DO UPDATE SET how = excluded.how"));
  const std::string how = "ingested by weft-core from edge " + (s.edge.empty() ? "?" : s.edge);
  WEFT_RETURN_IF_ERROR(lineage.BindAll(kind, key, EntityKindName(EntityKind::kTable),
                                       std::string_view(kTelemetryTable), how));
  return lineage.Run(what);
}

Status Catalog::TagSignalRulesLocked(const std::string& key, const ObservedSignal& facts) {
  const std::string what = "applying tag rules to signal '" + key + "'";
  const std::string_view kind = EntityKindName(EntityKind::kSignal);
  WEFT_ASSIGN_OR_RETURN(
      Statement drop,
      Statement::Prepare(db_, path_,
                         "DELETE FROM tags WHERE entity_kind = ?1 AND entity_key = ?2 AND "
                         "substr(source, 1, 5) = 'rule:'"));
  WEFT_RETURN_IF_ERROR(drop.BindAll(kind, key));
  WEFT_RETURN_IF_ERROR(drop.Run(what));
  WEFT_ASSIGN_OR_RETURN(Statement tag, Statement::Prepare(db_, path_, kInsertTag));
  for (const auto& [k, t] : EvaluateRules(rules_, facts)) {
    const std::string source = kRuleSourcePrefix + t.rule;
    WEFT_RETURN_IF_ERROR(tag.BindAll(kind, key, k, t.value, source, kRankRule));
    WEFT_RETURN_IF_ERROR(tag.Run(what));
  }
  return Status::Ok();
}

Status Catalog::ObserveModel(std::string_view name, std::string_view version) {
  const EntityRef ref = ModelRef(name, version);
  std::lock_guard<std::mutex> lock(mutex_);
  if (models_.count(ref.key) != 0) return Status::Ok();
  if (!IsValidTagValue(name) || !IsValidTagValue(version) || name.find('@') != name.npos) {
    return InvalidArgumentError("catalog: invalid model " + model::Quote(ref.key) +
                                "; expected a name without '@' and a version, as text");
  }
  const std::string what = "recording model '" + ref.key + "'";
  const std::string_view kind = EntityKindName(EntityKind::kModel);
  WEFT_RETURN_IF_ERROR(BeginLocked(what));
  Status s = [&]() -> Status {
    WEFT_ASSIGN_OR_RETURN(
        Statement insert,
        Statement::Prepare(db_, path_,
                           "INSERT OR IGNORE INTO models (name, version, first_seen_us) VALUES "
                           "(?1, ?2, ?3)"));
    WEFT_RETURN_IF_ERROR(insert.BindAll(name, version, UnixMicros(clock_->Now())));
    WEFT_RETURN_IF_ERROR(insert.Run(what));
    WEFT_ASSIGN_OR_RETURN(Statement tag, Statement::Prepare(db_, path_, kInsertTag));
    for (const auto& [k, v] :
         {std::pair<std::string_view, std::string_view>{"model", name},
          std::pair<std::string_view, std::string_view>{"model_version", version}}) {
      WEFT_RETURN_IF_ERROR(
          tag.BindAll(kind, ref.key, k, v, std::string_view(kSourceIngest), kRankIngest));
      WEFT_RETURN_IF_ERROR(tag.Run(what));
    }
    WEFT_ASSIGN_OR_RETURN(
        Statement lineage,
        Statement::Prepare(db_, path_,
                           "INSERT OR IGNORE INTO lineage (up_kind, up_key, down_kind, down_key, "
                           "how) VALUES (?1, ?2, ?3, ?4, ?5)"));
    const std::string how = "predictions of model " + std::string(name) + " version " +
                            std::string(version) + ", ingested by weft-core";
    WEFT_RETURN_IF_ERROR(lineage.BindAll(kind, ref.key, EntityKindName(EntityKind::kTable),
                                         std::string_view(kPredictionsTable), how));
    return lineage.Run(what);
  }();
  if (!s.ok()) {
    RollbackLocked();
    return s;
  }
  WEFT_RETURN_IF_ERROR(CommitLocked(what));
  models_.insert(ref.key);
  ++stats_.models_added;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Rules and curation

Status Catalog::SetRules(TagRules rules) {
  const std::string canonical = rules.Canonical();
  const std::string what = "applying tag rules";
  std::lock_guard<std::mutex> lock(mutex_);
  {
    WEFT_ASSIGN_OR_RETURN(Statement get,
                          Statement::Prepare(db_, path_, "SELECT value FROM meta WHERE key = ?1"));
    WEFT_RETURN_IF_ERROR(get.Bind(1, std::string_view(kRulesMetaKey)));
    WEFT_ASSIGN_OR_RETURN(bool row, get.Step(what));
    if (row && get.Text(0) == canonical) {
      rules_ = std::move(rules);
      return Status::Ok();
    }
  }
  WEFT_RETURN_IF_ERROR(BeginLocked(what));
  Status s = [&]() -> Status {
    WEFT_RETURN_IF_ERROR(ExecFixed(db_, path_,
                                   "DELETE FROM tags WHERE entity_kind = 'signal' AND "
                                   "substr(source, 1, 5) = 'rule:'",
                                   what));
    WEFT_ASSIGN_OR_RETURN(
        Statement all,
        Statement::Prepare(db_, path_,
                           "SELECT " + std::string(kSignalColumns) + ", s.key FROM signals s"));
    WEFT_ASSIGN_OR_RETURN(Statement tag, Statement::Prepare(db_, path_, kInsertTag));
    const std::string_view kind = EntityKindName(EntityKind::kSignal);
    while (true) {
      WEFT_ASSIGN_OR_RETURN(bool row, all.Step(what));
      if (!row) break;
      const ObservedSignal facts = FactsOf(ReadSignal(all));
      const std::string key = all.Text(14);
      for (const auto& [k, t] : EvaluateRules(rules, facts)) {
        const std::string source = kRuleSourcePrefix + t.rule;
        WEFT_RETURN_IF_ERROR(tag.BindAll(kind, key, k, t.value, source, kRankRule));
        WEFT_RETURN_IF_ERROR(tag.Run(what));
      }
    }
    WEFT_ASSIGN_OR_RETURN(
        Statement put,
        Statement::Prepare(db_, path_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)"));
    WEFT_RETURN_IF_ERROR(put.BindAll(std::string_view(kRulesMetaKey), canonical));
    return put.Run(what);
  }();
  if (!s.ok()) {
    RollbackLocked();
    return s;
  }
  WEFT_RETURN_IF_ERROR(CommitLocked(what));
  rules_ = std::move(rules);
  ++stats_.retags;
  return Status::Ok();
}

Result<bool> Catalog::EntityExistsLocked(const EntityRef& e) {
  std::string sql;
  std::string a = e.key, b;
  switch (e.kind) {
    case EntityKind::kTable: sql = "SELECT 1 FROM catalog_tables WHERE name = ?1"; break;
    case EntityKind::kColumn: {
      const size_t dot = e.key.find('.');
      if (dot == std::string::npos) return false;
      a = e.key.substr(0, dot);
      b = e.key.substr(dot + 1);
      sql = "SELECT 1 FROM catalog_columns WHERE table_name = ?1 AND name = ?2";
      break;
    }
    case EntityKind::kSignal: sql = "SELECT 1 FROM signals WHERE key = ?1"; break;
    case EntityKind::kModel: {
      const size_t at = e.key.find('@');
      if (at == std::string::npos) return false;
      a = e.key.substr(0, at);
      b = e.key.substr(at + 1);
      sql = "SELECT 1 FROM models WHERE name = ?1 AND version = ?2";
      break;
    }
    case EntityKind::kView: return true;  // views are declared in views.yaml, not registered here
  }
  WEFT_ASSIGN_OR_RETURN(Statement get, Statement::Prepare(db_, path_, sql));
  WEFT_RETURN_IF_ERROR(get.Bind(1, a));
  if (!b.empty()) WEFT_RETURN_IF_ERROR(get.Bind(2, b));
  return get.Step("looking up " + ToString(e));
}

Status Catalog::SetTag(const EntityRef& entity, std::string_view key, std::string_view value) {
  WEFT_RETURN_IF_ERROR(ValidateRef(entity));
  if (!IsValidTagKey(key)) {
    return InvalidArgumentError("catalog: invalid tag key " + model::Quote(key) +
                                "; expected 1-128 characters from A-Z a-z 0-9 _ - .");
  }
  if (!IsValidTagValue(value)) {
    return InvalidArgumentError("catalog: invalid value of tag '" + std::string(key) +
                                "'; expected 1-256 bytes of text without control characters");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(bool exists, EntityExistsLocked(entity));
  if (!exists) return NotFoundError("catalog: unknown " + ToString(entity));
  WEFT_ASSIGN_OR_RETURN(Statement tag, Statement::Prepare(db_, path_, kInsertTag));
  WEFT_RETURN_IF_ERROR(tag.BindAll(EntityKindName(entity.kind), entity.key, key, value,
                                   std::string_view(kSourceManual), kRankManual));
  WEFT_RETURN_IF_ERROR(tag.Run("tagging " + ToString(entity)));
  ++stats_.write_transactions;
  return Status::Ok();
}

Status Catalog::RemoveTag(const EntityRef& entity, std::string_view key) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement drop,
      Statement::Prepare(db_, path_,
                         "DELETE FROM tags WHERE entity_kind = ?1 AND entity_key = ?2 AND "
                         "tag_key = ?3 AND source = 'manual'"));
  WEFT_RETURN_IF_ERROR(drop.BindAll(EntityKindName(entity.kind), entity.key, key));
  WEFT_RETURN_IF_ERROR(drop.Run("untagging " + ToString(entity)));
  if (sqlite3_changes(db_) == 0) {
    return NotFoundError("catalog: " + ToString(entity) + " has no manual tag '" +
                         std::string(key) + "'");
  }
  ++stats_.write_transactions;
  return Status::Ok();
}

Status Catalog::AddLineage(const LineageEdge& edge) {
  WEFT_RETURN_IF_ERROR(ValidateRef(edge.upstream));
  WEFT_RETURN_IF_ERROR(ValidateRef(edge.downstream));
  if (!IsText(edge.how, kMaxFieldBytes)) {
    return InvalidArgumentError("catalog: lineage 'how' must be text of at most 1024 bytes");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement put,
      Statement::Prepare(db_, path_,
                         "INSERT INTO lineage (up_kind, up_key, down_kind, down_key, how) VALUES "
                         "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (up_kind, up_key, down_kind, down_key) "
                         "DO UPDATE SET how = excluded.how"));
  WEFT_RETURN_IF_ERROR(put.BindAll(EntityKindName(edge.upstream.kind), edge.upstream.key,
                                   EntityKindName(edge.downstream.kind), edge.downstream.key,
                                   edge.how));
  WEFT_RETURN_IF_ERROR(put.Run("recording lineage"));
  ++stats_.write_transactions;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Queries

Result<std::vector<SignalRecord>> Catalog::FindSignals(const TagQuery& query) {
  if (query.size() > kMaxTagConditions) {
    return InvalidArgumentError("catalog: a tag query has at most 32 conditions");
  }
  // Fixed fragments with numbered parameters; no input is ever spliced into the SQL. A condition
  // holds when the tag row with that key and value has the highest rank of the key's rows.
  std::string sql = "SELECT " + std::string(kSignalColumns) + " FROM signals s";
  for (size_t i = 0; i < query.size(); ++i) {
    const std::string k = "?" + std::to_string(2 * i + 1), v = "?" + std::to_string(2 * i + 2);
    sql += i == 0 ? " WHERE " : " AND ";
    sql += "EXISTS (SELECT 1 FROM tags t WHERE t.entity_kind = 'signal' AND t.entity_key = s.key ";
    sql += "AND t.tag_key = ";
    sql += k;
    sql += " AND t.tag_value = ";
    sql += v;
    sql += " AND t.rank = (SELECT MAX(u.rank) FROM tags u WHERE u.entity_kind = 'signal' AND ";
    sql += "u.entity_key = s.key AND u.tag_key = ";
    sql += k;
    sql += "))";
  }
  sql += " ORDER BY s.asset, s.signal";
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement find, Statement::Prepare(db_, path_, sql));
  for (size_t i = 0; i < query.size(); ++i) {
    WEFT_RETURN_IF_ERROR(find.Bind(static_cast<int>(2 * i + 1), query[i].key));
    WEFT_RETURN_IF_ERROR(find.Bind(static_cast<int>(2 * i + 2), query[i].value));
  }
  std::vector<SignalRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, find.Step("finding signals by tags"));
    if (!row) break;
    out.push_back(ReadSignal(find));
  }
  return out;
}

Result<SignalRecord> Catalog::GetSignal(std::string_view asset, std::string_view signal) {
  const std::string key = SignalRef(asset, signal).key;
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement get, Statement::Prepare(db_, path_,
                                                          "SELECT " + std::string(kSignalColumns) +
                                                              " FROM signals s WHERE key = ?1"));
  WEFT_RETURN_IF_ERROR(get.Bind(1, key));
  WEFT_ASSIGN_OR_RETURN(bool row, get.Step("reading signal"));
  if (!row) return NotFoundError("catalog: unknown signal '" + key + "'");
  return ReadSignal(get);
}

Result<std::vector<Tag>> Catalog::TagsOf(const EntityRef& entity) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement get,
      Statement::Prepare(db_, path_,
                         "SELECT tag_key, tag_value, source FROM tags WHERE entity_kind = ?1 AND "
                         "entity_key = ?2 ORDER BY tag_key, rank DESC, source"));
  WEFT_RETURN_IF_ERROR(get.BindAll(EntityKindName(entity.kind), entity.key));
  std::vector<Tag> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, get.Step("reading tags of " + ToString(entity)));
    if (!row) break;
    out.push_back(Tag{get.Text(0), get.Text(1), get.Text(2)});
  }
  return out;
}

Result<std::map<std::string, std::string>> Catalog::EffectiveTags(const EntityRef& entity) {
  WEFT_ASSIGN_OR_RETURN(std::vector<Tag> all, TagsOf(entity));
  std::map<std::string, std::string> out;
  for (Tag& t : all) out.emplace(std::move(t.key), std::move(t.value));  // first = effective
  return out;
}

Result<std::map<std::string, std::string>> Catalog::SignalTags(std::string_view asset,
                                                               std::string_view signal) {
  return EffectiveTags(SignalRef(asset, signal));
}

Result<std::vector<TableRecord>> Catalog::ListTables() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement get,
      Statement::Prepare(db_, path_,
                         "SELECT name, location, description, owner_domain, registered_at_us FROM "
                         "catalog_tables ORDER BY name"));
  std::vector<TableRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, get.Step("listing tables"));
    if (!row) break;
    out.push_back(TableRecord{get.Text(0), get.Text(1), get.Text(2), get.Text(3),
                              TimeFromUnixMicros(get.Int(4))});
  }
  return out;
}

Result<std::vector<ColumnRecord>> Catalog::ListColumns(std::string_view table) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(bool exists, EntityExistsLocked(TableRef(table)));
  if (!exists) return NotFoundError("catalog: unknown table '" + std::string(table) + "'");
  WEFT_ASSIGN_OR_RETURN(
      Statement get, Statement::Prepare(db_, path_,
                                        "SELECT table_name, name, type, description, position FROM "
                                        "catalog_columns WHERE table_name = ?1 ORDER BY position"));
  WEFT_RETURN_IF_ERROR(get.Bind(1, table));
  std::vector<ColumnRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, get.Step("listing columns"));
    if (!row) break;
    out.push_back(ColumnRecord{get.Text(0), get.Text(1), get.Text(2), get.Text(3), get.Int(4)});
  }
  return out;
}

Result<std::vector<ModelRecord>> Catalog::ListModels() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement get,
      Statement::Prepare(db_, path_,
                         "SELECT name, version, first_seen_us FROM models ORDER BY name, version"));
  std::vector<ModelRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, get.Step("listing models"));
    if (!row) break;
    out.push_back(ModelRecord{get.Text(0), get.Text(1), TimeFromUnixMicros(get.Int(2))});
  }
  return out;
}

Result<std::vector<LineageEdge>> Catalog::Lineage(const EntityRef& entity,
                                                  LineageDirection direction) {
  std::string sql = "SELECT up_kind, up_key, down_kind, down_key, how FROM lineage WHERE ";
  switch (direction) {
    case LineageDirection::kUpstream: sql += "down_kind = ?1 AND down_key = ?2"; break;
    case LineageDirection::kDownstream: sql += "up_kind = ?1 AND up_key = ?2"; break;
    case LineageDirection::kBoth:
      sql += "(down_kind = ?1 AND down_key = ?2) OR (up_kind = ?1 AND up_key = ?2)";
      break;
  }
  sql += " ORDER BY up_kind, up_key, down_kind, down_key";
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement get, Statement::Prepare(db_, path_, sql));
  WEFT_RETURN_IF_ERROR(get.BindAll(EntityKindName(entity.kind), entity.key));
  std::vector<LineageEdge> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, get.Step("reading lineage of " + ToString(entity)));
    if (!row) break;
    Result<EntityKind> up = ParseEntityKind(get.Text(0));
    Result<EntityKind> down = ParseEntityKind(get.Text(2));
    if (!up.ok() || !down.ok()) {
      return DataLossError("catalog " + path_ + ": lineage row with an unknown entity kind");
    }
    out.push_back(LineageEdge{{*up, get.Text(1)}, {*down, get.Text(3)}, get.Text(4)});
  }
  return out;
}

CatalogStats Catalog::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace weft::core::catalog
