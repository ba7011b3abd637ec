// An ObjectStore over a directory of the local filesystem (or a POSIX network filesystem with
// working link(2) and rename(2)).
//
//   WEFT_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Open("/data/lake/plant_metrics"));
//   WEFT_RETURN_IF_ERROR(store->PutIfAbsent("_delta_log/00000000000000000000.json", commit));
//
// Key "a/b/c" is the file <root>/a/b/c. Writes go to a temporary file
// "<dir>/.weft-tmp-<pid>-<n>-<random>" in the target's directory, which is fsync'ed and then
//  - Put: rename(2)d over the target (atomic replace), then the directory is fsync'ed;
//  - PutIfAbsent: link(2)ed to the target, which fails with EEXIST when the target exists, so
//    exactly one creator wins even between processes; the temporary is then unlinked.
// Parent directories are created as needed. List walks the directories recursively, skips
// temporary files and returns keys sorted. Delete removes the file (OK if absent) and leaves the
// directories. A crashed writer can leave a temporary file behind; it is never listed and can
// be removed by hand.
//
// Errors name the file and the errno text: ENOENT -> kNotFound, EACCES/EPERM/EROFS ->
// kPermissionDenied, ENOSPC/EDQUOT -> kResourceExhausted, others -> kUnavailable.
//
// Thread-safety: thread-safe; any number of threads and processes may use the same directory.
#ifndef WEFT_LAKE_STORAGE_LOCAL_STORE_H_
#define WEFT_LAKE_STORAGE_LOCAL_STORE_H_

#include <atomic>
#include <memory>
#include <string>

#include "lake/storage/object_store.h"

namespace weft::lake {

struct LocalStoreOptions {
  //! fsync files and directories (durability across power loss). Off only for tests/benchmarks.
  bool sync = true;
  //! Create the root directory (and its parents) when missing.
  bool create_root = true;
};

class LocalObjectStore final : public ObjectStore {
 public:
  //! A store rooted at `root` (made absolute). FailedPrecondition when it is not a directory.
  static Result<std::unique_ptr<LocalObjectStore>> Open(std::string root,
                                                        LocalStoreOptions options = {});

  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  //! "<root>/<key>".
  std::string Describe(std::string_view key) const override;

  //! The absolute root directory, without a trailing '/'.
  const std::string& root() const { return root_; }

 private:
  LocalObjectStore(std::string root, LocalStoreOptions options)
      : root_(std::move(root)), options_(options) {}

  //! Writes `data` to a new fsync'ed temporary file next to `path`; returns its path.
  Result<std::string> WriteTemp(const std::string& path, std::string_view data);

  const std::string root_;  //!< absolute, no trailing '/'
  const LocalStoreOptions options_;
  std::atomic<uint64_t> temp_counter_{0};  //!< makes temporary names unique within the process
};

}  // namespace weft::lake

#endif  // WEFT_LAKE_STORAGE_LOCAL_STORE_H_
