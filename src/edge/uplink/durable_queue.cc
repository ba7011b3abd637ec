#include "edge/uplink/durable_queue.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <utility>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace weft::edge::uplink {

static_assert(std::endian::native == std::endian::little, "the queue's files are little endian");

// ---- CRC-32C ----

namespace {

constexpr uint32_t kCrc32cPoly = 0x82f63b78;  // reflected Castagnoli polynomial

constexpr std::array<std::array<uint32_t, 256>, 8> MakeCrcTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCrc32cPoly : c >> 1;
    t[0][i] = c;
  }
  for (size_t i = 0; i < 256; ++i) {
    for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
}
constexpr auto kCrcTables = MakeCrcTables();

uint32_t Crc32cSoftware(const unsigned char* p, size_t n, uint32_t crc) {
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    word ^= crc;
    crc = kCrcTables[7][word & 0xff] ^ kCrcTables[6][(word >> 8) & 0xff] ^
          kCrcTables[5][(word >> 16) & 0xff] ^ kCrcTables[4][(word >> 24) & 0xff] ^
          kCrcTables[3][(word >> 32) & 0xff] ^ kCrcTables[2][(word >> 40) & 0xff] ^
          kCrcTables[1][(word >> 48) & 0xff] ^ kCrcTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ kCrcTables[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const unsigned char* p, size_t n,
                                                          uint32_t crc) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hw = __builtin_cpu_supports("sse4.2");
  crc = hw ? Crc32cHardware(p, data.size(), crc) : Crc32cSoftware(p, data.size(), crc);
#else
  crc = Crc32cSoftware(p, data.size(), crc);
#endif
  return ~crc;
}

// ---- Files ----

namespace {

constexpr std::string_view kSegmentMagic = "WFQSEG1\n";
constexpr uint64_t kSegmentHeaderBytes = 8;
constexpr uint64_t kFrameHeaderBytes = 16;  // u32 length, u32 crc, u64 seq
constexpr uint64_t kMinFrameBytes = kFrameHeaderBytes + 1;
constexpr std::string_view kCursorMagic = "WFC1";
constexpr size_t kCursorBytes = 24;  // magic, u64 first live seq, u64 next seq, u32 crc
constexpr std::array<std::string_view, kPriorityCount> kClassDirs = {"critical", "high", "normal",
                                                                     "low"};

Status IoError(std::string_view what, const std::string& path, int err) {
  return UnavailableError("uplink queue: " + std::string(what) + " " + path + ": " +
                          std::strerror(err));
}

uint32_t FrameCrc(uint64_t seq, std::string_view payload) {
  char seq_bytes[8];
  std::memcpy(seq_bytes, &seq, 8);
  return Crc32c(payload, Crc32c(std::string_view(seq_bytes, 8)));
}

Status WriteAll(int fd, const std::string& path, iovec* iov, int iovcnt) {
  while (iovcnt > 0) {
    const ssize_t n = ::writev(fd, iov, iovcnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    auto left = static_cast<size_t>(n);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::Ok();
}

Status PreadAll(int fd, const std::string& path, char* buf, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (r == 0) return DataLossError("uplink queue: " + path + " ends early");
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("stat", path, err);
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  Status s = PreadAll(fd, path, data.data(), data.size(), 0);
  ::close(fd);
  if (!s.ok()) return s;
  return data;
}

Status FsyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", path, errno);
  const int r = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (r != 0) return IoError("fsync directory", path, err);
  return Status::Ok();
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return IoError("create directory", path, errno);
  }
  return Status::Ok();
}

std::string SegmentName(uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(first_seq));
  return name;
}

// "<20 digits>.seg" -> first seq.
std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() != 24 || name.substr(20) != ".seg") return std::nullopt;
  uint64_t v = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, 10, &v) ||
        __builtin_add_overflow(v, static_cast<uint64_t>(c - '0'), &v)) {
      return std::nullopt;
    }
  }
  return v;
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

// ---- The queue ----

