// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Where the shared StableHLO corpus is: TIERJIT_STABLEHLO_DIR, else ../shared/stablehlo beside
// the source tree. A missing corpus fails the corpus tests; setting
// TIERJIT_NO_STABLEHLO_CORPUS=1 turns that into a reported skip.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace tierjit::testing {

inline std::filesystem::path stablehlo_corpus() {
  const char* dir = std::getenv("TIERJIT_STABLEHLO_DIR");
  return dir ? std::filesystem::path(dir)
             : std::filesystem::path(TIERJIT_SOURCE_DIR) / ".." / "shared" / "stablehlo";
}

inline bool stablehlo_corpus_opted_out() {
  const char* v = std::getenv("TIERJIT_NO_STABLEHLO_CORPUS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace tierjit::testing

// In a test body: skips (only when opted out) or fails when the corpus directory is missing.
#define TIERJIT_REQUIRE_STABLEHLO_CORPUS(dir)                                                     \
  do {                                                                                            \
    if (!std::filesystem::exists(dir)) {                                                          \
      if (::tierjit::testing::stablehlo_corpus_opted_out())                                       \
        GTEST_SKIP() << "no StableHLO corpus at " << (dir) << " (TIERJIT_NO_STABLEHLO_CORPUS=1)"; \
      FAIL() << "no StableHLO corpus at " << (dir)                                                \
             << ": put the shared corpus there, point TIERJIT_STABLEHLO_DIR at it, or set "       \
                "TIERJIT_NO_STABLEHLO_CORPUS=1 to skip";                                          \
    }                                                                                             \
  } while (0)
