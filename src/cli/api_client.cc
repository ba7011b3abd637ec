#include "cli/api_client.h"

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli.h"

namespace weft::cli {
namespace {

struct Endpoint {
  std::string host;
  int port = 443;
};

Result<Endpoint> ParseApiUrl(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) {
    return InvalidArgumentError("--api '" + url +
                                "' must be an https:// URL, e.g. https://127.0.0.1:8443");
  }
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) {
    return InvalidArgumentError("--api '" + url + "' must be https://HOST[:PORT] without a path");
  }
  Endpoint e;
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    e.host = rest.substr(0, colon);
    const std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
      return InvalidArgumentError("--api '" + url + "': bad port '" + port + "'");
    }
    e.port = static_cast<int>(p);
  } else {
    e.host = rest;
  }
  if (e.host.empty()) return InvalidArgumentError("--api '" + url + "' has no host");
  return e;
}

}  // namespace

std::string PathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Result<ApiAnswer> CallApi(const ApiTarget& target, std::string_view method, const std::string& path,
                          const std::string& body, std::ostream& err) {
  if (target.api.empty()) {
    return InvalidArgumentError("--api https://HOST:PORT (weft-core's API) is required");
  }
  WEFT_ASSIGN_OR_RETURN(Endpoint ep, ParseApiUrl(target.api));
  const char* token_env = std::getenv("WEFT_TOKEN");
  const std::string token = !target.token.empty()  ? target.token
                            : token_env != nullptr ? token_env
                                                   : "";
  if (token.empty()) {
    return InvalidArgumentError(
        "set the API token in the environment variable WEFT_TOKEN (never on the command line)");
  }
  if (!target.ca.empty() && target.insecure) {
    return InvalidArgumentError("give --ca or --insecure, not both");
  }
  httplib::SSLClient client(ep.host, ep.port);
  if (target.insecure) {
    err << "weft: WARNING: --insecure: the API's certificate is not verified; anyone on the path "
           "could read the token. Use --ca FILE outside a local demo.\n";
    client.enable_server_certificate_verification(false);
  } else {
    if (!target.ca.empty()) {
      if (!std::filesystem::exists(target.ca)) {
        return InvalidArgumentError("--ca " + target.ca + " does not exist");
      }
      client.set_ca_cert_path(target.ca.c_str());
    }
    client.enable_server_certificate_verification(true);
  }
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  httplib::Result res = method == "GET" ? client.Get(path, headers)
                                        : client.Post(path, headers, body, "application/json");
  if (!res) {
    std::string why = httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification) {
      why +=
          " (pass the CA certificate with --ca FILE, e.g. <state>/tls/cert.pem for weft-core's "
          "self-signed one)";
    }
    return UnavailableError("cannot reach " + target.api + ": " + why);
  }
  return ApiAnswer{res->status, res->body};
}

std::string ApiErrorText(const ApiAnswer& answer) {
  const nlohmann::json reply =
      nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  std::string message = "HTTP " + std::to_string(answer.status);
  if (reply.is_object() && reply.contains("error") && reply["error"].is_object()) {
    message += " " + reply["error"].value("code", std::string()) + ": " +
               reply["error"].value("message", std::string());
  }
  return message;
}

Result<ApiAnswer> CallApiOk(const ApiTarget& target, std::string_view method,
                            const std::string& path, const std::string& body, std::ostream& err) {
  WEFT_ASSIGN_OR_RETURN(ApiAnswer answer, CallApi(target, method, path, body, err));
  if (!answer.ok()) return FailedPreconditionError(ApiErrorText(answer));
  return answer;
}

int ApiExitCode(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInvalidInput;
}

void AddApiOptions(CLI::App* cmd, std::string* api, std::string* ca, bool* insecure,
                   bool* print_json) {
  cmd->add_option("--api", *api, "weft-core's API, https://HOST:PORT (token: $WEFT_TOKEN)")
      ->required();
  cmd->add_option("--ca", *ca, "CA certificate (PEM) that signed the API's certificate");
  cmd->add_flag("--insecure", *insecure,
                "do not verify the API's certificate (self-signed demo only)");
  cmd->add_flag("--json", *print_json, "print the API's JSON answer");
}

Result<std::optional<nlohmann::json>> ApiObjectReply(const ApiAnswer& answer, bool print_json,
                                                     std::ostream& out) {
  nlohmann::json reply = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (print_json) {
    out << (reply.is_discarded() ? nlohmann::json(answer.body) : reply).dump(2) << "\n";
    return std::optional<nlohmann::json>();
  }
  if (reply.is_discarded() || !reply.is_object()) {
    return DataLossError("the API answered something that is not a JSON object");
  }
  return std::optional<nlohmann::json>(std::move(reply));
}

}  // namespace weft::cli
