#include "core/audit/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace weft::core::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const TimePoint kStart = TimeFromUnixMicros(1795600800123456);  // 2026-11-25T10:00:00.123456Z

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr), 1);
  std::string out;
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof(hex), "%02x", md[i]);
    out += hex;
  }
  return out;
}

AuditEvent Event(std::string principal, std::string decision = "allow") {
  return AuditEvent{.principal = std::move(principal),
                    .action = "lake.read",
                    .resource = "lake/plant_a/signals",
                    .decision = std::move(decision),
                    .detail = {{"rows", 1200}}};
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = (std::filesystem::temp_directory_path() /
            ("weft_audit_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string LogPath() const { return dir_ + "/audit.log"; }

  std::string ReadFile(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void WriteFile(const std::string& path, const std::string& bytes) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(ReadFile(LogPath()));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  void WriteLines(const std::vector<std::string>& lines) const {
    std::string bytes;
    for (const auto& l : lines) bytes += l + "\n";
    WriteFile(LogPath(), bytes);
  }

  std::unique_ptr<AuditLog> OpenLog() {
    auto log = AuditLog::Open(dir_, &clock_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  // A log of `n` records, closed again.
  void MakeLog(int n) {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    for (int i = 1; i <= n; ++i) {
      auto seq = log->Append(Event("user" + std::to_string(i)));
      ASSERT_TRUE(seq.ok()) << seq.status().ToString();
      ASSERT_EQ(*seq, static_cast<uint64_t>(i));
      clock_.Advance(std::chrono::milliseconds(5));
    }
  }
  VerifyReport Verify() {
    auto report = AuditLog::Verify(dir_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  std::string dir_;
  ManualClock clock_{kStart};
};

TEST_F(AuditLogTest, AppendWritesTheDocumentedFormatAndVerifies) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_seq(), 0u);
  EXPECT_EQ(log->last_hash(), kGenesisHash);
  ASSERT_EQ(log->Append(Event("alice")).value_or(0), 1u);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_EQ(log->Append(Event("bob", "deny")).value_or(0), 2u);

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  // Members in the documented order, compact, as nlohmann::ordered_json dumps them.
  nlohmann::ordered_json expected = {{"seq", 1},
                                     {"ts", "2026-11-25T10:00:00.123456Z"},
                                     {"principal", "alice"},
                                     {"action", "lake.read"},
                                     {"resource", "lake/plant_a/signals"},
                                     {"decision", "allow"},
                                     {"detail", {{"rows", 1200}}},
                                     {"prev", std::string(kGenesisHash)}};
  const std::string canonical = expected.dump();
  const std::string hash1 = Sha256Hex(canonical);
  expected["hash"] = hash1;
  EXPECT_EQ(lines[0], expected.dump());
  // The independent check from the README: hash = sha256(line minus its last 75 bytes + "}").
  EXPECT_EQ(Sha256Hex(lines[0].substr(0, lines[0].size() - 75) + "}"), hash1);

  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["seq"], 2);
  EXPECT_EQ(second["ts"], "2026-11-25T10:00:01.123456Z");
  EXPECT_EQ(second["decision"], "deny");
  EXPECT_EQ(second["prev"], hash1);
  EXPECT_EQ(log->last_hash(), second["hash"]);

  const VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.ToString();
  EXPECT_EQ(report.records, 2u);
  EXPECT_EQ(report.last_seq, 2u);
  EXPECT_EQ(report.last_hash, log->last_hash());
  EXPECT_EQ(report.ToString(),
            "audit log " + dir_ + ": 2 records, chain intact, last seq 2 hash " + log->last_hash());
}

TEST_F(AuditLogTest, ReopenContinuesTheChain) {
  MakeLog(2);
  const auto before = Lines();
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->recovery_warnings().empty());
  EXPECT_EQ(log->last_seq(), 2u);
  ASSERT_EQ(log->Append(Event("carol")).value_or(0), 3u);
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], before[0]);
  EXPECT_EQ(lines[1], before[1]);
  EXPECT_EQ(nlohmann::json::parse(lines[2])["prev"], nlohmann::json::parse(lines[1])["hash"]);
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.ToString();
  EXPECT_EQ(report.records, 3u);
}

TEST_F(AuditLogTest, OneWriterPerDirectory) {
  auto first = OpenLog();
  ASSERT_NE(first, nullptr);
  auto second = AuditLog::Open(dir_, &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  first.reset();
  EXPECT_TRUE(AuditLog::Open(dir_, &clock_).ok());
}

TEST_F(AuditLogTest, ModifiedMiddleRecordIsNamed) {
  MakeLog(5);
  auto lines = Lines();
  const size_t at = lines[2].find("user3");
  ASSERT_NE(at, std::string::npos);
  lines[2][at + 4] = '8';  // "user3" -> "user8": still valid JSON, different bytes
  WriteLines(lines);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.torn_tail);
  EXPECT_EQ(report.first_bad_line, 3u);
  EXPECT_EQ(report.first_bad_seq, 3u);
  EXPECT_EQ(report.records, 2u);
  EXPECT_EQ(report.problem, "line 3: hash mismatch (record was modified)");
  EXPECT_EQ(report.ToString(), "audit log " + dir_ +
                                   ": TAMPERED at line 3: hash mismatch (record was modified); 2 "
                                   "records before it verified");
}

TEST_F(AuditLogTest, ModifiedStoredHashIsNamed) {
  MakeLog(3);
  auto lines = Lines();
  char& c = lines[1][lines[1].size() - 3];  // last hex digit of line 2's hash
  c = c == '0' ? '1' : '0';
  WriteLines(lines);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, "line 2: hash mismatch (record was modified)");
}

