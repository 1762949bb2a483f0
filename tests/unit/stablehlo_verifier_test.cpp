// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The StableHLO verifier: each broken module is rejected at the right line and column with
// the constraint it breaks; well-formed modules in both forms pass; and no file of the shared
// corpus that parses is rejected (the verifier must not refuse valid programs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "stablehlo/ast.hpp"
#include "stablehlo/verifier.hpp"
#include "unit/stablehlo_corpus.hpp"

namespace tierjit::shlo {
namespace {

Status verify_text(const std::string& text) {
  auto m = parse_mlir(text, "v.mlir");
  if (!m.ok()) return m.take_error();
  for (const Module& mod : *m) TJ_TRY(verify_module(mod, "v.mlir"));
  return {};
}

TEST(StablehloVerifier, AcceptsWellFormedModules) {
  const char* text = R"(
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = stablehlo.constant dense<1.0> : tensor<4xf32>
  %2 = stablehlo.broadcast_in_dim %1, dims = [1] : (tensor<4xf32>) -> tensor<2x4xf32>
  %3 = stablehlo.add %0, %2 : tensor<2x4xf32>
  %4 = "stablehlo.transpose"(%3) {permutation = array<i64: 1, 0>} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  %5 = stablehlo.reshape %4 : (tensor<4x2xf32>) -> tensor<2x4xf32>
  %6 = "stablehlo.slice"(%5) {start_indices = array<i64: 0, 1>, limit_indices = array<i64: 2, 4>, strides = array<i64: 1, 2>} : (tensor<2x4xf32>) -> tensor<2x2xf32>
  %7 = stablehlo.concatenate %6, %6, dim = 1 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x4xf32>
  %8 = stablehlo.compare GT, %7, %3, FLOAT : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xi1>
  %9 = stablehlo.select %8, %7, %3 : tensor<2x4xi1>, tensor<2x4xf32>
  return %9 : tensor<2x4xf32>
}
)";
  Status s = verify_text(text);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
}

struct Bad {
  const char* name;
  const char* text;
  const char* want;  // substring of "FILE:LINE:COL: message"
};

TEST(StablehloVerifier, RejectsBrokenModulesWithLocatedErrors) {
  const Bad cases[] = {
      {"undefined value",
       "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
       "  %0 = stablehlo.add %a, %nope : tensor<2xf32>\n  return %0 : tensor<2xf32>\n}\n",
       "v.mlir:2:"},
      {"elementwise shapes",
       "func.func @main(%a: tensor<2xf32>, %b: tensor<3xf32>) -> tensor<2xf32> {\n"
       "  %0 = \"stablehlo.add\"(%a, %b) : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>\n"
       "  return %0 : tensor<2xf32>\n}\n",
       "v.mlir:2:3: stablehlo.add: operand 1 is tensor<3xf32>, expected the shape of tensor<2xf32> "
       "(C1)"},
      {"broadcast dims",
       "func.func @main(%a: tensor<3xf32>) -> tensor<2x4xf32> {\n"
       "  %0 = stablehlo.broadcast_in_dim %a, dims = [1] : (tensor<3xf32>) -> tensor<2x4xf32>\n"
       "  return %0 : tensor<2x4xf32>\n}\n",
       "cannot broadcast to result dimension 1 (4) (C6)"},
      {"reshape count",
       "func.func @main(%a: tensor<6xf32>) -> tensor<4xf32> {\n"
       "  %0 = stablehlo.reshape %a : (tensor<6xf32>) -> tensor<4xf32>\n  return %0 : "
       "tensor<4xf32>\n}\n",
       "reshapes tensor<6xf32> (6 elements) to tensor<4xf32> (4) (C1)"},
      {"transpose permutation",
       "func.func @main(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {\n"
       "  %0 = stablehlo.transpose %a, dims = [0, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>\n"
       "  return %0 : tensor<3x2xf32>\n}\n",
       "is not a permutation"},
      {"dot_general sizes",
       "func.func @main(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {\n"
       "  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xf32>, "
       "tensor<4x5xf32>) -> tensor<2x5xf32>\n"
       "  return %0 : tensor<2x5xf32>\n}\n",
       "contracting dimensions have different sizes: lhs 3 vs rhs 4 (C10)"},
      {"dot_general result",
       "func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) -> tensor<5x2xf32> {\n"
       "  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xf32>, "
       "tensor<3x5xf32>) -> tensor<5x2xf32>\n"
       "  return %0 : tensor<5x2xf32>\n}\n",
       "should have dimensions [2, 5] (C12)"},
      {"slice bounds",
       "func.func @main(%a: tensor<4xf32>) -> tensor<3xf32> {\n"
       "  %0 = \"stablehlo.slice\"(%a) {start_indices = array<i64: 2>, limit_indices = array<i64: "
       "5>, strides = array<i64: 1>} : (tensor<4xf32>) -> tensor<3xf32>\n"
       "  return %0 : tensor<3xf32>\n}\n",
       "limit 5 <= 4 does not hold (C3)"},
      {"concatenate",
       "func.func @main(%a: tensor<2x2xf32>, %b: tensor<3x2xf32>) -> tensor<2x4xf32> {\n"
       "  %0 = stablehlo.concatenate %a, %b, dim = 1 : (tensor<2x2xf32>, tensor<3x2xf32>) -> "
       "tensor<2x4xf32>\n"
       "  return %0 : tensor<2x4xf32>\n}\n",
       "outside dimension 1 (C2)"},
      {"compare result",
       "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
       "  %0 = stablehlo.compare EQ, %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>\n"
       "  return %0 : tensor<2xf32>\n}\n",
       "expected i1 (C2)"},
      {"return count",
       "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n  return %a, %a : tensor<2xf32>, "
       "tensor<2xf32>\n}\n",
       "v.mlir:2:3: return: returns 2 values, @main declares 1"},
      {"unknown callee",
       "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
       "  %0 = func.call @missing(%a) : (tensor<2xf32>) -> tensor<2xf32>\n  return %0 : "
       "tensor<2xf32>\n}\n",
       "call to unknown function @missing"},
      {"iota dimension",
       "func.func @main() -> tensor<2xf32> {\n"
       "  %0 = stablehlo.iota dim = 1 : tensor<2xf32>\n  return %0 : tensor<2xf32>\n}\n",
       "iota_dimension 1 is outside the result's rank 1 (C1)"},
  };
  for (const Bad& c : cases) {
    Status s = verify_text(c.text);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput) << c.name;
    EXPECT_NE(s.error().to_string().find(c.want), std::string::npos)
        << c.name << ": " << s.error().to_string();
  }
}

// Every corpus file that parses also verifies (the conformance runner counts a verifier
// rejection as a failure, so this is the no-false-positive guarantee file by file).
TEST(StablehloVerifier, AcceptsTheCorpus) {
  namespace fs = std::filesystem;
  fs::path dir = tierjit::testing::stablehlo_corpus();
  TIERJIT_REQUIRE_STABLEHLO_CORPUS(dir);
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".mlir") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = parse_mlir(ss.str(), e.path().filename().string());
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    for (const Module& mod : *m) {
      Status s = verify_module(mod, e.path().filename().string());
      EXPECT_TRUE(s.ok()) << s.error().to_string();
    }
    ++files;
  }
  EXPECT_GT(files, 1000);
}

}  // namespace
}  // namespace tierjit::shlo
