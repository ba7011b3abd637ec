#include "core/web/static_files.h"

#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace weft::core::web {
namespace {

namespace fs = std::filesystem;

// The dashboard is served from the API's own origin and loads nothing from elsewhere; inline
// styles are allowed for the chart library's positioning (uPlot sets style attributes).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

//! Whether `p` (canonical) is `root` (canonical) or below it.
bool Within(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

}  // namespace

Result<fs::path> ResolveStaticPath(const fs::path& root, std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') {
    return InvalidArgumentError("static path '" + std::string(url_path.substr(0, 64)) +
                                "' does not start with '/'");
  }
  for (char c : url_path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgumentError("static path holds a control character");
    }
    if (c == '\\') return InvalidArgumentError("static path holds a backslash");
  }
  std::string_view rest = url_path.substr(1);
  if (rest.empty()) return root / "index.html";
  fs::path out = root;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgumentError("static path has an empty, '.' or '..' segment");
    }
    out /= std::string(segment);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

std::string_view ContentTypeOf(const fs::path& file) {
  std::string ext = file.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

Result<StaticSite> StaticSite::Open(const fs::path& root, size_t max_file_bytes) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return NotFoundError("web root " + root.string() +
                         " is not a directory (build the dashboard: cd web && npm ci && npm run "
                         "build, or the CMake target weft_web)");
  }
  if (!fs::is_regular_file(canonical / "index.html", ec)) {
    return NotFoundError("web root " + root.string() +
                         " has no index.html (build the dashboard: "
                         "cd web && npm ci && npm run build)");
  }
  return StaticSite(canonical, max_file_bytes);
}

api::Reply StaticSite::FileReply(const fs::path& file) const {
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) return api::ErrorReply(404, "not_found", "no such file");
  if (size > max_file_bytes_) {
    return api::ErrorReply(500, "internal",
                           "static file " + file.filename().string() + " is larger than " +
                               std::to_string(max_file_bytes_) + " bytes");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in.good() && !in.eof()) return api::ErrorReply(404, "not_found", "no such file");
  api::Reply r{200, std::move(body).str(), std::string(ContentTypeOf(file)), {}};
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

api::Reply StaticSite::Serve(std::string_view url_path) const {
  Result<fs::path> wanted = ResolveStaticPath(root_, url_path);
  if (!wanted.ok()) return api::ErrorReply(400, "invalid_argument", wanted.status().message());
  std::error_code ec;
  const fs::path real = fs::canonical(*wanted, ec);
  if (!ec) {
    // Symlinks are followed; whatever they point to must still be under the root.
    if (!Within(root_, real) || !fs::is_regular_file(real, ec)) {
      return api::ErrorReply(404, "not_found", "no such file");
    }
    return FileReply(real);
  }
  // Missing: a client-side route (no extension in its last segment) gets the app itself.
  if (!wanted->filename().has_extension()) return FileReply(root_ / "index.html");
  return api::ErrorReply(404, "not_found", "no such file");
}

}  // namespace weft::core::web
