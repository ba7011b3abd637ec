#include "lake/predicate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>

#include "common/strings.h"
#include "common/time_format.h"

namespace weft::lake {
namespace {

bool IsIntKind(ColumnType t) {
  return t == ColumnType::kInt32 || t == ColumnType::kInt64 || t == ColumnType::kDate ||
         t == ColumnType::kTimestampMicros;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Tokens: identifiers/keywords/numbers (words), quoted strings, operators.
struct Token {
  enum class Kind { kWord, kString, kOp, kEnd } kind = Kind::kEnd;
  std::string text;
  size_t pos = 0;  // 1-based column in the predicate text
};

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.pos = i + 1;
    if (c == '\'') {
      t.kind = Token::Kind::kString;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            t.text.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        t.text.push_back(s[i++]);
      }
      if (!closed) {
        return InvalidArgumentError("at " + std::to_string(t.pos) +
                                    ": the string is not closed with a quote (')");
      }
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      t.kind = Token::Kind::kOp;
      t.text.push_back(c);
      ++i;
      if (i < s.size() && (s[i] == '=' || (c == '<' && s[i] == '>'))) t.text.push_back(s[i++]);
      if (t.text == "!") {
        return InvalidArgumentError("at " + std::to_string(t.pos) + ": '!' must be '!='");
      }
    } else if (c == '(' || c == ')') {
      return InvalidArgumentError("at " + std::to_string(t.pos) +
                                  ": parentheses are not supported yet; write comparisons "
                                  "joined by 'and'");
    } else {
      t.kind = Token::Kind::kWord;
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) &&
             std::string_view("=<>!()'").find(s[i]) == std::string_view::npos) {
        t.text.push_back(s[i++]);
      }
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = s.size() + 1;
  out.push_back(end);
  return out;
}

Result<CompareOp> OpOf(const Token& t) {
  if (t.text == "=" || t.text == "==") return CompareOp::kEq;
  if (t.text == "!=" || t.text == "<>") return CompareOp::kNe;
  if (t.text == "<") return CompareOp::kLt;
  if (t.text == "<=") return CompareOp::kLe;
  if (t.text == ">") return CompareOp::kGt;
  if (t.text == ">=") return CompareOp::kGe;
  return InvalidArgumentError("at " + std::to_string(t.pos) + ": expected a comparison (= != < " +
                              "<= > >= or 'is [not] null'), got '" + t.text + "'");
}

bool Holds(int cmp, CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return cmp == 0;
    case CompareOp::kNe: return cmp != 0;
    case CompareOp::kLt: return cmp < 0;
    case CompareOp::kLe: return cmp <= 0;
    case CompareOp::kGt: return cmp > 0;
    case CompareOp::kGe: return cmp >= 0;
    default: return false;
  }
}

}  // namespace

Result<Scalar> ParseScalar(std::string_view text, ColumnType type) {
  auto bad = [&](std::string_view what) {
    return InvalidArgumentError("'" + std::string(text) + "' is not " + std::string(what));
  };
  switch (type) {
    case ColumnType::kBoolean: {
      const std::string l = Lower(text);
      if (l == "true" || l == "1") return Scalar(true);
      if (l == "false" || l == "0") return Scalar(false);
      return bad("a boolean (true or false)");
    }
    case ColumnType::kInt32:
    case ColumnType::kInt64: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return bad("an integer");
      if (type == ColumnType::kInt32 && (v < INT32_MIN || v > INT32_MAX)) {
        return bad("a 32-bit integer (out of range)");
      }
      return Scalar(v);
    }
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      const std::string l = Lower(text);
      if (l == "nan") return Scalar(std::nan(""));
      if (l == "inf" || l == "+inf" || l == "infinity") return Scalar(HUGE_VAL);
      if (l == "-inf" || l == "-infinity") return Scalar(-HUGE_VAL);
      double v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return bad("a number");
      return Scalar(v);
    }
    case ColumnType::kString:
    case ColumnType::kBinary: return Scalar(std::string(text));
    case ColumnType::kTimestampMicros: {
      Result<int64_t> t = ParseTimestampMicros(text);
      if (!t.ok()) return t.status();
      return Scalar(*t);
    }
    case ColumnType::kDate: {
      Result<std::chrono::sys_days> d = ParseDate(text);
      if (!d.ok()) return d.status();
      return Scalar(static_cast<int64_t>(d->time_since_epoch().count()));
    }
  }
  return bad("a supported value");
}

