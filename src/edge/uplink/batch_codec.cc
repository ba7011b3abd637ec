#include "edge/uplink/batch_codec.h"

#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "edge/uplink/uplink.pb.h"
#include "model/plant.h"

namespace weft::edge::uplink {
namespace {

// Rough per-record sizes of the uncompressed message, for ApproxBytes: a sample is a 1-2 byte
// id, a 1-3 byte delta, an 8-byte double and a 1-byte quality.
constexpr size_t kApproxSampleBytes = 13;
constexpr size_t kApproxAggregateBytes = 64;
constexpr size_t kApproxEventBytes = 40;
constexpr size_t kApproxActionBytes = 64;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Status BatchError(std::string message) {
  return InvalidArgumentError("uplink batch: " + std::move(message));
}

}  // namespace

const std::string& BatchContextCache::Wire(const SignalTable& table, SignalId id) {
  if (epoch_ != table.epoch()) {
    wires_.clear();
    epoch_ = table.epoch();
  }
  if (wires_.size() < table.size()) wires_.resize(table.size());
  std::string& wire = wires_[id];
  if (!wire.empty()) return wire;  // a context entry is never empty: it starts with its tag
  const SignalInfo& info = table.at(id);
  SignalContext c;
  c.set_id(info.id);
  for (auto [field, value] : {std::pair{c.mutable_site(), info.site},
                              {c.mutable_area(), info.area},
                              {c.mutable_line(), info.line},
                              {c.mutable_asset(), info.asset},
                              {c.mutable_asset_type(), info.asset_type},
                              {c.mutable_signal(), info.signal},
                              {c.mutable_unit(), info.unit},
                              {c.mutable_quantity(), info.quantity},
                              {c.mutable_protocol(), model::ProtocolName(info.protocol)},
                              {c.mutable_address(), info.address}}) {
    field->assign(value);
  }
  for (const auto& [k, v] : info.tags()) (*c.mutable_tags())[k] = v;
  const size_t body = c.ByteSizeLong();
  wire.push_back(static_cast<char>((Batch::kContextsFieldNumber << 3) | 2));  // length-delimited
  for (uint64_t n = body;; n >>= 7) {                                         // varint length
    if (n < 0x80) {
      wire.push_back(static_cast<char>(n));
      break;
    }
    wire.push_back(static_cast<char>((n & 0x7f) | 0x80));
  }
  const size_t head = wire.size();
  wire.resize(head + body);
  c.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(wire.data() + head));
  wire.shrink_to_fit();
  return wire;
}

struct BatchBuilder::Impl {
  Batch msg;
  std::string edge_id;
  Priority stream;
  BatchBuilderOptions options;
  // The columns, held directly so that Add does not go through the accessors.
  google::protobuf::RepeatedField<uint32_t>* signals = nullptr;
  google::protobuf::RepeatedField<int64_t>* deltas = nullptr;
  google::protobuf::RepeatedField<double>* values = nullptr;
  google::protobuf::RepeatedField<uint32_t>* qualities = nullptr;
  int64_t prev_ts = 0;
  int64_t first_bad_ts = -1;  // index of the first sample whose delta overflows int64
  // seen[id] == generation: id already has its context in this batch.
  std::vector<uint32_t> seen;
  uint32_t generation = 0;
  std::vector<SignalId> used;
  std::vector<const std::string*> wires;  // the contexts of `used`, in the same order
  std::shared_ptr<BatchContextCache> contexts;
  std::string scratch;  // serialised protobuf before compression

  void Clear() {
    // Clear keeps the capacity of the repeated fields and the cleared sub-messages, so a builder
    // that has seen one batch encodes the next ones without allocating per sample.
    msg.Clear();
    prev_ts = 0;
    first_bad_ts = -1;
  }
};

