#include "core/catalog/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/catalog/tag_rules.h"

namespace weft::core::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("weft_catalog_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter.fetch_add(1))))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

ObservedSignal Spindle(const std::string& asset, const std::string& signal,
                       const std::string& quantity = "current") {
  ObservedSignal s;
  s.site = "lyon";
  s.area = "machining";
  s.line = "l1-machining";
  s.asset = asset;
  s.asset_type = "cnc_spindle";
  s.signal = signal;
  s.unit = quantity == "power" ? "kW" : "A";
  s.quantity = quantity;
  s.protocol = "sparkplug_b";
  s.address = "spBv1.0/lyon/DDATA/edge-l1/" + asset;
  s.tags = {{"manufacturer", "DMG Mori"}, {"criticality", "high"}};
  s.edge = "edge-l1";
  return s;
}

ObservedSignal Compressor(const std::string& asset, const std::string& signal,
                          const std::string& quantity) {
  ObservedSignal s;
  s.site = "lyon";
  s.area = "lyon-utilities";
  s.line = "lyon-air";
  s.asset = asset;
  s.asset_type = "compressor_plc";
  s.signal = signal;
  s.unit = quantity == "power" ? "kW" : "bar";
  s.quantity = quantity;
  s.protocol = "modbus_tcp";
  s.address = "10.20.0.31:502/1/input/5";
  s.edge = "edge-util";
  return s;
}

TagRules MustParse(const std::string& yaml) {
  Result<TagRules> r = ParseTagRules(yaml, "rules.yaml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : TagRules{};
}

std::vector<std::string> Keys(const std::vector<SignalRecord>& signals) {
  std::vector<std::string> out;
  for (const auto& s : signals) out.push_back(s.asset + "/" + s.signal);
  return out;
}

class CatalogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Catalog> Open(CatalogOptions options = {}) {
    Result<std::unique_ptr<Catalog>> c = Catalog::Open(dir_.File("catalog.db"), &clock_, options);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  TempDir dir_;
  ManualClock clock_{TimeFromUnixMicros(1'700'000'000'000'000)};
};

// --- Tag rules -------------------------------------------------------------------------------

TEST(GlobTest, StarMatchesAnyRunAndTheRestIsLiteral) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("compressor*", "compressor_plc"));
  EXPECT_TRUE(GlobMatch("compressor*", "compressor"));
  EXPECT_FALSE(GlobMatch("compressor*", "air_compressor"));
  EXPECT_TRUE(GlobMatch("*-air", "lyon-air"));
  EXPECT_TRUE(GlobMatch("l*-sp-*", "l1-sp-01"));
  EXPECT_FALSE(GlobMatch("l*-sp-*", "l1-cp-01"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXbYbZ"));
  EXPECT_FALSE(GlobMatch("power", "Power"));  // case-sensitive
  EXPECT_FALSE(GlobMatch("pow", "power"));
  EXPECT_FALSE(GlobMatch("?", "x"));  // `?` is literal
  // Many stars against a long non-matching text stays fast (no exponential backtracking).
  EXPECT_FALSE(GlobMatch(std::string(50, '*') + "b", std::string(100000, 'a')));
}

TEST(TagRulesTest, ParsesTheBriefsFormatWithDefaults) {
  TagRules rules = MustParse(R"(
rules:
  - name: restricted-energy
    match: {quantity: power}
    tags: {sensitivity: restricted, owner_domain: energy}
  - name: default-sensitivity
    description: every signal
    match: {}
    tags: {sensitivity: internal, owner_domain: operations}
    priority: 0
)");
  ASSERT_EQ(rules.rules.size(), 2u);
  const TagRule& r = rules.rules[0];
  EXPECT_EQ(r.name, "restricted-energy");
  ASSERT_EQ(r.match.size(), 1u);
  EXPECT_EQ(r.match[0].field, MatchField::kQuantity);
  EXPECT_THAT(r.match[0].patterns, ElementsAre("power"));
  EXPECT_EQ(r.priority, 0);
  EXPECT_EQ(r.where.line, 3);
  EXPECT_EQ(rules.rules[1].description, "every signal");
  EXPECT_TRUE(rules.rules[1].match.empty());

  // Equal priority: the more specific rule (one match field) beats the catch-all.
  auto power = EvaluateRules(rules, Spindle("l1-sp-01", "power", "power"));
  EXPECT_EQ(power["sensitivity"], (RuleTag{"restricted", "restricted-energy"}));
  EXPECT_EQ(power["owner_domain"], (RuleTag{"energy", "restricted-energy"}));
  auto current = EvaluateRules(rules, Spindle("l1-sp-01", "current"));
  EXPECT_EQ(current["sensitivity"], (RuleTag{"internal", "default-sensitivity"}));
}

TEST(TagRulesTest, PriorityThenSpecificityThenFileOrder) {
  TagRules rules = MustParse(R"(
rules:
  - {name: first, match: {site: lyon}, tags: {a: first, b: first, c: first}}
  - {name: second, match: {site: lyon}, tags: {a: second, b: second}, priority: 1}
  - {name: specific, match: {site: lyon, asset_type: "cnc_*"}, tags: {c: specific, d: x}}
  - {name: later, match: {site: "ly*"}, tags: {c: later, e: later}}
  - {name: low, match: {site: lyon, line: "*", asset: "*"}, tags: {b: low}, priority: -5}
)");
  auto t = EvaluateRules(rules, Spindle("l1-sp-01", "current"));
  EXPECT_EQ(t["a"].rule, "second");    // higher priority
  EXPECT_EQ(t["b"].rule, "second");    // priority beats specificity
  EXPECT_EQ(t["c"].rule, "specific");  // more match fields
  EXPECT_EQ(t["e"].value, "later");
  EXPECT_EQ(t["d"].rule, "specific");
  EXPECT_EQ(t.size(), 5u);  // a b c d e; `low` loses b
}

TEST(TagRulesTest, EqualRankGoesToTheRuleWrittenFirst) {
  TagRules rules = MustParse(R"(
rules:
  - {name: one, match: {quantity: current}, tags: {k: one}}
  - {name: two, match: {unit: A}, tags: {k: two}}
)");
  EXPECT_EQ(EvaluateRules(rules, Spindle("x", "current"))["k"].rule, "one");
}

TEST(TagRulesTest, ListsAndGlobsAndEveryField) {
  TagRules rules = MustParse(R"(
rules:
  - name: all-fields
    match: {site: lyon, area: mach*, line: "l1-*", asset: [l1-sp-01, l1-sp-02],
            asset_type: cnc_spindle, signal: "*", unit: [A, kW], quantity: current,
            protocol: sparkplug_b, edge: "edge-*", firmware: "2.*"}
    tags: {hit: "yes"}
)");
  ObservedSignal s = Spindle("l1-sp-02", "current");
  s.firmware = "2.4.1";
  EXPECT_EQ(EvaluateRules(rules, s).count("hit"), 1u);
  s.firmware = "1.0";
  EXPECT_TRUE(EvaluateRules(rules, s).empty());
  s.firmware = "2.0";
  s.asset = "l1-sp-03";
  EXPECT_TRUE(EvaluateRules(rules, s).empty());
}

TEST(TagRulesTest, EmptyRuleListIsValid) {
  EXPECT_TRUE(MustParse("rules: []\n").rules.empty());
  EXPECT_TRUE(MustParse("rules:\n").rules.empty());
}

TEST(TagRulesTest, ErrorsNameFileLineColumnFieldAndSuggest) {
  Result<TagRules> r = ParseTagRules(R"(rules:
  - name: a
    match: {quantiy: power}
    tags: {sensitivity: restricted}
    prority: 2
  - name: b
    match: {}
    tags: {unit: kW}
  - name: a
    match: {}
    tags: {x: y}
  - name: "bad name!"
    match: {}
    tags: {}
  - name: c
    tags: {x: y}
    priority: lots
)",
                                     "rules.yaml");
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(m, HasSubstr("rules.yaml: 8 errors"));
  EXPECT_THAT(m, HasSubstr("rules.yaml:3:13: error: rules[0].match.quantiy"));
  EXPECT_THAT(m, HasSubstr("did you mean 'quantity'?"));
  EXPECT_THAT(m, HasSubstr("rules.yaml:5:5: error: rules[0].prority"));
  EXPECT_THAT(m, HasSubstr("did you mean 'priority'?"));
  EXPECT_THAT(m, HasSubstr("rules.yaml:8:12: error: rules[1].tags.unit: tag 'unit' is set by the "
                           "ingest"));
  EXPECT_THAT(m, HasSubstr("rules.yaml:9:11: error: rules[2].name: rule name 'a' is already used "
                           "at line 2"));
  EXPECT_THAT(m, HasSubstr("invalid rule id 'bad name!'"));
  EXPECT_THAT(m,
              HasSubstr("rules.yaml:14:11: error: rules[3].tags: a rule needs at least one tag"));
  EXPECT_THAT(m,
              HasSubstr("rules.yaml:15:5: error: rules[4].match: missing required field 'match'"));
  EXPECT_THAT(m, HasSubstr("rules.yaml:17:15: error: rules[4].priority: expected a number"));
}

TEST(TagRulesTest, WrongShapesAreErrorsNotCrashes) {
  for (const char* bad :
       {"", "rules: 3", "rules: {a: b}", "[1, 2]", "rules:\n  - 7\n",
        "rules:\n  - {name: a, match: [x], tags: {k: v}}\n",
        "rules:\n  - {name: a, match: {site: []}, tags: {k: v}}\n",
        "rules:\n  - {name: a, match: {site: ''}, tags: {k: v}}\n",
        "rules:\n  - {name: a, match: {}, tags: {k: [v]}}\n",
        "rules:\n  - {name: a, match: {}, tags: {'bad key': v}}\n",
        "rules:\n  - {name: a, match:, tags: {k: v}}\n", "other: 1\n", "rules: [\n"}) {
    Result<TagRules> r = ParseTagRules(bad, "bad.yaml");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("bad.yaml")) << bad;
  }
}

TEST(TagRulesTest, CanonicalTextChangesWithWhatTheRulesDo) {
  TagRules a = MustParse("rules:\n  - {name: r, match: {site: lyon}, tags: {k: v}}\n");
  TagRules same = MustParse(
      "# comment\nrules:\n  - name: r\n    match: {site: lyon}\n"
      "    tags: {k: v}\n    description: words\n");
  TagRules other = MustParse("rules:\n  - {name: r, match: {site: lyon}, tags: {k: w}}\n");
  TagRules prio =
      MustParse("rules:\n  - {name: r, match: {site: lyon}, tags: {k: v}, priority: 1}\n");
  EXPECT_EQ(a.Canonical(), same.Canonical());
  EXPECT_NE(a.Canonical(), other.Canonical());
  EXPECT_NE(a.Canonical(), prio.Canonical());
}

TEST(TagRulesTest, ExampleRulesFileParsesAndTagsTheExamplePlant) {
  const std::string path = std::string(WEFT_TEST_SOURCE_DIR) + "/examples/tag_rules.yaml";
  Result<TagRules> rules = LoadTagRulesFile(path);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_GE(rules->rules.size(), 5u);

  auto power = EvaluateRules(*rules, Compressor("lyon-ac-01", "power", "power"));
  EXPECT_EQ(power["sensitivity"].value, "restricted");
  EXPECT_EQ(power["owner_domain"].value, "energy");
  auto pressure = EvaluateRules(*rules, Compressor("lyon-ac-01", "discharge_pressure", "pressure"));
  EXPECT_EQ(pressure["sensitivity"].value, "internal");
  EXPECT_EQ(pressure["owner_domain"].value, "facilities");
  auto spindle = EvaluateRules(*rules, Spindle("l1-sp-01", "current"));
  EXPECT_EQ(spindle["owner_domain"].value, "machining");
  EXPECT_EQ(spindle["sensitivity"].value, "internal");

  EXPECT_EQ(LoadTagRulesFile(path + ".missing").status().code(), StatusCode::kNotFound);
}

// --- Catalog ---------------------------------------------------------------------------------

TEST_F(CatalogTest, ObserveStoresTheSignalWithIngestTagsAndLineage) {
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  ObservedSignal s = Spindle("l1-sp-01", "current");
  s.firmware = "2.4.1";
  ASSERT_TRUE(cat->Observe(s).ok());

  Result<SignalRecord> rec = cat->GetSignal("l1-sp-01", "current");
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(rec->site, "lyon");
  EXPECT_EQ(rec->asset_type, "cnc_spindle");
  EXPECT_EQ(rec->address, "spBv1.0/lyon/DDATA/edge-l1/l1-sp-01");
  EXPECT_EQ(rec->edge, "edge-l1");
  EXPECT_EQ(rec->firmware, "2.4.1");
  EXPECT_EQ(rec->first_seen, clock_.Now());

  Result<std::vector<Tag>> tags = cat->TagsOf(SignalRef("l1-sp-01", "current"));
  ASSERT_TRUE(tags.ok());
  for (const Tag& t : *tags) EXPECT_EQ(t.source, "ingest") << t.key;
  auto effective = cat->SignalTags("l1-sp-01", "current");
  ASSERT_TRUE(effective.ok());
  EXPECT_THAT(*effective,
              ElementsAre(Pair("area", "machining"), Pair("asset", "l1-sp-01"),
                          Pair("asset_type", "cnc_spindle"), Pair("criticality", "high"),
                          Pair("edge", "edge-l1"), Pair("firmware", "2.4.1"),
                          Pair("line", "l1-machining"), Pair("manufacturer", "DMG Mori"),
                          Pair("protocol", "sparkplug_b"), Pair("quantity", "current"),
                          Pair("signal", "current"), Pair("site", "lyon"), Pair("unit", "A")));

  auto lineage = cat->Lineage(SignalRef("l1-sp-01", "current"));
  ASSERT_TRUE(lineage.ok());
  EXPECT_THAT(*lineage,
              ElementsAre(LineageEdge{SignalRef("l1-sp-01", "current"), TableRef("telemetry"),
                                      "ingested by weft-core from edge edge-l1"}));
  EXPECT_EQ(cat->stats().signals_added, 1u);
  EXPECT_EQ(cat->GetSignal("l1-sp-01", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, FreeTagsCannotOverrideContextTagsAndInvalidOnesAreSkipped) {
  auto cat = Open();
  ObservedSignal s = Spindle("l1-sp-01", "current");
  s.tags = {{"unit", "mA"}, {"bad key", "x"}, {"empty", ""}, {"commissioned", "2013"}};
  ASSERT_TRUE(cat->Observe(s).ok());
  auto t = cat->SignalTags("l1-sp-01", "current");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->at("unit"), "A");
  EXPECT_EQ(t->at("commissioned"), "2013");
  EXPECT_EQ(t->count("bad key"), 0u);
  EXPECT_EQ(t->count("empty"), 0u);
}

TEST_F(CatalogTest, InvalidSignalsAreRefused) {
  auto cat = Open();
  ObservedSignal s = Spindle("", "current");
  EXPECT_EQ(cat->Observe(s).code(), StatusCode::kInvalidArgument);
  s = Spindle("a/b", "current");
  EXPECT_EQ(cat->Observe(s).code(), StatusCode::kInvalidArgument);
  s = Spindle("l1-sp-01", "current");
  s.unit = "A\n";
  Status st = cat->Observe(s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("field unit"));
  s.unit = std::string("\xff\xfe", 2);
  EXPECT_EQ(cat->Observe(s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cat->stats().write_transactions, 0u);
}

TEST_F(CatalogTest, RulesTagOnObserveAndRetagWhenTheyChange) {
  auto cat = Open();
  ASSERT_TRUE(cat->SetRules(MustParse(R"(
rules:
  - {name: restricted-energy, match: {quantity: power}, tags: {sensitivity: restricted, owner_domain: energy}}
  - {name: default, match: {}, tags: {sensitivity: internal, owner_domain: operations}}
  - {name: compressors, match: {asset_type: "compressor*"}, tags: {team: air}, priority: 3}
)"))
                  .ok());
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "power", "power")).ok());
  ASSERT_TRUE(cat->Observe(Compressor("lyon-ac-01", "power", "power")).ok());

  auto tags = cat->TagsOf(SignalRef("l1-sp-01", "power"));
  ASSERT_TRUE(tags.ok());
  std::map<std::string, std::string> sources;
  for (const Tag& t : *tags) {
    if (t.key == "sensitivity" || t.key == "owner_domain")
      sources[t.key] = t.source + "=" + t.value;
  }
  EXPECT_EQ(sources["sensitivity"], "rule:restricted-energy=restricted");
  EXPECT_EQ(sources["owner_domain"], "rule:restricted-energy=energy");
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "current")->at("sensitivity"), "internal");
  EXPECT_EQ(cat->SignalTags("lyon-ac-01", "power")->at("team"), "air");
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "power")->count("team"), 0u);

  // New rules: every stored signal is re-tagged, old rule tags disappear.
  const uint64_t retags = cat->stats().retags;
  ASSERT_TRUE(cat->SetRules(MustParse(R"(
rules:
  - {name: spindles, match: {asset: "l1-sp-*"}, tags: {sensitivity: confidential}}
)"))
                  .ok());
  EXPECT_EQ(cat->stats().retags, retags + 1);
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "power")->at("sensitivity"), "confidential");
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "power")->count("owner_domain"), 0u);
  EXPECT_EQ(cat->SignalTags("lyon-ac-01", "power")->count("sensitivity"), 0u);
  EXPECT_EQ(cat->SignalTags("lyon-ac-01", "power")->count("team"), 0u);
  auto all = cat->TagsOf(SignalRef("l1-sp-01", "current"));
  for (const Tag& t : *all) {
    if (t.source.rfind("rule:", 0) == 0) {
      EXPECT_EQ(t.source, "rule:spindles");
    }
  }
  // The same rules again: nothing to do.
  ASSERT_TRUE(cat->SetRules(MustParse(R"(
rules:
  - {name: spindles, match: {asset: "l1-sp-*"}, tags: {sensitivity: confidential}}
)"))
                  .ok());
  EXPECT_EQ(cat->stats().retags, retags + 1);
  // A new signal gets the current rules.
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-02", "current")).ok());
  EXPECT_EQ(cat->SignalTags("l1-sp-02", "current")->at("sensitivity"), "confidential");
}

