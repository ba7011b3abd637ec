#include "model/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

namespace weft::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

Dimension Dim(std::vector<std::pair<std::string, int>> terms) {
  Dimension d;
  for (auto& [base, exponent] : terms) d.exponents[base] = exponent;
  return d;
}

Unit MustParse(std::string_view symbol) {
  Result<Unit> unit = ParseUnit(symbol);
  EXPECT_TRUE(unit.ok()) << symbol << ": " << unit.status().ToString();
  return unit.value_or(Unit{});
}

// Converts `value` from `from` to `to`, failing the test on error.
double Conv(double value, std::string_view from, std::string_view to) {
  Result<double> out = Convert(value, MustParse(from), MustParse(to));
  EXPECT_TRUE(out.ok()) << from << " -> " << to << ": " << out.status().ToString();
  return out.value_or(std::nan(""));
}

Status ParseError(std::string_view symbol) {
  Result<Unit> unit = ParseUnit(symbol);
  EXPECT_FALSE(unit.ok()) << "'" << symbol << "' parsed unexpectedly";
  return unit.status();
}

TEST(Units, ParsesSimpleSymbols) {
  Unit m = MustParse("m");
  EXPECT_EQ(m.symbol, "m");
  EXPECT_EQ(m.dimension, Dim({{"length", 1}}));
  EXPECT_EQ(m.factor, 1.0);
  EXPECT_EQ(m.offset, 0.0);

  Unit bar = MustParse("bar");
  EXPECT_EQ(bar.dimension, Dim({{"mass", 1}, {"length", -1}, {"time", -2}}));
  EXPECT_DOUBLE_EQ(bar.factor, 1e5);

  EXPECT_DOUBLE_EQ(MustParse("h").factor, 3600.0);
  EXPECT_DOUBLE_EQ(MustParse("year").factor, 365.25 * 86400.0);
  EXPECT_DOUBLE_EQ(MustParse("in").factor, 0.0254);
  EXPECT_DOUBLE_EQ(MustParse("lb").factor, 0.45359237);
  EXPECT_DOUBLE_EQ(MustParse("gal").factor, 3.785411784e-3);
  EXPECT_DOUBLE_EQ(MustParse("hp").factor, 745.7);
  EXPECT_DOUBLE_EQ(MustParse("gn").factor, 9.80665);
  EXPECT_EQ(MustParse("g_n").dimension, Dim({{"length", 1}, {"time", -2}}));
  EXPECT_EQ(MustParse("g0").dimension, Dim({{"length", 1}, {"time", -2}}));
  EXPECT_EQ(MustParse("lx").dimension, Dim({{"luminous", 1}, {"length", -2}}));
  EXPECT_EQ(MustParse("pcs").dimension, Dim({{"item", 1}}));
  EXPECT_EQ(MustParse("cycles").dimension, Dim({{"item", 1}}));
  EXPECT_EQ(MustParse("tCO2e").dimension, Dim({{"co2e", 1}}));
  EXPECT_DOUBLE_EQ(MustParse("tCO2e").factor, 1000.0);
  EXPECT_EQ(MustParse("EUR").dimension, Dim({{"EUR", 1}}));
  EXPECT_DOUBLE_EQ(MustParse("kEUR").factor, 1000.0);
  EXPECT_EQ(MustParse("var").dimension, MustParse("W").dimension);
  EXPECT_EQ(MustParse("Nm").dimension, MustParse("J").dimension);
}

TEST(Units, ParsesPrefixedSymbolsCaseSensitively) {
  EXPECT_DOUBLE_EQ(MustParse("mW").factor, 1e-3);
  EXPECT_DOUBLE_EQ(MustParse("MW").factor, 1e6);
  EXPECT_DOUBLE_EQ(MustParse("kPa").factor, 1e3);
  EXPECT_DOUBLE_EQ(MustParse("hPa").factor, 1e2);
  EXPECT_DOUBLE_EQ(MustParse("mbar").factor, 1e2);
  EXPECT_DOUBLE_EQ(MustParse("um").factor, 1e-6);
  EXPECT_DOUBLE_EQ(MustParse("\xC2\xB5m").factor, 1e-6);  // µm
  EXPECT_DOUBLE_EQ(MustParse("kA").factor, 1e3);
  EXPECT_DOUBLE_EQ(MustParse("kV").factor, 1e3);
  EXPECT_DOUBLE_EQ(MustParse("g").factor, 1e-3);
  EXPECT_DOUBLE_EQ(MustParse("kg").factor, 1.0);
  EXPECT_DOUBLE_EQ(MustParse("kWh").factor, 3.6e6);
  EXPECT_DOUBLE_EQ(MustParse("GWh").factor, 3.6e12);
  EXPECT_DOUBLE_EQ(MustParse("ms").factor, 1e-3);  // millisecond, not metre-second
  EXPECT_EQ(MustParse("ms").dimension, Dim({{"time", 1}}));
}

