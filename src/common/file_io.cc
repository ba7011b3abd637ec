#include "common/file_io.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace weft {

Result<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path + ": " + std::strerror(errno));
  std::string text;
  std::array<char, 65536> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return InvalidArgumentError(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) return NotFoundError("cannot read " + path + ": read error");
  return text;
}

}  // namespace weft
