#include "edge/connectors/modbus/poll_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <string>

#include "edge/connectors/modbus/test_plant.h"
#include "testing/example_plant.h"

namespace weft::edge::modbus {
namespace {

using ::testing::HasSubstr;
using testing::MakePlant;

struct Built {
  std::unique_ptr<model::Plant> plant;
  Result<SignalTable> table = InternalError("not built");
  Result<PollPlan> plan = InternalError("not built");
};

Built Build(std::string_view types, std::string_view assets, PollPlanOptions options = {}) {
  Built b;
  b.plant = MakePlant(types, assets);
  if (b.plant == nullptr) return b;
  b.table = SignalTable::FromPlant(*b.plant, {});
  if (!b.table.ok()) return b;
  b.plan = BuildPollPlan(*b.table, options);
  return b;
}

// "start+count:sig@offset,sig@offset" for each read of a group, to compare whole plans.
std::string Describe(const SignalTable& t, const PollGroup& g) {
  std::string out;
  for (const PollRead& r : g.reads) {
    if (!out.empty()) out += " ";
    out += std::string(model::ModbusTableName(r.table)) + ":" + std::to_string(r.start) + "+" +
           std::to_string(r.count) + ":";
    for (size_t i = 0; i < r.items.size(); ++i) {
      if (i > 0) out += ",";
      out += std::string(t.at(r.items[i].signal).signal) + "@" + std::to_string(r.items[i].offset);
    }
  }
  return out;
}

constexpr char kMeterAssets[] = R"(
- {id: m1, type: meter, connection: {modbus: {host: plc, unit: 1}}}
)";

TEST(PollPlan, MergesNearbyValuesAndSplitsAtGaps) {
  Built b = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power, source: {modbus: {address: 0}}}
  - {name: b, unit: kW, quantity: power, source: {modbus: {address: 1, type: int16}}}
  - {name: c, unit: kW, quantity: power, source: {modbus: {address: 2, type: uint32}}}
  - {name: d, unit: kW, quantity: power, source: {modbus: {address: 12}}}
  - {name: e, unit: kW, quantity: power, source: {modbus: {address: 22}}}
)",
                  kMeterAssets);
  ASSERT_TRUE(b.plan.ok()) << b.plan.status().ToString();
  ASSERT_EQ(b.plan->endpoints.size(), 1u);
  const EndpointPlan& e = b.plan->endpoints[0];
  EXPECT_EQ(e.name(), "plc:502");
  ASSERT_EQ(e.groups.size(), 1u);
  EXPECT_EQ(e.groups[0].unit_id, 1);
  EXPECT_EQ(e.groups[0].period, std::chrono::seconds(1));
  // c ends at 4: a hole of 8 (4..11) merges d; 13..21 is a hole of 9: e starts a new read.
  EXPECT_EQ(Describe(*b.table, e.groups[0]), "holding:0+13:a@0,b@1,c@2,d@12 holding:22+1:e@0");
}

TEST(PollPlan, GapOptionZeroMergesOnlyAdjacentValues) {
  Built b = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power, source: {modbus: {address: 0, type: float32}}}
  - {name: b, unit: kW, quantity: power, source: {modbus: {address: 2}}}
  - {name: c, unit: kW, quantity: power, source: {modbus: {address: 4}}}
)",
                  kMeterAssets, PollPlanOptions{.max_gap = 0});
  ASSERT_TRUE(b.plan.ok()) << b.plan.status().ToString();
  EXPECT_EQ(Describe(*b.table, b.plan->endpoints[0].groups[0]),
            "holding:0+3:a@0,b@2 holding:4+1:c@0");
}

TEST(PollPlan, ThirtyTwoBitValuesAreNeverSplitAtTheReadLimit) {
  // With reads of at most 10 registers, the uint32 at 9..10 would cross the limit: it starts the
  // next read instead of being cut in two.
  Built b = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power, source: {modbus: {address: 0}}}
  - {name: b, unit: kW, quantity: power, source: {modbus: {address: 8}}}
  - {name: c, unit: kW, quantity: power, source: {modbus: {address: 9, type: uint32}}}
  - {name: d, unit: kW, quantity: power, source: {modbus: {address: 11, type: float32, word_order: low_first}}}
)",
                  kMeterAssets, PollPlanOptions{.max_registers = 10});
  ASSERT_TRUE(b.plan.ok()) << b.plan.status().ToString();
  EXPECT_EQ(Describe(*b.table, b.plan->endpoints[0].groups[0]),
            "holding:0+9:a@0,b@8 holding:9+4:c@0,d@2");
  // Exactly at the limit is allowed.
  Built exact = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power, source: {modbus: {address: 0}}}
  - {name: c, unit: kW, quantity: power, source: {modbus: {address: 8, type: uint32}}}
)",
                      kMeterAssets, PollPlanOptions{.max_registers = 10});
  ASSERT_TRUE(exact.plan.ok());
  EXPECT_EQ(Describe(*exact.table, exact.plan->endpoints[0].groups[0]), "holding:0+10:a@0,c@8");
}