BatchBuilder::BatchBuilder(std::string edge_id, Priority stream, BatchBuilderOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->edge_id = std::move(edge_id);
  impl_->stream = stream;
  impl_->options = options;
  impl_->contexts =
      options.contexts != nullptr ? options.contexts : std::make_shared<BatchContextCache>();
  impl_->signals = impl_->msg.mutable_sample_signal();
  impl_->deltas = impl_->msg.mutable_sample_ts_delta();
  impl_->values = impl_->msg.mutable_sample_value();
  impl_->qualities = impl_->msg.mutable_sample_quality();
  constexpr int kInitialSamples = 4096;
  impl_->signals->Reserve(kInitialSamples);
  impl_->deltas->Reserve(kInitialSamples);
  impl_->values->Reserve(kInitialSamples);
  impl_->qualities->Reserve(kInitialSamples);
}

BatchBuilder::~BatchBuilder() = default;

void BatchBuilder::Add(const Sample& sample) {
  Impl& d = *impl_;
  int64_t delta = 0;
  if (__builtin_sub_overflow(sample.ts_us, d.prev_ts, &delta)) [[unlikely]] {
    if (d.first_bad_ts < 0) d.first_bad_ts = d.signals->size();
  }
  d.prev_ts = sample.ts_us;
  d.signals->Add(sample.signal);
  d.deltas->Add(delta);
  d.values->Add(sample.value);
  d.qualities->Add(sample.quality);
  approx_bytes_ += kApproxSampleBytes;
}

void BatchBuilder::Add(const Aggregate& a) {
  AggregateRecord* r = impl_->msg.add_aggregates();
  r->set_signal(a.signal);
  r->set_start_us(a.start_us);
  r->set_end_us(a.end_us);
  r->set_count(a.count);
  r->set_mean(a.mean);
  r->set_min(a.min);
  r->set_max(a.max);
  r->set_std(a.std);
  r->set_last(a.last);
  r->set_quality(a.quality);
  approx_bytes_ += kApproxAggregateBytes;
}

void BatchBuilder::Add(const Event& e) {
  EventRecord* r = impl_->msg.add_events();
  r->set_signal(e.signal);
  r->set_ts_us(e.ts_us);
  r->set_kind(e.kind);
  r->set_source(e.source);
  r->set_value(e.value);
  r->set_threshold(e.threshold);
  r->set_message(e.message);
  approx_bytes_ += kApproxEventBytes + e.kind.size() + e.source.size() + e.message.size();
}

void BatchBuilder::AddAction(const ActionRecordValue& a) {
  ActionRecord* r = impl_->msg.add_actions();
  r->set_ts_us(a.ts_us);
  size_t text = 0;
  for (auto [field, value] : {std::pair{r->mutable_loop(), &a.loop},
                              {r->mutable_site(), &a.site},
                              {r->mutable_line(), &a.line},
                              {r->mutable_asset(), &a.asset},
                              {r->mutable_signal(), &a.signal},
                              {r->mutable_kind(), &a.kind},
                              {r->mutable_mode(), &a.mode},
                              {r->mutable_reason(), &a.reason},
                              {r->mutable_source(), &a.source},
                              {r->mutable_source_version(), &a.source_version},
                              {r->mutable_approved_by(), &a.approved_by},
                              {r->mutable_proposal_id(), &a.proposal_id}}) {
    field->assign(*value);
    text += value->size();
  }
  r->set_requested(a.requested);
  r->set_before(a.before);
  r->set_after(a.after);
  approx_bytes_ += kApproxActionBytes + text;
}

size_t BatchBuilder::sample_count() const {
  return static_cast<size_t>(impl_->signals->size());
}
size_t BatchBuilder::aggregate_count() const {
  return static_cast<size_t>(impl_->msg.aggregates_size());
}
size_t BatchBuilder::event_count() const {
  return static_cast<size_t>(impl_->msg.events_size());
}
size_t BatchBuilder::action_count() const {
  return static_cast<size_t>(impl_->msg.actions_size());
}

void BatchBuilder::Reset() {
  impl_->Clear();
  approx_bytes_ = 0;
}

