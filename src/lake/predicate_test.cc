#include "lake/predicate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"

namespace weft::lake {
namespace {

using ::testing::HasSubstr;

const std::vector<BatchField> kSchema = {{"ts", ColumnType::kTimestampMicros, false},
                                         {"asset", ColumnType::kString},
                                         {"value", ColumnType::kDouble},
                                         {"quality", ColumnType::kInt32}};

RecordBatch Rows() {
  RecordBatch b(kSchema);
  const int64_t t0 = *ParseTimestampMicros("2026-11-01T00:00:00Z");
  const char* assets[] = {"m1", "m2", "m1", "p1"};
  for (int i = 0; i < 4; ++i) {
    b.column(0).AppendInt(t0 + int64_t{i} * 3'600'000'000);
    b.column(1).AppendString(assets[i]);
    if (i == 3) {
      b.column(2).AppendNull();
    } else {
      b.column(2).AppendDouble(1.5 * i);
    }
    b.column(3).AppendInt(192);
  }
  return b;
}

TEST(Predicate, FiltersRowsWithTypedLiterals) {
  auto p = Predicate::Parse("asset = 'm1' and ts >= '2026-11-01T01:00:00Z'", kSchema);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->Evaluate(Rows()), (std::vector<uint8_t>{0, 0, 1, 0}));
  auto q = Predicate::Parse("value IS NULL", kSchema);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->Evaluate(Rows()), (std::vector<uint8_t>{0, 0, 0, 1}));
  auto r = Predicate::Parse("value <> 1.5 and value is not null", kSchema);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Evaluate(Rows()), (std::vector<uint8_t>{1, 0, 1, 0}));
  auto s = Predicate::Parse("asset = 'it''s'", kSchema);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(std::get<std::string>(s->terms()[0].literal), "it's");
}

TEST(Predicate, ErrorsNameThePlaceAndTheProblem) {
  auto unknown = Predicate::Parse("asest = 'm1'", kSchema);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("at 1: unknown column 'asest'; did you mean 'asset'?"));
  auto bad_number = Predicate::Parse("asset = 'm1' and value > abc", kSchema);
  ASSERT_FALSE(bad_number.ok());
  EXPECT_THAT(bad_number.status().message(),
              HasSubstr("at 26: 'abc' is not a number for column 'value' (double)"));
  auto bad_ts = Predicate::Parse("ts > '2026-13-01'", kSchema);
  ASSERT_FALSE(bad_ts.ok());
  EXPECT_THAT(bad_ts.status().message(), HasSubstr("column 'ts'"));
  EXPECT_THAT(Predicate::Parse("asset = 'm1' or asset = 'm2'", kSchema).status().message(),
              HasSubstr("'or' is not supported yet"));
  EXPECT_THAT(Predicate::Parse("asset = 'm1", kSchema).status().message(), HasSubstr("not closed"));
  EXPECT_THAT(Predicate::Parse("asset = null", kSchema).status().message(), HasSubstr("is null"));
  EXPECT_THAT(Predicate::Parse("asset = 'm1' and", kSchema).status().message(),
              HasSubstr("expected a column name"));
  EXPECT_TRUE(Predicate::Parse("", kSchema)->empty());
}

TEST(Predicate, SkipsFilesThatStatisticsRuleOut) {
  auto p = *Predicate::Parse("asset = 'm5' and value >= 10", kSchema);
  auto stats_for = [](Scalar amin, Scalar amax, Scalar vmin, Scalar vmax) {
    return [=](std::string_view col) -> std::optional<ColumnStats> {
      ColumnStats s;
      s.row_count = 10;
      s.null_count = 0;
      if (col == "asset") {
        s.min = amin;
        s.max = amax;
      } else if (col == "value") {
        s.min = vmin;
        s.max = vmax;
      } else {
        return std::nullopt;
      }
      return s;
    };
  };
  EXPECT_TRUE(p.MayMatch(stats_for(std::string("m1"), std::string("m9"), 0.0, 20.0)));
  EXPECT_FALSE(p.MayMatch(stats_for(std::string("m6"), std::string("m9"), 0.0, 20.0)));
  EXPECT_FALSE(p.MayMatch(stats_for(std::string("m1"), std::string("m9"), 0.0, 9.5)));
  EXPECT_TRUE(p.MayMatch(stats_for(std::string("m1"), std::string("m9"), 0.0, std::nan(""))));
  EXPECT_TRUE(p.MayMatch([](std::string_view) { return std::optional<ColumnStats>(); }));
  auto nulls = *Predicate::Parse("value is null", kSchema);
  EXPECT_FALSE(nulls.MayMatch(stats_for(std::string("a"), std::string("b"), 0.0, 1.0)));
}

TEST(SchemaText, ParsesTheCreateForm) {
  auto f = ParseSchemaText("ts timestamp not null, asset string,value DOUBLE");
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].type, ColumnType::kTimestampMicros);
  EXPECT_FALSE((*f)[0].nullable);
  EXPECT_TRUE((*f)[1].nullable);
  EXPECT_EQ((*f)[2].type, ColumnType::kDouble);
  EXPECT_THAT(ParseSchemaText("ts timestmp").status().message(),
              HasSubstr("schema entry 1 ('ts timestmp'): unknown type 'timestmp'; did you mean "
                        "'timestamp'?"));
  EXPECT_THAT(ParseSchemaText("a int, a long").status().message(), HasSubstr("twice"));
  EXPECT_THAT(ParseSchemaText("a int,").status().message(), HasSubstr("schema entry 2"));
}

}  // namespace
}  // namespace weft::lake
