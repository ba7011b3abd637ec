#include "core/fleet/broker_admin.h"

#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "fleet/broker_config.h"

namespace weft::core::fleet {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

}  // namespace

BrokerAdmin::BrokerAdmin(std::string dir) : dir_(std::move(dir)) {}

std::optional<pid_t> BrokerAdmin::ManagedBrokerPid(std::string* why) const {
  std::ifstream in(PidPath());
  if (!in) {
    if (why != nullptr) *why = "broker not managed: no " + PidPath();
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = Trim(text);
  long pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end != text.data() + text.size() || pid <= 1) {
    if (why != nullptr) *why = "broker not managed: " + PidPath() + " does not hold a pid";
    return std::nullopt;
  }
  // Only a live mosquitto: a stale pid file must never make us signal another process.
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!comm || !std::getline(comm, name) || name.rfind("mosquitto", 0) != 0) {
    if (why != nullptr) {
      *why = "broker not running: " + PidPath() + " names pid " + std::to_string(pid) +
             ", which is not a running mosquitto";
    }
    return std::nullopt;
  }
  return static_cast<pid_t>(pid);
}

Status BrokerAdmin::WriteBrokerFile(const std::string& path, std::string_view data,
                                    mode_t mode) const {
  WEFT_RETURN_IF_ERROR(::weft::fleet::WriteFileAtomic(path, data, mode));
  if (::geteuid() == 0 && (mode & 0070) != 0) {
    // Started as root, mosquitto drops to the `mosquitto` user and re-reads files on SIGHUP.
    if (const struct group* g = ::getgrnam("mosquitto"); g != nullptr) {
      if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
        return UnavailableError("broker file " + path + ": chgrp mosquitto: " +
                                std::strerror(errno));
      }
    }
  }
  return Status::Ok();
}

Result<BrokerReload> BrokerAdmin::Apply(std::string_view crl_pem, std::string_view acl_text) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(WriteBrokerFile(CrlPath(), crl_pem, 0644));
  WEFT_RETURN_IF_ERROR(WriteBrokerFile(AclPath(), acl_text, 0644));
  BrokerReload out;
  std::optional<pid_t> pid = ManagedBrokerPid(&out.note);
  if (!pid) return out;
  if (::kill(*pid, SIGHUP) != 0) {
    return UnavailableError("broker pid " + std::to_string(*pid) + ": SIGHUP failed: " +
                            std::strerror(errno));
  }
  out.signalled = true;
  out.pid = pid;
  out.note = "reloaded broker pid " + std::to_string(*pid);
  return out;
}

BrokerSync::BrokerSync(Rewrite rewrite) : rewrite_(std::move(rewrite)) {}

Result<BrokerReload> BrokerSync::Sync() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t mine = ++requested_;
  while (done_ < mine) {
    if (running_) {
      done_cv_.wait(lock);
      continue;
    }
    // Lead one rewrite covering every request so far (including ours): its reads start after
    // each of them was made.
    running_ = true;
    const uint64_t covers = requested_;
    lock.unlock();
    Result<BrokerReload> r = rewrite_();
    lock.lock();
    running_ = false;
    done_ = covers;
    ++rewrites_;
    last_ = std::move(r);
    done_cv_.notify_all();
  }
  return last_;
}

uint64_t BrokerSync::rewrites() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rewrites_;
}

}  // namespace weft::core::fleet
