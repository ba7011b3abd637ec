#include "sim/recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace weft::sim {
namespace {

// 8 MiB per write: two requests of the usual 4 MiB max_sectors_kb in flight at once.
constexpr size_t kBufferBytes = size_t{8} << 20;
constexpr size_t kBuffers = 3;
// O_DIRECT wants the buffer address, the length and the file offset aligned to the logical
// block size; 4096 covers every current device.
constexpr size_t kAlign = 4096;
// A row: timestamp (<= 20), ",asset,signal," (ids <= 128 bytes each), value (<= 24), ",1\n".
constexpr size_t kMaxRowBytes = 20 + 3 + 2 * 128 + 32 + 3;
// Room for a full buffer, one more row, and the unaligned tail carried over from the last one.
constexpr size_t kCapacity = (kBufferBytes + kMaxRowBytes + kAlign + kAlign - 1) / kAlign * kAlign;

std::string Errno() {
  return std::strerror(errno);
}

}  // namespace

// Owns the file and the buffers; writes full buffers on its own thread, in order.
class CsvRecorder::Writer {
 public:
  static Result<std::unique_ptr<Writer>> Open(const std::string& path, bool try_direct) {
    bool direct = try_direct;
    int fd = -1;
    if (direct)
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
    if (!direct || (fd < 0 && errno == EINVAL)) {  // not wanted, or the file system has none
      direct = false;
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd < 0) return UnavailableError("cannot write the record file '" + path + "': " + Errno());
    std::unique_ptr<Writer> w(new Writer(path, fd, direct));
    for (auto& b : w->buffers_) {
      b = static_cast<char*>(std::aligned_alloc(kAlign, kCapacity));
      if (b == nullptr) return InternalError("no memory for the record buffers");
    }
    w->thread_ = std::thread([raw = w.get()] { raw->Loop(); });
    return w;
  }

  ~Writer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    for (char* b : buffers_) std::free(b);
  }

  bool direct() const {
    std::lock_guard<std::mutex> lock(mu_);
    return direct_;
  }
  char* current() { return buffers_[current_]; }

  //! Queues the first `used` bytes of current() (all but an unaligned tail under O_DIRECT) and
  //! moves to the next buffer, which then starts with that tail; `used` becomes the tail's size.
  //! Waits while every other buffer is still being written. Returns the first write error.
  Status Submit(size_t& used) {
    std::unique_lock<std::mutex> lock(mu_);
    const size_t write = direct_ ? used / kAlign * kAlign : used;
    const size_t next = (current_ + 1) % kBuffers;
    cv_.wait(lock, [&] { return busy_[next] == false; });
    if (!error_.ok()) return error_;
    std::memcpy(buffers_[next], buffers_[current_] + write, used - write);
    busy_[current_] = true;
    jobs_.push_back({current_, write});
    current_ = next;
    used -= write;
    lock.unlock();
    cv_.notify_all();
    return Status::Ok();
  }

  //! Writes the first `used` bytes of current() after everything queued, fsyncs and closes.
  Status Finish(size_t used) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return jobs_.empty() && !writing_; });
    stop_ = true;
    lock.unlock();
    cv_.notify_all();
    thread_.join();
    // The writer thread is gone: its state is ours now.
    if (!error_.ok()) return error_;
    const char* data = buffers_[current_];
    if (direct_) {
      const size_t aligned = used / kAlign * kAlign;
      WEFT_RETURN_IF_ERROR(WriteAll(data, aligned));
      data += aligned;
      used -= aligned;
      // The tail is not a whole block: write it through the page cache.
      if (used > 0 && ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT) != 0) {
        return UnavailableError("writing the record file '" + path_ + "': " + Errno());
      }
    }
    WEFT_RETURN_IF_ERROR(WriteAll(data, used));
    int fd = fd_;
    fd_ = -1;
    if (::fsync(fd) != 0) {
      std::string e = Errno();
      ::close(fd);
      return UnavailableError("flushing the record file '" + path_ + "': " + e);
    }
    if (::close(fd) != 0) {
      return UnavailableError("closing the record file '" + path_ + "': " + Errno());
    }
    return Status::Ok();
  }

 private:
  struct Job {
    size_t buffer;
    size_t size;
  };
  Writer(std::string path, int fd, bool direct)
      : path_(std::move(path)), fd_(fd), direct_(direct) {}

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopped, nothing left
      Job job = jobs_.front();
      jobs_.pop_front();
      writing_ = true;
      lock.unlock();
      Status st = error_.ok() ? WriteAll(buffers_[job.buffer], job.size) : Status::Ok();
      lock.lock();
      if (!st.ok() && error_.ok()) error_ = st;
      busy_[job.buffer] = false;
      writing_ = false;
      cv_.notify_all();
    }
  }

  // On the writer thread, or on the caller's once the thread is gone.
  Status WriteAll(const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL && direct_) {
        // Opened with O_DIRECT, but this file system refuses such writes: write buffered.
        if (::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT) == 0) {
          std::lock_guard<std::mutex> lock(mu_);
          direct_ = false;
          continue;
        }
      }
      if (n <= 0) {
        return UnavailableError("writing the record file '" + path_ +
                                "': " + (n < 0 ? Errno() : std::string("nothing written")));
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  const std::string path_;
  int fd_;
  char* buffers_[kBuffers] = {};
  size_t current_ = 0;  //!< the buffer being filled (simulation thread)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool direct_;               // GUARDED_BY(mu_) (written by the thread that writes)
  bool busy_[kBuffers] = {};  // GUARDED_BY(mu_): queued or being written
  std::deque<Job> jobs_;      // GUARDED_BY(mu_)
  bool writing_ = false;      // GUARDED_BY(mu_)
  bool stop_ = false;         // GUARDED_BY(mu_)
  Status error_;              // GUARDED_BY(mu_): the first write error
  std::thread thread_;
};

