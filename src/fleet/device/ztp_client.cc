#include "fleet/device/ztp_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/time_format.h"
#include "fleet/broker_config.h"
#include "fleet/device/device_io.h"
#include "fleet/pki.h"
#include "fleet/signing.h"

namespace weft::fleet {
namespace {

namespace fs = std::filesystem;
using internal::HttpsEndpoint;
using internal::ReadWholeFile;

constexpr const char* kIdentityFile = "identity.json";

bool ValidDeviceId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

struct Factory {
  std::string core_ca_file;
  std::string cert_pem, key_pem;  //!< empty with a claim token
  std::string claim_token;
  std::string common_name;  //!< for the CSR's subject (the core decides the real one)
};

Result<Factory> LoadFactory(const std::string& dir) {
  if (dir.empty()) return FailedPreconditionError("factory: no factory directory given");
  Factory f;
  f.core_ca_file = dir + "/core-ca.pem";
  if (!fs::exists(f.core_ca_file)) {
    return FailedPreconditionError("factory: " + f.core_ca_file +
                                   " (the CA of the core's HTTPS certificate) does not exist");
  }
  const std::string cert_file = dir + "/factory.pem";
  const std::string key_file = dir + "/factory.key";
  const std::string token_file = dir + "/claim.token";
  if (fs::exists(cert_file)) {
    WEFT_ASSIGN_OR_RETURN(f.cert_pem, ReadWholeFile(cert_file));
    auto key = ReadWholeFile(key_file);
    if (!key.ok()) {
      return FailedPreconditionError("factory: " + cert_file + " needs its key " + key_file + ": " +
                                     key.status().message());
    }
    f.key_pem = std::move(key).value();
    auto info = ParseCert(f.cert_pem);
    if (!info.ok()) {
      return FailedPreconditionError("factory: " + cert_file + ": " + info.status().message());
    }
    f.common_name = info->subject.common_name;
    return f;
  }
  if (fs::exists(token_file)) {
    WEFT_ASSIGN_OR_RETURN(std::string token, ReadWholeFile(token_file));
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
      token.pop_back();
    }
    if (token.empty()) return FailedPreconditionError("factory: " + token_file + " is empty");
    f.claim_token = std::move(token);
    f.common_name = "weft-device";
    return f;
  }
  return FailedPreconditionError("factory: " + dir +
                                 " holds neither factory.pem + factory.key nor claim.token");
}

struct Answer {
  int status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
};

std::string CoreMessage(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const nlohmann::json& e = j["error"];
    std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>()
                                                                   : "";
    std::string message =
        e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    return code.empty() ? message : code + ": " + message;
  }
  return body.size() > 200 ? body.substr(0, 200) + "..." : body;
}

Result<Answer> PostOnce(const HttpsEndpoint& ep, const std::string& ca_file,
                        const std::string& path, const std::string& body,
                        std::chrono::milliseconds timeout) {
  httplib::SSLClient client(ep.host, ep.port);
  client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_write_timeout(secs.count(), usecs.count());
  httplib::Result res = client.Post(path, body, "application/json");
  if (!res) {
    std::string why = httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification) {
      why += " (the core's certificate does not verify with " + ca_file + ")";
    }
    return UnavailableError(why);
  }
  Answer a;
  a.status = res->status;
  a.body = res->body;
  if (res->has_header("Retry-After")) {
    const std::string v = res->get_header_value("Retry-After");
    int64_t s = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
    if (ec == std::errc() && end == v.data() + v.size() && s >= 0) {
      a.retry_after = std::chrono::seconds(std::min<int64_t>(s, 3600));
    }
  }
  return a;
}

