#include "lake/storage/object_key.h"

#include <string>

namespace weft::lake {
namespace {

Status Invalid(std::string_view what, std::string_view name, std::string_view rule) {
  return InvalidArgumentError(std::string(what) + " \"" + std::string(name) +
                              "\": " + std::string(rule));
}

// Checks every segment of `name`; the last one may be empty when `allow_empty_last`.
Status ValidateSegments(std::string_view what, std::string_view name, bool allow_empty_last) {
  if (name.find('\0') != std::string_view::npos) return Invalid(what, name, "contains a NUL byte");
  if (!name.empty() && name.front() == '/') return Invalid(what, name, "starts with '/'");
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    bool last = slash == std::string_view::npos;
    std::string_view segment = name.substr(start, last ? std::string_view::npos : slash - start);
    if (segment.empty() && !(last && allow_empty_last)) {
      return Invalid(what, name, "has an empty segment (\"//\" or a trailing '/')");
    }
    if (segment == "." || segment == "..") {
      return Invalid(what, name, R"(has a "." or ".." segment)");
    }
    if (segment.substr(0, kTempFilePrefix.size()) == kTempFilePrefix) {
      return Invalid(what, name,
                     "has a segment starting with \"" + std::string(kTempFilePrefix) +
                         "\" (reserved for temporary files)");
    }
    if (last) return Status::Ok();
    start = slash + 1;
  }
}

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("object key is empty");
  return ValidateSegments("object key", key, /*allow_empty_last=*/false);
}

Status ValidateObjectPrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  return ValidateSegments("object key prefix", prefix, /*allow_empty_last=*/true);
}

}  // namespace weft::lake
