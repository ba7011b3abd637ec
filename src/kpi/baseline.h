// Energy baseline of an HVAC zone (or a site) in the manner of ASHRAE Guideline 14: a
// weather- and occupancy-normalised regression fitted on the periods the optimiser did not run,
// its goodness of fit (CV(RMSE), NMBE), and the energy, carbon and money saved in the periods it
// did run ("optimised HVAC cycles"): savings = baseline prediction − actual.
//
//   std::vector<BaselinePeriod> days = ...;   // one per day: kWh, HDD, occupancy, optimised?
//   BaselineOptions opt{.granularity = Granularity::kDaily, .energy_price_per_kwh = 0.19,
//                       .grid_carbon_kg_per_kwh = 0.056};
//   WEFT_ASSIGN_OR_RETURN(BaselineReport r, BaselineSavings(days, opt));
//   r.fit.cv_rmse_pct; r.fit.meets_criteria; r.total.savings_kwh; r.total.carbon_kg;
//
// Model: ordinary least squares  ŷ = b0 + b1·HDD + b2·occupancy  over the baseline periods
// (optimised == false); with use_occupancy = false, ŷ = b0 + b1·HDD. p = the number of
// coefficients (3 or 2), n = the number of baseline periods. The normal equations are solved
// with the regressors centred on their means (better conditioned), b0 = ȳ − b1·x̄1 − b2·x̄2.
// FailedPrecondition, naming the cause, when n <= p, when a regressor is constant over the
// baseline periods, or when HDD and occupancy are collinear (the equations are singular).
//
// Goodness of fit (G14, with y the measured and ŷ the predicted energy of baseline periods):
//   CV(RMSE) = sqrt(Σ(y − ŷ)² / (n − p)) / ȳ × 100 %
//   NMBE     = Σ(y − ŷ) / ((n − p) · ȳ) × 100 %
//   R²       = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²   (nullopt when every y is equal)
// CV(RMSE) and NMBE are nullopt when ȳ <= 0. An OLS fit with an intercept has residuals that sum
// to zero, so the in-sample NMBE is 0 up to rounding; it is reported because G14 asks for it.
// Criteria (G14 calibration limits): monthly data CV(RMSE) <= 15 % and |NMBE| <= 5 %; hourly
// data CV(RMSE) <= 30 % and |NMBE| <= 10 %. G14 states no limits for daily data; for daily
// periods we apply the hourly limits, because they are G14's limits for interval (sub-monthly)
// data, and the per-period noise of a daily total is far above that of a monthly total, which the
// monthly limits assume. The limits can be overridden (options).
//
// Savings, per optimised period: baseline_kwh = ŷ(HDD, occupancy), savings_kwh = baseline_kwh −
// actual_kwh (negative when the period used more), carbon_kg = savings × grid factor, money =
// savings × energy price. Totals add the periods.
//
// Fractional savings uncertainty (G14 Annex B, approximate; reported, never used in decisions):
//   FSU = t · 1.26 · CV · sqrt((n / n') · (1 + 2/n) · (1/m)) / F
// with CV = CV(RMSE) as a fraction, m = the number of optimised periods, F = Σ savings / Σ
// baseline over them, n' = n·(1 − ρ)/(1 + ρ) with ρ the lag-1 autocorrelation of the baseline
// residuals (in period order; n' = n when ρ <= 0), and t = options.t_statistic (default 1.0,
// about 68 % confidence for many degrees of freedom, the level G14 quotes its 50 % rule at).
// nullopt when m = 0, F <= 0 or CV is undefined.
//
// Degree days. Heating degree hours of a period from an outdoor-temperature step series:
//   HDH = ∫ max(0, T_balance − T(t)) dt   over the covered time of [start, end), in K·h,
// where T(t) holds from a point until the next point but no longer than stale_after_us, and
// time without a value is not covered (reported as coverage, never counted). Degree days =
// HDH / 24. From a period's mean temperature instead: HDD = max(0, T_balance − T_mean) · days (this
// under-counts periods whose temperature crosses the balance point).
//
// Thread-safety: pure functions over values.
#ifndef WEFT_KPI_BASELINE_H_
#define WEFT_KPI_BASELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace weft::kpi {

//! One period (an hour, a day, a month) of a zone's or site's energy use and its drivers.
struct BaselinePeriod {
  int64_t start_us = 0, end_us = 0;
  double energy_kwh = 0;   //!< measured energy use in the period
  double hdd = 0;          //!< heating degree hours or days (the same for every period)
  double occupancy = 0;    //!< person-hours or mean occupancy (the same for every period)
  bool optimised = false;  //!< the optimiser ran: a reporting period, not a baseline period
};

