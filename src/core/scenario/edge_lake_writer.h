// EdgeLakeWriter: what one edge would send up (samples, aggregates, events, control actions, by
// priority stream), made into uplink batches and written into the lake's tables exactly as the
// core's ingest writes them, in-process (no broker, no encoding).
//
//   WEFT_ASSIGN_OR_RETURN(auto writer, EdgeLakeWriter::Open(lake_root, "edge-month", table,
//                                                          &clock, {}));
//   edge::Pipeline pipeline(table, policies, *writer);    // the writer is the pipeline's sink
//   pipeline.Push(samples);  pipeline.Advance(now_us);
//   writer->AddEvent(detector_event, edge::Priority::kHigh);
//   writer->AddAction(action_value);                      // control loops: stream "high"
//   WEFT_RETURN_IF_ERROR(writer->Advance(now_us));        // closes batches, commits per UTC day
//   WEFT_RETURN_IF_ERROR(writer->Finish());
//
// Batches: one open batch per priority class (stream "<edge>/<class>"), closed when it holds
// `max_records` records or is `max_batch_age` old (by the timestamps given to Advance), each with
// the next seq of its stream. A closed batch becomes rows through core/ingest's AppendBatchRows,
// with the signals' contexts from the SignalTable (site, area, line, asset, asset_type, signal,
// unit, quantity), the stream and the seq, like an ingested batch. Commits follow the ingest's
// order and txn rules (ingestor.cc): events, aggregates, predictions, actions, then telemetry;
// telemetry's commit records every stream's txn (its versions are the watermarks), the others
// the streams that gave them rows. A commit happens when the UTC day of Advance's time changes
// (each table gets one data file per day partition) and when `max_rows` rows are pending.
// Open() continues the seqs after the streams' versions already in the lake's telemetry table,
// so a second run into the same lake appends instead of being taken for a redelivery.
//
// Errors: the PipelineSink callbacks cannot fail; Advance and Finish return the first lake
// error (with the table's name), and nothing is written after one.
//
// Thread-safety: not thread-safe; one owner thread (the simulation's) calls everything.
#ifndef WEFT_CORE_SCENARIO_EDGE_LAKE_WRITER_H_
#define WEFT_CORE_SCENARIO_EDGE_LAKE_WRITER_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/ingest/sequencer.h"
#include "core/ingest/tables.h"
#include "edge/pipeline/pipeline.h"
#include "edge/signal_table.h"
#include "edge/uplink/batch_codec.h"
#include "lake/lake_table.h"
#include "lake/record_batch.h"

namespace weft::core::scenario {

struct EdgeLakeWriterOptions {
  size_t max_records = 5000;  //!< per batch (edge.yaml uplink.batch.max_samples)
  Micros max_batch_age = std::chrono::minutes(1);  //!< simulated time
  size_t max_rows = 4'000'000;  //!< pending rows (all tables) that force a commit
};

//! Rows and commits so far, per table (index: LakeTableId).
struct EdgeLakeWriterStats {
  std::array<uint64_t, kLakeTableCount> rows{};
  std::array<uint64_t, kLakeTableCount> commits{};
  uint64_t batches = 0;
};

class EdgeLakeWriter final : public edge::PipelineSink {
 public:
  //! Creates the lake's tables that are missing (EnsureTables) and opens them. `table` and
  //! `clock` must outlive the writer (the clock stamps the Delta commits).
  static Result<std::unique_ptr<EdgeLakeWriter>> Open(std::string lake_root, std::string edge_id,
                                                      const edge::SignalTable& table,
                                                      const Clock* clock,
                                                      EdgeLakeWriterOptions options = {});
  ~EdgeLakeWriter() override;

  void OnSample(const edge::Sample& sample, edge::Priority priority) override;
  void OnAggregate(const edge::Aggregate& aggregate, edge::Priority priority) override;
  void OnEvent(const edge::Event& event, edge::Priority priority) override;
  void AddEvent(const edge::Event& event, edge::Priority priority) { OnEvent(event, priority); }
  //! A control loop's action; the edge sends them on the high stream.
  void AddAction(const edge::uplink::ActionRecordValue& action);

  //! Closes the batches due at `now_us`; commits when the UTC day changed since the last call or
  //! too many rows are pending.
  Status Advance(int64_t now_us);
  //! Closes every batch and commits what is pending.
  Status Finish();

  const EdgeLakeWriterStats& stats() const { return stats_; }
  const std::string& edge_id() const { return edge_id_; }

 private:
  struct Stream {
    edge::uplink::DecodedBatch batch;  //!< contexts: every signal of the table, set once
    size_t records = 0;
    int64_t first_us = 0;
    uint64_t next_seq = 1;
  };
  EdgeLakeWriter(std::string lake_root, std::string edge_id, EdgeLakeWriterOptions options);
  Stream& Touch(edge::Priority p, int64_t ts_us);
  void CloseBatch(edge::Priority p, int64_t now_us);
  Status Commit();

  std::string lake_root_, edge_id_;
  EdgeLakeWriterOptions options_;
  std::array<std::unique_ptr<lake::LakeTable>, kLakeTableCount> tables_;
  std::array<Stream, edge::kPriorityCount> streams_;
  std::array<lake::RecordBatch, kLakeTableCount> rows_;
  //! Per table: the streams' highest seq in the pending rows ("<edge>/<class>" -> seq).
  std::array<std::map<std::string, int64_t>, kLakeTableCount> txns_;
  size_t pending_rows_ = 0;
  int64_t day_ = INT64_MIN;  //!< UTC day of the last Advance
  int64_t last_us_ = 0;      //!< the latest time seen (batches' created/received stamps)
  EdgeLakeWriterStats stats_;
};

}  // namespace weft::core::scenario

#endif  // WEFT_CORE_SCENARIO_EDGE_LAKE_WRITER_H_
