// S3ObjectStore against (1) FakeS3Server, a tiny loopback HTTP server in this file that answers
// what each test scripts (412, 503, hangs, ...) and records requests, and (2) s3rver, a real S3
// emulator process (tests/interop/s3rver_main.mjs) for the happy paths end to end.
#include "lake/storage/s3_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "lake/storage/object_store_url.h"
#include "testing/test_env.h"

namespace weft::lake {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// FakeS3Server: one connection at a time, "Connection: close" after each answer.

struct HttpRequest {
  std::string method;
  std::string path;                            //!< as sent (still percent-encoded)
  std::string query;                           //!< after '?', as sent
  std::map<std::string, std::string> headers;  //!< lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
  bool hang = false;  //!< never answer (until the server stops or 5 s pass)
};

HttpResponse S3Error(int status, const std::string& code, const std::string& message) {
  return {status,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
              message + "</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>",
          {{"Content-Type", "application/xml"}}};
}

class FakeS3Server {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit FakeS3Server(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "fake S3 server: cannot listen: " << std::strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeS3Server() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 20) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      HttpRequest request;
      if (ReadRequest(fd, &request)) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          requests_.push_back(request);
        }
        HttpResponse response = handler_(request);
        if (response.hang) {
          auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (!stop_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(milliseconds(10));
          }
        } else {
          WriteResponse(fd, request.method, response);
        }
      }
      ::close(fd);
    }
  }

  static bool ReadRequest(int fd, HttpRequest* request) {
    std::string data;
    char buffer[65536];
    size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<size_t>(n));
    }
    std::istringstream head(data.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    std::istringstream request_line(line);
    std::string target;
    request_line >> request->method >> target;
    size_t q = target.find('?');
    request->path = target.substr(0, q);
    request->query = q == std::string::npos ? "" : target.substr(q + 1);
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t start = line.find_first_not_of(' ', colon + 1);
      request->headers[name] = start == std::string::npos ? "" : line.substr(start);
    }
    size_t length = 0;
    if (request->headers.count("content-length") != 0) {
      length = std::stoul(request->headers["content-length"]);
    }
    request->body = data.substr(header_end + 4);
    while (request->body.size() < length) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return false;
      request->body.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  static void WriteResponse(int fd, const std::string& method, const HttpResponse& response) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Scripted\r\n";
    bool has_length = false;
    for (const auto& [name, value] : response.headers) {
      out += name + ": " + value + "\r\n";
      if (name == "Content-Length") has_length = true;
    }
    if (!has_length) out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    if (method != "HEAD") out += response.body;
    size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;  // GUARDED_BY(mutex_)
};

// Options for a store that talks to `endpoint`, with fast, recorded backoff.
S3Options FakeOptions(const std::string& endpoint, std::vector<milliseconds>* sleeps = nullptr) {
  S3Options options;
  options.bucket = "bucket";
  options.prefix = "table";
  options.endpoint = endpoint;
  options.region = "eu-west-1";
  options.access_key_id = "AKIDEXAMPLE";
  options.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  options.max_attempts = 4;
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(40);
  options.connect_timeout = milliseconds(2000);
  options.request_timeout = milliseconds(5000);
  options.sleep = [sleeps](milliseconds d) {
    if (sleeps != nullptr) sleeps->push_back(d);
  };
  return options;
}

