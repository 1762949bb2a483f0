// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Source positions through llvm::symbolize.
#include "sandbox/source_map.hpp"

#include <fmt/format.h>
#include <llvm/DebugInfo/Symbolize/Symbolize.h>

namespace tierjit::sandbox {

std::string SourcePosition::to_string() const {
  if (function.empty() && file.empty()) return "??";
  std::string s = function.empty() ? "??" : function;
  if (!file.empty()) s += fmt::format(" at {}:{}:{}", file, line, column);
  return s;
}

SourcePosition source_position(const std::string& elf_path, uint64_t pc) {
  llvm::symbolize::LLVMSymbolizer::Options opts;
  opts.Demangle = true;
  llvm::symbolize::LLVMSymbolizer symbolizer(opts);
  SourcePosition out;
  auto info =
      symbolizer.symbolizeCode(elf_path, {pc, llvm::object::SectionedAddress::UndefSection});
  if (!info) {
    llvm::consumeError(info.takeError());
    return out;
  }
  if (info->FunctionName != llvm::DILineInfo::BadString) out.function = info->FunctionName;
  if (info->FileName != llvm::DILineInfo::BadString) {
    out.file = info->FileName;
    out.line = info->Line;
    out.column = info->Column;
  }
  return out;
}

}  // namespace tierjit::sandbox
