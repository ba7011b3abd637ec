// Simulated device fleets for zero-touch provisioning and OTA campaigns (issue 9):
// `weft-sim factory` makes factory identities, `weft-sim fleet` runs devices that provision
// themselves against weft-core (ZtpClient) and then take OTA campaigns over mqtts (OtaAgent).
//
//   weft-sim factory --out DIR --count 1000 [--prefix dev-] [--serial-prefix SN-]
//                    [--hardware-model edge-gw-2] [--site lyon] [--manufacturer "Weft Devices"]
//                    [--manufacturer-ca DIR]
//   weft-sim fleet --core https://127.0.0.1:PORT --core-ca FILE --factory DIR --state DIR
//                  [--devices N] [--concurrency K] [--mqtt] [--fail-health RATE |
//                  --fail-devices id,id] [--seed S] [--firmware 1.0.0] [--report FILE]
//                  [--duration SECONDS] [--install-seconds S]
//
// In code:
//   FactoryOptions f{.out_dir = dir, .count = 10};
//   WEFT_ASSIGN_OR_RETURN(std::vector<FactoryDevice> devices, MakeFactory(f, clock));
//   // dir/<serial>/factory.{pem,key}, dir/allowlist.csv, dir/manufacturer-ca/ca.{pem,key}
//
// Factory identities: an EC P-256 key and a certificate from the manufacturer CA whose subject
// is CN=<serial>, serialNumber=<serial>, OU=<hardware model>, O=<manufacturer>. Re-running the
// factory over the same DIR keeps the existing identities (and CA) and adds the missing ones.
//
// Thread-safety: the free functions are safe to call concurrently on different directories;
// FleetMain/FactoryMain are whole programs (FleetMain installs SIGINT/SIGTERM handlers).
#ifndef WEFT_SIM_FLEET_SIM_H_
#define WEFT_SIM_FLEET_SIM_H_

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace weft::sim {

struct FactoryOptions {
  std::string out_dir;
  int count = 0;
  std::string prefix = "dev-";        //!< device ids: <prefix>0001, <prefix>0002, ...
  std::string serial_prefix = "SN-";  //!< serials: <serial_prefix>000001, ...
  std::string hardware_model = "edge-gw-2";
  std::string site = "lyon";
  std::string manufacturer = "Weft Devices";
  //! Directory of the manufacturer CA (ca.pem, ca.key): reused when present, made otherwise.
  //! "" = <out_dir>/manufacturer-ca.
  std::string manufacturer_ca_dir;
};

//! One row of allowlist.csv and where its identity lives.
struct FactoryDevice {
  std::string serial, device_id, site, hardware_model;
  std::string dir;  //!< <out_dir>/<serial>: factory.pem, factory.key
};

//! Makes (or reuses) the manufacturer CA and `count` factory identities, and writes
//! <out_dir>/allowlist.csv ("serial,device_id,site,hardware_model" header, one line each).
//! Identities already in <out_dir> that verify against the CA are kept as they are.
Result<std::vector<FactoryDevice>> MakeFactory(const FactoryOptions& options, const Clock& clock);

//! Reads an allowlist.csv written by MakeFactory (header optional). Errors name file:line.
Result<std::vector<FactoryDevice>> ReadAllowlist(const std::string& path);

//! The factory identities under `factory_dir` (every sub-directory holding factory.pem and
//! factory.key, sorted by name), with device id, site and hardware model from its allowlist.csv
//! when it lists the serial (else the device id is empty: an identity unknown to the core).
Result<std::vector<FactoryDevice>> ListFactory(const std::string& factory_dir);

//! Which devices get a failing health check: `fail_devices` (ids or serials) when not empty,
//! else each device with probability `rate`, decided by a hash of (seed, device id) so the same
//! seed picks the same devices whatever the concurrency. Returns device ids (or serials).
std::set<std::string> ChooseFailingDevices(const std::vector<FactoryDevice>& devices, double rate,
                                           const std::vector<std::string>& fail_devices,
                                           uint64_t seed);

//! `weft-sim factory ...` (argv[0] = "factory"). Exit codes: 0 done, 2 usage, 3 runtime failure.
int FactoryMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
//! `weft-sim fleet ...` (argv[0] = "fleet"). Exit codes: 0 every device provisioned (and, with
//! --mqtt, connected), 1 some device failed (the report says which), 2 usage, 3 runtime failure.
int FleetMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace weft::sim

#endif  // WEFT_SIM_FLEET_SIM_H_
