#include "edge/uplink/batch_codec.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "edge/uplink/uplink.pb.h"
#include "model/plant_loader.h"
#include "testing/example_plant.h"

namespace weft::edge::uplink {
namespace {

const SignalTable& Table() {
  static const SignalTable* table = [] {
    Result<SignalTable> t = SignalTable::FromPlant(testing::ExamplePlant(), {});
    if (!t.ok()) std::abort();
    return new SignalTable(std::move(t).value());
  }();
  return *table;
}

std::string Wire(BatchCodec codec, std::string_view payload) {
  std::string out(kBatchMagic);
  out.push_back(static_cast<char>(codec));
  out.append(payload);
  return out;
}

std::string Wire(const Batch& b) {
  return Wire(BatchCodec::kNone, b.SerializeAsString());
}

void ExpectError(std::string_view bytes, StatusCode code, std::string_view needle) {
  Result<DecodedBatch> r = DecodeBatch(bytes);
  ASSERT_FALSE(r.ok()) << "decoded although expected: " << needle;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
}

class BatchCodecTest : public ::testing::TestWithParam<BatchCodec> {};

TEST_P(BatchCodecTest, RoundTripWithContextsAggregatesAndEvents) {
  const SignalTable& table = Table();
  ASSERT_GE(table.size(), 10u);
  BatchBuilder builder("edge-l1", Priority::kHigh, {.codec = GetParam(), .zstd_level = 3});
  std::vector<Sample> samples;
  const int64_t t0 = 1'700'000'000'000'000;
  for (int i = 0; i < 1000; ++i) {
    Sample s;
    s.signal = static_cast<SignalId>((i * 7) % 5);  // ids 0..4
    s.ts_us = t0 + (i % 3 == 0 ? -i : i * 100);     // deltas of both signs
    s.value = i == 10 ? std::numeric_limits<double>::quiet_NaN() : std::sin(i) * 100;
    s.quality = static_cast<uint8_t>(i % 7 == 0 ? quality::kStuck | quality::kStale : 0);
    samples.push_back(s);
    builder.Add(s);
  }
  Aggregate a{.signal = 8,
              .start_us = t0,
              .end_us = t0 + 60'000'000,
              .count = 600,
              .mean = 1.5,
              .min = -2,
              .max = 4,
              .std = 0.25,
              .last = 3,
              .quality = quality::kOutOfRange};
  builder.Add(a);
  Event e{.signal = 9,
          .ts_us = t0 + 5,
          .kind = "ewma_z",
          .source = "bearing@1.2.0",
          .value = 4.2,
          .threshold = 3,
          .message = "vibration up"};
  builder.Add(e);
  EXPECT_EQ(builder.sample_count(), 1000u);
  EXPECT_EQ(builder.aggregate_count(), 1u);
  EXPECT_EQ(builder.event_count(), 1u);
  EXPECT_GT(builder.ApproxBytes(), 1000u * 10);

  Result<std::string> bytes = builder.Finish(42, t0 + 99, table);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_TRUE(builder.empty());
  EXPECT_EQ(bytes->substr(0, 4), "WFB1");
  EXPECT_EQ(static_cast<uint8_t>((*bytes)[4]), static_cast<uint8_t>(GetParam()));

  Result<DecodedBatch> d = DecodeBatch(*bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->edge_id, "edge-l1");
  EXPECT_EQ(d->stream, Priority::kHigh);
  EXPECT_EQ(d->seq, 42u);
  EXPECT_EQ(d->created_us, t0 + 99);
  ASSERT_EQ(d->samples.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(d->samples[i].signal, samples[i].signal) << i;
    EXPECT_EQ(d->samples[i].ts_us, samples[i].ts_us) << i;
    if (std::isnan(samples[i].value)) {
      EXPECT_TRUE(std::isnan(d->samples[i].value));
    } else {
      EXPECT_EQ(d->samples[i].value, samples[i].value) << i;
    }
    EXPECT_EQ(d->samples[i].quality, samples[i].quality) << i;
  }
  ASSERT_EQ(d->aggregates.size(), 1u);
  const Aggregate& da = d->aggregates[0];
  EXPECT_EQ(da.signal, 8u);
  EXPECT_EQ(da.start_us, a.start_us);
  EXPECT_EQ(da.end_us, a.end_us);
  EXPECT_EQ(da.count, 600u);
  EXPECT_EQ(da.mean, 1.5);
  EXPECT_EQ(da.min, -2);
  EXPECT_EQ(da.max, 4);
  EXPECT_EQ(da.std, 0.25);
  EXPECT_EQ(da.last, 3);
  EXPECT_EQ(da.quality, quality::kOutOfRange);
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].signal, 9u);
  EXPECT_EQ(d->events[0].ts_us, t0 + 5);
  EXPECT_EQ(d->events[0].kind, "ewma_z");
  EXPECT_EQ(d->events[0].source, "bearing@1.2.0");
  EXPECT_EQ(d->events[0].value, 4.2);
  EXPECT_EQ(d->events[0].threshold, 3);
  EXPECT_EQ(d->events[0].message, "vibration up");

