// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// When `tierjit run` starts building a program's warm image (image/warm_image.hpp), and the
// lock that keeps two builds of one image from running at once.
#pragma once

#include <string>
#include <vector>

#include "runtime/object_cache.hpp"
#include "support/hash.hpp"
#include "tierjit/engine.hpp"

namespace tierjit::cli {

/// An exclusive lock file beside the image's cache entry (ENTRY.building), removed by the
/// destructor. A lock older than 30 minutes is taken to be left by a crashed build.
class ImageLock {
 public:
  ImageLock(const ObjectCache& cache, const Hash128& key);
  ~ImageLock();
  ImageLock(const ImageLock&) = delete;
  ImageLock& operator=(const ImageLock&) = delete;
  bool acquired() const { return fd_ >= 0; }

 private:
  std::string path_;
  int fd_ = -1;
};

/// Called at the end of a plain `tierjit run` (tiered, default entry, cache on) of LLVM IR.
/// From a program's second run (some code came from the cache) and when the cache has no
/// image of it and no build is running, starts `tierjit-engine cache image FILE --profile P
/// --background` as a detached process (its own session, stdio on /dev/null), P listing the
/// functions that have run. Returns the `--stats` line ("warm image: ...").
std::string start_image_build(const std::string& file, const std::string& cache_dir,
                              const Hash128& key, const std::vector<FunctionReport>& reports);

}  // namespace tierjit::cli