std::unique_ptr<S3ObjectStore> OpenOrDie(S3Options options) {
  auto store = S3ObjectStore::Open(std::move(options));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return Hex(digest, size);
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

// An independent SigV4 check (as S3 does it) of a request as it arrived: recomputes the
// signature from the canonical request and compares. Empty when it matches, else why not.
std::string CheckSigV4(const HttpRequest& request, const std::string& secret,
                       const std::string& region) {
  std::string auth = request.Header("authorization");
  auto field = [&](const std::string& name) {
    size_t start = auth.find(name + "=");
    if (start == std::string::npos) return std::string();
    start += name.size() + 1;
    size_t end = auth.find(',', start);
    return auth.substr(start, end == std::string::npos ? std::string::npos : end - start);
  };
  std::string credential = field("Credential");
  std::string signed_headers = field("SignedHeaders");
  std::string signature = field("Signature");
  if (auth.rfind("AWS4-HMAC-SHA256 ", 0) != 0 || signature.empty()) return "bad header: " + auth;
  std::string date_time = request.Header("x-amz-date");
  std::string scope = date_time.substr(0, 8) + "/" + region + "/s3/aws4_request";
  if (credential.find("/" + scope) == std::string::npos) return "credential scope " + credential;
  std::string canonical = request.method + "\n" + request.path + "\n" + request.query + "\n";
  std::istringstream names(signed_headers);
  std::string name;
  while (std::getline(names, name, ';')) {
    if (request.headers.count(name) == 0) return "signed header " + name + " was not sent";
    canonical += name + ":" + request.Header(name) + "\n";
  }
  canonical += "\n" + signed_headers + "\n" + request.Header("x-amz-content-sha256");
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + date_time + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string key = Hmac("AWS4" + secret, date_time.substr(0, 8));
  key = Hmac(Hmac(Hmac(key, region), "s3"), "aws4_request");
  std::string expected = Hmac(key, to_sign);
  std::string expected_hex =
      Hex(reinterpret_cast<const unsigned char*>(expected.data()), expected.size());
  return expected_hex == signature ? "" : "signature " + signature + " != " + expected_hex;
}

// ---------------------------------------------------------------------------------------------
// Against the fake server.

TEST(S3SigV4CheckTest, VerifierMatchesTheAwsDocumentationExample) {
  // "Example: GET Object" of the S3 SigV4 documentation (single-chunk payload).
  HttpRequest request;
  request.method = "GET";
  request.path = "/test.txt";
  request.headers = {
      {"host", "examplebucket.s3.amazonaws.com"},
      {"range", "bytes=0-9"},
      {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"x-amz-date", "20130524T000000Z"},
      {"authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
       "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"}};
  EXPECT_EQ(CheckSigV4(request, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"), "");
}

TEST(S3StoreFakeTest, RequestsAreSignedWithSigV4AndCarryThePayloadHash) {
  FakeS3Server server([](const HttpRequest&) { return HttpResponse{}; });
  S3Options options = FakeOptions(server.endpoint());
  options.session_token = "SESSION-TOKEN-VALUE";
  auto store = OpenOrDie(options);
  ASSERT_TRUE(store->Put("dir/a b+c.json", "{\"x\":1}").ok());
  ASSERT_TRUE(store->Get("dir/a b+c.json").ok());
  ASSERT_TRUE(store->List("dir/").ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const HttpRequest& request : requests) {
    std::string auth = request.Header("authorization");
    EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u) << auth;
    EXPECT_NE(auth.find("/eu-west-1/s3/aws4_request"), std::string::npos) << auth;
    for (const char* header :
         {"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"}) {
      EXPECT_NE(auth.find(header), std::string::npos) << header << " not signed: " << auth;
    }
    EXPECT_EQ(request.Header("x-amz-security-token"), "SESSION-TOKEN-VALUE");
    EXPECT_EQ(request.Header("x-amz-content-sha256"), Sha256Hex(request.body));
    EXPECT_EQ(CheckSigV4(request, options.secret_access_key, "eu-west-1"), "")
        << request.method << " " << request.path << "?" << request.query;
    for (const auto& [name, value] : request.headers) {
      EXPECT_EQ(value.find(options.secret_access_key), std::string::npos) << "secret leaked";
    }
  }
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].path, "/bucket/table/dir/a%20b%2Bc.json");
  EXPECT_EQ(requests[0].body, "{\"x\":1}");
  EXPECT_EQ(requests[0].Header("if-none-match"), "") << "plain Put is unconditional";
  EXPECT_EQ(requests[2].path, "/bucket");
  EXPECT_EQ(requests[2].query, "list-type=2&max-keys=1000&prefix=table%2Fdir%2F");
}

TEST(S3StoreFakeTest, PutIfAbsentMaps412ToAlreadyExists) {
  FakeS3Server server([](const HttpRequest&) {
    return S3Error(412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  });
  auto store = OpenOrDie(FakeOptions(server.endpoint()));
  Status status = store->PutIfAbsent("_delta_log/00000000000000000001.json", "commit");
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  EXPECT_NE(status.message().find("s3://bucket/table/_delta_log/00000000000000000001.json"),
            std::string::npos)
      << status.message();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u) << "412 is an answer, not a failure: no retry";
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].Header("if-none-match"), "*");
}

