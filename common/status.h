// Status and Result<T>: errors as values across module boundaries.
//
// An error code exists only where a caller branches on it (retry the call, retry
// the operation, fix state first, data lost); everything else is kInternal with a
// detailed message. Codes are errno-style so they map one to one onto what the
// client library returns and what the frontends translate (S3 XML, NBD/iSCSI
// sense data, FUSE errno).
//
// Thread-safety: values; no shared state.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace cairn {

enum class Errc : int {
  kOk = 0,
  kNotFound = ENOENT,     // object/pool/key absent
  kExists = EEXIST,       // exclusive create of something present
  kCanceled = ECANCELED,  // a guard (cmpxattr, assert_version) did not hold
  kTimedOut = ETIMEDOUT,  // op deadline passed: the caller may retry
  kNoSpace = ENOSPC,      // device or pool full: nothing was written
  kIo = EIO,              // media or checksum error: data unreadable here
  kInvalid = EINVAL,      // bad argument or malformed input
  kAgain = EAGAIN,        // transient: retry (map changed, backpressure)
  kBusy = EBUSY,          // resource in use
  kRange = ERANGE,        // value out of range / too large
  kNotSupported = EOPNOTSUPP,
  kPermission = EPERM,
  kConnReset = ECONNRESET,  // peer went away
  kShutdown = ESHUTDOWN,    // component is stopping
  kCorrupt = EBADMSG,       // decoded bytes are malformed or truncated
  kNameTooLong = ENAMETOOLONG,
  kStale = ESTALE,   // sender's map is older than the receiver's: refresh and resend
  kInternal = 1000,  // bug or unexpected condition: see message
};

std::string_view errc_name(Errc code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  explicit Status(Errc code) : code_(code) {}

  static Status ok_status() { return {}; }
  bool ok() const { return code_ == Errc::kOk; }
  explicit operator bool() const { return ok(); }
  Errc code() const { return code_; }
  // errno-style value: 0 when ok.
  int err() const { return static_cast<int>(code_); }
  const std::string& message() const { return message_; }
  // Adds context when passing an error up: "context: message".
  Status with_context(std::string_view context) const;
  std::string to_string() const;

  friend bool operator==(const Status& a, Errc c) { return a.code_ == c; }

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

inline Status ok_status() { return {}; }
inline Status error(Errc code, std::string message) { return Status(code, std::move(message)); }

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "use Status for value-less results");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}        // NOLINT(implicit)
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT(implicit)
    if (std::get<1>(v_).ok()) v_.template emplace<1>(Errc::kInternal, "Result built from ok Status");
  }
  Result(Errc code, std::string message) : Result(Status(code, std::move(message))) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; an ok Status when the result holds a value.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }
  Errc code() const { return ok() ? Errc::kOk : std::get<1>(v_).code(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cairn

// Early return on error. Works in plain functions returning Status or Result<T>.
#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)

#define CAIRN_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::cairn::Status _cairn_st = (expr);    \
    if (!_cairn_st.ok()) return _cairn_st; \
  } while (0)

#define CAIRN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

// CAIRN_ASSIGN_OR_RETURN(auto x, f()); binds x to f()'s value or returns its error.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(_cairn_res_, __LINE__), lhs, expr)

// In coroutines: co_return instead of return.
#define CAIRN_CO_RETURN_IF_ERROR(expr)        \
  do {                                        \
    ::cairn::Status _cairn_st = (expr);       \
    if (!_cairn_st.ok()) co_return _cairn_st; \
  } while (0)

#define CAIRN_CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) co_return tmp.status();               \
  lhs = std::move(tmp).value()

#define CAIRN_CO_ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_CO_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(_cairn_res_, __LINE__), lhs, expr)