struct DurableQueue::ClassQueue {
  struct Segment {
    uint64_t first_seq = 0;
    std::string path;
    uint64_t size = 0;  // bytes, header included
  };
  struct Frame {
    uint64_t seq = 0;
    uint64_t offset = 0;  // of the frame header in its segment
    uint32_t length = 0;  // payload bytes
    uint64_t bytes() const { return kFrameHeaderBytes + length; }
  };

  std::string dir;
  std::deque<Segment> segments;  // by first_seq; the last one is appended to
  std::deque<Frame> frames;      // live frames, by seq
  int tail_fd = -1;              // open on segments.back() for appending, or -1
  bool tail_broken = false;      // a failed append left the tail in an unknown state: roll
  uint64_t first_live = 1;
  uint64_t next_seq = 1;
  uint64_t bytes = 0;
  uint64_t evicted_batches = 0, evicted_bytes = 0;
  bool unsynced = false;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();

  // The segment holding `seq` (segments cover [first_seq, next segment's first_seq)).
  const Segment* SegmentOf(uint64_t seq) const {
    auto it = std::upper_bound(segments.begin(), segments.end(), seq,
                               [](uint64_t s, const Segment& g) { return s < g.first_seq; });
    if (it == segments.begin()) return nullptr;
    return &*(it - 1);
  }
  void CloseTail() {
    if (tail_fd >= 0) ::close(tail_fd);
    tail_fd = -1;
  }
};

DurableQueue::DurableQueue(std::string dir, DurableQueueOptions options, int lock_fd)
    : dir_(std::move(dir)), options_(options), lock_fd_(lock_fd) {
  for (int c = 0; c < kPriorityCount; ++c) {
    classes_[static_cast<size_t>(c)] = std::make_unique<ClassQueue>();
    classes_[static_cast<size_t>(c)]->dir =
        dir_ + "/" + std::string(kClassDirs[static_cast<size_t>(c)]);
  }
}

DurableQueue::~DurableQueue() {
  for (auto& q : classes_) {
    if (q->unsynced && options_.fsync != FsyncPolicy::kNever && q->tail_fd >= 0) {
      (void)::fdatasync(q->tail_fd);
    }
    q->CloseTail();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<DurableQueue>> DurableQueue::Open(const std::string& dir,
                                                         DurableQueueOptions options) {
  if (options.max_bytes < kMinFrameBytes) {
    return InvalidArgumentError("uplink queue: max_bytes " + std::to_string(options.max_bytes) +
                                " is too small");
  }
  if (options.segment_bytes < kSegmentHeaderBytes + kMinFrameBytes) {
    return InvalidArgumentError("uplink queue: segment_bytes " +
                                std::to_string(options.segment_bytes) + " is too small");
  }
  WEFT_RETURN_IF_ERROR(MakeDir(dir));
  const std::string lock_path = dir + "/LOCK";
  const int lock_fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_fd < 0) return IoError("open", lock_path, errno);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return FailedPreconditionError("uplink queue: " + dir +
                                     " is already open (in this or another process)");
    }
    return IoError("lock", lock_path, err);
  }
  std::unique_ptr<DurableQueue> q(new DurableQueue(dir, options, lock_fd));
  WEFT_RETURN_IF_ERROR(q->Recover());
  return q;
}

Status DurableQueue::Recover() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int c = 0; c < kPriorityCount; ++c) WEFT_RETURN_IF_ERROR(RecoverClass(c));
  return FsyncDir(dir_);
}