TEST(S3StoreFakeTest, RetriesSlowDownAnd503WithGrowingJitteredBackoff) {
  std::atomic<int> calls{0};
  FakeS3Server server([&](const HttpRequest&) {
    int n = ++calls;
    if (n == 1) return S3Error(503, "SlowDown", "Please reduce your request rate.");
    if (n == 2) return S3Error(503, "ServiceUnavailable", "try again");
    if (n == 3) return S3Error(429, "TooManyRequests", "later");
    return HttpResponse{};
  });
  std::vector<milliseconds> sleeps;
  auto store = OpenOrDie(FakeOptions(server.endpoint(), &sleeps));
  Status status = store->PutIfAbsent("k", "v");
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(server.requests().size(), 4u);
  ASSERT_EQ(sleeps.size(), 3u);
  EXPECT_LE(sleeps[0], milliseconds(10));
  EXPECT_LE(sleeps[1], milliseconds(20));
  EXPECT_LE(sleeps[2], milliseconds(40));
}

TEST(S3StoreFakeTest, GivesUpAfterMaxAttemptsWithAClearError) {
  FakeS3Server server([](const HttpRequest&) {
    return S3Error(500, "InternalError", "We encountered an internal error. Please try again.");
  });
  std::vector<milliseconds> sleeps;
  auto store = OpenOrDie(FakeOptions(server.endpoint(), &sleeps));
  auto data = store->Get("part-0.parquet");
  EXPECT_EQ(data.status().code(), StatusCode::kUnavailable);
  const std::string message = data.status().message();
  for (const char* part : {"GET", "s3://bucket/table/part-0.parquet", "HTTP 500", "InternalError",
                           "We encountered an internal error", "4 attempts"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing in: " << message;
  }
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(sleeps.size(), 3u);
}

TEST(S3StoreFakeTest, DoesNotRetryClientErrors) {
  FakeS3Server server([](const HttpRequest& request) {
    if (request.method == "GET") return S3Error(403, "AccessDenied", "Access Denied");
    return S3Error(400, "InvalidArgument", "bad");
  });
  auto store = OpenOrDie(FakeOptions(server.endpoint()));
  auto data = store->Get("secret");
  EXPECT_EQ(data.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(data.status().message().find("AccessDenied: Access Denied"), std::string::npos)
      << data.status().message();
  EXPECT_EQ(store->Put("x", "y").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(S3StoreFakeTest, NotFoundAndIdempotentDelete) {
  FakeS3Server server([](const HttpRequest& request) {
    if (request.method == "DELETE") return HttpResponse{204};
    if (request.method == "HEAD") return HttpResponse{404};
    return S3Error(404, "NoSuchKey", "The specified key does not exist.");
  });
  auto store = OpenOrDie(FakeOptions(server.endpoint()));
  EXPECT_EQ(store->Get("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetRange("a", 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Head("a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Delete("a").ok());
}

TEST(S3StoreFakeTest, ConditionalRequestConflictIsRetried) {
  std::atomic<int> calls{0};
  FakeS3Server server([&](const HttpRequest&) {
    if (++calls == 1) {
      return S3Error(409, "ConditionalRequestConflict",
                     "A conflicting operation occurred. Please retry.");
    }
    return HttpResponse{};
  });
  auto store = OpenOrDie(FakeOptions(server.endpoint()));
  EXPECT_TRUE(store->PutIfAbsent("k", "v").ok());
  EXPECT_EQ(server.requests().size(), 2u);
}

// A first attempt applied by the service but answered 500 must not make the retry's 412 look
// like a lost race: the store reads the object back and finds its own bytes.
TEST(S3StoreFakeTest, PutIfAbsentRecognisesItsOwnEarlierWrite) {
  for (bool same_bytes : {true, false}) {
    std::mutex mutex;
    std::optional<std::string> stored;
    FakeS3Server server([&](const HttpRequest& request) {
      std::lock_guard<std::mutex> lock(mutex);
      if (request.method == "PUT") {
        if (!stored) {
          stored = same_bytes ? request.body : "someone else";
          return S3Error(500, "InternalError", "applied, but the answer is lost");
        }
        return S3Error(412, "PreconditionFailed", "exists");
      }
      if (request.method == "GET" && stored) return HttpResponse{200, *stored};
      return S3Error(404, "NoSuchKey", "no");
    });
    auto store = OpenOrDie(FakeOptions(server.endpoint()));
    Status status = store->PutIfAbsent("_delta_log/5.json", "my commit");
    if (same_bytes) {
      EXPECT_TRUE(status.ok()) << status.ToString();
    } else {
      EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
    }
    EXPECT_EQ(server.requests().size(), 3u);  // PUT (500), PUT (412), GET
  }
}

TEST(S3StoreFakeTest, ConnectionRefusedIsUnavailableAfterRetries) {
  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  std::vector<milliseconds> sleeps;
  auto store = OpenOrDie(FakeOptions("http://127.0.0.1:" + std::to_string(*port), &sleeps));
  auto data = store->Get("k");
  EXPECT_EQ(data.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(data.status().message().find("no answer from the service"), std::string::npos)
      << data.status().message();
  EXPECT_EQ(sleeps.size(), 3u);
}

TEST(S3StoreFakeTest, HangingServerTimesOut) {
  FakeS3Server server([](const HttpRequest&) { return HttpResponse{.hang = true}; });
  S3Options options = FakeOptions(server.endpoint());
  options.request_timeout = milliseconds(200);
  options.max_attempts = 2;
  auto store = OpenOrDie(options);
  auto start = std::chrono::steady_clock::now();
  auto data = store->Get("k");
  EXPECT_EQ(data.status().code(), StatusCode::kUnavailable) << data.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(S3StoreFakeTest, RangeAndHead) {
  FakeS3Server server([](const HttpRequest& request) {
    if (request.method == "HEAD") {
      return HttpResponse{
          200,
          "",
          {{"Content-Length", "1234"}, {"Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"}}};
    }
    if (request.Header("range") == "bytes=100-") return HttpResponse{};  // unused
    if (request.Header("range") == "bytes=2000-2009") {
      return S3Error(416, "InvalidRange", "The requested range is not satisfiable");
    }
    return HttpResponse{206, "0123456789"};
  });
  auto store = OpenOrDie(FakeOptions(server.endpoint()));
  auto info = store->Head("f");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 1234u);
  EXPECT_EQ(info->modified_ms, 1445412480000);
  EXPECT_EQ(store->GetRange("f", 10, 10).value(), "0123456789");
  EXPECT_EQ(server.requests().back().Header("range"), "bytes=10-19");
  EXPECT_EQ(store->GetRange("f", 2000, 10).value(), "");
  EXPECT_EQ(store->GetRange("f", 5, UINT64_MAX).value(), "0123456789");
  EXPECT_EQ(server.requests().back().Header("range"), "bytes=5-18446744073709551615");
}

TEST(S3StoreFakeTest, ListFollowsContinuationTokensAndUnescapesKeys) {
  FakeS3Server server([](const HttpRequest& request) {
    const std::string head =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name>";
    if (request.query.find("continuation-token=") == std::string::npos) {
      return HttpResponse{200, head +
                                   "<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
                                   "<Contents><Key>table/a&amp;b&lt;c&gt;.json</Key>"
                                   "<LastModified>2024-08-20T10:00:00.250Z</LastModified>"
                                   "<Size>7</Size></Contents>"
                                   "<Contents><Key>table/b&#x20;c</Key><Size>1</Size></Contents>"
                                   "<NextContinuationToken>1/a+b=</NextContinuationToken>"
                                   "</ListBucketResult>"};
    }
    return HttpResponse{200, head +
                                 "<IsTruncated>false</IsTruncated>"
                                 "<Contents><Key>table/c</Key><Size>3</Size></Contents>"
                                 "</ListBucketResult>"};
  });
  S3Options options = FakeOptions(server.endpoint());
  options.list_max_keys = 2;
  auto store = OpenOrDie(options);
  auto list = store->List("");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].key, "a&b<c>.json");
  EXPECT_EQ((*list)[0].size, 7u);
  EXPECT_EQ((*list)[0].modified_ms, 1724148000250);
  EXPECT_EQ((*list)[1].key, "b c");
  EXPECT_EQ((*list)[2].key, "c");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].query, "list-type=2&max-keys=2&prefix=table%2F");
  EXPECT_EQ(requests[1].query,
            "continuation-token=1%2Fa%2Bb%3D&list-type=2&max-keys=2&prefix=table%2F");
}

TEST(S3StoreFakeTest, MultipartUploadIsAbortedWhenAPartFails) {
  FakeS3Server server([](const HttpRequest& request) {
    if (request.method == "POST" && request.query == "uploads=") {
      return HttpResponse{200,
                          "<InitiateMultipartUploadResult><UploadId>UP+1</UploadId>"
                          "</InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT" && request.query.rfind("partNumber=2&", 0) == 0) {
      return S3Error(400, "InvalidPart", "scripted failure");
    }
    if (request.method == "PUT") return HttpResponse{200, "", {{"ETag", "\"etag1\""}}};
    if (request.method == "DELETE") return HttpResponse{204};
    return S3Error(400, "Unexpected", "unexpected request");
  });
  S3Options options = FakeOptions(server.endpoint());
  options.multipart_threshold = 10;
  options.part_size = 10;
  auto store = OpenOrDie(options);
  Status status = store->Put("big", std::string(25, 'x'));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("InvalidPart"), std::string::npos) << status.message();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].query, "partNumber=1&uploadId=UP%2B1");
  EXPECT_EQ(requests[1].body, std::string(10, 'x'));
  EXPECT_EQ(requests[3].method, "DELETE");
  EXPECT_EQ(requests[3].query, "uploadId=UP%2B1");
}

