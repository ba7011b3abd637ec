#include "lake/text_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::lake {
namespace {

using ::testing::HasSubstr;

const std::vector<BatchField> kSchema = {{"ts", ColumnType::kTimestampMicros, false},
                                         {"asset", ColumnType::kString},
                                         {"value", ColumnType::kDouble},
                                         {"ok", ColumnType::kBoolean},
                                         {"day", ColumnType::kDate}};

TEST(TextIo, CsvRoundTripsEveryTypeAndNull) {
  const std::string csv =
      "asset,ts,value,ok,day\n"
      "m1,2026-11-01T00:00:00Z,0.1,true,2026-11-01\n"
      "\"a,\"\"b\"\"\",2026-11-01 00:00:01.5+00:00,,false,\n"
      "\"\",2026-11-01T00:00:02Z,-1e+300,,\n";
  auto batch = ReadCsv(csv, kSchema, "rows.csv");
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  ASSERT_EQ(batch->num_rows(), 3u);
  EXPECT_EQ(batch->column(1).StringAt(1), "a,\"b\"");
  EXPECT_TRUE(batch->column(1).IsValid(2));  // "" is the empty string, not null
  EXPECT_FALSE(batch->column(2).IsValid(1));
  std::string out;
  WriteCsvHeader(batch->fields(), &out);
  WriteCsvRows(*batch, &out);
  EXPECT_EQ(out,
            "ts,asset,value,ok,day\n"
            "2026-11-01T00:00:00.000000Z,m1,0.1,true,2026-11-01\n"
            "2026-11-01T00:00:01.500000Z,\"a,\"\"b\"\"\",,false,\n"
            "2026-11-01T00:00:02.000000Z,\"\",-1e+300,,\n");
  auto again = ReadCsv(out, kSchema, "out.csv");
  ASSERT_TRUE(again.ok()) << again.status().message();
  std::string out2;
  WriteCsvHeader(again->fields(), &out2);
  WriteCsvRows(*again, &out2);
  EXPECT_EQ(out2, out);
}

TEST(TextIo, CsvErrorsNameTheLineAndColumn) {
  EXPECT_THAT(ReadCsv("ts,value\n2026-11-01,abc\n", kSchema, "r.csv").status().message(),
              HasSubstr("r.csv:2: column 'value': 'abc' is not a number"));
  EXPECT_THAT(ReadCsv("ts,valeu\n", kSchema, "r.csv").status().message(),
              HasSubstr("r.csv:1: unknown column 'valeu'; did you mean 'value'?"));
  EXPECT_THAT(ReadCsv("asset\nm1\n", kSchema, "r.csv").status().message(),
              HasSubstr("column 'ts' is missing and may not be null"));
  EXPECT_THAT(ReadCsv("ts,asset\n2026-11-01,\"m1\n", kSchema, "r.csv").status().message(),
              HasSubstr("r.csv:2: a quoted field is not closed"));
  EXPECT_THAT(ReadCsv("ts,asset\n2026-11-01\n", kSchema, "r.csv").status().message(),
              HasSubstr("r.csv:2: expected 2 fields"));
  EXPECT_THAT(ReadCsv("ts\n\n,\n", kSchema, "r.csv").status().message(),
              HasSubstr("r.csv:3: expected 1 fields"));
  EXPECT_FALSE(ReadCsv("", kSchema, "r.csv").ok());
}

TEST(TextIo, JsonlReadsAndWrites) {
  const std::string jsonl =
      "{\"ts\": \"2026-11-01T00:00:00Z\", \"asset\": \"m1\", \"value\": 2, \"ok\": true}\n"
      "\n"
      "{\"ts\": 1793491200000001, \"asset\": null, \"value\": 0.25}\n";
  auto batch = ReadJsonl(jsonl, kSchema, "rows.jsonl");
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  std::string out;
  WriteJsonlRows(*batch, &out);
  EXPECT_EQ(out,
            "{\"ts\":\"2026-11-01T00:00:00.000000Z\",\"asset\":\"m1\",\"value\":2.0,\"ok\":true,"
            "\"day\":null}\n"
            "{\"ts\":\"2026-11-01T00:00:00.000001Z\",\"asset\":null,\"value\":0.25,\"ok\":null,"
            "\"day\":null}\n");
  EXPECT_THAT(ReadJsonl("{\"ts\": \"2026-11-01\", \"value\": \"x\"}\n", kSchema, "r.jsonl")
                  .status()
                  .message(),
              HasSubstr("r.jsonl:1: column 'value': 'x' is not a number"));
  EXPECT_THAT(ReadJsonl("[1]\n", kSchema, "r.jsonl").status().message(),
              HasSubstr("r.jsonl:1: expected a JSON object"));
  EXPECT_THAT(ReadJsonl("{\"ts\": \n", kSchema, "r.jsonl").status().message(),
              HasSubstr("r.jsonl:1: not valid JSON"));
  EXPECT_THAT(
      ReadJsonl("{\"ts\": \"2026-11-01\", \"ok\": 3}\n", kSchema, "r.jsonl").status().message(),
      HasSubstr("column 'ok': 3 is not a boolean"));
}

}  // namespace
}  // namespace weft::lake
