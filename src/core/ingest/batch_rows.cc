#include "core/ingest/batch_rows.h"

#include <algorithm>
#include <cmath>

#include "edge/sample.h"

namespace weft::core {
namespace {

using edge::uplink::BatchContext;
using edge::uplink::DecodedBatch;
using lake::RecordBatch;

constexpr int64_t kMicrosPerDay = int64_t{86'400'000'000};

}  // namespace

int64_t DayOf(int64_t ts_us) {
  return ts_us >= 0 ? ts_us / kMicrosPerDay : -((-ts_us + kMicrosPerDay - 1) / kMicrosPerDay);
}

namespace {

// The contexts of a batch by signal id (ids are dense per edge: a vector beats a search).
// Ids are an edge's dense signal numbers; a batch whose ids are not (a sender's bug or malice:
// an id near 2^32) is served by the decoder's sorted search instead of a huge table.
std::vector<const BatchContext*> ContextIndex(const DecodedBatch& b) {
  uint32_t max_id = 0;
  for (const BatchContext& c : b.contexts) max_id = std::max(max_id, c.id);
  if (b.contexts.empty() || max_id > 4 * b.contexts.size() + 65536) return {};
  std::vector<const BatchContext*> out(size_t{max_id} + 1, nullptr);
  for (const BatchContext& c : b.contexts) out[c.id] = &c;
  return out;
}

// Appends the columns every table shares: date, time column(s) are done by the caller.
void AppendContext(RecordBatch& rows, size_t first, const Incoming& in, std::string_view stream,
                   const BatchContext& c) {
  rows.column(first + 0).AppendString(in.batch.edge_id);
  rows.column(first + 1).AppendString(stream);
  rows.column(first + 2).AppendInt(static_cast<int64_t>(in.seq));
  rows.column(first + 3).AppendString(c.site);
  rows.column(first + 4).AppendString(c.area);
  rows.column(first + 5).AppendString(c.line);
  rows.column(first + 6).AppendString(c.asset);
  rows.column(first + 7).AppendString(c.asset_type);
  rows.column(first + 8).AppendString(c.signal);
}

constexpr size_t kContextColumns = 9;

}  // namespace

void AppendBatchRows(LakeTableId t, const Incoming& in, lake::RecordBatch& rows) {
  const DecodedBatch& b = in.batch;
  const std::vector<const BatchContext*> ctx = ContextIndex(b);
  const std::string_view stream = edge::PriorityName(b.stream);
  static const BatchContext kNone;
  auto context_of = [&](uint32_t id) -> const BatchContext& {
    if (id < ctx.size() && ctx[id] != nullptr) return *ctx[id];
    const BatchContext* c = b.ContextOf(id);  // sparse ids; the decoder guarantees one
    return c != nullptr ? *c : kNone;
  };
  switch (t) {
    case LakeTableId::kTelemetry:
      for (const edge::Sample& s : b.samples) {
        const BatchContext& c = context_of(s.signal);
        rows.column(0).AppendInt(DayOf(s.ts_us));
        rows.column(1).AppendInt(s.ts_us);
        AppendContext(rows, 2, in, stream, c);
        size_t k = 2 + kContextColumns;
        rows.column(k++).AppendString(c.unit);
        rows.column(k++).AppendString(c.quantity);
        rows.column(k++).AppendDouble(s.value);
        rows.column(k++).AppendInt(s.quality);
      }
      break;
    case LakeTableId::kAggregates:
      for (const edge::Aggregate& a : b.aggregates) {
        const BatchContext& c = context_of(a.signal);
        rows.column(0).AppendInt(DayOf(a.start_us));
        rows.column(1).AppendInt(a.start_us);
        rows.column(2).AppendInt(a.end_us);
        AppendContext(rows, 3, in, stream, c);
        size_t k = 3 + kContextColumns;
        rows.column(k++).AppendString(c.unit);
        rows.column(k++).AppendInt(static_cast<int64_t>(a.count));
        for (double v : {a.mean, a.min, a.max, a.std, a.last}) rows.column(k++).AppendDouble(v);
        rows.column(k++).AppendInt(a.quality);
      }
      break;
    case LakeTableId::kEvents:
    case LakeTableId::kPredictions:
      for (const edge::Event& e : b.events) {
        const bool prediction = e.kind == "prediction";
        if (prediction != (t == LakeTableId::kPredictions)) continue;
        const BatchContext& c = context_of(e.signal);
        rows.column(0).AppendInt(DayOf(e.ts_us));
        rows.column(1).AppendInt(e.ts_us);
        AppendContext(rows, 2, in, stream, c);
        size_t k = 2 + kContextColumns;
        if (prediction) {
          // source is "<model>@<version>"
          const size_t at = e.source.rfind('@');
          rows.column(k++).AppendString(std::string_view(e.source).substr(0, at));
          if (at == std::string::npos) {
            rows.column(k++).AppendNull();
          } else {
            rows.column(k++).AppendString(std::string_view(e.source).substr(at + 1));
          }
        } else {
          rows.column(k++).AppendString(e.kind);
          rows.column(k++).AppendString(e.source);
        }
        rows.column(k++).AppendDouble(e.value);
        rows.column(k++).AppendDouble(e.threshold);
        rows.column(k++).AppendString(e.message);
      }
      break;
    case LakeTableId::kActions:
      for (const edge::uplink::ActionRecordValue& a : b.actions) {
        auto text = [&](size_t col, const std::string& v) {
          if (v.empty()) {
            rows.column(col).AppendNull();
          } else {
            rows.column(col).AppendString(v);
          }
        };
        auto number = [&](size_t col, double v) {
          if (std::isnan(v)) {
            rows.column(col).AppendNull();
          } else {
            rows.column(col).AppendDouble(v);
          }
        };
        rows.column(0).AppendInt(DayOf(a.ts_us));
        rows.column(1).AppendInt(a.ts_us);
        rows.column(2).AppendString(b.edge_id);
        rows.column(3).AppendString(stream);
        rows.column(4).AppendInt(static_cast<int64_t>(in.seq));
        text(5, a.site);
        text(6, a.line);
        text(7, a.asset);
        rows.column(8).AppendString(a.loop);
        text(9, a.signal);
        rows.column(10).AppendString(a.kind);
        text(11, a.mode);
        number(12, a.requested);
        number(13, a.before);
        number(14, a.after);
        text(15, a.reason);
        text(16, a.source);
        text(17, a.source_version);
        text(18, a.approved_by);
        text(19, a.proposal_id);
      }
      break;
    case LakeTableId::kWorkOrders: break;  // written by the API
  }
}

}  // namespace weft::core
