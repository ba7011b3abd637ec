#include "edge/inference/tree_model.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "edge/inference/model_runner.h"
#include "edge/inference/xgboost_runner.h"
#include "edge/inference/xgboost_train.h"

namespace weft::edge::inference {
namespace {

using Json = nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "weft_inference_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void ExpectAgreesWithXgboost(const TrainSpec& spec) {
  TempDir dir;
  Result<std::string> path = TrainXgboostModel(spec, dir.File("m.json"));
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  Result<std::unique_ptr<TreeModel>> native = TreeModel::Load(*path, "m", "1");
  ASSERT_TRUE(native.ok()) << native.status().ToString();
  Result<std::unique_ptr<XgboostRunner>> ref = XgboostRunner::Load(*path, "m", "1");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_EQ((*native)->num_features(), static_cast<size_t>(spec.features));
  EXPECT_EQ((*native)->num_trees(), static_cast<size_t>(spec.rounds));
  EXPECT_EQ(TreeObjectiveName((*native)->objective()), spec.objective);

  constexpr int kRows = 1000;
  // Different seed from training, and more missing values, so default directions are exercised.
  std::vector<float> x = RandomRows(kRows, spec.features, 0.2, spec.seed + 100);
  int differing_outputs = 0;
  float previous = NAN;
  for (int i = 0; i < kRows; ++i) {
    std::span<const float> row(x.data() + static_cast<size_t>(i * spec.features),
                               static_cast<size_t>(spec.features));
    Result<float> a = (*native)->Predict(row);
    Result<float> b = (*ref)->Predict(row);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_NEAR(*a, *b, 1e-5) << "row " << i;
    if (*a != previous) ++differing_outputs;
    previous = *a;
  }
  EXPECT_GT(differing_outputs, kRows / 4) << "the model should not be constant";
}

TEST(TreeModel, AgreesWithXgboostBinaryLogistic) {
  ExpectAgreesWithXgboost({.objective = "binary:logistic",
                           .features = 8,
                           .rounds = 30,
                           .max_depth = 5,
                           .base_score = 0.5});
}

TEST(TreeModel, AgreesWithXgboostRegSquaredError) {
  ExpectAgreesWithXgboost({.objective = "reg:squarederror",
                           .features = 6,
                           .rounds = 25,
                           .max_depth = 6,
                           .base_score = 2.5,
                           .seed = 3});
}

TEST(TreeModel, AgreesWithXgboostBaseScoreAwayFromHalf) {
  ExpectAgreesWithXgboost({.objective = "binary:logistic",
                           .features = 5,
                           .rounds = 10,
                           .max_depth = 3,
                           .base_score = 0.2,
                           .seed = 5});
}

TEST(TreeModel, WrongFeatureCountIsAnError) {
  std::string text =
      ReadAll(std::string(WEFT_INFERENCE_TESTDATA_DIR) + "/fuzz_seeds/small_logistic.json");
  Result<std::unique_ptr<TreeModel>> m = TreeModel::Parse(text, "small", "1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<float> two = {0.1f, 0.2f};
  Result<float> p = (*m)->Predict(two);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("expected 3 features, got 2"), std::string::npos);
}

// ---- Refusals. Each starts from the small valid model and breaks one thing. ----

class TreeModelRefuses : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = Json::parse(
        ReadAll(std::string(WEFT_INFERENCE_TESTDATA_DIR) + "/fuzz_seeds/small_logistic.json"));
  }
  Json& tree0() { return good_["learner"]["gradient_booster"]["model"]["trees"][0]; }
  // The error message of parsing `j`; fails the test when it parses.
  std::string Refusal(const Json& j) {
    Result<std::unique_ptr<TreeModel>> m = TreeModel::Parse(j.dump(), "m", "1", "m.json");
    EXPECT_FALSE(m.ok());
    if (m.ok()) return "";
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    return m.status().message();
  }
  Json good_;
};

TEST_F(TreeModelRefuses, TheUnmodifiedModelLoads) {
  EXPECT_TRUE(TreeModel::Parse(good_.dump(), "m", "1").ok());
}