TEST(S3StoreFakeTest, ConditionalMultipartCompleteAndErrorIn200) {
  std::atomic<int> completes{0};
  FakeS3Server server([&](const HttpRequest& request) {
    if (request.method == "POST" && request.query == "uploads=") {
      return HttpResponse{200,
                          "<InitiateMultipartUploadResult><UploadId>U</UploadId>"
                          "</InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT") return HttpResponse{200, "", {{"ETag", "\"e\""}}};
    if (request.method == "POST") {
      if (++completes == 1) {  // S3 may report a late failure inside a 200 answer
        return HttpResponse{200, "<Error><Code>InternalError</Code><Message>x</Message></Error>"};
      }
      return S3Error(412, "PreconditionFailed", "exists");
    }
    if (request.method == "GET") return HttpResponse{200, "other bytes"};
    return HttpResponse{204};
  });
  S3Options options = FakeOptions(server.endpoint());
  options.multipart_threshold = 4;
  options.part_size = 4;
  auto store = OpenOrDie(options);
  Status status = store->PutIfAbsent("big", "0123456789");
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  auto requests = server.requests();
  // create, 3 parts, complete (error in 200), complete (412), abort, read-back GET
  ASSERT_EQ(requests.size(), 8u);
  EXPECT_EQ(requests[4].Header("if-none-match"), "*");
  EXPECT_EQ(requests[4].body,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"e\"</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>\"e\"</ETag></Part></CompleteMultipartUpload>");
  EXPECT_EQ(requests[6].method, "DELETE");
  EXPECT_EQ(requests[7].method, "GET");
}

TEST(S3StoreFakeTest, MultipartCompleteWhoseAnswerWasLost) {
  // Complete is applied but answered 500; the retry finds the upload gone (NoSuchUpload). The
  // store reads the object back: our bytes mean our upload completed.
  for (bool ours : {true, false}) {
    std::atomic<int> completes{0};
    FakeS3Server server([&](const HttpRequest& request) {
      if (request.method == "POST" && request.query == "uploads=") {
        return HttpResponse{200,
                            "<InitiateMultipartUploadResult><UploadId>U</UploadId>"
                            "</InitiateMultipartUploadResult>"};
      }
      if (request.method == "PUT") return HttpResponse{200, "", {{"ETag", "\"e\""}}};
      if (request.method == "POST") {
        if (++completes == 1) return S3Error(500, "InternalError", "answer lost");
        return S3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      }
      if (request.method == "GET") return HttpResponse{200, ours ? "0123456789" : "theirs"};
      return HttpResponse{204};
    });
    S3Options options = FakeOptions(server.endpoint());
    options.multipart_threshold = 4;
    options.part_size = 4;
    auto store = OpenOrDie(options);
    Status conditional = store->PutIfAbsent("big", "0123456789");
    completes = 0;
    Status plain = store->Put("big", "0123456789");
    if (ours) {
      EXPECT_TRUE(conditional.ok()) << conditional.ToString();
      EXPECT_TRUE(plain.ok()) << plain.ToString();
    } else {
      EXPECT_EQ(conditional.code(), StatusCode::kAlreadyExists) << conditional.ToString();
      EXPECT_EQ(plain.code(), StatusCode::kUnavailable) << plain.ToString();
    }
  }
}

TEST(S3StoreFakeTest, OpenValidatesOptions) {
  S3Options options;
  EXPECT_EQ(S3ObjectStore::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.bucket = "b";
  options.endpoint = "ftp://x";
  EXPECT_EQ(S3ObjectStore::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.endpoint = "";
  options.access_key_id = "only-the-id";
  EXPECT_EQ(S3ObjectStore::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.access_key_id = "";
  options.prefix = "/a/../b/";
  EXPECT_EQ(S3ObjectStore::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.prefix = "/tables/t1/";
  auto store = S3ObjectStore::Open(options);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Describe("_delta_log/0.json"), "s3://b/tables/t1/_delta_log/0.json");
  EXPECT_EQ((*store)->options().region, "us-east-1");
  EXPECT_EQ((*store)->Get("../x").status().code(), StatusCode::kInvalidArgument);
}

TEST(S3StoreFakeTest, UrlStyles) {
  S3Options options;
  options.bucket = "lake";
  options.prefix = "t";
  options.region = "eu-central-1";
  auto aws = S3ObjectStore::Open(options);
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ((*aws)->Url("a b/c"), "https://lake.s3.eu-central-1.amazonaws.com/t/a%20b/c");
  options.force_path_style = true;
  EXPECT_EQ(S3ObjectStore::Open(options).value()->Url("k"),
            "https://s3.eu-central-1.amazonaws.com/lake/t/k");
  options.endpoint = "http://127.0.0.1:9000/";
  EXPECT_EQ(S3ObjectStore::Open(options).value()->Url("k"), "http://127.0.0.1:9000/lake/t/k");
}

TEST(S3OptionsFromEnvironmentTest, FillsOnlyUnsetFields) {
  std::map<std::string, std::string> env = {
      {"AWS_ENDPOINT_URL", "http://generic:1"}, {"AWS_ENDPOINT_URL_S3", "http://s3only:2"},
      {"AWS_DEFAULT_REGION", "eu-west-3"},      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", "SECRET"},      {"AWS_SESSION_TOKEN", "TOKEN"}};
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  S3Options options = S3OptionsFromEnvironment({}, getenv);
  EXPECT_EQ(options.endpoint, "http://s3only:2");
  EXPECT_EQ(options.region, "eu-west-3");
  EXPECT_EQ(options.access_key_id, "AKID");
  EXPECT_EQ(options.secret_access_key, "SECRET");
  EXPECT_EQ(options.session_token, "TOKEN");

  env["AWS_REGION"] = "ap-south-1";
  env.erase("AWS_ENDPOINT_URL_S3");
  S3Options configured;
  configured.access_key_id = "MINE";
  configured.secret_access_key = "MINE-SECRET";
  configured.region = "us-west-2";
  options = S3OptionsFromEnvironment(configured, getenv);
  EXPECT_EQ(options.endpoint, "http://generic:1");
  EXPECT_EQ(options.region, "us-west-2");
  EXPECT_EQ(options.access_key_id, "MINE");
  EXPECT_EQ(options.session_token, "") << "the env token belongs to the env key pair";
  EXPECT_EQ(S3OptionsFromEnvironment({}, getenv).region, "ap-south-1");
}

// ---------------------------------------------------------------------------------------------
// Against s3rver, a real S3 emulator process.

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path == nullptr ? "/usr/local/bin:/usr/bin:/bin" : path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string SourceDir() {
  const char* dir = std::getenv("WEFT_SOURCE_DIR");
  return dir != nullptr && *dir != '\0' ? dir : WEFT_SOURCE_DIR_FALLBACK;
}

// s3rver on 127.0.0.1:<free port>, data in a temporary directory, bucket "weft"; stopped with
// its object (and with this process: PR_SET_PDEATHSIG).
class S3rverProcess {
 public:
  static Result<std::unique_ptr<S3rverProcess>> Start(const std::string& node) {
    std::string script = SourceDir() + "/tests/interop/s3rver_main.mjs";
    std::string last_log;
    for (int attempt = 0; attempt < 3; ++attempt) {
      WEFT_ASSIGN_OR_RETURN(weft::testing::TempDir dir, weft::testing::TempDir::Make());
      WEFT_ASSIGN_OR_RETURN(uint16_t port, weft::testing::FreeLoopbackPort());
      std::string log = dir.path() + "/s3rver.log";
      std::string port_text = std::to_string(port);
      std::string data_dir = dir.path() + "/data";
      pid_t parent = ::getpid();
      pid_t pid = ::fork();
      if (pid < 0) return UnavailableError(std::string("fork: ") + std::strerror(errno));
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(1);
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
        }
        // s3rver's continuation tokens use DES, which OpenSSL 3 keeps in the legacy provider.
        ::execl(node.c_str(), node.c_str(), "--openssl-legacy-provider", script.c_str(), "--port",
                port_text.c_str(), "--directory", data_dir.c_str(), "--bucket", "weft", nullptr);
        ::_exit(127);
      }
      auto process = std::unique_ptr<S3rverProcess>(new S3rverProcess(std::move(dir), pid, port));
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          process->pid_ = -1;
          break;
        }
        if (weft::testing::WaitForListener(port, milliseconds(100)).ok()) return process;
      }
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      last_log = text.str();
    }
    return UnavailableError("s3rver did not start after 3 attempts; its log: " + last_log);
  }

  ~S3rverProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  S3rverProcess(weft::testing::TempDir dir, pid_t pid, uint16_t port)
      : dir_(std::move(dir)), pid_(pid), port_(port) {}
  weft::testing::TempDir dir_;
  pid_t pid_;
  uint16_t port_;
};

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_path = FindOnPath("node");
    if (node_path.empty()) return;
    auto started = S3rverProcess::Start(node_path);
    if (started.ok()) {
      s3rver = std::move(*started).release();
    } else {
      start_error = started.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete s3rver;
    s3rver = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(node_path.empty()) << "node is not installed (run scripts/setup.sh)";
    ASSERT_NE(s3rver, nullptr) << start_error;
  }

  // A store on bucket "weft" under a prefix of its own (tests share one server).
  std::unique_ptr<S3ObjectStore> Store(S3Options options = {}) {
    options.bucket = "weft";
    options.prefix =
        "tables/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    options.endpoint = s3rver->endpoint();
    options.access_key_id = "S3RVER";
    options.secret_access_key = "S3RVER";
    options.max_attempts = 2;
    options.initial_backoff = milliseconds(10);
    options.request_timeout = milliseconds(20000);
    return OpenOrDie(std::move(options));
  }

  static std::string node_path;
  static std::string start_error;
  static S3rverProcess* s3rver;  // owned; a raw pointer for gtest's static suite hooks
};
std::string S3rverTest::node_path;
std::string S3rverTest::start_error;
S3rverProcess* S3rverTest::s3rver = nullptr;