// POSTs `body`, retrying 429 / 5xx-unavailable / connection errors with backoff.
Result<nlohmann::json> PostJson(const ZtpClient::Options& o, const std::string& step,
                                const std::string& ca_file, const std::string& path,
                                const nlohmann::json& body) {
  WEFT_ASSIGN_OR_RETURN(HttpsEndpoint ep, internal::ParseHttpsUrl(o.core_url));
  std::string base = ep.path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string full_path = base + path;
  const std::string where = step + ": POST " + o.core_url + path;
  const std::string text = body.dump();
  std::mt19937_64 rng(std::random_device{}());
  std::chrono::milliseconds backoff = o.initial_backoff;
  const int attempts = std::max(1, o.max_attempts);
  std::string last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    Result<Answer> a = PostOnce(ep, ca_file, full_path, text, o.timeout);
    std::optional<std::chrono::milliseconds> wait;
    if (!a.ok()) {
      last = a.status().message();
    } else if (a->status == 200 || a->status == 201) {
      nlohmann::json j = nlohmann::json::parse(a->body, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) return DataLossError(where + ": the answer is not a JSON object");
      return j;
    } else if (a->status == 429 || a->status == 502 || a->status == 503 || a->status == 504) {
      last = "HTTP " + std::to_string(a->status) + " " + CoreMessage(a->body);
      if (a->retry_after) wait = *a->retry_after;
    } else {
      const std::string msg =
          where + ": HTTP " + std::to_string(a->status) + " " + CoreMessage(a->body);
      if (a->status == 400 || a->status == 422) return InvalidArgumentError(msg);
      if (a->status == 401 || a->status == 403) return PermissionDeniedError(msg);
      if (a->status == 404) return NotFoundError(msg);
      if (a->status == 409) return FailedPreconditionError(msg);
      return InternalError(msg);
    }
    if (attempt == attempts) break;
    if (!wait) {
      // Full jitter in [backoff/2, backoff]: a thousand devices rebooting together spread out.
      const int64_t hi = backoff.count();
      std::uniform_int_distribution<int64_t> d(hi / 2, hi);
      wait = std::chrono::milliseconds(d(rng));
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(60));
    }
    spdlog::warn("{}: attempt {}/{} failed ({}); retrying in {} ms", where, attempt, attempts,
                 last, wait->count());
    if (o.sleep) {
      o.sleep(*wait);
    } else {
      std::this_thread::sleep_for(*wait);
    }
  }
  return UnavailableError(where + ": gave up after " + std::to_string(attempts) +
                          " attempts: " + last);
}

Result<std::string> StringOf(const nlohmann::json& j, const char* name, const std::string& where,
                             bool required = true) {
  if (!j.contains(name) || j[name].is_null()) {
    if (!required) return std::string();
    return DataLossError(where + ": the answer has no \"" + name + "\"");
  }
  if (!j[name].is_string()) return DataLossError(where + ": \"" + name + "\" is not a string");
  return j[name].get<std::string>();
}

std::optional<TimePoint> TimeOf(const nlohmann::json& j, const char* name) {
  if (!j.contains(name)) return std::nullopt;
  const nlohmann::json& v = j[name];
  if (v.is_string()) {
    auto us = ParseTimestampMicros(v.get<std::string>());
    if (us.ok()) return TimeFromUnixMicros(*us);
  } else if (v.is_number_integer()) {
    return TimePoint(std::chrono::seconds(v.get<int64_t>()));
  }
  return std::nullopt;
}

