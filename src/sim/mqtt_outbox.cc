#include "sim/mqtt_outbox.h"

namespace weft::sim {
namespace {

using std::chrono::milliseconds;

// The thread polls at least this often when idle (acks, commands, keepalive) ...
constexpr milliseconds kIdlePoll{100};
// ... and after this many messages when busy.
constexpr uint64_t kMessagesPerPoll = 256;
// Messages libmosquitto may hold unwritten (the socket is full) before the thread waits for the
// network: the broker's pace reaches the producer through the ring, and memory stays bounded.
// QoS 1 messages count until their PUBACK, so this must stay well above libmosquitto's in-flight
// window (1000): at 64, QoS 1 publishing ran at the pace of round trips (5x slower, measured).
constexpr uint64_t kMaxUnwritten = 4096;
// Flush() hands a batch over once it holds this many messages or bytes, or once this much real
// time passed since the last hand-over. Waking the thread costs about as much as publishing a
// message: a generator far faster than real time hands over a batch per many ticks, a real-time
// one every tick.
constexpr size_t kBatchMessages = 64;
constexpr size_t kBatchBytes = size_t{64} << 10;
constexpr std::chrono::microseconds kBatchAge{1000};

}  // namespace

MqttOutbox::MqttOutbox(Connection connection, bool reconnect, std::unique_ptr<mqtt::Client> client)
    : connection_(std::move(connection)), reconnect_(reconnect), client_(std::move(client)) {}

Result<std::unique_ptr<mqtt::Client>> MqttOutbox::Connect(const Connection& c,
                                                          const mqtt::ClientOptions& options) {
  mqtt::ClientOptions o = options;
  o.network_thread = false;  // this outbox's thread drives the network
  WEFT_ASSIGN_OR_RETURN(auto client, mqtt::Client::Connect(c.broker, o, std::chrono::seconds(10)));
  if (c.handler) client->SetMessageHandler(c.handler);
  for (const auto& [pattern, qos] : c.subscriptions) {
    WEFT_RETURN_IF_ERROR(client->Subscribe(pattern, qos));
  }
  return client;
}

Result<std::unique_ptr<MqttOutbox>> MqttOutbox::Start(Connection connection, bool reconnect) {
  WEFT_ASSIGN_OR_RETURN(auto client, Connect(connection, connection.options));
  std::unique_ptr<MqttOutbox> o(
      new MqttOutbox(std::move(connection), reconnect, std::move(client)));
  o->thread_ = std::thread([raw = o.get()] { raw->Loop(); });
  return o;
}

MqttOutbox::~MqttOutbox() {
  if (thread_.joinable()) {
    abandon_.store(true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_.store(true);
    }
    cv_.notify_all();
    thread_.join();
  }
}

void MqttOutbox::Add(std::string_view topic, std::string_view payload, int qos, bool retain) {
  Batch& b = batches_[head_local_ % kBatches];
  auto it = topic_ids_.find(topic);
  uint32_t id;
  if (it != topic_ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<uint32_t>(topic_ids_.size());
    topic_ids_.emplace(std::string(topic), id);
    b.new_topics.emplace_back(topic);
  }
  Entry e;
  e.qos = static_cast<uint8_t>(qos);
  e.retain = retain;
  e.topic = id;
  e.payload_offset = b.payloads.size();
  e.payload_size = payload.size();
  b.payloads.append(payload);
  b.entries.push_back(e);
}

void MqttOutbox::Reconnect(mqtt::ClientOptions options) {
  Batch& b = batches_[head_local_ % kBatches];
  Entry e;
  e.kind = Entry::Kind::kReconnect;
  e.topic = static_cast<uint32_t>(b.reconnects.size());
  b.reconnects.push_back(std::move(options));
  b.entries.push_back(e);
}

Status MqttOutbox::Flush() {
  return Flush(false);
}

Status MqttOutbox::Flush(bool force) {
  const Batch& b = batches_[head_local_ % kBatches];
  bool hand_over = !b.entries.empty();
  if (hand_over && !force && b.reconnects.empty() && b.entries.size() < kBatchMessages &&
      b.payloads.size() < kBatchBytes) {
    auto now = std::chrono::steady_clock::now();
    hand_over = now - last_hand_over_ >= kBatchAge;
  }
  if (hand_over) {
    last_hand_over_ = std::chrono::steady_clock::now();
    head_.store(++head_local_);
    if (consumer_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    // The next batch must be free before Add() writes into it.
    if (head_local_ - tail_.load() >= kBatches) {
      std::unique_lock<std::mutex> lock(mu_);
      producer_waiting_.store(true);
      while (head_local_ - tail_.load() >= kBatches) cv_.wait_for(lock, milliseconds(5));
      producer_waiting_.store(false);
    }
  }
  if (!failed_.load()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

Status MqttOutbox::Close(std::chrono::milliseconds timeout) {
  Status st = Flush(/*force=*/true);
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_.store(true);
    }
    cv_.notify_all();
    thread_.join();
  }
  // The thread is gone: the client is ours.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
  }
  if (!st.ok()) return st;
  if (client_ == nullptr || dropping_) return Status::Ok();  // nothing more can be sent
  return client_->WaitForAcks(timeout);
}

void MqttOutbox::SetError(Status st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok()) error_ = std::move(st);
  failed_.store(true);
}

