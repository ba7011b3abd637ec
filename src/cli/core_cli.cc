#include "cli/core_cli.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/cli.h"
#include "common/diagnostic.h"
#include "common/time_format.h"
#include "core/audit/audit_log.h"
#include "core/catalog/catalog.h"
#include "core/ingest/tables.h"
#include "core/views/view_def.h"
#include "core/views/view_reader.h"
#include "model/plant_loader.h"

namespace weft::cli {

CLI::App* AddQueryCommand(CLI::App& app, QueryArgs* a) {
  CLI::App* cmd = app.add_subcommand(
      "query",
      "Read a schema-on-read view of the lake's telemetry (typed, unit-converted, "
      "resampled)");
  cmd->add_option("view", a->view, "view name, e.g. motor_health")->required();
  cmd->add_option("--from", a->from, "start, ISO-8601 (inclusive)")->required();
  cmd->add_option("--to", a->to, "end, ISO-8601 (exclusive)")->required();
  cmd->add_option("--asset", a->asset, "only this asset");
  cmd->add_option("--format", a->format, "csv, jsonl or parquet")->capture_default_str();
  cmd->add_option("--lake", a->lake, "lake root (default: $TMPDIR/weft-demo/lake)");
  cmd->add_option("--views", a->views, "view definitions")->capture_default_str();
  cmd->add_option("--plant", a->plant, "plant.yaml, to include asset subtypes");
  cmd->add_option("--out", a->out, "write here instead of stdout");
  return cmd;
}

int RunQuery(const QueryArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  auto fail = [&](const Status& s, int code) {
    err << "weft query: " << s.message() << "\n";
    return code;
  };
  Result<int64_t> from = ParseTimestampMicros(a.from);
  if (!from.ok()) return fail(from.status().WithContext("--from"), kExitUsage);
  Result<int64_t> to = ParseTimestampMicros(a.to);
  if (!to.ok()) return fail(to.status().WithContext("--to"), kExitUsage);
  if (*from >= *to) return fail(InvalidArgumentError("--from must be before --to"), kExitUsage);
  Result<core::views::Format> format = core::views::ParseFormat(a.format);
  if (!format.ok()) return fail(format.status().WithContext("--format"), kExitUsage);
  Result<std::vector<core::views::ViewDef>> views = core::views::LoadViewsFile(a.views);
  if (!views.ok()) return fail(views.status(), kExitInvalidInput);
  Result<const core::views::ViewDef*> found = core::views::FindView(*views, a.view);
  if (!found.ok()) return fail(found.status(), kExitInvalidInput);
  core::views::ViewDef view = **found;
  if (!a.plant.empty()) {
    Diagnostics diags;
    Result<model::Plant> plant = model::LoadPlantFile(a.plant, &diags);
    if (!plant.ok()) return fail(plant.status(), kExitInvalidInput);
    core::views::IncludeSubtypes(*plant, &view);
  }
  const std::string lake = DemoPathOr(a.lake, "lake");
  auto telemetry = core::OpenTable(lake, core::LakeTableId::kTelemetry, &clock);
  if (!telemetry.ok())
    return fail(telemetry.status().WithContext("--lake " + lake), kExitInvalidInput);
  core::views::ViewQuery q;
  q.from_us = *from;
  q.to_us = *to;
  if (!a.asset.empty()) q.asset = a.asset;
  Result<lake::RecordBatch> rows = core::views::ReadView(**telemetry, view, q);
  if (!rows.ok()) return fail(rows.status(), kExitInvalidInput);
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) return fail(UnavailableError("cannot write " + a.out), kExitInvalidInput);
  }
  Status s = core::views::WriteView(*rows, *format, a.out.empty() ? out : file);
  if (!s.ok()) return fail(s, kExitInvalidInput);
  return kExitOk;
}

CLI::App* AddAuditCommands(CLI::App& app, AuditArgs* a) {
  CLI::App* cmd = app.add_subcommand("audit", "The core's append-only audit log");
  cmd->require_subcommand(1);
  CLI::App* verify = cmd->add_subcommand(
      "verify", "Check the hash chain: every record intact, none removed or reordered");
  verify->add_option("dir", a->dir, "the audit directory (holding audit.log)")->required();
  return cmd;
}

int RunAudit(const AuditArgs& a, std::ostream& out, std::ostream& err) {
  Result<core::audit::VerifyReport> report = core::audit::AuditLog::Verify(a.dir);
  if (!report.ok()) {
    err << "weft audit verify: " << report.status().message() << "\n";
    return kExitInvalidInput;
  }
  (report->ok ? out : err) << report->ToString() << "\n";
  return report->ok ? kExitOk : kExitInvalidInput;
}

CLI::App* AddCatalogCommands(CLI::App& app, CatalogArgs* a) {
  CLI::App* cmd = app.add_subcommand("catalog", "The core's catalog of signals and their tags");
  cmd->require_subcommand(1);
  CLI::App* signals = cmd->add_subcommand("signals", "Signals whose tags match, with their tags");
  signals->add_option("--tag", a->tags, "k=v conditions joined by commas (all must hold)");
  signals->add_option("--state", a->state,
                      "weft-core's state directory (default: $TMPDIR/weft-demo/core-state)");
  return cmd;
}

int RunCatalog(const CatalogArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  auto fail = [&](const Status& s, int code) {
    err << "weft catalog: " << s.message() << "\n";
    return code;
  };
  const std::string state = DemoPathOr(a.state, "core-state");
  core::catalog::TagQuery query;
  if (!a.tags.empty()) {
    Result<core::catalog::TagQuery> q = core::catalog::ParseTagQuery(a.tags);
    if (!q.ok()) return fail(q.status().WithContext("--tag"), kExitUsage);
    query = *q;
  }
  const std::string path = state + "/catalog.db";
  if (!std::filesystem::exists(path)) {
    return fail(NotFoundError(path + " does not exist (is --state weft-core's state directory?)"),
                kExitInvalidInput);
  }
  auto cat = core::catalog::Catalog::Open(path, &clock);
  if (!cat.ok()) return fail(cat.status(), kExitInvalidInput);
  Result<std::vector<core::catalog::SignalRecord>> found = (*cat)->FindSignals(query);
  if (!found.ok()) return fail(found.status(), kExitInvalidInput);
  out << "asset,signal,asset_type,unit,quantity,edge,tags\n";
  for (const core::catalog::SignalRecord& r : *found) {
    Result<std::map<std::string, std::string>> tags = (*cat)->SignalTags(r.asset, r.signal);
    std::string joined;
    if (tags.ok()) {
      for (const auto& [k, v] : *tags) joined += (joined.empty() ? "" : ";") + k + "=" + v;
    }
    out << r.asset << "," << r.signal << "," << r.asset_type << "," << r.unit << "," << r.quantity
        << "," << r.edge << ",\"" << joined << "\"\n";
  }
  return kExitOk;
}

}  // namespace weft::cli
