#include "model/physics.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "model/yaml_reader.h"

namespace weft::model::physics {

// ---------------------------------------------------------------------------------------------
// Expressions

class ExprParser {
 public:
  explicit ExprParser(std::string_view text) : s_(text) {}

  Result<Expr> Parse() {
    if (s_.size() > kMaxExprChars) {
      return InvalidArgumentError("column 1: the expression has " + std::to_string(s_.size()) +
                                  " characters; the limit is " + std::to_string(kMaxExprChars));
    }
    out_.text_ = std::string(s_);
    Skip();
    if (pos_ >= s_.size()) return Fail("the expression is empty");
    int32_t root = Sum();
    if (!error_.empty()) return InvalidArgumentError(error_);
    Skip();
    if (pos_ < s_.size()) {
      return Fail(std::string("unexpected '") + s_[pos_] + "'; expected an operator (+ - * /)");
    }
    out_.root_ = root;
    return std::move(out_);
  }

 private:
  using Op = Expr::Op;
  static constexpr int kMaxDepth = 64;

  Status Fail(const std::string& problem) { return InvalidArgumentError(Error(problem)); }
  std::string Error(const std::string& problem) const {
    return "column " + std::to_string(pos_ + 1) + ": " + problem;
  }
  // Records the first error; parsing unwinds returning -1.
  int32_t SetError(const std::string& problem) {
    if (error_.empty()) error_ = Error(problem);
    return -1;
  }
  void Skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool Accept(char c) {
    Skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  int32_t Add(Op op, int32_t a, int32_t b) {
    Expr::Node n;
    n.op = op;
    n.a = a;
    n.b = b;
    out_.nodes_.push_back(std::move(n));
    return static_cast<int32_t>(out_.nodes_.size() - 1);
  }

  int32_t Sum() {
    int32_t left = Product();
    while (error_.empty()) {
      if (Accept('+')) {
        int32_t right = Product();
        left = Add(Op::kAdd, left, right);
      } else if (Accept('-')) {
        int32_t right = Product();
        left = Add(Op::kSub, left, right);
      } else {
        break;
      }
    }
    return error_.empty() ? left : -1;
  }

  int32_t Product() {
    int32_t left = Unary();
    while (error_.empty()) {
      if (Accept('*')) {
        int32_t right = Unary();
        left = Add(Op::kMul, left, right);
      } else if (Accept('/')) {
        int32_t right = Unary();
        left = Add(Op::kDiv, left, right);
      } else {
        break;
      }
    }
    return error_.empty() ? left : -1;
  }

  int32_t Unary() {
    if (++depth_ > kMaxDepth) return SetError("the expression nests deeper than 64 levels");
    int32_t out;
    if (Accept('-')) {
      int32_t operand = Unary();
      out = error_.empty() ? Add(Op::kNeg, operand, -1) : -1;
    } else {
      out = Primary();
    }
    --depth_;
    return out;
  }

  int32_t Primary() {
    Skip();
    if (pos_ >= s_.size()) {
      return SetError("unexpected end; expected a number, a variable, a function or '('");
    }
    const char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      int32_t inner = Sum();
      if (!error_.empty()) return -1;
      if (!Accept(')')) return SetError("expected ')'");
      return inner;
    }
    if ((c >= '0' && c <= '9') || c == '.') return Number();
    if ((c >= 'a' && c <= 'z') || c == '_') return Name();
    return SetError(std::string("unexpected '") + c +
                    "'; expected a number, a variable, a function or '('");
  }