CsvRecorder::CsvRecorder(std::unique_ptr<Writer> writer, std::vector<std::string> prefixes)
    : writer_(std::move(writer)), prefixes_(std::move(prefixes)), buffer_(writer_->current()) {}

Result<std::unique_ptr<CsvRecorder>> CsvRecorder::Create(const std::string& path,
                                                         const Simulator& sim, bool try_direct) {
  std::vector<std::string> prefixes;
  prefixes.reserve(sim.signals().size());
  for (const SimSignal& s : sim.signals()) {
    prefixes.push_back("," + s.asset->id + "," + s.signal->spec.name + ",");
    if (prefixes.back().size() > 3 + 2 * 128) {  // plant.yaml ids are 1-128 characters
      return InvalidArgumentError("cannot record signal '" + s.signal->spec.name + "' of '" +
                                  s.asset->id + "': ids are at most 128 characters");
    }
  }
  WEFT_ASSIGN_OR_RETURN(auto writer, Writer::Open(path, try_direct));
  std::unique_ptr<CsvRecorder> r(new CsvRecorder(std::move(writer), std::move(prefixes)));
  static constexpr std::string_view kHeader = "ts_us,asset,signal,value,sent\n";
  std::memcpy(r->buffer_, kHeader.data(), kHeader.size());
  r->used_ = kHeader.size();
  return r;
}

CsvRecorder::~CsvRecorder() {
  if (!finished_) (void)Finish();
}

bool CsvRecorder::direct() const {
  return writer_->direct();
}

Status CsvRecorder::OnTick(TimePoint, std::span<const Sample> samples) {
  if (finished_) return FailedPreconditionError("the record is already finished");
  // Rows are formatted straight into the buffer: this loop is the generator's hot path.
  for (const Sample& s : samples) {
    if (s.ts_us != ts_us_) {  // a tick's samples share their timestamp: format it once
      ts_us_ = s.ts_us;
      ts_size_ = static_cast<size_t>(
          std::to_chars(ts_text_, ts_text_ + sizeof(ts_text_), s.ts_us).ptr - ts_text_);
    }
    const std::string& prefix = prefixes_[s.signal];
    char* p = buffer_ + used_;
    std::memcpy(p, ts_text_, ts_size_);
    p += ts_size_;
    std::memcpy(p, prefix.data(), prefix.size());
    p += prefix.size();
    p = std::to_chars(p, p + 32, s.value).ptr;
    std::memcpy(p, s.sent ? ",1\n" : ",0\n", 3);
    used_ = static_cast<size_t>(p + 3 - buffer_);
    if (used_ >= kBufferBytes) {
      WEFT_RETURN_IF_ERROR(writer_->Submit(used_));
      buffer_ = writer_->current();
    }
  }
  rows_ += samples.size();
  return Status::Ok();
}

Status CsvRecorder::Finish() {
  if (finished_) return Status::Ok();
  finished_ = true;
  return writer_->Finish(used_);
}

}  // namespace weft::sim