TEST(PollPlan, ReadsStayWithinTheModbusLimit) {
  // 200 consecutive registers: 125 + 75.
  std::string types = "meter:\n  signals:\n";
  for (int i = 0; i < 200; ++i) {
    types += "  - {name: r" + std::to_string(i) +
             ", unit: kW, quantity: power, source: {modbus: {table: input, address: " +
             std::to_string(i) + "}}}\n";
  }
  Built b = Build(types, kMeterAssets);
  ASSERT_TRUE(b.plan.ok()) << b.plan.status().ToString();
  const PollGroup& g = b.plan->endpoints[0].groups[0];
  ASSERT_EQ(g.reads.size(), 2u);
  EXPECT_EQ(g.reads[0].start, 0);
  EXPECT_EQ(g.reads[0].count, 125);
  EXPECT_EQ(g.reads[0].items.size(), 125u);
  EXPECT_EQ(g.reads[1].start, 125);
  EXPECT_EQ(g.reads[1].count, 75);
  EXPECT_EQ(g.reads[1].items.front().offset, 0u);
  EXPECT_EQ(b.table->at(g.reads[1].items.front().signal).signal, "r125");
  EXPECT_EQ(b.plan->read_count(), 2u);
  EXPECT_EQ(b.plan->signal_count(), 200u);
}

TEST(PollPlan, BitsMergeWithTheirOwnLimits) {
  Built b = Build(R"(
meter:
  signals:
  - {name: a, unit: "1", quantity: boolean, type: bool, source: {modbus: {table: coil, address: 0}}}
  - {name: b, unit: "1", quantity: boolean, type: bool, source: {modbus: {table: coil, address: 65}}}
  - {name: c, unit: "1", quantity: boolean, type: bool, source: {modbus: {table: coil, address: 130}}}
  - {name: d, unit: "1", quantity: boolean, type: bool, source: {modbus: {table: discrete, address: 1}}}
)",
                  kMeterAssets);
  ASSERT_TRUE(b.plan.ok()) << b.plan.status().ToString();
  // 1..64 is a hole of 64 bits (merges); 66..129 also 64.
  EXPECT_EQ(Describe(*b.table, b.plan->endpoints[0].groups[0]),
            "coil:0+131:a@0,b@65,c@130 discrete:1+1:d@0");
  Built small = Build(R"(
meter:
  signals:
  - {name: a, unit: "1", quantity: boolean, type: bool, source: {modbus: {table: coil, address: 0}}}
  - {name: b, unit: "1", quantity: boolean, type: bool, source: {modbus: {table: coil, address: 65}}}
)",
                      kMeterAssets, PollPlanOptions{.max_bits = 65});
  ASSERT_TRUE(small.plan.ok());
  EXPECT_EQ(Describe(*small.table, small.plan->endpoints[0].groups[0]),
            "coil:0+1:a@0 coil:65+1:b@0");
}

TEST(PollPlan, GroupsByEndpointUnitPeriodAndTable) {
  Built b = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power, period: 100ms, source: {modbus: {address: 0}}}
  - {name: b, unit: kW, quantity: power, period: 1s, source: {modbus: {address: 1}}}
  - {name: c, unit: kW, quantity: power, period: 100ms, source: {modbus: {table: input, address: 1}}}
)",
                  R"(
- {id: m1, type: meter, connection: {modbus: {host: gw, unit: 1}}}
- {id: m2, type: meter, connection: {modbus: {host: gw, unit: 2}}}
- {id: m3, type: meter, connection: {modbus: {host: gw, unit: 1, base: 100}}}
- {id: m4, type: meter, connection: {modbus: {host: other, port: 1502, unit: 1}}}
)");
  ASSERT_TRUE(b.plan.ok()) << b.plan.status().ToString();
  ASSERT_EQ(b.plan->endpoints.size(), 2u);
  const EndpointPlan& gw = b.plan->endpoints[0];
  EXPECT_EQ(gw.name(), "gw:502");
  EXPECT_EQ(b.plan->endpoints[1].name(), "other:1502");
  // gw: (unit 1, 100ms), (unit 1, 1s), (unit 2, 100ms), (unit 2, 1s).
  ASSERT_EQ(gw.groups.size(), 4u);
  EXPECT_EQ(gw.groups[0].unit_id, 1);
  EXPECT_EQ(gw.groups[0].period, std::chrono::milliseconds(100));
  // m1 and m3 (base 100) on unit 1: holding 0 and 100 are too far apart to merge.
  EXPECT_EQ(Describe(*b.table, gw.groups[0]),
            "holding:0+1:a@0 holding:100+1:a@0 input:1+1:c@0 input:101+1:c@0");
  EXPECT_EQ(gw.groups[1].period, std::chrono::seconds(1));
  EXPECT_EQ(Describe(*b.table, gw.groups[1]), "holding:1+1:b@0 holding:101+1:b@0");
  EXPECT_EQ(gw.groups[2].unit_id, 2);
  EXPECT_EQ(gw.groups[3].unit_id, 2);
  EXPECT_EQ(b.plan->endpoints[1].groups.size(), 2u);
  EXPECT_EQ(b.plan->signal_count(), 12u);
}

