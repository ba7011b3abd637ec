#ifndef WEFT_CLI_LAKE_CLI_H_
#define WEFT_CLI_LAKE_CLI_H_

// `weft lake ...`: Delta tables from the command line (create, append, scan, count, history,
// checkpoint, optimize, vacuum). TABLE is a directory or s3://bucket/prefix.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "common/clock.h"

namespace weft::cli {

struct LakeArgs {
  std::string command{};  //!< the subcommand that was given
  std::string table{};
  std::string schema{};
  std::string partition_by{};  //!< comma-separated
  std::string from{};
  std::string app_id{};
  std::optional<int64_t> txn_version{};
  std::optional<int64_t> version{};
  std::string as_of{};
  std::string columns{};  //!< comma-separated
  std::string where{};
  std::string format = "csv";
  std::optional<double> retain_hours{};
  bool dry_run = false;
};

//! Declares `lake` and its subcommands on `app`; the parsed values land in `*args`.
CLI::App* AddLakeCommands(CLI::App& app, LakeArgs* args);
//! Runs the parsed command; messages for people go to `err`, data to `out`. Exit codes as cli.h.
int RunLake(const LakeArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_LAKE_CLI_H_
