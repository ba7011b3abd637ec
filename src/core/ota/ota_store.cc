#include "core/ota/ota_store.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "sqlite/statement.h"

namespace weft::core::ota {
namespace {

using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::Statement;
using ::weft::sqlite::Transaction;

// One migration per element; never edit a released one, append.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE hardware_models (
  name          TEXT PRIMARY KEY NOT NULL,
  certified     INTEGER NOT NULL CHECK (certified IN (0, 1)),
  notes         TEXT NOT NULL,
  updated_at_us INTEGER NOT NULL
);
CREATE TABLE firmware (
  hardware_model TEXT NOT NULL,
  version        TEXT NOT NULL,
  status         TEXT NOT NULL,
  released_at_us INTEGER,
  notes          TEXT NOT NULL,
  updated_at_us  INTEGER NOT NULL,
  PRIMARY KEY (hardware_model, version)
);
CREATE TABLE bench (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  device         TEXT NOT NULL,
  hardware_model TEXT NOT NULL,
  model          TEXT NOT NULL,
  model_version  TEXT NOT NULL,
  p50_us         INTEGER NOT NULL,
  p99_us         INTEGER NOT NULL,
  samples        INTEGER NOT NULL,
  ts_us          INTEGER NOT NULL
);
CREATE INDEX bench_by_device ON bench (device, model, model_version);
CREATE TABLE artifacts (
  sha256          TEXT PRIMARY KEY NOT NULL,
  kind            TEXT NOT NULL,
  name            TEXT NOT NULL,
  version         TEXT NOT NULL,
  size            INTEGER NOT NULL,
  hardware_models TEXT NOT NULL,
  manifest        TEXT NOT NULL,
  signature       TEXT NOT NULL,
  uploaded_by     TEXT NOT NULL,
  uploaded_at_us  INTEGER NOT NULL
);
CREATE TABLE devices (
  id             TEXT PRIMARY KEY NOT NULL,
  hardware_model TEXT NOT NULL,
  site           TEXT NOT NULL,
  versions       TEXT NOT NULL,
  last_seen_us   INTEGER NOT NULL
);
CREATE TABLE version_history (
  device   TEXT NOT NULL,
  key      TEXT NOT NULL,
  version  TEXT NOT NULL,
  since_us INTEGER NOT NULL
);
CREATE INDEX version_history_by_device ON version_history (device, key, since_us);
CREATE TABLE campaigns (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT NOT NULL UNIQUE,
  spec           TEXT NOT NULL,
  state          TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at_us  INTEGER NOT NULL,
  started_at_us  INTEGER,
  finished_at_us INTEGER,
  current_wave   INTEGER NOT NULL,
  waived_wave    INTEGER NOT NULL,
  state_reason   TEXT NOT NULL
);
CREATE TABLE campaign_devices (
  campaign         TEXT NOT NULL,
  device           TEXT NOT NULL,
  wave             INTEGER NOT NULL,
  state            TEXT NOT NULL,
  sent_at_us       INTEGER,
  updated_at_us    INTEGER NOT NULL,
  version          TEXT NOT NULL,
  previous_version TEXT NOT NULL,
  reason           TEXT NOT NULL,
  PRIMARY KEY (campaign, device)
);
)sql",
};

std::optional<int64_t> OptMicros(const std::optional<TimePoint>& t) {
  return t ? std::optional<int64_t>(UnixMicros(*t)) : std::nullopt;
}
std::optional<TimePoint> OptTime(std::optional<int64_t> us) {
  return us ? std::optional<TimePoint>(TimeFromUnixMicros(*us)) : std::nullopt;
}

