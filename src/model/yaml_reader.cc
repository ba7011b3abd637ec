#include "model/yaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::model {

namespace {
// Where a second YAML document starts, if there is one. Reads at most two documents' events.
std::optional<YAML::Mark> SecondDocumentAt(std::string_view text) {
  class DocumentStarts : public YAML::EventHandler {
   public:
    std::vector<YAML::Mark> starts;
    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  };
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentStarts handler;
  if (!parser.HandleNextDocument(handler)) return std::nullopt;
  if (!parser.HandleNextDocument(handler) || handler.starts.size() < 2) return std::nullopt;
  return handler.starts[1];
}

}  // namespace

std::optional<YamlValue> YamlFields::Get(std::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

SourceLocation YamlReader::At(const YAML::Node& n, const SourceLocation& fallback) const {
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return fallback;
  return {file_, m.line + 1, m.column + 1};
}

std::optional<YamlValue> YamlReader::ParseDocument(std::string_view text, size_t max_bytes) {
  SourceLocation top{file_, 1, 1};
  if (text.size() > max_bytes) {
    Err(yaml_error::kInputTooLarge, top, "",
        "the file has " + std::to_string(text.size()) + " bytes; the limit is " +
            std::to_string(max_bytes));
    return std::nullopt;
  }
  YAML::Node root;
  try {
    // Only the first document is built. yaml-cpp's LoadAll can loop forever on some malformed
    // input (a stray ',' at the top level yields endless empty documents), so a second document
    // is looked for with a bounded pass of a do-nothing event handler.
    root = YAML::Load(std::string(text));
    if (root.IsNull()) {
      Err(yaml_error::kWrongType, top, "", "the file is empty (or null); expected a mapping");
      return std::nullopt;
    }
    if (std::optional<YAML::Mark> second = SecondDocumentAt(text)) {
      Err(yaml_error::kYamlSyntax, SourceLocation{file_, second->line + 1, second->column + 1}, "",
          "a second YAML document starts here (after ---, or after a stray ',' at the top "
          "level); a Weft file is one document");
    }
  } catch (const YAML::DeepRecursion& e) {
    Err(yaml_error::kYamlSyntax, SourceLocation{file_, e.mark.line + 1, e.mark.column + 1}, "",
        "the document nests deeper than the YAML parser's limit of " + std::to_string(e.depth()) +
            " levels");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    SourceLocation at =
        e.mark.is_null() ? top : SourceLocation{file_, e.mark.line + 1, e.mark.column + 1};
    Err(yaml_error::kYamlSyntax, at, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const std::exception& e) {
    Err(yaml_error::kYamlSyntax, top, "", std::string("YAML syntax error: ") + e.what());
    return std::nullopt;
  }
  // Aliases aside, a document has fewer items than bytes; 8 per byte leaves room for reading
  // some lists twice.
  budget_ = 8 * text.size() + 10000;
  budget_exhausted_ = false;
  return YamlValue{root, top, ""};
}

// A user's text, quoted for a message: cut short, so that a huge value (or one repeated through
// YAML aliases) cannot blow up the report.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMax)) + "...' (" + std::to_string(text.size()) +
         " bytes)";
}

// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return i;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Scalar: return Quote(n.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "?";
}