Status DurableQueue::RecoverClass(int c) {
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  WEFT_RETURN_IF_ERROR(MakeDir(q.dir));

  // The cursor: first live seq and next seq when the last ack was written (a hint; the segments
  // are the truth for the next seq).
  uint64_t cursor_first_live = 1, cursor_next = 1;
  const std::string cursor_path = q.dir + "/cursor";
  ::unlink((cursor_path + ".tmp").c_str());
  if (::access(cursor_path.c_str(), F_OK) == 0) {
    Result<std::string> cursor = ReadWholeFile(cursor_path);
    if (cursor.ok() && cursor->size() == kCursorBytes &&
        std::string_view(*cursor).substr(0, 4) == kCursorMagic &&
        Load<uint32_t>(cursor->data() + 20) == Crc32c(std::string_view(*cursor).substr(0, 20))) {
      cursor_first_live = std::max<uint64_t>(1, Load<uint64_t>(cursor->data() + 4));
      cursor_next = Load<uint64_t>(cursor->data() + 12);
    }
    // A bad cursor means: everything on disk is live (re-sent, de-duplicated by the core).
  }

  std::vector<uint64_t> firsts;
  DIR* d = ::opendir(q.dir.c_str());
  if (d == nullptr) return IoError("open directory", q.dir, errno);
  while (dirent* e = ::readdir(d)) {
    if (std::optional<uint64_t> first = ParseSegmentName(e->d_name)) firsts.push_back(*first);
  }
  ::closedir(d);
  std::sort(firsts.begin(), firsts.end());

  uint64_t prev_seq = 0;    // last good frame seq in the class
  uint64_t next_floor = 0;  // next seq must be at least this (seqs skipped after corruption)
  for (size_t k = 0; k < firsts.size(); ++k) {
    const bool last = k + 1 == firsts.size();
    ClassQueue::Segment seg{firsts[k], q.dir + "/" + SegmentName(firsts[k]), 0};
    WEFT_ASSIGN_OR_RETURN(std::string data, ReadWholeFile(seg.path));
    uint64_t off = kSegmentHeaderBytes;
    bool torn = false, corrupt = false;
    if (data.size() < kSegmentHeaderBytes ||
        std::string_view(data).substr(0, kSegmentHeaderBytes) != kSegmentMagic) {
      off = 0;
      corrupt = true;
    } else {
      while (off < data.size()) {
        if (data.size() - off < kFrameHeaderBytes) {
          torn = true;
          break;
        }
        const auto length = Load<uint32_t>(data.data() + off);
        const auto crc = Load<uint32_t>(data.data() + off + 4);
        const auto seq = Load<uint64_t>(data.data() + off + 8);
        if (length == 0 || length > options_.max_bytes) {
          corrupt = true;
          break;
        }
        if (data.size() - off - kFrameHeaderBytes < length) {
          torn = true;
          break;
        }
        const std::string_view payload(data.data() + off + kFrameHeaderBytes, length);
        if (crc != FrameCrc(seq, payload) || seq < seg.first_seq || seq <= prev_seq ||
            (!last && seq >= firsts[k + 1])) {
          corrupt = true;
          break;
        }
        if (seq >= cursor_first_live) q.frames.push_back({seq, off, length});
        prev_seq = seq;
        off += kFrameHeaderBytes + length;
      }
    }
    if (torn || corrupt) {
      ++corrupted_frames_;
      truncated_bytes_ += data.size() - off;
      // A corrupt (not merely torn) tail of the last segment may hide frames whose seqs were
      // handed out: never reuse them.
      if (last && corrupt) {
        next_floor = std::max(prev_seq, seg.first_seq) + 1 + (data.size() - off) / kMinFrameBytes;
      }
      if (off == 0) {
        if (::unlink(seg.path.c_str()) != 0) return IoError("remove", seg.path, errno);
        continue;
      }
      if (::truncate(seg.path.c_str(), static_cast<off_t>(off)) != 0) {
        return IoError("truncate", seg.path, errno);
      }
    }
    seg.size = off;
    q.segments.push_back(std::move(seg));
  }

  q.first_live = cursor_first_live;
  q.next_seq = std::max({uint64_t{1}, q.first_live, cursor_next, prev_seq + 1, next_floor});
  if (!q.segments.empty()) q.next_seq = std::max(q.next_seq, q.segments.back().first_seq);
  for (const ClassQueue::Frame& f : q.frames) q.bytes += f.bytes();
  live_bytes_ += q.bytes;
  WEFT_RETURN_IF_ERROR(RemoveDeadSegments(c));

  if (!q.segments.empty() && q.segments.back().size < options_.segment_bytes) {
    const std::string& path = q.segments.back().path;
    q.tail_fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (q.tail_fd < 0) return IoError("open", path, errno);
  }
  return Status::Ok();
}

uint64_t DurableQueue::NextSeq(Priority p) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return classes_[static_cast<size_t>(p)]->next_seq;
}

