// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Error formatting and the assertion-failure handler.
#include "tierjit/error.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace tierjit {

std::string SourceLoc::to_string() const {
  if (file.empty()) return "";
  if (line > 0 && column > 0) return fmt::format("{}:{}:{}", file, line, column);
  if (line > 0) return fmt::format("{}:{}", file, line);
  if (byte_offset >= 0) return fmt::format("{}: offset {}", file, byte_offset);
  return file;
}

std::string Error::to_string() const {
  std::string loc = where.to_string();
  return loc.empty() ? message : loc + ": " + message;
}

Error make_error(ErrorCode code, std::string message, SourceLoc where) {
  return Error{code, std::move(message), std::move(where)};
}

void assert_fail(const char* cond, const char* msg, const char* file, int line) {
  std::fprintf(stderr, "tierjit: internal error: %s (%s) at %s:%d\n", msg, cond, file, line);
  std::abort();
}

}  // namespace tierjit
