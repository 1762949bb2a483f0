// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Loading a guest ELF: the headers are read with the system's <elf.h> types (ELF-64 Object File
// Format 1.5; RISC-V ELF psABI for e_machine and e_flags), every table and address checked
// against the file and the guest memory before anything is mapped. A guest is a static
// little-endian RV64 executable with exactly one executable segment, no writable-and-executable
// segment and every PT_LOAD inside the guest memory below the stack (the memory map of
// include/tierjit/sandbox.hpp). No LLVM here: the sandbox runs in the `tierjit` launcher, which
// starts without it.
#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "sandbox/machine.hpp"

namespace tierjit::sandbox {
namespace {

#ifndef EF_RISCV_RVE
#define EF_RISCV_RVE 0x0008
#endif

// The file's bytes and checked views of its tables (little-endian host: x86-64).
class ElfFile {
 public:
  explicit ElfFile(std::string_view bytes) : b_(bytes) {
    std::memcpy(&hdr_, b_.data(), sizeof hdr_);
  }
  const Elf64_Ehdr& header() const { return hdr_; }
  // The program headers, or nullopt with `why` when the table lies outside the file.
  std::optional<std::vector<Elf64_Phdr>> program_headers(std::string* why) const {
    return table<Elf64_Phdr>(hdr_.e_phoff, hdr_.e_phnum, hdr_.e_phentsize, "program header", why);
  }
  std::optional<std::vector<Elf64_Shdr>> sections(std::string* why) const {
    return table<Elf64_Shdr>(hdr_.e_shoff, hdr_.e_shnum, hdr_.e_shentsize, "section header", why);
  }
  // A section's bytes, or nullopt when they lie outside the file.
  std::optional<std::string_view> contents(const Elf64_Shdr& s) const {
    if (s.sh_offset > b_.size() || s.sh_size > b_.size() - s.sh_offset) return std::nullopt;
    return b_.substr(s.sh_offset, s.sh_size);
  }

 private:
  template <class T>
  std::optional<std::vector<T>> table(uint64_t off, uint64_t n, uint64_t entsize, const char* what,
                                      std::string* why) const {
    std::vector<T> out;
    if (n == 0) return out;
    if (entsize != sizeof(T)) {
      *why = fmt::format("{} entries are {} bytes, not {}", what, entsize, sizeof(T));
      return std::nullopt;
    }
    if (off > b_.size() || n > (b_.size() - off) / sizeof(T)) {
      *why = fmt::format("{} table at offset {} ({} entries) goes past the end of the file", what,
                         off, n);
      return std::nullopt;
    }
    out.resize(n);
    std::memcpy(out.data(), b_.data() + off, n * sizeof(T));
    return out;
  }
  std::string_view b_;
  Elf64_Ehdr hdr_;
};

Error not_a_guest(const std::string& name, std::string what, int64_t offset = -1) {
  SourceLoc loc{name};
  loc.byte_offset = offset;
  return make_error(ErrorCode::kInvalidInput, "not a tierjit guest: " + what, loc);
}

// The identification bytes and the file header: a static RV64 (not RV64E) executable.
Expected<ElfFile> open_elf(const std::string& name, std::string_view elf) {
  if (elf.size() < 64 || std::memcmp(elf.data(),
                                     "\x7f"
                                     "ELF",
                                     4) != 0)
    return not_a_guest(name, "no ELF magic", 0);
  if (elf[4] != 2) return not_a_guest(name, "not a 64-bit ELF (EI_CLASS)", 4);
  if (elf[5] != 1) return not_a_guest(name, "not little-endian (EI_DATA)", 5);
  if (elf[6] != EV_CURRENT) return not_a_guest(name, "unknown ELF version (EI_VERSION)", 6);
  ElfFile file(elf);
  const Elf64_Ehdr& hdr = file.header();
  if (hdr.e_machine != EM_RISCV) return not_a_guest(name, "e_machine is not RISC-V", 18);
  if (hdr.e_type != ET_EXEC)
    return not_a_guest(name, "not an executable (ET_EXEC); link it statically", 16);
  if (hdr.e_flags & EF_RISCV_RVE) return not_a_guest(name, "RV64E guests are not supported", 48);
  return file;
}

Status check_limits(const Limits& limits) {
  if (limits.max_memory < (1u << 20) || limits.max_memory > (64ull << 30))
    return make_error(ErrorCode::kUsage, "guest memory limit must be between 1 MiB and 64 GiB");
  if (limits.stack_size < 4096 || limits.stack_size > limits.max_memory / 2)
    return make_error(ErrorCode::kUsage,
                      "guest stack size must be between 4 KiB and half the memory");
  return {};
}

// What the program headers ask for: the segments' contents and the bounds of the image.
struct Image {
  std::vector<Sandbox::Impl::Segment> segments;
  uint64_t lo_ro = UINT64_MAX, lo_rw = UINT64_MAX, hi = 0;  ///< lowest, lowest writable, end
  uint64_t exec_lo = UINT64_MAX, exec_hi = 0;               ///< the executable segment
};

// Reads the PT_LOAD segments, each checked to lie in [kNullGuard, image_max).
Expected<Image> read_segments(const std::string& name, std::string_view elf, const ElfFile& file,
                              uint64_t image_max) {
  const Elf64_Ehdr& hdr = file.header();
  std::string why;
  auto phdrs = file.program_headers(&why);
  if (!phdrs) return not_a_guest(name, why, 32);
  Image image;
  int index = 0;
  for (const auto& ph : *phdrs) {
    int64_t at = static_cast<int64_t>(hdr.e_phoff + index * hdr.e_phentsize);
    ++index;
    if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
      return not_a_guest(
          name,
          fmt::format("program header {} asks for dynamic linking; link statically", index - 1),
          at);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    uint64_t v = ph.p_vaddr, n = ph.p_memsz;
    if (ph.p_filesz > n)
      return not_a_guest(name, fmt::format("segment {}: p_filesz > p_memsz", index - 1), at);
    if (ph.p_offset > elf.size() || ph.p_filesz > elf.size() - ph.p_offset)
      return not_a_guest(
          name, fmt::format("segment {}: file range beyond the end of the file", index - 1), at);
    if (v < kNullGuard || v > image_max || n > image_max - v)
      return not_a_guest(
          name,
          fmt::format("segment {} at 0x{:x}+0x{:x} does not fit the guest memory below the stack "
                      "(0x{:x}..0x{:x}); raise --max-memory",
                      index - 1, v, n, kNullGuard, image_max),
          at);
    bool w = ph.p_flags & PF_W, x = ph.p_flags & PF_X;
    if (w && x)
      return not_a_guest(name, fmt::format("segment {} is writable and executable", index - 1), at);
    if (x) {
      if (image.exec_hi != 0) return not_a_guest(name, "more than one executable segment", at);
      image.exec_lo = v;
      image.exec_hi = v + n;
    }
    if (w) image.lo_rw = std::min(image.lo_rw, v);
    image.lo_ro = std::min(image.lo_ro, v);
    image.hi = std::max(image.hi, v + n);
    Sandbox::Impl::Segment s;
    s.vaddr = v;
    s.memsz = n;
    s.bytes.assign(elf.substr(ph.p_offset, ph.p_filesz));
    image.segments.push_back(std::move(s));
  }
  return image;
}

// The symbol table, for vmcall by name and for messages. A damaged table is ignored: entries
// whose name lies outside its (NUL-terminated) string table are skipped.
void read_symbols(const ElfFile& file, std::unordered_map<std::string, uint64_t>& symbols) {
  std::string why;
  auto sections = file.sections(&why);
  if (!sections) return;
  for (const Elf64_Shdr& sec : *sections) {
    if (sec.sh_type != SHT_SYMTAB || sec.sh_link >= sections->size()) continue;
    const Elf64_Shdr& strsec = (*sections)[sec.sh_link];
    auto syms = file.contents(sec);
    auto strtab = file.contents(strsec);
    if (!syms || !strtab || strsec.sh_type != SHT_STRTAB || strtab->empty() ||
        strtab->back() != '\0')
      break;
    for (size_t at = 0; at + sizeof(Elf64_Sym) <= syms->size(); at += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, syms->data() + at, sizeof sym);
      if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0 || sym.st_name >= strtab->size()) continue;
      symbols.emplace(std::string(strtab->data() + sym.st_name), sym.st_value);
    }
  }
}

}  // namespace

