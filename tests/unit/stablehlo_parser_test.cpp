// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The StableHLO/MLIR parser: every file of the shared StableHLO corpus parses (both the
// testdata/ programs and the split interpret/ cases), the structure of representative ops
// (pretty and generic forms, regions, attributes) is what the text says, and malformed
// input gives located errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "stablehlo/ast.hpp"
#include "unit/stablehlo_corpus.hpp"

namespace tierjit::shlo {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path corpus() { return tierjit::testing::stablehlo_corpus(); }

TEST(StablehloParser, ParsesTheWholeCorpus) {
  TIERJIT_REQUIRE_STABLEHLO_CORPUS(corpus());
  size_t files = 0, modules = 0, ops = 0;
  std::vector<std::string> failures;
  for (const char* sub : {"testdata", "interpret"}) {
    for (const auto& e : fs::directory_iterator(corpus() / sub)) {
      if (e.path().extension() != ".mlir") continue;
      ++files;
      auto m = parse_mlir(read(e.path()), e.path().filename().string());
      if (!m.ok()) {
        failures.push_back(m.error().to_string());
        continue;
      }
      modules += m->size();
      for (const auto& mod : *m)
        for (const auto& f : mod.funcs)
          for (const auto& b : f.body.blocks) ops += b.ops.size();
    }
  }
  std::printf("%zu files, %zu modules, %zu top-level ops, %zu failures\n", files, modules, ops,
              failures.size());
  for (size_t i = 0; i < failures.size() && i < 20; ++i) ADD_FAILURE() << failures[i];
  EXPECT_GT(files, 1000u);
  EXPECT_TRUE(failures.empty());
}

const Op& find_op(const Module& m, const std::string& name) {
  for (const auto& f : m.funcs)
    for (const auto& b : f.body.blocks)
      for (const auto& op : b.ops)
        if (op.name == name) return op;
  static Op none;
  ADD_FAILURE() << "no op " << name;
  return none;
}

TEST(StablehloParser, PrettyAndGenericForms) {
  const char* text = R"(
module @jit_main attributes {mhlo.num_partitions = 1 : i32} {
  func.func public @main(%arg0: tensor<2x3xf32> {mhlo.sharding = "{replicated}"}) -> (tensor<3xf32> {jax.result_info = ""}) {
    %c = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %0 = stablehlo.compare  LT, %arg0, %c,  FLOAT : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %1 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [0] : (tensor<2x3xf32>, tensor<f32>) -> tensor<3xf32>
    %2 = stablehlo.dot_general %arg0, %c, contracting_dims = [1] x [1], precision = [DEFAULT, DEFAULT] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
    %3 = "stablehlo.scatter"(%1, %i, %u) <{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [0], inserted_window_dims = [1]>, unique_indices = true}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %s = stablehlo.add %a, %b : tensor<f32>
      stablehlo.return %s : tensor<f32>
    }) : (tensor<3xf32>, tensor<1xi64>, tensor<1xf32>) -> tensor<3xf32>
    %4:2 = stablehlo.while(%iterArg = %1, %iterArg_0 = %cst) : tensor<3xf32>, tensor<f32>
     cond {
      %t = stablehlo.compare  LT, %iterArg_0, %cst,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      stablehlo.return %t : tensor<i1>
    } do {
      stablehlo.return %iterArg, %iterArg_0 : tensor<3xf32>, tensor<f32>
    }
    %5 = stablehlo.slice %4#0 [0:2:1] : (tensor<3xf32>) -> tensor<2xf32>
    stablehlo.custom_call @check.expect_close(%1, %1) {has_side_effect = true} : (tensor<3xf32>, tensor<3xf32>) -> ()
    return %1 : tensor<3xf32>
  }
}
)";
  auto r = parse_mlir(text, "t.mlir");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  const Module& m = (*r)[0];
  EXPECT_EQ(m.name, "jit_main");
  ASSERT_EQ(m.funcs.size(), 1u);
  EXPECT_EQ(m.funcs[0].args[0].second.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(m.funcs[0].results[0].elem, "f32");

  const Op& cmp = find_op(m, "stablehlo.compare");
  ASSERT_EQ(cmp.args.size(), 2u);
  EXPECT_EQ(cmp.args[0].text, "LT");
  EXPECT_EQ(cmp.args[1].text, "FLOAT");
  EXPECT_EQ(cmp.operands.size(), 2u);
  EXPECT_EQ(cmp.result_types[0].elem, "i1");

  const Op& red = find_op(m, "stablehlo.reduce");
  ASSERT_EQ(red.operands.size(), 2u);  // input, then init (generic order)
  EXPECT_EQ(red.operands[1].name, "%cst");
  ASSERT_NE(red.attr("dimensions"), nullptr);
  EXPECT_EQ(red.attr("dimensions")->items.size(), 1u);

  const Op& dot = find_op(m, "stablehlo.dot_general");
  ASSERT_NE(dot.attr("contracting_dims"), nullptr);
  EXPECT_EQ(dot.attr("contracting_dims")->items.size(), 2u);  // [1] x [1]

  const Op& sc = find_op(m, "stablehlo.scatter");
  EXPECT_TRUE(sc.generic);
  ASSERT_EQ(sc.regions.size(), 1u);
  EXPECT_EQ(sc.regions[0].blocks[0].args.size(), 2u);
  EXPECT_EQ(sc.regions[0].blocks[0].ops.size(), 2u);
  ASSERT_NE(sc.attr("scatter_dimension_numbers"), nullptr);
  EXPECT_EQ(sc.attr("scatter_dimension_numbers")->kind, Attr::Kind::kOpaque);

  const Op& wh = find_op(m, "stablehlo.while");
  EXPECT_EQ(wh.num_results, 2);
  EXPECT_EQ(wh.bound_names, (std::vector<std::string>{"%iterArg", "%iterArg_0"}));
  ASSERT_EQ(wh.regions.size(), 2u);
  EXPECT_EQ(wh.regions[0].label, "cond");
  EXPECT_EQ(wh.regions[1].label, "do");

  const Op& sl = find_op(m, "stablehlo.slice");
  EXPECT_EQ(sl.operands[0].index, 0);
  ASSERT_EQ(sl.args.size(), 1u);
  EXPECT_EQ(sl.args[0].text, "[0:2:1]");

  const Op& cc = find_op(m, "stablehlo.custom_call");
  EXPECT_EQ(cc.args[0].text, "@check.expect_close");
  EXPECT_EQ(cc.operands.size(), 2u);
  EXPECT_TRUE(cc.result_types.empty());
}