  int32_t Number() {
    const size_t start = pos_;
    auto digits = [&] {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    };
    digits();
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      digits();
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t save = pos_++;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        digits();
      } else {
        pos_ = save;  // "2e" is not an exponent; the 'e' is reported below
      }
    }
    double v = 0;
    auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, v);
    if (ec != std::errc() || end != s_.data() + pos_ || !std::isfinite(v)) {
      pos_ = start;
      return SetError("invalid number '" + std::string(s_.substr(start, 20)) + "'");
    }
    if (pos_ < s_.size() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || s_[pos_] == '_')) {
      return SetError("a number is followed by a name; write an operator between them");
    }
    int32_t i = Add(Op::kNum, -1, -1);
    out_.nodes_[static_cast<size_t>(i)].value = v;
    return i;
  }

  int32_t Name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') ||
                                (s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '_')) {
      ++pos_;
    }
    std::string name(s_.substr(start, pos_ - start));
    if (pos_ < s_.size() && s_[pos_] >= 'A' && s_[pos_] <= 'Z') {
      return SetError("upper-case letter in a name; names are [a-z_][a-z0-9_]*");
    }
    Skip();
    if (pos_ >= s_.size() || s_[pos_] != '(') {
      int32_t i = Add(Op::kVar, -1, -1);
      out_.nodes_[static_cast<size_t>(i)].name = std::move(name);
      return i;
    }
    struct Fn {
      const char* name;
      Op op;
      int args;
    };
    static constexpr Fn kFns[] = {{"sqrt", Op::kSqrt, 1}, {"abs", Op::kAbs, 1},
                                  {"exp", Op::kExp, 1},   {"min", Op::kMin, 2},
                                  {"max", Op::kMax, 2},   {"pow", Op::kPow, 2}};
    const Fn* fn = nullptr;
    for (const Fn& f : kFns) {
      if (name == f.name) fn = &f;
    }
    if (fn == nullptr) {
      pos_ = start;
      return SetError("unknown function '" + name + "'; expected one of: sqrt, abs, exp, min, " +
                      "max, pow");
    }
    ++pos_;  // '('
    int32_t a = Sum();
    if (!error_.empty()) return -1;
    int32_t b = -1;
    if (fn->args == 2) {
      if (!Accept(',')) return SetError(name + "() takes 2 arguments; expected ','");
      b = Sum();
      if (!error_.empty()) return -1;
    }
    if (!Accept(')')) {
      return SetError(name + "() takes " + std::to_string(fn->args) + " argument" +
                      (fn->args == 1 ? "" : "s") + "; expected ')'");
    }
    return Add(fn->op, a, b);
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
  Expr out_;
};

Result<Expr> ParseExpr(std::string_view text) {
  return ExprParser(text).Parse();
}

double Expr::Eval(const std::function<double(std::string_view)>& var) const {
  if (root_ < 0) return std::numeric_limits<double>::quiet_NaN();
  return EvalNode(root_, var);
}

