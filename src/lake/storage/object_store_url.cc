#include "lake/storage/object_store_url.h"

namespace weft::lake {

Result<ObjectStoreLocation> ParseObjectStoreUrl(std::string_view url) {
  if (url.empty()) return InvalidArgumentError("object store location is empty");
  ObjectStoreLocation location;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    location.path = std::string(url);
    return location;
  }
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  if (scheme == "file") {
    if (rest.empty() || rest.front() != '/') {
      return InvalidArgumentError("object store location \"" + std::string(url) +
                                  "\": only file:///absolute/path is supported (no host)");
    }
    location.path = std::string(rest);
    return location;
  }
  if (scheme == "s3" || scheme == "s3a") {
    size_t slash = rest.find('/');
    location.kind = ObjectStoreLocation::Kind::kS3;
    location.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) location.prefix = std::string(rest.substr(slash + 1));
    while (!location.prefix.empty() && location.prefix.back() == '/') location.prefix.pop_back();
    if (location.bucket.empty()) {
      return InvalidArgumentError("object store location \"" + std::string(url) +
                                  "\": no bucket (expected s3://bucket/prefix)");
    }
    if (location.prefix.find('?') != std::string::npos ||
        location.prefix.find('#') != std::string::npos) {
      return InvalidArgumentError("object store location \"" + std::string(url) +
                                  "\": query strings and fragments are not supported");
    }
    return location;
  }
  return InvalidArgumentError("object store location \"" + std::string(url) +
                              "\": unsupported scheme \"" + std::string(scheme) +
                              "\" (expected a path, file:///path or s3://bucket/prefix)");
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url,
                                                     const ObjectStoreOptions& options) {
  WEFT_ASSIGN_OR_RETURN(ObjectStoreLocation location, ParseObjectStoreUrl(url));
  if (location.kind == ObjectStoreLocation::Kind::kLocal) {
    WEFT_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Open(location.path, options.local));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  S3Options s3 = options.use_environment ? S3OptionsFromEnvironment(options.s3) : options.s3;
  s3.bucket = location.bucket;
  s3.prefix = location.prefix;
  WEFT_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(std::move(s3)));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace weft::lake
