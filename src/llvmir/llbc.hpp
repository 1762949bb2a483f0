// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The LLBC container: a fixed 128-byte header followed by one LLVM bitcode module.
// The original LLBC writer and reader disagreed on the header size (124 vs 120 bytes);
// this layout is exactly 128 bytes:
//
//   offset size field
//   0      4    magic: the bytes 'L' 'L' 'B' 'C' (0x4C4C4243 read big-endian)
//   4      32   module_name, NUL-padded UTF-8 (at most 31 bytes + NUL)
//   36     64   entry_name, NUL-padded (at most 63 bytes + NUL); empty = "main"
//   100    4    bitcode_size, u32 little-endian, bytes of payload after the header
//   104    4    version, u32 LE; this reader accepts 1
//   108    4    opt_level, u32 LE, 0..3
//   112    8    payload_hash, u64 LE: XXH3-64 of the payload (0 = not recorded)
//   120    8    reserved, must be 0
//   128    ...  bitcode (must start with the bitcode magic 'BC' 0xC0DE or its wrapper)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "support/error.hpp"

namespace tierjit::llvmir {

inline constexpr size_t kLlbcHeaderSize = 128;
inline constexpr uint32_t kLlbcVersion = 1;

struct LlbcHeader {
  std::string module_name;
  std::string entry_name;
  uint32_t bitcode_size = 0;
  uint32_t version = kLlbcVersion;
  uint32_t opt_level = 2;
  uint64_t payload_hash = 0;
};

/// True when `bytes` starts with the LLBC magic.
bool is_llbc(std::string_view bytes);

/// Parses and validates an LLBC file; on success `payload` views the bitcode inside `bytes`.
/// Errors (kInvalidInput, with the byte offset): truncated header or payload, bad magic,
/// unsupported version, opt level > 3, non-zero reserved word, trailing bytes, hash mismatch,
/// payload that is not bitcode.
Expected<LlbcHeader> parse_llbc(std::string_view bytes, const std::string& path,
                                std::string_view* payload);

/// Serializes header + bitcode. Names too long for their fields are an error (kUsage).
Expected<std::string> write_llbc(const LlbcHeader& header, std::string_view bitcode);

/// True when `bytes` starts with raw bitcode magic or the bitcode wrapper magic.
bool is_bitcode(std::string_view bytes);

}  // namespace tierjit::llvmir
