// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Error codes shared by the library and the `tierjit` command, with their exit statuses.
#pragma once

namespace tierjit {

/// What kind of failure an Error is. The CLI exits with exit_status(code); the numbers follow
/// BSD sysexits(3) so scripts can tell a bad input from a missing file or an internal fault.
enum class ErrorCode {
  kUsage,             ///< bad command line                         exit 64 (EX_USAGE)
  kInvalidInput,      ///< malformed IR/LLBC/bitcode               exit 65 (EX_DATAERR)
  kFileNotFound,      ///< unreadable or missing input file         exit 66 (EX_NOINPUT)
  kMissingEntry,      ///< entry function not defined               exit 67 (EX_NOUSER)
  kUnresolvedSymbol,  ///< external symbol not found in the host    exit 69 (EX_UNAVAILABLE)
  kCompileFailed,     ///< code generation or linking failed        exit 70 (EX_SOFTWARE)
  kCacheCorrupt,      ///< a cache entry failed verification        exit 74 (EX_IOERR)
  kIo,                ///< write failure                            exit 74 (EX_IOERR)
  kUnsupported,       ///< valid input tierjit cannot handle yet    exit 69 (EX_UNAVAILABLE)
  kInternal,          ///< broken invariant                         exit 70 (EX_SOFTWARE)
};

/// The process exit status the CLI uses for an error of this code.
constexpr int exit_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return 64;
    case ErrorCode::kInvalidInput:
      return 65;
    case ErrorCode::kFileNotFound:
      return 66;
    case ErrorCode::kMissingEntry:
      return 67;
    case ErrorCode::kUnresolvedSymbol:
      return 69;
    case ErrorCode::kUnsupported:
      return 69;
    case ErrorCode::kCompileFailed:
      return 70;
    case ErrorCode::kInternal:
      return 70;
    case ErrorCode::kCacheCorrupt:
      return 74;
    case ErrorCode::kIo:
      return 74;
  }
  return 70;
}

}  // namespace tierjit