double Expr::EvalNode(int32_t i, const std::function<double(std::string_view)>& var) const {
  const Node& n = nodes_[static_cast<size_t>(i)];
  auto a = [&] { return EvalNode(n.a, var); };
  auto b = [&] { return EvalNode(n.b, var); };
  switch (n.op) {
    case Op::kNum: return n.value;
    case Op::kVar: return var(n.name);
    case Op::kNeg: return -a();
    case Op::kAdd: return a() + b();
    case Op::kSub: return a() - b();
    case Op::kMul: return a() * b();
    case Op::kDiv: return a() / b();
    case Op::kSqrt: return std::sqrt(a());
    case Op::kAbs: return std::fabs(a());
    case Op::kExp: return std::exp(a());
    case Op::kMin: {
      double x = a(), y = b();
      return std::isnan(x) || std::isnan(y) ? std::numeric_limits<double>::quiet_NaN()
                                            : std::min(x, y);
    }
    case Op::kMax: {
      double x = a(), y = b();
      return std::isnan(x) || std::isnan(y) ? std::numeric_limits<double>::quiet_NaN()
                                            : std::max(x, y);
    }
    case Op::kPow: return std::pow(a(), b());
  }
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<std::string> Expr::Variables() const {
  std::set<std::string> names;
  for (const Node& n : nodes_) {
    if (n.op == Op::kVar) names.insert(n.name);
  }
  return {names.begin(), names.end()};
}

// ---------------------------------------------------------------------------------------------
// Constraints

std::string_view ConstraintKindName(ConstraintKind k) {
  switch (k) {
    case ConstraintKind::kBounds: return "bounds";
    case ConstraintKind::kRateOfChange: return "rate_of_change";
    case ConstraintKind::kMonotonic: return "monotonic";
    case ConstraintKind::kBalance: return "balance";
    case ConstraintKind::kTwinAgreement: return "twin_agreement";
    case ConstraintKind::kEnvelope: return "envelope";
  }
  return "?";
}

std::string FormatValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

const Range* AssetConstraints::EnvelopeOf(std::string_view signal) const {
  auto it = envelope.find(signal);
  return it == envelope.end() ? nullptr : &it->second;
}

const AssetConstraints* ConstraintSet::For(std::string_view asset_type, const Plant* plant) const {
  std::string type(asset_type);
  // A depth bound keeps a (refused by the loader, but still) cyclic `extends` from looping.
  for (int depth = 0; depth < 64 && !type.empty(); ++depth) {
    auto it = by_type.find(type);
    if (it != by_type.end()) return &it->second;
    if (plant == nullptr) return nullptr;
    const AssetType* t = plant->FindAssetType(type);
    if (t == nullptr) return nullptr;
    type = t->extends;
  }
  return nullptr;
}

namespace {

namespace ye = yaml_error;

class ConstraintsParser : public YamlReader {
 public:
  using YamlReader::YamlReader;

  std::optional<ConstraintSet> Parse(std::string_view text) {
    std::optional<YamlValue> root = ParseDocument(text, kMaxConstraintsFileBytes);
    if (!root) return std::nullopt;
    YamlFields top = OpenMap(*root, {"constraints"});
    if (!top.ok()) return std::nullopt;
    ConstraintSet set;
    std::optional<YamlValue> types = Required(top, "constraints");
    if (!types) return std::nullopt;
    if (!OpenMap(*types, {}).ok()) return std::nullopt;
    for (auto it = types->node.begin(); it != types->node.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // reported by OpenMap
      SourceLocation key_loc = At(it->first, types->loc);
      std::string name = it->first.Scalar();
      YamlValue key_val{it->first, key_loc, Child(types->path, name)};
      if (!IsValidId(name)) {
        Err(ye::kInvalidValue, key_val,
            "invalid asset type name " + Quote(name) +
                "; expected 1-128 characters from A-Z a-z 0-9 _ - .");
        continue;
      }
      if (set.by_type.count(name) > 0) continue;  // duplicate key, reported by OpenMap
      AssetConstraints c;
      c.asset_type = name;
      ParseAsset(YamlValue{it->second, At(it->second, key_loc), key_val.path}, &c);
      set.by_type.emplace(name, std::move(c));
    }
    return set;
  }

 private:
  void ParseAsset(const YamlValue& v, AssetConstraints* c) {
    YamlFields f = OpenMap(
        v, {"envelope", "bounds", "rate_of_change", "monotonic", "balance", "twin_agreement"});
    if (!f.ok()) return;
    if (auto e = f.Get("envelope")) ParseEnvelope(*e, c);
    if (auto x = f.Get("bounds")) {
      for (const YamlValue& item : OpenList(*x)) ParseBound(item, c);
    }
    if (auto x = f.Get("rate_of_change")) {
      for (const YamlValue& item : OpenList(*x)) ParseRate(item, c);
    }
    if (auto x = f.Get("monotonic")) {
      for (const YamlValue& item : OpenList(*x)) ParseMonotonic(item, c);
    }
    if (auto x = f.Get("balance")) {
      for (const YamlValue& item : OpenList(*x)) ParseBalance(item, c);
    }
    if (auto x = f.Get("twin_agreement")) {
      for (const YamlValue& item : OpenList(*x)) ParseTwin(item, c);
    }
  }

  void ParseEnvelope(const YamlValue& v, AssetConstraints* c) {
    if (!OpenMap(v, {}).ok()) return;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      SourceLocation key_loc = At(it->first, v.loc);
      std::string signal = it->first.Scalar();
      YamlValue key_val{it->first, key_loc, Child(v.path, signal)};
      if (!IsValidId(signal)) {
        Err(ye::kInvalidValue, key_val, "invalid signal name " + Quote(signal));
        continue;
      }
      YamlValue range{it->second, At(it->second, key_loc), key_val.path};
      std::vector<YamlValue> items = OpenList(range);
      if (!range.node.IsSequence()) continue;
      if (items.size() != 2) {
        Err(ye::kInvalidValue, range,
            "expected [lo, hi], got a list of " + std::to_string(items.size()));
        continue;
      }
      std::optional<double> lo = Finite(items[0]), hi = Finite(items[1]);
      if (!lo || !hi) continue;
      if (!(*lo < *hi)) {
        Err(ye::kInvalidValue, range,
            "expected lo < hi, got [" + FormatValue(*lo) + ", " + FormatValue(*hi) + "]");
        continue;
      }
      c->envelope[signal] = Range{*lo, *hi};
    }
  }

  std::optional<double> Finite(const YamlValue& v) {
    std::optional<double> d = Num(v);
    if (d && !std::isfinite(*d)) {
      Err(ye::kInvalidValue, v, "expected a finite number");
      return std::nullopt;
    }
    return d;
  }

  // The `name` of a constraint: an id, unique within the asset type.
  std::optional<std::string> Name(const YamlFields& f, AssetConstraints* c) {
    std::optional<YamlValue> x = Required(f, "name");
    if (!x) return std::nullopt;
    std::optional<std::string> id = Id(*x, "constraint name");
    if (!id) return std::nullopt;
    if (!names_[c->asset_type].insert(*id).second) {
      Err(ye::kInvalidValue, *x,
          "constraint name '" + *id + "' is used twice for asset type '" + c->asset_type + "'");
      return std::nullopt;
    }
    return id;
  }

  // Exactly one of `output` or `signal`.
  bool Quantity(const YamlFields& f, std::string* name, bool* is_output) {
    std::optional<YamlValue> out = f.Get("output"), sig = f.Get("signal");
    if (out && sig) {
      Err(ye::kInvalidValue, *sig, "give either 'output' or 'signal', not both");
      return false;
    }
    if (!out && !sig) {
      Err(ye::kMissingField, f.loc(), f.path(), "missing 'output' (a model output) or 'signal'");
      return false;
    }
    *is_output = out.has_value();
    std::optional<std::string> id = Id(out ? *out : *sig, out ? "output name" : "signal name");
    if (!id) return false;
    *name = *id;
    return true;
  }

  void ParseBound(const YamlValue& v, AssetConstraints* c) {
    YamlFields f = OpenMap(v, {"name", "output", "signal", "min", "max"});
    if (!f.ok()) return;
    const size_t before = diags()->error_count();
    BoundConstraint b;
    b.where = v.loc;
    b.name = Name(f, c).value_or("");
    Quantity(f, &b.quantity, &b.is_output);
    std::optional<YamlValue> mn = f.Get("min"), mx = f.Get("max");
    if (!mn && !mx) Err(ye::kMissingField, v, "a bound needs 'min', 'max' or both");
    if (mn) b.min = Finite(*mn).value_or(b.min);
    if (mx) b.max = Finite(*mx).value_or(b.max);
    if (diags()->error_count() == before && b.min > b.max) {
      Err(ye::kInvalidValue, mx ? *mx : v,
          "max " + FormatValue(b.max) + " is below min " + FormatValue(b.min));
    }
    if (diags()->error_count() == before) c->bounds.push_back(std::move(b));
  }

  void ParseRate(const YamlValue& v, AssetConstraints* c) {
    YamlFields f = OpenMap(v, {"name", "output", "signal", "max_per_s"});
    if (!f.ok()) return;
    const size_t before = diags()->error_count();
    RateConstraint r;
    r.where = v.loc;
    r.name = Name(f, c).value_or("");
    Quantity(f, &r.quantity, &r.is_output);
    if (auto x = Required(f, "max_per_s")) {
      std::optional<double> m = Finite(*x);
      if (m && *m <= 0) {
        Err(ye::kInvalidValue, *x, "expected max_per_s > 0, got " + FormatValue(*m));
      } else if (m) {
        r.max_per_s = *m;
      }
    }
    if (diags()->error_count() == before) c->rates.push_back(std::move(r));
  }

  void ParseMonotonic(const YamlValue& v, AssetConstraints* c) {
    YamlFields f = OpenMap(v, {"name", "output", "input", "direction"});
    if (!f.ok()) return;
    const size_t before = diags()->error_count();
    MonotonicConstraint m;
    m.where = v.loc;
    m.name = Name(f, c).value_or("");
    if (auto x = Required(f, "output")) m.output = Id(*x, "output name").value_or("");
    if (auto x = Required(f, "input")) m.input = Id(*x, "signal name").value_or("");
    if (auto x = Required(f, "direction")) {
      std::optional<std::string> d = Str(*x);
      if (d == "increasing") {
        m.direction = Direction::kIncreasing;
      } else if (d == "decreasing") {
        m.direction = Direction::kDecreasing;
      } else if (d) {
        Err(ye::kInvalidValue, *x,
            "unknown direction " + Quote(*d) + "; expected one of: increasing, decreasing" +
                Hint(*d, {"increasing", "decreasing"}));
      }
    }
    if (diags()->error_count() == before) c->monotonic.push_back(std::move(m));
  }

  std::optional<Expr> Expression(const YamlValue& x) {
    std::optional<std::string> s = Str(x);
    if (!s) return std::nullopt;
    Result<Expr> e = ParseExpr(*s);
    if (!e.ok()) {
      Err(ye::kInvalidValue, x, "expression " + Quote(*s) + ": " + e.status().message());
      return std::nullopt;
    }
    return std::move(e).value();
  }

  void ParseBalance(const YamlValue& v, AssetConstraints* c) {
    YamlFields f = OpenMap(v, {"name", "lhs", "rhs", "rel_tol", "abs_tol"});
    if (!f.ok()) return;
    const size_t before = diags()->error_count();
    BalanceConstraint b;
    b.where = v.loc;
    b.name = Name(f, c).value_or("");
    if (auto x = Required(f, "lhs")) {
      if (auto e = Expression(*x)) b.lhs = std::move(*e);
    }
    if (auto x = Required(f, "rhs")) {
      if (auto e = Expression(*x)) b.rhs = std::move(*e);
    }
    auto tol = [&](const char* key, double* out) {
      if (auto x = f.Get(key)) {
        std::optional<double> t = Finite(*x);
        if (t && *t < 0) {
          Err(ye::kInvalidValue, *x, std::string(key) + " must be >= 0");
        } else if (t) {
          *out = *t;
        }
      }
    };
    tol("rel_tol", &b.rel_tol);
    tol("abs_tol", &b.abs_tol);
    if (!f.Has("rel_tol") && !f.Has("abs_tol")) {
      Err(ye::kMissingField, v, "a balance needs 'rel_tol', 'abs_tol' or both");
    }
    if (diags()->error_count() == before) c->balances.push_back(std::move(b));
  }

  void ParseTwin(const YamlValue& v, AssetConstraints* c) {
    YamlFields f = OpenMap(v, {"name", "output", "twin", "twin_output", "tolerance", "inputs"});
    if (!f.ok()) return;
    const size_t before = diags()->error_count();
    TwinAgreementConstraint t;
    t.where = v.loc;
    t.name = Name(f, c).value_or("");
    if (auto x = Required(f, "output")) t.output = Id(*x, "output name").value_or("");
    if (auto x = Required(f, "twin")) t.twin = Id(*x, "twin model").value_or("");
    if (auto x = Required(f, "twin_output")) t.twin_output = Id(*x, "twin output").value_or("");
    if (auto x = Required(f, "tolerance")) {
      std::optional<double> tol = Finite(*x);
      if (tol && *tol <= 0) {
        Err(ye::kInvalidValue, *x, "expected tolerance > 0, got " + FormatValue(*tol));
      } else if (tol) {
        t.tolerance = *tol;
      }
    }
    if (auto x = f.Get("inputs"); x && OpenMap(*x, {}).ok()) {
      for (auto it = x->node.begin(); it != x->node.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        SourceLocation key_loc = At(it->first, x->loc);
        std::string input = it->first.Scalar();
        YamlValue value{it->second, At(it->second, key_loc), Child(x->path, input)};
        if (!IsValidId(input)) {
          Err(ye::kInvalidValue, value, "invalid twin input name " + Quote(input));
          continue;
        }
        if (auto e = Expression(value)) t.inputs.emplace_back(input, std::move(*e));
      }
    }
    if (diags()->error_count() == before) c->twins.push_back(std::move(t));
  }

  std::map<std::string, std::set<std::string>> names_;
};

}  // namespace

