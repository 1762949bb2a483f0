// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// LLBC container reader and writer.
#include "llvmir/llbc.hpp"

#include <cstring>

#include "support/hash.hpp"

namespace tierjit::llvmir {
namespace {

uint32_t rd32(std::string_view b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;  // host is little-endian (x86-64, riscv64)
}
uint64_t rd64(std::string_view b, size_t off) {
  uint64_t v;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}
std::string rdstr(std::string_view b, size_t off, size_t n) {
  std::string_view f = b.substr(off, n);
  size_t nul = f.find('\0');
  return std::string(f.substr(0, nul));
}

}  // namespace

bool is_llbc(std::string_view bytes) { return bytes.size() >= 4 && bytes.substr(0, 4) == "LLBC"; }

bool is_bitcode(std::string_view b) {
  if (b.size() >= 4 && b[0] == 'B' && b[1] == 'C' && uint8_t(b[2]) == 0xC0 && uint8_t(b[3]) == 0xDE)
    return true;
  return b.size() >= 4 && uint8_t(b[0]) == 0xDE && uint8_t(b[1]) == 0xC0 && uint8_t(b[2]) == 0x17 &&
         uint8_t(b[3]) == 0x0B;
}

Expected<LlbcHeader> parse_llbc(std::string_view b, const std::string& path,
                                std::string_view* payload) {
  auto err = [&](int64_t off, std::string msg) {
    return make_error(ErrorCode::kInvalidInput, "LLBC: " + std::move(msg),
                      SourceLoc{path, 0, 0, off});
  };
  if (b.size() < kLlbcHeaderSize)
    return err(int64_t(b.size()),
               "truncated header: " + std::to_string(b.size()) + " bytes, expected at least 128");
  if (!is_llbc(b)) return err(0, "bad magic (expected the bytes \"LLBC\")");
  LlbcHeader h;
  h.module_name = rdstr(b, 4, 32);
  h.entry_name = rdstr(b, 36, 64);
  h.bitcode_size = rd32(b, 100);
  h.version = rd32(b, 104);
  h.opt_level = rd32(b, 108);
  h.payload_hash = rd64(b, 112);
  if (h.version != kLlbcVersion)
    return err(104,
               "unsupported version " + std::to_string(h.version) + " (this reader accepts 1)");
  if (h.opt_level > 3) return err(108, "opt level " + std::to_string(h.opt_level) + " out of 0..3");
  if (rd64(b, 120) != 0) return err(120, "reserved word is not zero");
  uint64_t avail = b.size() - kLlbcHeaderSize;
  if (h.bitcode_size > avail)
    return err(100, "truncated payload: header says " + std::to_string(h.bitcode_size) +
                        " bytes of bitcode, file has " + std::to_string(avail));
  if (h.bitcode_size < avail)
    return err(int64_t(kLlbcHeaderSize + h.bitcode_size),
               "oversized: " + std::to_string(avail - h.bitcode_size) +
                   " trailing bytes after the bitcode");
  std::string_view body = b.substr(kLlbcHeaderSize, h.bitcode_size);
  if (!is_bitcode(body)) return err(kLlbcHeaderSize, "payload is not LLVM bitcode");
  if (h.payload_hash != 0 && hash64(body) != h.payload_hash)
    return err(112, "payload hash mismatch (corrupt file)");
  if (payload) *payload = body;
  return h;
}

Expected<std::string> write_llbc(const LlbcHeader& h, std::string_view bitcode) {
  if (h.module_name.size() > 31)
    return make_error(ErrorCode::kUsage, "LLBC module name longer than 31 bytes: " + h.module_name);
  if (h.entry_name.size() > 63)
    return make_error(ErrorCode::kUsage, "LLBC entry name longer than 63 bytes: " + h.entry_name);
  if (h.opt_level > 3) return make_error(ErrorCode::kUsage, "LLBC opt level must be 0..3");
  if (!is_bitcode(bitcode))
    return make_error(ErrorCode::kInvalidInput, "LLBC payload is not LLVM bitcode");
  if (bitcode.size() > UINT32_MAX)
    return make_error(ErrorCode::kInvalidInput, "bitcode larger than 4 GiB");
  std::string out(kLlbcHeaderSize, '\0');
  auto wr32 = [&](size_t off, uint32_t v) { std::memcpy(&out[off], &v, 4); };
  std::memcpy(&out[0], "LLBC", 4);
  std::memcpy(&out[4], h.module_name.data(), h.module_name.size());
  std::memcpy(&out[36], h.entry_name.data(), h.entry_name.size());
  wr32(100, uint32_t(bitcode.size()));
  wr32(104, kLlbcVersion);
  wr32(108, h.opt_level);
  uint64_t ph = hash64(bitcode);
  std::memcpy(&out[112], &ph, 8);
  out.append(bitcode);
  return out;
}

}  // namespace tierjit::llvmir
