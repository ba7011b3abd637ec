#include "core/ingest/sequencer.h"

#include <algorithm>

namespace weft::core {

void StreamSequencer::SetCommitted(const std::string& app, uint64_t seq) {
  Stream& s = streams_[app];
  s.committed = std::max(s.committed, seq);
  s.next = std::max(s.next, seq + 1);
  // Held batches at or below the new watermark are duplicates now.
  while (!s.held.empty() && s.held.begin()->first < s.next) s.held.erase(s.held.begin());
}

void StreamSequencer::MarkCommitted(const std::string& app, uint64_t seq) {
  SetCommitted(app, seq);
}

void StreamSequencer::SetFloor(const std::string& app, uint64_t floor,
                               std::vector<Incoming>* ready) {
  Stream& s = streams_[app];
  s.floor = std::max(s.floor, floor);
  while (!s.held.empty() && s.held.begin()->first < s.Expected()) s.held.erase(s.held.begin());
  Drain(s, ready);
}

StreamSequencer::Verdict StreamSequencer::Offer(Incoming batch, std::vector<Incoming>* ready) {
  Stream& s = streams_[batch.app];
  const uint64_t expected = s.Expected();
  if (batch.seq < expected) return Verdict::kDuplicate;
  if (batch.seq > expected) {
    if (s.held.count(batch.seq) != 0) return Verdict::kDuplicate;
    if (s.held.size() >= max_held_) {
      // Keep the ones closest to the gap: they are needed first.
      if (batch.seq > s.held.rbegin()->first) return Verdict::kDropped;
      s.held.erase(std::prev(s.held.end()));
    }
    const uint64_t seq = batch.seq;
    s.held.emplace(seq, std::move(batch));
    return Verdict::kHeld;
  }
  s.next = batch.seq + 1;
  ready->push_back(std::move(batch));
  Drain(s, ready);
  return Verdict::kReady;
}

void StreamSequencer::Drain(Stream& s, std::vector<Incoming>* ready) {
  while (!s.held.empty() && s.held.begin()->first == s.Expected()) {
    s.next = s.held.begin()->first + 1;
    ready->push_back(std::move(s.held.begin()->second));
    s.held.erase(s.held.begin());
  }
}

uint64_t StreamSequencer::committed(const std::string& app) const {
  auto it = streams_.find(app);
  return it == streams_.end() ? 0 : it->second.committed;
}

uint64_t StreamSequencer::expected(const std::string& app) const {
  auto it = streams_.find(app);
  return it == streams_.end() ? 1 : it->second.Expected();
}

size_t StreamSequencer::held(const std::string& app) const {
  auto it = streams_.find(app);
  return it == streams_.end() ? 0 : it->second.held.size();
}

std::map<std::string, uint64_t> StreamSequencer::CommittedAll() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [app, s] : streams_) out[app] = s.committed;
  return out;
}

}  // namespace weft::core