Result<ConstraintSet> ParseConstraints(std::string_view text, const std::string& file,
                                       Diagnostics* diags) {
  const Diagnostics::Mark mark = diags->mark();
  ConstraintsParser p(file, diags);
  std::optional<ConstraintSet> set = p.Parse(text);
  WEFT_RETURN_IF_ERROR(diags->ErrorsSince(mark, file));
  if (!set) return InvalidArgumentError(file + ": not a valid constraints file");
  return std::move(*set);
}

Result<ConstraintSet> LoadConstraintsFile(const std::string& path, Diagnostics* diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot open constraints file '" + path + "': " + std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return UnavailableError("cannot read constraints file '" + path + "'");
  if (static_cast<uint64_t>(size) > kMaxConstraintsFileBytes) {
    diags->Error(ye::kInputTooLarge, {path, 1, 1}, "",
                 "the file has " + std::to_string(size) + " bytes; the limit is " +
                     std::to_string(kMaxConstraintsFileBytes));
    return diags->ToStatus(path);
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) {
    return UnavailableError("cannot read constraints file '" + path + "': " + std::strerror(errno));
  }
  return ParseConstraints(text, path, diags);
}

// ---------------------------------------------------------------------------------------------
// Checks

std::vector<Violation> CheckPoint(const AssetConstraints& c, const ValueLookup& values) {
  std::vector<Violation> out;
  for (const BoundConstraint& b : c.bounds) {
    const double v = values(b.quantity);
    if (std::isnan(v)) continue;
    if (v < b.min || v > b.max) {
      out.push_back({b.name, std::string(ConstraintKindName(ConstraintKind::kBounds)),
                     b.quantity + " = " + FormatValue(v) + " is outside [" + FormatValue(b.min) +
                         ", " + FormatValue(b.max) + "]"});
    }
  }
  for (const BalanceConstraint& b : c.balances) {
    const double lhs = b.lhs.Eval(values), rhs = b.rhs.Eval(values);
    if (std::isnan(lhs) || std::isnan(rhs)) continue;  // a variable is unknown
    const double allowed = b.abs_tol + b.rel_tol * std::fabs(rhs);
    if (std::fabs(lhs - rhs) > allowed) {
      out.push_back({b.name, std::string(ConstraintKindName(ConstraintKind::kBalance)),
                     b.lhs.text() + " = " + FormatValue(lhs) + " differs from " + b.rhs.text() +
                         " = " + FormatValue(rhs) + " by " + FormatValue(std::fabs(lhs - rhs)) +
                         " (allowed " + FormatValue(allowed) + ")"});
    }
  }
  return out;
}