nlohmann::json SpecJson(const CampaignSpec& s) {
  nlohmann::json j = {{"name", s.name},
                      {"artifact", s.artifact},
                      {"sites", s.sites},
                      {"hardware_models", s.hardware_models},
                      {"firmware", s.firmware},
                      {"waves", s.waves},
                      {"success_threshold", s.success_threshold},
                      {"error_threshold", s.error_threshold},
                      {"health_timeout_s", s.health_timeout_s},
                      {"device_timeout_s", s.device_timeout_s}};
  j["latency_budget_us"] =
      s.latency_budget_us ? nlohmann::json(*s.latency_budget_us) : nlohmann::json(nullptr);
  return j;
}

Result<CampaignSpec> SpecFromStored(const std::string& text, const std::string& path) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    CampaignSpec s;
    s.name = j.at("name").get<std::string>();
    s.artifact = j.at("artifact").get<std::string>();
    s.sites = j.at("sites").get<std::vector<std::string>>();
    s.hardware_models = j.at("hardware_models").get<std::vector<std::string>>();
    s.firmware = j.at("firmware").get<std::vector<std::string>>();
    s.waves = j.at("waves").get<std::vector<std::string>>();
    s.success_threshold = j.at("success_threshold").get<double>();
    s.error_threshold = j.at("error_threshold").get<double>();
    s.health_timeout_s = j.at("health_timeout_s").get<int64_t>();
    s.device_timeout_s = j.at("device_timeout_s").get<int64_t>();
    if (!j.at("latency_budget_us").is_null()) {
      s.latency_budget_us = j.at("latency_budget_us").get<int64_t>();
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(path + ": a stored campaign spec does not read: " + e.what());
  }
}

constexpr std::string_view kCampaignColumns =
    "id, spec, state, created_by, created_at_us, started_at_us, finished_at_us, current_wave, "
    "waived_wave, state_reason";

Result<Campaign> ReadCampaign(const Statement& q, const std::string& path) {
  Campaign c;
  c.id = q.Text(0);
  WEFT_ASSIGN_OR_RETURN(c.spec, SpecFromStored(q.Text(1), path));
  Result<CampaignState> st = ParseCampaignState(q.Text(2));
  if (!st.ok()) return DataLossError(path + ": campaign " + c.id + ": " + st.status().message());
  c.state = *st;
  c.created_by = q.Text(3);
  c.created_at = TimeFromUnixMicros(q.Int(4));
  c.started_at = OptTime(q.OptionalInt(5));
  c.finished_at = OptTime(q.OptionalInt(6));
  c.current_wave = static_cast<int>(q.Int(7));
  c.waived_wave = static_cast<int>(q.Int(8));
  c.state_reason = q.Text(9);
  return c;
}

constexpr std::string_view kDeviceColumns =
    "campaign, device, wave, state, sent_at_us, updated_at_us, version, previous_version, reason";

CampaignDevice ReadCampaignDevice(const Statement& q) {
  CampaignDevice d;
  d.campaign = q.Text(0);
  d.device = q.Text(1);
  d.wave = static_cast<int>(q.Int(2));
  d.state = q.Text(3);
  d.sent_at = OptTime(q.OptionalInt(4));
  d.updated_at = TimeFromUnixMicros(q.Int(5));
  d.version = q.Text(6);
  d.previous_version = q.Text(7);
  d.reason = q.Text(8);
  return d;
}

constexpr std::string_view kFirmwareColumns =
    "hardware_model, version, status, released_at_us, notes, updated_at_us";

Result<FirmwareVersion> ReadFirmware(const Statement& q, const std::string& path) {
  FirmwareVersion f;
  f.hardware_model = q.Text(0);
  f.version = q.Text(1);
  Result<FirmwareStatus> st = ParseFirmwareStatus(q.Text(2));
  if (!st.ok())
    return DataLossError(path + ": firmware " + f.version + ": " + st.status().message());
  f.status = *st;
  f.released_at = OptTime(q.OptionalInt(3));
  f.notes = q.Text(4);
  f.updated_at = TimeFromUnixMicros(q.Int(5));
  return f;
}

constexpr std::string_view kArtifactColumns =
    "sha256, kind, name, version, size, hardware_models, manifest, signature, uploaded_by, "
    "uploaded_at_us";