  // Exactly the signals used have a context, equal to the table's.
  ASSERT_EQ(d->contexts.size(), 7u);
  for (SignalId id : {0u, 1u, 2u, 3u, 4u, 8u, 9u}) {
    const BatchContext* c = d->ContextOf(id);
    ASSERT_NE(c, nullptr) << id;
    const SignalInfo& info = table.at(id);
    EXPECT_EQ(c->site, info.site);
    EXPECT_EQ(c->area, info.area);
    EXPECT_EQ(c->line, info.line);
    EXPECT_EQ(c->asset, info.asset);
    EXPECT_EQ(c->asset_type, info.asset_type);
    EXPECT_EQ(c->signal, info.signal);
    EXPECT_EQ(c->unit, info.unit);
    EXPECT_EQ(c->quantity, info.quantity);
    EXPECT_EQ(c->protocol, model::ProtocolName(info.protocol));
    EXPECT_EQ(c->address, info.address);
    EXPECT_EQ(c->tags, info.tags());
  }
  EXPECT_EQ(d->ContextOf(5), nullptr);
  EXPECT_FALSE(d->ContextOf(0)->tags.empty()) << "l1-sp-01 has tags in the example plant";

  // The builder is reused: the next batch holds only what was added after Finish.
  builder.Add(Sample{.signal = 3, .ts_us = 7, .value = 1});
  Result<std::string> second = builder.Finish(43, 0, table);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Result<DecodedBatch> d2 = DecodeBatch(*second);
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_EQ(d2->seq, 43u);
  ASSERT_EQ(d2->samples.size(), 1u);
  EXPECT_EQ(d2->samples[0].ts_us, 7);
  EXPECT_TRUE(d2->aggregates.empty());
  EXPECT_TRUE(d2->events.empty());
  ASSERT_EQ(d2->contexts.size(), 1u);
  EXPECT_EQ(d2->contexts[0].id, 3u);
}

INSTANTIATE_TEST_SUITE_P(Codecs, BatchCodecTest,
                         ::testing::Values(BatchCodec::kNone, BatchCodec::kZstd));

TEST(BatchBuilder, FirmwareTravelsWithEveryBatch) {
  BatchBuilder builder("e", Priority::kNormal, {.firmware = "fw 2.4.1"});
  builder.Add(Sample{.signal = 1, .ts_us = 5, .value = 1, .quality = quality::kGood});
  for (int round = 0; round < 2; ++round) {
    Result<std::string> bytes = builder.Finish(static_cast<uint64_t>(round + 1), 2, Table());
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<DecodedBatch> d = DecodeBatch(*bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->firmware, "fw 2.4.1");
  }
  Result<std::string> none = BatchBuilder("e", Priority::kLow).Finish(1, 2, Table());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(DecodeBatch(*none)->firmware, "");
}

