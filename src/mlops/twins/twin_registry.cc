#include "mlops/twins/twin_registry.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <utility>

#include "mlops/twins/calibration.h"
#include "model/yaml_reader.h"
#include "sqlite/statement.h"

namespace weft::mlops {
namespace {

using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::Statement;
using ::weft::sqlite::Transaction;

// One migration per element, applied in order; never edit a released one, append. Times are µs
// since the Unix epoch (UTC); JSON columns hold objects.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE twin_versions (
  name             TEXT NOT NULL,
  version          TEXT NOT NULL,
  major            INTEGER NOT NULL,
  minor            INTEGER NOT NULL,
  patch            INTEGER NOT NULL,
  base_model       TEXT NOT NULL,
  parameters_json  TEXT NOT NULL,
  parent_version   TEXT NOT NULL DEFAULT '',
  fit_metrics_json TEXT NOT NULL DEFAULT '{}',
  lineage_json     TEXT NOT NULL DEFAULT '{}',
  created_at_us    INTEGER NOT NULL,
  created_by       TEXT NOT NULL,
  PRIMARY KEY (name, version),
  UNIQUE (name, major, minor, patch)
);
)sql",
};

constexpr std::string_view kColumns =
    "name, version, base_model, parameters_json, parent_version, fit_metrics_json, "
    "lineage_json, created_at_us, created_by";

Result<nlohmann::json> ParseJsonColumn(const std::string& text, const std::string& path,
                                       std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return DataLossError(path + ": " + std::string(what) + " is not valid JSON");
  }
  return j;
}

Result<TwinVersion> ReadVersion(const Statement& row, const std::string& path) {
  TwinVersion v;
  v.name = row.Text(0);
  v.version = row.Text(1);
  v.base_model = row.Text(2);
  const std::string what = "twin " + v.name + "@" + v.version;
  WEFT_ASSIGN_OR_RETURN(nlohmann::json params, ParseJsonColumn(row.Text(3), path, what));
  if (!params.is_object()) return DataLossError(path + ": " + what + ": parameters not an object");
  for (const auto& [k, value] : params.items()) {
    if (!value.is_number()) return DataLossError(path + ": " + what + ": parameter " + k);
    v.parameters[k] = value.get<double>();
  }
  v.parent_version = row.Text(4);
  WEFT_ASSIGN_OR_RETURN(v.fit_metrics, ParseJsonColumn(row.Text(5), path, what));
  WEFT_ASSIGN_OR_RETURN(v.lineage, ParseJsonColumn(row.Text(6), path, what));
  v.created_at = TimeFromUnixMicros(row.Int(7));
  v.created_by = row.Text(8);
  return v;
}

std::string Sql(std::string_view head, std::string_view tail) {
  return std::string(head) + std::string(kColumns) + std::string(tail);
}

// Every numeric leaf of a JSON object, by dotted path.
void Flatten(const nlohmann::json& j, const std::string& prefix,
             std::map<std::string, double>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) Flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (j.is_number()) {
    (*out)[prefix] = j.get<double>();
  } else if (j.is_boolean()) {
    (*out)[prefix] = j.get<bool>() ? 1 : 0;
  }
}

std::map<std::string, double> FullParameters(const twin::Twin& t) {
  std::map<std::string, double> out;
  for (const twin::Parameter& p : t.info().parameters) out[p.name] = p.value;
  return out;
}

Status ValidateName(std::string_view name) {
  if (!model::IsValidId(name)) {
    return InvalidArgumentError("twin name '" + std::string(name) +
                                "' must be 1-128 characters from A-Z a-z 0-9 _ - .");
  }
  return Status::Ok();
}

Status ValidateActor(std::string_view actor) {
  if (actor.size() > 256) return InvalidArgumentError("created_by is longer than 256 characters");
  for (char c : actor) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return InvalidArgumentError("created_by has a control character");
  }
  return Status::Ok();
}

}  // namespace