Status DurableQueue::WriteCursor(int c) {
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  char buf[kCursorBytes];
  std::memcpy(buf, kCursorMagic.data(), 4);
  std::memcpy(buf + 4, &q.first_live, 8);
  std::memcpy(buf + 12, &q.next_seq, 8);
  const uint32_t crc = Crc32c(std::string_view(buf, 20));
  std::memcpy(buf + 20, &crc, 4);
  const std::string path = q.dir + "/cursor";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", tmp, errno);
  iovec iov{buf, kCursorBytes};
  Status s = WriteAll(fd, tmp, &iov, 1);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("rename", tmp, errno);
  return Status::Ok();
}

Status DurableQueue::RemoveDeadSegments(int c) {
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  // The last segment is kept even when dead: it holds the highest seq handed out.
  while (q.segments.size() > 1 &&
         (q.frames.empty() || q.frames.front().seq >= q.segments[1].first_seq)) {
    if (::unlink(q.segments.front().path.c_str()) != 0 && errno != ENOENT) {
      return IoError("remove", q.segments.front().path, errno);
    }
    q.segments.pop_front();
  }
  return Status::Ok();
}

Status DurableQueue::DropFront(ClassQueue& q, bool evicted) {
  const ClassQueue::Frame f = q.frames.front();
  q.frames.pop_front();
  q.bytes -= f.bytes();
  live_bytes_ -= f.bytes();
  q.first_live = std::max(q.first_live, f.seq + 1);
  if (evicted) {
    ++q.evicted_batches;
    q.evicted_bytes += f.bytes();
  }
  return Status::Ok();
}

Status DurableQueue::EvictFor(uint64_t frame_bytes) {
  std::array<bool, kPriorityCount> touched{};
  for (int c = kPriorityCount - 1; c >= 0 && live_bytes_ + frame_bytes > options_.max_bytes;) {
    ClassQueue& q = *classes_[static_cast<size_t>(c)];
    if (q.frames.empty()) {
      --c;
      continue;
    }
    WEFT_RETURN_IF_ERROR(DropFront(q, /*evicted=*/true));
    touched[static_cast<size_t>(c)] = true;
  }
  for (int c = 0; c < kPriorityCount; ++c) {
    if (!touched[static_cast<size_t>(c)]) continue;
    WEFT_RETURN_IF_ERROR(WriteCursor(c));
    WEFT_RETURN_IF_ERROR(RemoveDeadSegments(c));
  }
  return Status::Ok();
}

