// Where a Parquet reader gets its bytes: a random-access byte source.
//
//   WEFT_ASSIGN_OR_RETURN(auto file, LocalFileSource::Open("/data/x.parquet"));
//   WEFT_ASSIGN_OR_RETURN(uint64_t size, file->Size());
//   WEFT_ASSIGN_OR_RETURN(std::string tail, file->Read(size - 8, 8));
//
// Adapters for other stores (object stores) implement RandomAccessSource.
#ifndef WEFT_LAKE_PARQUET_SOURCE_H_
#define WEFT_LAKE_PARQUET_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace weft::lake::parquet {

//! Thread-safety: implementations must allow concurrent Read calls.
class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;

  //! Total size in bytes.
  virtual Result<uint64_t> Size() = 0;
  //! Exactly `length` bytes at `offset`; kOutOfRange when the range passes the end.
  virtual Result<std::string> Read(uint64_t offset, uint64_t length) = 0;
  //! A name for messages (file name, object key).
  virtual std::string name() const = 0;
};

//! A local file read with pread(2). Owns the descriptor.
class LocalFileSource : public RandomAccessSource {
 public:
  static Result<std::unique_ptr<LocalFileSource>> Open(const std::string& path);
  ~LocalFileSource() override;
  LocalFileSource(const LocalFileSource&) = delete;
  LocalFileSource& operator=(const LocalFileSource&) = delete;

  Result<uint64_t> Size() override { return size_; }
  Result<std::string> Read(uint64_t offset, uint64_t length) override;
  std::string name() const override { return path_; }

 private:
  LocalFileSource(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_;
  uint64_t size_;
};

//! Bytes held in memory (tests, fuzzing, small downloaded objects).
class MemorySource : public RandomAccessSource {
 public:
  explicit MemorySource(std::string data, std::string name = "<memory>")
      : data_(std::move(data)), name_(std::move(name)) {}
  Result<uint64_t> Size() override { return data_.size(); }
  Result<std::string> Read(uint64_t offset, uint64_t length) override;
  std::string name() const override { return name_; }

 private:
  std::string data_;
  std::string name_;
};

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_SOURCE_H_
