#include "mlops/training/dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

#include "common/strings.h"
#include "common/time_format.h"
#include "edge/inference/features.h"
#include "edge/inference/tree_model.h"
#include "lake/lake_table.h"
#include "lake/predicate.h"
#include "mlops/twins/twin_registry.h"
#include "twin/twin.h"

namespace weft::mlops {

namespace {

using edge::inference::FeatureWindow;
using edge::inference::Stat;

constexpr double kCoarseStepS = 60;
constexpr double kLoadSegmentS = 6 * 3600;
constexpr double kAmbientSwingK = 4;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::vector<std::vector<Stat>> StatsPerSignal(const TrainSpec& spec) {
  std::vector<std::vector<Stat>> out;
  for (const auto& f : spec.features) out.push_back(f.stats);
  return out;
}

// Labels the rows of one finished run from its failure time (if any).
void LabelRun(const TrainSpec& spec, std::optional<int64_t> failure_us, DatasetRow* rows,
              size_t n) {
  const double horizon_s = static_cast<double>(spec.horizon.count()) * 1e-6;
  for (size_t i = 0; i < n; ++i) {
    DatasetRow& r = rows[i];
    if (failure_us && *failure_us > r.ts_us) {
      r.time_to_failure_s = static_cast<double>(*failure_us - r.ts_us) * 1e-6;
      r.label = r.time_to_failure_s <= horizon_s ? 1.0f : 0.0f;
    } else {
      r.time_to_failure_s = kNoFailure;
      r.label = 0;
    }
  }
}

std::string ResolvePath(const std::string& p, const std::filesystem::path& base_dir) {
  if (p.find("://") != std::string::npos) return p;
  std::filesystem::path path(p);
  return (path.is_absolute() ? path : base_dir / path).lexically_normal().string();
}

// A failure of an asset at `at`; its fault's start when known (labels CSV), not for work orders.
struct Failure {
  int64_t at = 0;
  std::optional<int64_t> start;
};

// The first failure strictly after `ts` in `fails` (sorted by `at`).
std::vector<Failure>::const_iterator NextFailure(const std::vector<Failure>& fails, int64_t ts) {
  return std::upper_bound(fails.begin(), fails.end(), ts,
                          [](int64_t t, const Failure& f) { return t < f.at; });
}

// a + b, saturated at INT64_MAX (both non-negative).
int64_t SaturatingAdd(int64_t a, int64_t b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

// "<column> >= '<from>' and <column> < '<to>'" and, with `with_date`, the day range of the
// `date` partition: lake::TimeRangePredicate's form for a time column not named `ts`.
std::string EventTimePredicate(std::string_view column, int64_t from_us, int64_t to_us,
                               bool with_date) {
  std::string where =
      std::string(column) + " >= " + lake::PredicateLiteral(FormatTimestampMicros(from_us)) +
      " and " + std::string(column) + " < " + lake::PredicateLiteral(FormatTimestampMicros(to_us));
  if (with_date) {
    where +=
        " and date >= " + lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(from_us)))) +
        " and date <= " + lake::PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(to_us - 1))));
  }
  return where;
}

