// Fuzz target: TreeModel::Parse on arbitrary bytes must return a model or an error, never crash;
// a model that loads must predict (with present and missing features) without faults.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "edge/inference/tree_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = weft::edge::inference::TreeModel::Parse(text, "fuzz", "0");
  if (!m.ok()) return 0;
  const auto& model = *m.value();
  if (model.num_features() > 4096) return 0;
  std::vector<float> f(model.num_features(), 0.5f);
  volatile float sink = model.PredictUnchecked(f.data());
  for (size_t i = 0; i < f.size(); i += 2) f[i] = std::numeric_limits<float>::quiet_NaN();
  sink = model.PredictUnchecked(f.data());
  (void)sink;
  return 0;
}