TEST(PollPlan, ExamplePlantCoversEverySignalOnceWithinLimits) {
  const model::Plant& plant = weft::testing::ExamplePlant();
  Result<SignalTable> t = SignalTable::FromPlant(plant, {});
  ASSERT_TRUE(t.ok());
  Result<PollPlan> plan = BuildPollPlan(*t, {});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::multiset<SignalId> seen;
  for (const EndpointPlan& e : plan->endpoints) {
    for (const PollGroup& g : e.groups) {
      std::map<model::ModbusTable, uint32_t> last_end;
      for (const PollRead& r : g.reads) {
        EXPECT_GE(r.count, 1);
        EXPECT_LE(r.count, 125);
        EXPECT_GE(r.start, last_end[r.table]) << "reads of a group do not overlap";
        last_end[r.table] = uint32_t{r.start} + r.count;
        for (const PollItem& i : r.items) {
          seen.insert(i.signal);
          const SignalInfo& s = t->at(i.signal);
          EXPECT_EQ(s.period, g.period);
          EXPECT_EQ(s.asset_model->connection.modbus->unit_id, g.unit_id);
          EXPECT_EQ(s.asset_model->connection.modbus->host, e.host);
          EXPECT_LE(i.offset + i.binding.width(), r.count) << "value inside its read";
          EXPECT_EQ(r.start + i.offset, s.asset_model->connection.modbus->base + i.binding.address);
        }
      }
    }
  }
  size_t modbus_signals = 0;
  for (const SignalInfo& s : t->signals()) {
    if (s.protocol != model::Protocol::kModbusTcp) continue;
    ++modbus_signals;
    EXPECT_EQ(seen.count(s.id), 1u) << s.asset << "." << s.signal;
  }
  EXPECT_GT(modbus_signals, 50u);
  EXPECT_EQ(seen.size(), modbus_signals);
  // The six HVAC zones of the Lyon gateway, 16 registers apart: their input registers merge.
  const EndpointPlan* gw = nullptr;
  for (const EndpointPlan& e : plan->endpoints) {
    if (e.name() == "10.20.0.50:502") gw = &e;
  }
  ASSERT_NE(gw, nullptr);
  EXPECT_LT(plan->read_count(), modbus_signals / 2);
}

TEST(PollPlan, ErrorsAreNamed) {
  Built none = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power}
)",
                     "- {id: m1, type: meter, connection: {mqtt: {topic: t}}}\n");
  ASSERT_FALSE(none.plan.ok());
  EXPECT_EQ(none.plan.status().code(), StatusCode::kNotFound);

  Built b = Build(R"(
meter:
  signals:
  - {name: a, unit: kW, quantity: power, source: {modbus: {address: 0}}}
)",
                  kMeterAssets);
  ASSERT_TRUE(b.plan.ok());
  for (PollPlanOptions bad :
       {PollPlanOptions{.max_registers = 1}, PollPlanOptions{.max_registers = 126},
        PollPlanOptions{.max_bits = 0}, PollPlanOptions{.max_bits = 2001}}) {
    Result<PollPlan> p = BuildPollPlan(*b.table, bad);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), HasSubstr("poll plan: max_"));
  }
}

TEST(DecodeRead, DecodesEachItemAndCountsShortReplies) {
  PollRead r;
  r.table = model::ModbusTable::kHoldingRegister;
  r.start = 10;
  r.count = 4;
  model::ModbusBinding u16;
  u16.scale = 0.5;
  model::ModbusBinding u32;
  u32.value_type = model::ModbusValueType::kUint32;
  r.items = {{7, 0, u16}, {8, 1, u32}, {9, 3, u16}};
  const std::array<uint16_t, 4> regs = {10, 0x0001, 0x0000, 4};
  std::vector<Sample> out;
  EXPECT_EQ(DecodeRead(r, regs, {}, 42, &out), 0u);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].signal, 7u);
  EXPECT_EQ(out[0].ts_us, 42);
  EXPECT_DOUBLE_EQ(out[0].value, 5.0);
  EXPECT_DOUBLE_EQ(out[1].value, 65536.0);
  EXPECT_DOUBLE_EQ(out[2].value, 2.0);
  // A reply of 2 registers: the uint32 at offset 1 lacks its second half, the last is missing.
  out.clear();
  EXPECT_EQ(DecodeRead(r, std::span(regs).first(2), {}, 42, &out), 2u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, 7u);
}

}  // namespace
}  // namespace weft::edge::modbus