TEST_F(TreeModelRefuses, NotJson) {
  Result<std::unique_ptr<TreeModel>> m = TreeModel::Parse("{\"learner\": [1, 2", "m", "1", "x");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("x: not valid JSON"), std::string::npos)
      << m.status().message();
  EXPECT_FALSE(TreeModel::Parse("", "m", "1").ok());
  EXPECT_FALSE(TreeModel::Parse(std::string(1000, '['), "m", "1").ok());
  EXPECT_FALSE(TreeModel::Parse("[]", "m", "1").ok());
}

TEST_F(TreeModelRefuses, MissingFieldIsNamed) {
  tree0().erase("split_conditions");
  EXPECT_NE(Refusal(good_).find(
                "learner.gradient_booster.model.trees[0].split_conditions: missing field"),
            std::string::npos);
}

TEST_F(TreeModelRefuses, ArraysOfDifferentLengths) {
  tree0()["default_left"].erase(0);
  EXPECT_NE(Refusal(good_).find("trees[0].default_left: has 2 entries"), std::string::npos);
}

TEST_F(TreeModelRefuses, ChildOutOfRange) {
  tree0()["right_children"][0] = 7;
  EXPECT_NE(Refusal(good_).find("trees[0].right_children[0]: child index 7 is out of range"),
            std::string::npos);
  tree0()["right_children"][0] = -5;
  EXPECT_NE(Refusal(good_).find("child index -5"), std::string::npos);
}

TEST_F(TreeModelRefuses, CycleOrSharedChild) {
  tree0()["right_children"][0] = 1;  // both children of the root are node 1
  EXPECT_NE(Refusal(good_).find("reached twice"), std::string::npos);
  // A real cycle: node 1 points back to... node 2, which points to node 1.
  Json& t = tree0();
  t["left_children"] = {1, 2, 1};
  t["right_children"] = {2, 2, 1};
  EXPECT_NE(Refusal(good_).find("reached twice"), std::string::npos);
}

TEST_F(TreeModelRefuses, FeatureIndexBeyondNumFeature) {
  tree0()["split_indices"][0] = 3;  // num_feature is 3
  EXPECT_NE(Refusal(good_).find("trees[0].split_indices[0]: feature index 3 is out of range "
                                "(num_feature is 3)"),
            std::string::npos);
}

TEST_F(TreeModelRefuses, UnsupportedObjectiveAndBoosters) {
  Json j = good_;
  j["learner"]["objective"]["name"] = "multi:softprob";
  EXPECT_NE(Refusal(j).find("learner.objective.name: objective 'multi:softprob' is not "
                            "supported"),
            std::string::npos);
  j = good_;
  j["learner"]["gradient_booster"]["name"] = "gblinear";
  EXPECT_NE(Refusal(j).find("booster 'gblinear' is not supported"), std::string::npos);
  j = good_;
  j["learner"]["gradient_booster"]["name"] = "dart";
  EXPECT_NE(Refusal(j).find("booster 'dart' is not supported"), std::string::npos);
}

TEST_F(TreeModelRefuses, BadModelParams) {
  Json j = good_;
  j["learner"]["learner_model_param"]["base_score"] = "1.5";
  EXPECT_NE(Refusal(j).find("base_score: must be in (0, 1)"), std::string::npos);
  j = good_;
  j["learner"]["learner_model_param"].erase("num_feature");
  EXPECT_NE(Refusal(j).find("learner.learner_model_param.num_feature: missing field"),
            std::string::npos);
  j = good_;
  j["learner"]["learner_model_param"]["num_feature"] = "three";
  EXPECT_NE(Refusal(j).find("num_feature: expected a number, got 'three'"), std::string::npos);
  j = good_;
  j["learner"]["learner_model_param"]["num_class"] = "4";
  EXPECT_NE(Refusal(j).find("multi-class"), std::string::npos);
}

