// The `control:` section of edge.yaml: which setpoints the edge writes to which PLC, from which
// source (an optimiser or an external model process), inside which safety envelope.
//
//   Diagnostics diags;
//   Result<ControlConfig> c = ParseControlConfig(text, "/etc/weft/edge.yaml", &diags);
//   if (!c.ok()) std::cerr << diags.ToString();        // every problem, file:line:col + path
//   WEFT_RETURN_IF_ERROR(CheckAgainstPlant(*c, plant, &diags));
//
// Or, from a parser that reads the whole edge.yaml with its own YamlReader:
//   if (auto v = fields.Get("control")) config.control = ParseControlSection(r, *v, dir);
//
// Format:
//   control:
//     grant_key: keys/control-grant.pub.pem  # Ed25519 public key (PEM) of the core; relative to
//                                            # edge.yaml's directory
//     grants_dir: grants                     # optional; relative to edge.yaml's directory;
//                                            # "" = the edge's default (<uplink.dir>/../grants)
//     loops:
//       - id: lyon-hz-01-temp                # unique id
//         asset: lyon-hz-01                  # a Modbus asset of the plant
//         write: remote_setpoint             # holding register written
//         heartbeat: heartbeat               # optional holding register (PLC watchdog)
//         heartbeat_interval: 2s             # optional, default 2s
//         mode_signal: control_mode          # optional: value 2 = hand
//         alarms: plc_alarms                 # optional
//         readback: setpoint                 # optional, default: the `write` signal
//         read: [zone_temp, outdoor_temp]    # inputs for the source
//         period: 60s                        # optional, default 60s
//         mode: autonomous                   # shadow | supervised | autonomous (the wanted
//                                            # mode; default shadow)
//         source:                            # exactly one of:
//           optimiser: {kind: hvac_comfort, comfort: [20, 24]}   # kind + the optimiser's params
//           # process: {command: [/usr/bin/python3, model.py], timeout: 5s}
//         model_timeout: 3min                # optional, default 3 x period
//                                            # (durations: common/time_format.h; "3m" is
//                                            # also read as 3 minutes)
//         envelope:
//           min: 16
//           max: 23
//           max_step: 1.0                    # > 0
//           max_rate: 0.1/s                  # "<number>/s" | "/min" | "/h", or a number (per s)
//           safe: 18                         # min <= safe <= max
//           readback_tolerance: 0.05         # optional, default 0
//           interlocks:                      # optional
//             - {name: overheating, expr: zone_temp, above: 27, then: safe}
//             - {name: plc_alarm, expr: plc_alarms, above: 0, then: hold}
// An interlock has an id `name`, an expression (model/physics.h ParseExpr), at least one of
// `above` / `below`, and `then: hold | safe`. Its variables must be among the loop's `read`
// signals, `alarms` and `mode_signal` (checked by ParseControlSection, since it needs no plant).
// CheckAgainstPlant checks the rest against the plant. Every problem is a diagnostic with
// file:line:column and field path.
//
// Thread-safety: the functions are reentrant; the config is a plain value.
#ifndef WEFT_CONTROL_CORE_CONTROL_CONFIG_H_
#define WEFT_CONTROL_CORE_CONTROL_CONFIG_H_

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"
#include "common/status.h"
#include "control/core/envelope.h"
#include "model/plant.h"
#include "model/yaml_reader.h"