Status Sandbox::Impl::load(std::string_view elf) {
  TJ_ASSIGN_OR_RETURN(ElfFile file, open_elf(name, elf));
  TJ_TRY(check_limits(limits));
  mem_size = align_up(limits.max_memory, 4096);
  stack_lo = mem_size - align_up(limits.stack_size, 16);
  uint64_t image_max = stack_lo - kStackGuard;

  TJ_ASSIGN_OR_RETURN(Image image, read_segments(name, elf, file, image_max));
  if (image.exec_hi == 0) return not_a_guest(name, "no executable segment");
  exec_lo = image.exec_lo;
  exec_hi = image.exec_hi & ~uint64_t{1};
  for (const Segment& s : image.segments)
    if (image.lo_rw != UINT64_MAX && s.vaddr < image.lo_rw && s.vaddr + s.memsz > image.lo_rw)
      return not_a_guest(
          name, fmt::format("read-only segment at 0x{:x} overlaps the writable area", s.vaddr));
  if (image.lo_rw != UINT64_MAX && exec_hi > image.lo_rw)
    return not_a_guest(name, "text lies above writable data");
  const uint64_t e_entry = file.header().e_entry;
  if (e_entry < exec_lo || e_entry >= exec_hi)
    return not_a_guest(
        name, fmt::format("entry point 0x{:x} is outside the executable segment", e_entry), 24);
  segments = std::move(image.segments);
  entry = e_entry;
  // Page-aligned as Linux maps them: the image's first page, the break after its last, and
  // the writable data's first page unless that page holds read-only bytes too.
  ro_lo = image.lo_ro & ~(kPage - 1);
  brk_lo = align_up(image.hi, kPage);
  rw_lo = brk_lo;
  if (image.lo_rw != UINT64_MAX) {
    uint64_t ro_end = 0;
    for (const Segment& s : segments)
      if (s.vaddr < image.lo_rw) ro_end = std::max(ro_end, s.vaddr + s.memsz);
    uint64_t page = image.lo_rw & ~(kPage - 1);
    rw_lo = page >= align_up(ro_end, kPage) ? page : image.lo_rw;
  }
  brk_max = image_max;
  map_top = mmap_lo = image_max;
  // The program headers as the guest sees them (AT_PHDR): inside a loaded segment.
  const Elf64_Ehdr& hdr = file.header();
  phnum = hdr.e_phnum;
  phent = hdr.e_phentsize;
  std::string why;
  if (auto phdrs = file.program_headers(&why)) {
    for (const Elf64_Phdr& ph : *phdrs)
      if (ph.p_type == PT_LOAD && hdr.e_phoff >= ph.p_offset &&
          hdr.e_phoff + uint64_t(phnum) * phent <= ph.p_offset + ph.p_filesz)
        phdr = ph.p_vaddr + (hdr.e_phoff - ph.p_offset);
  }

  read_symbols(file, symbols);
  return map_memory();
}

}  // namespace tierjit::sandbox