TEST(Units, ParsesCompoundExpressions) {
  Unit flow = MustParse("m3/h");
  EXPECT_EQ(flow.symbol, "m3/h");
  EXPECT_EQ(flow.dimension, Dim({{"length", 3}, {"time", -1}}));
  EXPECT_DOUBLE_EQ(flow.factor, 1.0 / 3600.0);
  EXPECT_EQ(flow.dimension.ToString(), "length^3\xC2\xB7time^-1");

  EXPECT_EQ(MustParse("kg/m3").dimension, Dim({{"mass", 1}, {"length", -3}}));
  EXPECT_EQ(MustParse("m/s2").dimension, Dim({{"length", 1}, {"time", -2}}));
  EXPECT_EQ(MustParse("EUR/kWh").dimension,
            Dim({{"EUR", 1}, {"mass", -1}, {"length", -2}, {"time", 2}}));
  EXPECT_EQ(MustParse("kWh/unit").dimension,
            Dim({{"mass", 1}, {"length", 2}, {"time", -2}, {"item", -1}}));

  // All multiplication spellings agree.
  const Unit torque = MustParse("N*m");
  for (std::string_view s : {"N m", "N.m", "N\xC2\xB7m", "Nm", " N * m "}) {
    Unit u = MustParse(s);
    EXPECT_EQ(u.dimension, torque.dimension) << s;
    EXPECT_DOUBLE_EQ(u.factor, torque.factor) << s;
  }
  // Everything after '/' is the denominator; parentheses around it are allowed.
  const Unit u_value = MustParse("W/m2*K");
  EXPECT_EQ(u_value.dimension, Dim({{"mass", 1}, {"time", -3}, {"temperature", -1}}));
  EXPECT_EQ(MustParse("W/(m2*K)").dimension, u_value.dimension);
  EXPECT_EQ(MustParse("1/s").dimension, Dim({{"time", -1}}));
  EXPECT_EQ(MustParse("kW.h").factor, 3.6e6);
}

TEST(Units, ParsesExponentForms) {
  const Dimension volume = Dim({{"length", 3}});
  EXPECT_EQ(MustParse("m3").dimension, volume);
  EXPECT_EQ(MustParse("m^3").dimension, volume);
  EXPECT_DOUBLE_EQ(MustParse("cm3").factor, 1e-6);
  EXPECT_DOUBLE_EQ(MustParse("mm^2").factor, 1e-6);
  EXPECT_EQ(MustParse("s^-1").dimension, Dim({{"time", -1}}));
  EXPECT_EQ(MustParse("m s-1").dimension, Dim({{"length", 1}, {"time", -1}}));
  EXPECT_EQ(MustParse("m^16").dimension, Dim({{"length", 16}}));
  EXPECT_EQ(MustParse("m^-16").dimension, Dim({{"length", -16}}));
  EXPECT_EQ(MustParse("m/m").dimension, Dimension{});
  EXPECT_TRUE(MustParse("m/m").dimension.exponents.empty());
}

TEST(Units, DimensionlessForms) {
  for (std::string_view s : {"", "1", "  ", "%", "percent", "ppm", "ppb", "ratio", "%RH"}) {
    Unit u = MustParse(s);
    EXPECT_TRUE(u.dimension.dimensionless()) << "'" << s << "'";
    EXPECT_EQ(u.dimension.ToString(), "dimensionless") << "'" << s << "'";
  }
  EXPECT_EQ(MustParse("").factor, 1.0);
  EXPECT_EQ(MustParse("1").factor, 1.0);
  EXPECT_DOUBLE_EQ(MustParse("%RH").factor, 0.01);
  EXPECT_DOUBLE_EQ(MustParse("ppm").factor, 1e-6);
  EXPECT_FALSE(MustParse("m").dimension.dimensionless());
}