Result<std::array<int64_t, 3>> ParseSemver(std::string_view version) {
  std::array<int64_t, 3> parts{};
  const char* p = version.data();
  const char* end = version.data() + version.size();
  for (size_t i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc() || next == p || parts[i] < 0) break;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') break;
      ++p;
    } else if (p == end) {
      return parts;
    }
  }
  return InvalidArgumentError("version '" + std::string(version) +
                              "' is not a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0");
}

Result<std::unique_ptr<TwinRegistry>> TwinRegistry::Open(const std::string& state_dir,
                                                         const Clock* clock) {
  if (clock == nullptr) return InvalidArgumentError("twin registry: no clock given");
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return FailedPreconditionError("twin registry: cannot create the state directory " + state_dir +
                                   ": " + ec.message());
  }
  const std::string path = (std::filesystem::path(state_dir) / "twins.db").string();
  WEFT_ASSIGN_OR_RETURN(
      sqlite3 * db,
      ::weft::sqlite::OpenDatabase(path, "twin registry", ::weft::sqlite::Durability::kFull));
  std::unique_ptr<TwinRegistry> reg(new TwinRegistry(path, db, clock));
  WEFT_RETURN_IF_ERROR(::weft::sqlite::Migrate(db, reg->path_, "twin registry", kMigrations));
  return reg;
}

TwinRegistry::TwinRegistry(std::string path, sqlite3* db, const Clock* clock)
    : path_(std::move(path)), clock_(clock), db_(db) {}

TwinRegistry::~TwinRegistry() {
  sqlite3_close_v2(db_);
}

Status TwinRegistry::Insert(const TwinVersion& v) {
  WEFT_ASSIGN_OR_RETURN(auto semver, ParseSemver(v.version));
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, value] : v.parameters) params[k] = value;
  const std::string params_text = params.dump();
  const std::string metrics_text = v.fit_metrics.dump();
  const std::string lineage_text = v.lineage.dump();
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, path_,
                         "INSERT INTO twin_versions (name, version, major, minor, patch, "
                         "base_model, parameters_json, parent_version, fit_metrics_json, "
                         "lineage_json, created_at_us, created_by) VALUES (?1, ?2, ?3, ?4, ?5, "
                         "?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  WEFT_RETURN_IF_ERROR(q.BindAll(std::string_view(v.name), std::string_view(v.version), semver[0],
                                 semver[1], semver[2], std::string_view(v.base_model),
                                 std::string_view(params_text), std::string_view(v.parent_version),
                                 std::string_view(metrics_text), std::string_view(lineage_text),
                                 UnixMicros(v.created_at), std::string_view(v.created_by)));
  return q.Run("registering twin " + v.name + "@" + v.version);
}

Result<TwinVersion> TwinRegistry::EnsureBase(std::string_view name, std::string_view base_model,
                                             std::string_view created_by) {
  WEFT_RETURN_IF_ERROR(ValidateName(name));
  WEFT_RETURN_IF_ERROR(ValidateActor(created_by));
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<twin::Twin> t, twin::MakeTwin(base_model, {}));
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, path_));
  {
    WEFT_ASSIGN_OR_RETURN(Statement q,
                          Statement::Prepare(db_, path_,
                                             "SELECT DISTINCT base_model FROM twin_versions WHERE "
                                             "name = ?1"));
    WEFT_RETURN_IF_ERROR(q.Bind(1, name));
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading twin " + std::string(name)));
    if (row && q.Text(0) != base_model) {
      return FailedPreconditionError("twin '" + std::string(name) + "' is a '" + q.Text(0) +
                                     "' twin, not a '" + std::string(base_model) + "' twin");
    }
  }
  Result<TwinVersion> existing = GetLocked(name, t->info().version);
  if (existing.ok()) return existing;
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  TwinVersion v;
  v.name = std::string(name);
  v.base_model = std::string(base_model);
  v.version = t->info().version;
  v.parameters = FullParameters(*t);
  v.created_at = clock_->Now();
  v.created_by = std::string(created_by);
  WEFT_RETURN_IF_ERROR(Insert(v));
  WEFT_RETURN_IF_ERROR(txn.Commit());
  return v;
}

