// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "runtime/cache_key.hpp"

#include <string>

#include "tierjit/version.hpp"

namespace tierjit {

CacheKey::CacheKey(std::string_view kind) {
  h_.add(std::string("tierjit-").append(kind)).add(kVersion).add(kLlvmVersion);
}

}  // namespace tierjit