TEST_F(S3rverTest, PutGetRangeHeadDelete) {
  auto store = Store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put("a/b.bin", "0123456789").ok());
  EXPECT_EQ(store->Get("a/b.bin").value(), "0123456789");
  EXPECT_EQ(store->GetRange("a/b.bin", 3, 4).value(), "3456");
  EXPECT_EQ(store->GetRange("a/b.bin", 8, 100).value(), "89");
  EXPECT_EQ(store->GetRange("a/b.bin", 10, 1).value(), "");
  auto info = store->Head("a/b.bin");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 10u);
  int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(info->modified_ms), static_cast<double>(now_ms), 60000.0);

  ASSERT_TRUE(store->Put("a/b.bin", "replaced").ok());
  EXPECT_EQ(store->Get("a/b.bin").value(), "replaced");
  ASSERT_TRUE(store->Put("empty", "").ok());
  EXPECT_EQ(store->Get("empty").value(), "");

  ASSERT_TRUE(store->Delete("a/b.bin").ok());
  EXPECT_EQ(store->Get("a/b.bin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Head("a/b.bin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetRange("a/b.bin", 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Delete("a/b.bin").ok());
}

TEST_F(S3rverTest, KeysWithSpecialCharacters) {
  auto store = Store();
  ASSERT_TRUE(store);
  const std::vector<std::string> keys = {"part=1/x y&z<>.parquet", "plus+equals=.json",
                                         "quote'\"~.txt", "utf8-\xc3\xbc.txt"};
  for (const std::string& key : keys) {
    ASSERT_TRUE(store->Put(key, key).ok()) << key;
    EXPECT_EQ(store->Get(key).value_or("<error>"), key);
  }
  auto list = store->List("");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> listed;
  for (const auto& info : *list) listed.push_back(info.key);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
}

TEST_F(S3rverTest, ListPaginatesAndFiltersByPrefix) {
  S3Options options;
  options.list_max_keys = 7;
  auto store = Store(options);
  ASSERT_TRUE(store);
  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "_delta_log/%020d.json", i);
    expected.emplace_back(name);
    ASSERT_TRUE(store->Put(name, std::to_string(i)).ok());
  }
  ASSERT_TRUE(store->Put("_delta_log_other/x", "x").ok());
  ASSERT_TRUE(store->Put("data/part-0.parquet", "p").ok());
  auto list = store->List("_delta_log/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> listed;
  for (const auto& info : *list) listed.push_back(info.key);
  EXPECT_EQ(listed, expected);
  EXPECT_EQ((*list)[12].size, 2u);
  EXPECT_EQ(store->List("").value().size(), 32u);
  EXPECT_EQ(store->List("_delta_log").value().size(), 31u);
  EXPECT_TRUE(store->List("nothing/").value().empty());
}

