#include "lake/storage/s3_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "lake/storage/object_key.h"

namespace weft::lake {

// What the store asks of one HTTP exchange.
struct S3ObjectStore::Request {
  std::string method;                  //!< GET, HEAD, PUT, POST, DELETE
  std::string url;                     //!< fully encoded; query parameters sorted by name (SigV4)
  std::string_view body{};             //!< PUT/POST payload
  std::vector<std::string> headers{};  //!< extra "Name: value" lines
  std::string what;                    //!< "s3://bucket/key" for messages
  bool error_in_200 = false;  //!< a 200 answer may carry an <Error> body (CompleteMultipart)
};

// What came back. status 0: no HTTP answer (curl_code says why).
struct S3ObjectStore::Response {
  long status = 0;
  CURLcode curl_code = CURLE_OK;
  std::string curl_error{};
  std::string body{};
  std::map<std::string, std::string> headers{};  //!< lower-case names
  int attempts = 0;
};

namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Sha256Hex(std::string_view data) {
  if (data.empty()) return std::string(kEmptySha256);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

// SigV4 URI encoding: unreserved characters stay, everything else is %XX (upper-case hex).
// curl 7.88 signs the path and query exactly as given, so they must already be canonical.
std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Resolves the five predefined entities, numeric character references and CDATA sections.
// Unknown entities are kept as written.
std::string XmlUnescape(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 9) == "<![CDATA[") {
      size_t end = text.find("]]>", i + 9);
      if (end == std::string_view::npos) end = text.size();
      out.append(text.substr(i + 9, end - i - 9));
      i = end + 3;
      continue;
    }
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back(text[i++]);
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (entity.size() > 1 && entity[0] == '#') {
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0' || cp > 0x10FFFF) {
        out.append(text.substr(i, semi - i + 1));
      } else {
        AppendUtf8(static_cast<uint32_t>(cp), &out);
      }
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi + 1;
  }
  return out;
}

// The raw content of each <tag>...</tag> (also <tag attr="..">) in `xml`, in order. Enough for
// S3's flat, namespace-free responses; nested elements of the same name do not occur there.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(tag);
  std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char next = xml[after];
    if (next != '>' && next != ' ' && next != '/' && next != '\t' && next != '\n' && next != '\r') {
      pos = after;  // a longer tag name, e.g. <KeyCount> when looking for <Key>
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <Tag/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

//! The unescaped text of the first <tag>, or nullopt.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> all = XmlElements(xml, tag);
  if (all.empty()) return std::nullopt;
  return XmlUnescape(all.front());
}

// "2026-11-25T19:07:02.000Z" -> Unix ms; 0 when unparsable.
int64_t ParseIso8601Ms(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  int n = std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis);
  if (n < 6) return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm)) * 1000 + (n == 7 ? millis : 0);
}

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    headers->clear();  // a new response (after 100 Continue or a retry inside curl)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  (*headers)[name] = std::string(value);
  return size * count;
}

//! True when the request certainly did not reach the service.
bool NeverSent(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY;
}

bool RetryableTransport(CURLcode code) {
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_LOGIN_DENIED:
    case CURLE_NOT_BUILT_IN: return false;
    default: return true;
  }
}

std::string S3ErrorCode(const std::string& body) {
  return XmlText(body, "Code").value_or("");
}

bool Retryable(long status, const std::string& error_code, CURLcode curl_code) {
  if (status == 0) return RetryableTransport(curl_code);
  if (status >= 500 || status == 429) return true;
  return error_code == "SlowDown" || error_code == "RequestTimeout" ||
         error_code == "ConditionalRequestConflict" || error_code == "InternalError";
}

//! The request may have been applied although no success came back.
bool Ambiguous(long status, CURLcode curl_code) {
  if (status == 0) return !NeverSent(curl_code);
  return status == 500 || status == 502 || status == 504;
}

std::string PartUrl(const std::string& url, uint64_t part_number, const std::string& upload_query) {
  std::string out = url;
  out.append("?partNumber=").append(std::to_string(part_number)).append("&").append(upload_query);
  return out;
}

bool Is2xx(long status) {
  return status >= 200 && status < 300;
}

std::once_flag curl_global_once;

}  // namespace

