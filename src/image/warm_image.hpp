// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm images: what a program's earlier runs compiled, as one shared object that a later run
// maps and calls without starting LLVM.
//
// A warm image is the whole LLVM IR program compiled ahead of time (src/aot,
// build_warm_image): the functions an earlier run executed at O2, the others at optnone (one
// quick instruction-selection pass; they are still correct, only slower), linked by lld with
// -Bsymbolic. It is stored in the object cache under image_key(file content) as
//   magic "TJWI" | u32 format version | u32 functions at O2 | u32 functions at optnone |
//   shared object bytes                                                  (little-endian)
// so the cache verifies it (XXH3-128 of the payload) like every other entry before it is
// mapped. The shared object is then copied into a sealed memfd and opened from there, so the
// bytes that were verified are the bytes the dynamic loader maps.
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

#include "support/error.hpp"
#include "support/hash.hpp"

namespace tierjit::image {

/// The host CPU as CPUID reports it (vendor, family/model/stepping, the feature leaves 1 and 7,
/// XCR0): images are compiled for the host CPU, so a different CPU never maps one.
std::string host_cpu_identity();

/// The cache key of the warm image of a program whose file content is `program` (.ll, .bc or
/// LLBC bytes as read): kind "warm-image", tierjit and LLVM versions, host CPU, content hash.
Hash128 image_key(std::string_view program);

struct ImageHeader {
  uint32_t hot_functions = 0;   ///< compiled at O2 (an earlier run executed them)
  uint32_t cold_functions = 0;  ///< compiled with optnone
};

/// The cache payload for a linked shared object.
std::string encode_image(const ImageHeader& header, std::string_view shared_object);

/// A mapped warm image. Owns the dlopen handle for the rest of the process (never closed: the
/// program's destructors and atexit handlers run from it at exit).
struct LoadedImage {
  ImageHeader header;
  int (*main)(int, char**, char**) = nullptr;  ///< the program's `main`
  double load_ms = 0;                          ///< memfd copy + dlopen (constructors included)
};

/// Maps a verified cache payload: checks the header, copies the shared object into a sealed
/// memfd, dlopen()s it (RTLD_NOW: every host symbol is bound now, from the process) and finds
/// `main`. Runs the program's constructors. Errors: kCacheCorrupt (bad header), kIo (memfd),
/// kUnresolvedSymbol (the dynamic loader refused it, e.g. a host symbol this process lacks:
/// the message is dlerror()'s), kMissingEntry (no `main`).
Expected<LoadedImage> load_image(std::string_view payload, const std::string& name);

}  // namespace tierjit::image
