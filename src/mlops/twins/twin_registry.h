// TwinRegistry: versioned digital twins, keyed by (name, version), in <state>/twins.db.
//
//   WEFT_ASSIGN_OR_RETURN(auto reg, TwinRegistry::Open(state_dir, &clock));
//   WEFT_ASSIGN_OR_RETURN(TwinVersion base, reg->EnsureBase("motor-l1", "motor", "alice"));
//   NewTwinVersion v{.name = "motor-l1", .parent_version = base.version,
//                    .parameters = fitted, .fit_metrics = metrics, .lineage = lineage,
//                    .created_by = "alice"};
//   WEFT_ASSIGN_OR_RETURN(TwinVersion fitted_v, reg->Register(v));   // "1.1.0"
//   WEFT_ASSIGN_OR_RETURN(auto twin, reg->MakeTwinFor("motor-l1", "1.1.0"));
//
// A name is a registry name ("motor", "motor-l1"); its base model is a src/twin model (MakeTwin).
// The base version of a name is the model's TwinInfo version ("1.0.0") with the model's default
// parameters, registered on first use (EnsureBase). Each registered version stores every
// parameter of the model (as TwinInfo reports it after the overrides), so a version reproduces
// the same twin even if a model's defaults change later. Register gives the next minor of the
// parent's major (1.1.0, 1.2.0, ...), numbered inside one IMMEDIATE transaction: two processes
// registering at once get different versions. Versions are immutable.
//
// Thread-safety: a TwinRegistry may be used from several threads (a mutex serialises the
// connection); several processes may share the file (SQLite WAL, busy timeout). Durability: every
// commit is synced (Durability::kFull).
#ifndef WEFT_MLOPS_TWINS_TWIN_REGISTRY_H_
#define WEFT_MLOPS_TWINS_TWIN_REGISTRY_H_

#include <sqlite3.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "twin/twin.h"

namespace weft::mlops {

struct CalibrationSeries;

struct TwinVersion {
  std::string name;                          //!< registry name, e.g. "motor-l1"
  std::string base_model;                    //!< src/twin model, e.g. "motor"
  std::string version;                       //!< semantic version, e.g. "1.1.0"
  std::map<std::string, double> parameters;  //!< every parameter of the model
  std::string parent_version;                //!< "" for a base version
  nlohmann::json fit_metrics = nlohmann::json::object();
  nlohmann::json lineage = nlohmann::json::object();  //!< data the version was fitted on
  TimePoint created_at{};
  std::string created_by;
};

struct NewTwinVersion {
  std::string name;
  //! The parent must exist; the new version takes its base model and the next minor version.
  std::string parent_version;
  //! Overrides of the parent's parameters (usually the fitted ones); unknown names are refused.
  std::map<std::string, double> parameters;
  nlohmann::json fit_metrics = nlohmann::json::object();
  nlohmann::json lineage = nlohmann::json::object();
  std::string created_by;
};

struct ParameterDiff {
  std::string name;
  double a = 0, b = 0;
  double abs_diff = 0;  //!< b - a
  double rel_diff = 0;  //!< (b - a) / |a|; 0 when a is 0 and b is 0, inf when only a is 0
};

struct MetricDiff {
  std::string name;  //!< dotted path into fit_metrics, e.g. "rmse_after.winding_temp"
  std::optional<double> a, b;
};

struct TwinComparison {
  TwinVersion a, b;
  std::vector<ParameterDiff> parameters;  //!< only the parameters that differ, by name
  std::vector<MetricDiff> metrics;        //!< numeric leaves present in either version
  //! With a series: RMSE of each version's noise-free run per output (output -> value).
  std::map<std::string, double> rmse_a, rmse_b;
};

class TwinRegistry {
 public:
  //! Opens (creating) <state_dir>/twins.db; makes state_dir when missing. REQUIRES: clock
  //! outlives the registry.
  static Result<std::unique_ptr<TwinRegistry>> Open(const std::string& state_dir,
                                                    const Clock* clock);
  ~TwinRegistry();
  TwinRegistry(const TwinRegistry&) = delete;
  TwinRegistry& operator=(const TwinRegistry&) = delete;

  //! The base version (model's TwinInfo version and default parameters) of `name`, registered
  //! now when absent. InvalidArgument for an unknown model or a bad name; FailedPrecondition
  //! when `name` exists with another base model.
  Result<TwinVersion> EnsureBase(std::string_view name, std::string_view base_model,
                                 std::string_view created_by);
  //! Registers the next minor version after the parent's major (see the file comment).
  Result<TwinVersion> Register(const NewTwinVersion& v);

  //! NotFound naming the versions that exist.
  Result<TwinVersion> Get(std::string_view name, std::string_view version) const;
  //! Every version (of `name` when given), ordered by name then version number.
  Result<std::vector<TwinVersion>> List(std::optional<std::string_view> name = std::nullopt) const;
  //! The highest version of `name`; NotFound when it has none.
  Result<TwinVersion> Latest(std::string_view name) const;
  //! A ready twin with the version's parameters. A built-in model's own name at its base version
  //! is registered on first use.
  Result<std::unique_ptr<twin::Twin>> MakeTwinFor(std::string_view name, std::string_view version);

  //! Parameter and fit metric differences from a to b; with `series`, the RMSE of each version
  //! on it (noise-free runs, as calibration measures them).
  Result<TwinComparison> Compare(std::string_view name, std::string_view version_a,
                                 std::string_view version_b,
                                 const CalibrationSeries* series = nullptr) const;

  const std::string& path() const { return path_; }

 private:
  TwinRegistry(std::string path, sqlite3* db, const Clock* clock);
  Result<TwinVersion> GetLocked(std::string_view name, std::string_view version) const;
  Status Insert(const TwinVersion& v);

  const std::string path_;
  const Clock* clock_;
  mutable std::mutex mutex_;
  sqlite3* db_;  //!< GUARDED_BY(mutex_)
};

//! "1.2.0" -> {1, 2, 0}; InvalidArgument otherwise.
Result<std::array<int64_t, 3>> ParseSemver(std::string_view version);

}  // namespace weft::mlops

#endif  // WEFT_MLOPS_TWINS_TWIN_REGISTRY_H_
