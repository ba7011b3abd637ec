#include "model/units.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <numbers>
#include <utility>

#include "common/strings.h"

namespace weft::model {
namespace {

constexpr int kMaxExponent = 16;
constexpr size_t kMaxUnitLength = 128;
constexpr size_t kMaxQuotedLength = 48;

// Base dimension names.
constexpr std::string_view kLength = "length";
constexpr std::string_view kMass = "mass";
constexpr std::string_view kTime = "time";
constexpr std::string_view kCurrent = "current";
constexpr std::string_view kTemperature = "temperature";
constexpr std::string_view kAmount = "amount";
constexpr std::string_view kLuminous = "luminous";
constexpr std::string_view kItem = "item";
constexpr std::string_view kCo2e = "co2e";
constexpr std::string_view kCurrencies[] = {"EUR", "USD", "GBP", "CHF", "CNY", "JPY",
                                            "INR", "CAD", "AUD", "SEK", "PLN", "CZK"};

// UTF-8 spellings used in symbols and as multiplication operators.
constexpr std::string_view kMicroSign = "\xC2\xB5";             // U+00B5
constexpr std::string_view kGreekMu = "\xCE\xBC";               // U+03BC
constexpr std::string_view kDegreeSign = "\xC2\xB0";            // U+00B0
constexpr std::string_view kDegreeCelsius = "\xE2\x84\x83";     // U+2103
constexpr std::string_view kDegreeFahrenheit = "\xE2\x84\x89";  // U+2109
constexpr std::string_view kMiddleDot = "\xC2\xB7";             // U+00B7
constexpr std::string_view kDotOperator = "\xE2\x8B\x85";       // U+22C5

// Exact definitions (SI brochure, NIST SP 811).
constexpr double kInch = 0.0254;
constexpr double kFoot = 0.3048;
constexpr double kPound = 0.45359237;
constexpr double kStandardGravity = 9.80665;
constexpr double kPoundForce = kPound * kStandardGravity;
constexpr double kPsi = kPoundForce / (kInch * kInch);
constexpr double kUsGallon = 3.785411784e-3;
constexpr double kBtu = 1055.05585262;  // International Table BTU
constexpr double kHour = 3600;
constexpr double kDay = 86400;

// ---------------------------------------------------------------------------------------------
// Dimensions.

void AddExponent(Dimension* d, std::string_view base, int exponent) {
  if (exponent == 0) return;
  auto it = d->exponents.find(std::string(base));
  if (it == d->exponents.end()) {
    d->exponents.emplace(std::string(base), exponent);
    return;
  }
  it->second += exponent;
  if (it->second == 0) d->exponents.erase(it);
}

// `a` times `b` raised to `power`.
Dimension Times(const Dimension& a, const Dimension& b, int power = 1) {
  Dimension out = a;
  for (const auto& [base, exponent] : b.exponents) AddExponent(&out, base, exponent * power);
  return out;
}

Dimension Dim(std::initializer_list<std::pair<std::string_view, int>> terms) {
  Dimension d;
  for (const auto& [base, exponent] : terms) AddExponent(&d, base, exponent);
  return d;
}

Dimension Dimensionless() {
  return Dimension{};
}
Dimension LengthDim() {
  return Dim({{kLength, 1}});
}
Dimension MassDim() {
  return Dim({{kMass, 1}});
}
Dimension TimeDim() {
  return Dim({{kTime, 1}});
}
Dimension FrequencyDim() {
  return Dim({{kTime, -1}});
}
Dimension VelocityDim() {
  return Dim({{kLength, 1}, {kTime, -1}});
}
Dimension AccelerationDim() {
  return Dim({{kLength, 1}, {kTime, -2}});
}
Dimension ForceDim() {
  return Dim({{kMass, 1}, {kLength, 1}, {kTime, -2}});
}
Dimension PressureDim() {
  return Dim({{kMass, 1}, {kLength, -1}, {kTime, -2}});
}
Dimension EnergyDim() {
  return Dim({{kMass, 1}, {kLength, 2}, {kTime, -2}});
}
Dimension PowerDim() {
  return Dim({{kMass, 1}, {kLength, 2}, {kTime, -3}});
}
Dimension VoltageDim() {
  return Dim({{kMass, 1}, {kLength, 2}, {kTime, -3}, {kCurrent, -1}});
}
Dimension VolumeDim() {
  return Dim({{kLength, 3}});
}
Dimension ItemDim() {
  return Dim({{kItem, 1}});
}
Dimension Co2eDim() {
  return Dim({{kCo2e, 1}});
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Byte offset of the first byte that breaks UTF-8 well-formedness, or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t length = 0;
    unsigned char lo = 0x80;  // allowed range of the second byte
    unsigned char hi = 0xBF;
    if (b0 < 0x80) {
      length = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
      if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      if (b0 == 0xF0) lo = 0x90;  // no overlong forms
      if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (length > s.size() - i) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned char min = k == 1 ? lo : static_cast<unsigned char>(0x80);
      const unsigned char max = k == 1 ? hi : static_cast<unsigned char>(0xBF);
      if (b < min || b > max) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

bool IsControl(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b < 0x20 || b == 0x7F;
}

// `s` in single quotes, safe to print: control bytes (and, when `s` is not valid UTF-8, all
// non-ASCII bytes) are written as \xNN; long text is shortened with "...".
std::string Quote(std::string_view s) {
  const bool valid_utf8 = FindInvalidUtf8(s) == std::string_view::npos;
  bool truncated = false;
  if (s.size() > kMaxQuotedLength) {
    size_t cut = kMaxQuotedLength;
    // Do not split a UTF-8 sequence: back up to a lead byte.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut);
    truncated = true;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (IsControl(c) || (b >= 0x80 && !valid_utf8)) {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0x0F];
    } else {
      out += c;
    }
  }
  if (truncated) out += "...";
  out += "'";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Symbol table.

struct SymbolInfo {
  Dimension dimension;
  double factor = 1;
  double offset = 0;
};

class SymbolTable {
 public:
  static const SymbolTable& Get() {
    static const SymbolTable* const kTable = new SymbolTable();
    return *kTable;
  }

  const SymbolInfo* Find(std::string_view symbol) const {
    auto it = table_.find(symbol);
    return it == table_.end() ? nullptr : &it->second;
  }

  const std::vector<std::string>& symbols() const { return symbols_; }

 private:
  SymbolTable() {
    // Dimensionless.
    Add("1", Dimensionless(), 1);
    Add("%", Dimensionless(), 0.01);
    Add("percent", Dimensionless(), 0.01);
    Add("%RH", Dimensionless(), 0.01);
    Add("ppm", Dimensionless(), 1e-6);
    Add("ppb", Dimensionless(), 1e-9);
    Add("ratio", Dimensionless(), 1);
    Add("rad", Dimensionless(), 1 / (2 * std::numbers::pi));  // angles count revolutions
    Add("sr", Dimensionless(), 1);

    // Length.
    AddPrefixed("m", LengthDim(), 1, {"n", "u", "m", "c", "k"});
    Add("in", LengthDim(), kInch);
    Add("ft", LengthDim(), kFoot);

    // Mass (the SI base unit is kg; the prefixes apply to g).
    AddPrefixed("g", MassDim(), 1e-3, {"m", "k"});
    Add("t", MassDim(), 1e3);
    Add("tonne", MassDim(), 1e3);
    Add("lb", MassDim(), kPound);

    // Time.
    AddPrefixed("s", TimeDim(), 1, {"n", "u", "m"});
    Add("min", TimeDim(), 60);
    Add("h", TimeDim(), kHour);
    Add("d", TimeDim(), kDay);
    Add("day", TimeDim(), kDay);
    Add("week", TimeDim(), 7 * kDay);
    Add("year", TimeDim(), 365.25 * kDay);  // Julian year
    Add("yr", TimeDim(), 365.25 * kDay);

    // Electrical.
    AddPrefixed("A", Dim({{kCurrent, 1}}), 1, {"u", "m", "k"});
    AddPrefixed("V", VoltageDim(), 1, {"m", "k"});

    // Temperature: affine when used alone.
    const Dimension temperature = Dim({{kTemperature, 1}});
    constexpr double kCelsiusOffset = 273.15;
    constexpr double kFahrenheitFactor = 5.0 / 9.0;
    constexpr double kFahrenheitOffset = 459.67 * 5.0 / 9.0;
    Add("K", temperature, 1);
    Add("degC", temperature, 1, kCelsiusOffset);
    Add(std::string(kDegreeSign) + "C", temperature, 1, kCelsiusOffset);
    Add(std::string(kDegreeCelsius), temperature, 1, kCelsiusOffset);
    Add("degF", temperature, kFahrenheitFactor, kFahrenheitOffset);
    Add(std::string(kDegreeSign) + "F", temperature, kFahrenheitFactor, kFahrenheitOffset);
    Add(std::string(kDegreeFahrenheit), temperature, kFahrenheitFactor, kFahrenheitOffset);

    // Pressure.
    AddPrefixed("Pa", PressureDim(), 1, {"h", "k", "M"});
    Add("bar", PressureDim(), 1e5);
    Add("mbar", PressureDim(), 1e2);
    Add("psi", PressureDim(), kPsi);
    Add("atm", PressureDim(), 101325);
    Add("mmHg", PressureDim(), 133.322387415);
    Add("inH2O", PressureDim(), 249.08891);  // conventional, water at 4 °C

    // Power (apparent and reactive power share the dimension of W).
    AddPrefixed("W", PowerDim(), 1, {"m", "k", "M", "G"});
    AddPrefixed("VA", PowerDim(), 1, {"k", "M"});
    AddPrefixed("var", PowerDim(), 1, {"k", "M"});
    Add("hp", PowerDim(), 745.7);

    // Energy.
    AddPrefixed("J", EnergyDim(), 1, {"k", "M", "G"});
    AddPrefixed("Wh", EnergyDim(), kHour, {"k", "M", "G"});
    Add("BTU", EnergyDim(), kBtu);
    Add("therm", EnergyDim(), 1e5 * kBtu);
    Add("kcal", EnergyDim(), 4186.8);  // International Table calorie

    // Frequency.
    AddPrefixed("Hz", FrequencyDim(), 1, {"k", "M"});
    Add("rpm", FrequencyDim(), 1.0 / 60.0);

    // Force and torque.
    AddPrefixed("N", ForceDim(), 1, {"k"});
    Add("lbf", ForceDim(), kPoundForce);
    Add("Nm", EnergyDim(), 1);
    Add("kNm", EnergyDim(), 1e3);

    // Volume and flow.
    Add("L", VolumeDim(), 1e-3);
    Add("l", VolumeDim(), 1e-3);
    Add("mL", VolumeDim(), 1e-6);
    Add("ml", VolumeDim(), 1e-6);
    Add("gal", VolumeDim(), kUsGallon);
    Add("gpm", Times(VolumeDim(), TimeDim(), -1), kUsGallon / 60);

    // Acceleration.
    Add("gn", AccelerationDim(), kStandardGravity);
    Add("g0", AccelerationDim(), kStandardGravity);
    Add("g_n", AccelerationDim(), kStandardGravity);

    // Light and amount of substance.
    Add("cd", Dim({{kLuminous, 1}}), 1);
    Add("lm", Dim({{kLuminous, 1}}), 1);  // cd·sr
    Add("lx", Dim({{kLuminous, 1}, {kLength, -2}}), 1);
    AddPrefixed("mol", Dim({{kAmount, 1}}), 1, {"m", "k"});

    // Counted things.
    for (std::string_view s : {"unit", "units", "pcs", "piece", "pieces", "part", "parts", "item",
                               "items", "count", "cycle", "cycles"}) {
      Add(std::string(s), ItemDim(), 1);
    }

    // Emissions, in kg CO2-equivalent.
    Add("gCO2e", Co2eDim(), 1e-3);
    Add("kgCO2e", Co2eDim(), 1);
    Add("tCO2e", Co2eDim(), 1e3);

    // Currencies: each its own base.
    for (std::string_view code : kCurrencies) {
      AddPrefixed(code, Dim({{code, 1}}), 1, {"k"});
    }

    symbols_.reserve(table_.size());
    for (const auto& entry : table_) symbols_.push_back(entry.first);
  }

  void Add(std::string symbol, const Dimension& dimension, double factor, double offset = 0) {
    [[maybe_unused]] const bool inserted =
        table_.emplace(std::move(symbol), SymbolInfo{dimension, factor, offset}).second;
    assert(inserted && "duplicate unit symbol");
  }

  // `symbol` and each of `prefixes` + `symbol`. "u" also adds the micro sign and Greek mu.
  void AddPrefixed(std::string_view symbol, const Dimension& dimension, double factor,
                   std::initializer_list<std::string_view> prefixes) {
    Add(std::string(symbol), dimension, factor);
    for (std::string_view prefix : prefixes) {
      const double scale = PrefixScale(prefix);
      Add(std::string(prefix) + std::string(symbol), dimension, factor * scale);
      if (prefix == "u") {
        Add(std::string(kMicroSign) + std::string(symbol), dimension, factor * scale);
        Add(std::string(kGreekMu) + std::string(symbol), dimension, factor * scale);
      }
    }
  }

  static double PrefixScale(std::string_view prefix) {
    if (prefix == "n") return 1e-9;
    if (prefix == "u") return 1e-6;
    if (prefix == "m") return 1e-3;
    if (prefix == "c") return 1e-2;
    if (prefix == "h") return 1e2;
    if (prefix == "k") return 1e3;
    if (prefix == "M") return 1e6;
    if (prefix == "G") return 1e9;
    assert(false && "unknown SI prefix");
    return 1;
  }

  std::map<std::string, SymbolInfo, std::less<>> table_;
  std::vector<std::string> symbols_;  // sorted, as the map
};

// ---------------------------------------------------------------------------------------------
// Parsing.

Status UnknownSymbolError(std::string_view name, std::string_view whole) {
  const std::vector<std::string>& symbols = SymbolTable::Get().symbols();
  auto case_insensitive_matches = [&symbols](std::string_view word) {
    std::vector<std::string> matches;
    for (const auto& s : symbols) {
      if (EqualsIgnoreAsciiCase(s, word)) matches.push_back("'" + s + "'");
    }
    return matches;
  };
  std::vector<std::string> hints = case_insensitive_matches(name);
  if (hints.empty()) {
    // "KW2": suggest for the symbol without its exponent digits.
    std::string_view stripped = name;
    while (!stripped.empty() && IsAsciiDigit(stripped.back())) stripped.remove_suffix(1);
    if (!stripped.empty() && stripped.size() < name.size()) {
      hints = case_insensitive_matches(stripped);
    }
  }
  if (hints.empty()) {
    std::string closest = ClosestMatch(name, symbols);
    if (!closest.empty()) hints.push_back("'" + closest + "'");
  }
  std::string message = "unknown unit symbol " + Quote(name) + " in " + Quote(whole);
  if (!hints.empty()) {
    message += "; did you mean " + Join(hints, " or ") + "?";
  } else {
    message +=
        "; expected a symbol such as 'm', 'kg', 's', 'kWh', 'bar', 'degC', 'm3/h' "
        "(symbols are case-sensitive)";
  }
  return InvalidArgumentError(std::move(message));
}

// "[+-]digits" as a non-zero exponent with |exponent| <= kMaxExponent.
Result<int> ParseExponent(std::string_view text, std::string_view token, std::string_view whole) {
  const std::string where = " in " + Quote(token) + (token == whole ? "" : " of " + Quote(whole));
  if (text.empty()) return InvalidArgumentError("missing exponent after '^'" + where);
  bool negative = false;
  std::string_view digits = text;
  if (digits.front() == '-' || digits.front() == '+') {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), IsAsciiDigit)) {
    return InvalidArgumentError("invalid exponent " + Quote(text) + where +
                                "; expected an integer, as in 'm^2' or 's^-1'");
  }
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  int magnitude = 0;
  for (char c : digits) {
    magnitude = magnitude * 10 + (c - '0');
    if (magnitude > kMaxExponent) break;  // stop before the value can overflow
  }
  if (magnitude > kMaxExponent) {
    return InvalidArgumentError("exponent " + Quote(text) + where +
                                " is out of range (|exponent| <= " + std::to_string(kMaxExponent) +
                                ")");
  }
  if (magnitude == 0) return InvalidArgumentError("exponent 0" + where + " is not allowed");
  return negative ? -magnitude : magnitude;
}

struct ParsedFactor {
  const SymbolInfo* info = nullptr;
  int exponent = 1;
};

// One symbol with its optional exponent, e.g. "kWh", "m^3", "m3", "s-1".
Result<ParsedFactor> ParseFactor(std::string_view token, std::string_view whole) {
  const SymbolTable& table = SymbolTable::Get();
  const size_t caret = token.find('^');
  if (caret != std::string_view::npos) {
    std::string_view base = token.substr(0, caret);
    if (base.empty()) {
      return InvalidArgumentError("missing unit symbol before '^' in " + Quote(whole));
    }
    const SymbolInfo* info = table.Find(base);
    if (info == nullptr) return UnknownSymbolError(base, whole);
    WEFT_ASSIGN_OR_RETURN(int exponent, ParseExponent(token.substr(caret + 1), token, whole));
    return ParsedFactor{info, exponent};
  }
  if (const SymbolInfo* info = table.Find(token); info != nullptr) return ParsedFactor{info, 1};

  if (std::all_of(token.begin(), token.end(), IsAsciiDigit)) {
    return InvalidArgumentError("numeric factor " + Quote(token) + " in " + Quote(whole) +
                                " is not supported; only '1' is, as in '1/s'");
  }
  // Trailing digits, optionally with a minus sign: "m3", "s2", "s-1".
  size_t digits_begin = token.size();
  while (digits_begin > 0 && IsAsciiDigit(token[digits_begin - 1])) --digits_begin;
  if (digits_begin < token.size()) {
    size_t base_end = digits_begin;
    if (base_end > 0 && token[base_end - 1] == '-') --base_end;
    std::string_view base = token.substr(0, base_end);
    if (const SymbolInfo* info = table.Find(base); info != nullptr) {
      WEFT_ASSIGN_OR_RETURN(int exponent, ParseExponent(token.substr(base_end), token, whole));
      return ParsedFactor{info, exponent};
    }
  }
  return UnknownSymbolError(token, whole);
}

struct Accumulator {
  Dimension dimension;
  double factor = 1;
  int terms = 0;
  const SymbolInfo* first = nullptr;
  int first_exponent = 0;
};

// A product of factors; `sign` is +1 for the numerator and -1 for the denominator.
Status ParseProduct(std::string_view text, int sign, std::string_view whole, Accumulator* acc) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of("*.", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = Trim(text.substr(start, end - start));
    if (segment.empty()) {
      return InvalidArgumentError("missing unit symbol in " + Quote(whole) +
                                  " (an operator with nothing on one side)");
    }
    // Within a segment, spaces multiply: "N m".
    while (!segment.empty()) {
      const size_t space = segment.find(' ');
      std::string_view token = segment.substr(0, space);
      segment = space == std::string_view::npos ? std::string_view() : Trim(segment.substr(space));
      WEFT_ASSIGN_OR_RETURN(ParsedFactor factor, ParseFactor(token, whole));
      const int exponent = sign * factor.exponent;
      for (const auto& [base, base_exponent] : factor.info->dimension.exponents) {
        AddExponent(&acc->dimension, base, base_exponent * exponent);
      }
      acc->factor *= std::pow(factor.info->factor, exponent);
      if (acc->terms == 0) {
        acc->first = factor.info;
        acc->first_exponent = exponent;
      }
      ++acc->terms;
    }
    start = end + 1;
  }
  return Status::Ok();
}

// Replaces the UTF-8 multiplication dots with '*'.
std::string NormalizeOperators(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    std::string_view rest = text.substr(i);
    if (rest.starts_with(kMiddleDot)) {
      out += '*';
      i += kMiddleDot.size();
    } else if (rest.starts_with(kDotOperator)) {
      out += '*';
      i += kDotOperator.size();
    } else {
      out += text[i];
      ++i;
    }
  }
  return out;
}

