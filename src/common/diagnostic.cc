#include "common/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace weft {

std::string Diagnostic::ToString() const {
  std::string out = location.file.empty() ? "<input>" : location.file;
  if (location.line > 0) {
    out += ":" + std::to_string(location.line);
    if (location.column > 0) out += ":" + std::to_string(location.column);
  }
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  if (!field.empty()) out += field + ": ";
  out += message;
  out += " [" + kind + "]";
  return out;
}

void Diagnostics::Add(Diagnostic d) {
  (d.severity == Severity::kError ? errors_ : warnings_)++;
  if (items_.size() < kMaxRecorded) items_.push_back(std::move(d));
}

void Diagnostics::Error(std::string kind, SourceLocation at, std::string field,
                        std::string message) {
  Add({Severity::kError, std::move(kind), std::move(at), std::move(field), std::move(message)});
}

void Diagnostics::Warning(std::string kind, SourceLocation at, std::string field,
                          std::string message) {
  Add({Severity::kWarning, std::move(kind), std::move(at), std::move(field), std::move(message)});
}

void Diagnostics::SortByLocation() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.location.file, a.location.line, a.location.column) <
           std::tie(b.location.file, b.location.line, b.location.column);
  });
}

std::string Diagnostics::ToString() const {
  std::string out;
  for (const auto& d : items_) out += d.ToString() + "\n";
  size_t shown = items_.size();
  size_t total = errors_ + warnings_;
  if (total > shown) out += "... " + std::to_string(total - shown) + " more not shown\n";
  out += std::to_string(errors_) + (errors_ == 1 ? " error, " : " errors, ") +
         std::to_string(warnings_) + (warnings_ == 1 ? " warning\n" : " warnings\n");
  return out;
}

Status Diagnostics::ToStatus(std::string_view what) const {
  if (errors_ == 0) return Status::Ok();
  std::string msg(what);
  msg += ": " + std::to_string(errors_) + (errors_ == 1 ? " error" : " errors");
  for (const auto& d : items_) {
    if (d.severity == Severity::kError) {
      msg += " (first: " + d.ToString() + ")";
      break;
    }
  }
  return InvalidArgumentError(std::move(msg));
}

Status Diagnostics::ErrorsSince(const Mark& since, std::string_view file) const {
  const size_t errors = errors_ - since.errors;
  if (errors == 0) return Status::Ok();
  std::string message =
      std::string(file) + ": " + std::to_string(errors) + (errors == 1 ? " error" : " errors");
  size_t listed = 0;
  for (size_t i = since.recorded; i < items_.size(); ++i) {
    if (items_[i].severity != Severity::kError) continue;
    message += "\n" + items_[i].ToString();
    ++listed;
  }
  if (listed < errors) message += "\n... " + std::to_string(errors - listed) + " more not shown";
  return InvalidArgumentError(std::move(message));
}

}  // namespace weft