Result<TwinVersion> TwinRegistry::Register(const NewTwinVersion& nv) {
  WEFT_RETURN_IF_ERROR(ValidateName(nv.name));
  WEFT_RETURN_IF_ERROR(ValidateActor(nv.created_by));
  // null (a default-constructed json) stands for "none": an empty object.
  auto object_or_empty = [](const nlohmann::json& j) {
    return j.is_null() ? nlohmann::json::object() : j;
  };
  if (!object_or_empty(nv.fit_metrics).is_object() || !object_or_empty(nv.lineage).is_object()) {
    return InvalidArgumentError("twin " + nv.name + ": fit metrics and lineage must be objects");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // IMMEDIATE: the highest minor is read and the next inserted under one write lock.
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, path_));
  WEFT_ASSIGN_OR_RETURN(TwinVersion parent, GetLocked(nv.name, nv.parent_version));
  WEFT_ASSIGN_OR_RETURN(auto semver, ParseSemver(parent.version));
  int64_t max_minor = 0;
  {
    WEFT_ASSIGN_OR_RETURN(Statement q,
                          Statement::Prepare(db_, path_,
                                             "SELECT MAX(minor) FROM twin_versions WHERE name = "
                                             "?1 AND major = ?2"));
    WEFT_RETURN_IF_ERROR(q.BindAll(std::string_view(nv.name), semver[0]));
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("numbering twin " + nv.name));
    if (row) max_minor = q.OptionalInt(0).value_or(0);
  }
  std::map<std::string, double> params = parent.parameters;
  for (const auto& [k, value] : nv.parameters) {
    if (params.count(k) == 0) {
      return InvalidArgumentError("twin " + nv.name + ": '" + parent.base_model +
                                  "' has no parameter '" + k + "'");
    }
    params[k] = value;
  }
  Result<std::unique_ptr<twin::Twin>> t = twin::MakeTwin(parent.base_model, params);
  if (!t.ok()) return t.status().WithContext("twin " + nv.name);
  TwinVersion v;
  v.name = nv.name;
  v.base_model = parent.base_model;
  v.version = std::to_string(semver[0]) + "." + std::to_string(max_minor + 1) + ".0";
  v.parameters = FullParameters(**t);
  v.parent_version = parent.version;
  v.fit_metrics = object_or_empty(nv.fit_metrics);
  v.lineage = object_or_empty(nv.lineage);
  v.created_at = clock_->Now();
  v.created_by = nv.created_by;
  WEFT_RETURN_IF_ERROR(Insert(v));
  WEFT_RETURN_IF_ERROR(txn.Commit());
  return v;
}

Result<TwinVersion> TwinRegistry::GetLocked(std::string_view name, std::string_view version) const {
  WEFT_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(db_, path_,
                                                        Sql("SELECT ",
                                                            " FROM twin_versions WHERE name = ?1 "
                                                            "AND version = ?2")));
  WEFT_RETURN_IF_ERROR(q.BindAll(name, version));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading twin " + std::string(name)));
  if (row) return ReadVersion(q, path_);
  WEFT_ASSIGN_OR_RETURN(Statement all,
                        Statement::Prepare(db_, path_,
                                           "SELECT version FROM twin_versions WHERE name = ?1 "
                                           "ORDER BY major, minor, patch"));
  WEFT_RETURN_IF_ERROR(all.Bind(1, name));
  std::string versions;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool more, all.Step("listing twin " + std::string(name)));
    if (!more) break;
    versions += (versions.empty() ? "" : ", ") + all.Text(0);
  }
  return NotFoundError("twin '" + std::string(name) + "' has no version '" + std::string(version) +
                       "'" +
                       (versions.empty() ? std::string(" (no version is registered)")
                                         : "; registered: " + versions));
}