ArtifactRecord ReadArtifact(const Statement& q) {
  ArtifactRecord a;
  a.sha256 = q.Text(0);
  a.kind = q.Text(1);
  a.name = q.Text(2);
  a.version = q.Text(3);
  a.size = static_cast<uint64_t>(q.Int(4));
  a.hardware_models = SplitList(q.Text(5));
  a.manifest = q.Text(6);
  a.signature = q.Text(7);
  a.uploaded_by = q.Text(8);
  a.uploaded_at = TimeFromUnixMicros(q.Int(9));
  return a;
}

std::string Sql(std::string_view a, std::string_view b, std::string_view c = "") {
  return std::string(a) + std::string(b) + std::string(c);
}

}  // namespace

std::string_view FirmwareStatusName(FirmwareStatus s) {
  switch (s) {
    case FirmwareStatus::kCandidate: return "candidate";
    case FirmwareStatus::kCertified: return "certified";
    case FirmwareStatus::kDeprecated: return "deprecated";
    case FirmwareStatus::kVulnerable: return "vulnerable";
  }
  return "candidate";
}

Result<FirmwareStatus> ParseFirmwareStatus(std::string_view name) {
  for (FirmwareStatus s : {FirmwareStatus::kCandidate, FirmwareStatus::kCertified,
                           FirmwareStatus::kDeprecated, FirmwareStatus::kVulnerable}) {
    if (FirmwareStatusName(s) == name) return s;
  }
  return InvalidArgumentError("firmware status '" + std::string(name) +
                              "' is not one of candidate, certified, deprecated, vulnerable");
}

std::string_view CampaignStateName(CampaignState s) {
  switch (s) {
    case CampaignState::kDraft: return "draft";
    case CampaignState::kRunning: return "running";
    case CampaignState::kPaused: return "paused";
    case CampaignState::kFinished: return "finished";
    case CampaignState::kCancelled: return "cancelled";
  }
  return "draft";
}

Result<CampaignState> ParseCampaignState(std::string_view name) {
  for (CampaignState s : {CampaignState::kDraft, CampaignState::kRunning, CampaignState::kPaused,
                          CampaignState::kFinished, CampaignState::kCancelled}) {
    if (CampaignStateName(s) == name) return s;
  }
  return InvalidArgumentError("campaign state '" + std::string(name) + "' is unknown");
}

bool IsFinalDeviceState(std::string_view s) {
  return s == "succeeded" || s == "failed" || s == "rolled_back" || s == "timed_out" ||
         s == "cancelled";
}
bool IsFailedDeviceState(std::string_view s) {
  return s == "failed" || s == "rolled_back" || s == "timed_out";
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) {
    if (!out.empty()) out += ',';
    out += i;
  }
  return out;
}

int CompareVersions(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) {
    const size_t end = s.find_first_of(".-+");
    std::string_view part = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
    return part;
  };
  auto numeric = [](std::string_view p, uint64_t* v) {
    if (p.empty() || p.size() > 18) return false;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), *v);
    return ec == std::errc() && ptr == p.data() + p.size();
  };
  while (!a.empty() || !b.empty()) {
    if (a.empty()) return -1;
    if (b.empty()) return 1;
    const std::string_view pa = next(a), pb = next(b);
    uint64_t va = 0, vb = 0;
    if (numeric(pa, &va) && numeric(pb, &vb)) {
      if (va != vb) return va < vb ? -1 : 1;
    } else if (pa != pb) {
      return pa < pb ? -1 : 1;
    }
  }
  return 0;
}

Result<std::unique_ptr<OtaStore>> OtaStore::Open(const std::string& path) {
  WEFT_ASSIGN_OR_RETURN(
      sqlite3 * db, ::weft::sqlite::OpenDatabase(path, "ota", ::weft::sqlite::Durability::kFull));
  std::unique_ptr<OtaStore> s(new OtaStore(path, db));
  WEFT_RETURN_IF_ERROR(::weft::sqlite::Migrate(db, path, "ota", kMigrations));
  return s;
}