TEST_F(S3rverTest, MultipartUploadForLargeObjects) {
  S3Options options;
  options.multipart_threshold = uint64_t{100} * 1024;
  options.part_size = uint64_t{64} * 1024;
  auto store = Store(options);
  ASSERT_TRUE(store);
  std::string data(300 * 1024 + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  Status put = store->Put("big.parquet", data);
  ASSERT_TRUE(put.ok()) << put.ToString();
  auto back = store->Get("big.parquet");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data) << "multipart object differs (" << back->size() << " bytes)";
  EXPECT_EQ(store->Head("big.parquet")->size, data.size());
  EXPECT_EQ(store->GetRange("big.parquet", 70000, 10).value(), data.substr(70000, 10));
  // Below the threshold: a single PUT.
  ASSERT_TRUE(store->Put("small", std::string(1000, 's')).ok());
  EXPECT_EQ(store->Get("small")->size(), 1000u);
}

TEST_F(S3rverTest, OneStoreSharedByThreads) {
  auto store = Store();
  ASSERT_TRUE(store);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        if (!store->Put(key, key).ok() || store->Get(key).value_or("") != key) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->List("").value().size(), 40u);
}

TEST_F(S3rverTest, PutIfAbsentCreates) {
  auto store = Store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutIfAbsent("_delta_log/00000000000000000000.json", "commit 0").ok());
  EXPECT_EQ(store->Get("_delta_log/00000000000000000000.json").value(), "commit 0");
  // s3rver ignores If-None-Match, so the losing side of a race cannot be tested here; the 412
  // path is covered by S3StoreFakeTest.PutIfAbsentMaps412ToAlreadyExists.
}

