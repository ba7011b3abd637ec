#include "edge/uplink_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace weft::edge {

std::string UplinkTopic(const std::string& topic, const std::string& edge_id, Priority p) {
  return topic + "/" + edge_id + "/" + std::string(PriorityName(p));
}

UplinkSender::UplinkSender(uplink::DurableQueue* queue, mqtt::Client* client,
                           UplinkSenderOptions options)
    : queue_(queue), client_(client), options_(std::move(options)) {
  for (int c = 0; c < kPriorityCount; ++c) {
    topics_[static_cast<size_t>(c)] =
        UplinkTopic(options_.topic, options_.edge_id, static_cast<Priority>(c));
  }
  client_->SetAckHandler([this](int mid) { OnAck(mid); });
}

UplinkSender::~UplinkSender() {
  Stop();
}

void UplinkSender::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void UplinkSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UplinkSender::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

UplinkSenderStats UplinkSender::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  UplinkSenderStats s = stats_;
  s.inflight = by_mid_.size();
  return s;
}

void UplinkSender::Run() {
  while (true) {
    bool busy = client_->connected() && Fill();
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) return;
    if (!busy) {
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_ || wake_; });
      wake_ = false;
      if (stop_) return;
    }
  }
}

void UplinkSender::Publish(int cls, uint64_t seq, const std::string& bytes) {
  // Called without mu_: the ack may arrive (on the network thread) before PublishWithId returns,
  // so the entry is registered under the lock right after, and an early ack is matched then.
  Result<int> mid = client_->PublishWithId(topics_[static_cast<size_t>(cls)], bytes, 1, false);
  std::lock_guard<std::mutex> lock(mu_);
  InFlight& f = inflight_[static_cast<size_t>(cls)][seq];
  if (!mid.ok()) {
    ++stats_.publish_errors;
    inflight_[static_cast<size_t>(cls)].erase(seq);
    next_seq_[static_cast<size_t>(cls)] = std::min(next_seq_[static_cast<size_t>(cls)], seq);
    return;
  }
  if (f.mid != 0) {
    by_mid_.erase(f.mid);
    ++stats_.resent;
  }
  f.mid = *mid;
  f.sent = std::chrono::steady_clock::now();
  by_mid_[*mid] = {cls, seq};
  ++stats_.published;
  if (early_acks_.erase(*mid) != 0) AckLocked(*mid);
}

void UplinkSender::PublishFloors() {
  const uplink::DurableQueueStats st = queue_->stats();
  bool all = true;
  for (int c = 0; c < kPriorityCount; ++c) {
    const uplink::DurableQueueClassStats& cs = st.classes[static_cast<size_t>(c)];
    if (floors_sent_ && cs.evicted_batches == floor_evictions_[static_cast<size_t>(c)]) continue;
    const std::string topic =
        options_.floor_topic + "/" + std::string(PriorityName(static_cast<Priority>(c)));
    Result<int> mid = client_->PublishWithId(topic, std::to_string(cs.first_live_seq), 1, true);
    if (!mid.ok()) {
      all = false;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ignored_mids_.insert(*mid);
    floor_evictions_[static_cast<size_t>(c)] = cs.evicted_batches;
  }
  floors_sent_ = floors_sent_ || all;
}

bool UplinkSender::Fill() {
  bool any = false;
  if (options_.wait_for_commit) PublishFloors();
  auto now = std::chrono::steady_clock::now();
  // Batches that waited too long for their ack (or, waiting for commits, for their commit) are
  // sent again.
  std::vector<std::pair<int, uint64_t>> resend;
  size_t room = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t out = 0;
    for (int c = 0; c < kPriorityCount; ++c) {
      out += inflight_[static_cast<size_t>(c)].size();
      for (const auto& [seq, f] : inflight_[static_cast<size_t>(c)]) {
        if ((!f.acked || options_.wait_for_commit) && f.mid != 0 &&
            now - f.sent > options_.resend_after) {
          resend.emplace_back(c, seq);
        }
      }
    }
    room = options_.inflight > by_mid_.size() ? options_.inflight - by_mid_.size() : 0;
    if (options_.wait_for_commit) {
      room = std::min<size_t>(room, options_.uncommitted > out ? options_.uncommitted - out : 0);
    }
  }
  for (const auto& [c, seq] : resend) {
    Result<std::vector<uplink::QueuedBatch>> b = queue_->ReadFrom(static_cast<Priority>(c), seq, 1);
    if (b.ok() && !b->empty() && b->front().seq == seq) {
      Publish(c, seq, b->front().bytes);
      any = true;
    }
  }
  for (int c = 0; c < kPriorityCount && room > 0; ++c) {
    uint64_t from;
    {
      std::lock_guard<std::mutex> lock(mu_);
      from = next_seq_[static_cast<size_t>(c)];
    }
    Result<std::vector<uplink::QueuedBatch>> batches =
        queue_->ReadFrom(static_cast<Priority>(c), from, room, size_t{16} << 20);
    if (!batches.ok()) {
      spdlog::warn("uplink: reading the buffer ({}): {}", PriorityName(static_cast<Priority>(c)),
                   batches.status().ToString());
      continue;
    }
    for (const uplink::QueuedBatch& b : *batches) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        next_seq_[static_cast<size_t>(c)] = b.seq + 1;
      }
      Publish(c, b.seq, b.bytes);
      any = true;
      --room;
    }
  }
  return any;
}

