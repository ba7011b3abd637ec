#include "core/ingest/sequencer.h"

#include <gtest/gtest.h>

namespace weft::core {
namespace {

Incoming B(const std::string& app, uint64_t seq) {
  Incoming in;
  in.app = app;
  in.seq = seq;
  return in;
}

std::vector<uint64_t> Seqs(const std::vector<Incoming>& v) {
  std::vector<uint64_t> out;
  for (const Incoming& in : v) out.push_back(in.seq);
  return out;
}

using V = StreamSequencer::Verdict;

TEST(StreamSequencer, HandsOutInOrderHoldsAheadOfAGapAndDropsDuplicates) {
  StreamSequencer s;
  s.SetCommitted("e/normal", 41);
  std::vector<Incoming> ready;
  EXPECT_EQ(s.Offer(B("e/normal", 41), &ready), V::kDuplicate);
  EXPECT_EQ(s.Offer(B("e/normal", 43), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("e/normal", 44), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("e/normal", 43), &ready), V::kDuplicate) << "already held";
  EXPECT_TRUE(ready.empty());
  EXPECT_EQ(s.Offer(B("e/normal", 42), &ready), V::kReady);
  EXPECT_EQ(Seqs(ready), (std::vector<uint64_t>{42, 43, 44}));
  EXPECT_EQ(s.Offer(B("e/normal", 43), &ready), V::kDuplicate) << "handed out, not committed yet";
  EXPECT_EQ(s.committed("e/normal"), 41u);
  s.MarkCommitted("e/normal", 44);
  EXPECT_EQ(s.committed("e/normal"), 44u);
  EXPECT_EQ(s.expected("e/normal"), 45u);
  // Streams are independent; a new one starts at 1.
  ready.clear();
  EXPECT_EQ(s.Offer(B("e/low", 2), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("f/normal", 1), &ready), V::kReady);
  EXPECT_EQ(Seqs(ready), (std::vector<uint64_t>{1}));
}

TEST(StreamSequencer, AFloorSkipsWhatTheEdgeEvicted) {
  StreamSequencer s;
  s.SetCommitted("e/low", 10);
  std::vector<Incoming> ready;
  EXPECT_EQ(s.Offer(B("e/low", 15), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("e/low", 16), &ready), V::kHeld);
  s.SetFloor("e/low", 15, &ready);  // 11..14 were evicted at the edge
  EXPECT_EQ(Seqs(ready), (std::vector<uint64_t>{15, 16}));
  // A floor below the watermark changes nothing.
  ready.clear();
  s.SetFloor("e/low", 3, &ready);
  EXPECT_EQ(s.expected("e/low"), 17u);
  EXPECT_EQ(s.Offer(B("e/low", 12), &ready), V::kDuplicate);
}

TEST(StreamSequencer, HeldBatchesAreBoundedKeepingTheOnesNearestTheGap) {
  StreamSequencer s(/*max_held_per_stream=*/3);
  std::vector<Incoming> ready;
  EXPECT_EQ(s.Offer(B("e/normal", 5), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("e/normal", 6), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("e/normal", 7), &ready), V::kHeld);
  EXPECT_EQ(s.Offer(B("e/normal", 8), &ready), V::kDropped);
  EXPECT_EQ(s.Offer(B("e/normal", 3), &ready), V::kHeld) << "evicts 7, the farthest";
  EXPECT_EQ(s.held("e/normal"), 3u);
  EXPECT_EQ(s.Offer(B("e/normal", 1), &ready), V::kReady);
  EXPECT_EQ(s.Offer(B("e/normal", 2), &ready), V::kReady);
  EXPECT_EQ(s.Offer(B("e/normal", 4), &ready), V::kReady);
  EXPECT_EQ(Seqs(ready), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(s.expected("e/normal"), 7u) << "7 was dropped: it will come again";
}

}  // namespace
}  // namespace weft::core
