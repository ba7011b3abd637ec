#ifndef WEFT_LAKE_STORAGE_OBJECT_STORE_H_
#define WEFT_LAKE_STORAGE_OBJECT_STORE_H_

// Object stores: the one interface the Delta log and the Parquet reader/writer see, whether the
// table lives on the local filesystem or in S3. Keys are '/'-separated paths relative to the
// store's root (the table's location); they never start with '/'.
//
// Contract for every implementation:
//  - Put is atomic: a reader sees the old object, the new one, or none, never a partial one.
//  - PutIfAbsent is the commit primitive of Delta's optimistic concurrency: exactly one of
//    several concurrent callers for the same key succeeds; the others get kAlreadyExists and the
//    existing object is unchanged.
//  - Errors name the object (Describe(key)) and the cause; transient failures are retried by the
//    implementation before they are returned (kUnavailable after the last try).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::lake {

struct ObjectInfo {
  std::string key{};        //!< relative to the store's root
  uint64_t size = 0;        //!< bytes
  int64_t modified_ms = 0;  //!< last modification, Unix milliseconds
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  //! The whole object; kNotFound when it does not exist.
  virtual Result<std::string> Get(std::string_view key) = 0;
  //! Bytes [offset, offset + length) of the object; fewer at its end. kNotFound if absent.
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) = 0;
  //! Size and modification time; kNotFound when it does not exist.
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;
  //! Creates or replaces the object atomically.
  virtual Status Put(std::string_view key, std::string_view data) = 0;
  //! Creates the object only if no object has that key; kAlreadyExists otherwise (unchanged).
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;
  //! Every object whose key starts with `prefix` (recursively), sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  //! Removes the object; OK when it did not exist.
  virtual Status Delete(std::string_view key) = 0;
  //! The object's full location for messages, e.g. "s3://bucket/table/_delta_log/0.json".
  virtual std::string Describe(std::string_view key) const = 0;
};

}  // namespace weft::lake

#endif  // WEFT_LAKE_STORAGE_OBJECT_STORE_H_