TEST_F(TreeModelRefuses, WrongTypesAndCategoricalSplits) {
  Json j = good_;
  j["learner"]["gradient_booster"]["model"]["trees"] = Json::object();
  EXPECT_NE(Refusal(j).find("model.trees: expected an array, got object"), std::string::npos);
  j = good_;
  j["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"][0] = 1;
  EXPECT_NE(Refusal(j).find("split_type[0]: categorical splits are not supported"),
            std::string::npos);
  j = good_;
  j["learner"]["gradient_booster"]["model"]["trees"][0]["default_left"][0] = "yes";
  EXPECT_NE(Refusal(j).find("default_left[0]: expected 0, 1, true or false"), std::string::npos);
  j = good_;
  j["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = -1;
  EXPECT_NE(Refusal(j).find("both children or none"), std::string::npos);
}

TEST(TreeModelLoad, Sha256IsCheckedAndMissingFileIsNotFound) {
  TempDir dir;
  std::string text =
      ReadAll(std::string(WEFT_INFERENCE_TESTDATA_DIR) + "/fuzz_seeds/small_logistic.json");
  std::string path = dir.File("m.json");
  WriteAll(path, text);
  std::string digest = Sha256Hex(text);
  ASSERT_EQ(digest.size(), 64u);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  Result<std::unique_ptr<TreeModel>> ok = TreeModel::Load(path, "m", "1.0.0", digest);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->Label(), "m@1.0.0");
  std::string upper = digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(TreeModel::Load(path, "m", "1.0.0", upper).ok());

  std::string wrong = digest;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  Result<std::unique_ptr<TreeModel>> bad = TreeModel::Load(path, "m", "1.0.0", wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("sha256 mismatch"), std::string::npos);
  EXPECT_EQ(TreeModel::Load(path, "m", "1", "xyz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TreeModel::Load(dir.File("nope.json"), "m", "1").status().code(),
            StatusCode::kNotFound);
}

// ---- ModelSlot: a swap under load never tears a prediction. ----

TEST(ModelSlot, SwapUnderLoadEachPredictionFromOneVersion) {
  TempDir dir;
  TrainSpec a{.objective = "binary:logistic", .features = 6, .rounds = 15, .seed = 11};
  TrainSpec b{.objective = "reg:squarederror", .features = 6, .rounds = 15, .seed = 12};
  ASSERT_TRUE(TrainXgboostModel(a, dir.File("a.json")).ok());
  ASSERT_TRUE(TrainXgboostModel(b, dir.File("b.json")).ok());
  auto va = TreeModel::Load(dir.File("a.json"), "m", "a");
  auto vb = TreeModel::Load(dir.File("b.json"), "m", "b");
  ASSERT_TRUE(va.ok() && vb.ok());
  std::shared_ptr<const TreeModel> model_a = std::move(va).value();
  std::shared_ptr<const TreeModel> model_b = std::move(vb).value();

  std::vector<float> rows = RandomRows(64, 6, 0.1, 99);
  std::vector<float> want_a, want_b;
  for (size_t i = 0; i < 64; ++i) {
    want_a.push_back(model_a->PredictUnchecked(rows.data() + i * 6));
    want_b.push_back(model_b->PredictUnchecked(rows.data() + i * 6));
  }

  ModelSlot slot(model_a);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, seen_a{0}, seen_b{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      size_t i = 0;
      while (!stop.load()) {
        std::shared_ptr<const ModelRunner> r = slot.Get();
        size_t row = i++ % 64;
        Result<float> p = r->Predict(std::span<const float>(rows.data() + row * 6, 6));
        bool is_a = r->version() == "a";
        float want = is_a ? want_a[row] : want_b[row];
        if (!p.ok() || *p != want) torn.fetch_add(1);
        (is_a ? seen_a : seen_b).fetch_add(1);
      }
    });
  }
  // Swap back and forth to freshly parsed models, so the version swapped out is freed while
  // readers may still be predicting with it (ASan would see a use after free).
  const std::string text_a = ReadAll(dir.File("a.json"));
  const std::string text_b = ReadAll(dir.File("b.json"));
  for (int k = 0; k < 300; ++k) {
    bool to_b = k % 2 == 0;
    auto next = TreeModel::Parse(to_b ? text_b : text_a, "m", to_b ? "b" : "a");
    if (!next.ok()) {
      ADD_FAILURE() << next.status().ToString();
      break;
    }
    slot.Swap(std::shared_ptr<const ModelRunner>(std::move(next).value()));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(seen_a.load(), 0);
  EXPECT_GT(seen_b.load(), 0);
}

}  // namespace
}  // namespace weft::edge::inference
