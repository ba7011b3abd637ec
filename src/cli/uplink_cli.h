// `weft uplink tail`: subscribes to the edges' uplink batches and prints what they carry, one
// CSV line per record, each batch once (duplicates by (edge, priority, seq) are skipped and
// counted). For operators checking what reaches the broker, and for loss checks in tests.
//
//   weft uplink tail --broker mqtt://127.0.0.1:1883 [--topic weft/v1/uplink] [--out FILE]
//                    [--client-id ID] [--ca F --cert F --key F] [--idle SECONDS] [--duration S]
//
// Columns: edge,priority,seq,kind,site,line,asset,asset_type,signal,unit,protocol,ts_us,value,
// quality — kind is sample, aggregate (value = mean) or event (signal = event kind).
// With --client-id the MQTT session is persistent (clean session off, QoS 1): batches published
// while the tail is away are kept by the broker for it. Exits 0 after --idle seconds without a
// batch (once one came), or after --duration; 3 when the broker cannot be reached.
#ifndef WEFT_CLI_UPLINK_CLI_H_
#define WEFT_CLI_UPLINK_CLI_H_

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace weft::cli {

struct UplinkArgs {
  std::string broker = "mqtt://127.0.0.1:1883";
  std::string topic = "weft/v1/uplink";
  std::string out;  //!< "" = stdout
  std::string client_id;
  std::string ca, cert, key;
  double idle_s = 0;      //!< 0 = no idle limit
  double duration_s = 0;  //!< 0 = until interrupted
};

CLI::App* AddUplinkCommands(CLI::App& app, UplinkArgs* args);
int RunUplink(const UplinkArgs& args, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

#endif  // WEFT_CLI_UPLINK_CLI_H_
