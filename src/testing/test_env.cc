#include "testing/test_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

namespace weft::testing {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

}  // namespace

Result<uint16_t> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return UnavailableError("cannot find a free port: " + err);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

Status WaitForListener(uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(port);
    bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    if (fd >= 0) ::close(fd);
    if (ok) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return UnavailableError("nothing listens on 127.0.0.1:" + std::to_string(port));
}

Result<TempDir> TempDir::Make() {
  std::string pattern = (std::filesystem::temp_directory_path() / "weft-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return UnavailableError(std::string("mkdtemp: ") + std::strerror(errno));
  }
  return TempDir(pattern);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

Status RunCommand(const std::string& command) {
  int rc = std::system((command + " >/dev/null 2>&1").c_str());
  if (rc != 0) return InternalError("command failed (" + std::to_string(rc) + "): " + command);
  return Status::Ok();
}

}  // namespace

Result<TestPki> TestPki::Make(const std::string& dir) {
  TestPki p{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/client.pem",
            dir + "/client.key"};
  const std::string ossl = "openssl ";
  WEFT_RETURN_IF_ERROR(RunCommand(ossl +
                                  "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                                  "-days 2 -subj /CN=weft-test-ca -keyout " +
                                  dir + "/ca.key -out " + p.ca_cert));
  std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  for (auto [cert, key, cn, ext] :
       {std::tuple{p.server_cert, p.server_key, "localhost", " -extfile " + dir + "/server.ext"},
        std::tuple{p.client_cert, p.client_key, "weft-test-client", std::string()}}) {
    WEFT_RETURN_IF_ERROR(
        RunCommand(ossl + "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + cn +
                   " -keyout " + key + " -out " + key + ".csr"));
    WEFT_RETURN_IF_ERROR(RunCommand(ossl + "x509 -req -days 2 -in " + key + ".csr -CA " +
                                    p.ca_cert + " -CAkey " + dir + "/ca.key -CAcreateserial -out " +
                                    cert + ext));
  }
  // mosquitto drops to its own user: it must reach the directory and read the server key.
  ::chmod(dir.c_str(), 0755);
  for (const std::string& f : {p.ca_cert, p.server_cert, p.server_key}) ::chmod(f.c_str(), 0644);
  return p;
}

Result<pid_t> MosquittoBroker::Spawn(const std::string& conf, uint16_t port) {
  pid_t pid = ::fork();
  if (pid < 0) return UnavailableError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    const char* candidates[] = {"/usr/sbin/mosquitto", "/usr/bin/mosquitto"};
    for (const char* exe : candidates) ::execl(exe, exe, "-c", conf.c_str(), nullptr);
    ::_exit(127);
  }
  Status up = WaitForListener(port, std::chrono::seconds(5));
  if (up.ok()) return pid;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return FailedPreconditionError("mosquitto is not installed (run scripts/setup.sh)");
  }
  return UnavailableError("mosquitto did not listen on 127.0.0.1:" + std::to_string(port));
}

Result<std::unique_ptr<MosquittoBroker>> MosquittoBroker::Start(BrokerOptions options) {
  WEFT_ASSIGN_OR_RETURN(TempDir dir, TempDir::Make());
  // Started as root, mosquitto drops to the `mosquitto` user: let it write its log here.
  ::chmod(dir.path().c_str(), 0777);
  // Another process may take the port between the probe and the bind: try a few ports.
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    WEFT_ASSIGN_OR_RETURN(uint16_t port, FreeLoopbackPort());
    std::string conf = dir.path() + "/mosquitto.conf";
    std::ofstream out(conf);
    out << "listener " << port << " 127.0.0.1\n"
        << "allow_anonymous true\n"
        << "persistence false\n"
        << "max_inflight_messages 0\n"
        << "max_queued_messages 0\n"
        << "log_dest file " << dir.path() << "/mosquitto.log\n"
        << "log_type error\nlog_type warning\nlog_type notice\n";
    if (options.tls) {
      out << "cafile " << options.tls->ca_cert << "\ncertfile " << options.tls->server_cert
          << "\nkeyfile " << options.tls->server_key << "\nrequire_certificate "
          << (options.require_client_certificate ? "true" : "false") << "\n";
    }
    out.close();
    Result<pid_t> pid = Spawn(conf, port);
    if (pid.ok()) {
      return std::unique_ptr<MosquittoBroker>(
          new MosquittoBroker(std::move(dir), *pid, port, options.tls.has_value()));
    }
    if (pid.status().code() == StatusCode::kFailedPrecondition) return pid.status();
    last = pid.status();
  }
  return UnavailableError("mosquitto did not start on a free loopback port after 5 attempts: " +
                          last.ToString());
}

void MosquittoBroker::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Status MosquittoBroker::Restart() {
  Stop();
  // The port may linger in TIME_WAIT for clients, but mosquitto sets SO_REUSEADDR.
  WEFT_ASSIGN_OR_RETURN(pid_t pid, Spawn(dir_.path() + "/mosquitto.conf", port_));
  pid_ = pid;
  return Status::Ok();
}

MosquittoBroker::~MosquittoBroker() {
  Stop();
}

std::string MosquittoBroker::Log() const {
  std::ifstream in(dir_.path() + "/mosquitto.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace weft::testing
