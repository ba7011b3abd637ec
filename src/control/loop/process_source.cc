#include "control/loop/process_source.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace weft::control {
namespace {

constexpr size_t kMaxAnswerBytes = 64 * 1024;

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

ProcessSetpointSource::ProcessSetpointSource(ProcessSourceOptions options)
    : options_(std::move(options)) {}

ProcessSetpointSource::~ProcessSetpointSource() {
  Kill(TimePoint{});
}

std::string ProcessSetpointSource::name() const {
  if (options_.command.empty()) return "process";
  std::string n = "process:";
  // The script, when there is one (python3 model.py), else the program.
  n +=
      std::filesystem::path(options_.command.size() > 1 ? options_.command[1] : options_.command[0])
          .filename()
          .string();
  return n;
}

std::string ProcessSetpointSource::version() const {
  return options_.version.empty() ? "process" : options_.version;
}

Status ProcessSetpointSource::Spawn() {
  if (options_.command.empty()) return InvalidArgumentError("model process: empty command");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    ++stats_.start_failures;
    return UnavailableError(std::string("model process: socketpair: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (const std::string& a : options_.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string dir = options_.working_dir.string();
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    ++stats_.start_failures;
    return UnavailableError(std::string("model process: fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0) _exit(127);
    if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(127);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(sv[1]);
  fd_ = sv[0];
  pid_ = pid;
  buffer_.clear();
  ++stats_.starts;
  return Status::Ok();
}

void ProcessSetpointSource::Kill(TimePoint now) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  buffer_.clear();
  backoff_ =
      backoff_.count() == 0 ? options_.min_backoff : std::min(backoff_ * 2, options_.max_backoff);
  restart_at_ = now + backoff_;
}

Result<std::string> ProcessSetpointSource::ReadLine(
    std::chrono::steady_clock::time_point deadline) {
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (buffer_.size() > kMaxAnswerBytes) {
      return DataLossError("answer longer than " + std::to_string(kMaxAnswerBytes) + " bytes");
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return Status(StatusCode::kDeadlineExceeded, "no answer");
    if (rc < 0) return UnavailableError(std::string("poll: ") + std::strerror(errno));
    char chunk[4096];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0)
      return UnavailableError(n == 0 ? "the process closed its output (exited?)"
                                     : std::string("read: ") + std::strerror(errno));
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

Result<double> ProcessSetpointSource::Propose(TimePoint now,
                                              const std::map<std::string, double>& inputs) {
  const std::string who = "model " + name();
  if (pid_ > 0) {
    // Reap a process that died since the last call (and restart it below, after backoff).
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ++stats_.crashes;
      Kill(now);
      return UnavailableError(who + " exited; restarting it in " + FormatDuration(backoff_));
    }
  }
  if (pid_ < 0) {
    if (now < restart_at_) {
      return UnavailableError(
          who + " is not running; restarting it in " +
          FormatDuration(std::chrono::duration_cast<Micros>(restart_at_ - now)));
    }
    Status s = Spawn();
    if (!s.ok()) {
      Kill(now);
      return s.WithContext(who);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  nlohmann::json in = nlohmann::json::object();
  for (const auto& [k, v] : inputs) {
    in[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  }
  nlohmann::json req = {
      {"ts", FormatTimestampMicros(UnixMicros(now))}, {"ts_us", UnixMicros(now)}, {"inputs", in}};
  std::string line = req.dump() + "\n";
  size_t sent = 0;
  while (sent < line.size()) {
    pollfd p{fd_, POLLOUT, 0};
    int rc = poll(&p, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      ++stats_.timeouts;
      Kill(now);
      return Status(StatusCode::kDeadlineExceeded, who + ": did not take the request within " +
                                                       std::to_string(options_.timeout.count()) +
                                                       " ms; killed");
    }
    ssize_t n = send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ++stats_.crashes;
      Kill(now);
      return UnavailableError(who + ": writing the request: " + why + "; restarting it");
    }
    sent += static_cast<size_t>(n);
  }
  Result<std::string> answer = ReadLine(deadline);
  if (!answer.ok()) {
    if (answer.status().code() == StatusCode::kDeadlineExceeded) {
      ++stats_.timeouts;
    } else {
      ++stats_.crashes;
    }
    Kill(now);
    return Status(answer.status().code(), who + ": " + answer.status().message() + " within " +
                                              std::to_string(options_.timeout.count()) +
                                              " ms; killed, restarting it");
  }
  nlohmann::json j = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  auto it = j.is_object() ? j.find("setpoint") : j.end();
  if (j.is_discarded() || !j.is_object() || it == j.end() || !it->is_number()) {
    ++stats_.bad_answers;
    std::string shown = answer->substr(0, 120);
    return InvalidArgumentError(who + ": the answer is not {\"setpoint\": <number>}: " + shown);
  }
  ++stats_.proposals;
  backoff_ = Micros(0);
  return it->get<double>();
}

}  // namespace weft::control
