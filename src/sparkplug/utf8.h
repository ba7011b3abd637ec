// Internal to weft::sparkplug: UTF-8 validation for topic ids, metric names and string values.
#ifndef WEFT_SPARKPLUG_UTF8_H_
#define WEFT_SPARKPLUG_UTF8_H_

#include <string_view>

namespace weft::sparkplug::internal {

//! True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace weft::sparkplug::internal

#endif  // WEFT_SPARKPLUG_UTF8_H_
