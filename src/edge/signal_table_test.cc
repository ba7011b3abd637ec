#include "edge/signal_table.h"

#include <gtest/gtest.h>

#include "testing/example_plant.h"

namespace weft::edge {
namespace {

TEST(SignalTable, WholePlantHasEverySignalWithContext) {
  const model::Plant& plant = testing::ExamplePlant();
  Result<SignalTable> t = SignalTable::FromPlant(plant, {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), plant.SignalCount());
  std::optional<SignalId> id = t->Find("l1-sp-01", "vibration_rms");
  ASSERT_TRUE(id.has_value());
  const SignalInfo& s = t->at(*id);
  EXPECT_EQ(s.id, *id);
  EXPECT_EQ(s.site, "lyon");
  EXPECT_EQ(s.line, "l1-machining");
  EXPECT_EQ(s.asset_type, "cnc_spindle");
  EXPECT_EQ(s.tags().at("manufacturer"), "DMG Mori");
  EXPECT_EQ(s.period, std::chrono::milliseconds(100));
  EXPECT_EQ(t->FindSparkplug("lyon", "edge-l1", "l1-sp-01",
                             s.signal_model->spec.source.sparkplug->metric),
            id);
  EXPECT_FALSE(t->Find("l1-sp-05", "vibration_rms").has_value()) << "missing on that asset";
}

TEST(SignalTable, ScopeSelectsBelowTheIdsGiven) {
  const model::Plant& plant = testing::ExamplePlant();
  Result<SignalTable> t = SignalTable::FromPlant(plant, {{"l2-assembly"}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (const SignalInfo& s : t->signals()) EXPECT_EQ(s.line, "l2-assembly");
  EXPECT_FALSE(t->Find("l1-sp-01", "vibration_rms").has_value());
  ASSERT_EQ(t->SparkplugNodes().size(), 1u);
  EXPECT_EQ(t->SparkplugNodes()[0], std::make_pair(std::string("lyon"), std::string("edge-l2")));
}

TEST(SignalTable, UnknownScopeIdIsNamed) {
  Result<SignalTable> t = SignalTable::FromPlant(testing::ExamplePlant(), {{"l9-nowhere"}});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("l9-nowhere"), std::string::npos);
}

TEST(SignalTable, JsonTopicsAndFields) {
  Result<SignalTable> t = SignalTable::FromPlant(testing::ExamplePlant(), {});
  ASSERT_TRUE(t.ok());
  std::vector<std::string> topics = t->JsonTopics();
  ASSERT_FALSE(topics.empty());
  size_t found = 0;
  for (const SignalInfo& s : t->signals()) {
    if (s.protocol != model::Protocol::kMqttJson) continue;
    EXPECT_EQ(
        t->FindJson(s.asset_model->connection.mqtt->topic, s.signal_model->spec.source.mqtt->field),
        s.id);
    ++found;
  }
  EXPECT_GT(found, 0u);
}

TEST(Names, QualityAndPriority) {
  EXPECT_EQ(QualityName(quality::kGood), "good");
  EXPECT_EQ(QualityName(quality::kOutOfRange | quality::kStuck), "out_of_range|stuck");
  EXPECT_EQ(PriorityName(Priority::kLow), "low");
}

}  // namespace
}  // namespace weft::edge