TEST(BatchBuilder, ActionsRoundTripWithUnknownNumbersAsNaN) {
  BatchBuilder builder("edge-lyon", Priority::kHigh);
  ActionRecordValue write{.ts_us = 1'700'000'000'000'000,
                          .loop = "lyon-hz-01-temp",
                          .site = "lyon",
                          .line = "hvac",
                          .asset = "lyon-hz-01",
                          .signal = "remote_setpoint",
                          .kind = "write",
                          .mode = "autonomous",
                          .requested = 25.0,
                          .before = 21.0,
                          .after = 22.0,
                          .reason = "clamped to max 23; rate-limited from 23 to 22",
                          .source = "hvac_comfort",
                          .source_version = "1.0",
                          .approved_by = "",
                          .proposal_id = ""};
  ActionRecordValue shadow{.ts_us = 1'700'000'060'000'000,
                           .loop = "lyon-hz-01-temp",
                           .asset = "lyon-hz-01",
                           .kind = "proposed",
                           .mode = "supervised",
                           .requested = 19.5,
                           .approved_by = "olga",
                           .proposal_id = "p-7"};
  EXPECT_TRUE(builder.empty());
  builder.AddAction(write);
  EXPECT_FALSE(builder.empty()) << "a batch of actions only must be sent";
  builder.AddAction(shadow);
  EXPECT_EQ(builder.action_count(), 2u);
  EXPECT_GT(builder.ApproxBytes(), 0u);
  Result<std::string> bytes = builder.Finish(3, 4, Table());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_TRUE(builder.empty());
  Result<DecodedBatch> d = DecodeBatch(*bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->actions.size(), 2u);
  EXPECT_EQ(d->actions[0], write);
  const ActionRecordValue& got = d->actions[1];
  EXPECT_EQ(got.ts_us, shadow.ts_us);
  EXPECT_EQ(got.kind, "proposed");
  EXPECT_EQ(got.site, "");
  EXPECT_EQ(got.requested, 19.5);
  EXPECT_TRUE(std::isnan(got.before));
  EXPECT_TRUE(std::isnan(got.after));
  EXPECT_EQ(got.approved_by, "olga");
  EXPECT_EQ(got.proposal_id, "p-7");
  EXPECT_TRUE(d->contexts.empty()) << "actions carry no signal id";
}

TEST(BatchBuilder, EmptyBatchRoundTrips) {
  BatchBuilder builder("e", Priority::kCritical);
  Result<std::string> bytes = builder.Finish(1, 2, Table());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Result<DecodedBatch> d = DecodeBatch(*bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->stream, Priority::kCritical);
  EXPECT_TRUE(d->samples.empty());
  EXPECT_TRUE(d->contexts.empty());
}

TEST(BatchBuilder, UnknownSignalIdIsRefusedAndTheBuilderIsEmptyAfter) {
  BatchBuilder builder("e", Priority::kNormal);
  builder.Add(Sample{.signal = 0, .ts_us = 1});
  Event bad;
  bad.signal = static_cast<SignalId>(Table().size());
  builder.Add(bad);
  Result<std::string> bytes = builder.Finish(1, 0, Table());
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bytes.status().message().find("event 0: signal id"), std::string::npos)
      << bytes.status().ToString();
  EXPECT_TRUE(builder.empty());
  EXPECT_EQ(builder.ApproxBytes(), 0u);
}

