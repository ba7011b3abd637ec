#include "edge/uplink/durable_queue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "testing/test_env.h"

namespace weft::edge::uplink {
namespace {

namespace fs = std::filesystem;

// A payload whose bytes depend on seq and size, so that a mixed-up or damaged batch is seen.
std::string Payload(uint64_t seq, size_t size) {
  std::string s(size, '\0');
  uint64_t x = seq * 0x9e3779b97f4a7c15ull + size;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

class DurableQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testing::TempDir> d = testing::TempDir::Make();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    tmp_ = std::make_unique<testing::TempDir>(std::move(d).value());
    dir_ = tmp_->path() + "/q";
  }

  std::unique_ptr<DurableQueue> Open(DurableQueueOptions options = {}) {
    Result<std::unique_ptr<DurableQueue>> q = DurableQueue::Open(dir_, options);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  static uint64_t AppendOne(DurableQueue& q, Priority p, size_t size) {
    const uint64_t seq = q.NextSeq(p);
    Status s = q.Append(p, seq, Payload(seq, size));
    EXPECT_TRUE(s.ok()) << s.ToString();
    return seq;
  }

  static std::vector<uint64_t> Seqs(DurableQueue& q, Priority p) {
    Result<std::vector<QueuedBatch>> r = q.ReadFrom(p, 0, SIZE_MAX);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<uint64_t> out;
    if (!r.ok()) return out;
    for (const QueuedBatch& b : *r) out.push_back(b.seq);
    return out;
  }

  std::vector<fs::path> Segments(Priority p) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/" + std::string(PriorityName(p)))) {
      if (e.path().extension() == ".seg") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  uint64_t DiskBytes() const {
    uint64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file()) n += e.file_size();
    }
    return n;
  }

  std::unique_ptr<testing::TempDir> tmp_;
  std::string dir_;
};

TEST(Crc32c, KnownVector) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), 0xe3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST_F(DurableQueueTest, AppendReadAckAndRestart) {
  {
    auto q = Open();
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->NextSeq(Priority::kNormal), 1u);
    EXPECT_FALSE(q->FirstNonEmpty().has_value());
    for (int i = 0; i < 10; ++i) AppendOne(*q, Priority::kNormal, 100 + static_cast<size_t>(i));
    AppendOne(*q, Priority::kHigh, 50);
    EXPECT_EQ(q->FirstNonEmpty(), Priority::kHigh);

    Result<std::vector<QueuedBatch>> all = q->ReadFrom(Priority::kNormal, 0, 100);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), 10u);
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_EQ((*all)[i].seq, i + 1);
      EXPECT_EQ((*all)[i].bytes, Payload(i + 1, 100 + i));
    }
    // Limits on count, start seq and total bytes.
    Result<std::vector<QueuedBatch>> some = q->ReadFrom(Priority::kNormal, 4, 3);
    ASSERT_TRUE(some.ok());
    ASSERT_EQ(some->size(), 3u);
    EXPECT_EQ(some->front().seq, 4u);
    some = q->ReadFrom(Priority::kNormal, 0, 100, 250);
    ASSERT_TRUE(some.ok());
    EXPECT_EQ(some->size(), 2u);
    some = q->ReadFrom(Priority::kNormal, 0, 100, 1);
    ASSERT_TRUE(some.ok());
    EXPECT_EQ(some->size(), 1u) << "at least one batch";

    ASSERT_TRUE(q->Ack(Priority::kNormal, 5).ok());
    Result<std::optional<QueuedBatch>> head = q->Peek(Priority::kNormal);
    ASSERT_TRUE(head.ok());
    ASSERT_TRUE(head->has_value());
    EXPECT_EQ((*head)->seq, 6u);
    ASSERT_TRUE(q->Ack(Priority::kNormal, 3).ok()) << "an older ack is a no-op";
    const DurableQueueStats st = q->stats();
    EXPECT_EQ(st.classes[2].batches, 5u);
    EXPECT_EQ(st.classes[2].first_live_seq, 6u);
    EXPECT_EQ(st.classes[1].batches, 1u);
    EXPECT_EQ(st.bytes, st.classes[1].bytes + st.classes[2].bytes);
    EXPECT_EQ(st.classes[1].bytes, 16u + 50u);
  }
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(Seqs(*q, Priority::kNormal), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(Seqs(*q, Priority::kHigh), (std::vector<uint64_t>{1}));
  EXPECT_EQ(q->NextSeq(Priority::kNormal), 11u);
  EXPECT_EQ(q->NextSeq(Priority::kCritical), 1u);
  Result<std::vector<QueuedBatch>> r = q->ReadFrom(Priority::kNormal, 0, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0).bytes, Payload(6, 105));
  EXPECT_EQ(q->stats().corrupted_frames, 0u);
}

