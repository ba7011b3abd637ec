// SparkplugPublisher: the simulator's Sparkplug B edge nodes. Assets connected by
// `connection.sparkplug` are devices of their edge node (group id, edge node id from plant.yaml);
// each edge node has its own MQTT session, whose will is its NDEATH.
//
// Per edge node: NBIRTH (seq 0, bdSeq, Node Control/Rebirth) then a DBIRTH per device with every
// metric's name, alias, datatype and value; then per tick one DDATA per device with the samples
// of that tick, by alias only. An NCMD `Node Control/Rebirth` = true is answered at the next tick
// with a full rebirth (NBIRTH and every DBIRTH, seq from 0). A lost connection is replaced by a
// new session (bdSeq + 1, its NDEATH as will) and births. Finish() publishes NDEATH (a clean
// shutdown), waits for acknowledgements and disconnects. Samples not sent because of a
// comm_drop fault are left out.
//
// Thread-safety: OnTick/Finish on the simulation thread, which encodes every message; each edge
// node's MQTT session is driven by its own MqttOutbox thread (publishing, acks, keepalive, and
// NCMDs, which raise a flag that the simulation thread answers at its next tick).
#ifndef WEFT_SIM_SPARKPLUG_PUBLISHER_H_
#define WEFT_SIM_SPARKPLUG_PUBLISHER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "mqtt/client.h"
#include "sim/mqtt_outbox.h"
#include "sim/simulator.h"
#include "sparkplug/edge_node_session.h"

namespace weft::sim {

class SparkplugPublisher final : public SampleSink {
 public:
  static Result<std::unique_ptr<SparkplugPublisher>> Create(const Simulator& sim,
                                                            const mqtt::BrokerAddress& broker);
  ~SparkplugPublisher() override;
  Status OnTick(TimePoint now, std::span<const Sample> samples) override;
  Status Finish() override;
  //! Messages handed to the broker connections (complete after Finish()).
  uint64_t messages() const;
  uint64_t rebirths() const { return rebirths_; }
  size_t nodes() const { return nodes_.size(); }

 private:
  struct Node;
  struct Route {
    int node = -1;  //!< -1: not a Sparkplug signal
    int device = 0;
    size_t metric = 0;
    model::DataType type = model::DataType::kFloat64;
  };
  explicit SparkplugPublisher(mqtt::BrokerAddress broker);
  //! The MQTT options of the node's current session (its NDEATH as the will).
  static mqtt::ClientOptions SessionOptions(const Node& node);
  Status Connect(Node& node);
  Status Births(Node& node, uint64_t ts_ms);
  void Publish(Node& node, const sparkplug::Message& m);

  mqtt::BrokerAddress broker_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Route> routes_;  //!< per signal index
  uint64_t rebirths_ = 0;
};

}  // namespace weft::sim

#endif  // WEFT_SIM_SPARKPLUG_PUBLISHER_H_