Status DurableQueue::RollSegment(int c, uint64_t first_seq) {
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  q.CloseTail();
  // A segment already named first_seq can only hold frames of failed appends (nothing at or
  // above next_seq is live): it is replaced.
  if (!q.segments.empty() && q.segments.back().first_seq == first_seq) q.segments.pop_back();
  ClassQueue::Segment seg{first_seq, q.dir + "/" + SegmentName(first_seq), 0};
  const int fd =
      ::open(seg.path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", seg.path, errno);
  iovec iov{const_cast<char*>(kSegmentMagic.data()), kSegmentMagic.size()};
  Status s = WriteAll(fd, seg.path, &iov, 1);
  if (s.ok() && options_.fsync == FsyncPolicy::kEveryAppend && ::fdatasync(fd) != 0) {
    s = IoError("fdatasync", seg.path, errno);
  }
  if (s.ok() && options_.fsync == FsyncPolicy::kEveryAppend) s = FsyncDir(q.dir);
  if (!s.ok()) {
    ::close(fd);
    ::unlink(seg.path.c_str());
    return s;
  }
  seg.size = kSegmentHeaderBytes;
  q.segments.push_back(std::move(seg));
  q.tail_fd = fd;
  q.tail_broken = false;
  return Status::Ok();
}

Status DurableQueue::SyncLocked(ClassQueue& q) {
  if (!q.unsynced || q.tail_fd < 0) return Status::Ok();
  if (::fdatasync(q.tail_fd) != 0) return IoError("fdatasync", q.segments.back().path, errno);
  q.unsynced = false;
  q.last_sync = std::chrono::steady_clock::now();
  return Status::Ok();
}

Status DurableQueue::Append(Priority p, uint64_t seq, std::string_view batch_bytes) {
  const auto c = static_cast<int>(p);
  if (c < 0 || c >= kPriorityCount) return InvalidArgumentError("uplink queue: bad priority");
  std::lock_guard<std::mutex> lock(mutex_);
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  const std::string cls(kClassDirs[static_cast<size_t>(c)]);
  if (seq != q.next_seq) {
    return FailedPreconditionError("uplink queue: append of seq " + std::to_string(seq) +
                                   " to class " + cls + ", which expects seq " +
                                   std::to_string(q.next_seq) + " (use NextSeq)");
  }
  if (batch_bytes.empty()) return InvalidArgumentError("uplink queue: empty batch");
  const uint64_t frame_bytes = kFrameHeaderBytes + batch_bytes.size();
  if (frame_bytes > options_.max_bytes || batch_bytes.size() > UINT32_MAX) {
    return InvalidArgumentError("uplink queue: batch of " + std::to_string(batch_bytes.size()) +
                                " bytes does not fit the queue's bound of " +
                                std::to_string(options_.max_bytes) +
                                " bytes (16 bytes of frame header included); send smaller batches");
  }
  WEFT_RETURN_IF_ERROR(EvictFor(frame_bytes));

  if (q.tail_fd < 0 || q.tail_broken ||
      (q.segments.back().size > kSegmentHeaderBytes &&
       q.segments.back().size + frame_bytes > options_.segment_bytes)) {
    WEFT_RETURN_IF_ERROR(RollSegment(c, seq));
  }
  ClassQueue::Segment& seg = q.segments.back();

  char header[kFrameHeaderBytes];
  const auto length = static_cast<uint32_t>(batch_bytes.size());
  const uint32_t crc = FrameCrc(seq, batch_bytes);
  std::memcpy(header, &length, 4);
  std::memcpy(header + 4, &crc, 4);
  std::memcpy(header + 8, &seq, 8);
  iovec iov[2] = {{header, kFrameHeaderBytes},
                  {const_cast<char*>(batch_bytes.data()), batch_bytes.size()}};
  Status s = WriteAll(q.tail_fd, seg.path, iov, 2);
  bool sync_failed = false;
  if (s.ok()) {
    q.unsynced = true;
    if (options_.fsync == FsyncPolicy::kEveryAppend ||
        (options_.fsync == FsyncPolicy::kInterval &&
         std::chrono::steady_clock::now() - q.last_sync >= options_.fsync_interval)) {
      s = SyncLocked(q);
      sync_failed = !s.ok();
    }
  }
  if (!s.ok()) {
    // Cut the partial or unsynced frame off, so that the next frame does not follow garbage; if
    // even that fails, or the file's state is unknown after a failed fsync, the next append
    // starts a new segment (recovery then cuts this one's bad tail).
    if (::ftruncate(q.tail_fd, static_cast<off_t>(seg.size)) != 0 || sync_failed) {
      q.tail_broken = true;
    }
    return s.WithContext("append of seq " + std::to_string(seq) + " to class " + cls);
  }
  q.frames.push_back({seq, seg.size, length});
  seg.size += frame_bytes;
  q.bytes += frame_bytes;
  live_bytes_ += frame_bytes;
  q.next_seq = seq + 1;
  return Status::Ok();
}

Result<std::vector<QueuedBatch>> DurableQueue::ReadFrom(Priority p, uint64_t from_seq,
                                                        size_t max_batches,
                                                        size_t max_total_bytes) {
  const auto c = static_cast<int>(p);
  if (c < 0 || c >= kPriorityCount) return InvalidArgumentError("uplink queue: bad priority");
  std::lock_guard<std::mutex> lock(mutex_);
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  std::vector<QueuedBatch> out;
  size_t total = 0;
  auto it = std::lower_bound(q.frames.begin(), q.frames.end(), from_seq,
                             [](const ClassQueue::Frame& f, uint64_t s) { return f.seq < s; });
  int fd = -1;
  const ClassQueue::Segment* open_seg = nullptr;
  Status status;
  while (it != q.frames.end() && out.size() < max_batches) {
    const ClassQueue::Frame f = *it;
    if (!out.empty() && total + f.length > max_total_bytes) break;
    const ClassQueue::Segment* seg = q.SegmentOf(f.seq);
    if (seg == nullptr) {
      status = InternalError("uplink queue: no segment holds seq " + std::to_string(f.seq));
      break;
    }
    if (seg != open_seg) {
      if (fd >= 0) ::close(fd);
      fd = ::open(seg->path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        status = IoError("open", seg->path, errno);
        break;
      }
      open_seg = seg;
    }
    char header[kFrameHeaderBytes];
    QueuedBatch b{f.seq, std::string(f.length, '\0')};
    status = PreadAll(fd, seg->path, header, kFrameHeaderBytes, f.offset);
    if (status.ok()) {
      status = PreadAll(fd, seg->path, b.bytes.data(), f.length, f.offset + kFrameHeaderBytes);
    }
    if (!status.ok() && status.code() != StatusCode::kDataLoss) break;
    if (!status.ok() || Load<uint32_t>(header) != f.length || Load<uint64_t>(header + 8) != f.seq ||
        Load<uint32_t>(header + 4) != FrameCrc(f.seq, b.bytes)) {
      // Rotten on disk since it was written or recovered: drop it, count it, go on.
      status = Status::Ok();
      ++corrupted_frames_;
      q.bytes -= f.bytes();
      live_bytes_ -= f.bytes();
      it = q.frames.erase(it);
      continue;
    }
    total += f.length;
    out.push_back(std::move(b));
    ++it;
  }
  if (fd >= 0) ::close(fd);
  if (!status.ok()) return status;
  return out;
}

Result<std::optional<QueuedBatch>> DurableQueue::Peek(Priority p) {
  WEFT_ASSIGN_OR_RETURN(std::vector<QueuedBatch> batches, ReadFrom(p, 0, 1));
  if (batches.empty()) return std::optional<QueuedBatch>();
  return std::optional<QueuedBatch>(std::move(batches[0]));
}

Status DurableQueue::Ack(Priority p, uint64_t seq) {
  const auto c = static_cast<int>(p);
  if (c < 0 || c >= kPriorityCount) return InvalidArgumentError("uplink queue: bad priority");
  std::lock_guard<std::mutex> lock(mutex_);
  ClassQueue& q = *classes_[static_cast<size_t>(c)];
  if (seq >= q.next_seq) {
    return InvalidArgumentError("uplink queue: ack of seq " + std::to_string(seq) + " in class " +
                                std::string(kClassDirs[static_cast<size_t>(c)]) +
                                ", which has handed out seqs below " + std::to_string(q.next_seq) +
                                " only");
  }
  if (seq < q.first_live) return Status::Ok();
  while (!q.frames.empty() && q.frames.front().seq <= seq) {
    WEFT_RETURN_IF_ERROR(DropFront(q, /*evicted=*/false));
  }
  q.first_live = seq + 1;
  WEFT_RETURN_IF_ERROR(WriteCursor(c));
  return RemoveDeadSegments(c);
}

Status DurableQueue::Sync() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& q : classes_) WEFT_RETURN_IF_ERROR(SyncLocked(*q));
  return Status::Ok();
}

std::optional<Priority> DurableQueue::FirstNonEmpty() const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int c = 0; c < kPriorityCount; ++c) {
    if (!classes_[static_cast<size_t>(c)]->frames.empty()) return static_cast<Priority>(c);
  }
  return std::nullopt;
}

DurableQueueStats DurableQueue::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  DurableQueueStats s;
  for (size_t c = 0; c < classes_.size(); ++c) {
    const ClassQueue& q = *classes_[c];
    DurableQueueClassStats& o = s.classes[c];
    o.bytes = q.bytes;
    o.batches = q.frames.size();
    o.evicted_batches = q.evicted_batches;
    o.evicted_bytes = q.evicted_bytes;
    o.first_live_seq = q.first_live;
    o.next_seq = q.next_seq;
    o.segments = q.segments.size();
  }
  s.bytes = live_bytes_;
  s.corrupted_frames = corrupted_frames_;
  s.truncated_bytes = truncated_bytes_;
  return s;
}

}  // namespace weft::edge::uplink