Result<TwinVersion> TwinRegistry::Get(std::string_view name, std::string_view version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return GetLocked(name, version);
}

Result<std::vector<TwinVersion>> TwinRegistry::List(std::optional<std::string_view> name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, path_,
                                           Sql("SELECT ",
                                               " FROM twin_versions WHERE ?1 IS NULL OR "
                                               "name = ?1 ORDER BY name, major, minor, "
                                               "patch")));
  if (name) WEFT_RETURN_IF_ERROR(q.Bind(1, *name));
  std::vector<TwinVersion> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing twins"));
    if (!row) break;
    WEFT_ASSIGN_OR_RETURN(TwinVersion v, ReadVersion(q, path_));
    out.push_back(std::move(v));
  }
  return out;
}

Result<TwinVersion> TwinRegistry::Latest(std::string_view name) const {
  WEFT_ASSIGN_OR_RETURN(std::vector<TwinVersion> all, List(name));
  if (all.empty()) return NotFoundError("twin '" + std::string(name) + "' has no version");
  return all.back();
}

Result<std::unique_ptr<twin::Twin>> TwinRegistry::MakeTwinFor(std::string_view name,
                                                              std::string_view version) {
  Result<TwinVersion> v = Get(name, version);
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    const std::vector<std::string> models = twin::TwinModels();
    if (std::find(models.begin(), models.end(), name) != models.end()) {
      Result<TwinVersion> base = EnsureBase(name, name, "weft");
      if (base.ok() && base->version == version) v = std::move(base);
    }
  }
  if (!v.ok()) return v.status();
  Result<std::unique_ptr<twin::Twin>> t = twin::MakeTwin(v->base_model, v->parameters);
  if (!t.ok()) return t.status().WithContext("twin " + v->name + "@" + v->version);
  return t;
}

Result<TwinComparison> TwinRegistry::Compare(std::string_view name, std::string_view version_a,
                                             std::string_view version_b,
                                             const CalibrationSeries* series) const {
  TwinComparison c;
  WEFT_ASSIGN_OR_RETURN(c.a, Get(name, version_a));
  WEFT_ASSIGN_OR_RETURN(c.b, Get(name, version_b));
  std::map<std::string, double> names = c.a.parameters;
  names.insert(c.b.parameters.begin(), c.b.parameters.end());
  for (const auto& [k, unused] : names) {
    auto ia = c.a.parameters.find(k);
    auto ib = c.b.parameters.find(k);
    const double a = ia == c.a.parameters.end() ? 0 : ia->second;
    const double b = ib == c.b.parameters.end() ? 0 : ib->second;
    if (a == b && ia != c.a.parameters.end() && ib != c.b.parameters.end()) continue;
    ParameterDiff d{k, a, b, b - a, 0};
    if (a != 0) {
      d.rel_diff = (b - a) / std::abs(a);
    } else if (b != 0) {
      d.rel_diff = std::numeric_limits<double>::infinity();
    }
    c.parameters.push_back(d);
  }
  std::map<std::string, double> ma, mb;
  Flatten(c.a.fit_metrics, "", &ma);
  Flatten(c.b.fit_metrics, "", &mb);
  std::map<std::string, MetricDiff> metrics;
  for (const auto& [k, v] : ma) metrics[k].a = v;
  for (const auto& [k, v] : mb) metrics[k].b = v;
  for (auto& [k, d] : metrics) {
    d.name = k;
    c.metrics.push_back(d);
  }
  if (series != nullptr) {
    WEFT_ASSIGN_OR_RETURN(c.rmse_a, SeriesRmse(c.a.base_model, c.a.parameters, *series));
    WEFT_ASSIGN_OR_RETURN(c.rmse_b, SeriesRmse(c.b.base_model, c.b.parameters, *series));
  }
  return c;
}

}  // namespace weft::mlops
