// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Format detection and parsing of LLVM IR inputs.
#include "llvmir/ir_loader.hpp"

#include <llvm/AsmParser/Parser.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include "support/file.hpp"

namespace tierjit::llvmir {

const char* format_name(IrFormat f) {
  switch (f) {
    case IrFormat::kText:
      return "LLVM IR text";
    case IrFormat::kBitcode:
      return "LLVM bitcode";
    case IrFormat::kLlbc:
      return "LLBC container";
  }
  return "?";
}

namespace {

Expected<std::unique_ptr<llvm::Module>> parse_bitcode(std::string_view bc, const std::string& name,
                                                      llvm::LLVMContext& ctx, bool lazy,
                                                      int64_t base_offset) {
  auto buf = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(bc.data(), bc.size()), name);
  llvm::Expected<std::unique_ptr<llvm::Module>> m =
      lazy ? llvm::getOwningLazyBitcodeModule(std::move(buf), ctx)
           : llvm::parseBitcodeFile(buf->getMemBufferRef(), ctx);
  if (!m)
    return make_error(ErrorCode::kInvalidInput, "invalid bitcode: " + llvm::toString(m.takeError()),
                      SourceLoc{name, 0, 0, base_offset});
  return std::move(*m);
}

Expected<std::unique_ptr<llvm::Module>> parse_text(const std::string& bytes,
                                                   const std::string& name,
                                                   llvm::LLVMContext& ctx) {
  llvm::SMDiagnostic diag;
  auto m = llvm::parseAssembly(llvm::MemoryBufferRef(bytes, name), diag, ctx);
  if (!m) {
    SourceLoc loc{name, uint32_t(std::max(diag.getLineNo(), 0)),
                  uint32_t(std::max(diag.getColumnNo(), 0) + 1)};
    return make_error(ErrorCode::kInvalidInput, "invalid IR: " + diag.getMessage().str(), loc);
  }
  return m;
}

}  // namespace

Expected<LoadedIr> load_ir_bytes(std::string bytes, const std::string& name, llvm::LLVMContext& ctx,
                                 bool lazy, const Hash128* known_hash) {
  LoadedIr out;
  out.content_hash = known_hash ? *known_hash : hash_bytes(bytes);
  if (bytes.empty()) return make_error(ErrorCode::kInvalidInput, "empty input file", {name});
  if (is_llbc(bytes)) {
    std::string_view payload;
    TJ_ASSIGN_OR_RETURN(LlbcHeader h, parse_llbc(bytes, name, &payload));
    out.format = IrFormat::kLlbc;
    out.llbc = h;
    TJ_ASSIGN_OR_RETURN(out.module, parse_bitcode(payload, name, ctx, lazy, kLlbcHeaderSize));
  } else if (is_bitcode(bytes)) {
    out.format = IrFormat::kBitcode;
    TJ_ASSIGN_OR_RETURN(out.module, parse_bitcode(bytes, name, ctx, lazy, 0));
  } else {
    if (bytes.find('\0') != std::string::npos)
      return make_error(ErrorCode::kInvalidInput,
                        "not LLVM IR: binary data that is neither bitcode nor LLBC",
                        SourceLoc{name, 0, 0, int64_t(bytes.find('\0'))});
    out.format = IrFormat::kText;
    TJ_ASSIGN_OR_RETURN(out.module, parse_text(bytes, name, ctx));
  }
  return out;
}

Status verify_ir(const llvm::Module& m, const std::string& name, const std::string& context) {
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (!llvm::verifyModule(m, &os)) return {};
  std::string where = context.empty() ? "" : " in " + context;
  return make_error(ErrorCode::kInvalidInput,
                    "invalid IR" + where + ": " + msg.substr(0, msg.find('\n')), {name});
}

Expected<LoadedIr> load_ir_file(const std::string& path, llvm::LLVMContext& ctx, bool lazy) {
  TJ_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return load_ir_bytes(std::move(bytes), path, ctx, lazy);
}

}  // namespace tierjit::llvmir
