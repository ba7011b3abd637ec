#include "kpi/oee.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace weft::kpi {
namespace {

constexpr double kUsPerS = 1e6;

std::optional<double> Ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

// Fills the ratios from the times and counts in `r`, given ideal × total and ideal × good (s).
// CombineOee has no single ideal cycle time and gets them from the losses instead:
//   ideal × total = run - performance loss, ideal × good = ideal × total - quality loss.
void FillRatios(double ideal_total, double ideal_good, OeeResult* r) {
  r->availability = Ratio(r->run_s, r->planned_s);
  r->performance = Ratio(ideal_total, r->run_s);
  r->quality = Ratio(r->good, r->total);
  r->oee = Ratio(ideal_good, r->planned_s);
  r->coverage = Ratio(r->shift_s - r->no_data_s, r->shift_s);
}

}  // namespace

Result<OeeResult> ComputeOee(const OeeInputs& in, int64_t start_us, int64_t end_us) {
  if (in.state == nullptr || in.good_count == nullptr || in.reject_count == nullptr) {
    return InvalidArgumentError(
        "OEE needs the output asset's state, good_count and reject_count series");
  }
  if (!std::isfinite(in.ideal_cycle_time_s) || in.ideal_cycle_time_s <= 0) {
    return InvalidArgumentError("OEE needs an ideal cycle time of more than 0 s, got " +
                                std::to_string(in.ideal_cycle_time_s));
  }
  WEFT_RETURN_IF_ERROR(CheckWindow(start_us, end_us, "OEE"));
  OeeResult r;
  r.start_us = start_us;
  r.end_us = end_us;
  r.shift_s = static_cast<double>(end_us - start_us) / kUsPerS;

  const std::array<const StepSeries*, 2> series = {in.state, in.down_reason};
  // Integer microseconds per category, converted once at the end (exact sums).
  int64_t no_data = 0, idle = 0, planned_stop = 0, run = 0;
  std::array<int64_t, 4> down{};  // 0 other, 1 jam, 2 electrical, 3 material shortage
  for (const MultiSegment& m : Overlay(series, start_us, end_us)) {
    const int64_t d = m.duration_us();
    const std::optional<double>& state = m.values[0];
    if (!state || (*state != 0 && *state != 1 && *state != 2)) {
      no_data += d;
    } else if (*state == 2) {
      run += d;
    } else if (*state == 1) {
      idle += d;
    } else {
      const std::optional<double>& reason = m.values[1];
      if (reason && *reason == 4) {
        planned_stop += d;
      } else if (reason && (*reason == 1 || *reason == 2 || *reason == 3)) {
        down[static_cast<size_t>(*reason)] += d;
      } else {
        down[0] += d;
      }
    }
  }
  auto s = [](int64_t us) { return static_cast<double>(us) / kUsPerS; };
  r.no_data_s = s(no_data);
  r.idle_s = s(idle);
  r.planned_stop_s = s(planned_stop);
  r.run_s = s(run);
  r.loss_other_down_s = s(down[0]);
  r.loss_jam_s = s(down[1]);
  r.loss_electrical_s = s(down[2]);
  r.loss_material_s = s(down[3]);
  r.down_s = s(down[0] + down[1] + down[2] + down[3]);
  r.planned_s = s(run + down[0] + down[1] + down[2] + down[3]);

  const CounterIncrease good = in.good_count->Increase(start_us, end_us);
  const CounterIncrease reject = in.reject_count->Increase(start_us, end_us);
  r.good = good.increase;
  r.reject = reject.increase;
  r.total = r.good + r.reject;
  r.counted_across_gap = good.counted_across_gap + reject.counted_across_gap;
  r.counter_resets = good.resets + reject.resets;
  r.loss_performance_s = r.run_s - in.ideal_cycle_time_s * r.total;
  r.loss_quality_s = in.ideal_cycle_time_s * r.reject;
  FillRatios(in.ideal_cycle_time_s * r.total, in.ideal_cycle_time_s * r.good, &r);
  return r;
}

OeeResult CombineOee(std::span<const OeeResult> parts) {
  OeeResult r;
  if (parts.empty()) return r;
  r.start_us = parts.front().start_us;
  r.end_us = parts.front().end_us;
  for (const OeeResult& p : parts) {
    r.start_us = std::min(r.start_us, p.start_us);
    r.end_us = std::max(r.end_us, p.end_us);
    r.shift_s += p.shift_s;
    r.no_data_s += p.no_data_s;
    r.idle_s += p.idle_s;
    r.planned_stop_s += p.planned_stop_s;
    r.planned_s += p.planned_s;
    r.run_s += p.run_s;
    r.down_s += p.down_s;
    r.loss_jam_s += p.loss_jam_s;
    r.loss_electrical_s += p.loss_electrical_s;
    r.loss_material_s += p.loss_material_s;
    r.loss_other_down_s += p.loss_other_down_s;
    r.loss_performance_s += p.loss_performance_s;
    r.loss_quality_s += p.loss_quality_s;
    r.good += p.good;
    r.reject += p.reject;
    r.total += p.total;
    r.counted_across_gap += p.counted_across_gap;
    r.counter_resets += p.counter_resets;
  }
  const double ideal_total = r.run_s - r.loss_performance_s;
  FillRatios(ideal_total, ideal_total - r.loss_quality_s, &r);
  return r;
}

}  // namespace weft::kpi
