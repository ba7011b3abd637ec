// CsvRecorder: writes every sample the simulator produced to a CSV file, the ground truth that
// loss checks compare the lake against (`weft-sim --record FILE`).
//
//   ts_us,asset,signal,value,sent
//   1767225600000000,l1-sp-01,winding_temp,41.25,1
//
// `sent` is 0 while the asset's communication was dropped by a comm_drop fault: such samples
// were produced but never left the machine. Values are written in the shortest form that reads
// back to the same double. Finish() writes the rest and fsyncs; it reports any write error.
//
// How it writes (the generator's hot path): rows are formatted into large aligned buffers that a
// writer thread hands to the kernel while the next one fills. Where the file system allows it
// the file is opened with O_DIRECT: a record is written once and read rarely, so going around
// the page cache saves the copy into it (the largest CPU cost of a buffered write) and does not
// evict other data. Where it does not (tmpfs, some FUSE), ordinary buffered writes.
//
// Thread-safety: OnTick/Finish on the simulation thread only; the writer thread is internal.
#ifndef WEFT_SIM_RECORDER_H_
#define WEFT_SIM_RECORDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/simulator.h"

namespace weft::sim {

class CsvRecorder final : public SampleSink {
 public:
  //! Creates (truncates) `path`; Unavailable naming the path when it cannot. `try_direct` false
  //! writes through the page cache even where O_DIRECT would work.
  static Result<std::unique_ptr<CsvRecorder>> Create(const std::string& path, const Simulator& sim,
                                                     bool try_direct = true);
  //! Writes what is buffered (errors are lost: call Finish() to see them).
  ~CsvRecorder() override;
  Status OnTick(TimePoint now, std::span<const Sample> samples) override;
  Status Finish() override;
  uint64_t rows() const { return rows_; }
  //! Whether the file is written with O_DIRECT (see above).
  bool direct() const;

 private:
  class Writer;
  CsvRecorder(std::unique_ptr<Writer> writer, std::vector<std::string> prefixes);

  std::unique_ptr<Writer> writer_;
  std::vector<std::string> prefixes_;  //!< ",asset,signal," per signal index
  char* buffer_ = nullptr;             //!< the writer's buffer being filled
  size_t used_ = 0;
  uint64_t rows_ = 0;
  bool finished_ = false;
  int64_t ts_us_ = -1;  //!< the timestamp whose text is in ts_text_
  char ts_text_[24] = {};
  size_t ts_size_ = 0;
};

}  // namespace weft::sim

#endif  // WEFT_SIM_RECORDER_H_