int CompareScalars(const Scalar& a, const Scalar& b) {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  if (const auto* x = std::get_if<bool>(&a)) return *x == std::get<bool>(b) ? 0 : (*x ? 1 : -1);
  if (const auto* x = std::get_if<int64_t>(&a)) {
    const int64_t y = std::get<int64_t>(b);
    return *x < y ? -1 : (*x > y ? 1 : 0);
  }
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    if (std::isnan(*x) || std::isnan(y))
      return std::isnan(*x) == std::isnan(y) ? 0 : (std::isnan(*x) ? 1 : -1);
    return *x < y ? -1 : (*x > y ? 1 : 0);
  }
  if (const auto* x = std::get_if<std::string>(&a)) {
    const int c = x->compare(std::get<std::string>(b));  // char_traits<char>: unsigned bytes
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 0;
}

Result<Predicate> Predicate::Parse(std::string_view text, const std::vector<BatchField>& schema) {
  Predicate p;
  WEFT_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  size_t i = 0;
  auto at = [&](const Token& t) { return "at " + std::to_string(t.pos) + ": "; };
  if (tokens[0].kind == Token::Kind::kEnd) return p;
  while (true) {
    const Token& name = tokens[i];
    if (name.kind != Token::Kind::kWord) {
      return InvalidArgumentError(at(name) + "expected a column name" +
                                  (name.kind == Token::Kind::kEnd ? " after 'and'" : ""));
    }
    const BatchField* field = nullptr;
    for (const BatchField& f : schema) {
      if (f.name == name.text) field = &f;
    }
    if (field == nullptr) {
      return InvalidArgumentError(at(name) + UnknownColumnError(name.text, schema).message());
    }
    Comparison c;
    c.column = field->name;
    c.type = field->type;
    const Token& op = tokens[++i];
    if (op.kind == Token::Kind::kWord && Lower(op.text) == "is") {
      const Token& next = tokens[++i];
      bool negated = false;
      const Token* null_word = &next;
      if (next.kind == Token::Kind::kWord && Lower(next.text) == "not") {
        negated = true;
        null_word = &tokens[++i];
      }
      if (null_word->kind != Token::Kind::kWord || Lower(null_word->text) != "null") {
        return InvalidArgumentError(at(*null_word) + "expected 'null' after 'is'");
      }
      c.op = negated ? CompareOp::kIsNotNull : CompareOp::kIsNull;
      ++i;
    } else {
      if (op.kind != Token::Kind::kOp) {
        return InvalidArgumentError(at(op) + "expected a comparison after '" + name.text + "'");
      }
      WEFT_ASSIGN_OR_RETURN(c.op, OpOf(op));
      const Token& lit = tokens[++i];
      if (lit.kind == Token::Kind::kEnd || lit.kind == Token::Kind::kOp) {
        return InvalidArgumentError(at(lit) + "expected a value after '" + op.text + "'");
      }
      if (lit.kind == Token::Kind::kWord && Lower(lit.text) == "null") {
        return InvalidArgumentError(at(lit) + "compare with null using 'is null' or 'is not null'");
      }
      if (lit.kind == Token::Kind::kWord && IsIntKind(field->type) &&
          (field->type == ColumnType::kTimestampMicros || field->type == ColumnType::kDate)) {
        return InvalidArgumentError(at(lit) + "quote the " + std::string(TypeName(field->type)) +
                                    " for column '" + field->name +
                                    "', e.g. '2026-11-25T00:00:00Z'");
      }
      Result<Scalar> v = ParseScalar(lit.text, field->type);
      if (!v.ok()) {
        return InvalidArgumentError(at(lit) + v.status().message() + " for column '" + field->name +
                                    "' (" + std::string(TypeName(field->type)) + ")");
      }
      c.literal = std::move(v).value();
      ++i;
    }
    p.terms_.push_back(std::move(c));
    const Token& joiner = tokens[i];
    if (joiner.kind == Token::Kind::kEnd) break;
    if (joiner.kind == Token::Kind::kWord && Lower(joiner.text) == "or") {
      return InvalidArgumentError(at(joiner) +
                                  "'or' is not supported yet; join comparisons with "
                                  "'and' (or run one scan per alternative)");
    }
    if (joiner.kind != Token::Kind::kWord || Lower(joiner.text) != "and") {
      return InvalidArgumentError(at(joiner) + "expected 'and' or the end, got '" + joiner.text +
                                  "'");
    }
    ++i;
  }
  return p;
}