OtaStore::~OtaStore() {
  sqlite3_close_v2(db_);
}

Status OtaStore::PutHardwareModel(const HardwareModel& m) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "INSERT INTO hardware_models (name, certified, notes, updated_at_us) "
                         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
                         "certified = ?2, notes = ?3, updated_at_us = ?4"));
  WEFT_RETURN_IF_ERROR(
      q.BindAll(m.name, int64_t{m.certified ? 1 : 0}, m.notes, UnixMicros(m.updated_at)));
  return q.Run("storing hardware model '" + m.name + "'");
}

Result<HardwareModel> OtaStore::GetHardwareModel(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        "SELECT name, certified, notes, "
                                                        "updated_at_us FROM hardware_models "
                                                        "WHERE name = ?1"));
  WEFT_RETURN_IF_ERROR(q.Bind(1, name));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading hardware model"));
  if (!row) return NotFoundError("unknown hardware model '" + std::string(name) + "'");
  return HardwareModel{q.Text(0), q.Int(1) != 0, q.Text(2), TimeFromUnixMicros(q.Int(3))};
}

Result<std::vector<HardwareModel>> OtaStore::ListHardwareModels() {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        "SELECT name, certified, notes, "
                                                        "updated_at_us FROM hardware_models "
                                                        "ORDER BY name"));
  std::vector<HardwareModel> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing hardware models"));
    if (!row) break;
    out.push_back({q.Text(0), q.Int(1) != 0, q.Text(2), TimeFromUnixMicros(q.Int(3))});
  }
  return out;
}

Status OtaStore::PutFirmware(const FirmwareVersion& f) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(
          db_, path_,
          "INSERT INTO firmware (hardware_model, version, status, released_at_us, notes, "
          "updated_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hardware_model, version) "
          "DO UPDATE SET status = ?3, released_at_us = COALESCE(released_at_us, ?4), notes = ?5, "
          "updated_at_us = ?6"));
  WEFT_RETURN_IF_ERROR(q.BindAll(f.hardware_model, f.version, FirmwareStatusName(f.status),
                                 OptMicros(f.released_at), f.notes, UnixMicros(f.updated_at)));
  return q.Run("storing firmware " + f.hardware_model + "/" + f.version);
}

Result<FirmwareVersion> OtaStore::GetFirmware(std::string_view hardware_model,
                                              std::string_view version) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         Sql("SELECT ", kFirmwareColumns,
                             " FROM firmware WHERE hardware_model = ?1 AND version = ?2")));
  WEFT_RETURN_IF_ERROR(q.BindAll(hardware_model, version));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading firmware"));
  if (!row) {
    return NotFoundError("unknown firmware " + std::string(hardware_model) + "/" +
                         std::string(version) + " (register it first)");
  }
  return ReadFirmware(q, path_);
}

Result<std::vector<FirmwareVersion>> OtaStore::ListFirmware(std::string_view hardware_model) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q, Statement::Prepare(db_, path_,
                                      Sql("SELECT ", kFirmwareColumns,
                                          " FROM firmware WHERE ?1 = '' OR hardware_model = ?1 "
                                          "ORDER BY hardware_model, version")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, hardware_model));
  std::vector<FirmwareVersion> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing firmware"));
    if (!row) break;
    WEFT_ASSIGN_OR_RETURN(FirmwareVersion f, ReadFirmware(q, path_));
    out.push_back(std::move(f));
  }
  return out;
}

