// Batch codec: the bytes one uplink message carries, edge -> core.
//
//   BatchBuilder builder("edge-l1", Priority::kNormal);
//   for (const Sample& s : samples) builder.Add(s);
//   builder.Add(aggregate);
//   builder.Add(event);
//   builder.AddAction(action);          // a control loop's action (ActionRecordValue below)
//   if (builder.ApproxBytes() > kTarget) {
//     WEFT_ASSIGN_OR_RETURN(std::string bytes, builder.Finish(seq, now_us, table));
//     ... queue->Append(Priority::kNormal, seq, bytes) ...   // the builder is empty again
//   }
//
//   WEFT_ASSIGN_OR_RETURN(DecodedBatch batch, DecodeBatch(bytes));   // on the core
//   const BatchContext* where = batch.ContextOf(batch.samples[0].signal);
//
// Wire format: a 5-byte header, "WFB1" then a codec byte (0 = none, 1 = zstd), followed by the
// protobuf message weft.edge.uplink.Batch (uplink.proto), zstd-compressed when the codec says so.
// Samples are stored as columns (signal ids, zigzag timestamp deltas, values, quality flags);
// each signal id used in the batch comes with one context (site, line, asset, unit, tags...)
// taken from the SignalTable, so the receiver needs no copy of the edge's table.
//
// Cost: Add(Sample) appends to four preallocated columns (no allocation once the builder has
// seen a batch of that size); Finish serialises and streams the message, then the cached
// contexts of the signals seen, through a reused ZSTD_CCtx. Measured figures are in README.md.
//
// Thread-safety: a BatchBuilder is not thread-safe (one per stream, owned by one thread).
// DecodeBatch is thread-safe.
#ifndef WEFT_EDGE_UPLINK_BATCH_CODEC_H_
#define WEFT_EDGE_UPLINK_BATCH_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "edge/sample.h"
#include "edge/signal_table.h"

namespace weft::edge::uplink {

inline constexpr std::string_view kBatchMagic = "WFB1";
inline constexpr size_t kBatchHeaderBytes = 5;
//! A batch whose protobuf (after decompression) is larger is refused by the decoder.
inline constexpr size_t kMaxDecodedBatchBytes = size_t{64} << 20;

enum class BatchCodec : uint8_t { kNone = 0, kZstd = 1 };

//! The serialised context entry of each signal of one table, made on first use and reused by
//! every batch that names the signal; rebuilt when the table is replaced (SignalTable::epoch).
//! The builders of one edge share one (BatchBuilderOptions::contexts): a 5,000-signal edge keeps
//! one copy of its contexts (~150 bytes a signal), not one per priority. Not thread-safe.
class BatchContextCache {
 public:
  //! The `contexts` entry of `id` (tag, length, SignalContext). `id` < table.size().
  const std::string& Wire(const SignalTable& table, SignalId id);

 private:
  uint64_t epoch_ = 0;
  std::vector<std::string> wires_;  // by signal id; empty = not made yet
};

//! One action of a control loop as a batch carries it (the uplink's view of
//! control::ActionRecord, src/control/loop, which the edge runtime converts field by field:
//! TimePoint ts -> ts_us = UnixMicros(ts); the Decision's reasons joined with "; " -> reason).
//! Plain strings and numbers, so that the uplink does not depend on src/control. Numbers that
//! are not known are NaN (they land as nulls in the lake's `actions` table). site and line may
//! be "" (the core then has only the asset).
struct ActionRecordValue {
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  int64_t ts_us = 0;            //!< when it happened (UTC µs)
  std::string loop{};           //!< the loop id (edge.yaml control.loops[].id)
  std::string site{};           //!< the asset's site, "" = unknown
  std::string line{};           //!< the asset's line, "" = unknown
  std::string asset{};          //!< the controlled asset
  std::string signal{};         //!< the written setpoint signal, e.g. "remote_setpoint"
  std::string kind{};           //!< "write", "write_safe", "refused", "shadow", "mode_change", ...
  std::string mode{};           //!< the effective mode: "shadow", "supervised", "autonomous"
  double requested = kUnknown;  //!< the value the source proposed
  double before = kUnknown;     //!< the PLC's value before the action
  double after = kUnknown;      //!< the value read back after it
  std::string reason{};         //!< why (envelope reasons joined with "; ")
  std::string source{};         //!< optimiser or model name
  std::string source_version{};
  std::string approved_by{};  //!< principal(s) who approved (supervised writes, grants)
  std::string proposal_id{};  //!< supervised mode: the proposal's id
  friend bool operator==(const ActionRecordValue&, const ActionRecordValue&) = default;
};

struct BatchBuilderOptions {
  BatchCodec codec = BatchCodec::kZstd;
  int zstd_level = 1;         //!< any level zstd accepts, negative (faster) levels included
  std::string firmware = "";  //!< the edge's firmware version, carried by every batch
  //! Shared with the other builders of the same thread; null: the builder makes its own.
  std::shared_ptr<BatchContextCache> contexts = nullptr;
};

class BatchBuilder {
 public:
  BatchBuilder(std::string edge_id, Priority stream, BatchBuilderOptions options = {});
  ~BatchBuilder();
  BatchBuilder(const BatchBuilder&) = delete;
  BatchBuilder& operator=(const BatchBuilder&) = delete;