TEST(BatchBuilder, TimestampJumpBeyondInt64IsRefused) {
  BatchBuilder builder("e", Priority::kNormal);
  builder.Add(Sample{.signal = 0, .ts_us = std::numeric_limits<int64_t>::min()});
  builder.Add(Sample{.signal = 0, .ts_us = std::numeric_limits<int64_t>::max()});
  Result<std::string> bytes = builder.Finish(1, 0, Table());
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("sample 1: timestamp"), std::string::npos)
      << bytes.status().ToString();
  // Extreme but representable timestamps round-trip.
  builder.Add(Sample{.signal = 0, .ts_us = std::numeric_limits<int64_t>::min()});
  builder.Add(Sample{.signal = 0, .ts_us = -1});
  builder.Add(Sample{.signal = 0, .ts_us = std::numeric_limits<int64_t>::max() - 1});
  Result<std::string> ok = builder.Finish(2, 0, Table());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  Result<DecodedBatch> d = DecodeBatch(*ok);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->samples[0].ts_us, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(d->samples[2].ts_us, std::numeric_limits<int64_t>::max() - 1);
}

TEST(DecodeBatch, HeaderErrors) {
  ExpectError("", StatusCode::kInvalidArgument, "shorter than its 5-byte header");
  ExpectError("WFB1", StatusCode::kInvalidArgument, "shorter than its 5-byte header");
  ExpectError(std::string("XFB1\x00", 5), StatusCode::kInvalidArgument, "bad magic 0x58464231");
  ExpectError(std::string("WFB1\x07", 5), StatusCode::kInvalidArgument, "unknown codec 7");
}

TEST(DecodeBatch, ZstdErrors) {
  ExpectError(Wire(BatchCodec::kZstd, "not zstd at all"), StatusCode::kInvalidArgument,
              "not a zstd frame");
  // A real frame, cut short, and one with a flipped byte.
  Batch b;
  b.set_edge_id(std::string(1000, 'x'));
  const std::string proto = b.SerializeAsString();
  std::string z(ZSTD_compressBound(proto.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), proto.data(), proto.size(), 1));
  ASSERT_TRUE(DecodeBatch(Wire(BatchCodec::kZstd, z)).ok());
  ExpectError(Wire(BatchCodec::kZstd, z.substr(0, z.size() - 3)), StatusCode::kDataLoss,
              "truncated");
  std::string flipped = z;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  Result<DecodedBatch> r = DecodeBatch(Wire(BatchCodec::kZstd, flipped));
  EXPECT_FALSE(r.ok());

  // Above the 64 MiB bound: declared in the frame header, and not declared (streamed).
  const std::string zeros(kMaxDecodedBatchBytes + 1, '\0');
  std::string big(ZSTD_compressBound(zeros.size()), '\0');
  big.resize(ZSTD_compress(big.data(), big.size(), zeros.data(), zeros.size(), 1));
  ExpectError(Wire(BatchCodec::kZstd, big), StatusCode::kInvalidArgument,
              "declares 67108865 decompressed bytes");
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string unknown(ZSTD_compressBound(zeros.size()), '\0');
  ZSTD_outBuffer out{unknown.data(), unknown.size(), 0};
  for (size_t pos = 0; pos < zeros.size();) {
    const size_t n = std::min<size_t>(1 << 20, zeros.size() - pos);
    ZSTD_inBuffer in{zeros.data() + pos, n, 0};
    const bool end = pos + n == zeros.size();
    size_t left;
    do {
      left = ZSTD_compressStream2(cctx, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
      ASSERT_FALSE(ZSTD_isError(left));
    } while (in.pos < in.size || (end && left != 0));
    pos += n;
  }
  ZSTD_freeCCtx(cctx);
  unknown.resize(out.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(unknown.data(), unknown.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  ExpectError(Wire(BatchCodec::kZstd, unknown), StatusCode::kInvalidArgument,
              "larger than the limit");
}

TEST(DecodeBatch, ProtobufAndContentErrors) {
  ExpectError(Wire(BatchCodec::kNone, "\xff\xff\xff\xff"), StatusCode::kInvalidArgument,
              "protobuf parse failed");

  auto valid = [] {
    Batch b;
    b.set_edge_id("e");
    b.set_stream(2);
    SignalContext* c = b.add_contexts();
    c->set_id(5);
    b.add_sample_signal(5);
    b.add_sample_ts_delta(100);
    b.add_sample_value(1.0);
    b.add_sample_quality(0);
    return b;
  };
  ASSERT_TRUE(DecodeBatch(Wire(valid())).ok());

  Batch b = valid();
  b.set_stream(4);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "stream 4 is not a priority class");

  b = valid();
  b.add_sample_value(2.0);
  ExpectError(Wire(b), StatusCode::kInvalidArgument,
              "sample columns disagree: 1 signal ids, 1 timestamps, 2 values, 1 qualities");

  b = valid();
  b.set_sample_signal(0, 6);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "sample 0: signal id 6 has no context");

  b = valid();
  b.add_aggregates()->set_signal(7);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "aggregate 0: signal id 7 has no context");

  b = valid();
  b.add_events()->set_signal(8);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "event 0: signal id 8 has no context");

  b = valid();
  b.add_contexts()->set_id(5);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "signal id 5 has two contexts");

  b = valid();
  b.set_sample_quality(0, 256);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "sample 0: quality 256");

  b = valid();
  b.add_aggregates()->set_signal(5);
  b.mutable_aggregates(0)->set_quality(1000);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "aggregate 0: quality 1000");

  b = valid();
  b.set_sample_ts_delta(0, std::numeric_limits<int64_t>::max());
  b.add_sample_signal(5);
  b.add_sample_ts_delta(1);
  b.add_sample_value(0);
  b.add_sample_quality(0);
  ExpectError(Wire(b), StatusCode::kInvalidArgument, "sample 1: timestamp overflows int64");
}

