// libFuzzer target: arbitrary bytes stored as a segment file of the durable queue. Open must not
// crash and must either find only whole, valid frames (then every byte after the segment header
// is a live frame) or report the corruption; the recovered queue must read and append.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "edge/uplink/durable_queue.h"

namespace {

// A temporary directory for the process, removed at exit (held by a never-freed pointer, so
// that it outlives the atexit handler).
const std::string& Root() {
  static const std::string* root = [] {
    auto* tmpl =
        new std::string(std::filesystem::temp_directory_path().string() + "/uplink_fuzz_XXXXXX");
    if (mkdtemp(tmpl->data()) == nullptr) __builtin_trap();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(Root(), ec);
    });
    return tmpl;
  }();
  return *root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using weft::edge::Priority;
  using weft::edge::uplink::DurableQueue;
  namespace fs = std::filesystem;
  const std::string dir = Root() + "/q";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir + "/normal", ec);
  {
    std::ofstream out(dir + "/normal/00000000000000000001.seg", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto q = DurableQueue::Open(dir, {.max_bytes = 1 << 20,
                                    .segment_bytes = 1 << 16,
                                    .fsync = weft::edge::uplink::FsyncPolicy::kNever});
  if (!q.ok()) __builtin_trap();
  const auto stats = (*q)->stats();
  if (stats.corrupted_frames == 0 && stats.bytes + 8 != size) __builtin_trap();
  auto batches = (*q)->ReadFrom(Priority::kNormal, 0, SIZE_MAX);
  if (!batches.ok() || batches->size() != stats.classes[2].batches) __builtin_trap();
  const uint64_t seq = (*q)->NextSeq(Priority::kNormal);
  if (!batches->empty() && seq <= batches->back().seq) __builtin_trap();
  if (!(*q)->Append(Priority::kNormal, seq, "after recovery").ok()) __builtin_trap();
  return 0;
}
