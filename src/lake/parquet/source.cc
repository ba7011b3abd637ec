#include "lake/parquet/source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weft::lake::parquet {
namespace {

Status RangeError(const std::string& name, uint64_t offset, uint64_t length, uint64_t size) {
  return OutOfRangeError(name + ": read of " + std::to_string(length) + " bytes at offset " +
                         std::to_string(offset) + " passes the end (size " + std::to_string(size) +
                         ")");
}

}  // namespace

Result<std::unique_ptr<LocalFileSource>> LocalFileSource::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = path + ": " + std::strerror(err);
    return err == ENOENT ? NotFoundError(msg) : UnavailableError(msg);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return UnavailableError(path + ": fstat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path + ": not a regular file");
  }
  return std::unique_ptr<LocalFileSource>(
      new LocalFileSource(path, fd, static_cast<uint64_t>(st.st_size)));
}

LocalFileSource::~LocalFileSource() {
  ::close(fd_);
}

Result<std::string> LocalFileSource::Read(uint64_t offset, uint64_t length) {
  if (offset > size_ || length > size_ - offset) return RangeError(path_, offset, length, size_);
  std::string out(static_cast<size_t>(length), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(path_ + ": pread: " + std::strerror(errno));
    }
    if (n == 0) return DataLossError(path_ + ": file shrank while reading");
    done += static_cast<size_t>(n);
  }
  return out;
}

Result<std::string> MemorySource::Read(uint64_t offset, uint64_t length) {
  if (offset > data_.size() || length > data_.size() - offset) {
    return RangeError(name_, offset, length, data_.size());
  }
  return data_.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

}  // namespace weft::lake::parquet
