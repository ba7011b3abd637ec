// Physics constraints per asset type: what a model's outputs and a machine's signals must obey,
// declared in YAML, checked at the edge (the physics guard) and when a candidate model is
// validated before promotion (mlops/validation).
//
//   Diagnostics diags;
//   WEFT_ASSIGN_OR_RETURN(physics::ConstraintSet set,
//                         physics::LoadConstraintsFile("constraints.yaml", &diags));
//   const physics::AssetConstraints* c = set.For("cnc_spindle", &plant);  // walks `extends`
//   std::vector<physics::Violation> v = physics::CheckPoint(*c, [&](std::string_view name) {
//     return LookUp(name);                          // signals and outputs; NaN = unknown
//   });
//
// Format (constraints.yaml):
//   constraints:
//     motor:                     # asset type (applies to types that extend it, given a Plant)
//       envelope:                # operating envelope of the inputs (signals): [lo, hi], lo < hi
//         vibration_rms: [0.5, 15]
//         bearing_temp_de: [20, 110]
//       bounds:                  # a signal or a model output stays in [min, max] (one optional)
//         - {name: risk_is_probability, output: failure_risk, min: 0, max: 1}
//         - {name: winding_temp_range, signal: winding_temp, min: -20, max: 180}
//       rate_of_change:          # |d value / dt| <= max_per_s
//         - {name: risk_rate, output: failure_risk, max_per_s: 0.01}
//       monotonic:               # the output does not fall (increasing) / rise (decreasing)
//         - {name: risk_rises_with_vibration, output: failure_risk, input: vibration_rms,
//            direction: increasing}
//       balance:                 # |lhs - rhs| <= abs_tol + rel_tol * |rhs|
//         - {name: electrical_power, lhs: "power",
//            rhs: "sqrt(3)*voltage*current*0.86/1000", rel_tol: 0.15, abs_tol: 0.5}
//       twin_agreement:          # |output - twin's steady twin_output| <= tolerance
//         - {name: thermal_twin, output: winding_temp, twin: motor, twin_output: winding_temp,
//            tolerance: 5, inputs: {load: "(current - 10) / 18", ambient_temp: "25"}}
//                                # twin input -> expression of signals (optional)
// Every section is optional. Constraint names are ids, unique within an asset type; a bound or
// rate names exactly one of `output` (a model output) or `signal`. Expressions (balance) use the
// language of ParseExpr. Every problem is reported in the Diagnostics with file:line:column and
// field path; files larger than kMaxConstraintsFileBytes are refused.
//
// Expressions: numbers (1, 2.5, 1e-3), variables ([a-z_][a-z0-9_]*), + - * /, unary -,
// parentheses, and the functions sqrt(x) abs(x) exp(x) min(a,b) max(a,b) pow(a,b).
//
// Thread-safety: every type is a value; const methods are safe from any thread. RateChecker is
// not thread-safe (one owner).
#ifndef WEFT_MODEL_PHYSICS_H_
#define WEFT_MODEL_PHYSICS_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"
#include "common/status.h"
#include "model/plant.h"

namespace weft::model::physics {

//! Larger constraint files are refused.
inline constexpr size_t kMaxConstraintsFileBytes = size_t{1} << 20;
//! Longer expressions are refused (and nesting deeper than 64).
inline constexpr size_t kMaxExprChars = 4096;

//! A parsed arithmetic expression. Copyable; Eval is const and allocation-free.
class Expr {
 public:
  Expr() = default;
  //! The value with each variable looked up by `var` (NaN propagates).
  double Eval(const std::function<double(std::string_view)>& var) const;
  //! The distinct variable names, sorted.
  std::vector<std::string> Variables() const;
  //! The source text.
  const std::string& text() const { return text_; }

 private:
  friend class ExprParser;
  enum class Op : uint8_t {
    kNum,
    kVar,
    kNeg,
    kAdd,
    kSub,
    kMul,
    kDiv,
    kSqrt,
    kAbs,
    kExp,
    kMin,
    kMax,
    kPow
  };
  struct Node {
    Op op = Op::kNum;
    double value = 0;
    int32_t a = -1, b = -1;  // operands (indices into nodes_)
    std::string name;        // kVar
  };
  double EvalNode(int32_t i, const std::function<double(std::string_view)>& var) const;

