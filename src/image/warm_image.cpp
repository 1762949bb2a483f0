// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Warm images: key, payload format and the loader (memfd + dlopen).
#include "image/warm_image.hpp"

#include <cpuid.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "runtime/cache_key.hpp"
#include "tierjit/version.hpp"

namespace tierjit::image {
namespace {

constexpr char kMagic[4] = {'T', 'J', 'W', 'I'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 16;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t get_u32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

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
  return CacheKey("warm-image").add(host_cpu_identity()).add(hash_bytes(program)).finish();
}

std::string encode_image(const ImageHeader& header, std::string_view shared_object) {
  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kFormatVersion);
  put_u32(out, header.hot_functions);
  put_u32(out, header.cold_functions);
  out.append(shared_object);
  return out;
}

Expected<LoadedImage> load_image(std::string_view payload, const std::string& name) {
  auto t0 = std::chrono::steady_clock::now();
  if (payload.size() < kHeaderSize || std::memcmp(payload.data(), kMagic, 4) != 0 ||
      get_u32(payload, 4) != kFormatVersion)
    return make_error(ErrorCode::kCacheCorrupt, "not a warm image of this tierjit version",
                      {name});
  LoadedImage img;
  img.header.hot_functions = get_u32(payload, 8);
  img.header.cold_functions = get_u32(payload, 12);
  std::string_view so = payload.substr(kHeaderSize);

  int fd = ::memfd_create("tierjit-warm-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return make_error(ErrorCode::kIo, "memfd_create failed", {name});
  for (size_t done = 0; done < so.size();) {
    ssize_t n = ::write(fd, so.data() + done, so.size() - done);
    if (n <= 0) {
      ::close(fd);
      return make_error(ErrorCode::kIo, "cannot copy the warm image into memory", {name});
    }
    done += static_cast<size_t>(n);
  }
  // Sealed: nothing in this process can change the verified bytes under the loader.
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ::close(fd);  // the loader's mappings keep the memory alive
  if (!handle) {
    const char* why = ::dlerror();
    return make_error(ErrorCode::kUnresolvedSymbol,
                      std::string("the dynamic loader refused the warm image: ") +
                          (why ? why : "unknown error"),
                      {name});
  }
  void* entry = ::dlsym(handle, "main");
  if (!entry)
    return make_error(ErrorCode::kMissingEntry, "the warm image defines no main", {name});
  img.main = reinterpret_cast<int (*)(int, char**, char**)>(entry);
  img.load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return img;
}

}  // namespace tierjit::image