// Checks the core's answer, writes the files and identity.json, and removes the previous
// generation's files.
Result<DeviceIdentity> Persist(const ZtpClient::Options& o, const std::string& step,
                               const nlohmann::json& j, const KeyPair& key,
                               const std::string& csr, TimePoint now) {
  const std::string where = step;
  DeviceIdentity id;
  WEFT_ASSIGN_OR_RETURN(id.device_id, StringOf(j, "device_id", where));
  if (!ValidDeviceId(id.device_id)) {
    return DataLossError(where + ": device_id '" + id.device_id +
                         "' is not [A-Za-z0-9._-]{1,64}");
  }
  WEFT_ASSIGN_OR_RETURN(id.site, StringOf(j, "site", where, false));
  WEFT_ASSIGN_OR_RETURN(id.hardware_model, StringOf(j, "hardware_model", where, false));
  WEFT_ASSIGN_OR_RETURN(std::string cert, StringOf(j, "certificate", where));
  WEFT_ASSIGN_OR_RETURN(std::string ca, StringOf(j, "ca", where));
  WEFT_ASSIGN_OR_RETURN(id.ota_public_key_pem, StringOf(j, "ota_public_key", where, false));
  if (j.contains("broker") && j["broker"].is_object()) {
    WEFT_ASSIGN_OR_RETURN(id.broker_url, StringOf(j["broker"], "url", where + ": broker"));
  } else {
    return DataLossError(where + ": the answer has no \"broker\": {\"url\"}");
  }
  if (j.contains("topics") && j["topics"].is_object()) {
    WEFT_ASSIGN_OR_RETURN(id.topic_prefix, StringOf(j["topics"], "prefix", where, false));
  }
  if (id.topic_prefix.empty()) id.topic_prefix = "weft/v1/edge/" + id.device_id;

  // The certificate must be for our key, name us, and chain to the CA we will trust.
  WEFT_ASSIGN_OR_RETURN(CsrInfo mine, ParseCsr(csr));
  Result<CertInfo> info = VerifyCert(cert, ca, now);
  if (!info.ok()) {
    return DataLossError(where + ": the certificate does not verify with the fleet CA sent: " +
                         info.status().message());
  }
  if (info->public_key_pem != mine.public_key_pem) {
    return DataLossError(where + ": the certificate is not for the key this device sent");
  }
  if (info->subject.common_name != id.device_id) {
    return DataLossError(where + ": the certificate's CN '" + info->subject.common_name +
                         "' is not the device id '" + id.device_id + "'");
  }
  id.not_after = info->not_after;
  const TimePoint default_renew =
      info->not_before + (info->not_after - info->not_before) * 2 / 3;
  id.renew_after = TimeOf(j, "renew_after").value_or(default_renew);
  if (id.renew_after > id.not_after) id.renew_after = default_renew;

  // One generation of files per certificate; identity.json, written last, says which is current.
  std::error_code ec;
  fs::create_directories(o.state_dir, ec);
  if (ec) return FailedPreconditionError(step + ": cannot create " + o.state_dir + ": " + ec.message());
  ::chmod(o.state_dir.c_str(), 0700);
  const std::string gen = info->fingerprint_sha256.substr(0, 16);
  const std::string cert_name = "device-" + gen + ".pem";
  const std::string key_name = "device-" + gen + ".key";
  const std::string ca_name = "fleet-ca-" + gen + ".pem";
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(o.state_dir + "/" + key_name, key.private_pem, 0600));
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(o.state_dir + "/" + cert_name, cert, 0644));
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(o.state_dir + "/" + ca_name, ca, 0644));
  nlohmann::json doc = {
      {"device_id", id.device_id},
      {"site", id.site},
      {"hardware_model", id.hardware_model},
      {"cert_file", cert_name},
      {"key_file", key_name},
      {"ca_file", ca_name},
      {"broker_url", id.broker_url},
      {"ota_public_key", id.ota_public_key_pem},
      {"topic_prefix", id.topic_prefix},
      {"not_after", FormatTimestampMicros(UnixMicros(id.not_after))},
      {"renew_after", FormatTimestampMicros(UnixMicros(id.renew_after))},
      {"core_url", o.core_url},
  };
  WEFT_RETURN_IF_ERROR(WriteFileAtomic(o.state_dir + "/" + kIdentityFile, doc.dump(2) + "\n", 0644));
  for (const auto& e : fs::directory_iterator(o.state_dir, ec)) {
    const std::string name = e.path().filename().string();
    const bool generation_file = name.rfind("device-", 0) == 0 || name.rfind("fleet-ca-", 0) == 0;
    if (generation_file && name != cert_name && name != key_name && name != ca_name) {
      fs::remove(e.path(), ec);
    }
  }
  id.cert_file = o.state_dir + "/" + cert_name;
  id.key_file = o.state_dir + "/" + key_name;
  id.ca_file = o.state_dir + "/" + ca_name;
  return id;
}

Result<DeviceIdentity> Provision(const ZtpClient::Options& o, TimePoint now) {
  WEFT_ASSIGN_OR_RETURN(Factory f, LoadFactory(o.factory_dir));
  WEFT_ASSIGN_OR_RETURN(KeyPair key, GenerateEcKey());
  Subject subject;
  subject.common_name = f.common_name;
  WEFT_ASSIGN_OR_RETURN(std::string csr, MakeCsr(key.private_pem, subject));
  nlohmann::json req = {{"csr", csr}};
  if (!f.cert_pem.empty()) {
    auto proof = SignBytes(f.key_pem, std::string(kProvisionProofContext) + csr);
    if (!proof.ok()) {
      return FailedPreconditionError("provision: cannot sign with the factory key: " +
                                     proof.status().message());
    }
    req["factory_cert"] = f.cert_pem;
    req["proof"] = *proof;
  } else {
    req["claim_token"] = f.claim_token;
  }
  WEFT_ASSIGN_OR_RETURN(nlohmann::json answer,
                        PostJson(o, "provision", f.core_ca_file, "/api/v1/provision", req));
  WEFT_ASSIGN_OR_RETURN(DeviceIdentity id, Persist(o, "provision", answer, key, csr, now));
  spdlog::info("provisioned as {} (site {}, hardware model {}), certificate until {}",
               id.device_id, id.site, id.hardware_model,
               FormatTimestampMicros(UnixMicros(id.not_after)));
  return id;
}

