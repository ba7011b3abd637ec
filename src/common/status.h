// Status and Result<T>: Weft's one error type, used by every subsystem.
//
//   Result<Plant> plant = LoadPlantFile("plant.yaml", &diagnostics);
//   if (!plant.ok()) return plant.status();
//   WEFT_ASSIGN_OR_RETURN(auto unit, ParseUnit("kWh"));
//   WEFT_RETURN_IF_ERROR(WriteFile(path, bytes));
//
// Codes follow the canonical set (as in Abseil) and say what a caller should do:
//   kInvalidArgument    the input is wrong; never retry the same input.
//   kNotFound           the named thing does not exist.
//   kAlreadyExists      a create met an existing thing (e.g. a put-if-absent lost).
//   kFailedPrecondition the system is not in a state for this; fix the state first.
//   kUnavailable        transient; retry the call, with backoff.
//   kDataLoss           stored data is corrupt or truncated.
//   kUnimplemented      the feature is not implemented (yet); the message says which.
//   kInternal           a broken invariant: a bug in Weft.
// Messages are for people: they name the place (file, line, field) and what was expected.
//
// Thread-safety: values; safe to copy between threads.
#ifndef WEFT_COMMON_STATUS_H_
#define WEFT_COMMON_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace weft {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kDataLoss,
  kUnauthenticated,
};

//! Canonical lower-case name of a code, e.g. "invalid_argument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  //! An OK status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  //! "invalid_argument: <message>", or "ok".
  std::string ToString() const;

  //! A copy with `context + ": "` put in front of the message (no-op when ok).
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status OutOfRangeError(std::string message);
Status PermissionDeniedError(std::string message);

//! A value or the Status that explains its absence. Never holds an OK status without a value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(data_).ok()) {
      data_ = Status(StatusCode::kInternal, "Result constructed from an OK status without value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  //! The error, or OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(data_); }

  // REQUIRES: ok().
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  //! The value, or `fallback` on error.
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> data_;
};

namespace internal {
inline Status AsStatus(const Status& s) {
  return s;
}
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace weft

#define WEFT_CONCAT_INNER_(a, b) a##b
#define WEFT_CONCAT_(a, b) WEFT_CONCAT_INNER_(a, b)

//! Returns the Status of `expr` from the enclosing function if it is not OK.
#define WEFT_RETURN_IF_ERROR(expr)                                  \
  do {                                                              \
    ::weft::Status weft_status_ = ::weft::internal::AsStatus(expr); \
    if (!weft_status_.ok()) return weft_status_;                    \
  } while (0)

//! `WEFT_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from the value or returns the error.
#define WEFT_ASSIGN_OR_RETURN(lhs, expr) \
  WEFT_ASSIGN_OR_RETURN_IMPL_(WEFT_CONCAT_(weft_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration, it cannot be parenthesised.
#define WEFT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

#endif  // WEFT_COMMON_STATUS_H_