S3Options S3OptionsFromEnvironment(S3Options base,
                                   const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::string {
    const char* value = getenv ? getenv(name) : std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  auto fill = [](std::string* field, std::string value) {
    if (field->empty()) *field = std::move(value);
  };
  fill(&base.endpoint, get("AWS_ENDPOINT_URL_S3"));
  fill(&base.endpoint, get("AWS_ENDPOINT_URL"));
  fill(&base.region, get("AWS_REGION"));
  fill(&base.region, get("AWS_DEFAULT_REGION"));
  fill(&base.ca_bundle, get("AWS_CA_BUNDLE"));
  if (base.access_key_id.empty() && base.secret_access_key.empty()) {
    // A session token belongs to its key pair: never mix a configured pair with an env token.
    base.access_key_id = get("AWS_ACCESS_KEY_ID");
    base.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
    fill(&base.session_token, get("AWS_SESSION_TOKEN"));
  }
  return base;
}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(S3Options options) {
  if (options.bucket.empty()) return InvalidArgumentError("S3 store: no bucket given");
  if (options.bucket.find('/') != std::string::npos) {
    return InvalidArgumentError("S3 store: bucket \"" + options.bucket + "\" contains '/'");
  }
  while (!options.prefix.empty() && options.prefix.front() == '/') options.prefix.erase(0, 1);
  while (!options.prefix.empty() && options.prefix.back() == '/') options.prefix.pop_back();
  if (!options.prefix.empty()) {
    WEFT_RETURN_IF_ERROR(ValidateObjectKey(options.prefix).WithContext("S3 store prefix"));
  }
  while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
  if (!options.endpoint.empty() && options.endpoint.rfind("http://", 0) != 0 &&
      options.endpoint.rfind("https://", 0) != 0) {
    return InvalidArgumentError("S3 store: endpoint \"" + options.endpoint +
                                "\" must start with http:// or https://");
  }
  if (options.region.empty()) options.region = "us-east-1";
  if (options.access_key_id.empty() != options.secret_access_key.empty()) {
    return InvalidArgumentError(
        "S3 store: give both an access key id and a secret access key, or neither");
  }
  if (options.part_size == 0 || options.multipart_threshold == 0) {
    return InvalidArgumentError("S3 store: part_size and multipart_threshold must be > 0");
  }
  if (options.list_max_keys < 1 || options.list_max_keys > 1000) {
    return InvalidArgumentError("S3 store: list_max_keys must be in 1..1000");
  }
  if (options.max_attempts < 1) return InvalidArgumentError("S3 store: max_attempts must be >= 1");
  std::call_once(curl_global_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<S3ObjectStore> store(new S3ObjectStore(std::move(options)));
  if (store->curl_ == nullptr) return InternalError("S3 store: curl_easy_init failed");
  return store;
}

S3ObjectStore::S3ObjectStore(S3Options options)
    : options_(std::move(options)),
      sigv4_("aws:amz:" + options_.region + ":s3"),
      curl_(curl_easy_init()),
      rng_(std::random_device{}()) {}

S3ObjectStore::~S3ObjectStore() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string S3ObjectStore::FullKey(std::string_view key) const {
  return options_.prefix.empty() ? std::string(key) : options_.prefix + "/" + std::string(key);
}

std::string S3ObjectStore::Describe(std::string_view key) const {
  return "s3://" + options_.bucket + "/" + FullKey(key);
}

std::string S3ObjectStore::BucketUrl() const {
  if (!options_.endpoint.empty())
    return options_.endpoint + "/" + UriEncode(options_.bucket, false);
  std::string host = "s3." + options_.region + ".amazonaws.com";
  if (options_.force_path_style) return "https://" + host + "/" + UriEncode(options_.bucket, false);
  return "https://" + options_.bucket + "." + host + "/";
}

std::string S3ObjectStore::ObjectUrl(std::string_view full_key) const {
  std::string bucket_url = BucketUrl();
  if (bucket_url.back() != '/') bucket_url.push_back('/');
  return bucket_url + UriEncode(full_key, /*keep_slash=*/true);
}

S3ObjectStore::Response S3ObjectStore::PerformOnce(const Request& request) {
  auto* curl = static_cast<CURL*>(curl_);
  Response response;
  curl_easy_reset(curl);  // keeps the connection cache
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  if (!options_.ca_bundle.empty())
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  if (!options_.access_key_id.empty()) {
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.secret_access_key.c_str());
  }

  // curl signs every header given here. It uses x-amz-content-sha256 as the payload hash when
  // present (and S3 requires the header), so the body is hashed here, once per attempt's data.
  curl_slist* headers = nullptr;
  std::vector<std::string> lines = request.headers;
  lines.push_back("x-amz-content-sha256: " + Sha256Hex(request.body));
  if (!options_.session_token.empty()) {
    lines.push_back("x-amz-security-token: " + options_.session_token);
  }
  // No "Expect:" line to turn off 100-continue: curl 7.88 would sign the removed header.
  for (const std::string& line : lines) headers = curl_slist_append(headers, line.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    if (request.method == "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  response.curl_code = curl_easy_perform(curl);
  if (response.curl_code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    if (request.error_in_200 && response.status == 200 &&
        response.body.find("<Error>") != std::string::npos) {
      response.status = 500;  // S3 reports late CompleteMultipartUpload failures this way
    }
  } else {
    response.curl_error = error_buffer[0] != '\0' ? std::string(error_buffer)
                                                  : curl_easy_strerror(response.curl_code);
    response.body.clear();
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  return response;
}

std::chrono::milliseconds S3ObjectStore::Backoff(int attempt) {
  // Full jitter (uniform in [0, cap]); cap doubles per attempt up to max_backoff.
  int64_t cap = options_.initial_backoff.count();
  for (int i = 1; i < attempt && cap < options_.max_backoff.count(); ++i) cap *= 2;
  cap = std::min<int64_t>(cap, options_.max_backoff.count());
  if (cap <= 0) return std::chrono::milliseconds(0);
  std::lock_guard<std::mutex> lock(mutex_);
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, cap)(rng_));
}

S3ObjectStore::Response S3ObjectStore::Perform(const Request& request, bool* ambiguous) {
  Response response;
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      response = PerformOnce(request);
    }
    response.attempts = attempt;
    std::string code = response.status == 0 ? "" : S3ErrorCode(response.body);
    bool ok = response.status >= 200 && response.status < 300;
    if (ok || !Retryable(response.status, code, response.curl_code)) return response;
    if (ambiguous != nullptr && Ambiguous(response.status, response.curl_code)) *ambiguous = true;
    if (attempt >= options_.max_attempts) return response;
    std::chrono::milliseconds wait = Backoff(attempt);
    spdlog::debug("S3 {} {}: attempt {}/{} failed ({}); retrying in {} ms", request.method,
                  request.what, attempt, options_.max_attempts,
                  response.status == 0 ? response.curl_error
                                       : "HTTP " + std::to_string(response.status) + " " + code,
                  wait.count());
    if (options_.sleep) {
      options_.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
}

namespace {

// The Status for a failed exchange: names the request, the HTTP status, S3's Code and Message.
Status ErrorFor(const S3ObjectStore::Request& request, const S3ObjectStore::Response& response) {
  std::string message = "S3 " + request.method + " " + request.what + ": ";
  std::string attempts = " (" + std::to_string(response.attempts) +
                         (response.attempts == 1 ? " attempt)" : " attempts)");
  if (response.status == 0) {
    return UnavailableError(message + "no answer from the service: " + response.curl_error +
                            attempts);
  }
  std::string code = S3ErrorCode(response.body);
  std::string text = XmlText(response.body, "Message").value_or("");
  message += "HTTP " + std::to_string(response.status);
  if (!code.empty()) message += " " + code;
  if (!text.empty()) message += ": " + text;
  if (response.status == 301 || response.status == 307) {
    std::optional<std::string> endpoint = XmlText(response.body, "Endpoint");
    message += endpoint ? " (use endpoint " + *endpoint + ", or set the bucket's region)"
                        : " (wrong region?)";
  }
  message += attempts;
  long status = response.status;
  if (status >= 500 || status == 429 || Retryable(status, code, CURLE_OK)) {
    return UnavailableError(std::move(message));
  }
  switch (status) {
    case 401: return Status(StatusCode::kUnauthenticated, std::move(message));
    case 403: return PermissionDeniedError(std::move(message));
    case 404: return NotFoundError(std::move(message));
    case 409:
    case 412: return FailedPreconditionError(std::move(message));
    case 400:
    case 405:
    case 411:
    case 413:
    case 414: return InvalidArgumentError(std::move(message));
    default: return FailedPreconditionError(std::move(message));
  }
}
}  // namespace

Result<std::string> S3ObjectStore::Get(std::string_view key) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  Request request{"GET", ObjectUrl(FullKey(key)), {}, {}, Describe(key)};
  Response response = Perform(request);
  if (response.status == 200) return std::move(response.body);
  if (response.status == 404) return NotFoundError("no object " + Describe(key));
  return ErrorFor(request, response);
}

Result<std::string> S3ObjectStore::GetRange(std::string_view key, uint64_t offset,
                                            uint64_t length) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length == 0) {
    WEFT_RETURN_IF_ERROR(Head(key));
    return std::string();
  }
  uint64_t last = length > UINT64_MAX - offset ? UINT64_MAX : offset + length - 1;
  Request request{"GET", ObjectUrl(FullKey(key)), {}, {}, Describe(key)};
  request.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" + std::to_string(last));
  Response response = Perform(request);
  if (response.status == 206) return std::move(response.body);
  if (response.status == 200) {  // the service ignored Range: cut the range out ourselves
    if (offset >= response.body.size()) return std::string();
    return response.body.substr(offset, length);
  }
  if (response.status == 416) return std::string();  // exists, but offset is past its end
  if (response.status == 404) return NotFoundError("no object " + Describe(key));
  return ErrorFor(request, response);
}

