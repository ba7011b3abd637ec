// The `weft` command line: one function per command, wired by RunCli; apps/weft/main.cc is a
// thin main around RunCli.
//
//   int code = weft::cli::RunCli(argc, argv, std::cout, std::cerr, SystemClock::Default());
//
// Exit codes: 0 success; 1 the input is invalid (e.g. plant.yaml has errors: all of them are
// printed); 2 usage error or a file that cannot be read.
//
// Thread-safety: not meant to run concurrently with itself (it sets up process-wide logging).
#ifndef WEFT_CLI_CLI_H_
#define WEFT_CLI_CLI_H_

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace weft::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalidInput = 1;
inline constexpr int kExitUsage = 2;

//! `path` when set, else $TMPDIR/weft-demo/<leaf> (TMPDIR defaults to /tmp): where `weft demo`
//! keeps its lake ("lake") and weft-core's state ("core-state"), the commands' defaults.
std::string DemoPathOr(const std::string& path, std::string_view leaf);

struct PlanArgs {
  std::string plant_file;
  bool json = false;
  //! Date at which sign-offs are judged; default: today (UTC) from the clock.
  std::optional<std::chrono::sys_days> as_of;
};

//! `weft plan PLANT.yaml [--json] [--as-of YYYY-MM-DD]`.
int RunPlan(const PlanArgs& args, std::ostream& out, std::ostream& err, const Clock& clock);

//! Parses argv and runs the command.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           const Clock& clock);

}  // namespace weft::cli

#endif  // WEFT_CLI_CLI_H_