// Seeds of uplink_batch_decode_fuzz: written by this test with WEFT_UPDATE_FUZZ_SEEDS=1, and
// checked to decode (their exact bytes follow the example plant, so they are not compared).
TEST(FuzzSeeds, DecodeAndCanBeRegenerated) {
  const std::string dir = WEFT_UPLINK_FUZZ_SEEDS_DIR;
  if (std::getenv("WEFT_UPDATE_FUZZ_SEEDS") != nullptr) {
    std::filesystem::create_directories(dir);
    for (BatchCodec codec : {BatchCodec::kNone, BatchCodec::kZstd}) {
      BatchBuilder builder("edge-l1", Priority::kNormal, {.codec = codec});
      for (int i = 0; i < 40; ++i) {
        builder.Add(Sample{.signal = static_cast<SignalId>(i % 4),
                           .ts_us = 1000 + i * 10,
                           .value = i * 0.5,
                           .quality = static_cast<uint8_t>(i % 3)});
      }
      builder.Add(Aggregate{.signal = 2, .start_us = 0, .end_us = 10, .count = 3, .mean = 1});
      builder.Add(Event{.signal = 3,
                        .ts_us = 5,
                        .kind = "cusum",
                        .source = "m@1",
                        .value = 2,
                        .threshold = 1,
                        .message = ""});
      builder.AddAction(ActionRecordValue{.ts_us = 7,
                                          .loop = "l",
                                          .asset = "a",
                                          .kind = "write",
                                          .mode = "autonomous",
                                          .requested = 20,
                                          .reason = "clamped to max 23"});
      Result<std::string> bytes = builder.Finish(7, 99, Table());
      ASSERT_TRUE(bytes.ok());
      std::ofstream out(dir + (codec == BatchCodec::kNone ? "/plain.wfb" : "/zstd.wfb"),
                        std::ios::binary | std::ios::trunc);
      out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
      ASSERT_TRUE(out.good());
    }
  }
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<DecodedBatch> d = DecodeBatch(bytes);
    EXPECT_TRUE(d.ok()) << entry.path() << ": " << d.status().ToString();
    ++n;
  }
  EXPECT_GE(n, 2u) << "run with WEFT_UPDATE_FUZZ_SEEDS=1 to write the seeds";
}

