#include "fleet/device/device_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <httplib.h>

namespace weft::fleet::internal {

Result<HttpsEndpoint> ParseHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("'" + std::string(url) + "' is not an https:// URL");
  }
  std::string_view rest = url.substr(kScheme.size());
  HttpsEndpoint ep;
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) ep.path = std::string(rest.substr(slash));
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("'" + std::string(url) + "': unterminated IPv6 literal");
    }
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return InvalidArgumentError("'" + std::string(url) + "': expected ':' after ']'");
      }
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return InvalidArgumentError("'" + std::string(url) + "' has no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return InvalidArgumentError("'" + std::string(url) + "': port '" + std::string(port_text) +
                                  "' is not 1-65535");
    }
    ep.port = static_cast<uint16_t>(port);
  }
  return ep;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return NotFoundError(path + " does not exist");
    return FailedPreconditionError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return DataLossError("error reading " + path);
  return out.str();
}

Status HttpsDownload(const std::string& url, const std::string& ca_file, const std::string& dest,
                     uint64_t max_bytes, std::chrono::milliseconds timeout) {
  WEFT_ASSIGN_OR_RETURN(HttpsEndpoint ep, ParseHttpsUrl(url));
  if (ca_file.empty()) {
    return FailedPreconditionError("no CA file to verify " + ep.host + " (core_ca_file)");
  }
  const std::string tmp = dest + ".part";
  FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) {
    return FailedPreconditionError("cannot create " + tmp + ": " + std::strerror(errno));
  }
  httplib::SSLClient client(ep.host, ep.port);
  client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  uint64_t received = 0;
  bool too_big = false;
  bool write_failed = false;
  httplib::Result res = client.Get(
      ep.path, [&](const char* data, size_t n) {
        received += n;
        if (received > max_bytes) {
          too_big = true;
          return false;
        }
        if (std::fwrite(data, 1, n, out) != n) {
          write_failed = true;
          return false;
        }
        return true;
      });
  const bool flushed = std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
  std::fclose(out);
  auto fail = [&](Status s) {
    std::remove(tmp.c_str());
    return s;
  };
  if (too_big) {
    return fail(FailedPreconditionError("GET " + url + ": more than the manifest's size " +
                                        std::to_string(max_bytes) + " bytes"));
  }
  if (write_failed || !flushed) {
    return fail(FailedPreconditionError("cannot write " + tmp + ": " + std::strerror(errno)));
  }
  if (!res) {
    return fail(UnavailableError("GET " + url + ": " + httplib::to_string(res.error())));
  }
  if (res->status != 200) {
    const std::string what = "GET " + url + ": HTTP " + std::to_string(res->status);
    if (res->status == 404) return fail(NotFoundError(what));
    if (res->status == 401 || res->status == 403) return fail(PermissionDeniedError(what));
    if (res->status == 429 || res->status >= 500) return fail(UnavailableError(what));
    return fail(FailedPreconditionError(what));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, dest, ec);
  if (ec) return fail(FailedPreconditionError("rename " + tmp + ": " + ec.message()));
  return Status::Ok();
}

}  // namespace weft::fleet::internal