TEST_F(AuditLogTest, RecordThatIsNoLongerJsonIsNamed) {
  MakeLog(4);
  auto lines = Lines();
  lines[1][0] = 'X';
  WriteLines(lines);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_line, 2u);
  EXPECT_THAT(report.problem, StartsWith("line 2: not JSON: parse error"));
}

TEST_F(AuditLogTest, EveryChangedByteIsDetected) {
  MakeLog(3);
  const std::string text = ReadFile(LogPath());
  ASSERT_TRUE(VerifyAuditText(text).ok);
  for (size_t i = 0; i < text.size(); ++i) {
    std::string changed = text;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(VerifyAuditText(changed).ok) << "flipped byte " << i;
    std::string removed = text;
    removed.erase(i, 1);
    EXPECT_FALSE(VerifyAuditText(removed).ok) << "removed byte " << i;
  }
}

TEST_F(AuditLogTest, DeletedMiddleLineIsNamed) {
  MakeLog(5);
  auto lines = Lines();
  lines.erase(lines.begin() + 2);
  WriteLines(lines);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_line, 3u);
  EXPECT_EQ(report.first_bad_seq, 4u);
  EXPECT_EQ(report.records, 2u);
  EXPECT_EQ(report.problem,
            "line 3: prev does not match line 2's hash (a record was removed, inserted or "
            "reordered); seq 4 follows 2");
}

TEST_F(AuditLogTest, DeletedFirstLineIsNamed) {
  MakeLog(3);
  auto lines = Lines();
  lines.erase(lines.begin());
  WriteLines(lines);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_line, 1u);
  EXPECT_THAT(report.problem, StartsWith("line 1: prev is not 64 zeros"));
  EXPECT_THAT(report.problem, HasSubstr("seq 2, expected 1"));
}

TEST_F(AuditLogTest, ReorderedLinesAreNamed) {
  MakeLog(5);
  auto lines = Lines();
  std::swap(lines[2], lines[3]);
  WriteLines(lines);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_line, 3u);
  EXPECT_THAT(report.problem, StartsWith("line 3: prev does not match line 2's hash"));
  EXPECT_THAT(report.problem, HasSubstr("seq 4 follows 2"));
}

TEST_F(AuditLogTest, SeqGapWithValidLinksIsNamed) {
  // Hashes and links are right, but the writer skipped a seq.
  auto r1 = FormatAuditRecord(Event("a"), 1, 0, kGenesisHash);
  ASSERT_TRUE(r1.ok());
  auto r2 = FormatAuditRecord(Event("b"), 3, 0, r1->hash);
  ASSERT_TRUE(r2.ok());
  const VerifyReport report = VerifyAuditText(r1->line + r2->line);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, "line 2: seq 3 follows 1");
}