TEST_F(CatalogTest, PrecedenceIsManualThenIngestThenRule) {
  auto cat = Open();
  ASSERT_TRUE(cat->SetRules(MustParse("rules:\n  - {name: d, match: {}, tags: {sensitivity: "
                                      "internal, criticality: low}}\n"))
                  .ok());
  ObservedSignal s = Spindle("l1-sp-01", "current");
  s.tags = {{"sensitivity", "restricted"}};  // declared on the asset in plant.yaml
  ASSERT_TRUE(cat->Observe(s).ok());
  auto t = cat->SignalTags("l1-sp-01", "current");
  EXPECT_EQ(t->at("sensitivity"), "restricted");  // ingest beats the catch-all rule
  EXPECT_EQ(t->at("criticality"), "low");

  ASSERT_TRUE(cat->SetTag(SignalRef("l1-sp-01", "current"), "criticality", "high").ok());
  ASSERT_TRUE(cat->SetTag(SignalRef("l1-sp-01", "current"), "sensitivity", "public").ok());
  t = cat->SignalTags("l1-sp-01", "current");
  EXPECT_EQ(t->at("criticality"), "high");
  EXPECT_EQ(t->at("sensitivity"), "public");
  // TagsOf lists every source, the effective one first.
  auto rows = cat->TagsOf(SignalRef("l1-sp-01", "current"));
  std::vector<std::string> sens;
  for (const Tag& tag : *rows) {
    if (tag.key == "sensitivity") sens.push_back(tag.source + "=" + tag.value);
  }
  EXPECT_THAT(sens, ElementsAre("manual=public", "ingest=restricted", "rule:d=internal"));

  // FindSignals uses the effective value only.
  EXPECT_THAT(Keys(*cat->FindSignals({{"sensitivity", "public"}})),
              ElementsAre("l1-sp-01/current"));
  EXPECT_TRUE(cat->FindSignals({{"sensitivity", "internal"}})->empty());
  EXPECT_TRUE(cat->FindSignals({{"sensitivity", "restricted"}})->empty());

  ASSERT_TRUE(cat->RemoveTag(SignalRef("l1-sp-01", "current"), "sensitivity").ok());
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "current")->at("sensitivity"), "restricted");
  EXPECT_EQ(cat->RemoveTag(SignalRef("l1-sp-01", "current"), "sensitivity").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(cat->SetTag(SignalRef("l9", "x"), "k", "v").code(), StatusCode::kNotFound);
  EXPECT_EQ(cat->SetTag(SignalRef("l1-sp-01", "current"), "bad key", "v").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cat->SetTag(SignalRef("l1-sp-01", "current"), "k", "").code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, FindSignalsByTagCombinations) {
  auto cat = Open();
  ASSERT_TRUE(cat->SetRules(MustParse(R"(
rules:
  - {name: energy, match: {quantity: [power, energy]}, tags: {sensitivity: restricted}, priority: 1}
  - {name: default, match: {}, tags: {sensitivity: internal}}
)"))
                  .ok());
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "power", "power")).ok());
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-02", "power", "power")).ok());
  ASSERT_TRUE(cat->Observe(Compressor("lyon-ac-01", "power", "power")).ok());
  ASSERT_TRUE(cat->Observe(Compressor("lyon-ac-01", "discharge_pressure", "pressure")).ok());

  EXPECT_THAT(Keys(*cat->FindSignals({{"sensitivity", "restricted"}})),
              ElementsAre("l1-sp-01/power", "l1-sp-02/power", "lyon-ac-01/power"));
  EXPECT_THAT(
      Keys(*cat->FindSignals({{"sensitivity", "restricted"}, {"asset_type", "cnc_spindle"}})),
      ElementsAre("l1-sp-01/power", "l1-sp-02/power"));
  EXPECT_THAT(Keys(*cat->FindSignals({{"sensitivity", "internal"}, {"protocol", "modbus_tcp"}})),
              ElementsAre("lyon-ac-01/discharge_pressure"));
  EXPECT_THAT(Keys(*cat->FindSignals({{"criticality", "high"}, {"asset", "l1-sp-01"}})),
              ElementsAre("l1-sp-01/current", "l1-sp-01/power"));
  EXPECT_TRUE(cat->FindSignals({{"sensitivity", "restricted"}, {"quantity", "current"}})->empty());
  EXPECT_TRUE(cat->FindSignals({{"nope", "x"}})->empty());
  EXPECT_EQ(cat->FindSignals({})->size(), 5u);
  // Text of the query is bound, never spliced: quotes are just characters.
  EXPECT_TRUE(cat->FindSignals({{"site", "lyon' OR '1'='1"}})->empty());

  Result<TagQuery> q = ParseTagQuery(" sensitivity=restricted , asset_type=cnc_spindle");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(cat->FindSignals(*q)->size(), 2u);
  EXPECT_EQ(ParseTagQuery("sensitivity").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTagQuery("bad key=x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseTagQuery("")->empty());
  TagQuery too_many(kMaxTagConditions + 1, TagCondition{"a", "b"});
  EXPECT_EQ(cat->FindSignals(too_many).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, KnownSignalsAreAnsweredFromTheCache) {
  auto cat = Open();
  std::vector<ObservedSignal> signals;
  for (int a = 0; a < 10; ++a) {
    for (const char* name : {"current", "vibration_rms", "winding_temp", "bearing_temp_de"}) {
      signals.push_back(Spindle("l1-sp-" + std::to_string(a), name));
    }
  }
  for (const auto& s : signals) ASSERT_TRUE(cat->Observe(s).ok());
  const CatalogStats before = cat->stats();
  EXPECT_EQ(before.signals_added, 40u);

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100'000; ++i) {
    Status st = cat->Observe(signals[static_cast<size_t>(i) % signals.size()]);
    if (!st.ok()) FAIL() << st.ToString();
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  const CatalogStats after = cat->stats();
  EXPECT_EQ(after.write_transactions, before.write_transactions);
  EXPECT_EQ(after.observe_unchanged, before.observe_unchanged + 100'000);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(elapsed.count(), 100) << "100,000 cached Observe calls took " << elapsed.count()
                                  << " ms";
#endif
  std::cout << "[ perf     ] 100,000 cached Observe calls: " << elapsed.count() << " ms\n";
}

TEST_F(CatalogTest, LastSeenMovesAtMostOncePerResolution) {
  auto cat = Open(CatalogOptions{.last_seen_resolution = std::chrono::seconds(60)});
  const TimePoint t0 = clock_.Now();
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  const uint64_t writes = cat->stats().write_transactions;
  clock_.Advance(std::chrono::seconds(59));
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  EXPECT_EQ(cat->stats().write_transactions, writes);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  EXPECT_EQ(cat->stats().write_transactions, writes + 1);
  EXPECT_EQ(cat->stats().last_seen_updates, 1u);
  auto rec = cat->GetSignal("l1-sp-01", "current");
  EXPECT_EQ(rec->first_seen, t0);
  EXPECT_EQ(rec->last_seen, t0 + std::chrono::seconds(61));
}

TEST_F(CatalogTest, ChangedContextEdgeOrFirmwareIsRewritten) {
  auto cat = Open();
  ASSERT_TRUE(
      cat
          ->SetRules(MustParse(
              "rules:\n  - {name: old-fw, match: {firmware: \"1.*\"}, tags: {patch: needed}}\n"))
          .ok());
  ObservedSignal s = Spindle("l1-sp-01", "current");
  s.firmware = "1.9";
  ASSERT_TRUE(cat->Observe(s).ok());
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "current")->at("patch"), "needed");

  // No firmware reported: the last one is kept, nothing is written.
  s.firmware.clear();
  const uint64_t writes = cat->stats().write_transactions;
  ASSERT_TRUE(cat->Observe(s).ok());
  EXPECT_EQ(cat->stats().write_transactions, writes);
  EXPECT_EQ(cat->GetSignal("l1-sp-01", "current")->firmware, "1.9");

  // A new firmware: re-tagged by the rules too.
  s.firmware = "2.0";
  ASSERT_TRUE(cat->Observe(s).ok());
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "current")->at("firmware"), "2.0");
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "current")->count("patch"), 0u);

  // Moved to another edge, with a new unit and a changed free tag.
  s.firmware.clear();
  s.edge = "edge-l1b";
  s.unit = "mA";
  s.tags["criticality"] = "medium";
  s.tags.erase("manufacturer");
  ASSERT_TRUE(cat->Observe(s).ok());
  auto t = cat->SignalTags("l1-sp-01", "current");
  EXPECT_EQ(t->at("edge"), "edge-l1b");
  EXPECT_EQ(t->at("unit"), "mA");
  EXPECT_EQ(t->at("criticality"), "medium");
  EXPECT_EQ(t->at("firmware"), "2.0");
  EXPECT_EQ(t->count("manufacturer"), 0u);
  EXPECT_EQ(cat->stats().signals_changed, 2u);
  auto lineage = cat->Lineage(SignalRef("l1-sp-01", "current"));
  ASSERT_EQ(lineage->size(), 1u);
  EXPECT_EQ(lineage->front().how, "ingested by weft-core from edge edge-l1b");
}

