// libFuzzer target: any bytes on a JSON topic of the example plant end in samples or in an error
// with a message, never in a crash, a sanitizer report or a leak. Decoded samples name signals of
// the topic, carry the document's timestamp, and every field problem is counted.
// Built with -DWEFT_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edge/connectors/mqtt/json_telemetry.h"
#include "model/plant_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const weft::model::Plant plant = [] {
    weft::Diagnostics diags;
    weft::Result<weft::model::Plant> p = weft::model::LoadPlantFile(WEFT_EXAMPLE_PLANT, &diags);
    if (!p.ok()) __builtin_trap();
    return *std::move(p);
  }();
  static const weft::edge::SignalTable table = *weft::edge::SignalTable::FromPlant(plant, {});
  static weft::edge::JsonTelemetryDecoder decoder(table);
  constexpr std::string_view kTopic = "brno/b1/b1-cv-01/telemetry";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  weft::edge::JsonDecodeResult out;
  weft::Status s = decoder.Decode(kTopic, bytes, &out);
  if (!s.ok()) {
    if (s.message().empty() || !out.samples.empty()) __builtin_trap();
    return 0;
  }
  for (const weft::edge::Sample& sample : out.samples) {
    if (sample.signal >= table.size() || sample.ts_us != out.ts_ms * 1000) __builtin_trap();
    if (table.at(sample.signal).asset != "b1-cv-01") __builtin_trap();
  }
  if (out.problems.size() > out.unmapped_fields + out.wrong_type_fields + out.null_fields) {
    __builtin_trap();
  }
  // The pure function agrees with the reused decoder.
  weft::Result<weft::edge::JsonDecodeResult> again =
      weft::edge::DecodeJsonTelemetry(kTopic, bytes, table);
  if (!again.ok() || again->samples.size() != out.samples.size()) __builtin_trap();
  return 0;
}