TEST_F(AuditLogTest, MalformedRecordsAreNamed) {
  auto r1 = FormatAuditRecord(Event("a"), 1, 0, kGenesisHash);
  ASSERT_TRUE(r1.ok());
  const auto problem = [&](const std::string& second_line) {
    return VerifyAuditText(r1->line + second_line + "\n").problem;
  };
  EXPECT_EQ(problem(""), "line 2: empty line");
  EXPECT_EQ(problem("[1,2]"), "line 2: not a JSON object but array");
  auto j = nlohmann::json::parse(r1->line);
  j["extra"] = 1;
  EXPECT_EQ(problem(j.dump()), "line 2: unexpected member \"extra\"");
  j = nlohmann::json::parse(r1->line);
  j.erase("prev");
  EXPECT_EQ(problem(j.dump()), "line 2: missing \"prev\"");
  j = nlohmann::json::parse(r1->line);
  j["decision"] = "maybe";
  EXPECT_THAT(problem(j.dump()), StartsWith("line 2: \"decision\" is not one of"));
  j = nlohmann::json::parse(r1->line);
  j["ts"] = "2026-11-25 10:00";
  EXPECT_THAT(problem(j.dump()), StartsWith("line 2: \"ts\" is not a UTC timestamp"));
  j = nlohmann::json::parse(r1->line);
  j["seq"] = -2;
  EXPECT_EQ(problem(j.dump()), "line 2: \"seq\" is not a positive integer");
  // Sorted keys put "hash" before "prev": valid JSON, but not the written form.
  j = nlohmann::json::parse(r1->line);
  EXPECT_THAT(problem(j.dump()), StartsWith("line 2: \"hash\" is not the last member"));
  // Control characters in what is quoted back are escaped.
  EXPECT_THAT(problem("{\"a\\u0001\":1}"), HasSubstr("unexpected member \"a\\x01"));
  EXPECT_THAT(problem("{\"a\x01\":1}"), HasSubstr("last read: '\"a<U+0001>'"));
}

// The seeds were written by a short Python script from the README's description of the format,
// independently of FormatAuditRecord: this verifier accepts them, and names their damage.
TEST_F(AuditLogTest, LogsWrittenByAnotherImplementationVerify) {
  const std::filesystem::path seeds =
      std::filesystem::path(__FILE__).parent_path() / "testdata" / "fuzz_seeds";
  const VerifyReport valid = VerifyAuditText(ReadFile((seeds / "valid_log.jsonl").string()));
  EXPECT_TRUE(valid.ok) << valid.ToString();
  EXPECT_EQ(valid.records, 4u);
  EXPECT_EQ(VerifyAuditText(ReadFile((seeds / "modified_record.jsonl").string())).problem,
            "line 2: hash mismatch (record was modified)");
  EXPECT_THAT(VerifyAuditText(ReadFile((seeds / "removed_record.jsonl").string())).problem,
              StartsWith("line 2: prev does not match line 1's hash"));
  EXPECT_TRUE(VerifyAuditText(ReadFile((seeds / "torn_tail.jsonl").string())).torn_tail);
}

TEST_F(AuditLogTest, ChunkedFeedingGivesTheSameReport) {
  MakeLog(4);
  std::string text = ReadFile(LogPath());
  for (const bool tamper : {false, true}) {
    if (tamper) text[text.size() / 2] ^= 0x02;
    const VerifyReport whole = VerifyAuditText(text);
    ChainVerifier verifier;
    for (const char c : text) verifier.Feed(std::string_view(&c, 1));
    const VerifyReport bytewise = verifier.Finish();
    EXPECT_EQ(bytewise.ok, whole.ok);
    EXPECT_EQ(bytewise.ok, !tamper);
    EXPECT_EQ(bytewise.records, whole.records);
    EXPECT_EQ(bytewise.first_bad_line, whole.first_bad_line);
    EXPECT_EQ(bytewise.problem, whole.problem);
    EXPECT_EQ(bytewise.last_hash, whole.last_hash);
  }
}

