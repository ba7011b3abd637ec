// Engineering units of the plant model: parse unit expressions, convert values between units of the
// same dimension, and map the physical quantities a signal can declare to their dimensions.
//
//   WEFT_ASSIGN_OR_RETURN(Unit flow, ParseUnit("m3/h"));
//   WEFT_ASSIGN_OR_RETURN(Unit target, ParseUnit("L/min"));
//   WEFT_ASSIGN_OR_RETURN(double v, Convert(6.0, flow, target));         // v == 100
//   WEFT_ASSIGN_OR_RETURN(Dimension want, QuantityDimension("volumetric_flow"));
//   if (want != flow.dimension) { ... DescribeDimension(flow.dimension) ... }
//
// Unit grammar (symbols are case-sensitive: "mW" is milliwatt, "MW" megawatt):
//   unit     := "" | product | product "/" product | product "/(" product ")"
//   product  := factor { ("*" | "·" | "." | " ") factor }
//   factor   := symbol | symbol "^" ["-"|"+"] digits | symbol ["-"] digits
// Everything after the single "/" is the denominator ("W/m2*K" is W/(m²·K)). Trailing digits are an
// exponent only when symbol+digits is not itself a symbol ("m3" is m³, "g0" is standard gravity).
// "" and "1" are dimensionless with factor 1. Exponents are integers with 1 <= |e| <= 16, also for
// the combined exponent of each base; expressions are at most 128 bytes.
//
// Base dimensions: "length" (m), "mass" (kg), "time" (s), "current" (A), "temperature" (K),
// "amount" (mol), "luminous" (cd), "item" (counted things: unit, pcs, part, cycle, ...),
// "co2e" (kg CO2-equivalent) and one base per currency code ("EUR", "USD", "GBP", "CHF", "CNY",
// "JPY", "INR", "CAD", "AUD", "SEK", "PLN", "CZK"); currencies never convert into each other.
// Angles are dimensionless and counted in revolutions: rad = 1/(2π), so rad/s and rpm are both
// frequencies (rpm = 1/60 Hz). Steradian is dimensionless (lm = cd, lx = cd/m²).
//
// Temperatures: degC/°C and degF/°F are affine (carry an offset) only when the unit is that single
// symbol with exponent 1; inside a compound such as "degC/h" only the factor counts, i.e. the
// symbol denotes a temperature difference.
//
// Thread-safety: all functions are thread-safe; the symbol and quantity tables are immutable.
#ifndef WEFT_MODEL_UNITS_H_
#define WEFT_MODEL_UNITS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::model {

//! Integer exponents over named base dimensions. Invariant: no zero entries.
struct Dimension {
  std::map<std::string, int> exponents;

  //! True when there is no base with a non-zero exponent.
  bool dimensionless() const;
  //! Bases in name order joined by "·", exponent 1 omitted: "length^3·time^-1"; "dimensionless".
  std::string ToString() const;

  friend bool operator==(const Dimension&, const Dimension&) = default;
};

//! A parsed unit. value_in_SI = value * factor + offset.
struct Unit {
  std::string symbol;  // as written by the user, e.g. "m3/h"
  Dimension dimension;
  double factor = 1;
  double offset = 0;  // non-zero only for degC/°C/degF/°F used alone
};

//! Parses a unit expression (see the grammar above). InvalidArgument names the offending symbol and
//! the whole expression, with a hint when one is close:
//!   "unknown unit symbol 'kwh' in 'kwh'; did you mean 'kWh'?"
//! Also InvalidArgument for empty factors ("m**s", "/"), more than one '/', a missing or malformed
//! exponent ("m^", "m^x"), |exponent| > 16 or 0, control characters, invalid UTF-8, inputs longer
//! than 128 bytes. The returned Unit's symbol is `symbol` unchanged.
Result<Unit> ParseUnit(std::string_view symbol);

//! True when `a` and `b` have the same dimension (offsets do not matter).
bool Convertible(const Unit& a, const Unit& b);

//! `value` in unit `from` expressed in unit `to`. InvalidArgument when the units are not
//! convertible (the message names both units and their dimensions) or `to.factor` is not a finite
//! non-zero number. Converting between identical factors and offsets returns `value` unchanged.
Result<double> Convert(double value, const Unit& from, const Unit& to);

//! The dimension of a physical quantity a signal can declare, e.g. "pressure", "volumetric_flow".
//! InvalidArgument "unknown quantity 'x'; expected one of: ...; did you mean '...'?" otherwise.
//! Names are exact (lower case, snake_case).
Result<Dimension> QuantityDimension(std::string_view quantity);

//! All quantity names accepted by QuantityDimension, sorted.
const std::vector<std::string>& KnownQuantities();

//! A readable name for `d`: "dimensionless" when it has no bases, else the preferred quantity with
//! that dimension ("pressure" for bar; "energy", not "torque", for J; "temperature" for K), else
//! d.ToString().
std::string DescribeDimension(const Dimension& d);

//! All unit symbols ParseUnit knows (without exponents), sorted bytewise.
const std::vector<std::string>& KnownUnitSymbols();

}  // namespace weft::model

#endif  // WEFT_MODEL_UNITS_H_
