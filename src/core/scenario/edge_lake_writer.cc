#include "core/scenario/edge_lake_writer.h"

#include <algorithm>

#include "core/ingest/batch_rows.h"
#include "model/plant.h"

namespace weft::core::scenario {
namespace {

std::string AppId(const std::string& edge, edge::Priority p) {
  return edge + "/" + std::string(edge::PriorityName(p));
}

// The commit order of the ingest (ingestor.cc Commit): telemetry last, its txns the watermarks.
constexpr std::array<LakeTableId, 5> kCommitOrder = {
    LakeTableId::kEvents, LakeTableId::kAggregates, LakeTableId::kPredictions,
    LakeTableId::kActions, LakeTableId::kTelemetry};

}  // namespace

EdgeLakeWriter::EdgeLakeWriter(std::string lake_root, std::string edge_id,
                               EdgeLakeWriterOptions options)
    : lake_root_(std::move(lake_root)), edge_id_(std::move(edge_id)), options_(options) {}

EdgeLakeWriter::~EdgeLakeWriter() = default;

Result<std::unique_ptr<EdgeLakeWriter>> EdgeLakeWriter::Open(std::string lake_root,
                                                             std::string edge_id,
                                                             const edge::SignalTable& table,
                                                             const Clock* clock,
                                                             EdgeLakeWriterOptions options) {
  if (edge_id.empty() || edge_id.find('/') != std::string::npos) {
    return InvalidArgumentError("scenario edge id '" + edge_id +
                                "' must be non-empty and contain no '/'");
  }
  options.max_records = std::max<size_t>(1, options.max_records);
  std::unique_ptr<EdgeLakeWriter> w(
      new EdgeLakeWriter(std::move(lake_root), std::move(edge_id), options));
  WEFT_RETURN_IF_ERROR(EnsureTables(w->lake_root_, clock));
  for (int i = 0; i < kLakeTableCount; ++i) {
    const auto id = static_cast<LakeTableId>(i);
    WEFT_ASSIGN_OR_RETURN(w->tables_[static_cast<size_t>(i)], OpenTable(w->lake_root_, id, clock));
    w->rows_[static_cast<size_t>(i)] = lake::RecordBatch(LakeTableSchema(id));
  }
  // Continue each stream after what the lake holds (telemetry's txns are the watermarks).
  WEFT_ASSIGN_OR_RETURN(auto versions,
                        w->tables_[static_cast<size_t>(LakeTableId::kTelemetry)]->TxnVersions());
  // Every signal's context, once: the batches reuse them (the rows take only the ids used).
  std::vector<edge::uplink::BatchContext> contexts;
  contexts.reserve(table.size());
  for (const edge::SignalInfo& s : table.signals()) {
    edge::uplink::BatchContext c;
    c.id = s.id;
    c.site = s.site;
    c.area = s.area;
    c.line = s.line;
    c.asset = s.asset;
    c.asset_type = s.asset_type;
    c.signal = s.signal;
    c.unit = s.unit;
    c.quantity = s.quantity;
    c.protocol = model::ProtocolName(s.protocol);
    c.address = s.address;
    contexts.push_back(std::move(c));
  }
  for (int c = 0; c < edge::kPriorityCount; ++c) {
    const auto p = static_cast<edge::Priority>(c);
    Stream& s = w->streams_[static_cast<size_t>(c)];
    s.batch.edge_id = w->edge_id_;
    s.batch.stream = p;
    s.batch.contexts = contexts;
    auto v = versions.find(AppId(w->edge_id_, p));
    if (v != versions.end() && v->second > 0) s.next_seq = static_cast<uint64_t>(v->second) + 1;
  }
  return w;
}

EdgeLakeWriter::Stream& EdgeLakeWriter::Touch(edge::Priority p, int64_t ts_us) {
  Stream& s = streams_[static_cast<size_t>(p)];
  if (s.records == 0) s.first_us = std::max(ts_us, last_us_);
  ++s.records;
  return s;
}

void EdgeLakeWriter::OnSample(const edge::Sample& sample, edge::Priority priority) {
  Stream& s = Touch(priority, sample.ts_us);
  s.batch.samples.push_back(sample);
  if (s.records >= options_.max_records) CloseBatch(priority, std::max(last_us_, sample.ts_us));
}

void EdgeLakeWriter::OnAggregate(const edge::Aggregate& aggregate, edge::Priority priority) {
  Stream& s = Touch(priority, aggregate.end_us);
  s.batch.aggregates.push_back(aggregate);
  if (s.records >= options_.max_records) CloseBatch(priority, std::max(last_us_, aggregate.end_us));
}

void EdgeLakeWriter::OnEvent(const edge::Event& event, edge::Priority priority) {
  Stream& s = Touch(priority, event.ts_us);
  s.batch.events.push_back(event);
  if (s.records >= options_.max_records) CloseBatch(priority, std::max(last_us_, event.ts_us));
}

void EdgeLakeWriter::AddAction(const edge::uplink::ActionRecordValue& action) {
  Stream& s = Touch(edge::Priority::kHigh, action.ts_us);
  s.batch.actions.push_back(action);
  if (s.records >= options_.max_records) {
    CloseBatch(edge::Priority::kHigh, std::max(last_us_, action.ts_us));
  }
}

void EdgeLakeWriter::CloseBatch(edge::Priority p, int64_t now_us) {
  Stream& s = streams_[static_cast<size_t>(p)];
  if (s.records == 0) return;
  Incoming in;
  in.app = AppId(edge_id_, p);
  in.seq = s.next_seq++;
  in.received_us = now_us;
  s.batch.seq = in.seq;
  s.batch.created_us = now_us;
  // The batch is lent to the row maker and taken back (its contexts and buffers are reused).
  in.batch = std::move(s.batch);
  for (LakeTableId t : kCommitOrder) {
    const auto i = static_cast<size_t>(t);
    const size_t before = rows_[i].num_rows();
    AppendBatchRows(t, in, rows_[i]);
    const size_t added = rows_[i].num_rows() - before;
    pending_rows_ += added;
    // As the ingest: telemetry records every stream's progress, the others where they got rows.
    if (t == LakeTableId::kTelemetry || added > 0) {
      txns_[i][in.app] = static_cast<int64_t>(in.seq);
    }
  }
  s.batch = std::move(in.batch);
  s.batch.samples.clear();
  s.batch.aggregates.clear();
  s.batch.events.clear();
  s.batch.actions.clear();
  s.records = 0;
  ++stats_.batches;
}

Status EdgeLakeWriter::Commit() {
  for (LakeTableId t : kCommitOrder) {
    const auto i = static_cast<size_t>(t);
    if (txns_[i].empty()) continue;
    std::vector<lake::delta::Txn> txns;
    for (const auto& [app, v] : txns_[i]) txns.push_back({.app_id = app, .version = v});
    Result<lake::AppendResult> r = tables_[i]->Append(rows_[i], std::move(txns));
    if (!r.ok()) return r.status().WithContext("lake table " + std::string(LakeTableName(t)));
    if (r->already_committed) {
      return FailedPreconditionError(
          "lake table " + std::string(LakeTableName(t)) + ": another writer committed seqs of " +
          edge_id_ + "'s streams meanwhile; run the scenario with another --edge-id or lake");
    }
    stats_.rows[i] += rows_[i].num_rows();
    ++stats_.commits[i];
    rows_[i].Clear();
    txns_[i].clear();
  }
  pending_rows_ = 0;
  return Status::Ok();
}

Status EdgeLakeWriter::Advance(int64_t now_us) {
  last_us_ = std::max(last_us_, now_us);
  for (int c = 0; c < edge::kPriorityCount; ++c) {
    Stream& s = streams_[static_cast<size_t>(c)];
    if (s.records > 0 && now_us - s.first_us >= options_.max_batch_age.count()) {
      CloseBatch(static_cast<edge::Priority>(c), now_us);
    }
  }
  const int64_t day = DayOf(now_us);
  if (day_ == INT64_MIN) day_ = day;
  if (day != day_ || pending_rows_ >= options_.max_rows) {
    // The day's batches are closed first, so that each day's rows commit together.
    for (int c = 0; c < edge::kPriorityCount; ++c)
      CloseBatch(static_cast<edge::Priority>(c), now_us);
    day_ = day;
    WEFT_RETURN_IF_ERROR(Commit());
  }
  return Status::Ok();
}

Status EdgeLakeWriter::Finish() {
  for (int c = 0; c < edge::kPriorityCount; ++c) {
    CloseBatch(static_cast<edge::Priority>(c), last_us_);
  }
  return Commit();
}

}  // namespace weft::core::scenario
