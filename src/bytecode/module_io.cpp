// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// .tjbc reader/writer and the bytecode verifier.
#include "bytecode/module_io.hpp"

#include <fmt/format.h>

#include <cstring>
#include <unordered_set>

namespace tierjit::bytecode {
namespace {

enum SectionId : uint32_t { kMemory = 1, kImports = 2, kFunctions = 3, kData = 4 };

// Bounds-checked little-endian reader over the input; every failure names the offset.
class Reader {
 public:
  Reader(std::string_view b, const std::string& file) : b_(b), file_(file) {}
  size_t pos() const { return pos_; }
  bool failed() const { return failed_; }
  Error error() const { return err_; }
  void fail(size_t at, std::string msg) {
    if (failed_) return;
    failed_ = true;
    SourceLoc loc{file_};
    loc.byte_offset = static_cast<int64_t>(at);
    err_ = make_error(ErrorCode::kInvalidInput, std::move(msg), loc);
  }
  bool need(size_t n, const char* what) {
    if (failed_) return false;
    if (b_.size() - pos_ < n) {
      fail(pos_,
           fmt::format("truncated input: {} needs {} bytes, {} left", what, n, b_.size() - pos_));
      return false;
    }
    return true;
  }
  template <class T>
  T get(const char* what) {
    T v{};
    if (!need(sizeof(T), what)) return v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string bytes(size_t n, const char* what) {
    if (!need(n, what)) return {};
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void seek(size_t p) { pos_ = p; }

 private:
  std::string_view b_;
  const std::string& file_;
  size_t pos_ = 0;
  bool failed_ = false;
  Error err_;
};

// A name must be an assembler identifier (text.hpp): [A-Za-z_.$][A-Za-z0-9_.$]*, so that
// disassembling any accepted module assembles back to the same bytes.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 255 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$'))
      return false;
  return true;
}

template <class T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

void read_functions(Reader& r, Module& m, std::vector<uint64_t>& offsets) {
  uint32_t n = r.get<uint32_t>("function count");
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    Function f;
    size_t at = r.pos();
    uint16_t len = r.get<uint16_t>("function name length");
    f.name = r.bytes(len, "function name");
    if (!r.failed() && !valid_name(f.name)) r.fail(at, "invalid function name");
    f.nargs = r.get<uint16_t>("argument count");
    f.nregs = r.get<uint16_t>("register count");
    uint32_t words = r.get<uint32_t>("code size");
    if (!r.need(uint64_t{words} * 4, "function code")) return;
    offsets.push_back(r.pos());
    f.code.resize(words);
    std::string code = r.bytes(uint64_t{words} * 4, "function code");
    if (words) std::memcpy(f.code.data(), code.data(), code.size());
    m.functions.push_back(std::move(f));
  }
}

}  // namespace

bool is_tjbc(std::string_view bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), kMagic, 4) == 0;
}

Expected<Module> read_module(std::string_view bytes, const std::string& file) {
  Reader r(bytes, file);
  Module m;
  std::vector<uint64_t> offsets;
  std::string magic = r.bytes(4, "header");
  if (r.failed()) return r.error();
  if (std::memcmp(magic.data(), kMagic, 4) != 0) {
    r.fail(0, "bad magic: not a tierjit bytecode file (expected \"TJBC\")");
    return r.error();
  }
  uint16_t version = r.get<uint16_t>("header");
  uint16_t flags = r.get<uint16_t>("header");
  m.entry = r.get<uint32_t>("header");
  uint32_t nsections = r.get<uint32_t>("header");
  if (r.failed()) return r.error();
  if (version != kFormatVersion)
    r.fail(4,
           fmt::format("unsupported version {} (this tierjit reads {})", version, kFormatVersion));
  if (flags != 0) r.fail(6, fmt::format("unknown header flags 0x{:x}", flags));
  uint32_t last_id = 0;
  for (uint32_t s = 0; s < nsections && !r.failed(); ++s) {
    size_t at = r.pos();
    uint32_t id = r.get<uint32_t>("section header");
    uint32_t size = r.get<uint32_t>("section header");
    if (r.failed()) break;
    if (id <= last_id || id > kData) {
      r.fail(at, fmt::format("unknown, repeated or out-of-order section id {}", id));
      break;
    }
    last_id = id;
    if (!r.need(size, "section payload")) break;
    size_t end = r.pos() + size;
    switch (id) {
      case kMemory:
        m.memory_size = r.get<uint64_t>("memory section");
        break;
      case kImports: {
        uint32_t n = r.get<uint32_t>("import count");
        for (uint32_t i = 0; i < n && !r.failed(); ++i) {
          size_t nat = r.pos();
          uint16_t len = r.get<uint16_t>("import name length");
          std::string name = r.bytes(len, "import name");
          if (!r.failed() && !valid_name(name)) r.fail(nat, "invalid import name");
          m.imports.push_back(std::move(name));
        }
        break;
      }
      case kFunctions:
        read_functions(r, m, offsets);
        break;
      case kData: {
        uint32_t n = r.get<uint32_t>("data segment count");
        for (uint32_t i = 0; i < n && !r.failed(); ++i) {
          DataSegment d;
          d.addr = r.get<uint64_t>("data segment address");
          uint32_t len = r.get<uint32_t>("data segment length");
          d.bytes = r.bytes(len, "data segment bytes");
          m.data.push_back(std::move(d));
        }
        break;
      }
    }
    if (!r.failed() && r.pos() != end)
      r.fail(at, fmt::format("section {} size {} does not match its contents ({} bytes)", id, size,
                             r.pos() - (at + 8)));
    r.seek(end);
  }
  if (!r.failed() && r.pos() != bytes.size())
    r.fail(r.pos(), "trailing bytes after the last section");
  if (r.failed()) return r.error();
  TJ_TRY(verify(m, file, &offsets));
  return m;
}

std::string write_module(const Module& m) {
  std::string out(kMagic, 4);
  put<uint16_t>(out, kFormatVersion);
  put<uint16_t>(out, 0);
  put<uint32_t>(out, m.entry);
  put<uint32_t>(out, 4);
  auto section = [&](uint32_t id, const std::string& payload) {
    put<uint32_t>(out, id);
    put<uint32_t>(out, static_cast<uint32_t>(payload.size()));
    out += payload;
  };
  std::string p;
  put<uint64_t>(p, m.memory_size);
  section(kMemory, p);
  p.clear();
  put<uint32_t>(p, static_cast<uint32_t>(m.imports.size()));
  for (const auto& s : m.imports) {
    put<uint16_t>(p, static_cast<uint16_t>(s.size()));
    p += s;
  }
  section(kImports, p);
  p.clear();
  put<uint32_t>(p, static_cast<uint32_t>(m.functions.size()));
  for (const auto& f : m.functions) {
    put<uint16_t>(p, static_cast<uint16_t>(f.name.size()));
    p += f.name;
    put<uint16_t>(p, static_cast<uint16_t>(f.nargs));
    put<uint16_t>(p, static_cast<uint16_t>(f.nregs));
    put<uint32_t>(p, static_cast<uint32_t>(f.code.size()));
    p.append(reinterpret_cast<const char*>(f.code.data()), f.code.size() * 4);
  }
  section(kFunctions, p);
  p.clear();
  put<uint32_t>(p, static_cast<uint32_t>(m.data.size()));
  for (const auto& d : m.data) {
    put<uint64_t>(p, d.addr);
    put<uint32_t>(p, static_cast<uint32_t>(d.bytes.size()));
    p += d.bytes;
  }
  section(kData, p);
  return out;
}

}  // namespace tierjit::bytecode
