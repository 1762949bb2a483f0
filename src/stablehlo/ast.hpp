// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// StableHLO / MLIR text as a syntax tree: modules, functions, regions, blocks and operations
// in both the generic form ("stablehlo.add"(%a, %b) : (...) -> ...) and the pretty forms
// the StableHLO printer emits (stablehlo.add %a, %b : tensor<...>). The tree keeps every
// part of an operation in a uniform shape — operands, named attributes, positional items
// (enum words, symbols, literals), regions, types — and leaves their meaning to the
// verifier and evaluator, which know each op (StableHLO spec, "Ops").
//
// Attribute values that have their own grammars (dense<...>, #stablehlo<...>,
// #stablehlo.scatter<...>, array<i64: ...>, dot_general's "[0] x [1]", convolution's
// dim_numbers) are kept as their exact source text plus a light structure (numbers,
// arrays, dictionaries), so no information is lost at parse time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stablehlo/ops.hpp"
#include "tierjit/error.hpp"

namespace tierjit::shlo {

struct Loc {
  uint32_t line = 0, col = 0;
};

/// A type: `tensor<2x3xf32>` (kTensor: dims, -1 for `?`; unranked: `ranked` false), a
/// bare element type such as `f32` or `i1` (kScalar), `!stablehlo.token` and other
/// dialect types (kOther, text only), tuples (kTuple), function types (kFunction: elems
/// are the inputs, results the outputs).
struct Type {
  enum class Kind : uint8_t { kTensor, kScalar, kTuple, kFunction, kOther };
  Kind kind = Kind::kOther;
  std::string elem;           ///< element type text: "f32", "bf16", "i1", "ui8", "complex<f32>"
  std::vector<int64_t> dims;  ///< kTensor: dimensions (-1 = dynamic)
  bool ranked = true;
  std::vector<Type> elems, results;
  std::string text;  ///< the source text
};

struct NamedAttr;

/// An attribute value.
struct Attr {
  enum class Kind : uint8_t {
    kInt,     ///< 1, -3, 1 : i64
    kFloat,   ///< 1.5, 0x7FC00000 : f32 when typed float
    kBool,    ///< true / false
    kString,  ///< "..." (unescaped)
    kSymbol,  ///< @name
    kWord,    ///< a bare identifier: EQ, FLOAT, DEFAULT, b, f, ...
    kArray,   ///< [a, b, ...]
    kDict,    ///< {k = v, ...}
    kDense,   ///< dense<...>: `text` is what is between the angle brackets
    kOpaque,  ///< #dialect<...>, #dialect.name<...>, array<...>, other: `text` is the whole
    kType,    ///< a type used as an attribute
    kUnit,    ///< a key without a value
  };
  Kind kind = Kind::kUnit;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string text;               ///< string contents, symbol/word name, dense body, opaque source
  std::vector<Attr> items;        ///< kArray
  std::vector<NamedAttr> fields;  ///< kDict
  std::vector<Type> type;         ///< ": type" suffix or kType value
  std::string source;             ///< the exact source text
};

struct NamedAttr {
  std::string name;
  Attr value;
};

/// A use of an SSA value: `%name` or `%name#index`.
struct ValueRef {
  std::string name;
  int index = -1;  ///< -1: no #index
  Loc loc;
};

struct Op;

struct Block {
  std::string label;                               ///< "^bb0", or empty
  std::vector<std::pair<std::string, Type>> args;  ///< %name : type
  std::vector<Op> ops;
};

struct Region {
  std::vector<Block> blocks;
  std::string label;  ///< pretty-form keyword before it: "cond", "do", "reducer", or empty
};

struct Op {
  std::string name;      ///< "stablehlo.add", "func.return", "call", "check.expect_eq_const"
  bool generic = false;  ///< written in the generic (quoted) form
  std::string result;    ///< first result name ("%0"), empty when the op has no results
  int num_results = 0;   ///< total: 1 for "%0 =", N for "%0:N =", 2 for "%a, %b ="
  /// Every result name with how many results it groups ("%a, %b:2 =" -> {%a,1}, {%b,2}).
  std::vector<std::pair<std::string, int>> result_names;
  std::vector<ValueRef> operands;
  /// Named attributes in source order: <{properties}>, {attr-dict} and pretty `key = value`.
  std::vector<std::pair<std::string, Attr>> attrs;
  /// Positional pretty-form items in source order: enum words (EQ, FLOAT), symbols
  /// (@callee), literals (dense<...>), slice specs ("[0:1, 2:4:2]" as kOpaque).
  std::vector<Attr> args;
  /// while: the iteration-argument names bound to the operands (`%iterArg = %x`).
  std::vector<std::string> bound_names;
  std::vector<Region> regions;
  std::vector<Type> operand_types, result_types;  ///< from the trailing type signature
  Loc loc;
  /// op_code(name) (ops.hpp), resolved once when the op is named: what the verifier, the
  /// evaluator and the lowering dispatch on.
  OpCode code = OpCode::kUnknown;

  const Attr* attr(const std::string& key) const;
  /// Names the op and resolves its code (ops.hpp): the one place a name becomes an OpCode.
  void set_name(std::string n);
};

struct Func {
  std::string name;  ///< without '@'
  bool is_public = true;
  std::vector<std::pair<std::string, Type>> args;
  std::vector<Type> results;
  Region body;
  Loc loc;
};

struct Module {
  std::string name;  ///< "@jit_main" -> "jit_main"; empty for an anonymous or implicit module
  std::vector<Func> funcs;
  Loc loc;
};

/// Parses one MLIR source. Files split with `// -----` lines (mlir-opt -split-input-file)
/// give one module per part; top-level func.func without `module` form an implicit module.
/// Errors: kInvalidInput "FILE:LINE:COL: expected X, got Y".
Expected<std::vector<Module>> parse_mlir(std::string_view text, const std::string& file);

/// True when `text` is MLIR to hand to parse_mlir: `path` ends in `.mlir`, or the first token
/// after blank lines and `//` comments is `module`, `func.func` or `"func.func"`.
bool looks_like_mlir(std::string_view path, std::string_view text);

}  // namespace tierjit::shlo
