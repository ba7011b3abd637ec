#include "lake/parquet/source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace weft::lake::parquet {
namespace {

TEST(SourceTest, MemoryAndLocalFile) {
  MemorySource mem("0123456789", "m");
  EXPECT_EQ(*mem.Size(), 10u);
  EXPECT_EQ(*mem.Read(2, 3), "234");
  EXPECT_EQ(mem.Read(8, 3).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(mem.Read(UINT64_MAX, 1).status().code(), StatusCode::kOutOfRange);

  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("weft_source_test_" + std::to_string(::getpid()));
  {
    std::ofstream out(p, std::ios::binary);
    out << "hello parquet";
  }
  auto file = LocalFileSource::Open(p.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*(*file)->Size(), 13u);
  EXPECT_EQ(*(*file)->Read(6, 7), "parquet");
  EXPECT_FALSE((*file)->Read(6, 8).ok());
  std::filesystem::remove(p);
  EXPECT_EQ(LocalFileSource::Open(p.string()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace weft::lake::parquet
