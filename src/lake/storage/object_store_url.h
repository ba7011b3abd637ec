// OpenObjectStore: the store for a table location given as a URL or a path.
//
//   WEFT_ASSIGN_OR_RETURN(auto store, OpenObjectStore("s3://lake/plant_metrics"));
//   WEFT_ASSIGN_OR_RETURN(auto local, OpenObjectStore("/data/lake/plant_metrics"));
//
// Accepted locations:
//   /abs/path, rel/path, file:///abs/path   -> LocalObjectStore (file://host/... is refused)
//   s3://bucket[/prefix]                    -> S3ObjectStore; endpoint, region and credentials
//                                              from ObjectStoreOptions::s3, completed from the
//                                              AWS_* environment variables when use_environment
//   s3a://... is accepted as s3://. Other schemes -> InvalidArgument naming the accepted ones.
//
// Thread-safety: pure functions; the returned store documents its own.
#ifndef WEFT_LAKE_STORAGE_OBJECT_STORE_URL_H_
#define WEFT_LAKE_STORAGE_OBJECT_STORE_URL_H_

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "lake/storage/local_store.h"
#include "lake/storage/object_store.h"
#include "lake/storage/s3_store.h"

namespace weft::lake {

struct ObjectStoreOptions {
  LocalStoreOptions local{};
  //! Everything but bucket and prefix, which come from the URL.
  S3Options s3{};
  //! Fill unset S3 settings from AWS_* variables (S3OptionsFromEnvironment).
  bool use_environment = true;
};

//! A parsed location.
struct ObjectStoreLocation {
  enum class Kind { kLocal, kS3 };
  Kind kind = Kind::kLocal;
  std::string path{};    //!< kLocal: the directory as given (file:// removed)
  std::string bucket{};  //!< kS3
  std::string prefix{};  //!< kS3, without leading or trailing '/'
};

//! Parses `url` without touching the filesystem or the network.
Result<ObjectStoreLocation> ParseObjectStoreUrl(std::string_view url);

//! Opens the store for `url` (see above). Does not contact S3.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url,
                                                     const ObjectStoreOptions& options = {});

}  // namespace weft::lake

#endif  // WEFT_LAKE_STORAGE_OBJECT_STORE_URL_H_