TEST_F(AuditLogTest, TornLastLineIsReportedThenRepairedByOpen) {
  MakeLog(3);
  auto fourth = FormatAuditRecord(Event("dave"), 4, 0,
                                  nlohmann::json::parse(Lines()[2])["hash"].get<std::string>());
  ASSERT_TRUE(fourth.ok());
  const std::string half = fourth->line.substr(0, fourth->line.size() / 2);
  WriteFile(LogPath(), ReadFile(LogPath()) + half);  // a crash in the middle of write()

  VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(report.torn_tail);
  EXPECT_EQ(report.records, 3u);
  EXPECT_EQ(report.first_bad_line, 4u);
  EXPECT_THAT(report.problem, StartsWith("line 4: truncated last line ("));
  EXPECT_THAT(report.ToString(), HasSubstr("3 records verified, then INCOMPLETE: line 4"));

  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->recovery_warnings().size(), 1u);
  EXPECT_THAT(log->recovery_warnings()[0], HasSubstr("removed a truncated last line"));
  EXPECT_THAT(ReadFile(dir_ + "/audit.log.torn"), HasSubstr(half));
  EXPECT_EQ(log->last_seq(), 3u);
  ASSERT_EQ(log->Append(Event("erin")).value_or(0), 4u);
  report = Verify();
  EXPECT_TRUE(report.ok) << report.ToString();
  EXPECT_EQ(report.records, 4u);
}

TEST_F(AuditLogTest, DamagedLastCompleteLineIsCutOnce) {
  MakeLog(3);
  // The end of a line persisted without its start: zeros where the page was never written.
  constexpr char kDamaged[] = "{\"seq\":4,\"ts\":\0\0\0\0\"x\"}\n";
  WriteFile(LogPath(), ReadFile(LogPath()) + std::string(kDamaged, sizeof(kDamaged) - 1));
  {
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    ASSERT_EQ(log->recovery_warnings().size(), 1u);
    EXPECT_THAT(log->recovery_warnings()[0], HasSubstr("removed a damaged last line (not JSON"));
    ASSERT_EQ(log->Append(Event("erin")).value_or(0), 4u);
  }
  EXPECT_TRUE(Verify().ok);

  // Two damaged lines at the end are not one interrupted append: a person has to look.
  WriteFile(LogPath(), ReadFile(LogPath()) + "garbage\nmore garbage\n");
  auto log = AuditLog::Open(dir_, &clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(log.status().message(), HasSubstr("move the file aside"));
}

TEST_F(AuditLogTest, ModifiedLastRecordIsKeptAsEvidence) {
  MakeLog(3);
  auto lines = Lines();
  const size_t at = lines[2].find("user3");
  lines[2][at] = 'U';
  WriteLines(lines);
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->recovery_warnings().size(), 1u);
  EXPECT_THAT(log->recovery_warnings()[0], HasSubstr("does not match its hash"));
  ASSERT_EQ(log->Append(Event("erin")).value_or(0), 4u);
  EXPECT_EQ(Lines()[2], lines[2]);
  const VerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, "line 3: hash mismatch (record was modified)");
}

TEST_F(AuditLogTest, ConcurrentAppendsFormOneChain) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto seq = log->Append(Event("thread" + std::to_string(t)));
        if (seq.ok()) seqs[static_cast<size_t>(t)].push_back(*seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& s : seqs) {
    EXPECT_EQ(s.size(), static_cast<size_t>(kPerThread));
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    all.insert(s.begin(), s.end());
  }
  EXPECT_EQ(all.size(), 800u);
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), 800u);
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.ToString();
  EXPECT_EQ(report.records, 800u);
}

TEST_F(AuditLogTest, AppendAllWritesABatchOrNothing) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->Append(Event("a")).value_or(0), 1u);
  const std::vector<AuditEvent> batch = {Event("b"), Event("c", "done"), Event("d", "error")};
  EXPECT_EQ(log->AppendAll(batch).value_or(0), 4u);
  EXPECT_EQ(log->AppendAll({}).value_or(0), 4u);
  const std::string before = ReadFile(LogPath());
  const std::vector<AuditEvent> bad = {Event("e"), Event("f", "maybe")};
  auto result = log->AppendAll(bad);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("event 2 of 2 (none written)"));
  EXPECT_EQ(ReadFile(LogPath()), before);
  EXPECT_EQ(log->last_seq(), 4u);
  EXPECT_EQ(log->Append(Event("g")).value_or(0), 5u);
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.ToString();
  EXPECT_EQ(report.records, 5u);
}

