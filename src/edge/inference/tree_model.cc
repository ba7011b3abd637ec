#include "edge/inference/tree_model.h"

#include <openssl/evp.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "common/strings.h"

namespace weft::edge::inference {

namespace {

using Json = nlohmann::json;

// nlohmann's parser keeps its own stack, but a bound on nesting keeps every later walk (and the
// error messages) small; real models nest about 8 deep.
constexpr int kMaxNesting = 64;
// Feature indices live in 31 bits of a node; no edge model comes near this.
constexpr uint64_t kMaxFeatures = uint64_t{1} << 24;

Status NestingCheck(std::string_view text, std::string_view origin) {
  if (std::optional<size_t> at = JsonNestingBeyond(text, kMaxNesting)) {
    return InvalidArgumentError(std::string(origin) + ": JSON nests deeper than " +
                                std::to_string(kMaxNesting) + " levels at byte " +
                                std::to_string(*at) + "; this is not an XGBoost model");
  }
  return Status::Ok();
}

std::string Kind(const Json& j) {
  return std::string(j.type_name());
}

}  // namespace

std::string_view TreeObjectiveName(TreeObjective o) {
  switch (o) {
    case TreeObjective::kBinaryLogistic: return "binary:logistic";
    case TreeObjective::kRegLogistic: return "reg:logistic";
    case TreeObjective::kBinaryLogitRaw: return "binary:logitraw";
    case TreeObjective::kRegSquaredError: return "reg:squarederror";
  }
  return "?";
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size_t{len} * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

// Walks the parsed JSON; every error names the origin and the field path.
class TreeModelParser {
 public:
  TreeModelParser(std::string_view origin, TreeModel* out) : origin_(origin), m_(out) {}

  Status Run(const Json& root) {
    WEFT_ASSIGN_OR_RETURN(const Json* learner, Field(root, "", "learner", Json::value_t::object));
    WEFT_RETURN_IF_ERROR(ReadObjective(*learner));
    WEFT_RETURN_IF_ERROR(ReadModelParam(*learner));
    if (const Json* ft = Find(*learner, "feature_types"); ft != nullptr && ft->is_array()) {
      for (size_t i = 0; i < ft->size(); ++i) {
        const Json& t = (*ft)[i];
        if (t.is_string() && t.get_ref<const std::string&>() == "c") {
          return Error("learner.feature_types[" + std::to_string(i) + "]",
                       "categorical features are not supported; train with numeric features");
        }
      }
    }
    WEFT_ASSIGN_OR_RETURN(const Json* gb,
                          Field(*learner, "learner", "gradient_booster", Json::value_t::object));
    WEFT_ASSIGN_OR_RETURN(const Json* gb_name,
                          Field(*gb, "learner.gradient_booster", "name", Json::value_t::string));
    const std::string& booster = gb_name->get_ref<const std::string&>();
    if (booster != "gbtree") {
      return Error("learner.gradient_booster.name",
                   "booster '" + booster.substr(0, 40) +
                       "' is not supported; only gbtree (gblinear and dart are not)");
    }
    WEFT_ASSIGN_OR_RETURN(const Json* model,
                          Field(*gb, "learner.gradient_booster", "model", Json::value_t::object));
    const std::string model_path = "learner.gradient_booster.model";
    WEFT_ASSIGN_OR_RETURN(const Json* trees,
                          Field(*model, model_path, "trees", Json::value_t::array));
    if (trees->empty()) return Error(model_path + ".trees", "the model has no trees");
    if (const Json* info = Find(*model, "tree_info"); info != nullptr) {
      if (!info->is_array() || info->size() != trees->size()) {
        return Error(model_path + ".tree_info", "expected an array with one entry per tree (" +
                                                    std::to_string(trees->size()) + ")");
      }
      for (size_t i = 0; i < info->size(); ++i) {
        const Json& g = (*info)[i];
        if (!g.is_number_integer() || g.get<int64_t>() != 0) {
          return Error(model_path + ".tree_info[" + std::to_string(i) + "]",
                       "expected 0 (single-output models only)");
        }
      }
    }
    m_->roots_.reserve(trees->size());
    for (size_t t = 0; t < trees->size(); ++t) {
      WEFT_RETURN_IF_ERROR(ReadTree((*trees)[t], model_path + ".trees[" + std::to_string(t) + "]"));
    }
    return Status::Ok();
  }

 private:
  Status Error(const std::string& path, const std::string& what) const {
    return InvalidArgumentError(origin_ + ": " + (path.empty() ? "" : path + ": ") + what);
  }

  static const Json* Find(const Json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  static const char* TypeWord(Json::value_t t) {
    switch (t) {
      case Json::value_t::object: return "an object";
      case Json::value_t::array: return "an array";
      case Json::value_t::string: return "a string";
      default: return "a value";
    }
  }

  Result<const Json*> Field(const Json& obj, const std::string& path, const char* key,
                            Json::value_t type) const {
    std::string full = path.empty() ? key : path + "." + key;
    const Json* v = Find(obj, key);
    if (v == nullptr) return Error(full, "missing field");
    if (v->type() != type) {
      return Error(full, std::string("expected ") + TypeWord(type) + ", got " + Kind(*v));
    }
    return v;
  }

  // XGBoost writes its parameters as strings ("5E-1"); accept numbers too.
  Result<double> Number(const Json& obj, const std::string& path, const char* key) const {
    std::string full = path + "." + key;
    const Json* v = Find(obj, key);
    if (v == nullptr) return Error(full, "missing field");
    if (v->is_number()) return v->get<double>();
    if (!v->is_string()) return Error(full, "expected a number, got " + Kind(*v));
    const std::string& s = v->get_ref<const std::string&>();
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || end != s.data() + s.size()) {
      return Error(full, "expected a number, got '" + s.substr(0, 40) + "'");
    }
    return d;
  }

  Status ReadObjective(const Json& learner) {
    WEFT_ASSIGN_OR_RETURN(const Json* obj,
                          Field(learner, "learner", "objective", Json::value_t::object));
    WEFT_ASSIGN_OR_RETURN(const Json* name,
                          Field(*obj, "learner.objective", "name", Json::value_t::string));
    const std::string& n = name->get_ref<const std::string&>();
    for (TreeObjective o : {TreeObjective::kBinaryLogistic, TreeObjective::kRegLogistic,
                            TreeObjective::kBinaryLogitRaw, TreeObjective::kRegSquaredError}) {
      if (n == TreeObjectiveName(o)) {
        m_->objective_ = o;
        return Status::Ok();
      }
    }
    return Error("learner.objective.name",
                 "objective '" + n.substr(0, 40) +
                     "' is not supported; expected one of: binary:logistic, reg:logistic, "
                     "binary:logitraw, reg:squarederror");
  }

  Status ReadModelParam(const Json& learner) {
    const std::string path = "learner.learner_model_param";
    WEFT_ASSIGN_OR_RETURN(const Json* p,
                          Field(learner, "learner", "learner_model_param", Json::value_t::object));
    WEFT_ASSIGN_OR_RETURN(double base, Number(*p, path, "base_score"));
    WEFT_ASSIGN_OR_RETURN(double nf, Number(*p, path, "num_feature"));
    if (!(nf >= 1 && nf <= static_cast<double>(kMaxFeatures)) || nf != std::floor(nf)) {
      return Error(path + ".num_feature",
                   "expected an integer in 1.." + std::to_string(kMaxFeatures));
    }
    m_->num_features_ = static_cast<size_t>(nf);
    if (Find(*p, "num_class") != nullptr) {
      WEFT_ASSIGN_OR_RETURN(double nc, Number(*p, path, "num_class"));
      if (nc != 0 && nc != 1) {
        return Error(path + ".num_class",
                     "multi-class models are not supported (num_class " + std::to_string(nc) + ")");
      }
    }
    if (Find(*p, "num_target") != nullptr) {
      WEFT_ASSIGN_OR_RETURN(double nt, Number(*p, path, "num_target"));
      if (nt != 1) return Error(path + ".num_target", "multi-target models are not supported");
    }
    if (!std::isfinite(base)) return Error(path + ".base_score", "must be a finite number");
    m_->base_score_ = static_cast<float>(base);
    bool logistic = m_->objective_ == TreeObjective::kBinaryLogistic ||
                    m_->objective_ == TreeObjective::kRegLogistic;
    if (logistic) {
      if (!(m_->base_score_ > 0.0f && m_->base_score_ < 1.0f)) {
        return Error(path + ".base_score", "must be in (0, 1) for a logistic objective");
      }
      // XGBoost's ProbToMargin, in float as XGBoost computes it.
      m_->base_margin_ = -std::log(1.0f / m_->base_score_ - 1.0f);
    } else {
      m_->base_margin_ = m_->base_score_;
    }
    return Status::Ok();
  }

  // One of the tree's per-node arrays, checked against the node count.
  Result<const Json*> NodeArray(const Json& tree, const std::string& path, const char* key,
                                size_t n) const {
    WEFT_ASSIGN_OR_RETURN(const Json* a, Field(tree, path, key, Json::value_t::array));
    if (a->size() != n) {
      return Error(path + "." + key, "has " + std::to_string(a->size()) +
                                         " entries; left_children has " + std::to_string(n));
    }
    return a;
  }

  Status ReadTree(const Json& tree, const std::string& path) {
    if (!tree.is_object()) return Error(path, "expected an object, got " + Kind(tree));
    WEFT_ASSIGN_OR_RETURN(const Json* left,
                          Field(tree, path, "left_children", Json::value_t::array));
    const size_t n = left->size();
    if (n == 0) return Error(path + ".left_children", "the tree has no nodes");
    if (n > (size_t{1} << 26)) return Error(path + ".left_children", "too many nodes");
    if (const Json* tp = Find(tree, "tree_param");
        tp != nullptr && tp->is_object() && Find(*tp, "num_nodes") != nullptr) {
      WEFT_ASSIGN_OR_RETURN(double nn, Number(*tp, path + ".tree_param", "num_nodes"));
      if (nn != static_cast<double>(n)) {
        return Error(path + ".tree_param.num_nodes",
                     "says " + std::to_string(static_cast<int64_t>(nn)) +
                         " but left_children has " + std::to_string(n) + " entries");
      }
    }
    WEFT_ASSIGN_OR_RETURN(const Json* right, NodeArray(tree, path, "right_children", n));
    WEFT_ASSIGN_OR_RETURN(const Json* index, NodeArray(tree, path, "split_indices", n));
    WEFT_ASSIGN_OR_RETURN(const Json* cond, NodeArray(tree, path, "split_conditions", n));
    WEFT_ASSIGN_OR_RETURN(const Json* dleft, NodeArray(tree, path, "default_left", n));
    WEFT_ASSIGN_OR_RETURN(const Json* weights, NodeArray(tree, path, "base_weights", n));
    (void)weights;
    if (const Json* st = Find(tree, "split_type"); st != nullptr && st->is_array()) {
      for (size_t i = 0; i < st->size(); ++i) {
        if (!(*st)[i].is_number_integer() || (*st)[i].get<int64_t>() != 0) {
          return Error(path + ".split_type[" + std::to_string(i) + "]",
                       "categorical splits are not supported");
        }
      }
    }
    if (const Json* cn = Find(tree, "categories_nodes");
        cn != nullptr && cn->is_array() && !cn->empty()) {
      return Error(path + ".categories_nodes", "categorical splits are not supported");
    }

    auto child = [&](const Json& arr, const char* key, size_t i) -> Result<int64_t> {
      const Json& c = arr[i];
      std::string where = path + "." + key + "[" + std::to_string(i) + "]";
      if (!c.is_number_integer()) return Error(where, "expected an integer, got " + Kind(c));
      int64_t v = c.get<int64_t>();
      if (v != -1 && (v <= 0 || v >= static_cast<int64_t>(n))) {
        return Error(where, "child index " + std::to_string(v) + " is out of range (the tree has " +
                                std::to_string(n) + " nodes; -1 marks a leaf)");
      }
      return v;
    };

    // Breadth-first from the root: node i of the source goes to slot `slot`; an internal node's
    // children get two consecutive slots. A node reached twice is a cycle or a shared child.
    const uint32_t base = static_cast<uint32_t>(m_->nodes_.size());
    if (m_->nodes_.size() + n > (size_t{1} << 30)) return Error(path, "the model is too large");
    std::vector<bool> seen(n, false);
    std::vector<std::pair<size_t, uint32_t>> queue;  // (source index, slot)
    queue.emplace_back(0, base);
    seen[0] = true;
    m_->nodes_.push_back({});
    for (size_t q = 0; q < queue.size(); ++q) {
      auto [i, slot] = queue[q];
      WEFT_ASSIGN_OR_RETURN(int64_t l, child(*left, "left_children", i));
      WEFT_ASSIGN_OR_RETURN(int64_t r, child(*right, "right_children", i));
      const Json& cv = (*cond)[i];
      std::string idx = "[" + std::to_string(i) + "]";
      if (!cv.is_number()) {
        return Error(path + ".split_conditions" + idx, "expected a number, got " + Kind(cv));
      }
      double value = cv.get<double>();
      TreeModel::Node node{static_cast<float>(value), 0, 0};
      if ((l == -1) != (r == -1)) {
        return Error(path + ".left_children" + idx,
                     "a node must have both children or none (left " + std::to_string(l) +
                         ", right " + std::to_string(r) + ")");
      }
      if (l == -1) {
        if (!std::isfinite(node.value)) {
          return Error(path + ".split_conditions" + idx, "leaf value is not a finite float");
        }
        m_->nodes_[slot] = node;
        continue;
      }
      if (std::isnan(value)) return Error(path + ".split_conditions" + idx, "is NaN");
      const Json& fi = (*index)[i];
      if (!fi.is_number_integer() || fi.get<int64_t>() < 0 ||
          static_cast<uint64_t>(fi.get<int64_t>()) >= m_->num_features_) {
        return Error(path + ".split_indices" + idx, "feature index " +
                                                        (fi.is_number() ? fi.dump() : Kind(fi)) +
                                                        " is out of range (num_feature is " +
                                                        std::to_string(m_->num_features_) + ")");
      }
      const Json& dl = (*dleft)[i];
      bool default_left = false;
      if (dl.is_boolean()) {
        default_left = dl.get<bool>();
      } else if (dl.is_number_integer() && (dl.get<int64_t>() == 0 || dl.get<int64_t>() == 1)) {
        default_left = dl.get<int64_t>() == 1;
      } else {
        return Error(path + ".default_left" + idx, "expected 0, 1, true or false");
      }
      for (int64_t c : {l, r}) {
        size_t cu = static_cast<size_t>(c);
        if (seen[cu]) {
          return Error(
              path + ".left_children" + idx,
              "node " + std::to_string(c) +
                  " is reached twice (a cycle or a shared child); the nodes must form a tree");
        }
        seen[cu] = true;
      }
      node.feature = static_cast<uint32_t>(fi.get<int64_t>()) |
                     (default_left ? TreeModel::kDefaultLeftBit : 0);
      node.left = static_cast<uint32_t>(m_->nodes_.size());
      m_->nodes_[slot] = node;
      m_->nodes_.push_back({});
      m_->nodes_.push_back({});
      queue.emplace_back(static_cast<size_t>(l), node.left);
      queue.emplace_back(static_cast<size_t>(r), node.left + 1);
    }
    m_->roots_.push_back(base);
    return Status::Ok();
  }

  std::string origin_;
  TreeModel* m_;
};

Result<std::unique_ptr<TreeModel>> TreeModel::Parse(std::string_view json, std::string name,
                                                    std::string version, std::string_view origin) {
  if (json.size() > kMaxModelFileBytes) {
    return InvalidArgumentError(std::string(origin) + ": the model is larger than " +
                                std::to_string(kMaxModelFileBytes >> 20) + " MiB");
  }
  WEFT_RETURN_IF_ERROR(NestingCheck(json, origin));
  Json root;
  try {
    root = Json::parse(json.begin(), json.end());
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string(origin) + ": not valid JSON (" + e.what() +
                                "); expected a model saved by XGBoosterSaveModel(h, \"m.json\")");
  }
  std::unique_ptr<TreeModel> m(new TreeModel());
  m->name_ = std::move(name);
  m->version_ = std::move(version);
  TreeModelParser parser(origin, m.get());
  WEFT_RETURN_IF_ERROR(parser.Run(root));
  m->nodes_.shrink_to_fit();
  return m;
}

Result<std::unique_ptr<TreeModel>> TreeModel::Load(const std::string& path, std::string name,
                                                   std::string version, std::string_view sha256) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read model file '" + path + "'");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return NotFoundError("cannot read model file '" + path + "'");
  if (static_cast<uint64_t>(size) > kMaxModelFileBytes) {
    return InvalidArgumentError(path + ": the model is larger than " +
                                std::to_string(kMaxModelFileBytes >> 20) + " MiB");
  }
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), size)) return NotFoundError("cannot read model file '" + path + "'");
  if (!sha256.empty()) {
    bool hex = sha256.size() == 64;
    std::string want;
    for (char c : sha256) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) hex = false;
      want.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (!hex) {
      return InvalidArgumentError(path + ": the expected sha256 must be 64 hex digits, got '" +
                                  std::string(sha256.substr(0, 70)) + "'");
    }
    std::string got = Sha256Hex(bytes);
    if (got != want) {
      return DataLossError(path + ": sha256 mismatch: the file has " + got + ", expected " + want +
                           "; the artifact is corrupt or not the version deployed");
    }
  }
  return Parse(bytes, std::move(name), std::move(version), path);
}

float TreeModel::PredictUnchecked(const float* features) const {
  float sum = base_margin_;
  const Node* nodes = nodes_.data();
  for (uint32_t root : roots_) {
    const Node* n = nodes + root;
    while (n->left != 0) {
      float x = features[n->feature & ~kDefaultLeftBit];
      bool go_left = std::isnan(x) ? (n->feature & kDefaultLeftBit) != 0 : x < n->value;
      n = nodes + n->left + (go_left ? 0 : 1);
    }
    sum += n->value;
  }
  switch (objective_) {
    case TreeObjective::kBinaryLogistic:
    case TreeObjective::kRegLogistic: return 1.0f / (1.0f + std::exp(-sum));
    case TreeObjective::kBinaryLogitRaw:
    case TreeObjective::kRegSquaredError: break;
  }
  return sum;
}

Result<float> TreeModel::Predict(std::span<const float> features) const {
  if (features.size() != num_features_) {
    return InvalidArgumentError(Label() + ": expected " + std::to_string(num_features_) +
                                " features, got " + std::to_string(features.size()));
  }
  return PredictUnchecked(features.data());
}

}  // namespace weft::edge::inference
