// Logging. Weft logs through spdlog to stderr; stdout is reserved for a command's output.
//
//   weft::InitLogging(weft::LogLevel::kInfo);
//   spdlog::info("loaded {} assets from {}", n, path);
//
// Never log secrets (tokens, keys, passwords): log their names or hashes.
#ifndef WEFT_COMMON_LOG_H_
#define WEFT_COMMON_LOG_H_

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace weft {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

//! "trace", "debug", "info", "warn", "error", "off".
Result<LogLevel> ParseLogLevel(std::string_view name);

//! Makes the default spdlog logger write to stderr at `level`. Safe to call more than once.
void InitLogging(LogLevel level);

}  // namespace weft

#endif  // WEFT_COMMON_LOG_H_