Result<DeviceIdentity> Renew(const ZtpClient::Options& o, const DeviceIdentity& current,
                             TimePoint now) {
  const std::string core_ca = o.factory_dir + "/core-ca.pem";
  if (!fs::exists(core_ca)) {
    return FailedPreconditionError("renew: " + core_ca + " does not exist");
  }
  WEFT_ASSIGN_OR_RETURN(std::string cert, ReadWholeFile(current.cert_file));
  WEFT_ASSIGN_OR_RETURN(std::string current_key, ReadWholeFile(current.key_file));
  WEFT_ASSIGN_OR_RETURN(KeyPair key, GenerateEcKey());
  Subject subject;
  subject.common_name = current.device_id;
  WEFT_ASSIGN_OR_RETURN(std::string csr, MakeCsr(key.private_pem, subject));
  WEFT_ASSIGN_OR_RETURN(std::string proof,
                        SignBytes(current_key, std::string(kProvisionProofContext) + csr));
  nlohmann::json req = {{"csr", csr}, {"certificate", cert}, {"proof", proof}};
  WEFT_ASSIGN_OR_RETURN(nlohmann::json answer,
                        PostJson(o, "renew", core_ca, "/api/v1/provision/renew", req));
  WEFT_ASSIGN_OR_RETURN(DeviceIdentity id, Persist(o, "renew", answer, key, csr, now));
  if (id.device_id != current.device_id) {
    return DataLossError("renew: the core answered for device '" + id.device_id + "', not '" +
                         current.device_id + "'");
  }
  spdlog::info("renewed the certificate of {} until {}", id.device_id,
               FormatTimestampMicros(UnixMicros(id.not_after)));
  return id;
}

}  // namespace

Result<DeviceIdentity> LoadDeviceIdentity(const std::string& state_dir) {
  const std::string path = state_dir + "/" + kIdentityFile;
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const std::string where = path;
  if (!j.is_object()) return DataLossError(path + " is not a JSON object");
  auto str = [&](const char* name) -> Result<std::string> {
    auto s = StringOf(j, name, where);
    if (!s.ok()) return DataLossError(s.status().message());
    return s;
  };
  DeviceIdentity id;
  WEFT_ASSIGN_OR_RETURN(id.device_id, str("device_id"));
  WEFT_ASSIGN_OR_RETURN(id.site, str("site"));
  WEFT_ASSIGN_OR_RETURN(id.hardware_model, str("hardware_model"));
  WEFT_ASSIGN_OR_RETURN(std::string cert, str("cert_file"));
  WEFT_ASSIGN_OR_RETURN(std::string key, str("key_file"));
  WEFT_ASSIGN_OR_RETURN(std::string ca, str("ca_file"));
  WEFT_ASSIGN_OR_RETURN(id.broker_url, str("broker_url"));
  WEFT_ASSIGN_OR_RETURN(id.ota_public_key_pem, str("ota_public_key"));
  WEFT_ASSIGN_OR_RETURN(id.topic_prefix, str("topic_prefix"));
  auto not_after = TimeOf(j, "not_after");
  auto renew_after = TimeOf(j, "renew_after");
  if (!not_after || !renew_after) {
    return DataLossError(path + ": not_after / renew_after missing or not ISO-8601");
  }
  id.not_after = *not_after;
  id.renew_after = *renew_after;
  id.cert_file = state_dir + "/" + cert;
  id.key_file = state_dir + "/" + key;
  id.ca_file = state_dir + "/" + ca;
  for (const std::string* f : {&id.cert_file, &id.key_file, &id.ca_file}) {
    if (!fs::exists(*f)) return DataLossError(path + " names " + *f + ", which does not exist");
  }
  return id;
}

Result<DeviceIdentity> ZtpClient::Ensure(const Options& options) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Default();
  if (options.state_dir.empty()) return InvalidArgumentError("ztp: state_dir is required");
  if (options.core_url.empty()) return InvalidArgumentError("ztp: core_url is required");
  WEFT_RETURN_IF_ERROR(internal::ParseHttpsUrl(options.core_url).status().WithContext("ztp: core"));
  const TimePoint now = clock.Now();
  Result<DeviceIdentity> current = LoadDeviceIdentity(options.state_dir);
  if (current.ok()) {
    if (now < current->renew_after) return current;
    if (now < current->not_after) {
      Result<DeviceIdentity> renewed = Renew(options, *current, now);
      if (renewed.ok()) return renewed;
      if (renewed.status().code() == StatusCode::kUnavailable) {
        // The core is away; the certificate still works for a while: keep going, retry later.
        spdlog::warn("{}; keeping the current certificate (valid until {})",
                     renewed.status().message(),
                     FormatTimestampMicros(UnixMicros(current->not_after)));
        return current;
      }
      spdlog::warn("{}; provisioning again with the factory identity", renewed.status().message());
    } else {
      spdlog::warn("the certificate of {} expired at {}; provisioning again", current->device_id,
                   FormatTimestampMicros(UnixMicros(current->not_after)));
    }
  } else if (current.status().code() != StatusCode::kNotFound) {
    spdlog::warn("identity in {} unusable ({}); provisioning again", options.state_dir,
                 current.status().message());
  }
  return Provision(options, now);
}

}  // namespace weft::fleet
