// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// libFuzzer target: remote storage's configuration parser, and what a hostile remote can
// send. Odd first byte: the rest is a configuration string, which must parse or fail with
// kUsage. Even: the rest is the blob a file: remote returns for a key; the object cache must
// refuse it (a forged entry would need an XXH3-128 collision) without crashing.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "runtime/object_cache.hpp"
#include "runtime/remote_storage.hpp"
#include "support/file.hpp"

using namespace tierjit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto specs = parse_remote_storage(rest);
    if (!specs.ok() && specs.error().code != ErrorCode::kUsage) __builtin_trap();
    return 0;
  }
  static const std::string root = std::filesystem::temp_directory_path().string() +
                                  "/tj-fuzz-remote-" + std::to_string(::getpid());
  static RemoteStorage* remote = [] {
    ::setenv("TIERJIT_REMOTE_STATE_DIR", (root + "/state").c_str(), 1);
    auto specs = parse_remote_storage("file://" + root + "/shared");
    return new RemoteStorage(std::move(specs).value());
  }();
  Hash128 key{0x1234, 0x5678};
  std::filesystem::create_directories(root + "/shared");
  if (!write_file_atomic(root + "/shared/" + key.hex(), rest).ok()) return 0;
  std::filesystem::remove_all(root + "/local");
  ObjectCache cache(root + "/local");
  cache.set_remote(remote);
  if (cache.load(key).has_value()) __builtin_trap();
  return 0;
}
