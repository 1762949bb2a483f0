// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Distribution ops (collectives.hpp): the spec's process-group strategies on its own
// examples, the lockstep scheduler's deadlock and nesting errors, and the evaluator and the
// compiled path agreeing on a 2 x 2 grid.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stablehlo/collectives.hpp"
#include "stablehlo/compiled.hpp"
#include "stablehlo/evaluator.hpp"

namespace tierjit::shlo {
namespace {

Op collective(const std::string& text) {
  auto m = parse_mlir(text, "g.mlir");
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return (*m)[0].funcs.at(0).body.blocks.at(0).ops.at(0);
}

std::string all_gather(const std::string& groups, const std::string& extra) {
  return "func.func @f(%a: tensor<2xi64>) -> tensor<4xi64> {\n"
         "  %0 = \"stablehlo.all_gather\"(%a) {all_gather_dim = 0 : i64, replica_groups = " +
         groups + extra +
         "} : (tensor<2xi64>) -> tensor<4xi64>\n"
         "  return %0 : tensor<4xi64>\n}\n";
}

std::vector<std::vector<int64_t>> groups_of(const Op& op, Grid g) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t self = 0; self < g.processes(); ++self) {
    auto grp = process_group(op, g, self, "g.mlir");
    EXPECT_TRUE(grp.ok()) << grp.error().to_string();
    out.push_back(*grp);
  }
  return out;
}

