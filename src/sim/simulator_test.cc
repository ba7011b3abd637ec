#include "sim/simulator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "sim/recorder.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::sim {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const model::Plant& Example() {
  return weft::testing::ExamplePlant();
}

// Keeps every sample.
class Collect final : public SampleSink {
 public:
  Status OnTick(TimePoint, std::span<const Sample> samples) override {
    all.insert(all.end(), samples.begin(), samples.end());
    return Status::Ok();
  }
  std::vector<Sample> all;
};

std::unique_ptr<Simulator> Make(SimOptions o, std::vector<ScheduledFault> faults = {}) {
  auto sim = Simulator::Create(Example(), o, std::move(faults));
  EXPECT_TRUE(sim.ok()) << sim.status().ToString();
  return sim.ok() ? std::move(*sim) : nullptr;
}

SimOptions Fast(Micros duration, uint64_t seed = 1) {
  SimOptions o;
  o.speed = 0;
  o.seed = seed;
  o.duration = duration;
  return o;
}

TEST(Simulator, SamplesEverySignalAtItsPeriod) {
  auto sim = Make(Fast(seconds(60)));
  ASSERT_TRUE(sim);
  Collect c;
  sim->AddSink(&c);
  ASSERT_TRUE(sim->Run().ok());
  EXPECT_EQ(sim->tick(), std::chrono::milliseconds(100));  // the spindles' 100 ms signals
  std::map<uint32_t, int> counts;
  for (const Sample& s : c.all) counts[s.signal]++;
  ASSERT_EQ(counts.size(), sim->signals().size());  // every fitted signal is sampled
  auto count_of = [&](const char* asset, const char* signal) {
    return counts[*sim->FindSignal(asset, signal)];
  };
  EXPECT_EQ(count_of("l1-sp-01", "spindle_load"), 601);  // 100 ms over 60 s, both ends
  EXPECT_EQ(count_of("l1-sp-01", "winding_temp"), 61);   // 1 s
  EXPECT_EQ(count_of("l1-sp-01", "energy"), 2);          // 60 s
  EXPECT_EQ(sim->samples_produced(), c.all.size());
}

TEST(Simulator, SameSeedSameSamplesOtherSeedOthers) {
  auto run = [](uint64_t seed) {
    auto sim = Make(Fast(minutes(10), seed));
    Collect c;
    sim->AddSink(&c);
    EXPECT_TRUE(sim->Run().ok());
    return c.all;
  };
  std::vector<Sample> a = run(7), b = run(7), other = run(8);
  ASSERT_EQ(a.size(), b.size());
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].signal, b[i].signal);
    ASSERT_EQ(a[i].ts_us, b[i].ts_us);
    ASSERT_EQ(a[i].value, b[i].value) << i;  // bit for bit
    if (a[i].value != other[i].value) ++differ;
  }
  EXPECT_GT(differ, a.size() / 10);
}