namespace {

// The zstd frame of the message (serialised body, then the context entries), streamed: the
// contexts go from the cache into the compressor through a staging buffer of kStageBytes, and
// the output grows as it fills, so a batch never needs its whole uncompressed form, nor a
// compressBound-sized output, in memory (a 5,000-signal batch is ~1 MB before compression).
constexpr size_t kStageBytes = 64 << 10;

}  // namespace

Result<std::string> BatchBuilder::Compress(Impl& d, size_t body_size, size_t size) {
  // One compression context per thread, shared by the builders of all priorities (each holds
  // tables; an edge's batches are built on one thread).
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(),
                                                                       ZSTD_freeCCtx);
  if (cctx == nullptr) return InternalError("uplink batch: ZSTD_createCCtx failed");
  ZSTD_CCtx* z = cctx.get();
  ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
  size_t r = ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, d.options.zstd_level);
  // A 128 KiB window: batches are a few hundred KiB at most, and the level's default window
  // and hash tables (megabytes) would cost the edge more memory than they gain in ratio.
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, 17);
  if (ZSTD_isError(r)) {
    return InvalidArgumentError("uplink batch: zstd level " + std::to_string(d.options.zstd_level) +
                                ": " + ZSTD_getErrorName(r));
  }
  r = ZSTD_CCtx_setPledgedSrcSize(z, size);  // the frame header declares the size
  if (ZSTD_isError(r)) {
    return InternalError(std::string("uplink batch: zstd: ") + ZSTD_getErrorName(r));
  }

  std::string out(kBatchHeaderBytes + std::max<size_t>(size / 4, 4096), '\0');
  size_t pos = kBatchHeaderBytes;
  auto feed = [&](std::string_view in_bytes, ZSTD_EndDirective mode) -> Status {
    ZSTD_inBuffer in{in_bytes.data(), in_bytes.size(), 0};
    for (;;) {
      if (out.size() - pos < 1024) out.resize(out.size() + out.size() / 2);
      ZSTD_outBuffer o{out.data(), out.size(), pos};
      const size_t left = ZSTD_compressStream2(z, &o, &in, mode);
      pos = o.pos;
      if (ZSTD_isError(left)) {
        return InternalError(std::string("uplink batch: zstd compression failed: ") +
                             ZSTD_getErrorName(left));
      }
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return Status::Ok();
    }
  };
  std::string& stage = d.scratch;
  stage.resize(body_size);
  d.msg.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(stage.data()));
  for (const std::string* w : d.wires) {
    if (stage.size() >= kStageBytes) {
      WEFT_RETURN_IF_ERROR(feed(stage, ZSTD_e_continue));
      stage.clear();
    }
    stage += *w;
  }
  WEFT_RETURN_IF_ERROR(feed(stage, ZSTD_e_end));
  if (stage.capacity() > 2 * kStageBytes) std::string().swap(stage);  // a large body's buffer
  out.resize(pos);
  return out;
}

