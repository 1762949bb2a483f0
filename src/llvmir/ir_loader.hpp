// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Loads LLVM IR from .ll text, .bc bitcode or an LLBC container, detected from the content.
// Requires: a readable file. Produces: an llvm::Module (bitcode bodies loaded lazily on request).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "llvmir/llbc.hpp"
#include "support/error.hpp"
#include "support/hash.hpp"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace tierjit::llvmir {

enum class IrFormat { kText, kBitcode, kLlbc };
const char* format_name(IrFormat f);

struct LoadedIr {
  std::unique_ptr<llvm::Module> module;
  IrFormat format = IrFormat::kText;
  Hash128 content_hash;            ///< XXH3-128 of the whole input file
  std::optional<LlbcHeader> llbc;  ///< set for LLBC inputs
};

/// Reads `path` and parses it. With `lazy`, function bodies of bitcode inputs are read only
/// when first materialized (text IR is always parsed whole). Errors: kFileNotFound,
/// kInvalidInput with file:line:col for text IR (from LLVM's parser) or the LLBC byte offset.
Expected<LoadedIr> load_ir_file(const std::string& path, llvm::LLVMContext& ctx, bool lazy);

/// Runs LLVM's verifier. Error: kInvalidInput "invalid IR[ in <context>]: <first problem>"
/// located at `name`.
Status verify_ir(const llvm::Module& m, const std::string& name, const std::string& context = "");

/// As load_ir_file, from bytes already in memory; `name` is used in errors.
/// `known_hash` (the bytes' XXH3-128, when the caller computed it already) saves hashing the
/// input twice.
Expected<LoadedIr> load_ir_bytes(std::string bytes, const std::string& name, llvm::LLVMContext& ctx,
                                 bool lazy, const Hash128* known_hash = nullptr);

}  // namespace tierjit::llvmir