Status OtaStore::AddBench(const BenchReport& r, int keep_per_device) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(
      Statement ins,
      Statement::Prepare(
          db_, path_,
          "INSERT INTO bench (device, hardware_model, model, model_version, "
          "p50_us, p99_us, samples, ts_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  WEFT_RETURN_IF_ERROR(ins.BindAll(r.device, r.hardware_model, r.model, r.model_version, r.p50_us,
                                   r.p99_us, r.samples, UnixMicros(r.ts)));
  WEFT_RETURN_IF_ERROR(ins.Run("storing a bench report"));
  WEFT_ASSIGN_OR_RETURN(
      Statement trim,
      Statement::Prepare(db_, path_,
                         "DELETE FROM bench WHERE device = ?1 AND model = ?2 AND "
                         "model_version = ?3 AND id NOT IN (SELECT id FROM bench WHERE "
                         "device = ?1 AND model = ?2 AND model_version = ?3 "
                         "ORDER BY ts_us DESC, id DESC LIMIT ?4)"));
  WEFT_RETURN_IF_ERROR(
      trim.BindAll(r.device, r.model, r.model_version, static_cast<int64_t>(keep_per_device)));
  WEFT_RETURN_IF_ERROR(trim.Run("trimming bench reports"));
  return tx.Commit();
}

Result<std::vector<BenchReport>> OtaStore::ListBench(std::string_view hardware_model,
                                                     std::string_view model) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "SELECT device, hardware_model, model, model_version, p50_us, p99_us, "
                         "samples, ts_us FROM bench WHERE (?1 = '' OR hardware_model = ?1) AND "
                         "(?2 = '' OR model = ?2) ORDER BY hardware_model, model, model_version, "
                         "device, ts_us"));
  WEFT_RETURN_IF_ERROR(q.BindAll(hardware_model, model));
  std::vector<BenchReport> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing bench reports"));
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.Int(5), q.Int(6),
                   TimeFromUnixMicros(q.Int(7))});
  }
  return out;
}

Status OtaStore::PutArtifact(const ArtifactRecord& a) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q, Statement::Prepare(db_, path_,
                                      Sql("INSERT INTO artifacts (", kArtifactColumns,
                                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")));
  const std::string models = JoinList(a.hardware_models);
  WEFT_RETURN_IF_ERROR(q.BindAll(a.sha256, a.kind, a.name, a.version, static_cast<int64_t>(a.size),
                                 models, a.manifest, a.signature, a.uploaded_by,
                                 UnixMicros(a.uploaded_at)));
  Status s = q.Run("storing artifact " + a.sha256);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("artifact " + a.sha256 + " is already stored");
  }
  return s;
}

Result<ArtifactRecord> OtaStore::GetArtifact(std::string_view sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        Sql("SELECT ", kArtifactColumns,
                                                            " FROM artifacts WHERE sha256 = ?1")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, sha256));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading artifact"));
  if (!row) return NotFoundError("unknown artifact '" + std::string(sha256) + "'");
  return ReadArtifact(q);
}

Result<std::vector<ArtifactRecord>> OtaStore::ListArtifacts() {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_,
                                           Sql("SELECT ", kArtifactColumns,
                                               " FROM artifacts ORDER BY uploaded_at_us, sha256")));
  std::vector<ArtifactRecord> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing artifacts"));
    if (!row) break;
    out.push_back(ReadArtifact(q));
  }
  return out;
}

