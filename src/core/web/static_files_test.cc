#include "core/web/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/test_env.h"

namespace weft::core::web {
namespace {

namespace fs = std::filesystem;

std::string Header(const api::Reply& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(ResolveStaticPathTest, MapsPlainPathsUnderTheRoot) {
  const fs::path root = "/srv/web";
  EXPECT_EQ(*ResolveStaticPath(root, "/"), root / "index.html");
  EXPECT_EQ(*ResolveStaticPath(root, "/index.html"), root / "index.html");
  EXPECT_EQ(*ResolveStaticPath(root, "/assets/app-1a2b.js"), root / "assets" / "app-1a2b.js");
  // Names that merely contain dots are names.
  EXPECT_EQ(*ResolveStaticPath(root, "/a..b/.well-known"), root / "a..b" / ".well-known");
}

TEST(ResolveStaticPathTest, RefusesTraversalAndOddPathsBeforeTouchingTheDisk) {
  const fs::path root = "/srv/web";
  for (const char* bad :
       {"", "index.html", "/..", "/../etc/passwd", "/assets/../../etc/passwd", "/./index.html",
        "/assets//x.js", "/assets/", "/a\\..\\b", "/x\nHost: evil", "/\x7f"}) {
    Result<fs::path> r = ResolveStaticPath(root, bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << "path: " << bad;
  }
  // The embedded NUL (std::string_view keeps it).
  EXPECT_FALSE(ResolveStaticPath(root, std::string_view("/a\0b", 4)).ok());
}

TEST(ContentTypeTest, ByExtension) {
  EXPECT_EQ(ContentTypeOf("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("a/app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("logo.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeOf("app.js.map"), "application/json");
  EXPECT_EQ(ContentTypeOf("blob"), "application/octet-stream");
}

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(dir).value());
    root_ = fs::path(dir_->path()) / "web";
    fs::create_directories(root_ / "assets");
    std::ofstream(root_ / "index.html") << "<!doctype html><title>weft</title>";
    std::ofstream(root_ / "assets" / "app.js") << "console.log(1)";
    std::ofstream(fs::path(dir_->path()) / "secret.txt") << "top secret";
  }
  std::optional<weft::testing::TempDir> dir_;
  fs::path root_;
};

TEST_F(StaticSiteTest, ServesFilesWithTheirTypeAndTheAppForClientRoutes) {
  Result<StaticSite> site = StaticSite::Open(root_);
  ASSERT_TRUE(site.ok()) << site.status().ToString();
  api::Reply index = site->Serve("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>weft</title>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(Header(index, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  api::Reply js = site->Serve("/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  // A client-side route (no extension) is the app; a missing file with an extension is a 404.
  api::Reply route = site->Serve("/asset/l1-mo-01");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, index.body);
  EXPECT_EQ(site->Serve("/assets/missing.js").status, 404);
  // A directory is not a file.
  EXPECT_EQ(site->Serve("/assets").status, 404);
}

TEST_F(StaticSiteTest, NeverServesAFileOutsideTheRoot) {
  Result<StaticSite> site = StaticSite::Open(root_);
  ASSERT_TRUE(site.ok());
  api::Reply up = site->Serve("/../secret.txt");
  EXPECT_EQ(up.status, 400);
  EXPECT_EQ(up.body.find("top secret"), std::string::npos);
  // A symlink inside the root that points out of it.
  fs::create_symlink(fs::path(dir_->path()) / "secret.txt", root_ / "leak.txt");
  api::Reply leak = site->Serve("/leak.txt");
  EXPECT_EQ(leak.status, 404);
  EXPECT_EQ(leak.body.find("top secret"), std::string::npos);
  fs::create_directory_symlink(fs::path(dir_->path()), root_ / "up");
  EXPECT_EQ(site->Serve("/up/secret.txt").status, 404);
}

TEST_F(StaticSiteTest, OpenNeedsADirectoryWithIndexHtml) {
  EXPECT_EQ(StaticSite::Open(root_ / "missing").status().code(), StatusCode::kNotFound);
  fs::remove(root_ / "index.html");
  Result<StaticSite> none = StaticSite::Open(root_);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("npm run build"), std::string::npos);
}

TEST_F(StaticSiteTest, RefusesFilesOverTheSizeLimit) {
  Result<StaticSite> site = StaticSite::Open(root_, /*max_file_bytes=*/10);
  ASSERT_TRUE(site.ok());
  // app.js holds 14 bytes ("console.log(1)"), over the 10-byte limit; index.html 34.
  EXPECT_EQ(site->Serve("/assets/app.js").status, 500);
}

}  // namespace
}  // namespace weft::core::web
