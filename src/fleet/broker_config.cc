#include "fleet/broker_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

namespace weft::fleet {

namespace {

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Closes the descriptor and removes the temp file unless released.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  Status Close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return DataLossError(Errno("cannot close '" + path_ + "'"));
    return Status::Ok();
  }
  void Release() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

std::string MosquittoConf(const std::string& dir, const BrokerListener& listener) {
  std::ostringstream c;
  c << "# Written by Weft (weft::fleet::MosquittoConf): the fleet's mutual-TLS listener.\n"
    << "# Clients are identified by their certificate's CN; acl and crl.pem are rewritten by\n"
    << "# weft-core, which then sends SIGHUP.\n"
    << "per_listener_settings false\n"
    << "allow_anonymous false\n"
    << "persistence false\n"
    << "pid_file " << dir << "/mosquitto.pid\n"
    << "log_dest file " << dir << "/mosquitto.log\n"
    << "log_type error\n"
    << "log_type warning\n"
    << "log_type notice\n"
    << "log_type information\n"
    << "connection_messages true\n"
    << "log_timestamp true\n"
    << "acl_file " << dir << "/acl\n"
    << "\n"
    << "listener " << listener.port << " " << listener.host << "\n"
    << "cafile " << dir << "/ca.pem\n"
    << "certfile " << dir << "/server.pem\n"
    << "keyfile " << dir << "/server.key\n"
    << "crlfile " << dir << "/crl.pem\n"
    << "require_certificate true\n"
    << "use_identity_as_username true\n"
    << "tls_version tlsv1.2\n";
  return c.str();
}

bool IsValidDeviceId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Result<std::string> AclText(const std::vector<std::string>& active_devices,
                            const std::string& service_identity) {
  if (!IsValidDeviceId(service_identity)) {
    return InvalidArgumentError("ACL: service identity '" + service_identity +
                                "' is not [A-Za-z0-9._-]{1,64}");
  }
  std::set<std::string> devices;
  for (const std::string& d : active_devices) {
    if (!IsValidDeviceId(d)) {
      return InvalidArgumentError("ACL: device id '" + d + "' is not [A-Za-z0-9._-]{1,64}");
    }
    if (d == service_identity) {
      return InvalidArgumentError("ACL: device id '" + d + "' is the service identity");
    }
    devices.insert(d);
  }
  std::ostringstream acl;
  acl << "# Written by Weft (weft::fleet::AclText): one block per active device.\n"
      << "user " << service_identity << "\n"
      << "topic readwrite #\n";
  for (const std::string& d : devices) {
    acl << "\nuser " << d << "\n"
        << "topic write weft/v1/edge/" << d << "/#\n"
        << "topic write weft/v1/uplink/" << d << "/#\n"
        << "topic read weft/v1/edge/" << d << "/cmd/#\n"
        << "topic read weft/v1/edge/" << d << "/committed/#\n";
  }
  return acl.str();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device random;
  const std::string tmp_path =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(random());
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError(Errno("cannot create '" + tmp_path + "'"));
  TempFile tmp(fd, tmp_path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return DataLossError(Errno("cannot write '" + tmp_path + "'"));
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return InternalError(Errno("cannot chmod '" + tmp_path + "'"));
  if (::fsync(fd) != 0) return DataLossError(Errno("cannot fsync '" + tmp_path + "'"));
  WEFT_RETURN_IF_ERROR(tmp.Close());
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    return UnavailableError(Errno("cannot rename '" + tmp_path + "' to '" + path + "'"));
  }
  tmp.Release();
  // The rename is durable only once the directory is.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return DataLossError(Errno("cannot open directory '" + dir.string() + "'"));
  const int rc = ::fsync(dir_fd);
  ::close(dir_fd);
  if (rc != 0) return DataLossError(Errno("cannot fsync directory '" + dir.string() + "'"));
  return Status::Ok();
}

}  // namespace weft::fleet