std::vector<std::string> Predicate::Columns() const {
  std::vector<std::string> out;
  for (const Comparison& c : terms_) {
    if (std::find(out.begin(), out.end(), c.column) == out.end()) out.push_back(c.column);
  }
  return out;
}

std::vector<uint8_t> Predicate::Evaluate(const RecordBatch& batch) const {
  std::vector<uint8_t> keep(batch.num_rows(), 1);
  for (const Comparison& c : terms_) {
    const Column& col = batch.column(static_cast<size_t>(batch.Find(c.column)));
    for (size_t r = 0; r < keep.size(); ++r) {
      if (keep[r] == 0) continue;
      const bool valid = col.IsValid(r);
      bool ok = false;
      if (c.op == CompareOp::kIsNull) {
        ok = !valid;
      } else if (c.op == CompareOp::kIsNotNull) {
        ok = valid;
      } else if (valid) {
        // Typed fast paths for the common kinds; a comparison with null is never true.
        if (const auto* i = std::get_if<int64_t>(&c.literal)) {
          const int64_t v = col.IntAt(r);
          ok = Holds(v < *i ? -1 : (v > *i ? 1 : 0), c.op);
        } else if (const auto* s = std::get_if<std::string>(&c.literal)) {
          const int cmp = col.StringAt(r).compare(*s);
          ok = Holds(cmp < 0 ? -1 : (cmp > 0 ? 1 : 0), c.op);
        } else {
          ok = Holds(CompareScalars(col.At(r), c.literal), c.op);
        }
      }
      keep[r] = ok ? 1 : 0;
    }
  }
  return keep;
}

bool Predicate::MayMatch(
    const std::function<std::optional<ColumnStats>(std::string_view)>& stats) const {
  for (const Comparison& c : terms_) {
    std::optional<ColumnStats> s = stats(c.column);
    if (!s) continue;
    const bool all_null = s->null_count && s->row_count && *s->null_count == *s->row_count;
    switch (c.op) {
      case CompareOp::kIsNull:
        if (s->null_count && *s->null_count == 0) return false;
        continue;
      case CompareOp::kIsNotNull:
        if (all_null) return false;
        continue;
      default: break;
    }
    if (all_null) return false;  // a comparison with null is never true
    // NaN in a double column makes min/max unreliable for ordering: keep the file.
    const auto is_nan = [](const std::optional<Scalar>& v) {
      return v && std::holds_alternative<double>(*v) && std::isnan(std::get<double>(*v));
    };
    if (is_nan(s->min) || is_nan(s->max)) continue;
    const bool has_min = s->min && !std::holds_alternative<std::monostate>(*s->min);
    const bool has_max = s->max && !std::holds_alternative<std::monostate>(*s->max);
    const int vs_min = has_min ? CompareScalars(c.literal, *s->min) : 0;
    const int vs_max = has_max ? CompareScalars(c.literal, *s->max) : 0;
    switch (c.op) {
      case CompareOp::kEq:
        if ((has_min && vs_min < 0) || (has_max && vs_max > 0)) return false;
        break;
      case CompareOp::kNe:
        // Every value equals the literal. Not for strings: their stats may be truncated.
        if (has_min && has_max && vs_min == 0 && vs_max == 0 &&
            !std::holds_alternative<std::string>(c.literal)) {
          return false;
        }
        break;
      case CompareOp::kLt:  // some value < literal: needs min < literal
        if (has_min && vs_min <= 0) return false;
        break;
      case CompareOp::kLe:
        if (has_min && vs_min < 0) return false;
        break;
      case CompareOp::kGt:  // some value > literal: needs max > literal
        if (has_max && vs_max >= 0) return false;
        break;
      case CompareOp::kGe:
        if (has_max && vs_max > 0) return false;
        break;
      default: break;
    }
  }
  return true;
}

std::string PredicateLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string TimeRangePredicate(int64_t from_us, int64_t to_us, bool with_date) {
  std::string where = "ts >= " + PredicateLiteral(FormatTimestampMicros(from_us)) + " and ts < " +
                      PredicateLiteral(FormatTimestampMicros(to_us));
  if (with_date) {
    where += " and date >= " + PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(from_us)))) +
             " and date <= " + PredicateLiteral(FormatDate(DayOf(TimeFromUnixMicros(to_us - 1))));
  }
  return where;
}

}  // namespace weft::lake