TEST_F(CatalogTest, TablesColumnsAndTheirTags) {
  auto cat = Open();
  TableDef telemetry{.name = "telemetry",
                     .location = "/var/lib/weft/lake/telemetry",
                     .description = "one row per sample",
                     .owner_domain = "platform",
                     .columns = {{"date", "date", "partition"},
                                 {"ts", "timestamp", ""},
                                 {"asset", "string", ""},
                                 {"value", "double", ""}}};
  ASSERT_TRUE(cat->RegisterTable(telemetry).ok());
  ASSERT_TRUE(cat->RegisterTable({.name = "events", .location = "/lake/events"}).ok());

  auto tables = cat->ListTables();
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->size(), 2u);
  EXPECT_EQ((*tables)[0].name, "events");
  EXPECT_EQ((*tables)[1].location, "/var/lib/weft/lake/telemetry");
  EXPECT_EQ((*tables)[1].owner_domain, "platform");
  auto columns = cat->ListColumns("telemetry");
  ASSERT_TRUE(columns.ok());
  ASSERT_EQ(columns->size(), 4u);
  EXPECT_EQ((*columns)[0].name, "date");
  EXPECT_EQ((*columns)[0].description, "partition");
  EXPECT_EQ((*columns)[3].name, "value");
  EXPECT_EQ((*columns)[3].type, "double");
  EXPECT_EQ((*columns)[3].position, 3);
  EXPECT_EQ(cat->EffectiveTags(TableRef("telemetry"))->at("owner_domain"), "platform");
  EXPECT_EQ(cat->EffectiveTags(ColumnRef("telemetry", "value"))->at("owner_domain"), "platform");
  EXPECT_TRUE(cat->EffectiveTags(TableRef("events"))->empty());
  EXPECT_EQ(cat->ListColumns("nope").status().code(), StatusCode::kNotFound);

  // Manual tags on a column; re-registering without that column drops it and its tags.
  ASSERT_TRUE(cat->SetTag(ColumnRef("telemetry", "value"), "pii", "no").ok());
  ASSERT_TRUE(cat->SetTag(ColumnRef("telemetry", "asset"), "pii", "no").ok());
  EXPECT_EQ(cat->SetTag(ColumnRef("telemetry", "nope"), "pii", "no").code(), StatusCode::kNotFound);
  telemetry.columns.pop_back();
  telemetry.owner_domain = "data";
  ASSERT_TRUE(cat->RegisterTable(telemetry).ok());
  EXPECT_EQ(cat->ListColumns("telemetry")->size(), 3u);
  EXPECT_TRUE(cat->TagsOf(ColumnRef("telemetry", "value"))->empty());
  EXPECT_EQ(cat->EffectiveTags(ColumnRef("telemetry", "asset"))->at("pii"), "no");
  EXPECT_EQ(cat->EffectiveTags(TableRef("telemetry"))->at("owner_domain"), "data");

  EXPECT_EQ(cat->RegisterTable({.name = "a.b"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      cat->RegisterTable({.name = "t", .columns = {{"x", "int", ""}, {"x", "int", ""}}}).code(),
      StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, ModelsAndLineage) {
  auto cat = Open();
  ASSERT_TRUE(cat->ObserveModel("spindle-bearing", "3").ok());
  ASSERT_TRUE(cat->ObserveModel("spindle-bearing", "3").ok());
  ASSERT_TRUE(cat->ObserveModel("spindle-bearing", "4").ok());
  EXPECT_EQ(cat->stats().models_added, 2u);
  auto models = cat->ListModels();
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[1].version, "4");
  EXPECT_EQ((*models)[1].first_seen, clock_.Now());
  EXPECT_THAT(*cat->EffectiveTags(ModelRef("spindle-bearing", "4")),
              ElementsAre(Pair("model", "spindle-bearing"), Pair("model_version", "4")));
  EXPECT_EQ(cat->ObserveModel("a@b", "1").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cat->ObserveModel("m", "").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  ASSERT_TRUE(cat->AddLineage({TableRef("telemetry"), ViewRef("motor_health"),
                               "schema-on-read view (views.yaml)"})
                  .ok());
  auto down = cat->Lineage(TableRef("telemetry"), LineageDirection::kDownstream);
  ASSERT_TRUE(down.ok());
  EXPECT_THAT(*down, ElementsAre(LineageEdge{TableRef("telemetry"), ViewRef("motor_health"),
                                             "schema-on-read view (views.yaml)"}));
  auto up = cat->Lineage(TableRef("telemetry"), LineageDirection::kUpstream);
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ(up->front().upstream, SignalRef("l1-sp-01", "current"));
  EXPECT_EQ(cat->Lineage(TableRef("telemetry"))->size(), 2u);
  auto preds = cat->Lineage(TableRef("predictions"), LineageDirection::kUpstream);
  ASSERT_EQ(preds->size(), 2u);
  EXPECT_EQ(preds->front().upstream, ModelRef("spindle-bearing", "3"));

  // Same ends again: the description is updated, not duplicated.
  ASSERT_TRUE(cat->AddLineage({TableRef("telemetry"), ViewRef("motor_health"), "v2"}).ok());
  EXPECT_EQ(cat->Lineage(ViewRef("motor_health"))->front().how, "v2");
  EXPECT_EQ(cat->AddLineage({TableRef(""), ViewRef("x"), ""}).code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, ReopenKeepsEverythingAndTheCache) {
  {
    auto cat = Open();
    ASSERT_TRUE(cat->SetRules(MustParse("rules:\n  - {name: e, match: {quantity: power}, tags: "
                                        "{sensitivity: restricted}}\n"))
                    .ok());
    ASSERT_TRUE(cat->RegisterTable({.name = "telemetry",
                                    .location = "/lake/telemetry",
                                    .columns = {{"ts", "timestamp", ""}}})
                    .ok());
    ObservedSignal s = Spindle("l1-sp-01", "power", "power");
    s.firmware = "2.1";
    ASSERT_TRUE(cat->Observe(s).ok());
    ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
    ASSERT_TRUE(cat->ObserveModel("m", "1").ok());
    ASSERT_TRUE(cat->SetTag(SignalRef("l1-sp-01", "current"), "note", "spare").ok());
  }
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ(cat->ListTables()->size(), 1u);
  EXPECT_EQ(cat->ListColumns("telemetry")->size(), 1u);
  EXPECT_EQ(cat->ListModels()->size(), 1u);
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "power")->at("sensitivity"), "restricted");
  EXPECT_EQ(cat->SignalTags("l1-sp-01", "current")->at("note"), "spare");
  EXPECT_THAT(Keys(*cat->FindSignals({{"sensitivity", "restricted"}})),
              ElementsAre("l1-sp-01/power"));
  EXPECT_EQ(cat->Lineage(SignalRef("l1-sp-01", "power"))->size(), 1u);

  // The cache is loaded: observing the same signals (firmware not reported) writes nothing, nor
  // do the same rules or an already known model.
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "power", "power")).ok());
  ASSERT_TRUE(cat->Observe(Spindle("l1-sp-01", "current")).ok());
  ASSERT_TRUE(cat->ObserveModel("m", "1").ok());
  ASSERT_TRUE(
      cat
          ->SetRules(MustParse(
              "rules:\n  - {name: e, match: {quantity: power}, tags: {sensitivity: restricted}}\n"))
          .ok());
  EXPECT_EQ(cat->stats().write_transactions, 0u);
  EXPECT_EQ(cat->stats().retags, 0u);
  EXPECT_EQ(cat->GetSignal("l1-sp-01", "power")->firmware, "2.1");
}

