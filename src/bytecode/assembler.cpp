// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The .tjasm assembler: one pass that parses and encodes, then fixups for labels, functions
// and data symbols, then the verifier. Errors carry file:line:col.
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "bytecode/module_io.hpp"
#include "bytecode/text.hpp"

namespace tierjit::bytecode {
namespace {

struct Token {
  enum Type { kIdent, kNumber, kString, kPunct, kEnd } type = kEnd;
  std::string text;
  uint32_t col = 0;
};

// Splits one line into tokens; `#` and `;` start comments outside strings.
Expected<std::vector<Token>> tokenize(std::string_view line, uint32_t lineno,
                                      const std::string& file) {
  std::vector<Token> out;
  size_t i = 0;
  auto err = [&](size_t at, std::string msg) {
    return make_error(ErrorCode::kInvalidInput, std::move(msg),
                      SourceLoc{file, lineno, static_cast<uint32_t>(at + 1)});
  };
  while (i < line.size()) {
    char ch = line[i];
    if (ch == ' ' || ch == '\t' || ch == '\r') {
      ++i;
    } else if (ch == '#' || ch == ';') {
      break;
    } else if (ch == '"') {
      Token t{Token::kString, "", static_cast<uint32_t>(i + 1)};
      ++i;
      while (true) {
        if (i >= line.size()) return err(t.col - 1, "unterminated string");
        char c = line[i++];
        if (c == '"') break;
        if (c != '\\') {
          t.text += c;
          continue;
        }
        if (i >= line.size()) return err(i, "unterminated escape");
        char e = line[i++];
        switch (e) {
          case 'n':
            t.text += '\n';
            break;
          case 't':
            t.text += '\t';
            break;
          case 'r':
            t.text += '\r';
            break;
          case '0':
            t.text += '\0';
            break;
          case '\\':
            t.text += '\\';
            break;
          case '"':
            t.text += '"';
            break;
          case 'x': {
            if (i + 2 > line.size() || !std::isxdigit(static_cast<unsigned char>(line[i])) ||
                !std::isxdigit(static_cast<unsigned char>(line[i + 1])))
              return err(i, "expected two hex digits after \\x");
            t.text += static_cast<char>(std::stoi(std::string(line.substr(i, 2)), nullptr, 16));
            i += 2;
            break;
          }
          default:
            return err(i - 1, fmt::format("unknown escape '\\{}'", e));
        }
      }
      out.push_back(std::move(t));
    } else if (std::isalpha(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' ||
               ch == '$') {
      size_t s = i;
      while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) ||
                                 line[i] == '_' || line[i] == '.' || line[i] == '$'))
        ++i;
      out.push_back(
          {Token::kIdent, std::string(line.substr(s, i - s)), static_cast<uint32_t>(s + 1)});
    } else if (std::isdigit(static_cast<unsigned char>(ch)) ||
               ((ch == '-' || ch == '+') && i + 1 < line.size() &&
                std::isdigit(static_cast<unsigned char>(line[i + 1])) &&
                (out.empty() || out.back().text != "]"))) {
      size_t s = i++;
      while (i < line.size() &&
             (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '.' ||
              ((line[i] == '-' || line[i] == '+') && (line[i - 1] == 'e' || line[i - 1] == 'E') &&
               line.substr(s, 2) != "0x")))
        ++i;
      out.push_back(
          {Token::kNumber, std::string(line.substr(s, i - s)), static_cast<uint32_t>(s + 1)});
    } else if (std::strchr(",[]+-:", ch)) {
      out.push_back({Token::kPunct, std::string(1, ch), static_cast<uint32_t>(i + 1)});
      ++i;
    } else {
      return err(i, fmt::format("unexpected character '{}'", ch));
    }
  }
  out.push_back({Token::kEnd, "", static_cast<uint32_t>(line.size() + 1)});
  return out;
}

