// StaticSite: the dashboard's built files (web/, built by Vite) served by weft-core at "/".
//
//   WEFT_ASSIGN_OR_RETURN(StaticSite site, StaticSite::Open("/opt/weft/web"));
//   api::Reply r = site.Serve("/assets/index-3f2a.js");   // 200, text/javascript
//   site.Serve("/asset/l1-mo-01");  // no such file, no extension: index.html (client routes)
//   site.Serve("/../etc/passwd");   // 400: never a file outside the root
//
// Contracts:
// - `url_path` is the request's decoded path (cpp-httplib decodes %xx). Each segment must be a
//   plain name: "", ".", "..", a backslash, a NUL or another control character anywhere is
//   refused (400) before the file system is touched. The resolved file must also lie under the
//   root after symlinks are followed (a symlink out of the root is a 404).
// - "/" and "/index.html" serve index.html. A missing path whose last segment has no '.' (a
//   client-side route such as "/asset/l1-mo-01") serves index.html too; a missing file with an
//   extension is a 404, so a missing script is not answered with HTML.
// - Content types by extension (ContentTypeOf); files over `max_file_bytes` are refused (500
//   naming the file) rather than read into memory.
// - Replies carry a Content-Security-Policy that allows only the site's own scripts, styles
//   and connections (the dashboard calls the API on the same origin).
//
// Thread-safety: a StaticSite is immutable after Open; Serve reads the file on each call and may
// run on many threads at once.
#ifndef WEFT_CORE_WEB_STATIC_FILES_H_
#define WEFT_CORE_WEB_STATIC_FILES_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"
#include "core/api/route.h"

namespace weft::core::web {

//! The file under `root` that `url_path` names, without touching the file system:
//! InvalidArgument (naming the problem) for a path that is not absolute, has an empty, "." or
//! ".." segment, a backslash or a control character. "/" names "index.html".
Result<std::filesystem::path> ResolveStaticPath(const std::filesystem::path& root,
                                                std::string_view url_path);

//! "text/html; charset=utf-8" for .html, "text/javascript; charset=utf-8" for .js/.mjs, ...;
//! "application/octet-stream" for an unknown extension.
std::string_view ContentTypeOf(const std::filesystem::path& file);

class StaticSite {
 public:
  //! NotFound when `root` is not a directory holding index.html (the message says how to build
  //! it: npm ci && npm run build in web/).
  static Result<StaticSite> Open(const std::filesystem::path& root,
                                 size_t max_file_bytes = size_t{16} << 20);

  //! The reply to GET `url_path` (see the file comment).
  api::Reply Serve(std::string_view url_path) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  StaticSite(std::filesystem::path root, size_t max_file_bytes)
      : root_(std::move(root)), max_file_bytes_(max_file_bytes) {}
  //! 200 with the file's bytes, or an error reply.
  api::Reply FileReply(const std::filesystem::path& file) const;

  std::filesystem::path root_;  //!< canonical
  size_t max_file_bytes_;
};

}  // namespace weft::core::web

#endif  // WEFT_CORE_WEB_STATIC_FILES_H_
