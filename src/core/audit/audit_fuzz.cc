// libFuzzer target for the audit log's verifier and canonical writer. Whatever the bytes:
//   1. Verifying them never crashes, leaks or trips a sanitizer, and gives the same report
//      whether the bytes come in one piece or in chunks; an ok report counts every line.
//   2. A valid three-record log with one byte replaced, removed or inserted (where and which
//      chosen by the input) never verifies: every byte of a log is covered by the chain.
//   3. An event made of the input (principal, resource, detail parsed as JSON), if the writer
//      accepts it, gives a line that verifies.
// Built with -DWEFT_FUZZ=ON (clang).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/audit/audit_log.h"

namespace {

using weft::core::audit::AuditEvent;
using weft::core::audit::ChainVerifier;
using weft::core::audit::FormatAuditRecord;
using weft::core::audit::kGenesisHash;
using weft::core::audit::VerifyAuditText;
using weft::core::audit::VerifyReport;

bool SameReport(const VerifyReport& a, const VerifyReport& b) {
  return a.ok == b.ok && a.torn_tail == b.torn_tail && a.records == b.records &&
         a.first_bad_line == b.first_bad_line && a.first_bad_seq == b.first_bad_seq &&
         a.problem == b.problem && a.last_seq == b.last_seq && a.last_hash == b.last_hash;
}

std::string ValidLog() {
  std::string text;
  std::string prev(kGenesisHash);
  const AuditEvent events[] = {
      {"alice", "lake.read", "lake/plant_a/signals", "allow", {{"rows", 12}}},
      {"bob", "registry.grant", "role/operator", "deny", {{"why", "no grant"}, {"n", 1.5}}},
      {"svc-ingest", "ingest.commit", "edge/e1/stream/2", "done", {{"seq", {1, 2, 3}}}}};
  uint64_t seq = 0;
  for (const AuditEvent& e : events) {
    auto record = FormatAuditRecord(e, ++seq, 1795600800123456, prev);
    if (!record.ok()) std::abort();
    text += record->line;
    prev = record->hash;
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // 1. Arbitrary bytes.
  const VerifyReport whole = VerifyAuditText(text);
  if (whole.ok &&
      whole.records != static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'))) {
    std::abort();
  }
  if (whole.ok && !text.empty() && text.back() != '\n') std::abort();
  const size_t step = size == 0 ? 1 : 1 + data[0] % 61;
  ChainVerifier chunked;
  for (size_t at = 0; at < size; at += step) chunked.Feed(text.substr(at, step));
  if (!SameReport(whole, chunked.Finish())) std::abort();

  // 2. One change to a valid log.
  static const std::string kValid = ValidLog();
  if (!VerifyAuditText(kValid).ok) std::abort();
  if (size >= 4) {
    const size_t pos = (size_t{data[0]} | size_t{data[1]} << 8) % (kValid.size() + 1);
    const char byte = static_cast<char>(data[3]);
    std::string changed = kValid;
    switch (data[2] % 3) {
      case 0:
        if (pos < changed.size()) changed[pos] = byte;
        break;
      case 1:
        if (pos < changed.size()) changed.erase(pos, 1);
        break;
      default: changed.insert(pos, 1, byte); break;
    }
    if (changed != kValid && VerifyAuditText(changed).ok) std::abort();
  }

  // 3. The writer's output always verifies.
  const size_t third = size / 3;
  AuditEvent event{std::string(text.substr(0, third)), "fuzz.act",
                   std::string(text.substr(third, third)), "error", nullptr};
  event.detail = nlohmann::json::parse(text.substr(2 * third), nullptr, /*allow_exceptions=*/false);
  if (event.detail.is_discarded()) event.detail = nullptr;
  const int64_t ts = size >= 8 ? static_cast<int64_t>(data[4]) << 40 | int64_t{data[5]} << 24 : 0;
  auto record = FormatAuditRecord(event, 1, ts, kGenesisHash);
  if (record.ok()) {
    const VerifyReport report = VerifyAuditText(record->line);
    if (!report.ok || report.last_hash != record->hash) std::abort();
  }
  return 0;
}