std::optional<int64_t> parse_int(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  if (neg && v > (uint64_t{1} << 63)) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

struct Fixup {
  enum Type { kLabel, kFunction, kSymbol } type;
  size_t func;  // function index
  size_t word;  // instruction word index
  std::string name;
  uint32_t line, col;
};

class Assembler {
 public:
  Assembler(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  Expected<Module> run() {
    uint32_t lineno = 0;
    size_t pos = 0;
    while (pos <= text_.size()) {
      size_t nl = text_.find('\n', pos);
      if (nl == std::string_view::npos) nl = text_.size();
      ++lineno;
      line_ = lineno;
      TJ_ASSIGN_OR_RETURN(toks_, tokenize(text_.substr(pos, nl - pos), lineno, file_));
      at_ = 0;
      if (toks_[0].type != Token::kEnd) TJ_TRY(statement());
      pos = nl + 1;
    }
    if (in_func_) return error_at(toks_.back(), "missing .end for the last .func");
    TJ_TRY(resolve());
    TJ_TRY(verify(m_, file_));
    return std::move(m_);
  }

 private:
  // ---- token helpers ----
  const Token& peek() const { return toks_[at_]; }
  Token next() { return toks_[at_ < toks_.size() - 1 ? at_++ : at_]; }
  Error error_at(const Token& t, std::string msg) const {
    return make_error(ErrorCode::kInvalidInput, std::move(msg), SourceLoc{file_, line_, t.col});
  }
  Error expected(const char* what) const {
    const Token& t = peek();
    return error_at(t, fmt::format("expected {}, got {}", what,
                                   t.type == Token::kEnd ? "end of line" : "'" + t.text + "'"));
  }
  Status punct(const char* p) {
    if (peek().type != Token::kPunct || peek().text != p)
      return expected(fmt::format("'{}'", p).c_str());
    ++at_;
    return {};
  }
  Status comma() { return punct(","); }
  Status end_of_line() {
    if (peek().type != Token::kEnd) return expected("end of line");
    return {};
  }
  Expected<uint8_t> reg() {
    const Token& t = peek();
    if (t.type == Token::kIdent && t.text.size() >= 2 && t.text[0] == 'r') {
      auto v = parse_int(std::string_view(t.text).substr(1));
      if (v && *v >= 0 && *v < kMaxRegs && std::isdigit(static_cast<unsigned char>(t.text[1]))) {
        ++at_;
        return static_cast<uint8_t>(*v);
      }
    }
    return expected("a register r0..r255");
  }
  Expected<std::string> ident(const char* what) {
    if (peek().type != Token::kIdent) return expected(what);
    return next().text;
  }
  Expected<int64_t> integer(int64_t lo, int64_t hi, const char* what) {
    const Token& t = peek();
    if (t.type != Token::kNumber) return expected(what);
    auto v = parse_int(t.text);
    if (!v) return error_at(t, fmt::format("malformed integer '{}'", t.text));
    if (*v < lo || *v > hi)
      return error_at(t, fmt::format("{} {} out of range {}..{}", what, *v, lo, hi));
    ++at_;
    return *v;
  }
  // An immediate: an integer or a data symbol (fixed up later).
  Expected<uint32_t> imm32(int64_t lo, int64_t hi, const char* what) {
    if (peek().type == Token::kIdent && data_symbol_ok_) {
      Token t = next();
      fixups_.push_back(
          {Fixup::kSymbol, m_.functions.size() - 1, cur_word() + 1, t.text, line_, t.col});
      return 0u;
    }
    TJ_ASSIGN_OR_RETURN(int64_t v, integer(lo, hi, what));
    return static_cast<uint32_t>(v);
  }
  Expected<double> real() {
    const Token& t = peek();
    if (t.type != Token::kNumber &&
        !(t.type == Token::kIdent && (t.text == "inf" || t.text == "nan")))
      return expected("a number");
    std::string s = next().text;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return error_at(toks_[at_ - 1], "malformed number");
    return d;
  }
  // [rA], [rA+imm], [rA-imm]
  Status address(uint8_t& base, uint32_t* off) {
    TJ_TRY(punct("["));
    TJ_ASSIGN_OR_RETURN(base, reg());
    int64_t v = 0;
    if (off && peek().type == Token::kPunct && (peek().text == "+" || peek().text == "-")) {
      bool neg = next().text == "-";
      TJ_ASSIGN_OR_RETURN(v, integer(0, neg ? (int64_t{1} << 31) : INT32_MAX, "an offset"));
      if (neg) v = -v;
    } else if (off && peek().type == Token::kNumber &&
               (peek().text[0] == '-' || peek().text[0] == '+')) {
      TJ_ASSIGN_OR_RETURN(v, integer(INT32_MIN, INT32_MAX, "an offset"));
    }
    if (off) *off = static_cast<uint32_t>(static_cast<int32_t>(v));
    return punct("]");
  }
  Status label_ref(Fixup::Type type) {
    if (peek().type != Token::kIdent)
      return expected(type == Fixup::kLabel ? "a label" : "a function name");
    Token t = next();
    fixups_.push_back({type, m_.functions.size() - 1, cur_word(), t.text, line_, t.col});
    return {};
  }
  size_t cur_word() const { return m_.functions.back().code.size(); }
  void emit(const Insn& in) { encode(in, m_.functions.back().code); }

  // ---- statements ----
  Status statement() {
    const Token& t = peek();
    if (t.type == Token::kIdent && toks_[at_ + 1].type == Token::kPunct &&
        toks_[at_ + 1].text == ":")
      return label();
    if (t.type != Token::kIdent) return expected("a directive, label or instruction");
    if (t.text[0] == '.') return directive();
    if (!in_func_) return error_at(t, "instruction outside .func");
    return instruction();
  }

  Status label() {
    Token t = next();
    ++at_;  // ':'
    if (in_func_) {
      if (!labels_.emplace(t.text, cur_word()).second)
        return error_at(
            t, fmt::format("label '{}' defined twice in '{}'", t.text, m_.functions.back().name));
    } else if (in_data_) {
      if (!symbols_.emplace(t.text, data_addr_).second)
        return error_at(t, fmt::format("symbol '{}' defined twice", t.text));
    } else {
      return error_at(t, "label outside .func and .data");
    }
    if (peek().type == Token::kEnd) return {};
    return statement();
  }

  Status directive() {
    Token d = next();
    const std::string& n = d.text;
    if (n == ".func") {
      if (in_func_) return error_at(d, "nested .func (missing .end)");
      in_data_ = false;
      Function f;
      TJ_ASSIGN_OR_RETURN(f.name, ident("a function name"));
      TJ_ASSIGN_OR_RETURN(int64_t na, integer(0, kMaxRegs, "an argument count"));
      TJ_ASSIGN_OR_RETURN(int64_t nr, integer(1, kMaxRegs, "a register count"));
      f.nargs = static_cast<uint32_t>(na);
      f.nregs = static_cast<uint32_t>(nr);
      if (func_index_.count(f.name))
        return error_at(d, fmt::format("function '{}' defined twice", f.name));
      func_index_[f.name] = m_.functions.size();
      m_.functions.push_back(std::move(f));
      in_func_ = true;
      labels_.clear();
      func_fixup_start_ = fixups_.size();
      return end_of_line();
    }
    if (n == ".end") {
      if (!in_func_) return error_at(d, ".end without .func");
      in_func_ = false;
      TJ_TRY(resolve_labels());
      return end_of_line();
    }
    if (in_func_) return error_at(d, fmt::format("directive '{}' inside .func", n));
    if (n == ".memory") {
      TJ_ASSIGN_OR_RETURN(int64_t v, integer(0, INT64_MAX, "a memory size in bytes"));
      m_.memory_size = static_cast<uint64_t>(v);
      return end_of_line();
    }
    if (n == ".entry") {
      TJ_ASSIGN_OR_RETURN(entry_name_, ident("a function name"));
      entry_tok_ = d;
      entry_line_ = line_;
      return end_of_line();
    }
    if (n == ".import") {
      TJ_ASSIGN_OR_RETURN(std::string name, ident("a host function name"));
      import_index(name);
      return end_of_line();
    }
    if (n == ".data") {
      TJ_ASSIGN_OR_RETURN(int64_t a, integer(0, INT64_MAX, "a data address"));
      m_.data.push_back({static_cast<uint64_t>(a), {}});
      data_addr_ = static_cast<uint64_t>(a);
      in_data_ = true;
      return end_of_line();
    }
    if (!in_data_) return error_at(d, fmt::format("unknown directive '{}'", n));
    return data_item(d);
  }

  Status data_item(const Token& d) {
    std::string& out = m_.data.back().bytes;
    size_t before = out.size();
    const std::string& n = d.text;
    if (n == ".ascii") {
      do {
        if (peek().type != Token::kString) return expected("a string");
        out += next().text;
      } while (peek().type == Token::kPunct && peek().text == "," && ++at_);
    } else if (n == ".zero") {
      TJ_ASSIGN_OR_RETURN(int64_t v, integer(0, 1 << 30, "a byte count"));
      out.append(static_cast<size_t>(v), '\0');
    } else if (n == ".i8" || n == ".i16" || n == ".i32" || n == ".i64") {
      int w = n == ".i8" ? 1 : n == ".i16" ? 2 : n == ".i32" ? 4 : 8;
      int64_t lo = w == 8 ? INT64_MIN : -(int64_t{1} << (8 * w - 1));
      int64_t hi = w == 8 ? INT64_MAX : (int64_t{1} << (8 * w)) - 1;
      do {
        uint64_t v;
        if (w == 8 && peek().type == Token::kNumber && peek().text[0] != '-') {
          auto u = parse_int(peek().text);
          if (!u) {  // large unsigned
            uint64_t x;
            auto s = std::string_view(peek().text);
            bool hex = s.size() > 2 && s[1] == 'x';
            auto [p, ec] =
                std::from_chars(s.data() + (hex ? 2 : 0), s.data() + s.size(), x, hex ? 16 : 10);
            if (ec != std::errc() || p != s.data() + s.size()) return expected("an integer");
            ++at_;
            v = x;
          } else {
            ++at_;
            v = static_cast<uint64_t>(*u);
          }
        } else {
          TJ_ASSIGN_OR_RETURN(int64_t x, integer(lo, hi, "a value"));
          v = static_cast<uint64_t>(x);
        }
        out.append(reinterpret_cast<const char*>(&v), w);
      } while (peek().type == Token::kPunct && peek().text == "," && ++at_);
    } else if (n == ".f32" || n == ".f64") {
      do {
        TJ_ASSIGN_OR_RETURN(double x, real());
        if (n == ".f32") {
          float f = static_cast<float>(x);
          out.append(reinterpret_cast<const char*>(&f), 4);
        } else {
          out.append(reinterpret_cast<const char*>(&x), 8);
        }
      } while (peek().type == Token::kPunct && peek().text == "," && ++at_);
    } else {
      return error_at(d, fmt::format("unknown directive '{}'", n));
    }
    data_addr_ += out.size() - before;
    return end_of_line();
  }

  uint32_t import_index(const std::string& name) {
    for (size_t i = 0; i < m_.imports.size(); ++i)
      if (m_.imports[i] == name) return static_cast<uint32_t>(i);
    m_.imports.push_back(name);
    return static_cast<uint32_t>(m_.imports.size() - 1);
  }

  Status pseudo(const std::string& mn) {
    TJ_ASSIGN_OR_RETURN(uint8_t rd, reg());
    TJ_TRY(comma());
    uint64_t bits;
    if (mn == "li") {
      const Token& t = peek();
      auto v = t.type == Token::kNumber ? parse_int(t.text) : std::nullopt;
      if (!v) {
        uint64_t x = 0;
        std::string_view s = t.text;
        bool hex = s.size() > 2 && s[1] == 'x';
        auto [p, ec] =
            std::from_chars(s.data() + (hex ? 2 : 0), s.data() + s.size(), x, hex ? 16 : 10);
        if (t.type != Token::kNumber || ec != std::errc() || p != s.data() + s.size())
          return expected("a 64-bit integer");
        bits = x;
      } else {
        bits = static_cast<uint64_t>(*v);
      }
      ++at_;
    } else {
      TJ_ASSIGN_OR_RETURN(double d, real());
      if (mn == "lf") {
        std::memcpy(&bits, &d, 8);
      } else {
        float f = static_cast<float>(d);
        uint32_t w;
        std::memcpy(&w, &f, 4);
        bits = w;
      }
    }
    emit({Op::LDI, rd, 0, 0, static_cast<uint32_t>(bits)});
    if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(bits))) != bits)
      emit({Op::LDHI, rd, 0, 0, static_cast<uint32_t>(bits >> 32)});
    return end_of_line();
  }

  Status instruction() {
    Token t = next();
    if (t.text == "li" || t.text == "lf" || t.text == "lfs") return pseudo(t.text);
    Op op = op_from_mnemonic(t.text);
    if (op == Op::kInvalid) return error_at(t, fmt::format("unknown instruction '{}'", t.text));
    Insn in;
    in.op = op;
    data_symbol_ok_ = true;
    switch (in.info().kind) {
      case Kind::BIN:
      case Kind::BINZ: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.c, reg());
        break;
      }
      case Kind::BINI: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.imm, imm32(INT32_MIN, INT32_MAX, "an immediate"));
        break;
      }
      case Kind::UN: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        break;
      }
      case Kind::LDI: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.imm, imm32(INT32_MIN, UINT32_MAX, "an immediate"));
        break;
      }
      case Kind::LD: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_TRY(address(in.b, &in.imm));
        break;
      }
      case Kind::ST: {
        TJ_TRY(address(in.a, &in.imm));
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        break;
      }
      case Kind::BR2: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        TJ_TRY(comma());
        TJ_TRY(label_ref(Fixup::kLabel));
        break;
      }
      case Kind::BR1: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_TRY(label_ref(Fixup::kLabel));
        break;
      }
      case Kind::JMP: {
        TJ_TRY(label_ref(Fixup::kLabel));
        break;
      }
      case Kind::SEL: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.c, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(uint8_t rb, reg());
        in.imm = rb;
        break;
      }
      case Kind::CALL:
      case Kind::CALLR:
      case Kind::HCALL: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        if (in.info().kind == Kind::CALL) {
          TJ_TRY(label_ref(Fixup::kFunction));
        } else if (in.info().kind == Kind::CALLR) {
          TJ_ASSIGN_OR_RETURN(uint8_t rf, reg());
          in.imm = rf;
        } else {
          TJ_ASSIGN_OR_RETURN(std::string name, ident("a host function name"));
          in.imm = import_index(name);
        }
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.b, reg());
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(int64_t n, integer(0, kMaxRegs - 1, "an argument count"));
        in.c = static_cast<uint8_t>(n);
        break;
      }
      case Kind::RET:
      case Kind::HALT: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        break;
      }
      case Kind::TRAP: {
        TJ_ASSIGN_OR_RETURN(in.imm, imm32(0, UINT32_MAX, "a trap code"));
        break;
      }
      case Kind::FENCE: {
        break;
      }
      case Kind::CAS:
      case Kind::XCHG:
      case Kind::XADD: {
        TJ_ASSIGN_OR_RETURN(in.a, reg());
        TJ_TRY(comma());
        TJ_TRY(address(in.b, nullptr));
        TJ_TRY(comma());
        TJ_ASSIGN_OR_RETURN(in.c, reg());
        if (in.info().kind == Kind::CAS) {
          TJ_TRY(comma());
          TJ_ASSIGN_OR_RETURN(uint8_t rc, reg());
          in.imm = rc;
        }
        break;
      }
    }
    data_symbol_ok_ = false;
    emit(in);
    return end_of_line();
  }

  // Branch offsets inside the function just closed.
  Status resolve_labels() {
    Function& f = m_.functions.back();
    for (size_t i = func_fixup_start_; i < fixups_.size(); ++i) {
      Fixup& fx = fixups_[i];
      if (fx.type != Fixup::kLabel) continue;
      auto it = labels_.find(fx.name);
      if (it == labels_.end())
        return make_error(ErrorCode::kInvalidInput,
                          fmt::format("undefined label '{}' in '{}'", fx.name, f.name),
                          SourceLoc{file_, fx.line, fx.col});
      int64_t off = (static_cast<int64_t>(it->second) - static_cast<int64_t>(fx.word)) * 4;
      f.code[fx.word + 1] = static_cast<uint32_t>(static_cast<int32_t>(off));
    }
    return {};
  }

  Status resolve() {
    for (const Fixup& fx : fixups_) {
      if (fx.type == Fixup::kLabel) continue;
      Function& f = m_.functions[fx.func];
      if (fx.type == Fixup::kFunction) {
        auto it = func_index_.find(fx.name);
        if (it == func_index_.end())
          return make_error(ErrorCode::kInvalidInput,
                            fmt::format("call to undefined function '{}'", fx.name),
                            SourceLoc{file_, fx.line, fx.col});
        f.code[fx.word + 1] = static_cast<uint32_t>(it->second);
      } else {
        auto it = symbols_.find(fx.name);
        if (it == symbols_.end() || it->second > UINT32_MAX)
          return make_error(ErrorCode::kInvalidInput,
                            (it == symbols_.end() ? "undefined symbol '" : "symbol above 4 GiB '") +
                                fx.name + "'",
                            SourceLoc{file_, fx.line, fx.col});
        f.code[fx.word] = static_cast<uint32_t>(it->second);
      }
    }
    std::string entry = entry_name_.empty() ? "main" : entry_name_;
    auto it = func_index_.find(entry);
    if (it != func_index_.end()) {
      m_.entry = static_cast<uint32_t>(it->second);
    } else if (!entry_name_.empty()) {
      return make_error(ErrorCode::kInvalidInput,
                        fmt::format(".entry names undefined function '{}'", entry_name_),
                        SourceLoc{file_, entry_line_, entry_tok_.col});
    }
    return {};
  }

  std::string_view text_;
  const std::string& file_;
  std::vector<Token> toks_;
  size_t at_ = 0;
  uint32_t line_ = 0;
  Module m_;
  bool in_func_ = false, in_data_ = false, data_symbol_ok_ = false;
  uint64_t data_addr_ = 0;
  std::map<std::string, size_t> labels_;
  std::map<std::string, size_t> func_index_;
  std::map<std::string, uint64_t> symbols_;
  std::vector<Fixup> fixups_;
  size_t func_fixup_start_ = 0;
  std::string entry_name_;
  Token entry_tok_;
  uint32_t entry_line_ = 0;
};

}  // namespace

Expected<Module> assemble(std::string_view text, const std::string& file) {
  return Assembler(text, file).run();
}

bool looks_like_tjasm(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    size_t s = line.find_first_not_of(" \t\r");
    if (s != std::string_view::npos && line[s] != '#' && line[s] != ';') {
      line.remove_prefix(s);
      for (const char* d : {".func", ".data", ".memory", ".entry", ".import"})
        if (line.substr(0, std::strlen(d)) == d) return true;
      return false;
    }
    pos = nl + 1;
  }
  return false;
}

}  // namespace tierjit::bytecode
