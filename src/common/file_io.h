// Reading a small file whole, with a bound, for the loaders of configuration and spec files.
//
//   WEFT_ASSIGN_OR_RETURN(std::string text, ReadFileUpTo(path, size_t{4} << 20));
//
// Errors: NotFound "cannot read <path>: <reason>" when the file cannot be opened or read;
// InvalidArgument "<path>: larger than <max_bytes> bytes" for a larger file (read no further
// than max_bytes + 1 bytes, so a huge file costs no memory).
// Thread-safety: reentrant.
#ifndef WEFT_COMMON_FILE_IO_H_
#define WEFT_COMMON_FILE_IO_H_

#include <cstddef>
#include <string>

#include "common/status.h"

namespace weft {

Result<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes);

}  // namespace weft

#endif  // WEFT_COMMON_FILE_IO_H_
