// CsvRecorder: writes every sample the simulator produced to a CSV file, the ground truth that
// loss checks compare the lake against (`weft-sim --record FILE`).
//
//   ts_us,asset,signal,value,sent
//   1767225600000000,l1-sp-01,winding_temp,41.25,1
//
// `sent` is 0 while the asset's communication was dropped by a comm_drop fault: such samples
// were produced but never left the machine. Values are written in the shortest form that reads
// back to the same double. Writes go through a large buffer; Finish() flushes and fsyncs.
//
// Thread-safety: used by the simulation thread only.
#ifndef WEFT_SIM_RECORDER_H_
#define WEFT_SIM_RECORDER_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "sim/simulator.h"

namespace weft::sim {

class CsvRecorder final : public SampleSink {
 public:
  //! Creates (truncates) `path`; Unavailable naming the path when it cannot.
  static Result<std::unique_ptr<CsvRecorder>> Create(const std::string& path, const Simulator& sim);
  ~CsvRecorder() override;
  Status OnTick(TimePoint now, std::span<const Sample> samples) override;
  Status Finish() override;
  uint64_t rows() const { return rows_; }

 private:
  CsvRecorder(std::string path, std::FILE* file, std::vector<std::string> prefixes)
      : path_(std::move(path)), file_(file), prefixes_(std::move(prefixes)) {}
  Status FlushBuffer();

  std::string path_;
  std::FILE* file_;
  std::vector<std::string> prefixes_;  //!< ",asset,signal," per signal index
  std::unique_ptr<char[]> buffer_;     //!< kBufferBytes plus room for one more row
  size_t used_ = 0;
  uint64_t rows_ = 0;
};

}  // namespace weft::sim

#endif  // WEFT_SIM_RECORDER_H_
