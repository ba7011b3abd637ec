#ifndef WEFT_LAKE_DELTA_OBJECT_STORE_SOURCE_H_
#define WEFT_LAKE_DELTA_OBJECT_STORE_SOURCE_H_

// The Parquet reader's view of an object in a store: ranged GETs (the footer, then one per column
// chunk). Used for checkpoints and data files alike.
//
// Thread-safety: as the ObjectStore; one reader uses one source.

#include <cstdint>
#include <string>
#include <utility>

#include "lake/parquet/source.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta {

class ObjectStoreSource final : public parquet::RandomAccessSource {
 public:
  //! `size`: the object's size, known from the log (no HEAD request). REQUIRES: store outlives
  //! the source.
  ObjectStoreSource(ObjectStore* store, std::string key, uint64_t size)
      : store_(store), key_(std::move(key)), size_(size) {}
  Result<uint64_t> Size() override { return size_; }
  Result<std::string> Read(uint64_t offset, uint64_t length) override {
    if (offset > size_ || length > size_ - offset) {
      return OutOfRangeError(name() + ": read of " + std::to_string(length) + " bytes at " +
                             std::to_string(offset) + " passes the end (" + std::to_string(size_) +
                             " bytes)");
    }
    WEFT_ASSIGN_OR_RETURN(std::string bytes, store_->GetRange(key_, offset, length));
    if (bytes.size() != length) {
      return DataLossError(name() + ": short read (object changed while being read?)");
    }
    return bytes;
  }
  std::string name() const override { return store_->Describe(key_); }

 private:
  ObjectStore* store_;
  std::string key_;
  uint64_t size_;
};

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_OBJECT_STORE_SOURCE_H_
