// View definitions: schema-on-read views over the lake's narrow telemetry table, declared in YAML
// (the format is documented in src/core/views/README.md).
//
//   Result<std::vector<ViewDef>> views = ParseViews(text, "views.yaml");
//   if (!views.ok()) return views.status();  // "views.yaml:7:15: error: views.motor_health..."
//   WEFT_ASSIGN_OR_RETURN(const ViewDef* view, FindView(*views, "motor_health"));
//   IncludeSubtypes(plant, &views->front());  // optional: motor also selects cnc_spindle
//
// The parser reports every problem it finds in one run; each names the file, the 1-based line and
// column, the field path (e.g. "views.motor_health.signals.current.agg") and what was expected,
// with a "did you mean" for misspelt keys and names. Unit symbols are checked with
// model::ParseUnit. Bad input never crashes the parser (see view_def_fuzz.cc).
//
// Thread-safety: the functions are reentrant; a ViewDef is a value.
#ifndef WEFT_CORE_VIEWS_VIEW_DEF_H_
#define WEFT_CORE_VIEWS_VIEW_DEF_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"
#include "common/status.h"
#include "model/plant.h"
#include "model/units.h"

namespace weft::core::views {

//! How the samples of one signal within one period become one value.
enum class Agg {
  kMean,  //!< arithmetic mean (the default)
  kMin,
  kMax,
  kLast,  //!< the sample with the latest ts (ties: the one read last)
};

//! What a period without a sample of a signal shows (in a row that exists for other signals).
enum class Fill {
  kNone,      //!< null
  kPrevious,  //!< the asset's last value of that signal in an earlier period of the same read
};

//! "mean", "min", "max", "last"; "none", "previous".
std::string_view AggName(Agg agg);
std::string_view FillName(Fill fill);

//! Diagnostic kinds of the views parser (besides model::yaml_error's).
namespace view_error {
inline constexpr char kUnknownUnit[] = "unknown_unit";
inline constexpr char kInvalidPeriod[] = "invalid_period";
inline constexpr char kUnknownAgg[] = "unknown_agg";
inline constexpr char kUnknownFill[] = "unknown_fill";
inline constexpr char kDuplicateColumn[] = "duplicate_column";
inline constexpr char kNoSignals[] = "no_signals";
}  // namespace view_error

//! One output column of a view.
struct ViewSignal {
  std::string signal{};  //!< the `signal` value of the telemetry rows
  std::string column{};  //!< output column name: `as`, else the signal name
  model::Unit unit{};    //!< declared unit; every row's stored unit is converted to it
  Agg agg = Agg::kMean;
  SourceLocation where{};  //!< where its name is in the views file
};

struct ViewDef {
  std::string name{};
  std::string description{};
  //! Rows whose asset_type is one of these; empty: any asset type.
  std::vector<std::string> asset_types{};
  int64_t period_us = 0;              //!< resample grid, > 0; periods start at multiples of it
  std::vector<ViewSignal> signals{};  //!< declared order = output column order
  bool good_only = true;              //!< drop rows whose quality is not 0 (null counts as good)
  Fill fill = Fill::kNone;
  SourceLocation where{};  //!< where its name is in the views file
};

//! Larger views files are refused before parsing.
inline constexpr size_t kMaxViewsFileBytes = size_t{4} << 20;
//! Periods longer than this are refused (a typo such as "1000d" rather than a real grid).
inline constexpr int64_t kMaxPeriodUs = int64_t{366} * 24 * 3600 * 1'000'000;

//! Parses a views file. On error, InvalidArgument whose message starts with "<file>: N errors"
//! and lists every error, one per line, as "<file>:<line>:<column>: error: <field>: <message>
//! [<kind>]".
Result<std::vector<ViewDef>> ParseViews(std::string_view yaml, const std::string& file_name);
//! The same, with every finding (errors and warnings) also recorded in `diags`.
//! REQUIRES: diags != nullptr.
Result<std::vector<ViewDef>> ParseViews(std::string_view yaml, const std::string& file_name,
                                        Diagnostics* diags);
//! Reads and parses a file; NotFound / Unavailable naming the path when it cannot be read.
Result<std::vector<ViewDef>> LoadViewsFile(const std::string& path);

//! The view named `name`; NotFound "unknown view 'x'; did you mean 'y'?" otherwise.
//! The pointer is into `views`.
Result<const ViewDef*> FindView(const std::vector<ViewDef>& views, std::string_view name);

//! Adds to view->asset_types every asset type of `plant` that extends one of them (directly or
//! not), so that a view of `motor` also reads a `cnc_spindle` that extends motor. A view without
//! asset types is left unchanged.
void IncludeSubtypes(const model::Plant& plant, ViewDef* view);

}  // namespace weft::core::views

#endif  // WEFT_CORE_VIEWS_VIEW_DEF_H_
