#include "cli/kpi_cli.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "common/time_format.h"
#include "core/ingest/tables.h"
#include "core/kpi/kpi_job.h"
#include "core/kpi/kpi_routes.h"
#include "core/kpi/kpi_table.h"
#include "core/kpi/roadmap_input.h"
#include "kpi/roadmap.h"
#include "model/plant_loader.h"

namespace weft::cli {
namespace {

using json = nlohmann::ordered_json;

std::string Dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

int Fail(std::ostream& err, const std::string& command, const Status& s, int code) {
  err << "weft " << command << ": " << s.message() << "\n";
  return code;
}

// A local lake root must exist (an S3 root is checked by the reads).
Status CheckLake(const std::string& lake) {
  if (lake.rfind("s3://", 0) == 0) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::is_directory(lake, ec)) {
    return NotFoundError("there is no lake at '" + lake + "' (give --lake DIR)");
  }
  return Status::Ok();
}

// Loads plant.yaml; prints its diagnostics. Sets *code on failure.
std::optional<model::Plant> LoadPlant(const std::string& path, const std::string& command,
                                      std::ostream& err, int* code) {
  if (path.empty()) {
    err << "weft " << command << ": give --plant PLANT.yaml\n";
    *code = kExitUsage;
    return std::nullopt;
  }
  Diagnostics diags;
  Result<model::Plant> plant = model::LoadPlantFile(path, &diags);
  if (!plant.ok()) {
    if (diags.all().empty()) {
      err << "weft " << command << ": " << plant.status().message() << "\n";
      *code = kExitUsage;
    } else {
      err << diags.ToString();
      *code = kExitInvalidInput;
    }
    return std::nullopt;
  }
  return std::move(plant).value();
}

Result<int64_t> ParseTime(const std::string& text, const char* flag) {
  Result<int64_t> t = ParseTimestampMicros(text);
  if (!t.ok()) return t.status().WithContext(flag);
  return t;
}

int Compute(const KpiArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  const std::string cmd = "kpi compute";
  Result<int64_t> from = ParseTime(a.from, "--from");
  if (!from.ok()) return Fail(err, cmd, from.status(), kExitUsage);
  Result<int64_t> to = ParseTime(a.to, "--to");
  if (!to.ok()) return Fail(err, cmd, to.status(), kExitUsage);
  if (*from >= *to) {
    return Fail(err, cmd, InvalidArgumentError("--from must be before --to"), kExitUsage);
  }
  const std::string lake = DemoPathOr(a.lake, "lake");
  if (Status s = CheckLake(lake); !s.ok()) return Fail(err, cmd, s, kExitUsage);
  int code = kExitOk;
  std::optional<model::Plant> plant = LoadPlant(a.plant, cmd, err, &code);
  if (!plant) return code;
  core::kpi::KpiJob job(lake, &*plant, &clock);
  Result<core::kpi::KpiReport> report = job.Run(*from, *to);
  if (!report.ok()) {
    const StatusCode c = report.status().code();
    return Fail(err, cmd, report.status(),
                c == StatusCode::kInvalidArgument || c == StatusCode::kNotFound
                    ? kExitUsage
                    : kExitInvalidInput);
  }
  if (a.json) {
    out << Dump(core::kpi::KpiReportToJson(*report)) << "\n";
  } else {
    out << core::kpi::KpiReportToTable(*report);
  }
  return kExitOk;
}

std::string Scope(const core::kpi::KpiRow& r) {
  std::string s;
  for (const std::string* part : {&r.site, &r.line, &r.asset}) {
    if (!part->empty()) s += (s.empty() ? "" : "/") + *part;
  }
  if (!r.shift.empty()) s += (s.empty() ? "" : " ") + std::string("shift ") + r.shift;
  if (!r.use_case.empty()) s += (s.empty() ? "" : " ") + std::string("use case ") + r.use_case;
  return s.empty() ? "(plant)" : s;
}

int Show(const KpiArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  const std::string cmd = "kpi show";
  core::kpi::KpiQuery q;
  q.kpi = a.kpi;
  q.use_case = a.use_case;
  if (!a.from.empty()) {
    Result<int64_t> t = ParseTime(a.from, "--from");
    if (!t.ok()) return Fail(err, cmd, t.status(), kExitUsage);
    q.from_us = *t;
  }
  if (!a.to.empty()) {
    Result<int64_t> t = ParseTime(a.to, "--to");
    if (!t.ok()) return Fail(err, cmd, t.status(), kExitUsage);
    q.to_us = *t;
  }
  const std::string lake = DemoPathOr(a.lake, "lake");
  if (Status s = CheckLake(lake); !s.ok()) return Fail(err, cmd, s, kExitUsage);
  Result<std::vector<core::kpi::KpiRow>> rows = core::kpi::ReadKpiRows(lake, q, &clock);
  if (!rows.ok()) {
    return Fail(err, cmd, rows.status(),
                rows.status().code() == StatusCode::kNotFound ? kExitUsage : kExitInvalidInput);
  }
  if (a.json) {
    json list = json::array();
    for (const core::kpi::KpiRow& r : *rows) list.push_back(core::kpi::KpiRowJson(r));
    out << Dump(json{{"kpis", std::move(list)}}) << "\n";
    return kExitOk;
  }
  out << fmt::format("{:<20} {:<20} {:<34} {:<34} {:>14} {:<9} {:>8}\n", "period start",
                     "period end", "scope", "kpi", "value", "unit", "coverage");
  for (const core::kpi::KpiRow& r : *rows) {
    out << fmt::format("{:<20} {:<20} {:<34} {:<34} {:>14} {:<9} {:>8}\n",
                       FormatTimestampMicros(r.period_start_us).substr(0, 16) + "Z",
                       FormatTimestampMicros(r.period_end_us).substr(0, 16) + "Z", Scope(r), r.kpi,
                       r.value ? fmt::format("{:.6g}", *r.value) : "null", r.unit,
                       r.coverage ? fmt::format("{:.1f}%", *r.coverage * 100) : "-");
  }
  out << rows->size() << " rows\n";
  return kExitOk;
}

int Roadmap(const KpiArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  const std::string cmd = "roadmap";
  Result<::weft::kpi::Quarter> quarter = ::weft::kpi::ParseQuarter(a.quarter);
  if (!quarter.ok()) return Fail(err, cmd, quarter.status().WithContext("--quarter"), kExitUsage);
  const std::string lake = DemoPathOr(a.lake, "lake");
  if (Status s = CheckLake(lake); !s.ok()) return Fail(err, cmd, s, kExitUsage);
  int code = kExitOk;
  std::optional<model::Plant> plant = LoadPlant(a.plant, cmd, err, &code);
  if (!plant) return code;
  std::vector<std::string> warnings;
  Result<::weft::kpi::Roadmap> roadmap =
      core::kpi::RoadmapFromLake(lake, *plant, a.quarter, &clock, {}, &warnings);
  if (!roadmap.ok()) {
    const StatusCode c = roadmap.status().code();
    return Fail(err, cmd, roadmap.status(),
                c == StatusCode::kInvalidArgument || c == StatusCode::kNotFound
                    ? kExitUsage
                    : kExitInvalidInput);
  }
  if (a.json) {
    json j = ::weft::kpi::RoadmapToJson(*roadmap);
    j["currency"] = plant->economics.currency;
    j["warnings"] = warnings;
    out << Dump(j) << "\n";
  } else {
    out << ::weft::kpi::RoadmapToTable(*roadmap, plant->economics.currency);
    for (const std::string& w : warnings) err << "weft roadmap: warning: " << w << "\n";
  }
  return kExitOk;
}

}  // namespace

