#include "core/catalog/tag_rules.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "model/yaml_reader.h"

namespace weft::core::catalog {

namespace {

using model::YamlFields;
using model::YamlReader;
using model::YamlValue;
namespace yaml_error = model::yaml_error;

constexpr std::array<std::string_view, 11> kFieldNames = {
    "site", "area",     "line",     "asset", "asset_type", "signal",
    "unit", "quantity", "protocol", "edge",  "firmware"};

constexpr std::array<std::string_view, 13> kReservedKeys = {
    "site",     "area",     "line", "asset",    "asset_type", "signal",       "unit",
    "quantity", "protocol", "edge", "firmware", "model",      "model_version"};

constexpr size_t kMaxTagValueBytes = 256;
constexpr int64_t kMaxPriority = 1'000'000;

class RulesParser {
 public:
  RulesParser(const std::string& file, Diagnostics* diags) : r_(file, diags) {}

  TagRules Parse(std::string_view text) {
    TagRules out;
    std::optional<YamlValue> root = r_.ParseDocument(text, kMaxTagRulesFileBytes);
    if (!root) return out;
    YamlFields top = r_.OpenMap(*root, {"rules"});
    std::optional<YamlValue> rules = r_.Required(top, "rules");
    if (!rules) return out;
    // `rules: []` (or `rules:` with nothing) is valid: no rules, only the ingest's tags.
    if (rules->node.IsNull()) return out;
    std::map<std::string, SourceLocation> names;
    for (const YamlValue& item : r_.OpenList(*rules)) {
      TagRule rule;
      const bool valid = ParseRule(item, &rule);
      // A rule with other errors still claims its name, so that a duplicate is reported now
      // rather than after the first fix.
      if (!rule.name.empty()) {
        auto [it, inserted] = names.emplace(rule.name, rule.where);
        if (!inserted) {
          r_.Err(rule_error::kDuplicateRule, rule.where, Child(item.path, "name"),
                 "rule name '" + rule.name + "' is already used at line " +
                     std::to_string(it->second.line) + "; rule names must be unique");
          continue;
        }
      }
      if (valid) out.rules.push_back(std::move(rule));
    }
    return out;
  }

 private:
  static std::string Child(const std::string& path, std::string_view key) {
    return model::Child(path, key);
  }

  // False when the rule has errors (reported); `rule` then holds what could be read.
  bool ParseRule(const YamlValue& v, TagRule* out) {
    const size_t errors_before = r_.diags()->error_count();
    YamlFields f = r_.OpenMap(v, {"name", "description", "match", "tags", "priority"});
    if (!f.ok()) return false;
    TagRule& rule = *out;
    rule.where = v.loc;
    if (auto n = r_.Required(f, "name")) {
      rule.where = n->loc;
      if (auto id = r_.Id(*n, "rule")) rule.name = *id;
    }
    if (auto d = f.Get("description")) {
      if (auto s = r_.Str(*d)) rule.description = *s;
    }
    if (auto m = r_.Required(f, "match")) ParseMatch(*m, &rule);
    if (auto t = r_.Required(f, "tags")) ParseTags(*t, &rule);
    if (auto p = f.Get("priority")) {
      if (auto i = r_.Int(*p, -kMaxPriority, kMaxPriority)) rule.priority = *i;
    }
    return r_.diags()->error_count() == errors_before;
  }

  void ParseMatch(const YamlValue& v, TagRule* rule) {
    YamlFields f = r_.OpenMap(v, {"site", "area", "line", "asset", "asset_type", "signal", "unit",
                                  "quantity", "protocol", "edge", "firmware"});
    if (!f.ok()) return;
    for (size_t i = 0; i < kFieldNames.size(); ++i) {
      std::optional<YamlValue> value = f.Get(kFieldNames[i]);
      if (!value) continue;
      MatchCondition c;
      c.field = static_cast<MatchField>(i);
      if (value->node.IsSequence()) {
        auto list = r_.StrList(*value);
        if (!list) continue;
        if (list->empty()) {
          r_.Err(yaml_error::kInvalidValue, *value,
                 "the list of patterns is empty; leave the field out to match any value");
          continue;
        }
        c.patterns = std::move(*list);
      } else if (auto s = r_.Str(*value)) {
        c.patterns.push_back(*s);
      } else {
        continue;
      }
      for (const std::string& p : c.patterns) {
        if (p.empty()) {
          r_.Err(yaml_error::kInvalidValue, *value,
                 "an empty pattern matches only an empty value; use \"*\" for any value");
        }
      }
      rule->match.push_back(std::move(c));
    }
  }

