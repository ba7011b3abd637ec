// Small string helpers shared by Weft's parsers.
#ifndef WEFT_COMMON_STRINGS_H_
#define WEFT_COMMON_STRINGS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

//! Edit distance: insert, delete, substitute, or swap two neighbouring letters, each costing 1
//! (optimal string alignment); case-insensitive. O(|a|·|b|) time and memory: for short names.
size_t EditDistance(std::string_view a, std::string_view b);

//! The candidate closest to `word` when it is a plausible typo of it, else "".
//! Used for "did you mean 'motor'?" hints.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

//! "a, b, c" — items joined with `sep`.
//! "unknown column 'asest'; did you mean 'asset'?", or, with no close candidate, "unknown column
//! 'x'; the columns are a, b": the one form of that error for `kind`s of names.
std::string UnknownNameMessage(std::string_view kind, std::string_view name,
                               const std::vector<std::string>& candidates);

//! Shortest text that reads back as the same double: "0.1", "1e+300", "-0", "nan", "inf", "-inf".
std::string FormatDouble(double v);

std::string Join(const std::vector<std::string>& items, std::string_view sep = ", ");

//! Where JSON text nests arrays/objects deeper than `max_depth` (the byte offset of the bracket
//! that goes one level too deep), or nullopt. Strings and escapes are skipped; the text is not
//! validated. Bounds a parse before it starts (parsers and later walks recurse per level).
std::optional<size_t> JsonNestingBeyond(std::string_view text, int max_depth);

}  // namespace weft

#endif  // WEFT_COMMON_STRINGS_H_
