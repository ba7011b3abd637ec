// Loading plant.yaml into a validated Plant.
//
//   Diagnostics diags;
//   Result<Plant> plant = LoadPlantFile("examples/plant.yaml", &diags);
//   if (!plant.ok()) { std::cerr << diags.ToString(); return 1; }
//
// The loader reports every problem it finds in one run. Each diagnostic names the file, the
// 1-based line and column, the field path (e.g. "sites[0].areas[1].lines[0].assets[3].type") and
// what was expected, and has a stable kind (the constants below), so tools and tests can tell
// problems apart. Bad input never crashes the loader: YAML syntax errors, wrong types, absurd
// sizes and aliases all become diagnostics. The file format is documented in
// src/model/README.md.
//
// Thread-safety: the functions are reentrant; BuiltinAssetTypes() is initialised once, safely.
#ifndef WEFT_MODEL_PLANT_LOADER_H_
#define WEFT_MODEL_PLANT_LOADER_H_

#include <map>
#include <string>
#include <string_view>

#include "common/diagnostic.h"
#include "common/status.h"
#include "model/plant.h"
#include "model/yaml_reader.h"

namespace weft::model {

//! Diagnostic kinds of the plant loader.
namespace plant_error {
using yaml_error::kDuplicateKey;
using yaml_error::kInputTooLarge;
using yaml_error::kInvalidValue;
using yaml_error::kMissingField;
using yaml_error::kUnknownField;
using yaml_error::kWrongType;
using yaml_error::kYamlSyntax;
inline constexpr char kDuplicateId[] = "duplicate_id";
inline constexpr char kDuplicateSignal[] = "duplicate_signal";
inline constexpr char kInvalidRange[] = "invalid_range";
inline constexpr char kUnsupportedVersion[] = "unsupported_version";
inline constexpr char kUnknownAssetType[] = "unknown_asset_type";
inline constexpr char kExtendsCycle[] = "extends_cycle";
inline constexpr char kUnknownSignal[] = "unknown_signal";
inline constexpr char kUnknownUnit[] = "unknown_unit";
inline constexpr char kUnknownQuantity[] = "unknown_quantity";
inline constexpr char kUnitNotConvertible[] = "unit_not_convertible";
inline constexpr char kMissingBinding[] = "missing_binding";
inline constexpr char kRegisterOverlap[] = "register_overlap";
inline constexpr char kUnknownReference[] = "unknown_reference";
// Warnings.
inline constexpr char kNoAssumptions[] = "no_assumptions";
inline constexpr char kNothingInScope[] = "nothing_in_scope";
}  // namespace plant_error

//! The schema version this build reads (`weft: 1` at the top of plant.yaml).
inline constexpr int kPlantSchemaVersion = 1;
//! Larger files are refused before parsing.
inline constexpr size_t kMaxPlantFileBytes = size_t{32} << 20;

//! Reads and validates `path`. NotFound/Unavailable when the file cannot be read;
//! InvalidArgument when it has errors (all of them in `diags`). Warnings do not fail the load.
Result<Plant> LoadPlantFile(const std::string& path, Diagnostics* diags);

//! Same, from text; `file_name` is used in diagnostics.
Result<Plant> ParsePlant(std::string_view yaml, const std::string& file_name, Diagnostics* diags);

//! The asset types every plant can use without declaring them: motor, pump, compressor,
//! conveyor, hvac_zone. A plant may declare types of its own, or `extends:` these.
const std::map<std::string, AssetType>& BuiltinAssetTypes();

}  // namespace weft::model

#endif  // WEFT_MODEL_PLANT_LOADER_H_
