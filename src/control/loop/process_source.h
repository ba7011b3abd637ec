// ProcessSetpointSource: a SetpointSource backed by an external model process speaking JSON
// lines (one request, one answer):
//   stdin  <- {"ts":"2026-11-26T10:00:00.000000Z","ts_us":1795..., "inputs":{"zone_temp":21.4}}
//   stdout -> {"setpoint": 20.5}
// Non-finite inputs are sent as null.
//
//   ProcessSourceOptions o{.command = {"/usr/bin/python3", "model.py"}, .working_dir = dir,
//                          .timeout = std::chrono::seconds(5)};
//   ProcessSetpointSource source(o);
//   Result<double> p = source.Propose(clock.Now(), inputs);
//
// Contracts:
//   - The process is started on the first Propose (fork + execvp in `working_dir`, stderr
//     inherited, stdin/stdout one Unix socket so that writes to a dead process give EPIPE and
//     never SIGPIPE; it gets SIGKILL when this process dies, via PR_SET_PDEATHSIG).
//   - Propose never blocks beyond `timeout` (writing the request and reading the answer).
//   - No answer in time: the process is killed (SIGKILL) so that a late answer cannot be taken
//     for the next one, and it is restarted later. Crash, EOF or a write error: restarted too.
//     Restarts back off (min_backoff doubling up to max_backoff, measured on the `now` given to
//     Propose; reset by a good answer); while backing off Propose returns Unavailable at once.
//   - An answer that is not {"setpoint": <number>} is an error (counted), the process is kept.
//   Every error is counted in stats(); the message names the model and what happened.
//
// Thread-safety: not thread-safe (one ControlLoop calls it). The destructor kills and reaps the
// process.
#ifndef WEFT_CONTROL_LOOP_PROCESS_SOURCE_H_
#define WEFT_CONTROL_LOOP_PROCESS_SOURCE_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "control/loop/setpoint_source.h"

namespace weft::control {

struct ProcessSourceOptions {
  std::vector<std::string> command;   //!< argv; argv[0] looked up in PATH when it has no '/'
  std::filesystem::path working_dir;  //!< "" = the current directory
  std::chrono::milliseconds timeout{5000};
  Micros min_backoff{std::chrono::seconds(1)};
  Micros max_backoff{std::chrono::seconds(30)};
  std::string version;  //!< reported as version() (e.g. the model's version); "" = "process"
};

struct ProcessSourceStats {
  uint64_t proposals = 0;  //!< good answers
  uint64_t starts = 0;
  uint64_t timeouts = 0;
  uint64_t crashes = 0;  //!< EOF, write errors, exits
  uint64_t bad_answers = 0;
  uint64_t start_failures = 0;
  uint64_t errors() const { return timeouts + crashes + bad_answers + start_failures; }
};

class ProcessSetpointSource final : public SetpointSource {
 public:
  explicit ProcessSetpointSource(ProcessSourceOptions options);
  ~ProcessSetpointSource() override;
  ProcessSetpointSource(const ProcessSetpointSource&) = delete;
  ProcessSetpointSource& operator=(const ProcessSetpointSource&) = delete;

  Result<double> Propose(TimePoint now, const std::map<std::string, double>& inputs) override;
  std::string name() const override;
  std::string version() const override;

  const ProcessSourceStats& stats() const { return stats_; }
  //! The running process's pid, or -1.
  pid_t pid() const { return pid_; }

 private:
  Status Spawn();
  //! Kills (SIGKILL) and reaps the process, if any, and schedules the restart from `now`.
  void Kill(TimePoint now);
  //! Reads bytes until a full line is buffered or the deadline passes.
  Result<std::string> ReadLine(std::chrono::steady_clock::time_point deadline);

  const ProcessSourceOptions options_;
  pid_t pid_ = -1;
  int fd_ = -1;  //!< our end of the socket pair
  std::string buffer_;
  TimePoint restart_at_{};
  Micros backoff_{0};
  ProcessSourceStats stats_;
};

}  // namespace weft::control

#endif  // WEFT_CONTROL_LOOP_PROCESS_SOURCE_H_
