// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm images: key, cache format and the loader (verify + dlopen through one descriptor).
#include "image/warm_image.hpp"

#include <cpuid.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "runtime/cache_key.hpp"
#include "support/file.hpp"
#include "tierjit/version.hpp"

namespace tierjit::image {
namespace {

constexpr char kMagic[4] = {'T', 'J', 'W', 'I'};
constexpr uint32_t kFormatVersion = 2;
constexpr size_t kHeaderSize = 40;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t get_u32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

bool images_enabled() {
  const char* v = std::getenv("TIERJIT_WARM_IMAGE");
  return !v || (std::strcmp(v, "off") != 0 && std::strcmp(v, "0") != 0);
}

std::string host_cpu_identity() {
  std::string id;
  auto leaf = [&](unsigned l, unsigned sub) {
    unsigned r[4] = {0, 0, 0, 0};
    if (__get_cpuid_count(l, sub, &r[0], &r[1], &r[2], &r[3]) == 0) return;
    id.append(reinterpret_cast<const char*>(r), sizeof r);
  };
  unsigned max = __get_cpuid_max(0, nullptr);
  leaf(0, 0);  // vendor
  leaf(1, 0);  // family/model/stepping + features (the APIC id in ebx[31:24] is masked below)
  if (id.size() >= 32) std::memset(&id[16 + 7], 0, 1);
  if (max >= 7) {
    leaf(7, 0);
    leaf(7, 1);
  }
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE)) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    id.append(reinterpret_cast<const char*>(&lo), sizeof lo);
  }
  return id;
}

Hash128 image_key(std::string_view program) {
  return CacheKey("warm-image")
      .add_u64(kFormatVersion)  // an older layout is a miss, not a corrupt entry
      .add(host_cpu_identity())
      .add(hash_bytes(program))
      .finish();
}

Expected<Hash128> image_key_of_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kFileNotFound, "cannot open", {path});
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    ::close(fd);
    return make_error(ErrorCode::kFileNotFound, "not a regular, non-empty file", {path});
  }
  size_t size = size_t(st.st_size);
  void* bytes = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (bytes == MAP_FAILED) return make_error(ErrorCode::kFileNotFound, "cannot map", {path});
  Hash128 key = image_key(std::string_view(static_cast<const char*>(bytes), size));
  ::munmap(bytes, size);
  return key;
}

Status store_image(ObjectCache& cache, const Hash128& key, const ImageHeader& header,
                   std::string_view shared_object) {
  TJ_TRY(cache.store_sidecar(key, shared_object));
  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kFormatVersion);
  put_u32(out, header.hot_functions);
  put_u32(out, header.cold_functions);
  uint64_t size = shared_object.size();
  out.append(reinterpret_cast<const char*>(&size), 8);
  Hash128 h = hash_bytes(shared_object);
  out.append(reinterpret_cast<const char*>(&h), 16);
  cache.store(key, out);
  return {};
}

Expected<LoadedImage> load_image(ObjectCache& cache, const Hash128& key, const std::string& name) {
  auto t0 = std::chrono::steady_clock::now();
  std::optional<std::string> payload = cache.load(key);
  if (!payload) return make_error(ErrorCode::kFileNotFound, "no warm image", {name});
  std::string entry = cache.entry_path(key);
  cache.fetch_sidecar(key);  // from remote storage, when the entry came from there too
  auto corrupt = [&](const std::string& why) {
    ::unlink(entry.c_str());
    ::unlink((entry + ".so").c_str());
    return make_error(ErrorCode::kCacheCorrupt,
                      "corrupt warm image " + entry + ".so (" + why + "); discarded", {name});
  };
  if (payload->size() != kHeaderSize || std::memcmp(payload->data(), kMagic, 4) != 0 ||
      get_u32(*payload, 4) != kFormatVersion)
    return corrupt("not a warm image entry of this tierjit version");
  LoadedImage img;
  img.header.hot_functions = get_u32(*payload, 8);
  img.header.cold_functions = get_u32(*payload, 12);
  uint64_t size;
  Hash128 want;
  std::memcpy(&size, payload->data() + 16, 8);
  std::memcpy(&want, payload->data() + 24, 16);

  // One descriptor for the check and the load.
  int fd = ::open((entry + ".so").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return corrupt("missing");
  struct stat st;
  if (::fstat(fd, &st) != 0 || uint64_t(st.st_size) != size || size == 0) {
    ::close(fd);
    return corrupt("size differs");
  }
  void* bytes = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) {
    ::close(fd);
    return make_error(ErrorCode::kIo, "cannot map the warm image", {entry + ".so"});
  }
  bool same = hash_bytes(std::string_view(static_cast<const char*>(bytes), size)) == want;
  ::munmap(bytes, size);
  if (!same) {
    ::close(fd);
    return corrupt("content hash mismatch");
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ::close(fd);  // the loader's mappings keep the file alive
  if (!handle) {
    const char* why = ::dlerror();
    return make_error(
        ErrorCode::kUnresolvedSymbol,
        std::string("the dynamic loader refused the warm image: ") + (why ? why : "unknown error"),
        {name});
  }
  void* main = ::dlsym(handle, "main");
  if (!main) return make_error(ErrorCode::kMissingEntry, "the warm image defines no main", {name});
  img.main = reinterpret_cast<int (*)(int, char**, char**)>(main);
  img.load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return img;
}

}  // namespace tierjit::image