bool HasColumn(const std::vector<lake::BatchField>& schema, std::string_view name,
               lake::ColumnType type) {
  for (const auto& f : schema) {
    if (f.name == name && f.type == type) return true;
  }
  return false;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(path + ": cannot open the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

size_t Dataset::positives() const {
  size_t n = 0;
  for (const auto& r : rows) n += r.label > 0.5f ? size_t{1} : size_t{0};
  return n;
}

size_t Dataset::confirmed_negatives() const {
  size_t n = 0;
  for (const auto& r : rows) n += r.confirmed_negative && r.label < 0.5f ? size_t{1} : size_t{0};
  return n;
}

void Dataset::Append(Dataset other) {
  if (feature_names.empty()) feature_names = other.feature_names;
  const auto shift = static_cast<uint32_t>(runs.size());
  for (auto& r : other.runs) runs.push_back(std::move(r));
  for (auto& r : other.rows) {
    r.run += shift;
    rows.push_back(std::move(r));
  }
  for (auto& [k, v] : other.lineage.items()) lineage[k] = v;
}

std::vector<float> Dataset::Matrix(const std::vector<size_t>& which) const {
  std::vector<float> x;
  x.reserve(which.size() * feature_names.size());
  for (size_t i : which) x.insert(x.end(), rows[i].features.begin(), rows[i].features.end());
  return x;
}

bool IsNormalOperation(const Dataset& ds, size_t i, Micros horizon) {
  const DatasetRow& row = ds.rows[i];
  const RunInfo& run = ds.runs[row.run];
  if (run.sensor_drift_start_us && row.ts_us > *run.sensor_drift_start_us) return false;
  if (!run.fault) return true;
  if (run.fault_start_us) return row.ts_us < *run.fault_start_us;
  return row.time_to_failure_s > 3 * static_cast<double>(horizon.count()) * 1e-6;
}

Result<ScenarioTwin> ResolveScenarioTwin(const TrainSpec& spec, const ScenarioOptions& options) {
  if (!spec.scenarios) return InvalidArgumentError(spec.file + ": the spec has no scenarios");
  const ScenarioSpec& sc = *spec.scenarios;
  ScenarioTwin out;
  if (sc.twin_registry.empty()) {
    out.base_model = sc.twin_model;
    return out;
  }
  const std::string field = spec.file + ": scenarios.twin.registry '" + sc.twin_registry + "'";
  if (options.state_dir.empty()) {
    return FailedPreconditionError(field +
                                   ": a registered twin needs the core's state directory "
                                   "(TrainOptions::state_dir, where twins.db lives)");
  }
  const std::filesystem::path db = options.state_dir / "twins.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec)) {
    return FailedPreconditionError(field + ": no twin registry at " + db.string() +
                                   " (register the twin first, e.g. `weft twin calibrate`, or "
                                   "point the state directory at the core's)");
  }
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Default();
  auto opened = TwinRegistry::Open(options.state_dir.string(), clock);
  if (!opened.ok()) return opened.status().WithContext(field);
  std::unique_ptr<TwinRegistry> reg = std::move(opened).value();
  WEFT_ASSIGN_OR_RETURN(std::vector<TwinVersion> all, reg->List(sc.twin_registry));
  if (all.empty()) {
    WEFT_ASSIGN_OR_RETURN(std::vector<TwinVersion> every, reg->List());
    std::vector<std::string> names;
    for (const TwinVersion& v : every) {
      if (names.empty() || names.back() != v.name) names.push_back(v.name);
    }
    return NotFoundError(field + " is not registered in " + db.string() + "; " +
                         (names.empty() ? std::string("no twin is registered")
                                        : "registered: " + Join(names, ", ")) +
                         " (for a built-in model's defaults write twin: {model: <model>})");
  }
  Result<TwinVersion> v = sc.twin_version.empty() ? reg->Latest(sc.twin_registry)
                                                  : reg->Get(sc.twin_registry, sc.twin_version);
  if (!v.ok()) {
    return Status(v.status().code(), spec.file + ": scenarios.twin.version '" + sc.twin_version +
                                         "': " + v.status().message());
  }
  out.base_model = v->base_model;
  out.parameters = v->parameters;
  out.registry = v->name;
  out.version = v->version;
  out.parent_version = v->parent_version;
  return out;
}

uint32_t ScenarioFaultRuns(const ScenarioSpec& sc) {
  return static_cast<uint32_t>(std::llround(sc.fault_fraction * sc.runs));
}

Result<ScenarioRun> ScenarioRun::Make(const TrainSpec& spec, const ScenarioTwin& resolved,
                                      uint32_t index) {
  const ScenarioSpec& sc = *spec.scenarios;
  const double duration_s = static_cast<double>(sc.duration.count()) * 1e-6;
  ScenarioRun r;
  // The draws come in a fixed order from the run's own stream: the same spec gives the same runs
  // (and the same model bytes) on every platform.
  twin::Rng draw(SplitMix64(sc.seed * 0x100000001b3ULL + index));
  r.noise_ = twin::Rng(SplitMix64(~sc.seed * 0x100000001b3ULL + index));
  std::map<std::string, double> params = resolved.parameters;
  for (const auto& [name, value] : sc.twin_params) params[name] = value;
  for (const auto& [name, range] : sc.twin_vary) params[name] = draw.Uniform(range.lo, range.hi);
  auto made = twin::MakeTwin(resolved.base_model, params);
  if (!made.ok()) {
    return InvalidArgumentError(spec.file + ": scenarios.twin: " + made.status().message());
  }
  r.twin_ = std::move(made).value();
  r.fault_ = index < ScenarioFaultRuns(sc);
  r.severity_ = r.fault_ ? draw.Uniform(sc.severity.lo, sc.severity.hi) : 0;
  r.fault_start_ = draw.Uniform(sc.fault_start_s.lo, sc.fault_start_s.hi);
  const double base_load = draw.Uniform(sc.load.lo, sc.load.hi);
  r.base_ambient_ = draw.Uniform(sc.ambient_temp.lo, sc.ambient_temp.hi);
  r.phase_ = draw.Uniform(0, 2 * std::numbers::pi);
  r.drift_ = sc.sensor_drift && draw.Bernoulli(sc.sensor_drift->fraction);
  r.drift_rate_ =
      r.drift_ ? draw.Uniform(sc.sensor_drift->rate_per_day.lo, sc.sensor_drift->rate_per_day.hi)
               : 0;
  r.drift_start_ = r.drift_ ? draw.Uniform(0, duration_s / 2) : 0;
  r.loads_.resize(static_cast<size_t>(duration_s / kLoadSegmentS) + 2);
  for (double& l : r.loads_) {
    l = std::clamp(base_load + draw.Uniform(-0.1, 0.1), sc.load.lo, sc.load.hi);
  }
  return r;
}

Status ScenarioRun::SetInputs(double t) {
  const double seg = std::max(0.0, std::floor(t / kLoadSegmentS));
  load_ = loads_[std::min(loads_.size() - 1, static_cast<size_t>(seg))];
  WEFT_RETURN_IF_ERROR(twin_->SetInput("load", load_));
  ambient_ = std::clamp(
      base_ambient_ + kAmbientSwingK * std::sin(2 * std::numbers::pi * t / 86400 + phase_), -40.0,
      60.0);
  return twin_->SetInput("ambient_temp", ambient_);
}

Result<bool> ScenarioRun::Step(double dt_s) {
  if (fault_ && !injected_ && t_ >= fault_start_) {
    WEFT_RETURN_IF_ERROR(twin_->InjectFault(twin::FaultKind::kBearingWear, severity_));
    injected_ = true;
    fault_at_ = t_;
  }
  WEFT_RETURN_IF_ERROR(SetInputs(t_));
  stepped_ = true;
  twin_->Step(dt_s, noise_);
  t_ += dt_s;
  if (twin_->failed()) {
    failure_at_ = t_;
    return false;
  }
  return true;
}

std::optional<double> ScenarioRun::Input(std::string_view name) const {
  if (!stepped_) return std::nullopt;
  if (name == "load") return load_;
  if (name == "ambient_temp") return ambient_;
  return std::nullopt;
}

Result<Dataset> BuildScenarioDataset(const TrainSpec& spec, const ScenarioOptions& options) {
  WEFT_ASSIGN_OR_RETURN(ScenarioTwin resolved, ResolveScenarioTwin(spec, options));
  const ScenarioSpec& sc = *spec.scenarios;
  Dataset ds;
  ds.feature_names = spec.FeatureNames();
  const size_t nf = spec.num_features();
  const double duration_s = static_cast<double>(sc.duration.count()) * 1e-6;
  const double row_every_s = static_cast<double>(sc.row_every.count()) * 1e-6;
  const double window_s = spec.window;
  std::string twin_version;

  for (uint32_t run = 0; run < sc.runs; ++run) {
    WEFT_ASSIGN_OR_RETURN(ScenarioRun sr, ScenarioRun::Make(spec, resolved, run));
    twin_version = sr.twin().info().version;
    for (const auto& f : spec.features) {
      if (!sr.twin().Output(f.signal)) {
        return InvalidArgumentError(
            spec.file + ": feature signal '" + f.signal + "' is not an output of twin '" +
            resolved.base_model + "'; " +
            UnknownNameMessage("output", f.signal, sr.twin().OutputNames()));
      }
    }
    size_t drift_slot = spec.features.size();
    for (size_t s = 0; sr.sensor_drift() && s < spec.features.size(); ++s) {
      if (spec.features[s].signal == sc.sensor_drift->signal) drift_slot = s;
    }
    // Steps to `until` (seconds) at most `dt_max` at a time; false when the twin failed.
    auto advance = [&](double until, double dt_max, FeatureWindow* w) -> Result<bool> {
      while (sr.t() < until - 1e-9) {
        WEFT_ASSIGN_OR_RETURN(bool alive, sr.Step(std::min(dt_max, until - sr.t())));
        if (!alive) return false;
        if (w != nullptr) {
          const double t = sr.t();
          const int64_t ts = kScenarioEpochUs + std::llround(t * 1e6);
          for (size_t s = 0; s < spec.features.size(); ++s) {
            double value = *sr.twin().Output(spec.features[s].signal);
            if (s == drift_slot && t > sr.sensor_drift_start()) {
              value += sr.sensor_drift_per_day() * (t - sr.sensor_drift_start()) / 86400;
            }
            w->Push(s, ts, value);
          }
        }
      }
      return true;
    };

    FeatureWindow window(StatsPerSignal(spec), spec.window);
    RunInfo info;
    info.id = "twin-" + std::to_string(run);
    info.asset = info.id;
    info.source = "twin";
    info.fault = sr.fault();
    info.severity = sr.severity();
    info.sensor_drift_per_day = sr.sensor_drift_per_day();
    if (sr.sensor_drift()) {
      info.sensor_drift_start_us = kScenarioEpochUs + std::llround(sr.sensor_drift_start() * 1e6);
    }
    const size_t first_row = ds.rows.size();
    const auto run_index = static_cast<uint32_t>(ds.runs.size());
    for (double row_t = row_every_s; row_t <= duration_s + 1e-9; row_t += row_every_s) {
      WEFT_ASSIGN_OR_RETURN(bool alive, advance(row_t - window_s, kCoarseStepS, nullptr));
      if (!alive) break;
      window.Clear();
      WEFT_ASSIGN_OR_RETURN(alive, advance(row_t, 1.0, &window));
      if (!alive) break;
      DatasetRow row;
      row.run = run_index;
      row.ts_us = kScenarioEpochUs + std::llround(row_t * 1e6);
      row.features.resize(nf);
      window.Extract(row.features);
      ds.rows.push_back(std::move(row));
    }
    if (sr.fault_at()) info.fault_start_us = kScenarioEpochUs + std::llround(*sr.fault_at() * 1e6);
    if (sr.failure_at()) {
      info.failure_us = kScenarioEpochUs + std::llround(*sr.failure_at() * 1e6);
    }
    LabelRun(spec, info.failure_us, ds.rows.data() + first_row, ds.rows.size() - first_row);
    if (ds.rows.size() == first_row) continue;  // failed before its first row
    info.start_us = ds.rows[first_row].ts_us;
    info.end_us = ds.rows.back().ts_us;
    ds.runs.push_back(std::move(info));
  }

  nlohmann::json vary = nlohmann::json::object();
  for (const auto& [k, r] : sc.twin_vary) vary[k] = {r.lo, r.hi};
  nlohmann::json twin_lineage = {{"model", resolved.base_model},
                                 {"version", twin_version},
                                 {"params", sc.twin_params},
                                 {"vary", vary}};
  if (!resolved.registry.empty()) {
    twin_lineage["registry"] = {{"name", resolved.registry},
                                {"version", resolved.version},
                                {"ref", resolved.registry + "@" + resolved.version},
                                {"base_model", resolved.base_model},
                                {"parent_version", resolved.parent_version},
                                {"parameters", resolved.parameters}};
  }
  ds.lineage["scenarios"] = {
      {"twin", std::move(twin_lineage)},
      {"runs", sc.runs},
      {"seed", sc.seed},
      {"duration", FormatDuration(sc.duration)},
      {"row_every", FormatDuration(sc.row_every)},
      {"fault_fraction", sc.fault_fraction},
      {"severity", {sc.severity.lo, sc.severity.hi}},
      {"fault_start_s", {sc.fault_start_s.lo, sc.fault_start_s.hi}},
      {"load", {sc.load.lo, sc.load.hi}},
      {"ambient_temp", {sc.ambient_temp.lo, sc.ambient_temp.hi}},
      {"sensor_drift", sc.sensor_drift ? nlohmann::json{{"fraction", sc.sensor_drift->fraction},
                                                        {"signal", sc.sensor_drift->signal},
                                                        {"rate_per_day",
                                                         {sc.sensor_drift->rate_per_day.lo,
                                                          sc.sensor_drift->rate_per_day.hi}}}
                                       : nlohmann::json(nullptr)},
      {"rows", ds.rows.size()},
  };
  return ds;
}

Result<std::vector<FailureLabel>> ParseLabelsCsv(std::string_view text, const std::string& file) {
  std::vector<FailureLabel> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string> cells;
    size_t c = 0;
    while (true) {
      size_t comma = line.find(',', c);
      cells.emplace_back(line.substr(c, comma == std::string_view::npos ? line.npos : comma - c));
      if (comma == std::string_view::npos) break;
      c = comma + 1;
    }
    const std::string where = file + ":" + std::to_string(line_no);
    if (line_no == 1) {
      if (cells.size() < 7 || cells[0] != "asset" || cells[4] != "start" || cells[6] != "failure") {
        return InvalidArgumentError(where +
                                    ": expected the header "
                                    "asset,signal,fault,severity,start,end,failure");
      }
      continue;
    }
    if (cells.size() != 7) {
      return InvalidArgumentError(where + ": expected 7 fields, got " +
                                  std::to_string(cells.size()));
    }
    FailureLabel l;
    l.asset = cells[0];
    l.fault = cells[2];
    char* end = nullptr;
    l.severity = std::strtod(cells[3].c_str(), &end);
    Result<int64_t> start = ParseTimestampMicros(cells[4]);
    if (!start.ok()) return InvalidArgumentError(where + ": start: " + start.status().message());
    l.start_us = *start;
    if (!cells[6].empty()) {
      Result<int64_t> f = ParseTimestampMicros(cells[6]);
      if (!f.ok()) return InvalidArgumentError(where + ": failure: " + f.status().message());
      l.failure_us = *f;
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<WorkOrderLabels> ReadWorkOrderLabels(const std::string& location, int64_t version,
                                            int64_t from_us, int64_t to_us, const Clock* clock) {
  const std::string what = "field_data.work_orders.table " + location;
  const std::string at_version = " at version " + std::to_string(version);
  auto opened = lake::LakeTable::Open(location, clock);
  if (!opened.ok()) return opened.status().WithContext(what);
  std::unique_ptr<lake::LakeTable> table = std::move(opened).value();
  auto schema = table->Schema(version);
  if (!schema.ok()) return schema.status().WithContext(what + at_version);
  const std::pair<const char*, lake::ColumnType> needed[] = {
      {"event_ts", lake::ColumnType::kTimestampMicros},
      {"asset", lake::ColumnType::kString},
      {"outcome", lake::ColumnType::kString}};
  for (const auto& [name, type] : needed) {
    if (!HasColumn(*schema, name, type)) {
      return InvalidArgumentError(what + ": no column '" + name + "' of type " +
                                  std::string(lake::TypeName(type)) + at_version +
                                  " (expected the core's work_orders table: event_ts, asset, "
                                  "outcome confirmed_fault|false_alarm, ...)");
    }
  }
  WorkOrderLabels out;
  out.where = EventTimePredicate("event_ts", from_us, to_us,
                                 HasColumn(*schema, "date", lake::ColumnType::kDate));
  lake::ScanOptions options;
  options.version = version;
  options.columns = {"event_ts", "asset", "outcome"};
  options.where = out.where;
  Status st = table->Scan(options, [&](const lake::RecordBatch& b) -> Status {
    const auto& ts = b.column(0);
    const auto& asset = b.column(1);
    const auto& outcome = b.column(2);
    for (size_t i = 0; i < b.num_rows(); ++i) {
      ++out.rows;
      if (!ts.IsValid(i) || !asset.IsValid(i) || !outcome.IsValid(i)) {
        ++out.other_outcomes;
        continue;
      }
      const std::string_view kind = outcome.StringAt(i);
      if (kind == "confirmed_fault") {
        FailureLabel l;
        l.asset = std::string(asset.StringAt(i));
        l.fault = "work_order";
        l.failure_us = ts.IntAt(i);
        out.failures.push_back(std::move(l));
      } else if (kind == "false_alarm") {
        out.false_alarms.push_back({std::string(asset.StringAt(i)), ts.IntAt(i)});
      } else {
        ++out.other_outcomes;
      }
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext(what + at_version);
  auto count = table->Count(version);
  if (!count.ok()) return count.status().WithContext(what + at_version);
  out.table_rows = *count;
  return out;
}

Result<Dataset> BuildFieldDataset(const TrainSpec& spec, const std::filesystem::path& base_dir,
                                  const Clock* clock) {
  if (!spec.field_data) return InvalidArgumentError(spec.file + ": the spec has no field_data");
  const FieldDataSpec& fd = *spec.field_data;
  if (fd.labels.empty() && !fd.work_orders) {
    return InvalidArgumentError(spec.file +
                                ": field_data needs 'labels' or 'work_orders' (or both)");
  }
  const std::string location = ResolvePath(fd.telemetry, base_dir);
  // Failure times (and their fault's start, when known) per asset, in time order.
  std::map<std::string, std::vector<Failure>> failures;
  std::string labels_path, labels_text;
  if (!fd.labels.empty()) {
    labels_path = ResolvePath(fd.labels, base_dir);
    WEFT_ASSIGN_OR_RETURN(labels_text, ReadWholeFile(labels_path));
    WEFT_ASSIGN_OR_RETURN(std::vector<FailureLabel> labels,
                          ParseLabelsCsv(labels_text, labels_path));
    for (const auto& l : labels) {
      if (l.failure_us) failures[l.asset].push_back({*l.failure_us, l.start_us});
    }
  }
  // Work orders that can label a row: a failure (or false alarm) within the horizon after it.
  std::optional<WorkOrderLabels> orders;
  std::string orders_location;
  std::map<std::string, std::vector<int64_t>> false_alarms;  // per asset, sorted
  if (fd.work_orders) {
    orders_location = ResolvePath(fd.work_orders->table, base_dir);
    WEFT_ASSIGN_OR_RETURN(
        orders, ReadWorkOrderLabels(orders_location, fd.work_orders->version, fd.from_us,
                                    SaturatingAdd(fd.to_us, spec.horizon.count()), clock));
    for (const auto& l : orders->failures) failures[l.asset].push_back({*l.failure_us, {}});
    for (const auto& n : orders->false_alarms) false_alarms[n.asset].push_back(n.event_us);
    for (auto& [a, v] : false_alarms) std::sort(v.begin(), v.end());
  }
  // In time order; one failure per instant (the CSV's, with its known start, first).
  for (auto& [a, v] : failures) {
    std::sort(v.begin(), v.end(), [](const Failure& x, const Failure& y) {
      return x.at != y.at ? x.at < y.at : (x.start.has_value() && !y.start.has_value());
    });
    v.erase(std::unique(v.begin(), v.end(),
                        [](const Failure& x, const Failure& y) { return x.at == y.at; }),
            v.end());
  }

  auto opened = lake::LakeTable::Open(location, clock);
  if (!opened.ok()) return opened.status().WithContext("field_data.telemetry " + location);
  std::unique_ptr<lake::LakeTable> table = std::move(opened).value();
  auto schema = table->Schema(fd.version);
  if (!schema.ok()) {
    return schema.status().WithContext("field_data.telemetry " + location + " at version " +
                                       std::to_string(fd.version));
  }
  auto has = [&](std::string_view name, lake::ColumnType type) {
    return HasColumn(*schema, name, type);
  };
  const std::pair<const char*, lake::ColumnType> needed[] = {
      {"ts", lake::ColumnType::kTimestampMicros},
      {"asset", lake::ColumnType::kString},
      {"signal", lake::ColumnType::kString},
      {"value", lake::ColumnType::kDouble},
      {"quality", lake::ColumnType::kInt32}};
  for (const auto& [name, type] : needed) {
    if (!has(name, type)) {
      return InvalidArgumentError("field_data.telemetry " + location + ": no column '" + name +
                                  "' of type " + std::string(lake::TypeName(type)) +
                                  " at version " + std::to_string(fd.version));
    }
  }
  // The same predicate form as the core's views: ts range, whole days by the date partition,
  // the asset type, the signals' name range.
  std::string where =
      lake::TimeRangePredicate(fd.from_us, fd.to_us, has("date", lake::ColumnType::kDate));
  if (has("asset_type", lake::ColumnType::kString)) {
    where += " and asset_type = " + lake::PredicateLiteral(spec.asset_type);
  }
  std::map<std::string, size_t> slot_of;
  for (size_t i = 0; i < spec.features.size(); ++i) slot_of[spec.features[i].signal] = i;
  where += " and signal >= " + lake::PredicateLiteral(slot_of.begin()->first) +
           " and signal <= " + lake::PredicateLiteral(slot_of.rbegin()->first);

  struct Sample {
    int64_t ts;
    uint32_t slot;
    double value;
  };
  std::map<std::string, std::vector<Sample>> samples;
  lake::ScanOptions options;
  options.version = fd.version;
  options.columns = {"ts", "asset", "signal", "value", "quality"};
  options.where = where;
  size_t scanned = 0;
  Status st = table->Scan(options, [&](const lake::RecordBatch& b) -> Status {
    const auto& ts = b.column(0);
    const auto& asset = b.column(1);
    const auto& signal = b.column(2);
    const auto& value = b.column(3);
    const auto& quality = b.column(4);
    for (size_t i = 0; i < b.num_rows(); ++i) {
      ++scanned;
      if (!value.IsValid(i) || !quality.IsValid(i) || quality.IntAt(i) != 0) continue;
      auto slot = slot_of.find(std::string(signal.StringAt(i)));
      if (slot == slot_of.end()) continue;
      samples[std::string(asset.StringAt(i))].push_back(
          {ts.IntAt(i), static_cast<uint32_t>(slot->second), value.DoubleAt(i)});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("field_data.telemetry " + location);

  Dataset ds;
  ds.feature_names = spec.FeatureNames();
  const size_t nf = spec.num_features();
  const int64_t every = fd.row_every.count();
  const int64_t horizon_us = spec.horizon.count();
  size_t confirmed_negative_rows = 0, conflicting_rows = 0;
  for (auto& entry : samples) {
    // Named, not structured bindings: the lambdas below capture them.
    const std::string& asset = entry.first;
    std::vector<Sample>& list = entry.second;
    std::stable_sort(list.begin(), list.end(),
                     [](const Sample& a, const Sample& b) { return a.ts < b.ts; });
    const std::vector<Failure>& fails = failures[asset];
    const std::vector<int64_t>& inspected = false_alarms[asset];
    FeatureWindow window(StatsPerSignal(spec), spec.window);
    int segment = 0;
    size_t first_row = ds.rows.size();
    int64_t next_row = fd.from_us + every;
    size_t fi = 0;
    while (fi < fails.size() && fails[fi].at <= fd.from_us) ++fi;
    auto ready = [&] {
      for (size_t s = 0; s < window.num_signals(); ++s) {
        if (window.count(s) == 0) return false;
      }
      return true;
    };
    auto emit_before = [&](int64_t limit, bool inclusive) {
      while (inclusive ? next_row <= limit : next_row < limit) {
        if (ready()) {
          DatasetRow row;
          row.run = static_cast<uint32_t>(ds.runs.size());
          row.ts_us = next_row;
          row.features.resize(nf);
          window.Extract(row.features);
          ds.rows.push_back(std::move(row));
        }
        next_row += every;
      }
    };
    auto close_run = [&](std::optional<Failure> failure) {
      if (ds.rows.size() > first_row) {
        RunInfo info;
        info.id = "field:" + asset + "#" + std::to_string(segment);
        info.asset = asset;
        info.source = "field";
        // Rows are labelled by the asset's next failure, also one after `to` or after the run.
        for (size_t i = first_row; i < ds.rows.size(); ++i) {
          DatasetRow& r = ds.rows[i];
          auto next = NextFailure(fails, r.ts_us);
          LabelRun(spec, next == fails.end() ? std::nullopt : std::optional(next->at), &r, 1);
          // A false alarm within the horizon after the row (and not after the asset's next
          // failure: that inspection saw the repaired asset): a verified negative, unless a
          // confirmed failure within the horizon made the row positive (the failure wins).
          auto seen = std::lower_bound(inspected.begin(), inspected.end(), r.ts_us);
          if (seen != inspected.end() && *seen - r.ts_us <= horizon_us &&
              (next == fails.end() || *seen <= next->at)) {
            if (r.label < 0.5f) {
              r.confirmed_negative = true;
              ++confirmed_negative_rows;
            } else {
              ++conflicting_rows;
            }
          }
        }
        if (failure) {
          info.fault = true;
          info.failure_us = failure->at;
          info.fault_start_us = failure->start;
        } else {
          const int64_t last = ds.rows.back().ts_us;
          auto next = NextFailure(fails, last);
          // Degrading when the data end (censored): the fault had started by the last row, or,
          // its start unknown (a work order), the last row is within the horizon before it.
          if (next != fails.end() &&
              (next->start ? *next->start <= last : next->at - horizon_us <= last)) {
            info.fault = true;
            info.fault_start_us = next->start;
          }
        }
        info.start_us = ds.rows[first_row].ts_us;
        info.end_us = ds.rows.back().ts_us;
        ds.runs.push_back(std::move(info));
      }
      ++segment;
      first_row = ds.rows.size();
      window.Clear();
    };
    for (const Sample& s : list) {
      while (fi < fails.size() && fails[fi].at <= s.ts) {
        emit_before(fails[fi].at, /*inclusive=*/false);
        close_run(fails[fi]);
        while (next_row <= fails[fi].at) next_row += every;
        ++fi;
      }
      emit_before(s.ts, /*inclusive=*/false);
      window.Push(s.slot, s.ts, s.value);
    }
    if (!list.empty()) emit_before(std::min(list.back().ts, fd.to_us - 1), /*inclusive=*/true);
    close_run(std::nullopt);
  }
  nlohmann::json lineage = {
      {"telemetry", location},
      {"delta_version", fd.version},
      {"from", FormatTimestampMicros(fd.from_us)},
      {"to", FormatTimestampMicros(fd.to_us)},
      {"where", where},
      {"samples_scanned", scanned},
      {"rows", ds.rows.size()},
  };
  if (!fd.labels.empty()) {
    lineage["labels"] = labels_path;
    lineage["labels_sha256"] = edge::inference::Sha256Hex(labels_text);
  }
  if (orders) {
    lineage["work_orders"] = {
        {"table", orders_location},
        {"delta_version", fd.work_orders->version},
        {"table_rows", orders->table_rows},  // all rows at the version
        {"where", orders->where},
        {"rows", orders->rows},  // rows read: event_ts in [from, to + horizon)
        {"confirmed_faults", orders->failures.size()},
        {"false_alarms", orders->false_alarms.size()},
        {"other_outcomes", orders->other_outcomes},
        {"confirmed_negative_rows", confirmed_negative_rows},
        {"conflicting_rows", conflicting_rows},
    };
  }
  ds.lineage["field_data"] = std::move(lineage);
  return ds;
}

}  // namespace weft::mlops
