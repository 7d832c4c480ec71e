// Status and Result<T>: errors as values at every module boundary.
//
// An expected failure (a refused signature, a broken evidence record, a missing
// file) is reported through these types, never thrown. Exceptions thrown by
// third-party code (Boost) are caught at the module edge and turned into a
// Status. Both types are [[nodiscard]] so an ignored error shows up at compile time.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace preserve {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (bad option, malformed file)
  kNotFound,            // no such package, file or key
  kAlreadyExists,       // refusing to overwrite
  kCorruption,          // stored or supplied data fails an integrity check
  kIOError,             // the file system or database failed
  kFailedPrecondition,  // the system is not in a state that allows the call
  kUnavailable,         // a peer (TSA, responder) could not be reached; retry later
  kBusy,                // another process holds the store for writing
  kInternal,            // a bug or an unexpected library failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Busy(std::string msg) { return {StatusCode::kBusy, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with where it happened: "reading letter.p7s: not DER".
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace preserve

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define PRESERVE_RETURN_IF_ERROR(expr)              \
  do {                                              \
    ::preserve::Status preserve_status_ = (expr);   \
    if (!preserve_status_.ok()) return preserve_status_; \
  } while (0)

#define PRESERVE_CONCAT_INNER(a, b) a##b
#define PRESERVE_CONCAT(a, b) PRESERVE_CONCAT_INNER(a, b)
// `PRESERVE_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define PRESERVE_ASSIGN_OR_RETURN(lhs, rexpr)                               \
  auto PRESERVE_CONCAT(preserve_result_, __LINE__) = (rexpr);              \
  if (!PRESERVE_CONCAT(preserve_result_, __LINE__).ok())                   \
    return PRESERVE_CONCAT(preserve_result_, __LINE__).status();           \
  lhs = std::move(PRESERVE_CONCAT(preserve_result_, __LINE__)).value()
