#include "sim/recorder.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace weft::sim {
namespace {
constexpr size_t kBufferBytes = size_t{1} << 20;
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
  r->buffer_.reserve(kBufferBytes + 4096);
  r->buffer_ = "ts_us,asset,signal,value,sent\n";
  return r;
}

CsvRecorder::~CsvRecorder() {
  if (file_ != nullptr) {
    (void)FlushBuffer();
    std::fclose(file_);
  }
}

Status CsvRecorder::OnTick(TimePoint, std::span<const Sample> samples) {
  char num[64];
  for (const Sample& s : samples) {
    auto r = std::to_chars(num, num + sizeof(num), s.ts_us);
    buffer_.append(num, r.ptr);
    buffer_ += prefixes_[s.signal];
    r = std::to_chars(num, num + sizeof(num), s.value);
    buffer_.append(num, r.ptr);
    buffer_ += s.sent ? ",1\n" : ",0\n";
  }
  rows_ += samples.size();
  if (buffer_.size() >= kBufferBytes) return FlushBuffer();
  return Status::Ok();
}

Status CsvRecorder::FlushBuffer() {
  if (buffer_.empty()) return Status::Ok();
  size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  if (n != buffer_.size()) {
    return UnavailableError("writing the record file '" + path_ + "': " + std::strerror(errno));
  }
  buffer_.clear();
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