std::string Hint(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best = ClosestMatch(word, candidates);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string OneOf(const std::vector<std::string>& candidates) {
  return "expected one of: " + Join(candidates);
}

// Ids are used in topics, file paths and URLs: keep them to a safe alphabet.
bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

bool YamlReader::Spend(size_t items, const YamlValue& at) {
  if (budget_exhausted_) return false;
  if (items <= budget_) {
    budget_ -= items;
    return true;
  }
  budget_exhausted_ = true;
  Err(yaml_error::kInputTooLarge, at,
      "the document expands to too many items (YAML aliases repeat what they name); "
      "write the repeated parts out, or split the plant");
  return false;
}

YamlFields YamlReader::OpenMap(const YamlValue& v,
                               std::initializer_list<std::string_view> allowed) {
  YamlFields f;
  f.loc_ = v.loc;
  f.path_ = v.path;
  if (!v.node.IsMap()) {
    Err(yaml_error::kWrongType, v,
        "expected a mapping (key: value lines), got " + NodeKind(v.node));
    return f;
  }
  if (!Spend(v.node.size() + 1, v)) return f;
  f.ok_ = true;
  // An empty `allowed` means the keys are names chosen by the user (types, tags).
  std::vector<std::string> allowed_names(allowed.begin(), allowed.end());
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    const YAML::Node key = it->first;
    SourceLocation key_loc = At(key, v.loc);
    if (!key.IsScalar()) {
      Err(yaml_error::kWrongType, key_loc, v.path,
          "a key must be a plain word, got " + NodeKind(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string path = Child(v.path, name);
    if (!allowed_names.empty() &&
        std::find(allowed_names.begin(), allowed_names.end(), name) == allowed_names.end()) {
      Err(yaml_error::kUnknownField, key_loc, path,
          "unknown field '" + name + "'" + Hint(name, allowed_names) + "; " + OneOf(allowed_names));
      continue;
    }
    auto [prev, inserted] = f.values_.emplace(name, YamlValue{it->second, {}, path});
    if (!inserted) {
      Err(yaml_error::kDuplicateKey, key_loc, path,
          "field '" + name + "' appears twice in this mapping; the first is at line " +
              std::to_string(f.key_lines_[name]));
      continue;
    }
    f.key_lines_[name] = key_loc.line;
    prev->second.loc = At(it->second, key_loc);
    // A null value's mark can point past the key; the key is where a person looks.
    if (it->second.IsNull()) prev->second.loc = key_loc;
  }
  return f;
}

std::vector<YamlValue> YamlReader::OpenList(const YamlValue& v) {
  std::vector<YamlValue> out;
  if (!v.node.IsSequence()) {
    Err(yaml_error::kWrongType, v,
        "expected a list (lines starting with '- '), got " + NodeKind(v.node));
    return out;
  }
  if (!Spend(v.node.size() + 1, v)) return out;
  size_t i = 0;
  for (const auto& item : v.node) {
    out.push_back(YamlValue{item, At(item, v.loc), Index(v.path, i)});
    ++i;
  }
  return out;
}

std::optional<YamlValue> YamlReader::Required(const YamlFields& f, std::string_view key) {
  auto v = f.Get(key);
  if (!v && f.ok()) {
    Err(yaml_error::kMissingField, f.loc(), Child(f.path(), key),
        "missing required field '" + std::string(key) + "'");
  }
  return v;
}

std::optional<std::string> YamlReader::Str(const YamlValue& v) {
  if (!v.node.IsScalar()) {
    Err(yaml_error::kWrongType, v, "expected a text value, got " + NodeKind(v.node));
    return std::nullopt;
  }
  const std::string& s = v.node.Scalar();
  if (size_t bad = InvalidUtf8At(s); bad != std::string::npos) {
    Err(yaml_error::kInvalidValue, v,
        "the text is not valid UTF-8 (byte " + std::to_string(bad) + "); save the file as UTF-8");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> YamlReader::Id(const YamlValue& v, const char* what) {
  auto s = Str(v);
  if (!s) return std::nullopt;
  if (!IsValidId(*s)) {
    Err(yaml_error::kInvalidValue, v,
        std::string("invalid ") + what + " id '" + *s +
            "'; expected 1-128 characters from A-Z a-z 0-9 _ - .");
    return std::nullopt;
  }
  return s;
}

std::optional<double> YamlReader::Num(const YamlValue& v) {
  if (!v.node.IsScalar()) {
    Err(yaml_error::kWrongType, v, "expected a number, got " + NodeKind(v.node));
    return std::nullopt;
  }
  const std::string& s = v.node.Scalar();
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(begin, &end);
  bool all = !s.empty() && end == begin + s.size() && std::strchr(" \t\n", s[0]) == nullptr;
  if (!all) {
    Err(yaml_error::kWrongType, v, "expected a number, got " + NodeKind(v.node));
    return std::nullopt;
  }
  if (!std::isfinite(d) || errno == ERANGE) {
    Err(yaml_error::kInvalidValue, v, "expected a finite number, got '" + s + "'");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> YamlReader::Int(const YamlValue& v, int64_t min, int64_t max) {
  auto d = Num(v);
  if (!d) return std::nullopt;
  if (*d != std::floor(*d) || *d < static_cast<double>(min) || *d > static_cast<double>(max)) {
    Err(yaml_error::kInvalidValue, v,
        "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
            ", got '" + v.node.Scalar() + "'");
    return std::nullopt;
  }
  return static_cast<int64_t>(*d);
}

std::optional<bool> YamlReader::Bool(const YamlValue& v) {
  if (v.node.IsScalar()) {
    const std::string& s = v.node.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  Err(yaml_error::kWrongType, v, "expected true or false, got " + NodeKind(v.node));
  return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::StrList(const YamlValue& v) {
  if (!v.node.IsSequence()) {
    Err(yaml_error::kWrongType, v,
        "expected a list of names, e.g. [a, b], got " + NodeKind(v.node));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const YamlValue& item : OpenList(v)) {
    auto s = Str(item);
    if (s) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Micros> YamlReader::Duration(const YamlValue& v) {
  auto s = Str(v);
  if (!s) return std::nullopt;
  Result<Micros> d = ParseDuration(*s);
  if (!d.ok()) {
    Err(yaml_error::kInvalidValue, v, d.status().message());
    return std::nullopt;
  }
  return *d;
}

}  // namespace weft::model