TEST_F(CatalogTest, NewerSchemaAndNonDatabaseFilesAreRefused) {
  const std::string path = dir_.File("catalog.db");
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto newer = Catalog::Open(path, &clock_);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(newer.status().message(), HasSubstr("schema version 99"));

  const std::string junk = dir_.File("junk.db");
  std::ofstream(junk) << std::string(4096, 'x');
  auto bad = Catalog::Open(junk, &clock_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Catalog::Open(path, nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, NewFileIsPrivate) {
  ASSERT_NE(Open(), nullptr);
  const auto perms = std::filesystem::status(dir_.File("catalog.db")).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

TEST_F(CatalogTest, ConcurrentObserveAndQueries) {
  auto cat = Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        EXPECT_TRUE(
            cat->Observe(Spindle("a" + std::to_string(t), "s" + std::to_string(i % 20))).ok());
        if (i % 50 == 0) {
          EXPECT_TRUE(cat->FindSignals({{"site", "lyon"}}).ok());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cat->FindSignals({{"site", "lyon"}})->size(), 80u);
  EXPECT_EQ(cat->stats().signals_added, 80u);
}

TEST(EntityRefTest, KeysAndKinds) {
  EXPECT_EQ(SignalRef("a", "b").key, "a/b");
  EXPECT_EQ(ColumnRef("t", "c").key, "t.c");
  EXPECT_EQ(ModelRef("m", "2").key, "m@2");
  EXPECT_EQ(ToString(TableRef("telemetry")), "table telemetry");
  for (EntityKind k : {EntityKind::kTable, EntityKind::kColumn, EntityKind::kSignal,
                       EntityKind::kModel, EntityKind::kView}) {
    EXPECT_EQ(*ParseEntityKind(EntityKindName(k)), k);
  }
  EXPECT_FALSE(ParseEntityKind("tabel").ok());
}

}  // namespace
}  // namespace weft::core::catalog