// A tensor type's encoding follows a comma; an element type's own commas (quantized types'
// per-axis scales) are inside its angle brackets.
TEST(StablehloParser, ElementTypesWithCommasAndEncodings) {
  const char* text =
      "func.func @f(%a: tensor<2xf32, #enc>, %b: tensor<2x!quant.uniform<i8:f32:0, "
      "{0.1:-30,0.5:-20}>>) {\n  func.return\n}\n";
  auto m = parse_mlir(text, "q.mlir");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const Func& f = (*m)[0].funcs.at(0);
  EXPECT_EQ(f.args.at(0).second.elem, "f32");
  EXPECT_EQ(f.args.at(1).second.elem, "!quant.uniform<i8:f32:0, {0.1:-30,0.5:-20}>");
  EXPECT_EQ(f.args.at(1).second.dims, (std::vector<int64_t>{2}));
}

// Op names resolve to codes once, at parse time, by the rule of ops.def: the whole name, else
// the name without a stablehlo./func./chlo. prefix; anything else is kUnknown.
TEST(StablehloParser, OpNamesResolveToCodesOnce) {
  EXPECT_EQ(op_code("stablehlo.add"), OpCode::kAdd);
  EXPECT_EQ(op_code("add"), OpCode::kAdd);
  EXPECT_EQ(op_code("chlo.add"), OpCode::kAdd);
  EXPECT_EQ(op_code("chlo.erf_inv"), OpCode::kErfInv);
  EXPECT_EQ(op_code("stablehlo.erf_inv"), OpCode::kErfInv);
  EXPECT_EQ(op_code("func.call"), OpCode::kCall);
  EXPECT_EQ(op_code("call"), OpCode::kCall);
  EXPECT_EQ(op_code("stablehlo.return"), OpCode::kReturn);
  EXPECT_EQ(op_code("func.return"), OpCode::kFuncReturn);
  EXPECT_EQ(op_code("return"), OpCode::kFuncReturn);
  EXPECT_EQ(op_code("check.expect_eq_const"), OpCode::kCheckExpectEqConst);
  EXPECT_EQ(op_code("interpreter.probe"), OpCode::kProbe);
  for (const char* unknown : {"stablehlo.frobnicate", "check.expect_foo", "expect_eq",
                              "stablehlo.check.expect_eq", "stablehlo.interpreter.probe", ""})
    EXPECT_EQ(op_code(unknown), OpCode::kUnknown) << unknown;
  EXPECT_EQ(op_name(OpCode::kAdd), "stablehlo.add");
  EXPECT_EQ(op_short_name(OpCode::kNextAfter), "next_after");
  EXPECT_EQ(op_family(OpCode::kNextAfter), OpFamily::kBinary);
  EXPECT_EQ(op_dialect(OpCode::kNextAfter), OpDialect::kChlo);
  EXPECT_EQ(op_name(OpCode::kUnknown), "");
  for (int k = 1; op_family(OpCode(k)) != OpFamily::kUnknown; ++k)  // every row round-trips
    EXPECT_EQ(op_code(op_name(OpCode(k))), OpCode(k)) << op_name(OpCode(k));

  auto m = parse_mlir(
      "func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
      "  %0 = \"chlo.cosh\"(%a) : (tensor<2xf32>) -> tensor<2xf32>\n"
      "  %1 = stablehlo.frobnicate %0 : tensor<2xf32>\n"
      "  return %1 : tensor<2xf32>\n}\n",
      "codes.mlir");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const auto& ops = (*m)[0].funcs.at(0).body.blocks.at(0).ops;
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].code, OpCode::kCosh);
  EXPECT_EQ(ops[1].code, OpCode::kUnknown);
  EXPECT_EQ(ops[1].name, "stablehlo.frobnicate");
  EXPECT_EQ(ops[2].code, OpCode::kFuncReturn);
}