CLI::App* AddKpiCommands(CLI::App& app, KpiArgs* a) {
  CLI::App* kpi = app.add_subcommand("kpi", "KPIs from the lake: compute them, show the kpi table");
  kpi->require_subcommand(1);
  CLI::App* compute = kpi->add_subcommand(
      "compute", "Compute the plant's KPIs over [--from, --to) and append them to the kpi table");
  compute->add_option("--lake", a->lake, "lake root (default: $TMPDIR/weft-demo/lake)");
  compute->add_option("--plant", a->plant, "plant.yaml")->required();
  compute->add_option("--from", a->from, "start: YYYY-MM-DD (UTC) or ISO-8601, inclusive")
      ->required();
  compute->add_option("--to", a->to, "end: YYYY-MM-DD (UTC) or ISO-8601, exclusive")->required();
  compute->add_flag("--json", a->json, "print the summary as JSON");
  compute->callback([a] { a->command = "compute"; });

  CLI::App* show = kpi->add_subcommand("show", "Print the kpi table (latest run per key)");
  show->add_option("--lake", a->lake, "lake root (default: $TMPDIR/weft-demo/lake)");
  show->add_option("--kpi", a->kpi, "only this KPI, e.g. oee, kpi_actual");
  show->add_option("--use-case", a->use_case, "only this use case");
  show->add_option("--from", a->from, "period start at or after this time");
  show->add_option("--to", a->to, "period start before this time");
  show->add_flag("--json", a->json, "print JSON");
  show->callback([a] { a->command = "show"; });
  return kpi;
}

CLI::App* AddRoadmapCommand(CLI::App& app, KpiArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "roadmap",
      "Rank the use cases by realised value against cost and projection: scale, fix, "
      "stop or measure");
  cmd->add_option("--quarter", a->quarter, "the quarter, e.g. 2027Q1")->required();
  cmd->add_option("--lake", a->lake, "lake root (default: $TMPDIR/weft-demo/lake)");
  cmd->add_option("--plant", a->plant, "plant.yaml")->required();
  cmd->add_flag("--json", a->json, "print JSON");
  cmd->callback([a] { a->command = "roadmap"; });
  return cmd;
}

int RunKpi(const KpiArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  if (a.command == "compute") return Compute(a, out, err, clock);
  if (a.command == "show") return Show(a, out, err, clock);
  if (a.command == "roadmap") return Roadmap(a, out, err, clock);
  err << "weft kpi: unknown command\n";
  return kExitUsage;
}

}  // namespace weft::cli
