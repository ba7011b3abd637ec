#include "common/file_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace weft {
namespace {

std::string TempPath(const std::string& leaf) {
  return (std::filesystem::temp_directory_path() /
          ("weft_file_io_test_" + std::to_string(::getpid()) + "_" + leaf))
      .string();
}

TEST(ReadFileUpToTest, ReadsAFileWholeUpToItsBound) {
  const std::string p = TempPath("ok");
  const std::string body(70000, 'x');  // more than one 64 KiB chunk
  std::ofstream(p, std::ios::binary) << body;
  Result<std::string> r = ReadFileUpTo(p, body.size());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, body);
  std::remove(p.c_str());
}

TEST(ReadFileUpToTest, ALargerFileIsRefusedNamingPathAndBound) {
  const std::string p = TempPath("big");
  std::ofstream(p, std::ios::binary) << std::string(101, 'y');
  Result<std::string> r = ReadFileUpTo(p, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), p + ": larger than 100 bytes");
  std::remove(p.c_str());
}

TEST(ReadFileUpToTest, AMissingFileIsNotFoundNamingIt) {
  Result<std::string> r = ReadFileUpTo(TempPath("missing"), 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("cannot read " + TempPath("missing")), std::string::npos);
}

}  // namespace
}  // namespace weft