TEST(StablehloParser, SplitInputFileAndReducer) {
  const char* text = R"(func.func @a() {
  %0:2 = stablehlo.reduce(%x init: %c), (%y init: %d) across dimensions = [0] : (tensor<4xf32>, tensor<4xi32>, tensor<f32>, tensor<i32>) -> (tensor<f32>, tensor<i32>)
     reducer(%a1: tensor<f32>, %a3: tensor<f32>) (%a2: tensor<i32>, %a4: tensor<i32>)  {
      stablehlo.return %a1, %a2 : tensor<f32>, tensor<i32>
    }
  func.return
}

// -----

func.func @b() {
  check.expect_eq_const %0, dense<[0, 1, 0, -1]> : tensor<4xi2>
  func.return
}
)";
  auto r = parse_mlir(text, "s.mlir");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  const Op& red = (*r)[0].funcs[0].body.blocks[0].ops[0];
  EXPECT_EQ(red.num_results, 2);
  ASSERT_EQ(red.operands.size(), 4u);  // inputs x, y then inits c, d
  EXPECT_EQ(red.operands[2].name, "%c");
  ASSERT_EQ(red.regions.size(), 1u);
  const auto& args = red.regions[0].blocks[0].args;
  ASSERT_EQ(args.size(), 4u);  // all accumulators, then all elements
  EXPECT_EQ(args[0].first, "%a1");
  EXPECT_EQ(args[1].first, "%a2");
  EXPECT_EQ(args[2].first, "%a3");
  const Op& chk = (*r)[1].funcs[0].body.blocks[0].ops[0];
  EXPECT_EQ(chk.name, "check.expect_eq_const");
  ASSERT_EQ(chk.args.size(), 1u);
  EXPECT_EQ(chk.args[0].kind, Attr::Kind::kDense);
  EXPECT_EQ(chk.args[0].text, "[0, 1, 0, -1]");
  EXPECT_EQ(chk.result_types[0].elem, "i2");
}

TEST(StablehloParser, MalformedInputIsLocated) {
  struct Case {
    const char* text;
    const char* what;
    uint32_t line;
  };
  const Case cases[] = {
      {"func.func @f() {\n  %0 = stablehlo.add %a, %b : tensor<2x3\n}\n", "unbalanced", 2},
      {"func.func @f() {\n  %0 = stablehlo.add %a, %b : tensor<2xx3xf32>\n}\n", "malformed tensor",
       2},
      {"func.func @f() {\n  %0 = \"stablehlo.add\"(%a, %b) : tensor<f32>\n}\n", "function type", 2},
      {"func.func @f() {\n  %0 = stablehlo.add %a, %b : tensor<f32>\n", "'}' closing", 3},
      {"module {\n  func.func f() {}\n}\n", "function name", 2},
      {"func.func @f(%a tensor<f32>) {}\n", "':'", 1},
      {"func.func @f() {\n  %0 = stablehlo.constant dense<1> : tensor<f32>\n}\n}\n", "'func.func'",
       4},
  };
  std::string deep = "func.func @f() {\n  %0 = stablehlo.add " + std::string(5000, '(') + "\n}\n";
  std::string big = "func.func @f() {\n  %0 = stablehlo.add %a#99999999999999 : tensor<f32>\n}\n";
  const Case more[] = {{deep.c_str(), "nesting deeper", 2}, {big.c_str(), "result index", 2}};
  for (const Case& c : more) {
    auto r = parse_mlir(c.text, "bad.mlir");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(c.what), std::string::npos) << r.error().to_string();
    EXPECT_EQ(r.error().where.line, c.line) << r.error().to_string();
  }
  for (const Case& c : cases) {
    auto r = parse_mlir(c.text, "bad.mlir");
    ASSERT_FALSE(r.ok()) << "accepted: " << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find(c.what), std::string::npos) << r.error().to_string();
    EXPECT_EQ(r.error().where.file, "bad.mlir");
    EXPECT_EQ(r.error().where.line, c.line) << r.error().to_string();
  }
}

}  // namespace
}  // namespace tierjit::shlo