Result<ObjectInfo> S3ObjectStore::Head(std::string_view key) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  Request request{"HEAD", ObjectUrl(FullKey(key)), {}, {}, Describe(key)};
  Response response = Perform(request);
  if (response.status == 404) return NotFoundError("no object " + Describe(key));
  if (response.status != 200) return ErrorFor(request, response);
  ObjectInfo info{std::string(key), 0, 0};
  if (!ParseUint(response.headers["content-length"], &info.size)) {
    return DataLossError("S3 HEAD " + Describe(key) + ": no valid Content-Length in the answer");
  }
  const std::string& modified = response.headers["last-modified"];
  time_t t = modified.empty() ? -1 : curl_getdate(modified.c_str(), nullptr);
  info.modified_ms = t < 0 ? 0 : static_cast<int64_t>(t) * 1000;
  return info;
}

Status S3ObjectStore::Put(std::string_view key, std::string_view data) {
  return PutImpl(key, data, /*if_absent=*/false);
}

Status S3ObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  return PutImpl(key, data, /*if_absent=*/true);
}

Status S3ObjectStore::PutImpl(std::string_view key, std::string_view data, bool if_absent) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  bool ambiguous = false;
  Status status;
  if (data.size() >= options_.multipart_threshold) {
    status = PutMultipart(key, data, if_absent, &ambiguous);
  } else {
    Request request{"PUT", ObjectUrl(FullKey(key)), data, {}, Describe(key)};
    request.headers.emplace_back("Content-Type: application/octet-stream");
    if (if_absent) request.headers.emplace_back("If-None-Match: *");
    Response response = Perform(request, &ambiguous);
    if (Is2xx(response.status)) return Status::Ok();
    if (if_absent && response.status == 412) {
      status = AlreadyExistsError("object " + Describe(key) + " already exists");
    } else {
      status = ErrorFor(request, response);
    }
  }
  if (status.code() == StatusCode::kAlreadyExists && ambiguous) {
    // An earlier attempt may have created the object before its answer was lost.
    Result<std::string> existing = Get(key);
    if (existing.ok() && *existing == data) {
      spdlog::info("S3 PUT {}: an earlier attempt of this put created the object", Describe(key));
      return Status::Ok();
    }
    if (!if_absent) {  // only the multipart path gets here: its upload vanished
      return UnavailableError("S3 PUT " + Describe(key) +
                              ": the multipart upload ended in an unknown state; put again");
    }
  }
  return status;
}

