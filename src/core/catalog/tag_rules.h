// Declarative tag rules: which tags the catalog gives a signal, declared in YAML (the format is
// in src/core/catalog/README.md).
//
//   WEFT_ASSIGN_OR_RETURN(TagRules rules, LoadTagRulesFile("tag_rules.yaml"));
//   // "tag_rules.yaml: 1 error\ntag_rules.yaml:4:12: error: rules[0].match.quantiy: ..."
//   std::map<std::string, RuleTag> tags = EvaluateRules(rules, signal);
//   // tags["sensitivity"] == {"restricted", "restricted-energy"}
//
//   rules:
//     - name: restricted-energy
//       match: {quantity: [power, energy], asset_type: "compressor*"}
//       tags: {sensitivity: restricted, owner_domain: energy}
//       priority: 10
//
// A rule matches a signal when every field in `match` matches (AND); a field's value is one glob
// or a list of globs (any of them), where `*` stands for any run of characters (also none) and
// every other character stands for itself, case-sensitively. `match: {}` matches every signal.
// When several matching rules set the same tag key, the value of the rule with the highest
// `priority` wins; on equal priority the more specific rule (more `match` fields) wins; on a
// further tie the rule written first wins. Rules cannot set the keys the ingest sets from the
// signal's context (unit, quantity, asset, ...: IsReservedTagKey), since those are facts.
//
// The parser reports every problem in one run, each with file:line:column, the field path and
// what was expected ("did you mean" for misspelt keys). Bad input never crashes the parser
// (tag_rules_fuzz.cc).
//
// Thread-safety: the functions are reentrant; TagRules is a value.
#ifndef WEFT_CORE_CATALOG_TAG_RULES_H_
#define WEFT_CORE_CATALOG_TAG_RULES_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"
#include "common/status.h"

namespace weft::core::catalog {

//! A signal as the ingest sees it in an edge batch (edge/uplink/batch_codec.h BatchContext, plus
//! the batch's edge id and, when the edge reports it, its firmware version).
struct ObservedSignal {
  std::string site{}, area{}, line{}, asset{}, asset_type{}, signal{};
  std::string unit{}, quantity{}, protocol{}, address{};
  //! The asset's free metadata from plant.yaml (manufacturer, criticality, ...).
  std::map<std::string, std::string> tags{};
  std::string edge{};      //!< the edge node that sent the batch
  std::string firmware{};  //!< the edge's firmware version; "" = not reported (keep the last)
};

//! The signal fields a rule can match on.
enum class MatchField {
  kSite,
  kArea,
  kLine,
  kAsset,
  kAssetType,
  kSignal,
  kUnit,
  kQuantity,
  kProtocol,
  kEdge,
  kFirmware,
};
//! "site", "area", ..., "asset_type", ..., "firmware".
std::string_view MatchFieldName(MatchField field);
const std::string& FieldValue(const ObservedSignal& signal, MatchField field);

struct MatchCondition {
  MatchField field = MatchField::kSite;
  std::vector<std::string> patterns{};  //!< globs; the condition holds when any matches
};

struct TagRule {
  std::string name{};
  std::string description{};
  std::vector<MatchCondition> match{};  //!< all must hold; empty: every signal
  std::map<std::string, std::string> tags{};
  int64_t priority = 0;
  SourceLocation where{};  //!< where the rule is in its file

  bool Matches(const ObservedSignal& signal) const;
};

struct TagRules {
  std::vector<TagRule> rules{};  //!< file order (it breaks ties)

  //! A canonical text of what the rules do (names, matches, tags, priorities; not comments or
  //! locations): equal texts mean equal tagging.
  std::string Canonical() const;
};

//! A tag a rule assigned, and which rule.
struct RuleTag {
  std::string value;
  std::string rule;
  friend bool operator==(const RuleTag&, const RuleTag&) = default;
};

//! The tags the rules give `signal`, by key (precedence in the header comment).
std::map<std::string, RuleTag> EvaluateRules(const TagRules& rules, const ObservedSignal& signal);

//! `*` matches any run of characters; everything else matches itself. Linear-time in practice
//! (no exponential backtracking).
bool GlobMatch(std::string_view pattern, std::string_view text);

//! Keys the ingest sets from the signal's context: site, area, line, asset, asset_type, signal,
//! unit, quantity, protocol, edge, firmware, model, model_version.
bool IsReservedTagKey(std::string_view key);
//! A tag key: 1-128 characters from A-Z a-z 0-9 _ - . ; a value: 1-256 bytes of UTF-8 without
//! control characters.
bool IsValidTagKey(std::string_view key);
bool IsValidTagValue(std::string_view value);

namespace rule_error {
inline constexpr char kDuplicateRule[] = "duplicate_rule";
inline constexpr char kReservedTag[] = "reserved_tag";
inline constexpr char kNoTags[] = "no_tags";
}  // namespace rule_error

//! Larger rule files are refused before parsing.
inline constexpr size_t kMaxTagRulesFileBytes = size_t{1} << 20;

//! Parses a rules file. On error, InvalidArgument "<file>: N errors" followed by every error,
//! one per line, "<file>:<line>:<column>: error: <field>: <message> [<kind>]".
Result<TagRules> ParseTagRules(std::string_view yaml, const std::string& file_name);
//! The same, with every finding also recorded in `diags`. REQUIRES: diags != nullptr.
Result<TagRules> ParseTagRules(std::string_view yaml, const std::string& file_name,
                               Diagnostics* diags);
//! Reads and parses a file; NotFound / Unavailable naming the path when it cannot be read.
Result<TagRules> LoadTagRulesFile(const std::string& path);

}  // namespace weft::core::catalog

#endif  // WEFT_CORE_CATALOG_TAG_RULES_H_