TEST(Simulator, ValuesRespectTypesAndRanges) {
  auto sim = Make(Fast(minutes(30)));
  Collect c;
  sim->AddSink(&c);
  ASSERT_TRUE(sim->Run().ok());
  size_t checked = 0;
  for (const Sample& s : c.all) {
    const model::SignalTemplate& spec = sim->signals()[s.signal].signal->spec;
    if (spec.type == model::DataType::kBool) {
      EXPECT_TRUE(s.value == 0 || s.value == 1);
    }
    if (spec.type == model::DataType::kInt32 || spec.type == model::DataType::kInt64) {
      EXPECT_EQ(s.value, std::round(s.value));
    }
    if (spec.min && spec.max) {
      EXPECT_GE(s.value, *spec.min) << sim->signals()[s.signal].asset->id << "." << spec.name;
      EXPECT_LE(s.value, *spec.max) << sim->signals()[s.signal].asset->id << "." << spec.name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(Simulator, SensorFaultsChangeOnlyTheirSignalAndAreLabelled) {
  ScheduledFault stuck;
  stuck.at = minutes(5);
  stuck.duration = minutes(5);
  stuck.asset = "l1-sp-01";
  stuck.signal = "current";
  stuck.type = FaultType::kSensorStuck;
  ScheduledFault drop;
  drop.at = minutes(2);
  drop.duration = minutes(1);
  drop.asset = "l1-cp-01";
  drop.type = FaultType::kCommDrop;
  auto sim = Make(Fast(minutes(15)), {stuck, drop});
  Collect c;
  sim->AddSink(&c);
  ASSERT_TRUE(sim->Run().ok());
  uint32_t current = *sim->FindSignal("l1-sp-01", "current");
  int64_t t0 = UnixMicros(SimOptions{}.start);
  std::vector<double> during, after;
  size_t unsent = 0, unsent_elsewhere = 0;
  for (const Sample& s : c.all) {
    int64_t t = s.ts_us - t0;
    if (s.signal == current && t >= 300'000'000 && t < 600'000'000) during.push_back(s.value);
    if (s.signal == current && t >= 600'000'000) after.push_back(s.value);
    if (!s.sent) {
      (sim->signals()[s.signal].asset->id == "l1-cp-01" && t >= 120'000'000 && t < 180'000'000)
          ? ++unsent
          : ++unsent_elsewhere;
    }
  }
  ASSERT_GT(during.size(), 100u);
  for (double v : during) EXPECT_EQ(v, during.front());
  EXPECT_NE(after.back(), during.front());
  // 60 s without sending: 9 signals at 1 s (540), fluid_temp at 5 s (12), energy at 60 s (1).
  EXPECT_EQ(unsent, 553u);
  EXPECT_EQ(unsent_elsewhere, 0u);
  std::vector<FaultLabel> labels = sim->labels();
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].type, FaultType::kCommDrop);
  EXPECT_EQ(UnixMicros(labels[0].start) - t0, 120'000'000);
  EXPECT_EQ(UnixMicros(*labels[0].end) - t0, 180'000'000);
  EXPECT_EQ(labels[1].signal, "current");
}

TEST(Simulator, BearingWearRunsToFailureAndTheLabelSaysWhen) {
  ScheduledFault wear;
  wear.at = hours(1);
  wear.asset = "l1-sp-02";
  wear.type = FaultType::kBearingWear;
  wear.severity = 1.0;
  // The motor twin's bearing fails after ~7.1 days of running at severity 1 (motor_twin.h).
  SimOptions o = Fast(hours(24 * 9));
  o.tick = seconds(60);  // coarse: this test is about days
  auto sim = Make(o, {wear});
  Collect c;
  sim->AddSink(&c);
  ASSERT_TRUE(sim->Run().ok());
  std::vector<FaultLabel> labels = sim->labels();
  ASSERT_EQ(labels.size(), 1u);
  ASSERT_TRUE(labels[0].failure.has_value()) << "no failure within 9 days";
  EXPECT_NEAR(std::chrono::duration<double>(*labels[0].failure - labels[0].start).count(), 616131,
              2 * 3600);  // running time to failure, within the motor's duty
  EXPECT_GT(*labels[0].failure, labels[0].start);
  // Vibration before the fault is lower than just before the failure.
  uint32_t vib = *sim->FindSignal("l1-sp-02", "vibration_rms");
  int64_t fail_us = UnixMicros(*labels[0].failure);
  double early = 0, late = 0;
  for (const Sample& s : c.all) {
    if (s.signal != vib) continue;
    if (s.ts_us < UnixMicros(labels[0].start)) early = std::max(early, s.value);
    if (s.ts_us < fail_us && s.ts_us > fail_us - 3'600'000'000) late = std::max(late, s.value);
  }
  EXPECT_GT(late, 2 * early);
}

// Calls Simulator::Repair(asset) from the tick at `at` (applied at the next tick), as a
// technician closing a work order would.
class RepairAt final : public SampleSink {
 public:
  RepairAt(Simulator* sim, std::string asset, TimePoint at)
      : sim_(sim), asset_(std::move(asset)), at_(at) {}
  Status OnTick(TimePoint now, std::span<const Sample> samples) override {
    if (!done_ && now >= at_) {
      sim_->Repair(asset_);
      done_ = true;
    }
    all.insert(all.end(), samples.begin(), samples.end());
    return Status::Ok();
  }
  std::vector<Sample> all;

 private:
  Simulator* sim_;
  std::string asset_;
  TimePoint at_;
  bool done_ = false;
};

// Mean of a signal's samples in [from, to).
double MeanOf(const std::vector<Sample>& all, uint32_t signal, int64_t from, int64_t to) {
  double sum = 0;
  int n = 0;
  for (const Sample& s : all) {
    if (s.signal != signal || s.ts_us < from || s.ts_us >= to) continue;
    sum += s.value;
    ++n;
  }
  EXPECT_GT(n, 0);
  return n > 0 ? sum / n : 0;
}

TEST(Simulator, RepairBeforeFailurePreventsItAndEndsTheLabel) {
  // Bearing wear at severity 1 from 1 h: the motor twin would seize ~7.13 days later (616131 s
  // of running, motor_twin.h). Repaired at day 5 (w = (exp(3·7.5e-7·(5·86400 − 3600)) − 1)/3 =
  // 0.54: vibration v0·(1 + 6·0.54²) = 2.76·v0), it runs 4 more days without failing.
  ScheduledFault wear;
  wear.at = hours(1);
  wear.asset = "l1-sp-02";
  wear.type = FaultType::kBearingWear;
  wear.severity = 1.0;
  SimOptions o = Fast(hours(24 * 9));
  o.tick = seconds(60);
  auto sim = Make(o, {wear});
  const TimePoint repair_at = o.start + hours(24 * 5);
  RepairAt sink(sim.get(), "l1-sp-02", repair_at);
  sim->AddSink(&sink);
  sim->Repair("nope");  // no such asset: refused and counted
  ASSERT_TRUE(sim->Run().ok());
  EXPECT_EQ(sim->input_errors(), 1u);
  std::vector<FaultLabel> labels = sim->labels();
  ASSERT_EQ(labels.size(), 1u);
  EXPECT_FALSE(labels[0].failure.has_value()) << "failed at " << IsoTime(*labels[0].failure);
  // Repair() was called in the tick at day 5; it applies at the next tick.
  ASSERT_TRUE(labels[0].end.has_value());
  EXPECT_EQ(*labels[0].end, repair_at + seconds(60));
  // Vibration: before the fault (first hour), just before the repair (worn), after it (new).
  const uint32_t vib = *sim->FindSignal("l1-sp-02", "vibration_rms");
  const int64_t t0 = UnixMicros(o.start), r = UnixMicros(repair_at);
  const double before = MeanOf(sink.all, vib, t0, t0 + 3'600'000'000);
  const double worn = MeanOf(sink.all, vib, r - 3'600'000'000, r);
  const double after = MeanOf(sink.all, vib, r + 3'600'000'000, r + 4 * 86'400'000'000);
  EXPECT_GT(worn, 2 * before);
  EXPECT_NEAR(after, before, 0.05 * before);
  // The spindle ran to the end.
  const uint32_t running = *sim->FindSignal("l1-sp-02", "running");
  EXPECT_EQ(MeanOf(sink.all, running, r, UnixMicros(o.start + hours(24 * 9))), 1.0);
}

TEST(Simulator, RepairOfAFailedTwinRunsItAgainAndANewFaultCanFailIt) {
  // Severity 1 from 1 h: seized at ~7.13 days + 1 h; repaired at day 8; a second wear at day
  // 8.5 at severity 1 seizes it again at ~15.6 days (outside the run: 10 days), so only the
  // first label has a failure, and it ends at the repair.
  ScheduledFault wear;
  wear.at = hours(1);
  wear.asset = "l1-sp-02";
  wear.type = FaultType::kBearingWear;
  wear.severity = 1.0;
  ScheduledFault again = wear;
  again.at = hours(24 * 8 + 12);
  SimOptions o = Fast(hours(24 * 10));
  o.tick = seconds(60);
  auto sim = Make(o, {wear, again});
  const TimePoint repair_at = o.start + hours(24 * 8);
  RepairAt sink(sim.get(), "l1-sp-02", repair_at);
  sim->AddSink(&sink);
  ASSERT_TRUE(sim->Run().ok());
  std::vector<FaultLabel> labels = sim->labels();
  ASSERT_EQ(labels.size(), 2u);
  ASSERT_TRUE(labels[0].failure.has_value());
  EXPECT_LT(*labels[0].failure, repair_at);
  EXPECT_EQ(labels[0].end, repair_at + seconds(60));
  EXPECT_FALSE(labels[1].failure.has_value());
  EXPECT_FALSE(labels[1].end.has_value());  // still wearing at the end
  const uint32_t running = *sim->FindSignal("l1-sp-02", "running");
  const int64_t fail_us = UnixMicros(*labels[0].failure), r = UnixMicros(repair_at);
  EXPECT_EQ(MeanOf(sink.all, running, fail_us + 60'000'000, r), 0.0);  // seized until then
  EXPECT_EQ(MeanOf(sink.all, running, r + 120'000'000, r + 86'400'000'000), 1.0);
}

TEST(Simulator, RecorderWritesEverySample) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/record.csv";
  auto sim = Make(Fast(seconds(30)));
  auto rec = CsvRecorder::Create(path, *sim);
  ASSERT_TRUE(rec.ok());
  Collect c;
  sim->AddSink(rec->get());
  sim->AddSink(&c);
  ASSERT_TRUE(sim->Run().ok());
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "ts_us,asset,signal,value,sent");
  size_t rows = 0;
  while (std::getline(in, line)) {
    const Sample& s = c.all[rows];
    std::ostringstream expect;
    expect << s.ts_us << "," << sim->signals()[s.signal].asset->id << ","
           << sim->signals()[s.signal].signal->spec.name << ",";
    ASSERT_EQ(line.substr(0, expect.str().size()), expect.str()) << rows;
    EXPECT_EQ(std::stod(line.substr(expect.str().size())), s.value) << line;
    ++rows;
  }
  EXPECT_EQ(rows, c.all.size());
  EXPECT_EQ((*rec)->rows(), rows);
}

// The recorder writes with O_DIRECT where it can and buffered where it cannot (tmpfs before Linux
// 6.6): the bytes are the same, across several of its 8 MiB buffers and the unaligned tail.
TEST(Simulator, RecordIsTheSameBytesDirectOrBuffered) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  if (::access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm (tmpfs)";
  const std::string a = dir->path() + "/record.csv";
  const std::string b = "/dev/shm/weft-sim-record-test-" + std::to_string(::getpid()) + ".csv";
  auto sim = Make(Fast(minutes(16)));
  auto rec_a = CsvRecorder::Create(a, *sim);
  auto rec_b = CsvRecorder::Create(b, *sim, /*try_direct=*/false);
  ASSERT_TRUE(rec_a.ok() && rec_b.ok());
  EXPECT_FALSE((*rec_b)->direct());
  sim->AddSink(rec_a->get());
  sim->AddSink(rec_b->get());
  ASSERT_TRUE(sim->Run().ok());
  std::cout << "O_DIRECT in the temp dir: " << (*rec_a)->direct() << "\n";
  auto slurp = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string bytes_a = slurp(a), bytes_b = slurp(b);
  std::remove(b.c_str());
  EXPECT_GT(bytes_a.size(), size_t{17} << 20);  // more than two buffers
  EXPECT_EQ(bytes_a.size(), bytes_b.size());
  EXPECT_TRUE(bytes_a == bytes_b);
  EXPECT_EQ(bytes_a.back(), '\n');
  EXPECT_EQ((*rec_a)->rows(), (*rec_b)->rows());
  EXPECT_EQ(static_cast<uint64_t>(std::count(bytes_a.begin(), bytes_a.end(), '\n')),
            (*rec_a)->rows() + 1);
}

TEST(Simulator, UnwritableRecordIsRefusedWithThePath) {
  auto sim = Make(Fast(seconds(1)));
  auto rec = CsvRecorder::Create("/nonexistent-dir/r.csv", *sim);
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("/nonexistent-dir/r.csv"), std::string::npos);
}

TEST(Simulator, TwinFaultOnAnAssetWithoutTwinIsRefused) {
  ScheduledFault f;
  f.asset = "l2-nr-01";  // nutrunner_station: no built-in model
  f.type = FaultType::kBearingWear;
  auto sim = Simulator::Create(Example(), Fast(seconds(1)), {f});
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.status().message().find("no physical twin"), std::string::npos);
}

TEST(Simulator, InputsReachTheTwinAndRefusalsAreCounted) {
  auto sim = Make(Fast(hours(3)));
  sim->SetInput("lyon-ac-01", "running", 0);
  sim->SetInput("lyon-ac-02", "demand", -5);  // outside the twin's limits
  sim->SetInput("nope", "setpoint", 20);
  // An HVAC zone behind its PLC: the program decides the setpoint (write remote_setpoint).
  sim->SetInput("lyon-hz-01", "setpoint", 26);
  Collect c;
  sim->AddSink(&c);
  ASSERT_TRUE(sim->Run().ok());
  EXPECT_EQ(sim->input_errors(), 3u);
  uint32_t running = *sim->FindSignal("lyon-ac-01", "running");
  double last = 1;
  for (const Sample& s : c.all) {
    if (s.signal == running) last = s.value;
  }
  EXPECT_EQ(last, 0);
}

TEST(Simulator, HvacZonePlcsFollowTheirScheduleAndHandMode) {
  // 03:00 to 07:00 UTC: night (18 degC), then day (21 degC) from 06:00; hand mode 04:00-05:00.
  SimOptions o = Fast(hours(4));
  o.tick = seconds(1);
  o.start = TimeFromUnixMicros(1'767'225'600'000'000) + hours(3);
  ScheduledFault hand;
  hand.at = hours(1);
  hand.duration = hours(1);
  hand.asset = "lyon-hz-03";
  hand.type = FaultType::kHandMode;
  hand.severity = 23;
  auto sim = Simulator::Create(Example(), o, {hand});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Collect c;
  (*sim)->AddSink(&c);
  ASSERT_TRUE((*sim)->Run().ok());
  uint32_t sp1 = *(*sim)->FindSignal("lyon-hz-01", "setpoint");
  uint32_t sp3 = *(*sim)->FindSignal("lyon-hz-03", "setpoint");
  uint32_t mode3 = *(*sim)->FindSignal("lyon-hz-03", "control_mode");
  uint32_t hb1 = *(*sim)->FindSignal("lyon-hz-01", "heartbeat");
  const int64_t start_us = UnixMicros(o.start);
  auto at = [&](uint32_t signal, int64_t minute) {
    for (const Sample& s : c.all) {
      if (s.signal == signal && s.ts_us == start_us + minute * 60'000'000) return s.value;
    }
    return -1.0;
  };
  EXPECT_EQ(at(sp1, 0), 18);
  EXPECT_EQ(at(sp1, 179), 18);
  EXPECT_EQ(at(sp1, 180), 21);  // 06:00
  EXPECT_EQ(at(sp3, 59), 18);
  EXPECT_EQ(at(mode3, 59), 0);
  EXPECT_EQ(at(sp3, 60), 23);  // hand
  EXPECT_EQ(at(mode3, 60), 2);
  EXPECT_EQ(at(mode3, 119), 2);
  EXPECT_EQ(at(mode3, 120), 0);
  EXPECT_EQ(at(sp3, 120), 18);
  EXPECT_EQ(at(hb1, 30), 0);  // program registers, not random walks
}

}  // namespace
}  // namespace weft::sim