TEST_F(DurableQueueTest, SeqContinuesAfterRestartEvenWhenEverythingWasAcked) {
  const DurableQueueOptions options{.segment_bytes = 400};
  for (int round = 0; round < 3; ++round) {
    auto q = Open(options);
    ASSERT_NE(q, nullptr);
    const uint64_t first = q->NextSeq(Priority::kLow);
    EXPECT_EQ(first, static_cast<uint64_t>(round * 20 + 1));
    uint64_t last = 0;
    for (int i = 0; i < 20; ++i) last = AppendOne(*q, Priority::kLow, 90);
    EXPECT_GT(Segments(Priority::kLow).size(), 3u);
    ASSERT_TRUE(q->Ack(Priority::kLow, last).ok());
    EXPECT_EQ(Segments(Priority::kLow).size(), 1u) << "dead segments are deleted, the last kept";
    EXPECT_EQ(q->stats().bytes, 0u);
  }
}

TEST_F(DurableQueueTest, BadCallsAreRefused) {
  auto q = Open({.max_bytes = 1000});
  ASSERT_NE(q, nullptr);
  Status s = q->Append(Priority::kNormal, 2, "x");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("expects seq 1"), std::string::npos) << s.ToString();
  EXPECT_EQ(q->Append(Priority::kNormal, 1, "").code(), StatusCode::kInvalidArgument);
  s = q->Append(Priority::kNormal, 1, std::string(985, 'x'));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("does not fit"), std::string::npos) << s.ToString();
  EXPECT_TRUE(q->Append(Priority::kNormal, 1, std::string(984, 'x')).ok()) << "exactly fits";
  EXPECT_EQ(q->Ack(Priority::kNormal, 2).code(), StatusCode::kInvalidArgument);
  Result<std::unique_ptr<DurableQueue>> second = DurableQueue::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_EQ(DurableQueue::Open(dir_, {.max_bytes = 3}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(DurableQueueTest, EvictsLowestPriorityFirstAndCountsIt) {
  // Frames of 100 bytes (84 + 16 header), room for 10.
  auto q = Open({.max_bytes = 1000, .segment_bytes = 350});
  ASSERT_NE(q, nullptr);
  for (Priority p : {Priority::kLow, Priority::kNormal, Priority::kHigh}) {
    for (int i = 0; i < 3; ++i) AppendOne(*q, p, 84);
  }
  AppendOne(*q, Priority::kCritical, 84);
  EXPECT_EQ(q->stats().bytes, 1000u);
  // 4 more critical: low's 3 go first (oldest first), then normal's oldest.
  for (int i = 0; i < 4; ++i) AppendOne(*q, Priority::kCritical, 84);
  DurableQueueStats st = q->stats();
  EXPECT_EQ(st.bytes, 1000u);
  EXPECT_EQ(st.classes[3].evicted_batches, 3u);
  EXPECT_EQ(st.classes[3].evicted_bytes, 300u);
  EXPECT_EQ(st.classes[3].batches, 0u);
  EXPECT_EQ(st.classes[2].evicted_batches, 1u);
  EXPECT_EQ(Seqs(*q, Priority::kNormal), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(st.classes[1].evicted_batches, 0u);
  EXPECT_EQ(st.classes[0].evicted_batches, 0u);
  // A big critical batch evicts normal and high entirely, then the oldest critical.
  AppendOne(*q, Priority::kCritical, 584);  // 600 bytes
  st = q->stats();
  EXPECT_LE(st.bytes, 1000u);
  EXPECT_EQ(st.classes[2].batches, 0u);
  EXPECT_EQ(st.classes[1].batches, 0u);
  EXPECT_EQ(st.classes[1].evicted_batches, 3u);
  EXPECT_EQ(st.classes[0].evicted_batches, 1u);
  EXPECT_EQ(Seqs(*q, Priority::kCritical), (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  // Evictions survive a restart (the cursor moved).
  q.reset();
  q = Open({.max_bytes = 1000, .segment_bytes = 350});
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(Seqs(*q, Priority::kCritical), (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  EXPECT_TRUE(Seqs(*q, Priority::kLow).empty());
  EXPECT_EQ(q->NextSeq(Priority::kLow), 4u);
}

TEST_F(DurableQueueTest, BoundIsNeverExceededUnderRandomLoad) {
  const DurableQueueOptions options{
      .max_bytes = 20'000, .segment_bytes = 4'000, .fsync = FsyncPolicy::kNever};
  auto q = Open(options);
  ASSERT_NE(q, nullptr);
  std::mt19937 rng(7);
  size_t largest = 0;
  for (int op = 0; op < 3000; ++op) {
    const auto p = static_cast<Priority>(rng() % 4);
    if (rng() % 5 == 0) {
      Result<std::optional<QueuedBatch>> head = q->Peek(p);
      ASSERT_TRUE(head.ok());
      if (head->has_value()) {
        const uint64_t seq = std::min((*head)->seq + rng() % 3, q->NextSeq(p) - 1);
        ASSERT_TRUE(q->Ack(p, seq).ok());
      }
    } else {
      const size_t size = 1 + rng() % 3000;
      largest = std::max(largest, size);
      AppendOne(*q, p, size);
    }
    const DurableQueueStats st = q->stats();
    ASSERT_LE(st.bytes, options.max_bytes) << "op " << op;
    uint64_t sum = 0;
    for (const auto& c : st.classes) sum += c.bytes;
    ASSERT_EQ(sum, st.bytes);
    if (op % 10 == 0) {
      ASSERT_LE(DiskBytes(), options.max_bytes + 8 * options.segment_bytes + largest + 200)
          << "op " << op;
    }
  }
  // Everything still live reads back intact.
  for (int c = 0; c < kPriorityCount; ++c) {
    Result<std::vector<QueuedBatch>> all = q->ReadFrom(static_cast<Priority>(c), 0, SIZE_MAX);
    ASSERT_TRUE(all.ok());
    for (const QueuedBatch& b : *all) ASSERT_EQ(b.bytes, Payload(b.seq, b.bytes.size()));
  }
  EXPECT_EQ(q->stats().corrupted_frames, 0u);
}

TEST_F(DurableQueueTest, TornTailIsCutAndCounted) {
  {
    auto q = Open();
    for (int i = 0; i < 5; ++i) AppendOne(*q, Priority::kNormal, 200);
  }
  const std::vector<fs::path> segs = Segments(Priority::kNormal);
  ASSERT_EQ(segs.size(), 1u);
  fs::resize_file(segs[0], fs::file_size(segs[0]) - 10);  // mid-frame 5
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(Seqs(*q, Priority::kNormal), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(q->stats().corrupted_frames, 1u);
  EXPECT_EQ(q->stats().truncated_bytes, 216u - 10u);
  // A torn frame was never acknowledged to its producer: its seq may be used again.
  EXPECT_EQ(q->NextSeq(Priority::kNormal), 5u);
  AppendOne(*q, Priority::kNormal, 30);
  q.reset();
  q = Open();
  EXPECT_EQ(Seqs(*q, Priority::kNormal), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(q->stats().corrupted_frames, 0u);
  Result<std::vector<QueuedBatch>> r = q->ReadFrom(Priority::kNormal, 5, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0).bytes, Payload(5, 30));
}

TEST_F(DurableQueueTest, FlippedByteCutsTheRestOfItsSegmentOnly) {
  const DurableQueueOptions options{.segment_bytes = 700};  // 3 frames of 216 bytes a segment
  {
    auto q = Open(options);
    for (int i = 0; i < 9; ++i) AppendOne(*q, Priority::kHigh, 200);
  }
  std::vector<fs::path> segs = Segments(Priority::kHigh);
  ASSERT_EQ(segs.size(), 3u);
  auto flip = [](const fs::path& path, uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  };
  flip(segs[0], 8 + 216 + 100);  // payload of seq 2
  flip(segs[2], 8 + 216 + 20);   // payload of seq 8
  auto q = Open(options);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(Seqs(*q, Priority::kHigh), (std::vector<uint64_t>{1, 4, 5, 6, 7}));
  EXPECT_EQ(q->stats().corrupted_frames, 2u);
  EXPECT_EQ(q->stats().truncated_bytes, 2u * 432u);
  // The last segment was corrupt, not torn: seqs that may have been handed out are skipped.
  EXPECT_GT(q->NextSeq(Priority::kHigh), 9u);
  // A garbage segment (bad header) is removed and counted.
  q.reset();
  {
    std::ofstream junk(dir_ + "/low/00000000000000000001.seg", std::ios::binary);
    junk << "this is not a segment";
  }
  q = Open(options);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->stats().corrupted_frames, 1u);
  EXPECT_TRUE(Segments(Priority::kLow).empty());
  EXPECT_GE(q->NextSeq(Priority::kLow), 2u);
}

TEST_F(DurableQueueTest, FrameRottenAfterRecoveryIsDroppedOnRead) {
  auto q = Open();
  for (int i = 0; i < 3; ++i) AppendOne(*q, Priority::kNormal, 100);
  {
    std::fstream f(Segments(Priority::kNormal)[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 116 + 16 + 5);  // payload of seq 2
    f.write("X", 1);
  }
  EXPECT_EQ(Seqs(*q, Priority::kNormal), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(q->stats().corrupted_frames, 1u);
  EXPECT_EQ(q->stats().classes[2].batches, 2u);
  EXPECT_EQ(q->stats().bytes, 2u * 116u);
}

TEST_F(DurableQueueTest, CorruptCursorMeansEverythingIsLive) {
  {
    auto q = Open();
    for (int i = 0; i < 4; ++i) AppendOne(*q, Priority::kLow, 10);
    ASSERT_TRUE(q->Ack(Priority::kLow, 2).ok());
  }
  {
    std::ofstream c(dir_ + "/low/cursor", std::ios::binary | std::ios::trunc);
    c << "garbage";
  }
  auto q = Open();
  EXPECT_EQ(Seqs(*q, Priority::kLow), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(q->NextSeq(Priority::kLow), 5u);
}

TEST_F(DurableQueueTest, IntervalAndNeverPoliciesWork) {
  for (FsyncPolicy policy : {FsyncPolicy::kInterval, FsyncPolicy::kNever}) {
    {
      auto q = Open({.fsync = policy, .fsync_interval = std::chrono::milliseconds(1)});
      ASSERT_NE(q, nullptr);
      for (int i = 0; i < 5; ++i) {
        AppendOne(*q, Priority::kCritical, 64);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      EXPECT_TRUE(q->Sync().ok());
    }
    auto q = Open();
    EXPECT_EQ(Seqs(*q, Priority::kCritical).size(), policy == FsyncPolicy::kInterval ? 5u : 10u);
  }
}

// Disk errors come back as Status and leave the queue usable. The file-size limit (EFBIG) stands
// in for a full disk; it is set in a child process so that the test runner is not affected.
TEST_F(DurableQueueTest, WriteErrorsAreStatusesAndTheQueueGoesOn) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    int code = 0;
    {
      Result<std::unique_ptr<DurableQueue>> q =
          DurableQueue::Open(dir_, {.segment_bytes = 1 << 20});
      if (!q.ok()) ::_exit(10);
      rlimit lim{};
      ::getrlimit(RLIMIT_FSIZE, &lim);
      const rlimit original = lim;
      lim.rlim_cur = 5000;
      ::setrlimit(RLIMIT_FSIZE, &lim);
      Status failed;
      uint64_t ok_count = 0;
      for (int i = 0; i < 10 && failed.ok(); ++i) {
        const uint64_t seq = (*q)->NextSeq(Priority::kNormal);
        failed = (*q)->Append(Priority::kNormal, seq, Payload(seq, 1000));
        if (failed.ok()) ++ok_count;
      }
      if (failed.ok()) ::_exit(11);
      if (failed.code() != StatusCode::kUnavailable) ::_exit(12);
      if (failed.message().find("too large") == std::string::npos) ::_exit(13);
      if ((*q)->NextSeq(Priority::kNormal) != ok_count + 1) ::_exit(14);
      ::setrlimit(RLIMIT_FSIZE, &original);
      const uint64_t seq = (*q)->NextSeq(Priority::kNormal);
      if (!(*q)->Append(Priority::kNormal, seq, Payload(seq, 1000)).ok()) ::_exit(15);
      code = static_cast<int>(ok_count);
    }
    ::_exit(100 + code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  const int code = WEXITSTATUS(status);
  ASSERT_GT(code, 100) << "child failed at check " << code;
  const auto ok_count = static_cast<uint64_t>(code - 100);
  EXPECT_EQ(ok_count, 4u);  // 8 + 4 * 1016 bytes fit in 5000, the 5th frame does not
  auto q = Open();
  ASSERT_NE(q, nullptr);
  std::vector<uint64_t> want;
  for (uint64_t s = 1; s <= ok_count + 1; ++s) want.push_back(s);
  EXPECT_EQ(Seqs(*q, Priority::kNormal), want);
  EXPECT_EQ(q->stats().corrupted_frames, 0u);
}

// A producer killed with SIGKILL at a random point loses nothing it was told was stored.
TEST_F(DurableQueueTest, KillNineLosesNoAppendedBatch) {
  for (FsyncPolicy policy : {FsyncPolicy::kEveryAppend, FsyncPolicy::kNever}) {
    SCOPED_TRACE(policy == FsyncPolicy::kNever ? "never" : "every append");
    fs::remove_all(dir_);
    const DurableQueueOptions options{
        .max_bytes = uint64_t{1} << 30, .segment_bytes = 64 << 10, .fsync = policy};
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      Result<std::unique_ptr<DurableQueue>> q = DurableQueue::Open(dir_, options);
      if (!q.ok()) ::_exit(1);
      for (uint64_t i = 0;; ++i) {
        const auto p = static_cast<Priority>(i % 4);
        const uint64_t seq = (*q)->NextSeq(p);
        const size_t size = 1 + (seq * 7919 + i) % 20000;
        if (!(*q)->Append(p, seq, Payload(seq, size)).ok()) ::_exit(2);
        const uint64_t msg[3] = {static_cast<uint64_t>(p), seq, size};
        if (::write(fds[1], msg, sizeof(msg)) != static_cast<ssize_t>(sizeof(msg))) ::_exit(3);
      }
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself with " << WEXITSTATUS(status);
    std::vector<std::array<uint64_t, 3>> reported;
    uint64_t msg[3];
    while (::read(fds[0], msg, sizeof(msg)) == static_cast<ssize_t>(sizeof(msg))) {
      reported.push_back({msg[0], msg[1], msg[2]});
    }
    ::close(fds[0]);
    ASSERT_GT(reported.size(), 4u) << "the child appended almost nothing in 200 ms";
    std::printf("kill -9 test: %zu appends reported before SIGKILL\n", reported.size());

    auto q = Open(options);
    ASSERT_NE(q, nullptr);
    for (const auto& [p, seq, size] : reported) {
      Result<std::vector<QueuedBatch>> r = q->ReadFrom(static_cast<Priority>(p), seq, 1);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->size(), 1u) << "class " << p << " seq " << seq;
      ASSERT_EQ(r->at(0).seq, seq);
      ASSERT_EQ(r->at(0).bytes, Payload(seq, size)) << "class " << p << " seq " << seq;
    }
    // New appends continue after the highest reported seq.
    for (int c = 0; c < kPriorityCount; ++c) {
      uint64_t max_seq = 0;
      for (const auto& r : reported) {
        if (r[0] == static_cast<uint64_t>(c)) max_seq = std::max(max_seq, r[1]);
      }
      EXPECT_GT(q->NextSeq(static_cast<Priority>(c)), max_seq);
    }
    EXPECT_LE(q->stats().corrupted_frames, 1u) << "at most the frame being written";
  }
}

}  // namespace
}  // namespace weft::edge::uplink
