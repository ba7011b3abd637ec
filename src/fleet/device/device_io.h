// Internal helpers of fleet_device: HTTPS endpoints, whole-file reads. Not a public API.
//
//   WEFT_ASSIGN_OR_RETURN(HttpsEndpoint ep, ParseHttpsUrl("https://core:8443/api/v1/x?a=b"));
//   // ep.host "core", ep.port 8443, ep.path "/api/v1/x?a=b"
//
// Thread-safety: free functions without shared state.
#ifndef WEFT_FLEET_DEVICE_DEVICE_IO_H_
#define WEFT_FLEET_DEVICE_DEVICE_IO_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weft::fleet::internal {

struct HttpsEndpoint {
  std::string host;
  uint16_t port = 443;
  std::string path = "/";  //!< path and query, never empty
};

//! "https://host[:port][/path]"; IPv6 literals in brackets. InvalidArgument naming the problem.
Result<HttpsEndpoint> ParseHttpsUrl(std::string_view url);

//! The whole file; NotFound when it does not exist.
Result<std::string> ReadWholeFile(const std::string& path);

//! GET `url` (https://, verified against the CA file `ca_file`) into `dest` (written via a temp
//! file and renamed), refusing bodies larger than `max_bytes`. Unavailable on network errors,
//! NotFound / PermissionDenied / FailedPrecondition on HTTP 404 / 401-403 / other statuses.
Status HttpsDownload(const std::string& url, const std::string& ca_file, const std::string& dest,
                     uint64_t max_bytes, std::chrono::milliseconds timeout);

}  // namespace weft::fleet::internal

#endif  // WEFT_FLEET_DEVICE_DEVICE_IO_H_
