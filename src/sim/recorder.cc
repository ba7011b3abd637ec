#include "sim/recorder.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace weft::sim {
namespace {
constexpr size_t kBufferBytes = size_t{1} << 20;
// A row: timestamp (<= 20), ",asset,signal," (ids <= 128 bytes each), value (<= 24), ",1\n".
constexpr size_t kMaxRowBytes = 20 + 3 + 2 * 128 + 32 + 3;
}  // namespace

Result<std::unique_ptr<CsvRecorder>> CsvRecorder::Create(const std::string& path,
                                                         const Simulator& sim) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return UnavailableError("cannot write the record file '" + path + "': " + std::strerror(errno));
  }
  std::vector<std::string> prefixes;
  prefixes.reserve(sim.signals().size());
  for (const SimSignal& s : sim.signals()) {
    prefixes.push_back("," + s.asset->id + "," + s.signal->spec.name + ",");
  }
  std::unique_ptr<CsvRecorder> r(new CsvRecorder(path, f, std::move(prefixes)));
  r->buffer_ = std::make_unique<char[]>(kBufferBytes + kMaxRowBytes);
  static constexpr std::string_view kHeader = "ts_us,asset,signal,value,sent\n";
  std::memcpy(r->buffer_.get(), kHeader.data(), kHeader.size());
  r->used_ = kHeader.size();
  return r;
}

CsvRecorder::~CsvRecorder() {
  if (file_ != nullptr) {
    (void)FlushBuffer();
    std::fclose(file_);
  }
}

Status CsvRecorder::OnTick(TimePoint, std::span<const Sample> samples) {
  // Rows are formatted straight into the buffer: this loop is the generator's hot path.
  for (const Sample& s : samples) {
    const std::string& prefix = prefixes_[s.signal];
    char* p = buffer_.get() + used_;
    char* end = p + kMaxRowBytes;
    p = std::to_chars(p, end, s.ts_us).ptr;
    std::memcpy(p, prefix.data(), prefix.size());
    p += prefix.size();
    p = std::to_chars(p, end, s.value).ptr;
    std::memcpy(p, s.sent ? ",1\n" : ",0\n", 3);
    used_ = static_cast<size_t>(p + 3 - buffer_.get());
    if (used_ >= kBufferBytes) WEFT_RETURN_IF_ERROR(FlushBuffer());
  }
  rows_ += samples.size();
  return Status::Ok();
}

Status CsvRecorder::FlushBuffer() {
  if (used_ == 0) return Status::Ok();
  size_t n = std::fwrite(buffer_.get(), 1, used_, file_);
  if (n != used_) {
    return UnavailableError("writing the record file '" + path_ + "': " + std::strerror(errno));
  }
  used_ = 0;
  return Status::Ok();
}

Status CsvRecorder::Finish() {
  WEFT_RETURN_IF_ERROR(FlushBuffer());
  if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) {
    return UnavailableError("flushing the record file '" + path_ + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace weft::sim