TEST(Units, ConvertsTemperaturesAffinely) {
  EXPECT_NEAR(Conv(100, "degC", "degF"), 212.0, 1e-9);
  EXPECT_NEAR(Conv(0, "degC", "degF"), 32.0, 1e-9);
  EXPECT_NEAR(Conv(-40, "degC", "degF"), -40.0, 1e-9);
  EXPECT_NEAR(Conv(212, "degF", "K"), 373.15, 1e-9);
  EXPECT_NEAR(Conv(32, "degF", "K"), 273.15, 1e-9);
  EXPECT_NEAR(Conv(25, "degC", "K"), 298.15, 1e-9);
  const std::string degree_c = std::string("\xC2\xB0") + "C";  // °C
  const std::string degree_f = std::string("\xC2\xB0") + "F";  // °F
  EXPECT_NEAR(Conv(0, "K", degree_c), -273.15, 1e-9);
  EXPECT_NEAR(Conv(98.6, degree_f, "degC"), 37.0, 1e-9);
  EXPECT_DOUBLE_EQ(MustParse("degC").offset, 273.15);
}

TEST(Units, TemperatureInCompoundIsADifference) {
  Unit rate = MustParse("degC/h");
  EXPECT_EQ(rate.offset, 0.0);
  EXPECT_DOUBLE_EQ(rate.factor, 1.0 / 3600.0);
  EXPECT_DOUBLE_EQ(Conv(5, "degC/h", "K/h"), 5.0);
  EXPECT_DOUBLE_EQ(Conv(9, "degF/min", "K/min"), 5.0);
  EXPECT_EQ(MustParse("degC^2").offset, 0.0);
  EXPECT_EQ(MustParse("1/degC").offset, 0.0);
}

TEST(Units, ConvertsExactValues) {
  EXPECT_NEAR(Conv(1, "bar", "psi"), 14.503773773020923, 1e-12);
  EXPECT_NEAR(Conv(1, "psi", "Pa"), 6894.757293168361, 1e-9);
  EXPECT_DOUBLE_EQ(Conv(6, "m3/h", "L/min"), 100.0);
  EXPECT_DOUBLE_EQ(Conv(1, "kWh", "MJ"), 3.6);
  EXPECT_DOUBLE_EQ(Conv(60, "rpm", "Hz"), 1.0);
  EXPECT_DOUBLE_EQ(Conv(3000, "rpm", "Hz"), 50.0);
  EXPECT_DOUBLE_EQ(Conv(2 * std::numbers::pi, "rad/s", "rpm"), 60.0);
  EXPECT_DOUBLE_EQ(Conv(50, "%", "ratio"), 0.5);
  EXPECT_DOUBLE_EQ(Conv(1, "ratio", "ppm"), 1e6);
  EXPECT_DOUBLE_EQ(Conv(1, "kWh/unit", "MJ/pcs"), 3.6);
  EXPECT_DOUBLE_EQ(Conv(1, "h/year", "min/year"), 60.0);
  EXPECT_DOUBLE_EQ(Conv(1, "gpm", "gal/min"), 1.0);
  EXPECT_DOUBLE_EQ(Conv(1, "gpm", "L/min"), 3.785411784);
  EXPECT_DOUBLE_EQ(Conv(1, "gn", "m/s2"), 9.80665);
  EXPECT_DOUBLE_EQ(Conv(1, "km", "m"), 1000.0);
  EXPECT_DOUBLE_EQ(Conv(12, "in", "ft"), 1.0);
  EXPECT_DOUBLE_EQ(Conv(1, "kgCO2e/kWh", "gCO2e/kWh"), 1000.0);
  EXPECT_DOUBLE_EQ(Conv(1, "week", "d"), 7.0);
  EXPECT_DOUBLE_EQ(Conv(2.5, "kW", "kW"), 2.5);
}

TEST(Units, NonConvertibleUnitsNameBothSides) {
  Unit bar = MustParse("bar");
  Unit kwh = MustParse("kWh");
  EXPECT_FALSE(Convertible(bar, kwh));
  EXPECT_TRUE(Convertible(bar, MustParse("psi")));
  Result<double> out = Convert(1, bar, kwh);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), AllOf(HasSubstr("'bar'"), HasSubstr("pressure"),
                                            HasSubstr("'kWh'"), HasSubstr("energy")));

  Result<double> temp = Convert(1, MustParse("degC"), MustParse("degC/h"));
  ASSERT_FALSE(temp.ok());
  EXPECT_THAT(temp.status().message(), AllOf(HasSubstr("'degC'"), HasSubstr("'degC/h'")));
}

TEST(Units, CurrenciesAreNotConvertible) {
  EXPECT_FALSE(Convertible(MustParse("EUR"), MustParse("USD")));
  EXPECT_FALSE(Convertible(MustParse("EUR/kWh"), MustParse("CHF/kWh")));
  EXPECT_TRUE(Convertible(MustParse("EUR/kWh"), MustParse("kEUR/MWh")));
  EXPECT_DOUBLE_EQ(Conv(0.25, "EUR/kWh", "kEUR/MWh"), 0.25);
  Result<double> out = Convert(1, MustParse("EUR"), MustParse("USD"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), AllOf(HasSubstr("'EUR'"), HasSubstr("'USD'")));
}