Status S3ObjectStore::PutMultipart(std::string_view key, std::string_view data, bool if_absent,
                                   bool* ambiguous) {
  const std::string url = ObjectUrl(FullKey(key));
  const std::string what = Describe(key);
  Request create{"POST", url + "?uploads=", {}, {}, what + " (create multipart upload)"};
  create.headers.emplace_back("Content-Type: application/octet-stream");
  Response created = Perform(create);
  if (!Is2xx(created.status)) return ErrorFor(create, created);
  std::optional<std::string> upload_id = XmlText(created.body, "UploadId");
  if (!upload_id || upload_id->empty()) {
    return DataLossError("S3 POST " + what + ": no UploadId in the CreateMultipartUpload answer");
  }
  const std::string upload_query = "uploadId=" + UriEncode(*upload_id, false);

  auto abort = [&](Status cause) {
    Request request{"DELETE", url + "?" + upload_query, {}, {}, what + " (abort multipart upload)"};
    Response response = Perform(request);
    if (response.status != 204 && response.status != 200 && response.status != 404) {
      spdlog::warn("{}; also could not abort the upload: {}", cause.ToString(),
                   ErrorFor(request, response).ToString());
    }
    return cause;
  };

  std::string complete_xml = "<CompleteMultipartUpload>";
  uint64_t part_number = 0;
  for (uint64_t offset = 0; offset < data.size(); offset += options_.part_size) {
    ++part_number;
    std::string_view part = data.substr(offset, options_.part_size);
    Request request{"PUT",
                    PartUrl(url, part_number, upload_query),
                    part,
                    {},
                    what + " (part " + std::to_string(part_number) + ")"};
    Response response = Perform(request);
    if (!Is2xx(response.status)) return abort(ErrorFor(request, response));
    const std::string& etag = response.headers["etag"];
    if (etag.empty()) {
      return abort(DataLossError("S3 PUT " + request.what + ": no ETag in the UploadPart answer"));
    }
    complete_xml += "<Part><PartNumber>" + std::to_string(part_number) + "</PartNumber><ETag>" +
                    XmlEscape(etag) + "</ETag></Part>";
  }
  complete_xml += "</CompleteMultipartUpload>";

  Request complete{
      "POST", url + "?" + upload_query, complete_xml, {}, what + " (complete multipart upload)"};
  complete.headers.emplace_back("Content-Type: application/xml");
  if (if_absent) complete.headers.emplace_back("If-None-Match: *");
  complete.error_in_200 = true;
  Response response = Perform(complete, ambiguous);
  if (Is2xx(response.status)) return Status::Ok();
  if (if_absent && response.status == 412) {
    return abort(AlreadyExistsError("object " + what + " already exists"));
  }
  if (response.status == 404 && S3ErrorCode(response.body) == "NoSuchUpload" && *ambiguous) {
    // The upload is gone: an earlier, unanswered Complete finished it (or it was aborted).
    return AlreadyExistsError("object " + what + " already exists (upload completed earlier)");
  }
  return abort(ErrorFor(complete, response));
}