Result<std::string> BatchBuilder::Finish(uint64_t seq, int64_t created_us,
                                         const SignalTable& table) {
  Impl& d = *impl_;
  struct ResetOnExit {
    BatchBuilder* b;
    ~ResetOnExit() { b->Reset(); }
  } reset_on_exit{this};

  if (d.first_bad_ts >= 0) {
    return BatchError("sample " + std::to_string(d.first_bad_ts) +
                      ": timestamp is more than 2^63 us away from the previous sample's");
  }

  // The distinct signal ids used, each checked against the table once.
  const size_t n_signals = table.size();
  if (d.seen.size() < n_signals) d.seen.resize(n_signals, d.generation);
  if (++d.generation == 0) {
    std::fill(d.seen.begin(), d.seen.end(), 0);
    d.generation = 1;
  }
  d.used.clear();
  const uint32_t gen = d.generation;
  auto use = [&](SignalId id, const char* what, int index) -> Status {
    if (id >= n_signals) [[unlikely]] {
      return BatchError(std::string(what) + " " + std::to_string(index) + ": signal id " +
                        std::to_string(id) + " is not in the signal table (" +
                        std::to_string(n_signals) + " signals)");
    }
    if (d.seen[id] != gen) {
      d.seen[id] = gen;
      d.used.push_back(id);
    }
    return Status::Ok();
  };
  const uint32_t* ids = d.signals->data();
  for (int i = 0, n = d.signals->size(); i < n; ++i) {
    WEFT_RETURN_IF_ERROR(use(ids[i], "sample", i));
  }
  for (int i = 0; i < d.msg.aggregates_size(); ++i) {
    WEFT_RETURN_IF_ERROR(use(d.msg.aggregates(i).signal(), "aggregate", i));
  }
  for (int i = 0; i < d.msg.events_size(); ++i) {
    WEFT_RETURN_IF_ERROR(use(d.msg.events(i).signal(), "event", i));
  }
  std::sort(d.used.begin(), d.used.end());
  d.wires.clear();
  size_t context_bytes = 0;
  for (SignalId id : d.used) {
    d.wires.push_back(&d.contexts->Wire(table, id));
    context_bytes += d.wires.back()->size();
  }

  d.msg.set_edge_id(d.edge_id);
  d.msg.set_firmware(d.options.firmware);
  d.msg.set_stream(static_cast<uint32_t>(d.stream));
  d.msg.set_seq(seq);
  d.msg.set_created_us(created_us);

  // The message without contexts, then the cached context entries: protobuf accepts the
  // entries of a repeated field anywhere in the message, so this parses as one Batch.
  const size_t body_size = d.msg.ByteSizeLong();
  const size_t size = body_size + context_bytes;
  if (size > kMaxDecodedBatchBytes) {
    return BatchError("batch of " + std::to_string(size) + " bytes is larger than the " +
                      std::to_string(kMaxDecodedBatchBytes) +
                      " bytes a decoder accepts; finish batches earlier (ApproxBytes)");
  }
  std::string out;
  if (d.options.codec == BatchCodec::kNone) {
    out.resize(kBatchHeaderBytes + size);
    char* dst = out.data() + kBatchHeaderBytes;
    d.msg.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(dst));
    dst += body_size;
    for (const std::string* w : d.wires) dst = std::copy(w->begin(), w->end(), dst);
  } else {
    WEFT_ASSIGN_OR_RETURN(out, Compress(d, body_size, size));
  }
  std::memcpy(out.data(), kBatchMagic.data(), kBatchMagic.size());
  out[4] = static_cast<char>(d.options.codec);
  return out;
}

const BatchContext* DecodedBatch::ContextOf(SignalId id) const {
  auto it = std::lower_bound(contexts.begin(), contexts.end(), id,
                             [](const BatchContext& c, SignalId v) { return c.id < v; });
  return it != contexts.end() && it->id == id ? &*it : nullptr;
}

namespace {

Result<std::string> Decompress(std::string_view in) {
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return BatchError("payload is not a zstd frame (codec byte says zstd)");
  }
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > kMaxDecodedBatchBytes) {
    return BatchError("zstd frame declares " + std::to_string(declared) +
                      " decompressed bytes, above the limit of " +
                      std::to_string(kMaxDecodedBatchBytes));
  }
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (dctx == nullptr) return InternalError("uplink batch: ZSTD_createDCtx failed");
  std::string out;
  size_t capacity = declared != ZSTD_CONTENTSIZE_UNKNOWN
                        ? static_cast<size_t>(declared)
                        : std::min(kMaxDecodedBatchBytes, std::max<size_t>(in.size() * 4, 4096));
  // One byte more than the limit allows, so that output above the limit is seen.
  out.resize(std::min(capacity, kMaxDecodedBatchBytes) + 1);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  size_t remaining = 1;
  while (true) {
    remaining = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(remaining)) {
      return DataLossError(std::string("uplink batch: zstd decompression failed at input byte ") +
                           std::to_string(input.pos) + ": " + ZSTD_getErrorName(remaining));
    }
    if (output.pos > kMaxDecodedBatchBytes) {
      return BatchError("decompressed payload is larger than the limit of " +
                        std::to_string(kMaxDecodedBatchBytes) + " bytes");
    }
    if (input.pos == input.size && output.pos < output.size) break;  // all input consumed
    if (output.pos == output.size) {
      out.resize(std::min(out.size() * 2, kMaxDecodedBatchBytes + 1));
      output.dst = out.data();
      output.size = out.size();
    }
  }
  if (remaining != 0) {
    return DataLossError("uplink batch: zstd frame is truncated (" + std::to_string(in.size()) +
                         " compressed bytes)");
  }
  out.resize(output.pos);
  return out;
}

}  // namespace

