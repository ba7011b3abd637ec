#include "cli/lake_cli.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/time_format.h"
#include "lake/lake_table.h"
#include "lake/text_io.h"

namespace weft::cli {
namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    const size_t b = item.find_first_not_of(" \t");
    const size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// kInvalidInput for errors in what the user gave (bad file, bad column, conflict), kUsage for a
// wrong command line; both print "weft lake COMMAND: message".
int Fail(std::ostream& err, const std::string& command, const Status& st) {
  err << "weft lake " << command << ": " << st.message() << "\n";
  return kExitInvalidInput;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return DataLossError("error reading '" + path + "'");
  return s.str();
}

}  // namespace

CLI::App* AddLakeCommands(CLI::App& app, LakeArgs* a) {
  CLI::App* lake = app.add_subcommand("lake", "Delta Lake tables: create, append, scan, maintain");
  lake->require_subcommand(1);
  auto table_arg = [a](CLI::App* cmd) {
    cmd->add_option("table", a->table, "Table location: a directory or s3://bucket/prefix")
        ->required();
    cmd->callback([a, cmd] { a->command = cmd->get_name(); });
  };
  CLI::App* create = lake->add_subcommand("create", "Create a table");
  table_arg(create);
  create
      ->add_option("--schema", a->schema,
                   "Columns, e.g. \"ts timestamp not null, asset string, value double\"")
      ->required();
  create->add_option("--partition-by", a->partition_by, "Partition columns, comma-separated");

  CLI::App* append = lake->add_subcommand("append", "Append rows from a CSV or JSONL file");
  table_arg(append);
  append->add_option("--from", a->from, "FILE.csv (with a header) or FILE.jsonl")->required();
  CLI::Option* app_id = append->add_option("--app-id", a->app_id,
                                           "Writer id for idempotent appends (with --txn-version)");
  CLI::Option* txn = append->add_option("--txn-version", a->txn_version,
                                        "This writer's batch number; a repeat is a no-op");
  app_id->needs(txn);
  txn->needs(app_id);

  CLI::App* scan = lake->add_subcommand("scan", "Print rows");
  table_arg(scan);
  CLI::Option* version = scan->add_option("--version", a->version, "Read this version");
  scan->add_option("--as-of", a->as_of, "Read the version current at this ISO-8601 time")
      ->excludes(version);
  scan->add_option("--columns", a->columns, "Columns to print, comma-separated");
  scan->add_option("--where", a->where, "Filter, e.g. \"asset = 'm1' and ts >= '2026-11-01'\"");
  scan->add_option("--format", a->format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();

  CLI::App* count = lake->add_subcommand("count", "Print the number of rows");
  table_arg(count);
  count->add_option("--version", a->version, "At this version");

  table_arg(lake->add_subcommand("history", "Print the table's commits, one JSON object per line"));
  table_arg(lake->add_subcommand("checkpoint", "Write a checkpoint of the latest version"));
  table_arg(lake->add_subcommand("optimize", "Compact small files (dataChange=false)"));
  CLI::App* vacuum = lake->add_subcommand("vacuum", "Delete files no longer referenced");
  table_arg(vacuum);
  vacuum
      ->add_option("--retain-hours", a->retain_hours,
                   "Keep files removed (or written) less than this many hours ago")
      ->required();
  vacuum->add_flag("--dry-run", a->dry_run, "Only list what would be deleted");
  return lake;
}

int RunLake(const LakeArgs& a, std::ostream& out, std::ostream& err, const Clock& clock) {
  const std::string& cmd = a.command;
  Result<std::unique_ptr<lake::LakeTable>> opened =
      lake::LakeTable::Open(a.table, &clock, /*create_location=*/cmd == "create");
  if (!opened.ok()) return Fail(err, cmd, opened.status());
  lake::LakeTable& table = **opened;

  if (cmd == "create") {
    Result<std::vector<lake::BatchField>> schema = lake::ParseSchemaText(a.schema);
    if (!schema.ok()) return Fail(err, cmd, schema.status().WithContext("--schema"));
    Status st = table.Create(*schema, SplitList(a.partition_by));
    if (!st.ok()) return Fail(err, cmd, st);
    err << "created " << a.table << " (version 0)\n";
    return kExitOk;
  }
  if (cmd == "append") {
    Result<std::vector<lake::BatchField>> schema = table.Schema();
    if (!schema.ok()) return Fail(err, cmd, schema.status());
    Result<std::string> text = ReadWholeFile(a.from);
    if (!text.ok()) return Fail(err, cmd, text.status());
    const bool jsonl =
        a.from.ends_with(".jsonl") || a.from.ends_with(".ndjson") || a.from.ends_with(".json");
    Result<lake::RecordBatch> rows =
        jsonl ? lake::ReadJsonl(*text, *schema, a.from) : lake::ReadCsv(*text, *schema, a.from);
    if (!rows.ok()) return Fail(err, cmd, rows.status());
    std::optional<lake::delta::Txn> txn;
    if (a.txn_version) txn = lake::delta::Txn{a.app_id, *a.txn_version, std::nullopt};
    Result<lake::AppendResult> r = table.Append(*rows, txn);
    if (!r.ok()) return Fail(err, cmd, r.status());
    if (r->already_committed) {
      err << "already committed: " << a.app_id << " version " << *a.txn_version
          << " (nothing appended)\n";
    } else {
      err << "appended " << r->rows << " rows in " << r->files << " files as version " << r->version
          << "\n";
    }
    return kExitOk;
  }
  if (cmd == "scan") {
    lake::ScanOptions options;
    options.version = a.version;
    if (!a.as_of.empty()) {
      Result<int64_t> t = ParseTimestampMicros(a.as_of);
      if (!t.ok()) return Fail(err, cmd, t.status().WithContext("--as-of"));
      // Commit times are in ms: a time within a millisecond still includes that commit.
      options.as_of_ms = *t / 1000;
    }
    options.columns = SplitList(a.columns);
    options.where = a.where;
    bool header_done = a.format != "csv";
    std::string buf;
    Status st = table.Scan(options, [&](const lake::RecordBatch& b) {
      buf.clear();
      if (!header_done) {
        lake::WriteCsvHeader(b.fields(), &buf);
        header_done = true;
      }
      if (a.format == "csv") {
        lake::WriteCsvRows(b, &buf);
      } else {
        lake::WriteJsonlRows(b, &buf);
      }
      out << buf;
      return out ? Status::Ok() : UnavailableError("cannot write the output");
    });
    if (!st.ok()) return Fail(err, cmd, st);
    if (!header_done) {  // no rows: still print the header
      Result<std::vector<lake::BatchField>> schema = table.Schema(a.version);
      if (schema.ok()) {
        std::vector<lake::BatchField> shown;
        const std::vector<std::string> cols = SplitList(a.columns);
        for (const auto& f : *schema) {
          if (cols.empty() || std::find(cols.begin(), cols.end(), f.name) != cols.end()) {
            shown.push_back(f);
          }
        }
        buf.clear();
        lake::WriteCsvHeader(shown, &buf);
        out << buf;
      }
    }
    return kExitOk;
  }
  if (cmd == "count") {
    Result<int64_t> n = table.Count(a.version);
    if (!n.ok()) return Fail(err, cmd, n.status());
    out << *n << "\n";
    return kExitOk;
  }
  if (cmd == "history") {
    Result<std::vector<lake::HistoryEntry>> h = table.History();
    if (!h.ok()) return Fail(err, cmd, h.status());
    for (const lake::HistoryEntry& e : *h) {
      out << "{\"version\":" << e.version << ",\"timestamp\":\""
          << FormatTimestampMicros(e.timestamp_ms * 1000)
          << "\",\"operation\":" << nlohmann::json(e.operation).dump()
          << ",\"commitInfo\":" << e.commit_info_json << "}\n";
    }
    return kExitOk;
  }
  if (cmd == "checkpoint") {
    Result<int64_t> v = table.Checkpoint();
    if (!v.ok()) return Fail(err, cmd, v.status());
    err << "checkpoint written at version " << *v << "\n";
    return kExitOk;
  }
  if (cmd == "optimize") {
    Result<lake::OptimizeResult> r = table.Optimize();
    if (!r.ok()) return Fail(err, cmd, r.status());
    if (r->version < 0) {
      err << "nothing to compact\n";
    } else {
      err << "compacted " << r->files_removed << " files into " << r->files_added << " as version "
          << r->version << "\n";
    }
    return kExitOk;
  }
  if (cmd == "vacuum") {
    Result<lake::VacuumResult> r = table.Vacuum(*a.retain_hours, a.dry_run);
    if (!r.ok()) return Fail(err, cmd, r.status());
    for (const std::string& k : r->deleted) out << k << "\n";
    err << (a.dry_run ? "would delete " : "deleted ") << r->deleted.size() << " files; kept "
        << r->kept_recent << " unreferenced files younger than " << *a.retain_hours << " h\n";
    return kExitOk;
  }
  err << "weft lake: unknown command '" << cmd << "'\n";
  return kExitUsage;
}

}  // namespace weft::cli