  void ParseTags(const YamlValue& v, TagRule* rule) {
    YamlFields f = r_.OpenMap(v, {});
    if (!f.ok()) return;
    if (v.node.size() == 0) {
      r_.Err(rule_error::kNoTags, v, "a rule needs at least one tag, e.g. {sensitivity: internal}");
      return;
    }
    std::set<std::string> seen;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // reported by OpenMap
      const std::string& key = it->first.Scalar();
      if (!seen.insert(key).second) continue;  // duplicate: reported by OpenMap
      const SourceLocation key_loc = r_.At(it->first, v.loc);
      const std::string path = Child(v.path, key);
      std::optional<YamlValue> value = f.Get(key);
      if (!value) continue;
      if (!IsValidTagKey(key)) {
        r_.Err(yaml_error::kInvalidValue, key_loc, path,
               "invalid tag key " + model::Quote(key) +
                   "; expected 1-128 characters from A-Z a-z 0-9 _ - .");
        continue;
      }
      if (IsReservedTagKey(key)) {
        std::string message = "tag '" + key;
        message += "' is set by the ingest from the signal's context and cannot be set by a rule; ";
        message += "match on it instead (match: {" + key + ": ...})";
        r_.Err(rule_error::kReservedTag, key_loc, path, std::move(message));
        continue;
      }
      auto s = r_.Str(*value);
      if (!s) continue;
      if (!IsValidTagValue(*s)) {
        r_.Err(yaml_error::kInvalidValue, *value,
               "invalid value " + model::Quote(*s) + " of tag '" + key +
                   "'; expected 1-256 bytes of text without control characters");
        continue;
      }
      rule->tags[key] = *s;
    }
  }

  YamlReader r_;
};

// The precedence of a rule for a key, larger wins: priority, then specificity, then the rule
// written first (a smaller index).
using Rank = std::tuple<int64_t, size_t, int64_t>;

Rank RankOf(const TagRule& rule, size_t index) {
  return {rule.priority, rule.match.size(), -static_cast<int64_t>(index)};
}

void AppendField(std::string* out, std::string_view s) {
  // Length-prefixed, so that no choice of names can make two rule sets print alike.
  *out += std::to_string(s.size());
  *out += ':';
  *out += s;
}

}  // namespace

std::string_view MatchFieldName(MatchField field) {
  return kFieldNames[static_cast<size_t>(field)];
}

const std::string& FieldValue(const ObservedSignal& s, MatchField field) {
  switch (field) {
    case MatchField::kSite: return s.site;
    case MatchField::kArea: return s.area;
    case MatchField::kLine: return s.line;
    case MatchField::kAsset: return s.asset;
    case MatchField::kAssetType: return s.asset_type;
    case MatchField::kSignal: return s.signal;
    case MatchField::kUnit: return s.unit;
    case MatchField::kQuantity: return s.quantity;
    case MatchField::kProtocol: return s.protocol;
    case MatchField::kEdge: return s.edge;
    case MatchField::kFirmware: return s.firmware;
  }
  return s.site;  // unreachable: the switch covers every field
}

bool TagRule::Matches(const ObservedSignal& signal) const {
  for (const MatchCondition& c : match) {
    const std::string& value = FieldValue(signal, c.field);
    const bool any = std::any_of(c.patterns.begin(), c.patterns.end(),
                                 [&](const std::string& p) { return GlobMatch(p, value); });
    if (!any) return false;
  }
  return true;
}

std::string TagRules::Canonical() const {
  std::string out;
  for (const TagRule& r : rules) {
    out += "rule ";
    AppendField(&out, r.name);
    out += " priority " + std::to_string(r.priority);
    for (const MatchCondition& c : r.match) {
      out += " match ";
      AppendField(&out, MatchFieldName(c.field));
      for (const std::string& p : c.patterns) {
        out += ' ';
        AppendField(&out, p);
      }
    }
    for (const auto& [k, v] : r.tags) {
      out += " tag ";
      AppendField(&out, k);
      out += '=';
      AppendField(&out, v);
    }
    out += '\n';
  }
  return out;
}

std::map<std::string, RuleTag> EvaluateRules(const TagRules& rules, const ObservedSignal& signal) {
  std::map<std::string, RuleTag> out;
  std::map<std::string, Rank> ranks;
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    const TagRule& rule = rules.rules[i];
    if (!rule.Matches(signal)) continue;
    const Rank rank = RankOf(rule, i);
    for (const auto& [key, value] : rule.tags) {
      auto it = ranks.find(key);
      if (it != ranks.end() && !(rank > it->second)) continue;
      ranks[key] = rank;
      out[key] = RuleTag{value, rule.name};
    }
  }
  return out;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Greedy with one backtrack point (the last `*`): O(|pattern|·|text|) at worst.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool IsReservedTagKey(std::string_view key) {
  return std::find(kReservedKeys.begin(), kReservedKeys.end(), key) != kReservedKeys.end();
}

bool IsValidTagKey(std::string_view key) {
  return model::IsValidId(key);
}

bool IsValidTagValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxTagValueBytes) return false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return model::InvalidUtf8At(value) == std::string_view::npos;
}

Result<TagRules> ParseTagRules(std::string_view yaml, const std::string& file_name,
                               Diagnostics* diags) {
  const Diagnostics::Mark before = diags->mark();
  RulesParser parser(file_name, diags);
  TagRules rules = parser.Parse(yaml);
  WEFT_RETURN_IF_ERROR(diags->ErrorsSince(before, file_name));
  return rules;
}

Result<TagRules> ParseTagRules(std::string_view yaml, const std::string& file_name) {
  Diagnostics diags;
  return ParseTagRules(yaml, file_name, &diags);
}

Result<TagRules> LoadTagRulesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open tag rules file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return UnavailableError("cannot read tag rules file '" + path + "'");
  return ParseTagRules(text.str(), path);
}

}  // namespace weft::core::catalog