Status OtaStore::PutInventory(const InventoryDevice& d) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(Statement old, Statement::Prepare(db_, path_,
                                                          "SELECT versions FROM devices "
                                                          "WHERE id = ?1"));
  WEFT_RETURN_IF_ERROR(old.Bind(1, d.id));
  std::map<std::string, std::string> before;
  WEFT_ASSIGN_OR_RETURN(bool row, old.Step("reading device"));
  if (row) {
    try {
      before = nlohmann::json::parse(old.Text(0)).get<std::map<std::string, std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return DataLossError(path_ + ": device " + d.id + ": stored versions: " + e.what());
    }
  }
  const std::string versions = nlohmann::json(d.versions).dump();
  WEFT_ASSIGN_OR_RETURN(
      Statement up,
      Statement::Prepare(db_, path_,
                         "INSERT INTO devices (id, hardware_model, site, versions, last_seen_us) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
                         "hardware_model = ?2, site = ?3, versions = ?4, last_seen_us = "
                         "MAX(last_seen_us, ?5)"));
  WEFT_RETURN_IF_ERROR(
      up.BindAll(d.id, d.hardware_model, d.site, versions, UnixMicros(d.last_seen)));
  WEFT_RETURN_IF_ERROR(up.Run("storing device " + d.id));
  WEFT_ASSIGN_OR_RETURN(Statement hist,
                        Statement::Prepare(db_, path_,
                                           "INSERT INTO version_history (device, key, version, "
                                           "since_us) VALUES (?1, ?2, ?3, ?4)"));
  for (const auto& [key, version] : d.versions) {
    auto it = before.find(key);
    if (it != before.end() && it->second == version) continue;
    WEFT_RETURN_IF_ERROR(hist.BindAll(d.id, key, version, UnixMicros(d.last_seen)));
    WEFT_RETURN_IF_ERROR(hist.Run("recording a version change of " + d.id));
  }
  return tx.Commit();
}

Result<std::vector<InventoryDevice>> OtaStore::ListInventory() {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        "SELECT id, hardware_model, site, "
                                                        "versions, last_seen_us FROM devices "
                                                        "ORDER BY id"));
  std::vector<InventoryDevice> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing devices"));
    if (!row) break;
    InventoryDevice d{q.Text(0), q.Text(1), q.Text(2), {}, TimeFromUnixMicros(q.Int(4))};
    try {
      d.versions = nlohmann::json::parse(q.Text(3)).get<std::map<std::string, std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return DataLossError(path_ + ": device " + d.id + ": stored versions: " + e.what());
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<VersionChange>> OtaStore::HistoryLocked(std::string_view device,
                                                           std::string_view key) {
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "SELECT device, key, version, since_us FROM version_history WHERE "
                         "(?1 = '' OR device = ?1) AND (?2 = '' OR key = ?2) "
                         "ORDER BY device, key, since_us, rowid"));
  WEFT_RETURN_IF_ERROR(q.BindAll(device, key));
  std::vector<VersionChange> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading version history"));
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), TimeFromUnixMicros(q.Int(3))});
  }
  return out;
}

Result<std::vector<VersionChange>> OtaStore::VersionHistory(std::string_view device,
                                                            std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  return HistoryLocked(device, key);
}

Result<std::string> OtaStore::CreateCampaign(const Campaign& c) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(Statement next, Statement::Prepare(db_, path_,
                                                           "SELECT COALESCE(MAX(seq), 0) + 1 "
                                                           "FROM campaigns"));
  WEFT_ASSIGN_OR_RETURN(bool row, next.Step("numbering a campaign"));
  const std::string id = "c" + std::to_string(row ? next.Int(0) : 1);
  WEFT_ASSIGN_OR_RETURN(
      Statement q, Statement::Prepare(db_, path_,
                                      Sql("INSERT INTO campaigns (", kCampaignColumns,
                                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")));
  const std::string spec = SpecJson(c.spec).dump();
  WEFT_RETURN_IF_ERROR(q.BindAll(id, spec, CampaignStateName(c.state), c.created_by,
                                 UnixMicros(c.created_at), OptMicros(c.started_at),
                                 OptMicros(c.finished_at), int64_t{c.current_wave},
                                 int64_t{c.waived_wave}, c.state_reason));
  WEFT_RETURN_IF_ERROR(q.Run("creating campaign"));
  WEFT_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Status OtaStore::UpdateCampaign(const Campaign& c) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "UPDATE campaigns SET state = ?2, started_at_us = ?3, finished_at_us = "
                         "?4, current_wave = ?5, waived_wave = ?6, state_reason = ?7 WHERE id = "
                         "?1"));
  WEFT_RETURN_IF_ERROR(q.BindAll(c.id, CampaignStateName(c.state), OptMicros(c.started_at),
                                 OptMicros(c.finished_at), int64_t{c.current_wave},
                                 int64_t{c.waived_wave}, c.state_reason));
  WEFT_RETURN_IF_ERROR(q.Run("updating campaign " + c.id));
  if (sqlite3_changes(db_) == 0) return NotFoundError("unknown campaign '" + c.id + "'");
  return Status::Ok();
}