TEST(Units, UnknownSymbolsGetAHint) {
  Status s = ParseError("kwh");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown unit symbol 'kwh' in 'kwh'; did you mean 'kWh'?");

  // Case-insensitive matches are all offered.
  EXPECT_THAT(ParseError("mw").message(), HasSubstr("did you mean 'MW' or 'mW'?"));
  // The offending symbol is named inside a compound.
  EXPECT_THAT(ParseError("EUR/kwh").message(),
              AllOf(HasSubstr("'kwh'"), HasSubstr("'EUR/kwh'"), HasSubstr("'kWh'")));
  EXPECT_THAT(ParseError("KG^2").message(), AllOf(HasSubstr("'KG'"), HasSubstr("'kg'")));
  // A typo.
  EXPECT_THAT(ParseError("mbr").message(), HasSubstr("did you mean 'mbar'?"));
  // Nothing close: a general hint instead.
  EXPECT_THAT(ParseError("furlong").message(),
              AllOf(HasSubstr("'furlong'"), HasSubstr("case-sensitive")));
  EXPECT_THAT(ParseError("2/s").message(), HasSubstr("numeric factor '2'"));
  EXPECT_THAT(ParseError("1.5/s").message(), HasSubstr("decimal number in unit '1.5/s'"));
}

TEST(Units, MalformedExpressionsAreRejected) {
  for (std::string_view s : {"/", "m//s", "m/", "/s", "m**s", "m*", "*m", "m/s/h", "m^", "m^x",
                             "m^-", "^2", "m^0", "m^1.5", "(m)", "W/(m", "W/()", "1.5"}) {
    Result<Unit> u = ParseUnit(s);
    EXPECT_FALSE(u.ok()) << "'" << s << "' parsed";
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << s;
  }
  EXPECT_THAT(ParseError("m//s").message(), HasSubstr("more than one '/'"));
  EXPECT_THAT(ParseError("m^").message(), HasSubstr("missing exponent"));
  EXPECT_THAT(ParseError("m^x").message(), HasSubstr("invalid exponent 'x'"));
}

TEST(Units, ExponentsAreBounded) {
  for (std::string_view s : {"m^99999999999", "m^-99999999999", "m^17", "m99999999999999999999",
                             "m^16*m", "s^16/s^-16", "GWh^16*GWh^16*GWh^16"}) {
    Result<Unit> u = ParseUnit(s);
    EXPECT_FALSE(u.ok()) << "'" << s << "' parsed";
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << s;
  }
  EXPECT_THAT(ParseError("m^99999999999").message(), HasSubstr("out of range"));
  EXPECT_EQ(MustParse("m^0000000000000000000003").dimension, Dim({{"length", 3}}));
  // Each exponent is in range, but the scale factor 1e384 is not representable.
  EXPECT_THAT(
      ParseError("kEUR^16*kUSD^16*kGBP^16*kCHF^16*kCNY^16*kJPY^16*kINR^16*kCAD^16").message(),
      HasSubstr("scale factor out of range"));
}

