// JsonPublisher: publishes the samples of assets connected by plain MQTT (connection.mqtt in
// plant.yaml), one message per asset and tick, QoS 1, on the asset's topic:
//
//   topic   brno/b1/b1-cv-01/telemetry
//   payload {"ts":1767225600000,"asset":"b1-cv-01","values":{"belt_speed":1.21,"state":2}}
//
// `ts` is milliseconds since the Unix epoch (UTC); `values` holds the signals sampled in that
// tick, keyed by their JSON field (source.mqtt.field, by default the signal name); numbers are
// JSON numbers, booleans true/false. Samples of an asset whose communication is dropped are not
// published. The simulation thread encodes; the MQTT session is driven by an MqttOutbox thread.
// A lost connection ends the run with Unavailable, returned by the next OnTick or by Finish (the
// Sparkplug publisher, by contrast, starts a new session).
//
// Thread-safety: used by the simulation thread only (the outbox thread is internal).
#ifndef WEFT_SIM_JSON_PUBLISHER_H_
#define WEFT_SIM_JSON_PUBLISHER_H_

#include <memory>
#include <string>
#include <vector>

#include "mqtt/client.h"
#include "sim/mqtt_outbox.h"
#include "sim/simulator.h"

namespace weft::sim {

class JsonPublisher final : public SampleSink {
 public:
  //! Nullptr-free: when the plant has no JSON asset, the publisher never connects.
  static Result<std::unique_ptr<JsonPublisher>> Create(const Simulator& sim,
                                                       const mqtt::BrokerAddress& broker);
  Status OnTick(TimePoint now, std::span<const Sample> samples) override;
  Status Finish() override;
  //! Messages handed to the broker connection (complete after Finish()).
  uint64_t messages() const;
  bool active() const { return outbox_ != nullptr; }

 private:
  struct Route {
    int asset = -1;  //!< index into topics_, -1 when the signal is not published as JSON
    std::string field;
    bool boolean = false;
  };
  JsonPublisher() = default;

  std::unique_ptr<MqttOutbox> outbox_;
  std::vector<Route> routes_;        //!< per signal index
  std::vector<std::string> topics_;  //!< per JSON asset
  std::vector<std::string> asset_ids_;
  std::vector<std::string> bodies_;  //!< per JSON asset, built during a tick
  std::string payload_;              //!< reused for each message
};

}  // namespace weft::sim

#endif  // WEFT_SIM_JSON_PUBLISHER_H_
