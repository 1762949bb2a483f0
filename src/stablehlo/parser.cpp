// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Recursive-descent parser for MLIR text as StableHLO programs are written (see ast.hpp).
// Grammar sources: the MLIR LangRef ("Operations", "Attributes", "Builtin types") for the
// generic form, and the StableHLO printer's pretty forms as they appear in the StableHLO
// test suite (reduce "applies"/"reducer", while "cond"/"do", compare's enum words, slice
// specs, dot_general's "[..] x [..]", convolution's dim_numbers).
#include <cctype>
#include <charconv>
#include <cstring>

#include "stablehlo/ast.hpp"

namespace tierjit::shlo {

const Attr* Op::attr(const std::string& key) const {
  for (const auto& [k, v] : attrs)
    if (k == key) return &v;
  return nullptr;
}

namespace {

bool id_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.';
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& file, uint32_t first_line)
      : s_(text), file_(file), line_(first_line) {}

  Expected<Module> parse_module_or_funcs(bool& empty) {
    skip();
    empty = at_end();
    Module m;
    m.loc = loc();
    if (keyword("module")) {
      skip();
      if (peek() == '@') m.name = symbol().substr(1);
      skip();
      if (keyword("attributes")) TJ_TRY(dict(true));
      TJ_TRY(expect('{'));
      while (skip(), peek() != '}') {
        if (at_end()) return fail("'}' closing the module");
        TJ_ASSIGN_OR_RETURN(Func f, func());
        m.funcs.push_back(std::move(f));
      }
      ++pos_;
    } else {
      while (skip(), !at_end()) {
        TJ_ASSIGN_OR_RETURN(Func f, func());
        m.funcs.push_back(std::move(f));
      }
    }
    skip();
    if (!at_end()) return fail("end of input");
    return m;
  }

