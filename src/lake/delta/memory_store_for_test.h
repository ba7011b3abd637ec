#ifndef WEFT_LAKE_DELTA_MEMORY_STORE_FOR_TEST_H_
#define WEFT_LAKE_DELTA_MEMORY_STORE_FOR_TEST_H_

// Test-only: an in-memory ObjectStore for the delta unit tests (no disk, modification times from
// an injected clock). Cross-process and conformance tests use the real local store.
//
// Thread-safety: all methods lock one mutex.

#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta::testing {

class MemoryStore final : public ObjectStore {
 public:
  explicit MemoryStore(const Clock* clock) : clock_(clock) {}

  Result<std::string> Get(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFoundError(Describe(key) + ": not found");
    return it->second.data;
  }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    WEFT_ASSIGN_OR_RETURN(std::string data, Get(key));
    if (offset >= data.size()) return std::string();
    return data.substr(offset, length);
  }
  Result<ObjectInfo> Head(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFoundError(Describe(key) + ": not found");
    return ObjectInfo{it->first, it->second.data.size(), it->second.modified_ms};
  }
  Status Put(std::string_view key, std::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[std::string(key)] = {std::string(data), Now()};
    return Status::Ok();
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++put_if_absent_calls;
    if (fail_next_put_if_absent > 0) {
      --fail_next_put_if_absent;
      // Simulate a concurrent writer: hand the key to `injected` content first.
      objects_[std::string(key)] = {injected, Now()};
      return AlreadyExistsError(Describe(key) + ": already exists");
    }
    auto [it, inserted] = objects_.try_emplace(std::string(key), Object{std::string(data), Now()});
    if (!inserted) return AlreadyExistsError(Describe(key) + ": already exists");
    return Status::Ok();
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ObjectInfo> out;
    for (auto it = objects_.lower_bound(std::string(prefix));
         it != objects_.end() && it->first.starts_with(prefix); ++it) {
      out.push_back({it->first, it->second.data.size(), it->second.modified_ms});
    }
    return out;
  }
  Status Delete(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(std::string(key));
    return Status::Ok();
  }
  std::string Describe(std::string_view key) const override { return "mem://" + std::string(key); }

  //! Sets an object's modification time (time travel tests).
  void SetModified(const std::string& key, int64_t ms) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[key].modified_ms = ms;
  }

  int fail_next_put_if_absent = 0;  //!< next N PutIfAbsent calls lose to `injected`
  std::string injected;
  int put_if_absent_calls = 0;

 private:
  struct Object {
    std::string data;
    int64_t modified_ms = 0;
  };
  int64_t Now() const { return UnixMicros(clock_->Now()) / 1000; }

  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Object> objects_;
};

}  // namespace weft::lake::delta::testing

#endif  // WEFT_LAKE_DELTA_MEMORY_STORE_FOR_TEST_H_