  std::string text_;
  std::vector<Node> nodes_;
  int32_t root_ = -1;
};

//! Parses `text`; InvalidArgument "column N: <problem>" (1-based column) when it is not valid.
Result<Expr> ParseExpr(std::string_view text);

enum class ConstraintKind {
  kBounds,
  kRateOfChange,
  kMonotonic,
  kBalance,
  kTwinAgreement,
  kEnvelope
};
//! "bounds", "rate_of_change", "monotonic", "balance", "twin_agreement", "envelope".
std::string_view ConstraintKindName(ConstraintKind k);

struct Range {
  double lo = 0, hi = 0;
};

struct BoundConstraint {
  std::string name;
  std::string quantity;  //!< the output or signal name
  bool is_output = false;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  SourceLocation where;
};

struct RateConstraint {
  std::string name;
  std::string quantity;
  bool is_output = false;
  double max_per_s = 0;
  SourceLocation where;
};

enum class Direction { kIncreasing, kDecreasing };

struct MonotonicConstraint {
  std::string name;
  std::string output;
  std::string input;  //!< a signal
  Direction direction = Direction::kIncreasing;
  SourceLocation where;
};

struct BalanceConstraint {
  std::string name;
  Expr lhs, rhs;
  double rel_tol = 0, abs_tol = 0;
  SourceLocation where;
};

struct TwinAgreementConstraint {
  std::string name;
  std::string output;
  std::string twin;  //!< a twin model name for MakeTwin
  std::string twin_output;
  double tolerance = 0;
  //! Twin input -> its value as an expression of signals (e.g. load: "(current - 10) / 18",
  //! ambient_temp: "25"); inputs not listed keep the twin's defaults.
  std::vector<std::pair<std::string, Expr>> inputs;
  SourceLocation where;
};

//! The constraints of one asset type.
struct AssetConstraints {
  std::string asset_type;
  std::map<std::string, Range, std::less<>> envelope;  //!< signal -> operating range
  std::vector<BoundConstraint> bounds;
  std::vector<RateConstraint> rates;
  std::vector<MonotonicConstraint> monotonic;
  std::vector<BalanceConstraint> balances;
  std::vector<TwinAgreementConstraint> twins;

  //! The envelope range of `signal`, or null.
  const Range* EnvelopeOf(std::string_view signal) const;
};

class ConstraintSet {
 public:
  //! The constraints of `asset_type`; with a plant, those of its nearest ancestor (through
  //! `extends`) that has some. Constraints are not merged across levels. Null when none.
  const AssetConstraints* For(std::string_view asset_type, const Plant* plant) const;

  std::map<std::string, AssetConstraints, std::less<>> by_type;
};

//! One broken constraint: its name, kind (ConstraintKindName) and a sentence saying how.
struct Violation {
  std::string constraint;
  std::string kind;
  std::string detail;
};

//! Parses a constraints document; every problem goes to `diags`, and the result is
//! InvalidArgument (naming the first) when there was any.
Result<ConstraintSet> ParseConstraints(std::string_view text, const std::string& file,
                                       Diagnostics* diags);
//! Reads and parses a file. NotFound when it cannot be opened.
Result<ConstraintSet> LoadConstraintsFile(const std::string& path, Diagnostics* diags);

//! Values of signals and outputs by name; NaN = unknown.
using ValueLookup = std::function<double(std::string_view)>;

//! Bounds and balance constraints at one point. A constraint with an unknown value is skipped.
std::vector<Violation> CheckPoint(const AssetConstraints& c, const ValueLookup& values);
//! Signals of the envelope that are known and outside their range (kind "envelope").
std::vector<Violation> CheckEnvelope(const AssetConstraints& c, const ValueLookup& values);

//! Rate-of-change limits over successive observations, per key (e.g. "asset/constraint").
class RateChecker {
 public:
  //! Records (ts_us, value) for `key`; a violation when the previous observation is older and
  //! |value - previous| / dt_s > c.max_per_s. NaN values are ignored; time going back resets.
  std::optional<Violation> Observe(std::string_view key, const RateConstraint& c, int64_t ts_us,
                                   double value);
  void Clear() { prev_.clear(); }

 private:
  struct Prev {
    int64_t ts_us;
    double value;
  };
  std::map<std::string, Prev, std::less<>> prev_;
};

//! "%.4g" of a value, for details.
std::string FormatValue(double v);

}  // namespace weft::model::physics

#endif  // WEFT_MODEL_PHYSICS_H_
