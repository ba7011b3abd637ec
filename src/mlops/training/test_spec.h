// The small acceptance spec the training tests share: small enough for a unit test, large
// enough that held-out runs hold both kinds; wear_rate is raised so that every bearing-wear run
// fails within 10 days. ("current" has no `last` stat: the model card gives it no raw reference.)
#ifndef WEFT_MLOPS_TRAINING_TEST_SPEC_H_
#define WEFT_MLOPS_TRAINING_TEST_SPEC_H_

namespace weft::mlops::test_specs {

inline constexpr char kSmallSpec[] = R"(name: bearing_risk
asset_type: motor
output: failure_risk
task: failure_within_horizon
horizon: 48h
window: 32
features:
  - {signal: vibration_rms, stats: [last, mean, max, slope]}
  - {signal: bearing_temp_de, stats: [last, mean, slope]}
  - {signal: winding_temp, stats: [last]}
  - {signal: current, stats: [mean]}
monotone: {vibration_rms: increasing, bearing_temp_de: increasing}
scenarios:
  twin: {model: motor, params: {wear_rate: 1.2e-6}, vary: {vibration_baseline: [0.9, 1.6]}}
  runs: 32
  seed: 7
  duration: 10d
  row_every: 10m
  fault_fraction: 0.7
  severity: [0.6, 1.0]
  fault_start: [0, 2d]
  load: [0.4, 1.0]
  ambient_temp: [10, 35]
  sensor_drift: {fraction: 0.3, signal: vibration_rms, rate: [0.5, 2.0]}
holdout: {fraction: 0.4, seed: 1}
xgboost: {rounds: 80, max_depth: 4, eta: 0.15, subsample: 0.8}
threshold: 0.5
)";

}  // namespace weft::mlops::test_specs

#endif  // WEFT_MLOPS_TRAINING_TEST_SPEC_H_