namespace weft::control {

//! Larger edge.yaml files are refused by ParseControlConfig.
inline constexpr size_t kMaxControlConfigBytes = size_t{4} << 20;

//! One optimiser parameter: a scalar or a flat list. A YAML scalar that parses as a number is a
//! double; `true`/`false` a bool; anything else a string. A list of numbers is a
//! vector<double>, any other list of scalars a vector<string>. Nested maps are refused.
using ParamValue =
    std::variant<double, bool, std::string, std::vector<double>, std::vector<std::string>>;

struct OptimiserParam {
  ParamValue value;
  SourceLocation where;  //!< for the optimiser's own diagnostics
  std::string path;      //!< e.g. "control.loops[0].source.optimiser.comfort"
};

//! `source: {optimiser: {kind: ..., <params>}}`.
struct OptimiserSource {
  std::string kind;  //!< an id; the optimiser factory (control/hvac) checks it
  std::map<std::string, OptimiserParam, std::less<>> params;  //!< every key but `kind`
  SourceLocation where;
  std::string path;
};

//! `source: {process: {command: [...], timeout: 5s}}`: an external model speaking JSON lines.
struct ProcessSource {
  std::vector<std::string> command;          //!< argv as written (non-empty); run in `working_dir`
  std::filesystem::path working_dir;         //!< edge.yaml's directory
  Micros timeout = std::chrono::seconds(5);  //!< per proposal
  SourceLocation where;
  std::string path;
};

using SourceConfig = std::variant<OptimiserSource, ProcessSource>;

struct LoopConfig {
  std::string id;
  std::string asset;
  std::string write;      //!< holding register written
  std::string heartbeat;  //!< "" = none
  Micros heartbeat_interval = std::chrono::seconds(2);
  std::string mode_signal;  //!< "" = none; value 2 = hand
  std::string alarms;       //!< "" = none
  std::string readback;     //!< defaults to `write`
  std::vector<std::string> read;
  Micros period = std::chrono::seconds(60);
  Mode mode = Mode::kShadow;  //!< the wanted mode; the loop runs shadow until a grant allows it
  SourceConfig source;
  Micros model_timeout = std::chrono::seconds(180);  //!< default 3 x period
  Envelope envelope;
  SourceLocation where;  //!< of the loop's entry
  std::string path;      //!< e.g. "control.loops[0]"
  //! Where each field is written, by its path relative to the loop ("asset", "read[1]",
  //! "envelope.min", ...), for diagnostics found later (CheckAgainstPlant). May be empty for a
  //! config built in code; `where` is used then.
  std::map<std::string, SourceLocation, std::less<>> locations;

  //! Every signal the loop reads each period: read, then alarms, mode_signal, readback (no
  //! duplicates, in that order).
  std::vector<std::string> SignalsToRead() const;
};

struct ControlConfig {
  std::string grant_key;   //!< resolved against edge.yaml's directory; "" = none configured
  std::string grants_dir;  //!< resolved; "" = the edge's default
  std::vector<LoopConfig> loops;
  SourceLocation where;
  std::string path;  //!< "control"
};

//! Parses a rate: "0.1/s", "6/min", "360/h" or a bare number (per second) -> value per second.
//! InvalidArgument naming the problem when it is not a finite, positive rate.
Result<double> ParseRate(std::string_view text);

//! Reads the value of the `control:` key (a mapping); problems go to the reader's diagnostics,
//! and the result is nullopt when there was any.
std::optional<ControlConfig> ParseControlSection(model::YamlReader& r, const model::YamlValue& v,
                                                 const std::filesystem::path& base_dir);

//! Parses an edge.yaml document and reads its `control:` section (other top-level keys are left
//! to their own parsers; no section = empty config). InvalidArgument, with the first problem in
//! the message and all of them in `diags`, when it has errors. Relative paths resolve against
//! the directory of `file`.
Result<ControlConfig> ParseControlConfig(std::string_view text, const std::string& file,
                                         Diagnostics* diags);

//! Checks the config against the plant: each loop's asset exists and is a Modbus asset; every
//! named signal exists on it with a Modbus source; write/heartbeat are holding registers;
//! min <= safe <= max lie inside the write signal's range; loop ids are unique. Each problem is
//! a diagnostic at the config's file:line:column; InvalidArgument when there is any.
Status CheckAgainstPlant(const ControlConfig& config, const model::Plant& plant,
                         Diagnostics* diags);

}  // namespace weft::control

#endif  // WEFT_CONTROL_CORE_CONTROL_CONFIG_H_