std::vector<Violation> CheckEnvelope(const AssetConstraints& c, const ValueLookup& values) {
  std::vector<Violation> out;
  for (const auto& [signal, range] : c.envelope) {
    const double v = values(signal);
    if (std::isnan(v)) continue;
    if (v < range.lo || v > range.hi) {
      out.push_back({signal, std::string(ConstraintKindName(ConstraintKind::kEnvelope)),
                     signal + " = " + FormatValue(v) + " is outside the operating envelope [" +
                         FormatValue(range.lo) + ", " + FormatValue(range.hi) + "]"});
    }
  }
  return out;
}

std::optional<Violation> RateChecker::Observe(std::string_view key, const RateConstraint& c,
                                              int64_t ts_us, double value) {
  if (std::isnan(value)) return std::nullopt;
  auto it = prev_.find(key);
  if (it == prev_.end()) {
    prev_.emplace(std::string(key), Prev{ts_us, value});
    return std::nullopt;
  }
  const Prev prev = it->second;
  it->second = Prev{ts_us, value};
  if (ts_us <= prev.ts_us) return std::nullopt;  // same instant or time going back: restart
  const double dt_s = static_cast<double>(ts_us - prev.ts_us) / 1e6;
  const double rate = std::fabs(value - prev.value) / dt_s;
  if (!(rate > c.max_per_s)) return std::nullopt;
  return Violation{c.name, std::string(ConstraintKindName(ConstraintKind::kRateOfChange)),
                   c.quantity + " changes from " + FormatValue(prev.value) + " to " +
                       FormatValue(value) + " in " + FormatValue(dt_s) + " s (" +
                       FormatValue(rate) + "/s > " + FormatValue(c.max_per_s) + "/s)"};
}

}  // namespace weft::model::physics