Result<Campaign> OtaStore::GetCampaign(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        Sql("SELECT ", kCampaignColumns,
                                                            " FROM campaigns WHERE id = ?1")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, id));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading campaign"));
  if (!row) return NotFoundError("unknown campaign '" + std::string(id) + "'");
  return ReadCampaign(q, path_);
}

Result<std::vector<Campaign>> OtaStore::ListCampaigns() {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        Sql("SELECT ", kCampaignColumns,
                                                            " FROM campaigns ORDER BY seq")));
  std::vector<Campaign> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing campaigns"));
    if (!row) break;
    WEFT_ASSIGN_OR_RETURN(Campaign c, ReadCampaign(q, path_));
    out.push_back(std::move(c));
  }
  return out;
}

Status OtaStore::AddCampaignDevices(const std::vector<CampaignDevice>& devices) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_,
                                           Sql("INSERT INTO campaign_devices (", kDeviceColumns,
                                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")));
  for (const CampaignDevice& d : devices) {
    WEFT_RETURN_IF_ERROR(q.BindAll(d.campaign, d.device, int64_t{d.wave}, d.state,
                                   OptMicros(d.sent_at), UnixMicros(d.updated_at), d.version,
                                   d.previous_version, d.reason));
    WEFT_RETURN_IF_ERROR(q.Run("adding device " + d.device + " to campaign " + d.campaign));
  }
  return tx.Commit();
}

Status OtaStore::UpdateCampaignDevice(const CampaignDevice& d) {
  return UpdateCampaignDevices({d});
}

Status OtaStore::UpdateCampaignDevices(const std::vector<CampaignDevice>& devices) {
  if (devices.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "UPDATE campaign_devices SET wave = ?3, state = ?4, sent_at_us = ?5, "
                         "updated_at_us = ?6, version = ?7, previous_version = ?8, reason = ?9 "
                         "WHERE campaign = ?1 AND device = ?2"));
  for (const CampaignDevice& d : devices) {
    WEFT_RETURN_IF_ERROR(q.BindAll(d.campaign, d.device, int64_t{d.wave}, d.state,
                                   OptMicros(d.sent_at), UnixMicros(d.updated_at), d.version,
                                   d.previous_version, d.reason));
    WEFT_RETURN_IF_ERROR(q.Run("updating device " + d.device + " of campaign " + d.campaign));
  }
  return tx.Commit();
}

Result<std::optional<CampaignDevice>> OtaStore::GetCampaignDevice(std::string_view campaign,
                                                                  std::string_view device) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         Sql("SELECT ", kDeviceColumns,
                             " FROM campaign_devices WHERE campaign = ?1 AND device = ?2")));
  WEFT_RETURN_IF_ERROR(q.BindAll(campaign, device));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading a campaign device"));
  if (!row) return std::optional<CampaignDevice>();
  return std::optional<CampaignDevice>(ReadCampaignDevice(q));
}

Result<std::vector<CampaignDevice>> OtaStore::ListCampaignDevices(std::string_view campaign) {
  std::lock_guard<std::mutex> lock(mu_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_,
                                           Sql("SELECT ", kDeviceColumns,
                                               " FROM campaign_devices WHERE campaign = ?1 "
                                               "ORDER BY wave, device")));
  WEFT_RETURN_IF_ERROR(q.Bind(1, campaign));
  std::vector<CampaignDevice> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing campaign devices"));
    if (!row) break;
    out.push_back(ReadCampaignDevice(q));
  }
  return out;
}

}  // namespace weft::core::ota
