// An ObjectStore over an S3 bucket (AWS S3 or an S3-compatible service: MinIO, Ceph RGW, ...),
// spoken through libcurl, which signs requests with AWS Signature V4 (CURLOPT_AWS_SIGV4).
//
//   S3Options options = S3OptionsFromEnvironment();      // AWS_ENDPOINT_URL, AWS_REGION, keys
//   options.bucket = "lake";
//   options.prefix = "plant_metrics";                    // the table's location in the bucket
//   WEFT_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(options));
//   WEFT_RETURN_IF_ERROR(store->PutIfAbsent("_delta_log/00000000000000000000.json", commit));
//
// Key "a/b" is the S3 object "<prefix>/a/b". Requests:
//  - Get / GetRange / Head / Delete: GET (with Range) / HEAD / DELETE of the object.
//  - Put: one PUT, or a multipart upload (Create, UploadPart..., Complete; Abort on failure)
//    when the object is at least `multipart_threshold` bytes. S3 makes either one atomic.
//  - PutIfAbsent: the same with `If-None-Match: *` (on the PUT, or on Complete for multipart).
//    412 Precondition Failed -> kAlreadyExists; 409 ConditionalRequestConflict is retried. Only
//    services that implement conditional writes make this safe for concurrent committers (see
//    README.md); others (e.g. s3rver) silently overwrite. When a retried attempt meets 412 after
//    an earlier attempt whose outcome is unknown (connection lost, 5xx), the object is read back:
//    if it holds exactly our bytes, our earlier attempt won and PutIfAbsent returns OK.
//  - List: ListObjectsV2, following continuation tokens; keys come back sorted (S3 order is
//    UTF-8 binary order, the same as std::string's).
// Retries: connection errors and timeouts, HTTP 5xx, 429, and S3's SlowDown / RequestTimeout
// codes are retried with exponential backoff and full jitter, at most `max_attempts` times in
// all; then kUnavailable. Other 4xx are not retried: 404 -> kNotFound, 403 -> kPermissionDenied,
// 401 -> kUnauthenticated, others -> kInvalidArgument / kFailedPrecondition. Error messages hold
// the method, the s3:// URL, the HTTP status, S3's error Code and Message, and the attempts.
// Secrets are never part of a message or a log line.
//
// Thread-safety: thread-safe. One CURL handle (and so one connection pool) per store, guarded by
// a mutex: requests of one store are serialised; use several stores for parallel transfers.
#ifndef WEFT_LAKE_STORAGE_S3_STORE_H_
#define WEFT_LAKE_STORAGE_S3_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "lake/storage/object_store.h"

namespace weft::lake {

struct S3Options {
  std::string bucket{};  //!< required
  std::string prefix{};  //!< key prefix inside the bucket, without leading or trailing '/'
  //! "http(s)://host[:port]" of an S3-compatible service (path-style requests:
  //! <endpoint>/<bucket>/<key>). Empty: AWS, https://<bucket>.s3.<region>.amazonaws.com/<key>.
  std::string endpoint{};
  //! Use <endpoint>/<bucket>/<key> even for AWS (needed for bucket names with dots).
  bool force_path_style = false;
  std::string region{};             //!< empty: "us-east-1"
  std::string access_key_id{};      //!< empty with an empty secret: unsigned requests
  std::string secret_access_key{};  //!< never logged
  std::string session_token{};      //!< sent as x-amz-security-token when set; never logged
  std::string ca_bundle{};          //!< CA certificates file for https; empty: system default

  uint64_t multipart_threshold = 16ULL << 20;  //!< Put uses multipart from this size on
  uint64_t part_size = 8ULL << 20;  //!< multipart part size (AWS: >= 5 MiB except the last)
  int list_max_keys = 1000;         //!< max-keys per ListObjectsV2 page (1..1000)

  int max_attempts = 5;                            //!< tries per request, the first included (>= 1)
  std::chrono::milliseconds initial_backoff{100};  //!< backoff cap before the 2nd attempt
  std::chrono::milliseconds max_backoff{5000};     //!< largest backoff cap
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{120000};  //!< whole request, transfer included
  //! Sleeps between attempts; tests inject a fake. Default: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep{};
};

//! `base` with every empty field that has a conventional environment variable filled from it:
//! endpoint <- AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; region <- AWS_REGION, then
//! AWS_DEFAULT_REGION; access_key_id <- AWS_ACCESS_KEY_ID; secret_access_key <-
//! AWS_SECRET_ACCESS_KEY; session_token <- AWS_SESSION_TOKEN (only when the key pair came from
//! the environment too); ca_bundle <- AWS_CA_BUNDLE. `getenv` is injectable for tests.
S3Options S3OptionsFromEnvironment(S3Options base = {},
                                   const std::function<const char*(const char*)>& getenv = {});

class S3ObjectStore final : public ObjectStore {
 public:
  //! InvalidArgument for an unusable option (no bucket, bad endpoint, ...). Does not contact
  //! the service.
  static Result<std::unique_ptr<S3ObjectStore>> Open(S3Options options);
  ~S3ObjectStore() override;
  S3ObjectStore(const S3ObjectStore&) = delete;
  S3ObjectStore& operator=(const S3ObjectStore&) = delete;

  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  //! "s3://<bucket>/<prefix>/<key>".
  std::string Describe(std::string_view key) const override;

  //! The HTTP URL of the object `key` (path style or virtual-host style, key URI-encoded).
  std::string Url(std::string_view key) const { return ObjectUrl(FullKey(key)); }
  const S3Options& options() const { return options_; }

  //! One HTTP exchange and its answer: implementation details, defined in s3_store.cc.
  struct Request;
  struct Response;

 private:
  explicit S3ObjectStore(S3Options options);

  //! One HTTP exchange, without retries. REQUIRES: mutex_ held.
  Response PerformOnce(const Request& request);
  //! PerformOnce with retries and backoff; `ambiguous` (optional) is set when an attempt that
  //! may have reached the service failed without a definite answer.
  Response Perform(const Request& request, bool* ambiguous = nullptr);
  std::chrono::milliseconds Backoff(int attempt);

  Status PutImpl(std::string_view key, std::string_view data, bool if_absent);
  Status PutMultipart(std::string_view key, std::string_view data, bool if_absent, bool* ambiguous);

  std::string ObjectUrl(std::string_view full_key) const;
  std::string BucketUrl() const;
  std::string FullKey(std::string_view key) const;

  const S3Options options_;
  const std::string sigv4_;  //!< "aws:amz:<region>:s3"

  std::mutex mutex_;
  void* curl_ = nullptr;  //!< CURL*, GUARDED_BY(mutex_)
  std::mt19937_64 rng_;   //!< backoff jitter, GUARDED_BY(mutex_)
};

}  // namespace weft::lake

#endif  // WEFT_LAKE_STORAGE_S3_STORE_H_
