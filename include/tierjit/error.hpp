// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// tierjit's one error type and the Expected<T> that carries it.
// Fallible functions return Expected<T>; the CLI maps ErrorCode to an exit status.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "tierjit/error_code.hpp"

namespace tierjit {

/// A position in an input: file, 1-based line and column, or a byte offset for binary inputs.
struct SourceLoc {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  int64_t byte_offset = -1;  ///< >= 0 for binary inputs (bitcode, LLBC, cache entries)

  /// "file:line:col", "file:offset N" or "file", whichever is known; "" when nothing is.
  std::string to_string() const;
};

/// One failure: what kind (code), what happened (message) and where (loc).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  SourceLoc where;

  /// "FILE:LINE:COL: message" (the location part omitted when unknown).
  std::string to_string() const;
};

Error make_error(ErrorCode code, std::string message, SourceLoc where = {});

/// A value or an Error. Must be checked (ok()) before value() is read.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

/// Expected<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }
  Error take_error() { return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace tierjit

/// Evaluates an Expected/Status expression; returns its Error from the enclosing function.
#define TJ_TRY(expr)                                              \
  do {                                                            \
    auto tj_try_result_ = (expr);                                 \
    if (!tj_try_result_.ok()) return tj_try_result_.take_error(); \
  } while (0)

#define TJ_CONCAT_INNER(a, b) a##b
#define TJ_CONCAT(a, b) TJ_CONCAT_INNER(a, b)
/// `TJ_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the Error.
#define TJ_ASSIGN_OR_RETURN(decl, expr)                                                     \
  auto TJ_CONCAT(tj_aor_, __LINE__) = (expr);                                               \
  if (!TJ_CONCAT(tj_aor_, __LINE__).ok()) return TJ_CONCAT(tj_aor_, __LINE__).take_error(); \
  decl = std::move(TJ_CONCAT(tj_aor_, __LINE__)).value()

/// Broken internal invariant: print and abort (never used for bad input).
#define TJ_ASSERT(cond, msg)                                             \
  do {                                                                   \
    if (!(cond)) ::tierjit::assert_fail(#cond, msg, __FILE__, __LINE__); \
  } while (0)

namespace tierjit {
[[noreturn]] void assert_fail(const char* cond, const char* msg, const char* file, int line);
}
