// The schema tree of a Parquet file, built from FileMetaData.schema (a depth-first flat list of
// SchemaElement, the root first), with what readers need for each leaf column: dotted path,
// physical type, maximum definition and repetition levels, logical type.
//
//   WEFT_ASSIGN_OR_RETURN(Schema schema, Schema::Build(metadata.schema));
//   for (const LeafColumn& leaf : schema.leaves()) ... leaf.path, leaf.max_definition_level
//
// Leaf i of the schema is column chunk i of every row group.
// Thread-safety: immutable after Build.
#ifndef WEFT_LAKE_PARQUET_SCHEMA_H_
#define WEFT_LAKE_PARQUET_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lake/parquet/metadata.h"

namespace weft::lake::parquet {

struct SchemaNode {
  SchemaElement element;  //!< as decoded
  Repetition repetition = Repetition::kRequired;
  int parent = -1;               //!< node index; -1 for the root
  std::vector<int> children;     //!< node indices, in schema order
  int16_t definition_level = 0;  //!< optional/repeated nodes from the root down to here
  int16_t repetition_level = 0;  //!< repeated nodes from the root down to here
  int leaf_index = -1;           //!< for leaves: index into leaves()
  std::string path;              //!< dotted path from below the root
  bool is_leaf() const { return children.empty() && element.type.has_value(); }
  //! LIST / MAP annotation (logical or converted type).
  bool IsList() const;
  bool IsMap() const;
};

struct LeafColumn {
  int node = -1;
  std::string path;  //!< "a.b.c"
  std::vector<std::string> path_parts;
  Type type = Type::kInt32;
  int32_t type_length = 0;
  int16_t max_definition_level = 0;
  int16_t max_repetition_level = 0;
  const SchemaElement* element = nullptr;  //!< points into the Schema's nodes
  //! BYTE_ARRAY holding text (STRING / UTF8 / ENUM / JSON annotations).
  bool is_string = false;
};

class Schema {
 public:
  static constexpr int kMaxDepth = 100;

  //! Fails (kDataLoss) on a malformed tree: child counts that overrun the list, leaves without
  //! a type, unknown types or repetitions, nesting deeper than kMaxDepth.
  static Result<Schema> Build(const std::vector<SchemaElement>& elements);

  Schema() = default;
  Schema(const Schema& other) { *this = other; }
  Schema& operator=(const Schema& other);
  Schema(Schema&&) = default;
  Schema& operator=(Schema&&) = default;

  const std::vector<SchemaNode>& nodes() const { return nodes_; }
  const SchemaNode& root() const { return nodes_[0]; }
  const std::vector<LeafColumn>& leaves() const { return leaves_; }

  //! Leaf index of a dotted path, or -1.
  int FindLeaf(std::string_view path) const;
  //! Node index of a top-level field, or -1.
  int FindTopLevel(std::string_view name) const;
  //! Leaf indices under node `node`, in order.
  std::vector<int> LeavesUnder(int node) const;
  //! True when every leaf is a non-repeated direct child of the root.
  bool IsFlat() const;

  //! Multi-line text, one node per line (for diagnostics).
  std::string ToString() const;

 private:
  void FixPointers();

  std::vector<SchemaNode> nodes_;
  std::vector<LeafColumn> leaves_;
};

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_SCHEMA_H_
