// The built-in asset type library, as plant.yaml text (the same format a plant declares its own
// types in). Parsed once by BuiltinAssetTypes() in plant_loader.h.
#ifndef WEFT_MODEL_BUILTIN_ASSET_TYPES_H_
#define WEFT_MODEL_BUILTIN_ASSET_TYPES_H_

#include <string_view>

namespace weft::model {

extern const std::string_view kBuiltinAssetTypesYaml;

}  // namespace weft::model

#endif  // WEFT_MODEL_BUILTIN_ASSET_TYPES_H_
