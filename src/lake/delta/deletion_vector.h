#ifndef WEFT_LAKE_DELTA_DELETION_VECTOR_H_
#define WEFT_LAKE_DELTA_DELETION_VECTOR_H_

// Deletion vectors (PROTOCOL.md "Deletion Vectors", "Deletion Vector Format"): the rows of a data
// file that are logically deleted, as a 64-bit RoaringBitmap stored inline in the log (Z85) or in
// a `deletion_vector_<uuid>.bin` file next to the data.
//
//   Result<Snapshot> s = LoadSnapshot(store, {.deletion_vectors_applied_by_caller = true});
//   for (const AddFile& f : s->files())
//     if (f.deletion_vector) {
//       WEFT_ASSIGN_OR_RETURN(DeletedRows rows, LoadDeletionVector(store, *f.deletion_vector));
//       ... skip row i of the data file when rows.Contains(i) ...
//     }
//
// Loading checks the magic number, the stored size, the CRC-32 and that the decoded cardinality
// equals the descriptor's, so a damaged vector is an error (kDataLoss), never silently wrong rows.
//
// Thread-safety: values and functions; safe when the ObjectStore is.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/delta/actions.h"
#include "lake/storage/object_store.h"

namespace weft::lake::delta {

//! Sorted, distinct row indexes (0-based positions in the data file).
class DeletedRows {
 public:
  DeletedRows() = default;
  explicit DeletedRows(std::vector<uint64_t> rows) : rows_(std::move(rows)) {}
  bool Contains(uint64_t row) const;
  size_t size() const { return rows_.size(); }
  const std::vector<uint64_t>& rows() const { return rows_; }

 private:
  std::vector<uint64_t> rows_;
};

//! Reads and decodes the vector a descriptor names. Storage 'p' (absolute path) is
//! kUnimplemented; any inconsistency is kDataLoss naming the vector.
Result<DeletedRows> LoadDeletionVector(ObjectStore& store, const DeletionVectorDescriptor& dv);

//! The key of an on-disk ('u') vector relative to the table root:
//! "<random prefix>/deletion_vector_<uuid>.bin".
Result<std::string> DeletionVectorKey(const DeletionVectorDescriptor& dv);

//! Decodes the "magic + portable 64-bit RoaringBitmap" serialization.
Result<DeletedRows> DecodeDeletionVector(std::string_view bytes);

//! Z85 (ZeroMQ base-85) decoding; the length must be a multiple of 5.
Result<std::string> Z85Decode(std::string_view text);

}  // namespace weft::lake::delta

#endif  // WEFT_LAKE_DELTA_DELETION_VECTOR_H_