// Encode cost, printed (not asserted: it depends on the machine and the build type).
// Every context of `d` is the one `table` gives its id.
void ExpectContextsOf(const DecodedBatch& d, const SignalTable& table) {
  for (const BatchContext& c : d.contexts) {
    ASSERT_LT(c.id, table.size());
    const SignalInfo& info = table.at(c.id);
    EXPECT_EQ(c.asset, info.asset) << "signal " << c.id;
    EXPECT_EQ(c.signal, info.signal) << "signal " << c.id;
    EXPECT_EQ(c.line, info.line) << "signal " << c.id;
    EXPECT_EQ(c.unit, info.unit) << "signal " << c.id;
    EXPECT_EQ(c.address, info.address) << "signal " << c.id;
    EXPECT_EQ(c.tags, info.tags()) << "signal " << c.id;
  }
}

TEST(BatchContextCache, SharedByBuildersAndRebuiltForAReplacedTable) {
  // Signal id 0 of the whole plant is on line 1; id 0 of an edge scoped to line 2 is another
  // signal: a cache keyed by id alone would send line 1's context for it.
  const SignalTable& whole = Table();
  Result<SignalTable> line2 = SignalTable::FromPlant(testing::ExamplePlant(), {{"l2-assembly"}});
  ASSERT_TRUE(line2.ok()) << line2.status().ToString();
  ASSERT_NE(whole.at(0).asset, line2->at(0).asset);
  ASSERT_NE(whole.epoch(), line2->epoch());

  auto cache = std::make_shared<BatchContextCache>();
  BatchBuilder high("e", Priority::kHigh, {.contexts = cache});
  BatchBuilder low("e", Priority::kLow, {.contexts = cache});
  const SignalTable& other = *line2;
  using Step = std::pair<BatchBuilder*, const SignalTable*>;
  for (auto [builder, table] :
       {Step{&high, &whole}, Step{&low, &whole}, Step{&high, &other}, Step{&low, &whole}}) {
    builder->Add(Sample{.signal = 0, .ts_us = 10, .value = 1, .quality = quality::kGood});
    builder->Add(Sample{.signal = 1, .ts_us = 20, .value = 2, .quality = quality::kGood});
    Result<std::string> bytes = builder->Finish(1, 1, *table);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<DecodedBatch> d = DecodeBatch(*bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->contexts.size(), 2u);
    ExpectContextsOf(*d, *table);
  }
}

// A plant of `motors` generated motors (10 signals each, as bench/gen_plant.py makes).
model::Plant GeneratedPlant(int motors) {
  std::string yaml =
      "weft: 1\nenterprise: {name: Generated}\n"
      "economics: {currency: EUR, energy_price: 0.19 EUR/kWh, grid_carbon_factor: 0.056 "
      "kgCO2e/kWh, "
      "labour_rate: 68 EUR/h, downtime_cost: 3200 EUR/h}\nsites:\n  - id: gen\n    name: Gen\n"
      "    timezone: UTC\n    areas:\n      - id: hall\n        name: Hall\n        lines:\n"
      "          - id: gl1\n            name: Line\n            assets:\n";
  for (int i = 0; i < motors; ++i) {
    const std::string id = "gl1-mo-" + std::to_string(10000 + i);
    yaml += "              - {id: " + id + ", name: M" + std::to_string(i) +
            ", type: motor, fitted: [bearing_temp_nde], connection: {sparkplug: {group: gen, "
            "node: edge-1, device: " +
            id + "}}}\n";
  }
  Diagnostics diags;
  Result<model::Plant> p = model::ParsePlant(yaml, "generated.yaml", &diags);
  if (!p.ok()) {
    ADD_FAILURE() << p.status().ToString();
    std::abort();
  }
  return std::move(p).value();
}