// Spec "Collective ops": the example of each strategy (flat id = replica * partitions +
// partition).
TEST(StablehloCollectives, ProcessGroupsFollowTheSpecExamples) {
  const std::string two = "dense<[[0, 1], [2, 3]]> : tensor<2x2xi64>";
  // cross_replica, 4 replicas x 2 partitions: [(0,0),(1,0)], [(0,1),(1,1)], ...
  auto cr = groups_of(collective(all_gather(two, "")), Grid{4, 2});
  EXPECT_EQ(cr[0], (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(cr[3], (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(cr[5], (std::vector<int64_t>{5, 7}));
  // cross_replica_and_partition: [(0,0),(1,0),(0,1),(1,1)], [(2,0),(3,0),(2,1),(3,1)]
  auto crp = groups_of(collective(all_gather(two,
                                             ", channel_handle = "
                                             "#stablehlo.channel_handle<handle = 1, "
                                             "type = 0>")),
                       Grid{4, 2});
  EXPECT_EQ(crp[1], (std::vector<int64_t>{0, 2, 1, 3}));
  EXPECT_EQ(crp[7], (std::vector<int64_t>{4, 6, 5, 7}));
  // flattened_ids: [[0, 1, 2, 3], [4, 5, 6, 7]] as given.
  auto fl = groups_of(
      collective(all_gather("dense<[[0, 1, 2, 3], [4, 5, 6, 7]]> : tensor<2x4xi64>",
                            ", channel_handle = #stablehlo.channel_handle<handle = 1, type = 0>"
                            ", use_global_device_ids")),
      Grid{4, 2});
  EXPECT_EQ(fl[5], (std::vector<int64_t>{4, 5, 6, 7}));
  // cross_partition (all_to_all with a channel): partition groups [[0, 1]] x 4 replicas.
  Op a2a = collective(
      "func.func @f(%a: tensor<2xi64>) -> tensor<2xi64> {\n"
      "  %0 = \"stablehlo.all_to_all\"(%a) {split_dimension = 0 : i64, concat_dimension = 0 : "
      "i64, split_count = 2 : i64, replica_groups = dense<[[0, 1]]> : tensor<1x2xi64>, "
      "channel_handle = #stablehlo.channel_handle<handle = 1, type = 0>} : (tensor<2xi64>) -> "
      "tensor<2xi64>\n  return %0 : tensor<2xi64>\n}\n");
  auto cp = groups_of(a2a, Grid{4, 2});
  EXPECT_EQ(cp[4], (std::vector<int64_t>{4, 5}));
  // A process in no group is alone; an id past the grid is a located error.
  auto alone = process_group(collective(all_gather("dense<[[1]]> : tensor<1x1xi64>", "")),
                             Grid{2, 1}, 0, "g.mlir");
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(*alone, (std::vector<int64_t>{0}));
  auto bad = process_group(collective(all_gather("dense<[[0, 5]]> : tensor<1x2xi64>", "")),
                           Grid{2, 1}, 0, "g.mlir");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("g.mlir:2:3"), std::string::npos)
      << bad.error().to_string();
  auto twice = process_group(collective(all_gather("dense<[[0, 0]]> : tensor<1x2xi64>", "")),
                             Grid{2, 1}, 0, "g.mlir");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().to_string().find("(C2)"), std::string::npos) << twice.error().to_string();
}

// Runs `main` of `text` on both paths; returns the two errors ("" when it ran).
std::vector<std::string> run_both(const std::string& text, CheckOutcome* ref = nullptr,
                                  CheckOutcome* comp = nullptr) {
  auto m = parse_mlir(text, "p.mlir");
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  std::vector<std::string> errors;
  Evaluator ev((*m)[0], "p.mlir");
  auto r = ev.call("main", {});
  errors.push_back(r.ok() ? "" : r.error().to_string());
  if (ref) *ref = ev.checks();
  auto c = CompiledModule::create((*m)[0], "p.mlir", {"main"});
  if (!c.ok()) {
    errors.push_back(c.error().to_string());
  } else {
    auto cr = (*c)->call("main", {});
    errors.push_back(cr.ok() ? "" : cr.error().to_string());
    if (comp) *comp = (*c)->checks();
  }
  return errors;
}

TEST(StablehloCollectives, RecvWithoutSendIsADeadlockOnBothPaths) {
  std::string text =
      "func.func @recv(%t: !stablehlo.token) -> tensor<2xi64> {\n"
      "  %0, %1 = \"stablehlo.recv\"(%t) {channel_handle = #stablehlo.channel_handle<handle = "
      "1, type = 3>} : (!stablehlo.token) -> (tensor<2xi64>, !stablehlo.token)\n"
      "  return %0 : tensor<2xi64>\n}\n"
      "func.func @main() {\n"
      "  %t = stablehlo.after_all : !stablehlo.token\n"
      "  %r = \"interpreter.run_parallel\"(%t) {programs = [[@recv]]} : (!stablehlo.token) -> "
      "tensor<2xi64>\n"
      "  func.return\n}\n";
  for (const std::string& e : run_both(text)) {
    EXPECT_NE(e.find("p.mlir:2:3: stablehlo.recv"), std::string::npos) << e;
    EXPECT_NE(e.find("wait on each other"), std::string::npos) << e;
  }
}

TEST(StablehloCollectives, CollectiveInsideARegionIsUnsupported) {
  std::string text =
      "func.func @f(%a: tensor<2xi64>) -> tensor<2xi64> {\n"
      "  %c = stablehlo.constant dense<true> : tensor<i1>\n"
      "  %0 = \"stablehlo.if\"(%c) ({\n"
      "    %1 = \"stablehlo.all_gather\"(%a) {all_gather_dim = 0 : i64, replica_groups = "
      "dense<[[0]]> : tensor<1x1xi64>} : (tensor<2xi64>) -> tensor<2xi64>\n"
      "    stablehlo.return %1 : tensor<2xi64>\n"
      "  }, {\n"
      "    stablehlo.return %a : tensor<2xi64>\n"
      "  }) : (tensor<i1>) -> tensor<2xi64>\n"
      "  return %0 : tensor<2xi64>\n}\n"
      "func.func @main() {\n"
      "  %a = stablehlo.constant dense<[1, 2]> : tensor<2xi64>\n"
      "  %r = \"interpreter.run_parallel\"(%a) {programs = [[@f]]} : (tensor<2xi64>) -> "
      "tensor<2xi64>\n"
      "  func.return\n}\n";
  for (const std::string& e : run_both(text)) {
    EXPECT_NE(e.find("p.mlir:4:"), std::string::npos) << e;
    EXPECT_NE(e.find("only in the program's body"), std::string::npos) << e;
  }
}

// A 2 x 2 grid: all_reduce (f32 maximum) and all_gather over cross_replica_and_partition
// groups, reduce_scatter, then a collective_permute within partitions, all checked by each
// path against values computed by hand.
TEST(StablehloCollectives, BothPathsAgreeOnATwoByTwoGrid) {
  std::string text =
      "func.func @p(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<16xf32>, tensor<1xf32>, "
      "tensor<4xf32>) {\n"
      "  %r = \"stablehlo.all_reduce\"(%a) ({\n"
      "  ^bb0(%x: tensor<f32>, %y: tensor<f32>):\n"
      "    %m = stablehlo.maximum %x, %y : tensor<f32>\n"
      "    stablehlo.return %m : tensor<f32>\n"
      "  }) {replica_groups = dense<[[0, 1]]> : tensor<1x2xi64>, channel_handle = "
      "#stablehlo.channel_handle<handle = 1, type = 0>} : (tensor<4xf32>) -> tensor<4xf32>\n"
      "  %g = \"stablehlo.all_gather\"(%a) {all_gather_dim = 0 : i64, replica_groups = "
      "dense<[[0, 1]]> : tensor<1x2xi64>, channel_handle = #stablehlo.channel_handle<handle = "
      "1, type = 0>} : (tensor<4xf32>) -> tensor<16xf32>\n"
      "  %s = \"stablehlo.reduce_scatter\"(%a) ({\n"
      "  ^bb0(%x: tensor<f32>, %y: tensor<f32>):\n"
      "    %m = stablehlo.add %x, %y : tensor<f32>\n"
      "    stablehlo.return %m : tensor<f32>\n"
      "  }) {scatter_dimension = 0 : i64, replica_groups = dense<[[0, 1, 2, 3]]> : "
      "tensor<1x4xi64>, channel_handle = #stablehlo.channel_handle<handle = 1, type = 0>, "
      "use_global_device_ids} : (tensor<4xf32>) -> tensor<1xf32>\n"
      "  %q = \"stablehlo.collective_permute\"(%a) {source_target_pairs = dense<[[0, 1]]> : "
      "tensor<1x2xi64>} : (tensor<4xf32>) -> tensor<4xf32>\n"
      "  return %r, %g, %s, %q : tensor<4xf32>, tensor<16xf32>, tensor<1xf32>, tensor<4xf32>\n"
      "}\n"
      "func.func @main() {\n"
      "  %a0 = stablehlo.constant dense<[1.0, 8.0, 3.0, 4.0]> : tensor<4xf32>\n"
      "  %a1 = stablehlo.constant dense<[5.0, 2.0, 7.0, 0.5]> : tensor<4xf32>\n"
      "  %a2 = stablehlo.constant dense<[0.0, 1.0, 9.0, 2.0]> : tensor<4xf32>\n"
      "  %a3 = stablehlo.constant dense<[4.0, 4.0, 4.0, 4.0]> : tensor<4xf32>\n"
      "  %r:16 = \"interpreter.run_parallel\"(%a0, %a1, %a2, %a3) {programs = [[@p, @p], "
      "[@p, @p]]} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> "
      "(tensor<4xf32>, tensor<16xf32>, tensor<1xf32>, tensor<4xf32>, tensor<4xf32>, "
      "tensor<16xf32>, tensor<1xf32>, tensor<4xf32>, tensor<4xf32>, tensor<16xf32>, "
      "tensor<1xf32>, tensor<4xf32>, tensor<4xf32>, tensor<16xf32>, tensor<1xf32>, "
      "tensor<4xf32>)\n"
      // Process (replica, partition) = (0,0) a0, (0,1) a1, (1,0) a2, (1,1) a3; the group is
      // [(0,0), (1,0), (0,1), (1,1)] = a0, a2, a1, a3.
      "  check.expect_eq_const %r#0, dense<[5.0, 8.0, 9.0, 4.0]> : tensor<4xf32>\n"
      "  check.expect_eq_const %r#13, dense<[1.0, 8.0, 3.0, 4.0, 0.0, 1.0, 9.0, 2.0, 5.0, 2.0, "
      "7.0, 0.5, 4.0, 4.0, 4.0, 4.0]> : tensor<16xf32>\n"
      // Flattened ids: sum of all four, element k to process k.
      "  check.expect_eq_const %r#2, dense<[10.0]> : tensor<1xf32>\n"
      "  check.expect_eq_const %r#14, dense<[10.5]> : tensor<1xf32>\n"
      // Replica 0 sends to replica 1 within each partition; replica 0 receives nothing.
      "  check.expect_eq_const %r#3, dense<0.0> : tensor<4xf32>\n"
      "  check.expect_eq_const %r#11, dense<[1.0, 8.0, 3.0, 4.0]> : tensor<4xf32>\n"
      "  check.expect_eq_const %r#15, dense<[5.0, 2.0, 7.0, 0.5]> : tensor<4xf32>\n"
      "  func.return\n}\n";
  CheckOutcome ref, comp;
  for (const std::string& e : run_both(text, &ref, &comp)) EXPECT_EQ(e, "");
  EXPECT_EQ(ref.checks, 7);
  EXPECT_EQ(comp.checks, 7);
  for (const auto& f : ref.failures) ADD_FAILURE() << "reference: " << f;
  for (const auto& f : comp.failures) ADD_FAILURE() << "compiled: " << f;
}

}  // namespace
}  // namespace tierjit::shlo
