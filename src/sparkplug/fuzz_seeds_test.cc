// The seed payloads of sparkplug_decode_fuzz (testdata/fuzz_seeds/*.pb) are generated here, so
// that they follow the encoder. This test fails when they are stale; regenerate them with
//   WEFT_UPDATE_FUZZ_SEEDS=1 ./build/src/sparkplug/sparkplug_test --gtest_filter='FuzzSeeds.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "sparkplug/edge_node_session.h"
#include "sparkplug/host_session.h"
#include "sparkplug/payload.h"

namespace weft::sparkplug {
namespace {

constexpr uint64_t kT0 = 1'700'000'000'000;

std::string Raw(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::vector<std::pair<std::string, std::string>> Seeds() {
  std::vector<std::pair<std::string, std::string>> seeds;
  Result<EdgeNodeSession> created = EdgeNodeSession::Create(
      "lyon", "edge-l1", {{"Uptime", DataType::kInt64}, {"Firmware", DataType::kString}});
  EXPECT_TRUE(created.ok());
  if (!created.ok()) return seeds;
  EdgeNodeSession s = std::move(created).value();
  EXPECT_TRUE(s.AddDevice("press-3", {{"Temp", DataType::kDouble},
                                      {"Running", DataType::kBoolean},
                                      {"Offset", DataType::kInt16},
                                      {"Count", DataType::kUInt32},
                                      {"Ratio", DataType::kFloat},
                                      {"Since", DataType::kDateTime}})
                  .ok());
  seeds.emplace_back("ndeath.pb", s.NodeDeath().payload);
  seeds.emplace_back("nbirth.pb", s.NodeBirth(kT0, {int64_t{3600}, std::string("1.2.3")})->payload);
  seeds.emplace_back(
      "dbirth.pb",
      s.DeviceBirth("press-3", kT0, {21.5, true, int64_t{-3}, uint64_t{7}, 0.5f, uint64_t{kT0}})
          ->payload);
  seeds.emplace_back("ddata.pb", s.DeviceData("press-3", kT0 + 1000,
                                              {{std::string("Temp"), 22.25},
                                               {std::string("Offset"), int64_t{-300}},
                                               {std::string("Running"), MetricValue()}})
                                     ->payload);
  seeds.emplace_back("ncmd_rebirth.pb",
                     HostSession::RebirthRequest("lyon", "edge-l1", kT0).payload);

  Payload all;
  all.timestamp_ms = kT0;
  all.seq = 9;
  all.uuid = "schema";
  all.body = std::string("\x00\x01", 2);
  const std::vector<std::pair<DataType, MetricValue>> values = {
      {DataType::kInt8, int64_t{-1}},
      {DataType::kInt64, int64_t{-2}},
      {DataType::kUInt8, uint64_t{200}},
      {DataType::kUInt16, uint64_t{60000}},
      {DataType::kUInt64, uint64_t{1} << 63},
      {DataType::kDouble, 1e-9},
      {DataType::kText, std::string("text")},
      {DataType::kUuid, std::string("123e4567-e89b-12d3-a456-426614174000")},
      // One Int32 column "a", one row holding 5.
      {DataType::kDataSet,
       Raw({0x08, 0x01, 0x12, 0x01, 'a', 0x18, 0x03, 0x22, 0x04, 0x0a, 0x02, 0x08, 0x05})},
      {DataType::kBytes, std::string("\xde\xad", 2)},
      {DataType::kFile, std::string("file")},
      // Definition version "1" with one Double member "x".
      {DataType::kTemplate,
       Raw({0x0a, 0x01, '1', 0x12, 0x05, 0x0a, 0x01, 'x', 0x20, 0x0a, 0x28, 0x01})},
      {DataType::kInt32Array, std::string(8, '\x01')},
      {DataType::kDoubleArray, std::string(8, '\x00')},
  };
  uint64_t alias = 100;
  for (const auto& [type, value] : values) {
    Metric m;
    m.name = DataTypeName(type);
    m.alias = alias++;
    m.timestamp_ms = kT0;
    m.type = type;
    m.value = value;
    all.metrics.push_back(m);
  }
  all.metrics[0].quality = 500;
  all.metrics[1].is_historical = true;
  all.metrics[2].is_transient = true;
  seeds.emplace_back("all_types.pb", Encode(all));
  return seeds;
}

TEST(FuzzSeeds, AreCurrentAndDecode) {
  const bool update = std::getenv("WEFT_UPDATE_FUZZ_SEEDS") != nullptr;
  for (const auto& [name, bytes] : Seeds()) {
    SCOPED_TRACE(name);
    const std::string path = std::string(WEFT_SPARKPLUG_FUZZ_SEEDS_DIR) + "/" + name;
    if (update) {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      ASSERT_TRUE(out.good()) << path;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in.good()) << path << " is missing; run with WEFT_UPDATE_FUZZ_SEEDS=1";
    const std::string stored((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    EXPECT_EQ(stored, bytes) << path << " is stale; run with WEFT_UPDATE_FUZZ_SEEDS=1";
    Result<Payload> decoded = Decode(stored);
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  }
}

}  // namespace
}  // namespace weft::sparkplug
