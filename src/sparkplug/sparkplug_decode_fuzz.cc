// libFuzzer target: any bytes given to the Sparkplug B decoder end in a Payload or in an
// InvalidArgument error with a message, never in a crash, a sanitizer report or a leak. A payload
// that decodes must re-encode to bytes that decode again to the same encoding, and must go through
// a host session as any message type. Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "sparkplug/edge_node_session.h"
#include "sparkplug/host_session.h"
#include "sparkplug/payload.h"
#include "sparkplug/topic.h"

namespace {

using weft::sparkplug::MessageType;
using weft::sparkplug::Topic;

Topic TopicOf(MessageType type) {
  Topic t;
  t.group_id = "g";
  t.type = type;
  t.edge_node_id = "n";
  if (weft::sparkplug::IsDeviceMessage(type)) t.device_id = "d";
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  weft::Result<weft::sparkplug::Payload> payload = weft::sparkplug::Decode(bytes);
  if (!payload.ok()) {
    // A refusal must say why, and must be about the input (kInternal: the wire check let through
    // something protobuf rejects).
    if (payload.status().code() != weft::StatusCode::kInvalidArgument ||
        payload.status().message().empty()) {
      __builtin_trap();
    }
    return 0;
  }

  const std::string once = weft::sparkplug::Encode(*payload);
  weft::Result<weft::sparkplug::Payload> again = weft::sparkplug::Decode(once);
  if (!again.ok() || weft::sparkplug::Encode(*again) != once) __builtin_trap();

  weft::ManualClock clock(weft::TimeFromUnixMicros(0));
  weft::sparkplug::HostSession host(clock);
  for (MessageType type : {MessageType::kNBirth, MessageType::kDBirth, MessageType::kNData,
                           MessageType::kDData, MessageType::kDDeath, MessageType::kNDeath}) {
    weft::sparkplug::HostEvent event = host.Feed(TopicOf(type), *payload);
    if ((event.problem == weft::sparkplug::HostProblem::kNone) != event.status.ok()) {
      __builtin_trap();
    }
  }
  weft::Result<weft::sparkplug::EdgeNodeSession> edge =
      weft::sparkplug::EdgeNodeSession::Create("g", "n");
  if (!edge.ok()) __builtin_trap();
  (void)edge->IsRebirthRequest(TopicOf(MessageType::kNCmd), *payload);
  return 0;
}
