#include "edge/uplink_sender.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "edge/signal_table.h"
#include "edge/uplink/batch_codec.h"
#include "testing/example_plant.h"
#include "testing/test_env.h"

namespace weft::edge {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Received {
  std::mutex mu;
  std::vector<std::pair<std::string, uplink::DecodedBatch>> batches;
  std::vector<std::string> errors;
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return batches.size();
  }
};

class UplinkSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = weft::testing::MosquittoBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<weft::testing::TempDir>(std::move(*dir));
    auto table = SignalTable::FromPlant(weft::testing::ExamplePlant(), {});
    ASSERT_TRUE(table.ok());
    table_ = std::make_unique<SignalTable>(std::move(*table));
    auto q = uplink::DurableQueue::Open(dir_->path() + "/q");
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_ = std::move(*q);
  }

  std::unique_ptr<mqtt::Client> Connect(const std::string& id) {
    mqtt::ClientOptions o;
    o.client_id = id;
    auto c = mqtt::Client::Connect(*mqtt::BrokerAddress::Parse(broker_->url()), o, seconds(5));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<mqtt::Client> Subscribe(Received* into) {
    auto sub = Connect("uplink-sub");
    sub->SetMessageHandler([into](const mqtt::Message& m) {
      Result<uplink::DecodedBatch> b = uplink::DecodeBatch(m.payload);
      std::lock_guard<std::mutex> lock(into->mu);
      if (b.ok()) {
        into->batches.emplace_back(m.topic, std::move(*b));
      } else {
        into->errors.push_back(b.status().ToString());
      }
    });
    EXPECT_TRUE(sub->Subscribe("weft/v1/uplink/#", 1).ok());
    return sub;
  }

  void Append(Priority p, int samples) {
    uplink::BatchBuilder b("edge-t", p);
    for (int i = 0; i < samples; ++i) {
      b.Add(Sample{static_cast<SignalId>(i % 7), 1'700'000'000'000'000 + i, 1.0 * i, 0});
    }
    uint64_t seq = queue_->NextSeq(p);
    auto bytes = b.Finish(seq, 1'700'000'000'000'000, *table_);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ASSERT_TRUE(queue_->Append(p, seq, *bytes).ok());
  }

  static bool WaitFor(const std::function<bool()>& done, milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
  }

  std::unique_ptr<weft::testing::MosquittoBroker> broker_;
  std::unique_ptr<weft::testing::TempDir> dir_;
  std::unique_ptr<SignalTable> table_;
  std::unique_ptr<uplink::DurableQueue> queue_;
};

TEST_F(UplinkSenderTest, BacklogDrainsMostImportantClassFirstAndLeavesTheQueueOnAck) {
  Received got;
  auto sub = Subscribe(&got);
  for (int i = 0; i < 5; ++i) Append(Priority::kLow, 10);
  for (int i = 0; i < 5; ++i) Append(Priority::kCritical, 3);
  auto client = Connect("edge-t");
  UplinkSender sender(queue_.get(), client.get(), {.edge_id = "edge-t", .inflight = 1});
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return got.size() >= 10; }, seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return queue_->stats().bytes == 0; }, seconds(5)));
  sender.Stop();
  std::lock_guard<std::mutex> lock(got.mu);
  EXPECT_TRUE(got.errors.empty());
  ASSERT_EQ(got.batches.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    const auto& [topic, batch] = got.batches[i];
    Priority want = i < 5 ? Priority::kCritical : Priority::kLow;
    EXPECT_EQ(topic, UplinkTopic("weft/v1/uplink", "edge-t", want));
    EXPECT_EQ(batch.stream, want);
    EXPECT_EQ(batch.seq, i % 5 + 1) << "oldest first within a class";
    EXPECT_EQ(batch.edge_id, "edge-t");
  }
  EXPECT_EQ(sender.stats().acked, 10u);
}