 private:
  // ---- nesting limit: every recursive production takes a level (hostile input cannot
  // overflow the stack) ----
  static constexpr int kMaxNesting = 200;
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) { ++p.nesting_; }
    ~Nest() { --p.nesting_; }
    bool too_deep() const { return p.nesting_ > kMaxNesting; }
  };
  Error too_deep() {
    return make_error(ErrorCode::kInvalidInput,
                      "nesting deeper than " + std::to_string(kMaxNesting) + " levels",
                      SourceLoc{file_, line_, uint32_t(pos_ - line_start_ + 1)});
  }

  // ---- scanning ----
  bool at_end() const { return pos_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  Loc loc() const { return Loc{line_, uint32_t(pos_ - line_start_ + 1)}; }
  void advance(size_t n = 1) {
    for (size_t i = 0; i < n && pos_ < s_.size(); ++i, ++pos_) {
      if (s_[pos_] == '\n') ++line_, line_start_ = pos_ + 1;
    }
  }
  void skip() {
    for (;;) {
      while (!at_end() && std::isspace(static_cast<unsigned char>(peek()))) advance();
      if (peek() == '/' && peek(1) == '/') {
        while (!at_end() && peek() != '\n') advance();
        continue;
      }
      return;
    }
  }
  std::string_view rest_word() const {
    size_t e = pos_;
    while (e < s_.size() && id_char(s_[e])) ++e;
    return s_.substr(pos_, e - pos_);
  }
  bool keyword(std::string_view w) {
    skip();
    if (rest_word() != w) return false;
    advance(w.size());
    return true;
  }
  bool eat(char c) {
    skip();
    if (peek() != c) return false;
    advance();
    return true;
  }
  bool eat2(const char* t) {
    skip();
    if (peek() != t[0] || peek(1) != t[1]) return false;
    advance(2);
    return true;
  }
  std::string got() const {
    if (at_end()) return "end of input";
    std::string_view w = rest_word();
    if (!w.empty()) return "'" + std::string(w) + "'";
    return std::string("'") + peek() + "'";
  }
  Error fail(const std::string& expected) {
    skip();
    return make_error(ErrorCode::kInvalidInput, "expected " + expected + ", got " + got(),
                      SourceLoc{file_, line_, uint32_t(pos_ - line_start_ + 1)});
  }
  // The decimal digits from b to pos_ as an int below 2^24 (indices and counts).
  Expected<int> small_int(size_t b, const char* what) {
    int v = 0;
    auto [p, ec] = std::from_chars(s_.data() + b, s_.data() + pos_, v);
    if (ec != std::errc() || v >= (1 << 24)) {
      return make_error(ErrorCode::kInvalidInput, std::string(what) + " out of range",
                        SourceLoc{file_, line_, uint32_t(b - line_start_ + 1)});
    }
    return v;
  }
  Status expect(char c) {
    if (eat(c)) return {};
    return fail(std::string("'") + c + "'");
  }
  std::string ident() {
    skip();
    std::string_view w = rest_word();
    if (w.empty() || !id_start(w[0])) return {};
    advance(w.size());
    return std::string(w);
  }
  // %name (letters, digits, _ $ . -)
  std::string value_name() {
    size_t b = pos_;
    advance();  // '%'
    while (!at_end() && (id_char(peek()) || peek() == '-')) advance();
    return std::string(s_.substr(b, pos_ - b));
  }
  std::string symbol() {
    size_t b = pos_;
    advance();  // '@'
    if (peek() == '"') {
      advance();
      while (!at_end() && peek() != '"') advance();
      advance();
    } else {
      while (!at_end() && (id_char(peek()) || peek() == '-')) advance();
    }
    return std::string(s_.substr(b, pos_ - b));
  }
  // From an opening '<' (or '(' / '['), the text up to its match, brackets and strings
  // balanced; "->" does not close a '<'. Returns the inside; pos_ ends after the closer.
  Expected<std::string> balanced() {
    char open = peek(), close = open == '<' ? '>' : open == '(' ? ')' : ']';
    Loc at = loc();
    size_t b = pos_ + 1;
    int depth = 0;
    while (!at_end()) {
      char c = peek();
      if (c == '"') {
        advance();
        while (!at_end() && peek() != '"') advance(peek() == '\\' ? 2 : 1);
      } else if (c == '-' && peek(1) == '>') {
        advance();
      } else if (c == '<' || c == '(' || c == '[' || c == '{') {
        ++depth;
      } else if (c == '>' || c == ')' || c == ']' || c == '}') {
        if (--depth == 0) {
          if (c != close) break;
          std::string inside(s_.substr(b, pos_ - b));
          advance();
          return inside;
        }
      }
      advance();
    }
    return make_error(ErrorCode::kInvalidInput,
                      std::string("unbalanced '") + open + "' (expected '" + close + "')",
                      SourceLoc{file_, at.line, at.col});
  }

  // ---- types ----
  bool type_start() {
    skip();
    char c = peek();
    if (c == '!' || c == '(') return true;
    std::string_view w = rest_word();
    if (w.empty()) return false;
    return w == "tensor" || w == "tuple" || w == "complex" || w == "index" || w == "none" ||
           w[0] == 'f' || w[0] == 'i' || w[0] == 'u' || w[0] == 'b';
  }
  Expected<Type> type() {
    Nest nest(*this);
    if (nest.too_deep()) return too_deep();
    skip();
    size_t b = pos_;
    Type t;
    if (peek() == '(') {
      advance();
      std::vector<Type> ins;
      if (!eat(')')) {
        do {
          TJ_ASSIGN_OR_RETURN(Type e, type());
          ins.push_back(std::move(e));
        } while (eat(','));
        TJ_TRY(expect(')'));
      }
      if (eat2("->")) {
        t.kind = Type::Kind::kFunction;
        t.elems = std::move(ins);
        skip();
        if (peek() == '(') {
          advance();
          if (!eat(')')) {
            do {
              TJ_ASSIGN_OR_RETURN(Type r, type());
              skip_attr_dict_after_type();
              t.results.push_back(std::move(r));
            } while (eat(','));
            TJ_TRY(expect(')'));
          }
        } else {
          TJ_ASSIGN_OR_RETURN(Type r, type());
          t.results.push_back(std::move(r));
        }
      } else {
        t.kind = Type::Kind::kTuple;
        t.elems = std::move(ins);
      }
    } else if (peek() == '!') {
      advance();
      while (!at_end() && (id_char(peek()) || peek() == '-')) advance();
      if (peek() == '<') TJ_TRY(balanced());
      t.kind = Type::Kind::kOther;
    } else {
      std::string w = ident();
      if (w.empty()) return fail("a type");
      if (w == "tensor") {
        if (peek() != '<') return fail("'<' after tensor");
        TJ_ASSIGN_OR_RETURN(std::string body, balanced());
        t.kind = Type::Kind::kTensor;
        TJ_TRY(tensor_body(body, t));
      } else if (w == "tuple") {
        if (peek() != '<') return fail("'<' after tuple");
        TJ_TRY(balanced());
        t.kind = Type::Kind::kTuple;  // element types kept as text only
      } else {
        if (peek() == '<') TJ_TRY(balanced());  // complex<f32>, other params
        t.kind = Type::Kind::kScalar;
        t.elem = std::string(s_.substr(b, pos_ - b));
      }
    }
    t.text = std::string(s_.substr(b, pos_ - b));
    return t;
  }
  // "2x3xf32", "f32", "*xf32", "?x4xi1", "3xcomplex<f32>", optionally ", #encoding".
  Status tensor_body(std::string_view body, Type& t) {
    size_t i = 0;
    auto bad = [&] {
      return make_error(ErrorCode::kInvalidInput,
                        "malformed tensor type 'tensor<" + std::string(body) + ">'",
                        SourceLoc{file_, line_, uint32_t(pos_ - line_start_ + 1)});
    };
    if (body.substr(0, 2) == "*x") {
      t.ranked = false;
      i = 2;
    }
    while (i < body.size() &&
           (std::isdigit(static_cast<unsigned char>(body[i])) || body[i] == '?')) {
      int64_t d = -1;
      if (body[i] == '?') {
        ++i;
      } else {
        auto [p, ec] = std::from_chars(body.data() + i, body.data() + body.size(), d);
        if (ec != std::errc()) return bad();
        i = size_t(p - body.data());
      }
      if (i >= body.size() || body[i] != 'x') return bad();
      ++i;
      t.dims.push_back(d);
    }
    std::string_view elem = body.substr(i);
    int depth = 0;  // the encoding's comma is outside the element type's own <...>
    for (size_t k = 0; k < elem.size(); ++k) {
      depth += elem[k] == '<' ? 1 : elem[k] == '>' ? -1 : 0;
      if (elem[k] == ',' && depth == 0) {
        elem = elem.substr(0, k);
        break;
      }
    }
    while (!elem.empty() && elem.back() == ' ') elem.remove_suffix(1);
    if (elem.empty() || std::strchr("fbiusc!", elem[0]) == nullptr) return bad();
    t.elem = std::string(elem);
    return {};
  }
  void skip_attr_dict_after_type() {
    skip();
    if (peek() == '{') (void)dict(true);
  }

  // ---- attributes ----
  // A dictionary `{k = v, k2, ...}` (with_types: values may carry ": type").
  Expected<std::vector<std::pair<std::string, Attr>>> dict(bool with_types) {
    Nest nest(*this);
    if (nest.too_deep()) return too_deep();
    TJ_TRY(expect('{'));
    std::vector<std::pair<std::string, Attr>> out;
    if (eat('}')) return out;
    do {
      skip();
      std::string key;
      if (peek() == '"') {
        TJ_ASSIGN_OR_RETURN(Attr k, string_lit());
        key = k.text;
      } else {
        key = ident();
      }
      if (key.empty()) return fail("an attribute name");
      Attr v;
      if (eat('=')) {
        TJ_ASSIGN_OR_RETURN(v, value(with_types));
      }
      out.emplace_back(std::move(key), std::move(v));
    } while (eat(','));
    TJ_TRY(expect('}'));
    return out;
  }
  Expected<Attr> string_lit() {
    Attr a;
    a.kind = Attr::Kind::kString;
    advance();  // '"'
    while (!at_end() && peek() != '"') {
      if (peek() == '\\' && pos_ + 1 < s_.size()) {
        char e = peek(1);
        if (std::isxdigit(static_cast<unsigned char>(e)) && pos_ + 2 < s_.size()) {
          int byte = 0;
          std::from_chars(s_.data() + pos_ + 1, s_.data() + pos_ + 3, byte, 16);
          a.text += char(byte);
          advance(3);
          continue;
        }
        a.text += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        advance(2);
        continue;
      }
      a.text += peek();
      advance();
    }
    if (at_end()) return fail("'\"' closing the string");
    advance();
    return a;
  }
  Expected<Attr> value(bool with_types) {
    Nest nest(*this);
    if (nest.too_deep()) return too_deep();
    skip();
    size_t b = pos_;
    Attr a;
    char c = peek();
    if (c == '[') {
      TJ_ASSIGN_OR_RETURN(Attr first, array(with_types));
      // dot_general "[0] x [1]", convolution "[b, 0, f]x[0, i, o]->[b, 0, f]": one array
      // of the joined arrays.
      std::vector<Attr> parts;
      for (;;) {
        size_t save = pos_;
        uint32_t save_line = line_;
        size_t save_start = line_start_;
        skip();
        bool joined = false;
        if (rest_word() == "x") {
          advance();
          joined = true;
        } else if (peek() == '-' && peek(1) == '>') {
          advance(2);
          joined = true;
        }
        if (joined && (skip(), peek() == '[')) {
          if (parts.empty()) parts.push_back(std::move(first));
          TJ_ASSIGN_OR_RETURN(Attr next, array(false));
          parts.push_back(std::move(next));
          continue;
        }
        pos_ = save, line_ = save_line, line_start_ = save_start;
        break;
      }
      if (parts.empty()) {
        a = std::move(first);
      } else {
        a.kind = Attr::Kind::kArray;
        a.items = std::move(parts);
      }
    } else if (c == '{') {
      a.kind = Attr::Kind::kDict;
      TJ_ASSIGN_OR_RETURN(auto fields, dict(with_types));
      for (auto& [k, v] : fields) a.fields.push_back(NamedAttr{std::move(k), std::move(v)});
    } else if (c == '"') {
      TJ_ASSIGN_OR_RETURN(a, string_lit());
    } else if (c == '@') {
      a.kind = Attr::Kind::kSymbol;
      a.text = symbol();
    } else if (c == '<') {  // an inline attribute body: algorithm = <...>
      a.kind = Attr::Kind::kOpaque;
      TJ_TRY(balanced());
    } else if (c == '#') {
      a.kind = Attr::Kind::kOpaque;
      advance();
      while (!at_end() && id_char(peek())) advance();
      if (peek() == '<') TJ_TRY(balanced());
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      TJ_TRY(number(a));
    } else if (rest_word() == "dense" && peek(5) == '<') {
      advance(5);
      a.kind = Attr::Kind::kDense;
      TJ_ASSIGN_OR_RETURN(a.text, balanced());
    } else if ((rest_word() == "array" || rest_word() == "dense_resource" ||
                rest_word() == "sparse" || rest_word() == "affine_map") &&
               s_.size() > pos_ + rest_word().size() && s_[pos_ + rest_word().size()] == '<') {
      advance(rest_word().size());
      a.kind = Attr::Kind::kOpaque;
      TJ_TRY(balanced());
    } else if (rest_word() == "true" || rest_word() == "false") {
      a.kind = Attr::Kind::kBool;
      a.b = rest_word() == "true";
      advance(rest_word().size());
    } else if (rest_word() == "unit") {
      advance(4);
      a.kind = Attr::Kind::kUnit;
    } else if (c == '(' || c == '!' || rest_word() == "tensor") {
      a.kind = Attr::Kind::kType;
      TJ_ASSIGN_OR_RETURN(Type t, type());
      a.type.push_back(std::move(t));
    } else if (id_start(c)) {
      a.kind = Attr::Kind::kWord;
      a.text = ident();
    } else {
      return fail("an attribute value");
    }
    if (with_types) {
      size_t save = pos_;
      uint32_t save_line = line_;
      size_t save_start = line_start_;
      if (eat(':') && type_start()) {
        TJ_ASSIGN_OR_RETURN(Type t, type());
        a.type.push_back(std::move(t));
      } else {
        pos_ = save, line_ = save_line, line_start_ = save_start;
      }
    }
    a.source = std::string(s_.substr(b, pos_ - b));
    if (a.kind == Attr::Kind::kOpaque && a.text.empty()) a.text = a.source;
    return a;
  }
  // `[v, v, ...]`
  Expected<Attr> array(bool with_types) {
    Nest nest(*this);
    if (nest.too_deep()) return too_deep();
    size_t b = pos_;
    Attr a;
    a.kind = Attr::Kind::kArray;
    TJ_TRY(expect('['));
    if (!eat(']')) {
      do {
        skip();
        if (peek() == ']') break;
        TJ_ASSIGN_OR_RETURN(Attr e, value(with_types));
        a.items.push_back(std::move(e));
      } while (eat(','));
      TJ_TRY(expect(']'));
    }
    a.source = std::string(s_.substr(b, pos_ - b));
    return a;
  }
  Status number(Attr& a) {
    size_t b = pos_;
    if (peek() == '-') advance();
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      advance(2);
      size_t digits = pos_;
      while (std::isxdigit(static_cast<unsigned char>(peek()))) advance();
      if (pos_ == digits) return fail("hexadecimal digits");
      a.kind = Attr::Kind::kInt;
      a.i = int64_t(
          std::strtoull(std::string(s_.substr(digits, pos_ - digits)).c_str(), nullptr, 16));
      if (s_[b] == '-') a.i = -a.i;
      return {};
    }
    bool is_float = false;
    while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    if (peek() == '.') {
      is_float = true;
      advance();
      while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    }
    if ((peek() == 'e' || peek() == 'E') && (std::isdigit(static_cast<unsigned char>(peek(1))) ||
                                             ((peek(1) == '+' || peek(1) == '-') &&
                                              std::isdigit(static_cast<unsigned char>(peek(2)))))) {
      is_float = true;
      advance(2);
      while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    }
    std::string text(s_.substr(b, pos_ - b));
    if (text == "-" || text.empty()) return fail("a number");
    if (is_float) {
      a.kind = Attr::Kind::kFloat;
      a.f = std::strtod(text.c_str(), nullptr);
    } else {
      a.kind = Attr::Kind::kInt;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), a.i);
      if (ec != std::errc()) {  // out of int64 range (ui64 values): keep the bits
        a.i = int64_t(std::strtoull(text.c_str(), nullptr, 10));
      }
    }
    return {};
  }

  // ---- functions, regions, operations ----
  Expected<Func> func() {
    skip();
    Func f;
    f.loc = loc();
    if (!keyword("func.func") && !keyword("func")) return fail("'func.func'");
    skip();
    if (keyword("public")) {
      f.is_public = true;
    } else if (keyword("private")) {
      f.is_public = false;
    } else if (keyword("nested")) {
      f.is_public = false;
    }
    skip();
    if (peek() != '@') return fail("a function name '@name'");
    f.name = symbol().substr(1);
    TJ_TRY(expect('('));
    if (!eat(')')) {
      do {
        skip();
        if (peek() != '%') return fail("an argument '%name'");
        std::string n = value_name();
        TJ_TRY(expect(':'));
        TJ_ASSIGN_OR_RETURN(Type t, type());
        skip_attr_dict_after_type();
        f.args.emplace_back(std::move(n), std::move(t));
      } while (eat(','));
      TJ_TRY(expect(')'));
    }
    if (eat2("->")) {
      skip();
      if (peek() == '(') {
        advance();
        if (!eat(')')) {
          do {
            TJ_ASSIGN_OR_RETURN(Type t, type());
            skip_attr_dict_after_type();
            f.results.push_back(std::move(t));
          } while (eat(','));
          TJ_TRY(expect(')'));
        }
      } else {
        TJ_ASSIGN_OR_RETURN(Type t, type());
        f.results.push_back(std::move(t));
      }
    }
    if (keyword("attributes")) TJ_TRY(dict(true));
    skip();
    if (peek() != '{') return f;  // a declaration
    TJ_ASSIGN_OR_RETURN(f.body, region());
    return f;
  }

  // `{ [^bb(args):] ops ... }`
  Expected<Region> region() {
    Nest nest(*this);
    if (nest.too_deep()) return too_deep();
    TJ_TRY(expect('{'));
    Region r;
    r.blocks.emplace_back();
    for (;;) {
      skip();
      if (at_end()) return fail("'}' closing the region");
      if (peek() == '}') {
        advance();
        break;
      }
      if (peek() == '^') {
        if (!r.blocks.back().ops.empty() || !r.blocks.back().label.empty()) r.blocks.emplace_back();
        Block& blk = r.blocks.back();
        size_t b = pos_;
        advance();
        while (!at_end() && (id_char(peek()) || peek() == '-')) advance();
        blk.label = std::string(s_.substr(b, pos_ - b));
        if (eat('(')) {
          if (!eat(')')) {
            do {
              skip();
              if (peek() != '%') return fail("a block argument '%name'");
              std::string n = value_name();
              TJ_TRY(expect(':'));
              TJ_ASSIGN_OR_RETURN(Type t, type());
              skip_loc();
              blk.args.emplace_back(std::move(n), std::move(t));
            } while (eat(','));
            TJ_TRY(expect(')'));
          }
        }
        TJ_TRY(expect(':'));
        continue;
      }
      TJ_ASSIGN_OR_RETURN(Op op, operation());
      r.blocks.back().ops.push_back(std::move(op));
    }
    return r;
  }

  void skip_loc() {
    skip();
    if (rest_word() == "loc" && peek(3) == '(') {
      advance(3);
      (void)balanced();
    }
  }

  Expected<ValueRef> value_ref() {
    skip();
    ValueRef v;
    v.loc = loc();
    if (peek() != '%') return fail("a value '%name'");
    v.name = value_name();
    if (peek() == '#' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
      advance();
      size_t b = pos_;
      while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
      TJ_ASSIGN_OR_RETURN(v.index, small_int(b, "result index"));
    }
    return v;
  }

  Expected<Op> operation() {
    skip();
    Op op;
    op.loc = loc();
    if (peek() == '%') {
      int names = 0;
      do {
        skip();
        if (peek() != '%') return fail("a result name");
        std::string n = value_name();
        if (names++ == 0) op.result = n;
        int count = 1;
        if (peek() == ':' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
          advance();
          size_t b = pos_;
          while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
          TJ_ASSIGN_OR_RETURN(count, small_int(b, "result count"));
        }
        op.num_results += count;
        op.result_names.emplace_back(n, count);
      } while (eat(','));
      TJ_TRY(expect('='));
    }
    skip();
    if (peek() == '"') {
      TJ_ASSIGN_OR_RETURN(Attr name, string_lit());
      op.set_name(name.text);
      op.generic = true;
      TJ_TRY(generic_rest(op));
    } else {
      op.set_name(ident());
      if (op.name.empty()) return fail("an operation");
      TJ_TRY(pretty_rest(op));
    }
    skip_loc();
    return op;
  }

  Status generic_rest(Op& op) {
    TJ_TRY(expect('('));
    if (!eat(')')) {
      do {
        TJ_ASSIGN_OR_RETURN(ValueRef v, value_ref());
        op.operands.push_back(std::move(v));
      } while (eat(','));
      TJ_TRY(expect(')'));
    }
    skip();
    if (peek() == '[') TJ_TRY(balanced());  // successors
    if (eat2("<{")) {
      pos_ -= 1;  // dict() wants the '{'
      TJ_ASSIGN_OR_RETURN(auto props, dict(true));
      for (auto& p : props) op.attrs.push_back(std::move(p));
      TJ_TRY(expect('>'));
    }
    skip();
    if (peek() == '(' && (skip(), true)) {
      size_t save = pos_;
      advance();
      skip();
      if (peek() == '{') {
        do {
          TJ_ASSIGN_OR_RETURN(Region r, region());
          op.regions.push_back(std::move(r));
        } while (eat(','));
        TJ_TRY(expect(')'));
      } else {
        pos_ = save;
      }
    }
    skip();
    if (peek() == '{') {
      TJ_ASSIGN_OR_RETURN(auto d, dict(true));
      for (auto& p : d) op.attrs.push_back(std::move(p));
    }
    TJ_TRY(expect(':'));
    TJ_ASSIGN_OR_RETURN(Type ft, type());
    if (ft.kind != Type::Kind::kFunction) {
      return make_error(
          ErrorCode::kInvalidInput,
          "expected a function type '(...) -> ...' for generic operation '" + op.name + "'",
          SourceLoc{file_, op.loc.line, op.loc.col});
    }
    op.operand_types = std::move(ft.elems);
    op.result_types = std::move(ft.results);
    return {};
  }

  // Items of a pretty form up to its type signature; see the file comment.
  Status pretty_items(Op& op, int depth, std::vector<ValueRef>& inits) {
    Nest nest(*this);
    if (nest.too_deep()) return too_deep();
    for (;;) {
      skip();
      char c = peek();
      if (at_end() || c == '}' || c == '^') return {};
      if (c == ':' && depth == 0) return {};
      if (c == ')' && depth > 0) return {};
      if (c == ',') {
        advance();
        continue;
      }
      if (c == '%') {
        TJ_ASSIGN_OR_RETURN(ValueRef v, value_ref());
        skip();
        if (peek() == '=' && peek(1) != '=') {  // while: %iterArg = %init
          advance();
          TJ_ASSIGN_OR_RETURN(ValueRef init, value_ref());
          op.bound_names.push_back(v.name);
          op.operands.push_back(std::move(init));
        } else {
          op.operands.push_back(std::move(v));
        }
        continue;
      }
      if (c == '(') {
        advance();
        TJ_TRY(pretty_items(op, depth + 1, inits));
        TJ_TRY(expect(')'));
        continue;
      }
      if (c == ':' && depth > 0) {  // "init:" inside a reduce group
        advance();
        continue;
      }
      if (c == '<' && peek(1) == '{') {
        advance();
        TJ_ASSIGN_OR_RETURN(auto props, dict(true));
        for (auto& p : props) op.attrs.push_back(std::move(p));
        TJ_TRY(expect('>'));
        continue;
      }
      if (c == '{') {
        TJ_ASSIGN_OR_RETURN(auto d, dict(true));
        for (auto& p : d) op.attrs.push_back(std::move(p));
        continue;
      }
      if (c == '[') {  // slice spec [0:2, 1:3:1] or a bare array
        size_t b = pos_;
        TJ_TRY(balanced());
        Attr a;
        a.kind = Attr::Kind::kOpaque;
        a.source = a.text = std::string(s_.substr(b, pos_ - b));
        op.args.push_back(std::move(a));
        continue;
      }
      if (c == '@') {
        Attr a;
        a.kind = Attr::Kind::kSymbol;
        a.source = a.text = symbol();
        op.args.push_back(std::move(a));
        continue;
      }
      std::string_view w = rest_word();
      if (!w.empty() && id_start(w[0]) && w != "dense" && w != "array" && w != "true" &&
          w != "false") {
        std::string word = ident();
        if (word == "init") {  // reduce: (%x init: %c): the value after it is an init
          TJ_TRY(expect(':'));
          TJ_ASSIGN_OR_RETURN(ValueRef v, value_ref());
          inits.push_back(std::move(v));
          continue;
        }
        if (word == "loc" && peek() == '(') {
          TJ_TRY(balanced());
          continue;
        }
        skip();
        if (peek() == '=' && peek(1) != '=') {
          advance();
          TJ_ASSIGN_OR_RETURN(Attr v, value(false));
          op.attrs.emplace_back(std::move(word), std::move(v));
        } else {
          Attr a;
          a.kind = Attr::Kind::kWord;
          a.source = a.text = std::move(word);
          op.args.push_back(std::move(a));
        }
        continue;
      }
      TJ_ASSIGN_OR_RETURN(Attr lit, value(false));  // dense<...>, numbers, strings, ...
      op.args.push_back(std::move(lit));
    }
  }

  Status pretty_rest(Op& op) {
    std::vector<ValueRef> inits;
    TJ_TRY(pretty_items(op, 0, inits));
    for (auto& v : inits) op.operands.push_back(std::move(v));  // generic order: inputs, inits
    if (eat(':')) {
      TJ_ASSIGN_OR_RETURN(Type t, type());
      if (t.kind == Type::Kind::kFunction) {
        op.operand_types = std::move(t.elems);
        op.result_types = std::move(t.results);
      } else if (eat2("->")) {  // chlo's "type -> type" or "type -> (type, type)"
        op.operand_types.push_back(std::move(t));
        TJ_ASSIGN_OR_RETURN(Type r, type());
        if (r.kind == Type::Kind::kTuple) {
          for (auto& e : r.elems) op.result_types.push_back(std::move(e));
        } else {
          op.result_types.push_back(std::move(r));
        }
      } else {
        op.result_types.push_back(std::move(t));
        while (eat(',')) {
          TJ_ASSIGN_OR_RETURN(Type more, type());
          op.result_types.push_back(std::move(more));
        }
        if (eat2("->")) {  // "t1, t2 -> t3"
          op.operand_types = std::move(op.result_types);
          op.result_types.clear();
          TJ_ASSIGN_OR_RETURN(Type r, type());
          op.result_types.push_back(std::move(r));
        }
      }
      skip();
      if (peek() == '{') {  // an attribute dictionary after the types (check ops)
        TJ_ASSIGN_OR_RETURN(auto d, dict(true));
        for (auto& p : d) op.attrs.push_back(std::move(p));
      }
    }
    // Trailing regions: while's `cond {..} do {..}`, reduce's `reducer(..) (..) {..}`.
    for (;;) {
      skip();
      std::string_view w = rest_word();
      if (w == "cond" || w == "do") {
        std::string label = ident();
        TJ_ASSIGN_OR_RETURN(Region r, region());
        r.label = std::move(label);
        op.regions.push_back(std::move(r));
        continue;
      }
      if (w == "reducer") {
        advance(w.size());
        std::vector<std::pair<std::string, Type>> lhs, rhs;
        while (eat('(')) {
          for (int k = 0; k < 2; ++k) {
            skip();
            if (peek() != '%') return fail("a reducer argument '%name'");
            std::string n = value_name();
            TJ_TRY(expect(':'));
            TJ_ASSIGN_OR_RETURN(Type t, type());
            (k == 0 ? lhs : rhs).emplace_back(std::move(n), std::move(t));
            if (k == 0) TJ_TRY(expect(','));
          }
          TJ_TRY(expect(')'));
        }
        TJ_ASSIGN_OR_RETURN(Region r, region());
        r.label = "reducer";
        if (r.blocks.empty()) r.blocks.emplace_back();
        auto& args = r.blocks.front().args;
        args.insert(args.begin(), rhs.begin(), rhs.end());
        args.insert(args.begin(), lhs.begin(), lhs.end());
        op.regions.push_back(std::move(r));
        continue;
      }
      return {};
    }
  }

  std::string_view s_;
  const std::string& file_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
  int nesting_ = 0;
};

}  // namespace

