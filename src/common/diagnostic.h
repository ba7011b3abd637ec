// Diagnostics: the findings of a configuration parser (plant.yaml, edge.yaml, ...), each tied to
// the exact place in the file. Parsers report every problem they find in one run, not just the
// first, so that a user fixes a file in one pass.
//
//   Diagnostics diags;
//   diags.Error("unknown_asset_type", {"plant.yaml", 12, 15}, "sites[0]...assets[3].type",
//               "unknown asset type 'moter'; expected one of: motor, pump (did you mean
//               'motor'?)");
//   if (diags.has_errors()) std::cerr << diags.ToString();
//
// Thread-safety: not thread-safe; one parser fills one Diagnostics.
#ifndef WEFT_COMMON_DIAGNOSTIC_H_
#define WEFT_COMMON_DIAGNOSTIC_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weft {

enum class Severity { kError, kWarning };

//! A place in a text file. Line and column are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  Severity severity = Severity::kError;
  //! Stable, machine-readable name of the problem, e.g. "unknown_asset_type".
  std::string kind;
  SourceLocation location;
  //! Path of the field in the document, e.g. "sites[0].areas[1].lines[0].assets[3].type".
  std::string field;
  //! What is wrong and what was expected.
  std::string message;

  //! "plant.yaml:12:15: error: sites[0]...type: unknown asset type 'moter'; ...
  //! [unknown_asset_type]"
  std::string ToString() const;
};

class Diagnostics {
 public:
  //! Parsers stop recording (but keep counting) beyond this many, so that a garbage input
  //! cannot make an unbounded report.
  static constexpr size_t kMaxRecorded = 1000;

  void Add(Diagnostic d);
  void Error(std::string kind, SourceLocation at, std::string field, std::string message);
  void Warning(std::string kind, SourceLocation at, std::string field, std::string message);

  const std::vector<Diagnostic>& all() const { return items_; }
  size_t error_count() const { return errors_; }
  size_t warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }

  //! Orders the recorded diagnostics by file, line and column (stable), so that a report reads
  //! top to bottom like the file.
  void SortByLocation();

  //! Every diagnostic, one per line, in the order found, then a summary line.
  std::string ToString() const;
  //! OK when there is no error; else InvalidArgument "<what>: N errors (first: ...)".
  Status ToStatus(std::string_view what) const;

  //! A point to report from: the counts at the time it was taken.
  struct Mark {
    size_t errors = 0, recorded = 0;
  };
  Mark mark() const { return {errors_, items_.size()}; }
  //! OK when no error was added since `since`; else InvalidArgument "<file>: N errors" followed
  //! by every error recorded since, one per line (for parsers that report into a caller's
  //! Diagnostics and also return a Status).
  Status ErrorsSince(const Mark& since, std::string_view file) const;

 private:
  std::vector<Diagnostic> items_;
  size_t errors_ = 0;
  size_t warnings_ = 0;
};

}  // namespace weft

#endif  // WEFT_COMMON_DIAGNOSTIC_H_