Status CheckText(std::string_view text) {
  if (text.size() > kMaxUnitLength) {
    return InvalidArgumentError("unit " + Quote(text) + " is too long (" +
                                std::to_string(text.size()) + " bytes; at most " +
                                std::to_string(kMaxUnitLength) + ")");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsControl(text[i])) {
      return InvalidArgumentError("unit " + Quote(text) + " contains a control character at byte " +
                                  std::to_string(i));
    }
  }
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return InvalidArgumentError("unit " + Quote(text) + " is not valid UTF-8 (at byte " +
                                std::to_string(bad) + ")");
  }
  return Status::Ok();
}

std::string DescribeUnit(const Unit& unit) {
  const std::string name = DescribeDimension(unit.dimension);
  const std::string formula = unit.dimension.ToString();
  return Quote(unit.symbol) + " (" + (name == formula ? name : name + ": " + formula) + ")";
}

// ---------------------------------------------------------------------------------------------
// Quantities.

struct QuantityEntry {
  std::string_view name;
  Dimension dimension;
};

// In order of preference: DescribeDimension names a dimension after its first entry.
const std::vector<QuantityEntry>& Quantities() {
  static const std::vector<QuantityEntry>* const kQuantities = new std::vector<QuantityEntry>{
      {"temperature", Dim({{kTemperature, 1}})},
      {"pressure", PressureDim()},
      {"power", PowerDim()},
      {"energy", EnergyDim()},
      {"current", Dim({{kCurrent, 1}})},
      {"voltage", VoltageDim()},
      {"frequency", FrequencyDim()},
      {"velocity", VelocityDim()},
      {"acceleration", AccelerationDim()},
      {"length", LengthDim()},
      {"area", Dim({{kLength, 2}})},
      {"volume", VolumeDim()},
      {"mass", MassDim()},
      {"mass_flow", Times(MassDim(), TimeDim(), -1)},
      {"volumetric_flow", Times(VolumeDim(), TimeDim(), -1)},
      {"density", Times(MassDim(), VolumeDim(), -1)},
      {"force", ForceDim()},
      {"time", TimeDim()},
      {"count", ItemDim()},
      {"production_rate", Times(ItemDim(), TimeDim(), -1)},
      {"illuminance", Dim({{kLuminous, 1}, {kLength, -2}})},
      {"energy_intensity", Times(EnergyDim(), ItemDim(), -1)},
      {"emission", Co2eDim()},
      {"emission_factor", Times(Co2eDim(), EnergyDim(), -1)},
      // Aliases and dimensionless quantities.
      {"temperature_difference", Dim({{kTemperature, 1}})},
      {"apparent_power", PowerDim()},
      {"reactive_power", PowerDim()},
      {"torque", EnergyDim()},
      {"rotational_speed", FrequencyDim()},
      {"vibration_velocity", VelocityDim()},
      {"vibration_acceleration", AccelerationDim()},
      {"displacement", LengthDim()},
      {"duration", TimeDim()},
      {"ratio", Dimensionless()},
      {"humidity", Dimensionless()},
      {"concentration", Dimensionless()},
      {"state", Dimensionless()},
      {"boolean", Dimensionless()},
  };
  return *kQuantities;
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Public API.

bool Dimension::dimensionless() const {
  return std::all_of(exponents.begin(), exponents.end(),
                     [](const auto& entry) { return entry.second == 0; });
}

std::string Dimension::ToString() const {
  std::string out;
  for (const auto& [base, exponent] : exponents) {
    if (exponent == 0) continue;
    if (!out.empty()) out += kMiddleDot;
    out += base;
    if (exponent != 1) out += "^" + std::to_string(exponent);
  }
  return out.empty() ? "dimensionless" : out;
}

Result<Unit> ParseUnit(std::string_view symbol) {
  WEFT_RETURN_IF_ERROR(CheckText(symbol));
  const std::string normalized = NormalizeOperators(symbol);
  const std::string_view text = Trim(normalized);

  Unit unit;
  unit.symbol = std::string(symbol);
  if (text.empty()) return unit;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '.' && IsAsciiDigit(text[i - 1]) && IsAsciiDigit(text[i + 1])) {
      return InvalidArgumentError("decimal number in unit " + Quote(symbol) +
                                  "; numeric factors are not supported (only '1', as in '1/s')");
    }
  }

  std::string_view numerator = text;
  std::string_view denominator;
  const size_t slash = text.find('/');
  const bool has_denominator = slash != std::string_view::npos;
  if (has_denominator) {
    if (text.find('/', slash + 1) != std::string_view::npos) {
      return InvalidArgumentError("more than one '/' in " + Quote(symbol) +
                                  "; everything after the first '/' is the denominator, "
                                  "as in 'kg/m*s'");
    }
    numerator = Trim(text.substr(0, slash));
    denominator = Trim(text.substr(slash + 1));
    if (numerator.empty()) {
      return InvalidArgumentError("missing unit before '/' in " + Quote(symbol) +
                                  "; write '1/s' for a reciprocal");
    }
    if (denominator.empty()) {
      return InvalidArgumentError("missing unit after '/' in " + Quote(symbol));
    }
    if (denominator.size() >= 2 && denominator.front() == '(' && denominator.back() == ')') {
      denominator = Trim(denominator.substr(1, denominator.size() - 2));
      if (denominator.empty()) {
        return InvalidArgumentError("empty parentheses in " + Quote(symbol));
      }
    }
  }
  if (numerator.find_first_of("()") != std::string_view::npos ||
      denominator.find_first_of("()") != std::string_view::npos) {
    return InvalidArgumentError("unexpected parenthesis in " + Quote(symbol) +
                                "; parentheses may only enclose the whole denominator, as in "
                                "'W/(m2*K)'");
  }

  Accumulator acc;
  WEFT_RETURN_IF_ERROR(ParseProduct(numerator, 1, symbol, &acc));
  if (has_denominator) WEFT_RETURN_IF_ERROR(ParseProduct(denominator, -1, symbol, &acc));

  for (const auto& [base, exponent] : acc.dimension.exponents) {
    if (exponent > kMaxExponent || exponent < -kMaxExponent) {
      return InvalidArgumentError("unit " + Quote(symbol) + " has exponent " +
                                  std::to_string(exponent) + " for " + base +
                                  " (|exponent| <= " + std::to_string(kMaxExponent) + ")");
    }
  }
  if (!std::isfinite(acc.factor) || acc.factor <= 0) {
    return InvalidArgumentError("unit " + Quote(symbol) + " has a scale factor out of range");
  }
  unit.dimension = std::move(acc.dimension);
  unit.factor = acc.factor;
  if (acc.terms == 1 && !has_denominator && acc.first_exponent == 1) {
    unit.offset = acc.first->offset;
  }
  return unit;
}

