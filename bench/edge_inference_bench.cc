// Edge inference latency: Weft's native tree evaluator vs XGBoost's own single-row predict.
//
//   ./build/bench/edge_inference_bench [calls]          (default 100000)
//
// A binary:logistic model of 100 trees, max_depth 6, on 32 features is trained through the C
// API on generated data. Each call extracts 32 features from a FeatureWindow (8 signals x
// {last, mean, std, slope}, 32 values each; a new value is pushed before each call, outside the
// timing) and predicts:
//   native   FeatureWindow::Extract + TreeModel::Predict
//   xgboost  FeatureWindow::Extract + XGDMatrixCreateFromMat(1 row) + XGBoosterPredict
//            (XgboostRunner, nthread=1)
// Percentiles are exact (every call timed with steady_clock, then sorted). The two outputs are
// compared on every call. Exit status 1 when they disagree by more than 1e-5 or the native p99
// exceeds 25 µs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "edge/inference/features.h"
#include "edge/inference/tree_model.h"
#include "edge/inference/xgboost_runner.h"
#include "edge/inference/xgboost_train.h"

namespace {

using weft::edge::inference::FeatureWindow;
using weft::edge::inference::ModelRunner;
using weft::edge::inference::Stat;

struct Summary {
  double p50_us = 0, p99_us = 0, p999_us = 0, mean_us = 0, max_us = 0;
};

Summary Summarise(std::vector<uint64_t> ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double p) {
    size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(ns.size()))) - 1;
    return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1000.0;
  };
  double sum = 0;
  for (uint64_t v : ns) sum += static_cast<double>(v);
  return {at(0.50), at(0.99), at(0.999), sum / static_cast<double>(ns.size()) / 1000.0,
          static_cast<double>(ns.back()) / 1000.0};
}

// Times `calls` predictions by `runner`, each after pushing a new value into the window.
std::vector<uint64_t> Run(const ModelRunner& runner, FeatureWindow& window, size_t calls,
                          uint64_t seed, std::vector<float>* outputs) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> features(window.num_features());
  std::vector<uint64_t> ns(calls);
  outputs->resize(calls);
  int64_t ts = 0;
  for (size_t i = 0; i < calls; ++i) {
    ts += 100'000;
    window.Push(i % window.num_signals(), ts, u(rng));
    auto start = std::chrono::steady_clock::now();
    window.Extract(features);
    weft::Result<float> p = runner.Predict(features);
    auto end = std::chrono::steady_clock::now();
    ns[i] = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    (*outputs)[i] = p.ok() ? *p : NAN;
  }
  return ns;
}

FeatureWindow MakeWindow() {
  std::vector<std::vector<Stat>> stats(8, {Stat::kLast, Stat::kMean, Stat::kStd, Stat::kSlope});
  FeatureWindow w(stats, 32);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 32; ++i) {
    for (size_t s = 0; s < 8; ++s) w.Push(s, i * 100'000, u(rng));
  }
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace weft::edge::inference;
  size_t calls = argc > 1 ? static_cast<size_t>(std::strtoull(argv[1], nullptr, 10)) : 100'000;
  if (calls == 0) calls = 100'000;
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("weft_inference_bench_" + std::to_string(::getpid())))
                        .string();
  std::filesystem::create_directories(dir);
  std::string path = dir + "/model.json";
  TrainSpec spec{.objective = "binary:logistic",
                 .rows = 20'000,
                 .features = 32,
                 .rounds = 100,
                 .max_depth = 6,
                 .missing_fraction = 0.05};
  auto t0 = std::chrono::steady_clock::now();
  weft::Result<std::string> trained = TrainXgboostModel(spec, path);
  if (!trained.ok()) {
    std::fprintf(stderr, "training failed: %s\n", trained.status().ToString().c_str());
    return 2;
  }
  auto native = TreeModel::Load(path, "bench", "1");
  auto xgb = XgboostRunner::Load(path, "bench", "1");
  if (!native.ok() || !xgb.ok()) {
    std::fprintf(stderr, "load failed: %s %s\n", native.status().ToString().c_str(),
                 xgb.status().ToString().c_str());
    return 2;
  }
  std::printf("model: %zu trees, %zu nodes (flat), %zu features, trained in %.1f s\n",
              (*native)->num_trees(), (*native)->num_nodes(), (*native)->num_features(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  std::vector<float> out_native, out_xgb;
  FeatureWindow w1 = MakeWindow();
  std::vector<float> warm;
  Run(**native, w1, 1000, 99, &warm);  // warm caches
  FeatureWindow w2 = MakeWindow();
  Summary n = Summarise(Run(**native, w2, calls, 7, &out_native));
  FeatureWindow w3 = MakeWindow();
  Summary x = Summarise(Run(**xgb, w3, calls, 7, &out_xgb));

  double max_diff = 0;
  for (size_t i = 0; i < calls; ++i) {
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(out_native[i] - out_xgb[i])));
  }
  std::printf("%zu calls each, feature extraction (8 signals x 4 stats, window 32) + predict\n",
              calls);
  std::printf("%-30s %9s %9s %9s %9s %9s\n", "", "p50 us", "p99 us", "p99.9 us", "mean us",
              "max us");
  std::printf("%-30s %9.2f %9.2f %9.2f %9.2f %9.1f\n", "native TreeModel", n.p50_us, n.p99_us,
              n.p999_us, n.mean_us, n.max_us);
  std::printf("%-30s %9.2f %9.2f %9.2f %9.2f %9.1f\n", "xgboost DMatrix+Predict", x.p50_us,
              x.p99_us, x.p999_us, x.mean_us, x.max_us);
  std::printf("ratio xgboost/native: p50 %.1fx, p99 %.1fx\n", x.p50_us / n.p50_us,
              x.p99_us / n.p99_us);
  std::printf("max |native - xgboost| over all calls: %.3g\n", max_diff);
  std::printf("target native p99 < 25 us: %s\n", n.p99_us < 25.0 ? "met" : "NOT MET");
  std::filesystem::remove_all(dir);
  return (max_diff <= 1e-5 && n.p99_us < 25.0) ? 0 : 1;
}