void UplinkSender::OnAck(int mid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ignored_mids_.erase(mid) != 0) return;  // a floor announcement
  if (by_mid_.count(mid) == 0) {
    // Either the ack beat PublishWithId's return (Publish matches it), or it is for a
    // publication already superseded by a resend (then it stays here until the set is trimmed).
    if (early_acks_.size() > 4096) early_acks_.clear();
    early_acks_.insert(mid);
    return;
  }
  AckLocked(mid);
}

void UplinkSender::AckLocked(int mid) {
  auto it = by_mid_.find(mid);
  auto [cls, seq] = it->second;
  by_mid_.erase(it);
  auto& flights = inflight_[static_cast<size_t>(cls)];
  auto f = flights.find(seq);
  if (f == flights.end()) return;
  f->second.acked = true;
  ++stats_.acked;
  if (options_.wait_for_commit) return;  // the batch stays until OnCommitted
  // Remove the acknowledged prefix of the class and move the queue's cursor past it.
  uint64_t done = 0;
  while (!flights.empty() && flights.begin()->second.acked) {
    done = flights.begin()->first;
    flights.erase(flights.begin());
  }
  if (done != 0) {
    Status s = queue_->Ack(static_cast<Priority>(cls), done);
    if (!s.ok()) spdlog::warn("uplink: acknowledging batch {}: {}", done, s.ToString());
  }
}

void UplinkSender::OnCommitted(Priority p, uint64_t seq) {
  const auto c = static_cast<size_t>(p);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& flights = inflight_[c];
    if (seq > committed_[c]) {
      // A watermark above what the queue handed out (one from an earlier buffer of this edge id)
      // is refused by Ack: nothing is dropped on its word.
      Status s = queue_->Ack(p, seq);
      if (!s.ok()) {
        spdlog::warn("uplink: the core's commit of {} {}: {}", PriorityName(p), seq, s.ToString());
        return;
      }
      committed_[c] = seq;
      while (!flights.empty() && flights.begin()->first <= seq) {
        const InFlight& f = flights.begin()->second;
        if (f.mid != 0 && !f.acked) by_mid_.erase(f.mid);
        flights.erase(flights.begin());
        ++stats_.committed;
      }
      if (next_seq_[c] <= seq) next_seq_[c] = seq + 1;
      return;
    }
    if (seq < committed_[c]) return;  // an older announcement
    // The same watermark again: the core is missing the batch after it.
    const auto now = std::chrono::steady_clock::now();
    bool any = false;
    for (auto& [s, f] : flights) {
      if (f.mid != 0 && now - f.sent > options_.nack_after) {
        f.sent = {};  // due for a resend at the next round
        any = true;
      }
    }
    if (!any) return;
    wake_ = true;
  }
  cv_.notify_all();
}

}  // namespace weft::edge