bool Convertible(const Unit& a, const Unit& b) {
  return a.dimension == b.dimension;
}

Result<double> Convert(double value, const Unit& from, const Unit& to) {
  if (!Convertible(from, to)) {
    return InvalidArgumentError("cannot convert from " + DescribeUnit(from) + " to " +
                                DescribeUnit(to) + ": the dimensions differ");
  }
  if (!std::isfinite(to.factor) || to.factor == 0) {
    return InvalidArgumentError("cannot convert to " + Quote(to.symbol) + ": its factor " +
                                std::to_string(to.factor) + " is not a finite non-zero number");
  }
  if (from.factor == to.factor && from.offset == to.offset) return value;
  // Scale first and shift by the offset difference, which avoids cancellation in
  // (value * from.factor + from.offset - to.offset) for affine temperatures.
  return value * (from.factor / to.factor) + (from.offset - to.offset) / to.factor;
}

Result<Dimension> QuantityDimension(std::string_view quantity) {
  for (const auto& entry : Quantities()) {
    if (entry.name == quantity) return entry.dimension;
  }
  std::string message =
      "unknown quantity " + Quote(quantity) + "; expected one of: " + Join(KnownQuantities(), ", ");
  if (std::string closest = ClosestMatch(quantity, KnownQuantities()); !closest.empty()) {
    message += "; did you mean '" + closest + "'?";
  }
  return InvalidArgumentError(std::move(message));
}

const std::vector<std::string>& KnownQuantities() {
  static const std::vector<std::string>* const kNames = [] {
    auto* names = new std::vector<std::string>();
    for (const auto& entry : Quantities()) names->emplace_back(entry.name);
    std::sort(names->begin(), names->end());
    return names;
  }();
  return *kNames;
}

std::string DescribeDimension(const Dimension& d) {
  if (d.dimensionless()) return "dimensionless";
  for (const auto& entry : Quantities()) {
    if (entry.dimension == d) return std::string(entry.name);
  }
  return d.ToString();
}

const std::vector<std::string>& KnownUnitSymbols() {
  return SymbolTable::Get().symbols();
}

}  // namespace weft::model