TEST(BatchBuilder, ABatchOfManySignalsStreamsThroughTheCompressor) {
  // 6,000 signals: ~1 MB of contexts, many times the staging buffer and the first output size.
  const model::Plant plant = GeneratedPlant(600);
  Result<SignalTable> table = SignalTable::FromPlant(plant, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(table->size(), 6000u);
  std::vector<Sample> samples;
  for (SignalId id = 0; id < table->size(); ++id) {
    samples.push_back(Sample{.signal = (id * 7919) % 6000,  // every id once, out of order
                             .ts_us = 1'700'000'000'000'000 + id,
                             .value = std::sin(id),
                             .quality = quality::kGood});
  }
  DecodedBatch decoded[2];
  size_t sizes[2] = {0, 0};
  for (BatchCodec codec : {BatchCodec::kNone, BatchCodec::kZstd}) {
    BatchBuilder builder("edge-big", Priority::kNormal, {.codec = codec});
    for (int round = 0; round < 2; ++round) {  // the second round reuses the cached contexts
      for (const Sample& s : samples) builder.Add(s);
      Result<std::string> bytes = builder.Finish(7, 8, *table);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      Result<DecodedBatch> d = DecodeBatch(*bytes);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      ASSERT_EQ(d->samples.size(), samples.size());
      for (size_t i = 0; i < samples.size(); ++i) {
        ASSERT_EQ(d->samples[i].signal, samples[i].signal) << i;
        ASSERT_EQ(d->samples[i].ts_us, samples[i].ts_us) << i;
        ASSERT_EQ(d->samples[i].value, samples[i].value) << i;
      }
      ASSERT_EQ(d->contexts.size(), table->size());
      ExpectContextsOf(*d, *table);
      const auto c = static_cast<size_t>(codec);
      decoded[c] = std::move(d).value();
      sizes[c] = bytes->size();
    }
  }
  EXPECT_EQ(decoded[0].contexts.size(), decoded[1].contexts.size());
  EXPECT_LT(sizes[1] * 4, sizes[0]) << "zstd should shrink repetitive contexts several times";
}

TEST(BatchBuilderCost, FiveThousandSamplesOverTheTable) {
  const SignalTable& table = Table();
  const auto n_signals = static_cast<uint32_t>(table.size());
  constexpr int kSamples = 5000;
  std::vector<Sample> samples(kSamples);
  int64_t ts = 1'700'000'000'000'000;
  for (int i = 0; i < kSamples; ++i) {
    ts += 250;
    samples[static_cast<size_t>(i)] = Sample{.signal = static_cast<SignalId>(i) % n_signals,
                                             .ts_us = ts,
                                             .value = 50 + 10 * std::sin(i * 0.01),
                                             .quality = quality::kGood};
  }
#ifdef NDEBUG
  constexpr int kBatches = 400;
#else
  constexpr int kBatches = 10;
#endif
  struct Case {
    const char* name;
    BatchBuilderOptions options;
  };
  for (const Case& c : {Case{"none", {.codec = BatchCodec::kNone}},
                        Case{"zstd-1", {.codec = BatchCodec::kZstd, .zstd_level = 1}},
                        Case{"zstd--3", {.codec = BatchCodec::kZstd, .zstd_level = -3}}}) {
    BatchBuilder builder("edge-l1", Priority::kNormal, c.options);
    size_t bytes = 0;
    double add_ns = 0, finish_ns = 0;
    for (int b = 0; b < kBatches + 2; ++b) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const Sample& s : samples) builder.Add(s);
      const auto t1 = std::chrono::steady_clock::now();
      Result<std::string> out = builder.Finish(static_cast<uint64_t>(b), 0, table);
      const auto t2 = std::chrono::steady_clock::now();
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      if (b < 2) continue;  // warm-up: buffers grow to size
      bytes += out->size();
      add_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
      finish_ns += std::chrono::duration<double, std::nano>(t2 - t1).count();
    }
    const double per = kBatches * double{kSamples};
    std::printf(
        "encode %-8s %zu signals: add %.1f ns/sample, finish %.1f ns/sample, total %.1f "
        "ns/sample, %.2f bytes/sample\n",
        c.name, table.size(), add_ns / per, finish_ns / per, (add_ns + finish_ns) / per,
        static_cast<double>(bytes) / per);
  }
}

}  // namespace
}  // namespace weft::edge::uplink
