// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm images: what a program's earlier runs compiled, as one shared object that a later run
// maps and calls without starting LLVM.
//
// A warm image is the whole LLVM IR program compiled ahead of time (src/aot,
// build_warm_image): the functions an earlier run executed at O2, the others at optnone (one
// quick instruction-selection pass; they are still correct, only slower), linked by lld with
// -Bsymbolic. It is kept in the object cache as two files:
//   the entry under image_key(file content), verified by the cache like every entry:
//     magic "TJWI" | u32 format version | u32 functions at O2 | u32 functions at optnone |
//     u64 shared-object size | 16-byte XXH3-128 of the shared object        (little-endian)
//   ENTRY.so beside it: the shared object itself (the cache counts and evicts it with the
//     entry).
// The loader opens ENTRY.so once, checks size and hash through that descriptor and
// dlopen()s the same descriptor (/proc/self/fd/N): the bytes checked are the bytes mapped,
// and the code is mapped straight from the page cache (no copy, shared between processes).
//
// The same technique as Android's ART (JIT first, profile, ahead-of-time compile of the
// profiled methods in the background, the next start maps the result): run #1 is cold (the
// baseline tier), run #2 warm from the code bundle and it starts the image build in a
// detached process, run #3 and later map the image.
//
// Nothing here links LLVM: the launcher (cli/launcher.cpp) runs warm images in a process
// that maps no LLVM code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/object_cache.hpp"
#include "support/error.hpp"
#include "support/hash.hpp"

namespace tierjit::image {

/// True unless TIERJIT_WARM_IMAGE is "off" or "0" (the launcher maps no image, `tierjit run`
/// starts no build).
bool images_enabled();

/// The host CPU as CPUID reports it (vendor, family/model/stepping, the feature leaves 1 and 7,
/// XCR0): images are compiled for the host CPU, so a different CPU never maps one.
std::string host_cpu_identity();

/// The cache key of the warm image of a program whose file content is `program` (.ll, .bc or
/// LLBC bytes as read): kind "warm-image", tierjit and LLVM versions, host CPU, content hash.
Hash128 image_key(std::string_view program);

/// image_key() of the file at `path`, read through a read-only mapping (no copy: the launcher
/// hashes multi-megabyte bitcode on every run). Errors: kFileNotFound.
Expected<Hash128> image_key_of_file(const std::string& path);

struct ImageHeader {
  uint32_t hot_functions = 0;   ///< compiled at O2 (an earlier run executed them)
  uint32_t cold_functions = 0;  ///< compiled with optnone
};

/// Stores a linked shared object as the image of `key`: ENTRY.so first (atomically), then
/// the entry, so a reader that finds the entry finds its shared object. Errors: kIo.
Status store_image(ObjectCache& cache, const Hash128& key, const ImageHeader& header,
                   std::string_view shared_object);

/// A mapped warm image. Owns the dlopen handle for the rest of the process (never closed: the
/// program's destructors and atexit handlers run from it at exit).
struct LoadedImage {
  ImageHeader header;
  int (*main)(int, char**, char**) = nullptr;  ///< the program's `main`
  double load_ms = 0;                          ///< verification + dlopen (constructors included)
};

/// Finds, verifies and maps the image of `key`: dlopen with RTLD_NOW (every host symbol is
/// bound now, from the process), then `main`. Runs the program's constructors.
/// Errors: kFileNotFound (no image: a miss), kCacheCorrupt (bad header, or a shared object
/// whose size or hash differs: both files are deleted so the next run rebuilds them),
/// kUnresolvedSymbol (the dynamic loader refused it, e.g. a host symbol this process lacks:
/// the message is dlerror()'s), kMissingEntry (no `main`).
Expected<LoadedImage> load_image(ObjectCache& cache, const Hash128& key, const std::string& name);

}  // namespace tierjit::image
