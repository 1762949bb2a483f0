// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Whole-file reads and atomic writes (temp file + rename).
#pragma once

#include <string>

#include "support/error.hpp"

namespace tierjit {

/// Reads a whole file. kFileNotFound names the path and the OS reason.
Expected<std::string> read_file(const std::string& path);

/// Writes `bytes` to `path` atomically: a unique temp file in the same directory, fsync-free,
/// then rename(2). Readers see either the old file or the whole new one, never a torn write.
Status write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace tierjit
