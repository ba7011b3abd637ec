#include "lake/parquet/schema.h"

#include <functional>

#include "lake/parquet/encoding.h"

namespace weft::lake::parquet {

bool SchemaNode::IsList() const {
  if (element.logical_type && element.logical_type->kind == LogicalType::Kind::kList) return true;
  return element.converted_type == ConvertedType::kList;
}

bool SchemaNode::IsMap() const {
  if (element.logical_type && element.logical_type->kind == LogicalType::Kind::kMap) return true;
  return element.converted_type == ConvertedType::kMap ||
         element.converted_type == ConvertedType::kMapKeyValue;
}

Schema& Schema::operator=(const Schema& other) {
  if (this == &other) return *this;
  nodes_ = other.nodes_;
  leaves_ = other.leaves_;
  FixPointers();
  return *this;
}

void Schema::FixPointers() {
  for (LeafColumn& leaf : leaves_) leaf.element = &nodes_[static_cast<size_t>(leaf.node)].element;
}

Result<Schema> Schema::Build(const std::vector<SchemaElement>& elements) {
  if (elements.empty()) return DataLossError("schema: the element list is empty");
  Schema s;
  s.nodes_.reserve(elements.size());
  size_t next = 0;
  // Iterative over a stack would avoid recursion; the depth limit keeps recursion safe.
  std::function<Status(int, int, std::vector<std::string>&)> build =
      [&](int parent, int depth, std::vector<std::string>& path) -> Status {
    if (depth > kMaxDepth) {
      return DataLossError("schema: nested deeper than " + std::to_string(kMaxDepth));
    }
    if (next >= elements.size()) {
      return DataLossError("schema: element list ends early (num_children overruns it)");
    }
    const size_t index = next++;
    const SchemaElement& e = elements[index];
    SchemaNode node;
    node.element = e;
    node.parent = parent;
    if (parent >= 0) {
      const SchemaNode& p = s.nodes_[static_cast<size_t>(parent)];
      node.repetition = e.repetition_type.value_or(Repetition::kRequired);
      const int r = static_cast<int>(node.repetition);
      if (r < 0 || r > 2) {
        return DataLossError("schema: element '" + e.name + "' has unknown repetition " +
                             std::to_string(r));
      }
      node.definition_level = static_cast<int16_t>(
          p.definition_level + (node.repetition != Repetition::kRequired ? 1 : 0));
      node.repetition_level =
          static_cast<int16_t>(p.repetition_level + (node.repetition == Repetition::kRepeated));
      path.push_back(e.name);
    }
    const int num_children = e.num_children.value_or(0);
    if (num_children < 0) {
      return DataLossError("schema: element '" + e.name + "' has negative num_children");
    }
    if (static_cast<size_t>(num_children) > elements.size() - next) {
      return DataLossError("schema: element '" + e.name + "' claims " +
                           std::to_string(num_children) + " children but only " +
                           std::to_string(elements.size() - next) + " elements follow");
    }
    const int me = static_cast<int>(s.nodes_.size());
    for (size_t i = 0; i + 1 < path.size(); ++i) node.path += path[i] + ".";
    if (!path.empty()) node.path += path.back();
    s.nodes_.push_back(std::move(node));
    if (parent >= 0) s.nodes_[static_cast<size_t>(parent)].children.push_back(me);
    if (num_children == 0 && parent >= 0) {
      if (!e.type) {
        // An empty group: legal in the format though rare; it has no column.
        if (!e.num_children) {
          return DataLossError("schema: leaf '" + s.nodes_[static_cast<size_t>(me)].path +
                               "' has no physical type");
        }
      } else {
        const int t = static_cast<int>(*e.type);
        if (t < 0 || t > 7) {
          return DataLossError("schema: column '" + s.nodes_[static_cast<size_t>(me)].path +
                               "' has unknown physical type " + std::to_string(t));
        }
        LeafColumn leaf;
        leaf.node = me;
        const SchemaNode& n = s.nodes_[static_cast<size_t>(me)];
        leaf.path = n.path;
        leaf.path_parts = path;
        leaf.type = *e.type;
        leaf.type_length = e.type_length.value_or(0);
        if (leaf.type == Type::kFixedLenByteArray && (leaf.type_length < 0 || !e.type_length)) {
          return DataLossError("schema: FIXED_LEN_BYTE_ARRAY column '" + leaf.path +
                               "' has no valid type_length");
        }
        leaf.max_definition_level = n.definition_level;
        leaf.max_repetition_level = n.repetition_level;
        const bool string_logical =
            e.logical_type && (e.logical_type->kind == LogicalType::Kind::kString ||
                               e.logical_type->kind == LogicalType::Kind::kEnum ||
                               e.logical_type->kind == LogicalType::Kind::kJson);
        const bool string_converted = e.converted_type == ConvertedType::kUtf8 ||
                                      e.converted_type == ConvertedType::kEnum ||
                                      e.converted_type == ConvertedType::kJson;
        leaf.is_string = leaf.type == Type::kByteArray && (string_logical || string_converted);
        s.nodes_[static_cast<size_t>(me)].leaf_index = static_cast<int>(s.leaves_.size());
        s.leaves_.push_back(std::move(leaf));
      }
    }
    for (int i = 0; i < num_children; ++i) {
      WEFT_RETURN_IF_ERROR(build(me, depth + 1, path));
    }
    if (parent >= 0) path.pop_back();
    return Status::Ok();
  };
  std::vector<std::string> path;
  WEFT_RETURN_IF_ERROR(build(-1, 0, path));
  if (next != elements.size()) {
    return DataLossError("schema: " + std::to_string(elements.size() - next) +
                         " elements are not reachable from the root");
  }
  s.FixPointers();
  return s;
}

int Schema::FindLeaf(std::string_view path) const {
  for (size_t i = 0; i < leaves_.size(); ++i) {
    if (leaves_[i].path == path) return static_cast<int>(i);
  }
  return -1;
}

int Schema::FindTopLevel(std::string_view name) const {
  for (int child : nodes_[0].children) {
    if (nodes_[static_cast<size_t>(child)].element.name == name) return child;
  }
  return -1;
}

std::vector<int> Schema::LeavesUnder(int node) const {
  std::vector<int> out;
  std::function<void(int)> walk = [&](int n) {
    const SchemaNode& sn = nodes_[static_cast<size_t>(n)];
    if (sn.leaf_index >= 0) out.push_back(sn.leaf_index);
    for (int c : sn.children) walk(c);
  };
  walk(node);
  return out;
}

bool Schema::IsFlat() const {
  for (const LeafColumn& leaf : leaves_) {
    const SchemaNode& n = nodes_[static_cast<size_t>(leaf.node)];
    if (n.parent != 0 || n.repetition == Repetition::kRepeated) return false;
  }
  return true;
}

std::string Schema::ToString() const {
  std::string out;
  for (const SchemaNode& n : nodes_) {
    out += n.path.empty() ? "<root>" : n.path;
    out += " rep=" + std::to_string(static_cast<int>(n.repetition));
    if (n.element.type) out += " " + std::string(TypeName(*n.element.type));
    out += " d=" + std::to_string(n.definition_level) + " r=" + std::to_string(n.repetition_level);
    out += "\n";
  }
  return out;
}

}  // namespace weft::lake::parquet