Expected<std::vector<Module>> parse_mlir(std::string_view text, const std::string& file) {
  std::vector<Module> out;
  size_t part_begin = 0;
  uint32_t part_line = 1, line = 1;
  auto flush = [&](size_t end) -> Status {
    Parser p(text.substr(part_begin, end - part_begin), file, part_line);
    bool empty = false;
    TJ_ASSIGN_OR_RETURN(Module m, p.parse_module_or_funcs(empty));
    if (!empty) out.push_back(std::move(m));
    return {};
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t eol = text.find('\n', i);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view l = text.substr(i, eol - i);
    if (l.substr(0, 8) == "// -----") {
      TJ_TRY(flush(i));
      part_begin = eol < text.size() ? eol + 1 : eol;
      part_line = line + 1;
    }
    i = eol + 1;
    ++line;
  }
  TJ_TRY(flush(text.size()));
  return out;
}

bool looks_like_mlir(std::string_view path, std::string_view text) {
  if (path.size() > 5 && path.substr(path.size() - 5) == ".mlir") return true;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.compare(i, 2, "//") == 0) {
      i = text.find('\n', i);
      if (i == std::string_view::npos) return false;
    } else {
      break;
    }
  }
  std::string_view rest = text.substr(i);
  return rest.starts_with("module") || rest.starts_with("func.func") ||
         rest.starts_with("\"func.func\"");
}

}  // namespace tierjit::shlo
