#include "lake/storage/local_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/test_env.h"

namespace weft::lake {
namespace {

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = weft::testing::TempDir::Make();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_.emplace(std::move(*dir));
    auto store = LocalObjectStore::Open(dir_->path() + "/table");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  std::optional<weft::testing::TempDir> dir_;
  std::unique_ptr<LocalObjectStore> store_;
};

std::vector<std::string> Keys(const std::vector<ObjectInfo>& infos) {
  std::vector<std::string> keys;
  for (const ObjectInfo& info : infos) keys.push_back(info.key);
  return keys;
}

TEST_F(LocalStoreTest, PutGetHeadDelete) {
  ASSERT_TRUE(store_->Put("a/b/c.bin", "hello world").ok());
  auto data = store_->Get("a/b/c.bin");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello world");

  auto info = store_->Head("a/b/c.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->key, "a/b/c.bin");
  EXPECT_EQ(info->size, 11u);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_NEAR(static_cast<double>(info->modified_ms), static_cast<double>(now_ms), 60000.0);

  ASSERT_TRUE(store_->Put("a/b/c.bin", "replaced").ok());
  EXPECT_EQ(store_->Get("a/b/c.bin").value(), "replaced");

  ASSERT_TRUE(store_->Delete("a/b/c.bin").ok());
  EXPECT_EQ(store_->Get("a/b/c.bin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Head("a/b/c.bin").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("a/b/c.bin").ok()) << "Delete is idempotent";
  EXPECT_TRUE(store_->Delete("never/was").ok());
}

TEST_F(LocalStoreTest, EmptyObjectsAndBinaryData) {
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(store_->Get("empty").value(), "");
  EXPECT_EQ(store_->Head("empty")->size, 0u);
  std::string binary("\0\1\2\xff", 4);
  ASSERT_TRUE(store_->Put("bin", binary).ok());
  EXPECT_EQ(store_->Get("bin").value(), binary);
}

TEST_F(LocalStoreTest, GetRange) {
  ASSERT_TRUE(store_->Put("r", "0123456789").ok());
  EXPECT_EQ(store_->GetRange("r", 0, 3).value(), "012");
  EXPECT_EQ(store_->GetRange("r", 7, 100).value(), "789");
  EXPECT_EQ(store_->GetRange("r", 10, 5).value(), "");
  EXPECT_EQ(store_->GetRange("r", 50, 5).value(), "");
  EXPECT_EQ(store_->GetRange("r", 2, 0).value(), "");
  EXPECT_EQ(store_->GetRange("r", 3, UINT64_MAX).value(), "3456789");
  EXPECT_EQ(store_->GetRange("missing", 0, 1).status().code(), StatusCode::kNotFound);
}

TEST_F(LocalStoreTest, ListIsRecursiveSortedAndPrefixFiltered) {
  for (const char* key :
       {"b/2", "a/1", "_delta_log/00000000000000000001.json",
        "_delta_log/00000000000000000000.json", "_delta_log/_last_checkpoint", "a/b/c/d", "ab"}) {
    ASSERT_TRUE(store_->Put(key, key).ok()) << key;
  }
  // Stray temporary files (e.g. from a crashed writer) are never listed.
  std::ofstream(store_->root() + "/a/.weft-tmp-123-0-42") << "partial";

  auto all = store_->List("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Keys(*all),
            (std::vector<std::string>{
                "_delta_log/00000000000000000000.json", "_delta_log/00000000000000000001.json",
                "_delta_log/_last_checkpoint", "a/1", "a/b/c/d", "ab", "b/2"}));
  EXPECT_EQ((*all)[0].size, std::string("_delta_log/00000000000000000000.json").size());

  EXPECT_EQ(Keys(store_->List("_delta_log/0000").value()),
            (std::vector<std::string>{"_delta_log/00000000000000000000.json",
                                      "_delta_log/00000000000000000001.json"}));
  EXPECT_EQ(Keys(store_->List("a").value()), (std::vector<std::string>{"a/1", "a/b/c/d", "ab"}));
  EXPECT_EQ(Keys(store_->List("a/").value()), (std::vector<std::string>{"a/1", "a/b/c/d"}));
  EXPECT_EQ(Keys(store_->List("a/b/c/d").value()), (std::vector<std::string>{"a/b/c/d"}));
  EXPECT_TRUE(store_->List("nothing/here/").value().empty());
  EXPECT_TRUE(store_->List("zzz").value().empty());
  EXPECT_EQ(store_->List("../").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalStoreTest, InvalidKeysAreRefusedEverywhere) {
  for (std::string_view key : {"", "/etc/passwd", "../escape", "a//b", "a/"}) {
    EXPECT_EQ(store_->Put(key, "x").code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->PutIfAbsent(key, "x").code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Get(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Head(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Delete(key).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_->path() + "/escape"));
}

TEST_F(LocalStoreTest, PutIfAbsentCreatesOnceAndKeepsTheFirstObject) {
  ASSERT_TRUE(store_->PutIfAbsent("_delta_log/0.json", "first").ok());
  Status second = store_->PutIfAbsent("_delta_log/0.json", "second");
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.message().find(store_->Describe("_delta_log/0.json")), std::string::npos)
      << second.message();
  EXPECT_EQ(store_->Get("_delta_log/0.json").value(), "first");
  // No temporary files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(store_->root() + "/_delta_log"),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(LocalStoreTest, ErrorsNameThePathAndCause) {
  ASSERT_TRUE(store_->Put("file", "x").ok());
  // "file" is a file, so "file/child" cannot be created under it.
  Status status = store_->Put("file/child", "y");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(store_->root() + "/file"), std::string::npos) << status.message();
  EXPECT_EQ(store_->Get("file/child").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalStoreTest, ReadOnlyDirectoryGivesPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  ASSERT_TRUE(store_->Put("ro/x", "x").ok());
  ASSERT_EQ(::chmod((store_->root() + "/ro").c_str(), 0555), 0);
  Status status = store_->Put("ro/y", "y");
  ::chmod((store_->root() + "/ro").c_str(), 0755);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
}

TEST_F(LocalStoreTest, OpenRefusesAFileAsRoot) {
  ASSERT_TRUE(store_->Put("plain", "x").ok());
  auto store = LocalObjectStore::Open(store_->root() + "/plain");
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_EQ(LocalObjectStore::Open(dir_->path() + "/absent", {.sync = true, .create_root = false})
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(LocalStoreTest, ConcurrentPutIfAbsentThreadsExactlyOneWins) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    std::string key = "_delta_log/" + std::to_string(round) + ".json";
    std::atomic<int> wins{0};
    std::atomic<int> lost{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        Status status = store_->PutIfAbsent(key, "writer " + std::to_string(t));
        if (status.ok()) {
          ++wins;
        } else if (status.code() == StatusCode::kAlreadyExists) {
          ++lost;
        }
      });
    }
    go = true;
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wins.load(), 1) << key;
    EXPECT_EQ(lost.load(), kThreads - 1) << key;
    EXPECT_EQ(store_->Get(key).value().rfind("writer ", 0), 0u);
  }
  EXPECT_EQ(store_->List("_delta_log/").value().size(), static_cast<size_t>(kRounds));
}

TEST_F(LocalStoreTest, ConcurrentPutIfAbsentProcessesExactlyOneWins) {
  constexpr int kProcesses = 6;
  constexpr int kRounds = 5;
  const std::string start_flag = dir_->path() + "/go";
  for (int round = 0; round < kRounds; ++round) {
    std::string key = "_delta_log/p" + std::to_string(round) + ".json";
    ::unlink(start_flag.c_str());
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
      pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        // Child: its own store on the same directory, as another process would have.
        auto store = LocalObjectStore::Open(store_->root());
        if (!store.ok()) ::_exit(3);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (::access(start_flag.c_str(), F_OK) != 0) {
          if (std::chrono::steady_clock::now() > deadline) ::_exit(4);
        }
        Status status = (*store)->PutIfAbsent(key, "process " + std::to_string(p));
        ::_exit(status.ok() ? 0 : status.code() == StatusCode::kAlreadyExists ? 1 : 2);
      }
      children.push_back(pid);
    }
    std::ofstream(start_flag) << "go";
    int wins = 0;
    int lost = 0;
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      ASSERT_TRUE(WIFEXITED(status));
      if (WEXITSTATUS(status) == 0) ++wins;
      if (WEXITSTATUS(status) == 1) ++lost;
    }
    EXPECT_EQ(wins, 1) << key;
    EXPECT_EQ(lost, kProcesses - 1) << key;
    EXPECT_EQ(store_->Get(key).value().rfind("process ", 0), 0u);
  }
}

TEST_F(LocalStoreTest, ConcurrentPutNeverShowsAPartialObject) {
  const std::string a(size_t{256} * 1024, 'a');
  const std::string b(size_t{512} * 1024, 'b');
  ASSERT_TRUE(store_->Put("hot", a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> write_errors{0};
  std::thread writer([&] {
    for (int i = 0; i < 50 && !stop; ++i) {
      if (!store_->Put("hot", i % 2 == 0 ? b : a).ok()) ++write_errors;
    }
    stop = true;
  });
  int reads = 0;
  std::string problem;
  while (!stop && problem.empty()) {
    auto data = store_->Get("hot");
    if (!data.ok()) {
      problem = data.status().ToString();
    } else if (*data != a && *data != b) {
      problem = "partial object of " + std::to_string(data->size()) + " bytes";
    }
    ++reads;
  }
  stop = true;
  writer.join();
  EXPECT_EQ(problem, "");
  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace weft::lake