TEST_F(AuditLogTest, MalformedEventsAreRefused) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  AuditEvent e = Event("a", "maybe");
  EXPECT_EQ(log->Append(e).status().code(), StatusCode::kInvalidArgument);
  e = Event("a");
  e.action.clear();
  EXPECT_EQ(log->Append(e).status().code(), StatusCode::kInvalidArgument);
  e = Event("a");
  e.detail = nlohmann::json::array({1, 2});
  EXPECT_THAT(log->Append(e).status().message(), HasSubstr("detail must be a JSON object"));
  e = Event("a");
  e.detail = {{"blob", std::string(kMaxRecordBytes, 'x')}};
  EXPECT_THAT(log->Append(e).status().message(), HasSubstr("more than the limit"));
  e = Event("a");
  nlohmann::json deep = 1;
  for (int i = 0; i < 100; ++i) deep = nlohmann::json::array({deep});
  e.detail = {{"deep", deep}};
  EXPECT_THAT(log->Append(e).status().message(), HasSubstr("nested deeper"));
  EXPECT_EQ(log->last_seq(), 0u);
  EXPECT_EQ(ReadFile(LogPath()), "");
}

TEST_F(AuditLogTest, OddStringsAreWrittenVerifiably) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  AuditEvent e = Event(std::string("bad\xff utf8 \"quoted\"\n\x01 ünïcödé"));
  e.detail = nullptr;  // counts as {}
  ASSERT_TRUE(log->Append(e).ok());
  const auto record = nlohmann::json::parse(Lines().at(0));
  EXPECT_EQ(record["principal"], "bad\xef\xbf\xbd utf8 \"quoted\"\n\x01 ünïcödé");
  EXPECT_EQ(record["detail"], nlohmann::json::object());
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AuditLogTest, SecretKeysAreRecognised) {
  for (const char* key : {"token", "api_key", "X-Auth-Token", "refresh_token", "DB_PASSWORD",
                          "client_secret", "Authorization", "passwd", "privateKey", "Cookie"}) {
    EXPECT_TRUE(IsSecretKey(key)) << key;
  }
  for (const char* key : {"rows", "principal", "key_id", "table", "pass", "user"}) {
    EXPECT_FALSE(IsSecretKey(key)) << key;
  }
}

TEST_F(AuditLogTest, SecretsAreMaskedBeforeWriting) {
  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  AuditEvent e = Event("svc-ingest");
  e.detail = {{"rows", 5},
              {"API_KEY", "sk-live-123456"},
              {"request",
               {{"Password", "hunter2"},
                {"headers", {{{"Authorization", "Bearer abc.def.ghi"}}, {{"accept", "json"}}}}}},
              {"refresh_token", {{"value", "rt-987"}}}};
  ASSERT_TRUE(log->Append(e).ok());
  const std::string text = ReadFile(LogPath());
  for (const char* secret : {"sk-live-123456", "hunter2", "abc.def.ghi", "rt-987"}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(secret)));
  }
  const auto detail = nlohmann::json::parse(Lines().at(0))["detail"];
  EXPECT_EQ(detail["rows"], 5);
  EXPECT_EQ(detail["API_KEY"], "***");
  EXPECT_EQ(detail["request"]["Password"], "***");
  EXPECT_EQ(detail["request"]["headers"][0]["Authorization"], "***");
  EXPECT_EQ(detail["request"]["headers"][1]["accept"], "json");
  EXPECT_EQ(detail["refresh_token"], "***");
  EXPECT_EQ(RedactSecrets({{"token", 1}}), nlohmann::json({{"token", "***"}}));
}

TEST_F(AuditLogTest, VerifyOfEmptyAndMissingLogs) {
  auto missing = AuditLog::Verify(dir_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_NE(OpenLog(), nullptr);
  const VerifyReport report = Verify();
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.records, 0u);
  EXPECT_EQ(report.ToString(), "audit log " + dir_ + ": 0 records, chain intact");
}

TEST_F(AuditLogTest, OverlongLineIsReportedNotBuffered) {
  ChainVerifier verifier;
  const std::string chunk(size_t{64} * 1024, 'x');
  bool more = true;
  for (size_t fed = 0; more && fed <= kMaxRecordBytes + chunk.size(); fed += chunk.size()) {
    more = verifier.Feed(chunk);
  }
  EXPECT_FALSE(more);
  const VerifyReport report = verifier.Finish();
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problem, StartsWith("line 1: longer than 1048576 bytes"));
}

}  // namespace
}  // namespace weft::core::audit
