// DurableQueue: the edge's on-disk store-and-forward buffer of uplink batches, one FIFO per
// priority class, bounded in bytes, surviving kill -9 and (per fsync policy) power loss.
//
//   WEFT_ASSIGN_OR_RETURN(std::unique_ptr<DurableQueue> q,
//                         DurableQueue::Open("/var/lib/weft/uplink", {.max_bytes = 1 << 30}));
//   // producer: the seq goes into the batch, so it is taken before encoding
//   uint64_t seq = q->NextSeq(Priority::kNormal);
//   WEFT_ASSIGN_OR_RETURN(std::string bytes, builder.Finish(seq, now_us, table));
//   WEFT_RETURN_IF_ERROR(q->Append(Priority::kNormal, seq, bytes));
//   // sender: oldest first; ack once the core has confirmed
//   WEFT_ASSIGN_OR_RETURN(auto batches, q->ReadFrom(Priority::kNormal, 0, 16));
//   ... publish, wait for PUBACK ...
//   WEFT_RETURN_IF_ERROR(q->Ack(Priority::kNormal, batches.back().seq));
//
// Sequence numbers: per class, starting at 1, strictly increasing, continued across restarts
// (never reused: the core de-duplicates by (edge, stream, seq), so a reused seq would be lost).
// They are contiguous while the process runs; after a crash that left a corrupt tail, the queue
// skips a conservative number of seqs. Append(p, seq, ...) requires seq == NextSeq(p): one
// producer per class builds the batch with NextSeq and appends it (a racing second producer
// gets FailedPrecondition and retries with a fresh seq).
//
// Bound: the live bytes (frames of batches not yet acknowledged or evicted, 16 bytes of frame
// header included) never exceed max_bytes. When an Append would exceed it, whole oldest batches
// are evicted from the least important class holding data first (kLow, then kNormal, kHigh,
// kCritical), counted in stats; a batch larger than max_bytes is refused (InvalidArgument).
// Disk use is at most max_bytes plus, per class, the dead part of its oldest segment and its
// current segment (segments are deleted whole once every frame in them is dead, except the one
// being appended to), i.e. below max_bytes + 8 * segment_bytes + the largest batch.
//
// Layout: <dir>/LOCK (flock: one process at a time), and per class <dir>/<name>/ (critical,
// high, normal, low) with segment files <first seq, 20 digits>.seg, each an 8-byte header
// "WFQSEG1\n" and frames [u32 length][u32 crc32c of seq and payload][u64 seq][payload] (little
// endian), plus `cursor`: the first live seq and the next seq, with a crc, replaced by
// write + rename on every Ack/eviction (no fsync: after a crash a few acknowledged batches may
// be sent again, which the core de-duplicates).
//
// Recovery (Open): every frame's length, seq order and checksum are verified; the first bad
// frame of a segment and everything after it in that segment are cut off (ftruncate) and
// counted (corrupted_frames, truncated_bytes); segments whose frames are all acknowledged are
// deleted. A frame that fails its checksum when read later is dropped and counted too.
//
// Fsync policy (what an Append that returned OK survives):
//   kEveryAppend (default): kill -9 and power loss. Each Append writes then fdatasync()s; a new
//                 segment also fsyncs the directory.
//   kInterval:    kill -9 always (the data is in the kernel once write() returned); power loss
//                 for appends older than the last sync, which Append does when `interval` has
//                 passed since the previous one; call Sync() from a timer to bound the loss in
//                 quiet periods.
//   kNever:       kill -9 always; power loss only what the kernel wrote back by itself
//                 (typically the last ~30 s are lost). After such a loss the seqs of lost
//                 batches may be reused: use kNever only where losing data is acceptable.
// Acks are never fsynced (see above). I/O errors (ENOSPC, EIO, EFBIG...) come back as
// Unavailable naming the file, and leave the queue usable: a failed Append is cut off the
// segment, or the queue moves on to a new segment.
//
// Thread-safety: all methods are thread-safe (one mutex; an Append holds it during its fsync).
#ifndef WEFT_EDGE_UPLINK_DURABLE_QUEUE_H_
#define WEFT_EDGE_UPLINK_DURABLE_QUEUE_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "edge/sample.h"