void MqttOutbox::Poll() {
  since_poll_ = 0;
  if (client_ == nullptr || dropping_) return;
  client_->Poll(milliseconds(0));
  // Too much written into libmosquitto that the socket did not take yet: wait for the network
  // (on_publish counts QoS 0 messages as they are written, QoS 1/2 ones as they are acked).
  while (client_->connected() && client_->published() - client_->acked() > kMaxUnwritten &&
         !abandon_.load()) {
    client_->Poll(milliseconds(10));
  }
  if (client_->connected()) return;
  dropping_ = true;
  if (reconnect_) {
    lost_.store(true);
  } else {
    SetError(UnavailableError("lost the connection to " + connection_.broker.ToString()));
  }
}

void MqttOutbox::Publish(const Batch& batch) {
  for (const std::string& t : batch.new_topics) topics_.push_back(t);
  for (const Entry& e : batch.entries) {
    if (abandon_.load()) return;
    if (e.kind == Entry::Kind::kReconnect) {
      client_.reset();  // the old session ends (DISCONNECT if it still can)
      auto c = Connect(connection_, batch.reconnects[e.topic]);
      if (!c.ok()) {
        SetError(c.status());
        dropping_ = true;
        continue;
      }
      client_ = std::move(*c);
      dropping_ = false;
      continue;
    }
    if (dropping_ || failed_.load()) continue;
    std::string_view payload(batch.payloads.data() + e.payload_offset, e.payload_size);
    Status st = client_->Publish(topics_[e.topic], payload, e.qos, e.retain);
    if (st.ok()) {
      published_.fetch_add(1, std::memory_order_relaxed);
      if (++since_poll_ >= kMessagesPerPoll) Poll();
    } else if (client_->connected()) {
      SetError(st);
    } else {
      Poll();  // the connection is gone: lost or an error, as the mode says
    }
  }
}

void MqttOutbox::Loop() {
  uint64_t tail = 0;
  for (;;) {
    const bool closing = closing_.load();
    const uint64_t head = head_.load();
    if (tail < head) {
      Batch& b = batches_[tail % kBatches];
      Publish(b);
      b.Clear();  // keeps the capacity: the ring allocates nothing once warm
      tail_.store(++tail);
      if (producer_waiting_.load()) {
        std::lock_guard<std::mutex> lock(mu_);
        cv_.notify_all();
      }
      if (tail == head_.load()) Poll();
      continue;
    }
    if (closing) return;
    Poll();
    std::unique_lock<std::mutex> lock(mu_);
    consumer_sleeping_.store(true);
    if (head_.load() == tail && !closing_.load()) cv_.wait_for(lock, kIdlePoll);
    consumer_sleeping_.store(false);
  }
}

}  // namespace weft::sim
