// StreamSequencer: puts each uplink stream's batches in seq order, once.
//
//   StreamSequencer seq;
//   seq.SetCommitted("edge-1/normal", 41);          // from the lake's txn versions at start
//   std::vector<Incoming> ready;
//   seq.Offer(std::move(batch_43), &ready);          // kHeld: 42 is missing
//   seq.Offer(std::move(batch_42), &ready);          // kReady: ready = {42, 43}
//   ... commit ready ..., then seq.MarkCommitted("edge-1/normal", 43);
//
// A stream is one (edge, priority class), named by its Delta txn appId "<edge>/<class>". Its
// batches must reach the lake contiguously: committing 43 before 42 would make 42 look like a
// duplicate of something already committed (the txn version only says "up to 43"). So a batch
// is handed out only when it is the next expected one; a later one is held (bounded per stream;
// beyond the bound it is dropped, and its edge sends it again since it was never committed). The
// next expected seq is max(handed out + 1, floor): the edge announces the oldest seq its buffer
// still holds, so seqs it evicted are skipped instead of waited for. A seq below the next
// expected one is a duplicate (committed, or handed out and about to be).
//
// Thread-safety: not thread-safe (owned by the ingest's commit thread).
#ifndef WEFT_CORE_INGEST_SEQUENCER_H_
#define WEFT_CORE_INGEST_SEQUENCER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edge/uplink/batch_codec.h"

namespace weft::core {

//! One decoded uplink batch as it arrived.
struct Incoming {
  std::string app;  //!< "<edge>/<class>"
  uint64_t seq = 0;
  int64_t received_us = 0;
  edge::uplink::DecodedBatch batch;
};

class StreamSequencer {
 public:
  enum class Verdict { kReady, kHeld, kDuplicate, kDropped };

  explicit StreamSequencer(size_t max_held_per_stream = 256) : max_held_(max_held_per_stream) {}

  //! The stream's committed seq, as the lake says (at start).
  void SetCommitted(const std::string& app, uint64_t seq);
  //! After a commit of everything handed out up to `seq`.
  void MarkCommitted(const std::string& app, uint64_t seq);
  //! The edge's oldest buffered seq: everything below was evicted. Held batches that become next
  //! are appended to *ready.
  void SetFloor(const std::string& app, uint64_t floor, std::vector<Incoming>* ready);
  //! Appends to *ready the batch and the held ones that follow it, when it is the next expected.
  Verdict Offer(Incoming batch, std::vector<Incoming>* ready);

  uint64_t committed(const std::string& app) const;
  //! The next seq the stream waits for.
  uint64_t expected(const std::string& app) const;
  size_t held(const std::string& app) const;
  //! Every stream ever seen or set, with its committed seq.
  std::map<std::string, uint64_t> CommittedAll() const;

 private:
  struct Stream {
    uint64_t committed = 0;
    uint64_t next = 1;  //!< the seq after the last one handed out
    uint64_t floor = 0;
    std::map<uint64_t, Incoming> held;
    uint64_t Expected() const { return next > floor ? next : floor; }
  };
  void Drain(Stream& s, std::vector<Incoming>* ready);

  size_t max_held_;
  std::map<std::string, Stream> streams_;
};

}  // namespace weft::core

#endif  // WEFT_CORE_INGEST_SEQUENCER_H_