namespace weft::edge::uplink {

enum class FsyncPolicy { kEveryAppend, kInterval, kNever };

struct DurableQueueOptions {
  uint64_t max_bytes = uint64_t{256} << 20;    //!< bound on live bytes, all classes together
  uint64_t segment_bytes = uint64_t{4} << 20;  //!< a segment is rolled when it would exceed this
  FsyncPolicy fsync = FsyncPolicy::kEveryAppend;
  std::chrono::milliseconds fsync_interval{1000};  //!< for kInterval
};

struct QueuedBatch {
  uint64_t seq = 0;
  std::string bytes;
};

struct DurableQueueClassStats {
  uint64_t bytes = 0;            //!< live frame bytes (headers included)
  uint64_t batches = 0;          //!< live batches
  uint64_t evicted_batches = 0;  //!< since Open
  uint64_t evicted_bytes = 0;    //!< since Open
  uint64_t first_live_seq = 0;   //!< everything below is acknowledged or evicted
  uint64_t next_seq = 0;
  uint64_t segments = 0;  //!< segment files on disk
};

struct DurableQueueStats {
  std::array<DurableQueueClassStats, kPriorityCount> classes;  //!< indexed by Priority
  uint64_t bytes = 0;                                          //!< live bytes, all classes
  uint64_t corrupted_frames = 0;  //!< bad frames found at recovery or on read, since Open
  uint64_t truncated_bytes = 0;   //!< bytes cut off segments at recovery
};

class DurableQueue {
 public:
  //! Opens (creating if needed) the queue in `dir` and recovers it. FailedPrecondition when
  //! another DurableQueue holds the directory; InvalidArgument for bad options; Unavailable for
  //! I/O errors.
  static Result<std::unique_ptr<DurableQueue>> Open(const std::string& dir,
                                                    DurableQueueOptions options = {});
  ~DurableQueue();
  DurableQueue(const DurableQueue&) = delete;
  DurableQueue& operator=(const DurableQueue&) = delete;

  //! The seq the next Append to class `p` must carry.
  uint64_t NextSeq(Priority p) const;

  //! Stores one batch. REQUIRES: seq == NextSeq(p) (else FailedPrecondition). Evicts older
  //! batches if needed (see the header comment); InvalidArgument if the batch alone exceeds
  //! max_bytes or is empty. On an I/O error nothing is stored and NextSeq does not move.
  Status Append(Priority p, uint64_t seq, std::string_view batch_bytes);

  //! Up to `max_batches` live batches of class `p` with seq >= from_seq, oldest first, their
  //! total size stopping at max_total_bytes (at least one batch is returned when there is one).
  //! from_seq = 0: from the oldest live batch.
  Result<std::vector<QueuedBatch>> ReadFrom(Priority p, uint64_t from_seq, size_t max_batches,
                                            size_t max_total_bytes = SIZE_MAX);
  //! The oldest live batch of class `p`, or nullopt when it is empty.
  Result<std::optional<QueuedBatch>> Peek(Priority p);

  //! Everything of class `p` with seq <= `seq` is done (delivered). Acking an already acked seq
  //! is a no-op; InvalidArgument for a seq not yet appended.
  Status Ack(Priority p, uint64_t seq);

  //! fdatasyncs the current segments (for kInterval / kNever owners that want a point of
  //! durability).
  Status Sync();

  //! The most important class holding live batches, or nullopt when all are empty.
  std::optional<Priority> FirstNonEmpty() const;

  DurableQueueStats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  struct ClassQueue;
  DurableQueue(std::string dir, DurableQueueOptions options, int lock_fd);

  Status Recover();
  Status RecoverClass(int c);
  Status EvictFor(uint64_t frame_bytes);
  Status DropFront(ClassQueue& q, bool evicted);
  Status WriteCursor(int c);
  Status RemoveDeadSegments(int c);
  Status RollSegment(int c, uint64_t first_seq);
  Status SyncLocked(ClassQueue& q);

  const std::string dir_;
  const DurableQueueOptions options_;
  int lock_fd_ = -1;
  mutable std::mutex mutex_;
  std::array<std::unique_ptr<ClassQueue>, kPriorityCount> classes_;  // GUARDED_BY(mutex_)
  uint64_t live_bytes_ = 0;                                          // GUARDED_BY(mutex_)
  uint64_t corrupted_frames_ = 0;                                    // GUARDED_BY(mutex_)
  uint64_t truncated_bytes_ = 0;                                     // GUARDED_BY(mutex_)
};

//! CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start). Exposed for tests.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace weft::edge::uplink

#endif  // WEFT_EDGE_UPLINK_DURABLE_QUEUE_H_