TEST(Units, HostileInputFailsCleanly) {
  std::string long_input;
  while (long_input.size() < 10 * 1024) long_input += "m*";
  Result<Unit> long_result = ParseUnit(long_input);
  ASSERT_FALSE(long_result.ok());
  EXPECT_EQ(long_result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(long_result.status().message(), HasSubstr("too long"));
  EXPECT_LT(long_result.status().message().size(), 200u);

  const std::string with_nul("m\0s", 3);
  Status nul = ParseError(with_nul);
  EXPECT_EQ(nul.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(nul.message(), HasSubstr("\\x00"));
  EXPECT_EQ(nul.message().find('\0'), std::string::npos);

  const std::string garbage = "k\xC3\x28W\xFF\xFE";
  Status bad_utf8 = ParseError(garbage);
  EXPECT_EQ(bad_utf8.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_utf8.message(), AllOf(HasSubstr("UTF-8"), HasSubstr("\\xFF")));
  EXPECT_EQ(bad_utf8.message().find('\xFF'), std::string::npos);

  // Well-formed but unknown UTF-8 is an unknown symbol, quoted as is.
  Status emoji = ParseError("\xF0\x9F\x94\xA5/s");
  EXPECT_THAT(emoji.message(), HasSubstr("unknown unit symbol '\xF0\x9F\x94\xA5'"));
  EXPECT_EQ(ParseError("m\ts").code(), StatusCode::kInvalidArgument);
}

TEST(Units, QuantityDimensions) {
  EXPECT_EQ(*QuantityDimension("pressure"), MustParse("bar").dimension);
  EXPECT_EQ(*QuantityDimension("temperature"), MustParse("K").dimension);
  EXPECT_EQ(*QuantityDimension("temperature_difference"), MustParse("K").dimension);
  EXPECT_EQ(*QuantityDimension("volumetric_flow"), MustParse("m3/h").dimension);
  EXPECT_EQ(*QuantityDimension("mass_flow"), MustParse("kg/h").dimension);
  EXPECT_EQ(*QuantityDimension("rotational_speed"), MustParse("rpm").dimension);
  EXPECT_EQ(*QuantityDimension("vibration_velocity"), MustParse("mm/s").dimension);
  EXPECT_EQ(*QuantityDimension("vibration_acceleration"), MustParse("g_n").dimension);
  EXPECT_EQ(*QuantityDimension("torque"), MustParse("N*m").dimension);
  EXPECT_EQ(*QuantityDimension("production_rate"), MustParse("pcs/h").dimension);
  EXPECT_EQ(*QuantityDimension("energy_intensity"), MustParse("kWh/unit").dimension);
  EXPECT_EQ(*QuantityDimension("emission_factor"), MustParse("gCO2e/kWh").dimension);
  EXPECT_EQ(*QuantityDimension("illuminance"), MustParse("lx").dimension);
  EXPECT_EQ(*QuantityDimension("voltage"), MustParse("kV").dimension);
  EXPECT_EQ(*QuantityDimension("count"), MustParse("cycles").dimension);
  EXPECT_TRUE(QuantityDimension("humidity")->dimensionless());
  EXPECT_TRUE(QuantityDimension("state")->dimensionless());
  EXPECT_TRUE(QuantityDimension("boolean")->dimensionless());
  EXPECT_NE(*QuantityDimension("power"), *QuantityDimension("energy"));
}

TEST(Units, UnknownQuantityListsChoicesAndHint) {
  Result<Dimension> d = QuantityDimension("presure");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(),
              AllOf(HasSubstr("unknown quantity 'presure'; expected one of: "),
                    HasSubstr("volumetric_flow"), HasSubstr("did you mean 'pressure'?")));
  EXPECT_FALSE(QuantityDimension("Pressure").ok());
  EXPECT_FALSE(QuantityDimension("").ok());
  EXPECT_FALSE(QuantityDimension("currency").ok());
}

TEST(Units, KnownQuantitiesAreSortedAndResolvable) {
  const std::vector<std::string>& names = KnownQuantities();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  EXPECT_GE(names.size(), 30u);
  for (const auto& name : names) EXPECT_TRUE(QuantityDimension(name).ok()) << name;
}

TEST(Units, DescribeDimensionPrefersReadableNames) {
  EXPECT_EQ(DescribeDimension(MustParse("bar").dimension), "pressure");
  EXPECT_EQ(DescribeDimension(MustParse("J").dimension), "energy");
  EXPECT_EQ(DescribeDimension(MustParse("degC").dimension), "temperature");
  EXPECT_EQ(DescribeDimension(MustParse("rpm").dimension), "frequency");
  EXPECT_EQ(DescribeDimension(MustParse("m3/h").dimension), "volumetric_flow");
  EXPECT_EQ(DescribeDimension(MustParse("%").dimension), "dimensionless");
  EXPECT_EQ(DescribeDimension(MustParse("m^4").dimension), "length^4");
  EXPECT_EQ(DescribeDimension(MustParse("EUR/kWh").dimension),
            "EUR\xC2\xB7length^-2\xC2\xB7mass^-1\xC2\xB7time^2");
}

TEST(Units, SymbolTableIsConsistent) {
  const std::vector<std::string>& symbols = KnownUnitSymbols();
  EXPECT_TRUE(std::is_sorted(symbols.begin(), symbols.end()));
  for (std::string_view s : {"m", "kWh", "degC", "%RH", "pcs", "kgCO2e", "CZK", "gpm", "rad"}) {
    EXPECT_TRUE(std::binary_search(symbols.begin(), symbols.end(), std::string(s))) << s;
  }
  for (const auto& s : symbols) {
    Result<Unit> u = ParseUnit(s);
    ASSERT_TRUE(u.ok()) << s << ": " << u.status().ToString();
    EXPECT_GT(u->factor, 0.0) << s;
    EXPECT_TRUE(std::isfinite(u->factor)) << s;
  }
}

}  // namespace
}  // namespace weft::model