Result<DecodedBatch> DecodeBatch(std::string_view bytes) {
  if (bytes.size() < kBatchHeaderBytes) {
    return BatchError("batch is " + std::to_string(bytes.size()) +
                      " bytes, shorter than its 5-byte header");
  }
  if (bytes.substr(0, 4) != kBatchMagic) {
    return BatchError("bad magic 0x" + Hex(bytes.substr(0, 4)) + ", expected \"WFB1\"");
  }
  const auto codec = static_cast<uint8_t>(bytes[4]);
  std::string_view payload = bytes.substr(kBatchHeaderBytes);
  std::string decompressed;
  if (codec == static_cast<uint8_t>(BatchCodec::kZstd)) {
    WEFT_ASSIGN_OR_RETURN(decompressed, Decompress(payload));
    payload = decompressed;
  } else if (codec != static_cast<uint8_t>(BatchCodec::kNone)) {
    return BatchError("unknown codec " + std::to_string(codec) + " (0 = none, 1 = zstd)");
  } else if (payload.size() > kMaxDecodedBatchBytes) {
    return BatchError("payload of " + std::to_string(payload.size()) +
                      " bytes is above the limit of " + std::to_string(kMaxDecodedBatchBytes));
  }

  Batch msg;
  if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return BatchError("protobuf parse failed (" + std::to_string(payload.size()) +
                      " bytes): not a weft.edge.uplink.Batch");
  }
  if (msg.stream() >= static_cast<uint32_t>(kPriorityCount)) {
    return BatchError("stream " + std::to_string(msg.stream()) + " is not a priority class 0..3");
  }
  const int n = msg.sample_signal_size();
  if (msg.sample_ts_delta_size() != n || msg.sample_value_size() != n ||
      msg.sample_quality_size() != n) {
    return BatchError("sample columns disagree: " + std::to_string(n) + " signal ids, " +
                      std::to_string(msg.sample_ts_delta_size()) + " timestamps, " +
                      std::to_string(msg.sample_value_size()) + " values, " +
                      std::to_string(msg.sample_quality_size()) + " qualities");
  }

  DecodedBatch out;
  out.edge_id = msg.edge_id();
  out.firmware = msg.firmware();
  out.stream = static_cast<Priority>(msg.stream());
  out.seq = msg.seq();
  out.created_us = msg.created_us();
  out.contexts.reserve(static_cast<size_t>(msg.contexts_size()));
  for (SignalContext& c : *msg.mutable_contexts()) {
    BatchContext b;
    b.id = c.id();
    b.site = std::move(*c.mutable_site());
    b.area = std::move(*c.mutable_area());
    b.line = std::move(*c.mutable_line());
    b.asset = std::move(*c.mutable_asset());
    b.asset_type = std::move(*c.mutable_asset_type());
    b.signal = std::move(*c.mutable_signal());
    b.unit = std::move(*c.mutable_unit());
    b.quantity = std::move(*c.mutable_quantity());
    b.protocol = std::move(*c.mutable_protocol());
    b.address = std::move(*c.mutable_address());
    for (const auto& [k, v] : c.tags()) b.tags.emplace(k, v);
    out.contexts.push_back(std::move(b));
  }
  std::sort(out.contexts.begin(), out.contexts.end(),
            [](const BatchContext& a, const BatchContext& b) { return a.id < b.id; });
  for (size_t i = 1; i < out.contexts.size(); ++i) {
    if (out.contexts[i].id == out.contexts[i - 1].id) {
      return BatchError("signal id " + std::to_string(out.contexts[i].id) + " has two contexts");
    }
  }
  auto check_signal = [&](SignalId id, const char* what, int index) -> Status {
    if (out.ContextOf(id) == nullptr) [[unlikely]] {
      return BatchError(std::string(what) + " " + std::to_string(index) + ": signal id " +
                        std::to_string(id) + " has no context");
    }
    return Status::Ok();
  };

  out.samples.resize(static_cast<size_t>(n));
  int64_t ts = 0;
  for (int i = 0; i < n; ++i) {
    Sample& s = out.samples[static_cast<size_t>(i)];
    s.signal = msg.sample_signal(i);
    WEFT_RETURN_IF_ERROR(check_signal(s.signal, "sample", i));
    if (__builtin_add_overflow(ts, msg.sample_ts_delta(i), &ts)) {
      return BatchError("sample " + std::to_string(i) + ": timestamp overflows int64");
    }
    s.ts_us = ts;
    s.value = msg.sample_value(i);
    const uint32_t q = msg.sample_quality(i);
    if (q > 0xff) {
      return BatchError("sample " + std::to_string(i) + ": quality " + std::to_string(q) +
                        " does not fit the 8 flag bits");
    }
    s.quality = static_cast<uint8_t>(q);
  }
  out.aggregates.reserve(static_cast<size_t>(msg.aggregates_size()));
  for (int i = 0; i < msg.aggregates_size(); ++i) {
    const AggregateRecord& r = msg.aggregates(i);
    WEFT_RETURN_IF_ERROR(check_signal(r.signal(), "aggregate", i));
    if (r.quality() > 0xff) {
      return BatchError("aggregate " + std::to_string(i) + ": quality " +
                        std::to_string(r.quality()) + " does not fit the 8 flag bits");
    }
    Aggregate a;
    a.signal = r.signal();
    a.start_us = r.start_us();
    a.end_us = r.end_us();
    a.count = r.count();
    a.mean = r.mean();
    a.min = r.min();
    a.max = r.max();
    a.std = r.std();
    a.last = r.last();
    a.quality = static_cast<uint8_t>(r.quality());
    out.aggregates.push_back(a);
  }
  out.events.reserve(static_cast<size_t>(msg.events_size()));
  for (int i = 0; i < msg.events_size(); ++i) {
    EventRecord* r = msg.mutable_events(i);
    WEFT_RETURN_IF_ERROR(check_signal(r->signal(), "event", i));
    Event e;
    e.signal = r->signal();
    e.ts_us = r->ts_us();
    e.kind = std::move(*r->mutable_kind());
    e.source = std::move(*r->mutable_source());
    e.value = r->value();
    e.threshold = r->threshold();
    e.message = std::move(*r->mutable_message());
    out.events.push_back(std::move(e));
  }
  out.actions.reserve(static_cast<size_t>(msg.actions_size()));
  for (ActionRecord& r : *msg.mutable_actions()) {
    ActionRecordValue a;
    a.ts_us = r.ts_us();
    a.loop = std::move(*r.mutable_loop());
    a.site = std::move(*r.mutable_site());
    a.line = std::move(*r.mutable_line());
    a.asset = std::move(*r.mutable_asset());
    a.signal = std::move(*r.mutable_signal());
    a.kind = std::move(*r.mutable_kind());
    a.mode = std::move(*r.mutable_mode());
    a.requested = r.requested();
    a.before = r.before();
    a.after = r.after();
    a.reason = std::move(*r.mutable_reason());
    a.source = std::move(*r.mutable_source());
    a.source_version = std::move(*r.mutable_source_version());
    a.approved_by = std::move(*r.mutable_approved_by());
    a.proposal_id = std::move(*r.mutable_proposal_id());
    out.actions.push_back(std::move(a));
  }
  return out;
}

}  // namespace weft::edge::uplink