TEST_F(S3rverTest, MissingBucketIsNotFoundWithTheUrl) {
  S3Options options;
  auto store = Store(options);
  ASSERT_TRUE(store);
  S3Options other = store->options();
  other.bucket = "no-such-bucket";
  auto missing = OpenOrDie(other);
  auto data = missing->Get("k");
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  auto list = missing->List("");
  EXPECT_EQ(list.status().code(), StatusCode::kNotFound);
  EXPECT_NE(list.status().message().find("NoSuchBucket"), std::string::npos)
      << list.status().message();
  EXPECT_NE(list.status().message().find("s3://no-such-bucket/"), std::string::npos)
      << list.status().message();
}

TEST_F(S3rverTest, OpenObjectStoreFromAnS3Url) {
  ObjectStoreOptions options;
  options.use_environment = false;
  options.s3.endpoint = s3rver->endpoint();
  options.s3.access_key_id = "S3RVER";
  options.s3.secret_access_key = "S3RVER";
  auto store = OpenObjectStore("s3://weft/tables/from_url/", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("x", "y").ok());
  EXPECT_EQ((*store)->Describe("x"), "s3://weft/tables/from_url/x");
  auto raw = Store();  // prefix tables/OpenObjectStoreFromAnS3Url: a different table
  EXPECT_TRUE(raw->List("").value().empty());
  EXPECT_EQ((*store)->Get("x").value(), "y");
}

}  // namespace
}  // namespace weft::lake
