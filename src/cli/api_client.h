// ApiClient helpers: one authenticated call to weft-core's API from the CLI, shared by the
// commands that act through it (weft model approve/promote/rollback, weft control, weft
// workorder, weft fleet, weft ota, weft governance).
//
//   ApiTarget t{.api = "https://127.0.0.1:8443", .ca = "state/tls/cert.pem"};
//   Result<ApiAnswer> r = CallApi(t, "POST", "/api/v1/models/" + PathSegment(name) + "/...",
//                                 body.dump(), err);
//   if (r.ok() && !r->ok()) err << ApiErrorText(*r);   // "HTTP 403 forbidden: ..."
//
// The token comes from ApiTarget::token or $WEFT_TOKEN (never a flag, never printed). The API's
// certificate is verified against --ca (or the system store); --insecure skips that with a
// warning on `err`.
// Thread-safety: the functions are reentrant.
#ifndef WEFT_CLI_API_CLIENT_H_
#define WEFT_CLI_API_CLIENT_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace weft::cli {

struct ApiTarget {
  std::string api;  //!< https://HOST[:PORT]
  std::string ca;   //!< CA certificate (PEM) that signed the API's certificate; "" = system
  bool insecure = false;
  //! The API token; "" = $WEFT_TOKEN (the commands never take one on the command line; `weft
  //! demo` passes the tokens it made).
  std::string token;
};

struct ApiAnswer {
  int status = 0;
  std::string body;
  bool ok() const { return status >= 200 && status < 300; }
};

//! Percent-encodes one path segment (everything but unreserved characters).
std::string PathSegment(std::string_view s);

//! One call (method "GET" or "POST"; the body is sent as application/json on POST).
//! InvalidArgument for a usage problem (no --api, a bad URL, no $WEFT_TOKEN, --ca and
//! --insecure together, a missing --ca file); Unavailable when the API cannot be reached (the
//! message says how to fix a certificate verification failure). An HTTP error status is an
//! answer, not an error.
Result<ApiAnswer> CallApi(const ApiTarget& target, std::string_view method, const std::string& path,
                          const std::string& body, std::ostream& err);

//! "HTTP <status> <code>: <message>" from the API's {"error": {"code", "message"}} body.
std::string ApiErrorText(const ApiAnswer& answer);

//! CallApi for a command that needs a success: an HTTP error status is FailedPrecondition with
//! ApiErrorText as its message; the other errors are CallApi's.
Result<ApiAnswer> CallApiOk(const ApiTarget& target, std::string_view method,
                            const std::string& path, const std::string& body, std::ostream& err);

//! The exit code of a failed API command: kExitUsage for a usage problem (InvalidArgument),
//! kExitInvalidInput otherwise.
int ApiExitCode(const Status& s);

//! The options of a command that calls the API: --api (required), --ca, --insecure and --json
//! (print the API's answer as it is).
void AddApiOptions(CLI::App* cmd, std::string* api, std::string* ca, bool* insecure,
                   bool* print_json);

//! A successful answer for a command's output. With `print_json` the body is printed to `out`
//! (indented when it parses, else as a JSON string) and the result is nullopt: the command is
//! done. Otherwise the body as a JSON object; DataLoss when it is not one.
Result<std::optional<nlohmann::json>> ApiObjectReply(const ApiAnswer& answer, bool print_json,
                                                     std::ostream& out);

}  // namespace weft::cli

#endif  // WEFT_CLI_API_CLIENT_H_
