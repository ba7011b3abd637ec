#ifndef WEFT_LAKE_DELTA_JSON_UTIL_H_
#define WEFT_LAKE_DELTA_JSON_UTIL_H_

// Internal to weft::delta: the adapter around nlohmann::json. Nothing here throws; every accessor
// returns a Status that names the field ("add.size: expected an integer, got string").

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft::lake::delta::json_util {

// ordered_json: objects keep their key order, so what we write reads like what Spark writes.
using Json = nlohmann::ordered_json;

//! Parses text; InvalidArgument naming `what` and the parser's byte position on failure.
Result<Json> Parse(std::string_view text, std::string_view what);
//! Compact one-line dump; invalid UTF-8 is replaced rather than thrown on.
std::string Dump(const Json& j);

const char* TypeName(const Json& j);

//! Required members: error if missing, null or of the wrong type.
Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view ctx);
Result<int64_t> GetInt64(const Json& obj, std::string_view key, std::string_view ctx);
Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view ctx);

//! Optional members: nullopt if missing or null; error if of the wrong type.
Result<std::optional<std::string>> GetOptString(const Json& obj, std::string_view key,
                                                std::string_view ctx);
Result<std::optional<int64_t>> GetOptInt64(const Json& obj, std::string_view key,
                                           std::string_view ctx);
Result<std::optional<bool>> GetOptBool(const Json& obj, std::string_view key, std::string_view ctx);
//! A JSON object of strings, null values kept as nullopt; an empty map if missing or null.
Result<std::map<std::string, std::optional<std::string>>> GetStringMapWithNulls(
    const Json& obj, std::string_view key, std::string_view ctx);
//! Same, with null values dropped.
Result<std::map<std::string, std::string>> GetStringMap(const Json& obj, std::string_view key,
                                                        std::string_view ctx);
Result<std::vector<std::string>> GetStringArray(const Json& obj, std::string_view key,
                                                std::string_view ctx);
Result<std::optional<std::vector<std::string>>> GetOptStringArray(const Json& obj,
                                                                  std::string_view key,
                                                                  std::string_view ctx);

//! Converts a JSON number to int64 (rejects fractions and out-of-range values).
std::optional<int64_t> AsInt64(const Json& j);

}  // namespace weft::lake::delta::json_util

#endif  // WEFT_LAKE_DELTA_JSON_UTIL_H_