TEST_F(UplinkSenderTest, NothingIsLostWhileTheBrokerIsDown) {
  // Both declared before the subscribers, which write into them from their network threads
  // until destroyed: `after` outliving `sub` (not the reverse) keeps that thread off a dead stack
  // object (ASan stack-use-after-scope; without ASan a garbage mutex that hung the test).
  Received got;
  Received after;
  auto sub = Subscribe(&got);
  auto client = Connect("edge-t");
  UplinkSender sender(queue_.get(), client.get(), {.edge_id = "edge-t", .inflight = 4});
  sender.Start();
  for (int i = 0; i < 10; ++i) Append(Priority::kNormal, 20);
  ASSERT_TRUE(WaitFor([&] { return got.size() >= 10; }, seconds(10)));
  broker_->Stop();
  ASSERT_TRUE(WaitFor([&] { return !client->connected(); }, seconds(5)));
  for (int i = 0; i < 30; ++i) Append(Priority::kNormal, 20);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_GE(queue_->stats().classes[static_cast<size_t>(Priority::kNormal)].batches, 30u - 4u)
      << "unacknowledged batches stay in the queue";
  ASSERT_TRUE(broker_->Restart().ok());
  sub.reset();
  ASSERT_TRUE(WaitFor([&] { return client->connected(); }, seconds(20)));
  sub = Subscribe(&after);
  ASSERT_TRUE(WaitFor([&] { return queue_->stats().bytes == 0; }, seconds(60)))
      << queue_->stats().classes[2].batches << " batches left; " << broker_->Log();
  sender.Stop();
  // Batches published between the restart and the new subscription reached nobody: the test's
  // subscriber is not the core (which keeps a persistent session). What the queue says was
  // acknowledged must be every seq, 1..40, and the ones received must be intact and in order.
  std::set<uint64_t> seqs;
  for (const auto& [t, b] : got.batches) seqs.insert(b.seq);
  for (const auto& [t, b] : after.batches) seqs.insert(b.seq);
  EXPECT_EQ(queue_->NextSeq(Priority::kNormal), 41u);
  EXPECT_EQ(queue_->stats().classes[2].first_live_seq, 41u);
  EXPECT_TRUE(after.errors.empty());
  uint64_t last = 0;
  for (const auto& [t, b] : after.batches) {
    EXPECT_GE(b.seq, last) << "per-class order survives the reconnect";
    last = b.seq;
  }
}

TEST_F(UplinkSenderTest, WaitingForCommitsKeepsBatchesUntilTheCoreConfirmsAndResendsOnRequest) {
  Received got;
  auto sub = Subscribe(&got);
  std::mutex floors_mu;
  std::map<std::string, std::string> floors;
  auto floor_sub = Connect("floor-sub");
  floor_sub->SetMessageHandler([&](const mqtt::Message& m) {
    std::lock_guard<std::mutex> lock(floors_mu);
    floors[m.topic] = m.payload;
  });
  auto client = Connect("edge-t");
  for (int i = 0; i < 6; ++i) Append(Priority::kNormal, 5);
  UplinkSender sender(queue_.get(), client.get(),
                      {.edge_id = "edge-t",
                       .resend_after = seconds(60),
                       .wait_for_commit = true,
                       .uncommitted = 4,
                       .nack_after = milliseconds(100),
                       .floor_topic = "weft/v1/edge/edge-t/floor"});
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return got.size() >= 4; }, seconds(10)));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(got.size(), 4u) << "at most `uncommitted` batches out before a commit";
  EXPECT_EQ(sender.stats().acked, 4u) << "the broker has them";
  EXPECT_EQ(queue_->stats().classes[2].batches, 6u) << "a broker ack removes nothing";

  sender.OnCommitted(Priority::kNormal, 3);
  ASSERT_TRUE(WaitFor([&] { return got.size() >= 6; }, seconds(10)));
  EXPECT_EQ(queue_->stats().classes[2].first_live_seq, 4u);
  EXPECT_EQ(sender.stats().committed, 3u);

  // The core repeats watermark 3: batch 4 (and the later ones) are sent again.
  std::this_thread::sleep_for(milliseconds(200));
  sender.OnCommitted(Priority::kNormal, 3);
  ASSERT_TRUE(WaitFor([&] { return got.size() >= 9; }, seconds(10)));
  {
    std::lock_guard<std::mutex> lock(got.mu);
    std::vector<uint64_t> seqs;
    for (const auto& [t, b] : got.batches) seqs.push_back(b.seq);
    EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 4, 5, 6}));
  }
  EXPECT_EQ(sender.stats().resent, 3u);

  sender.OnCommitted(Priority::kNormal, 6);
  EXPECT_EQ(queue_->stats().bytes, 0u);
  // A watermark above anything the queue handed out (an older buffer's) drops nothing.
  Append(Priority::kNormal, 5);
  sender.OnCommitted(Priority::kNormal, 99);
  EXPECT_EQ(queue_->stats().classes[2].batches, 1u);
  sender.OnCommitted(Priority::kNormal, 7);  // and the real one still counts
  EXPECT_EQ(queue_->stats().classes[2].batches, 0u);
  sender.Stop();

  // The floors were announced, retained: a subscriber that comes later still gets them.
  ASSERT_TRUE(floor_sub->Subscribe("weft/v1/edge/edge-t/floor/+", 1).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(floors_mu);
        return floors.size() == 4;
      },
      seconds(5)));
  std::lock_guard<std::mutex> lock(floors_mu);
  EXPECT_EQ(floors["weft/v1/edge/edge-t/floor/normal"], "1");
  EXPECT_EQ(floors["weft/v1/edge/edge-t/floor/low"], "1");
}

}  // namespace
}  // namespace weft::edge