Result<std::vector<ObjectInfo>> S3ObjectStore::List(std::string_view prefix) {
  WEFT_RETURN_IF_ERROR(ValidateObjectPrefix(prefix));
  const std::string root = options_.prefix.empty() ? "" : options_.prefix + "/";
  const std::string full_prefix = root + std::string(prefix);
  std::vector<ObjectInfo> out;
  std::string token;
  for (int page = 1;; ++page) {
    // Parameters sorted by name: curl 7.88 signs the query string as written.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + UriEncode(token, false) + "&";
    query += "list-type=2&max-keys=" + std::to_string(options_.list_max_keys) +
             "&prefix=" + UriEncode(full_prefix, false);
    Request request{"GET",
                    BucketUrl() + "?" + query,
                    {},
                    {},
                    "s3://" + options_.bucket + "/" + full_prefix + " (list, page " +
                        std::to_string(page) + ")"};
    Response response = Perform(request);
    if (response.status != 200) return ErrorFor(request, response);
    for (std::string_view contents : XmlElements(response.body, "Contents")) {
      std::optional<std::string> key = XmlText(contents, "Key");
      if (!key || key->compare(0, root.size(), root) != 0) {
        return DataLossError("S3 list " + request.what + ": an entry without a Key under " +
                             full_prefix);
      }
      ObjectInfo info{key->substr(root.size()), 0, 0};
      ParseUint(XmlText(contents, "Size").value_or(""), &info.size);
      info.modified_ms = ParseIso8601Ms(XmlText(contents, "LastModified").value_or(""));
      out.push_back(std::move(info));
    }
    if (XmlText(response.body, "IsTruncated").value_or("false") != "true") break;
    std::string next = XmlText(response.body, "NextContinuationToken").value_or("");
    if (next.empty() || next == token) {
      return DataLossError("S3 list " + request.what +
                           ": truncated answer without a new NextContinuationToken");
    }
    token = std::move(next);
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3ObjectStore::Delete(std::string_view key) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  Request request{"DELETE", ObjectUrl(FullKey(key)), {}, {}, Describe(key)};
  Response response = Perform(request);
  if (response.status == 204 || response.status == 200 || response.status == 404) {
    return Status::Ok();
  }
  return ErrorFor(request, response);
}

}  // namespace weft::lake
