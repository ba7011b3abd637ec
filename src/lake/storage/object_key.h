// Object keys: the '/'-separated names every ObjectStore accepts.
//
//   WEFT_RETURN_IF_ERROR(ValidateObjectKey("_delta_log/00000000000000000000.json"));
//   WEFT_RETURN_IF_ERROR(ValidateObjectPrefix("_delta_log/0000"));   // partial names are fine
//
// A key is non-empty, does not start with '/', has no empty, "." or ".." segment, no NUL byte,
// and no segment that starts with kTempFilePrefix (the local store's in-flight files). The same
// rules hold for both stores, so a table can move between a directory and a bucket.
//
// Thread-safety: pure functions.
#ifndef WEFT_LAKE_STORAGE_OBJECT_KEY_H_
#define WEFT_LAKE_STORAGE_OBJECT_KEY_H_

#include <string_view>

#include "common/status.h"

namespace weft::lake {

//! Name prefix of the local store's temporary files; List skips them, keys may not use it.
inline constexpr std::string_view kTempFilePrefix = ".weft-tmp-";

//! OK for a valid key; InvalidArgument naming the key and the rule it breaks otherwise.
Status ValidateObjectKey(std::string_view key);

//! Like ValidateObjectKey, but "" is valid and the last segment may be empty or partial
//! ("a/", "a/b" match "a/bc"). Partial ".." and "." are refused like whole ones.
Status ValidateObjectPrefix(std::string_view prefix);

}  // namespace weft::lake

#endif  // WEFT_LAKE_STORAGE_OBJECT_KEY_H_