enum class Granularity { kHourly, kDaily, kMonthly };

struct BaselineOptions {
  //! Chooses the G14 limits (daily uses the hourly limits, see above).
  Granularity granularity = Granularity::kDaily;
  double energy_price_per_kwh = 0;    //!< economics.energy_price_per_kwh
  double grid_carbon_kg_per_kwh = 0;  //!< economics.grid_carbon_kg_per_kwh
  //! false: ŷ = b0 + b1·HDD (e.g. when occupancy is not measured).
  bool use_occupancy = true;
  double t_statistic = 1.0;                   //!< for the fractional savings uncertainty
  std::optional<double> cv_rmse_limit_pct{};  //!< overrides the granularity's limit
  std::optional<double> nmbe_limit_pct{};     //!< overrides the granularity's limit
};

struct BaselineFit {
  double b0 = 0, b1 = 0, b2 = 0;  //!< intercept (kWh), per HDD unit, per occupancy unit
  size_t n = 0, p = 0;
  double mean_kwh = 0;  //!< ȳ
  double rmse_kwh = 0;  //!< sqrt(SSE / (n − p))
  std::optional<double> r2{};
  std::optional<double> cv_rmse_pct{};
  std::optional<double> nmbe_pct{};
  double rho = 0;  //!< lag-1 autocorrelation of the residuals, 0 when undefined
  double cv_rmse_limit_pct = 0, nmbe_limit_pct = 0;
  bool meets_criteria = false;  //!< CV(RMSE) and |NMBE| within the limits (both defined)
  //! e.g. "CV(RMSE) 12.3% <= 30% and |NMBE| 0.0% <= 10% (daily data: G14 hourly limits)".
  std::string criteria{};

  //! ŷ for the given drivers.
  double Predict(double hdd, double occupancy) const { return b0 + b1 * hdd + b2 * occupancy; }
};

struct SavingsPeriod {
  int64_t start_us = 0, end_us = 0;
  double baseline_kwh = 0, actual_kwh = 0, savings_kwh = 0, carbon_kg = 0, money = 0;
};

struct SavingsTotal {
  size_t periods = 0;
  double baseline_kwh = 0, actual_kwh = 0, savings_kwh = 0, carbon_kg = 0, money = 0;
  std::optional<double> savings_fraction{};                //!< savings / baseline; nullopt if 0
  std::optional<double> fractional_savings_uncertainty{};  //!< FSU, see above
};

struct BaselineReport {
  BaselineFit fit{};
  std::vector<SavingsPeriod> periods{};  //!< the optimised periods, in input order
  SavingsTotal total{};
};

//! Fits the model on the non-optimised periods of `periods` (see above).
//! InvalidArgument for a non-finite input or end <= start; FailedPrecondition when the fit is
//! impossible (too few periods, constant or collinear regressors).
Result<BaselineFit> FitBaseline(const std::vector<BaselinePeriod>& periods,
                                const BaselineOptions& options);

//! FitBaseline, then the savings of the optimised periods and their totals.
Result<BaselineReport> BaselineSavings(const std::vector<BaselinePeriod>& periods,
                                       const BaselineOptions& options);

//! The G14 limits (CV(RMSE) %, |NMBE| %) for a granularity: monthly 15/5, hourly and daily 30/10.
std::pair<double, double> Guideline14Limits(Granularity g);

//! An outdoor-temperature sample (°C) at ts_us.
struct TemperaturePoint {
  int64_t ts_us = 0;
  double celsius = 0;  //!< a non-finite value means "no value" until the next point
};

struct DegreeHours {
  double degree_hours = 0;  //!< K·h over the covered time
  double covered_s = 0;     //!< seconds of [start, end) with a value
  double coverage = 0;      //!< covered_s / (end − start)
};

//! Heating degree hours of [start_us, end_us) below `balance_c` from a step series sorted by
//! ts_us (see above). InvalidArgument when end <= start, the points are not sorted, or
//! stale_after_us <= 0.
Result<DegreeHours> HeatingDegreeHours(const std::vector<TemperaturePoint>& points,
                                       int64_t start_us, int64_t end_us, double balance_c,
                                       int64_t stale_after_us);

//! max(0, balance_c − mean_c) · days: the mean-temperature method.
double HeatingDegreeDaysFromMean(double mean_c, double balance_c, double days);

}  // namespace weft::kpi

#endif  // WEFT_KPI_BASELINE_H_