  void Add(const Sample& sample);
  void Add(const Aggregate& aggregate);
  void Add(const Event& event);
  //! A control action; it names its asset itself (no signal id, no context).
  void AddAction(const ActionRecordValue& action);

  size_t sample_count() const;
  size_t aggregate_count() const;
  size_t event_count() const;
  size_t action_count() const;
  bool empty() const {
    return sample_count() == 0 && aggregate_count() == 0 && event_count() == 0 &&
           action_count() == 0;
  }
  //! Approximate size of the uncompressed message so far (without the contexts), to decide
  //! when to Finish.
  size_t ApproxBytes() const { return approx_bytes_; }

  //! The wire bytes of everything added since the last Finish, with the contexts of the signals
  //! used looked up in `table`. The builder is empty afterwards, also on error (the content is
  //! dropped: a batch that fails here would fail again). Errors: InvalidArgument when a signal
  //! id is not in `table` or two consecutive sample timestamps are more than 2^63 us apart;
  //! Internal when zstd fails.
  Result<std::string> Finish(uint64_t seq, int64_t created_us, const SignalTable& table);

  //! Drops what was added (keeps the buffers).
  void Reset();

 private:
  struct Impl;
  static Result<std::string> Compress(Impl& d, size_t body_size, size_t size);
  std::unique_ptr<Impl> impl_;
  size_t approx_bytes_ = 0;
};

//! The context of one signal, as carried in a batch (the strings of SignalInfo).
struct BatchContext {
  SignalId id = 0;
  std::string site, area, line, asset, asset_type, signal, unit, quantity, protocol, address;
  std::map<std::string, std::string> tags;
};

struct DecodedBatch {
  std::string edge_id;
  Priority stream = Priority::kNormal;
  uint64_t seq = 0;
  int64_t created_us = 0;
  std::string firmware;                //!< "" when the edge did not report one
  std::vector<BatchContext> contexts;  //!< sorted by id, ids unique
  std::vector<Sample> samples;         //!< edge-local signal ids
  std::vector<Aggregate> aggregates;
  std::vector<Event> events;
  std::vector<ActionRecordValue> actions;  //!< control actions, in the order added

  //! The context of `id`, or nullptr (never for an id used in the batch).
  const BatchContext* ContextOf(SignalId id) const;
};

//! Decodes the wire bytes of one batch. Every malformed input gives InvalidArgument (DataLoss
//! for a zstd frame that does not decompress) naming the problem: too short, bad magic, unknown
//! codec, zstd failure, decompressed size above kMaxDecodedBatchBytes, protobuf parse failure,
//! stream outside 0..3, sample columns of different lengths, a quality above 255, a signal id
//! without (or with two) contexts, a timestamp overflowing int64.
Result<DecodedBatch> DecodeBatch(std::string_view bytes);

}  // namespace weft::edge::uplink

#endif  // WEFT_EDGE_UPLINK_BATCH_CODEC_H_
