// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The StableHLO compiled path against the reference evaluator: random programs (elementwise
// chains, compare/select, clamp, convert round trips, transpose, reverse, reduce + broadcast,
// slice + pad, dot_general, iota) over every element type, run on random inputs (with
// zeros, infinities and NaNs) by both paths; every result must agree bit for bit (any NaN
// matches any NaN: the evaluator keeps no payloads). Also: arena reuse, located errors for
// what the lowering does not implement, and the public API's compiled path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "runtime/object_cache.hpp"
#include "stablehlo/compiled.hpp"
#include "stablehlo/evaluator.hpp"
#include "stablehlo/lower.hpp"
#include "tierjit/stablehlo.hpp"

namespace tierjit::shlo {
namespace {

using stablehlo::DType;
using stablehlo::ExecutionPath;
using stablehlo::Program;

struct Gen {
  std::mt19937_64 rng;
  std::string elem;  // "f32", "i8", ...
  std::vector<int64_t> shape;
  std::vector<std::string> vals;
  std::string body;
  int next = 0;

  explicit Gen(uint64_t seed) : rng(seed) {}
  int pick(int n) { return int(rng() % uint64_t(n)); }
  bool is_float() const { return elem[0] == 'f' || elem == "bf16"; }
  std::string type(const std::vector<int64_t>& dims, const std::string& e) const {
    std::string t = "tensor<";
    for (int64_t d : dims) t += std::to_string(d) + "x";
    return t + e + ">";
  }
  std::string T() const { return type(shape, elem); }
  std::string S() const { return type({}, elem); }  // the scalar type
  std::string val() { return vals[size_t(pick(int(vals.size())))]; }
  std::string fresh() { return "%v" + std::to_string(next++); }
  void emit(const std::string& line) { body += "  " + line + "\n"; }
  std::string ints(const std::vector<int64_t>& v) {
    std::string s = "array<i64";
    for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : ": ") + std::to_string(v[k]);
    return s + ">";
  }
  std::string scalar_const(double v) {
    std::string c = fresh();
    std::string lit = is_float() ? std::to_string(v) : std::to_string(int64_t(v));
    emit(c + " = \"stablehlo.constant\"() {value = dense<" + lit + "> : " + S() + "} : () -> " +
         S());
    return c;
  }
  std::string binary_reduce_body(const std::string& op) {
    std::string p = fresh(), q = fresh(), r = fresh();
    return "({\n  ^bb0(" + p + ": " + S() + ", " + q + ": " + S() + "):\n    " + r + " = \"" + op +
           "\"(" + p + ", " + q + ") : (" + S() + ", " + S() + ") -> " + S() +
           "\n    \"stablehlo.return\"(" + r + ") : (" + S() + ") -> ()\n  })";
  }

  void step() {
    std::string out = fresh();
    int rank = int(shape.size());
    int n = int(shape.empty() ? 1 : shape[0]);
    static const char* kFU[] = {"abs",  "negate", "exponential", "log",
                                "sqrt", "tanh",   "floor",       "round_nearest_even",
                                "sign", "sine",   "logistic",    "cbrt"};
    static const char* kFB[] = {"add",     "subtract",  "multiply", "divide", "maximum",
                                "minimum", "remainder", "atan2",    "power"};
    static const char* kIU[] = {"abs", "negate", "not", "popcnt", "count_leading_zeros", "sign"};
    static const char* kIB[] = {"add",
                                "subtract",
                                "multiply",
                                "divide",
                                "remainder",
                                "maximum",
                                "minimum",
                                "and",
                                "or",
                                "xor",
                                "shift_left",
                                "shift_right_logical",
                                "shift_right_arithmetic",
                                "power"};
    switch (pick(10)) {
      case 0: {  // unary
        std::string op = is_float() ? kFU[pick(12)] : kIU[pick(6)];
        emit(out + " = \"stablehlo." + op + "\"(" + val() + ") : (" + T() + ") -> " + T());
        break;
      }
      case 1:
      case 2: {  // binary
        std::string op = is_float() ? kFB[pick(9)] : kIB[pick(14)];
        emit(out + " = \"stablehlo." + op + "\"(" + val() + ", " + val() + ") : (" + T() + ", " +
             T() + ") -> " + T());
        break;
      }
      case 3: {  // compare + select
        static const char* kDir[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
        std::string c = fresh(), a = val(), b = val();
        std::string kind = is_float()       ? (pick(2) ? "FLOAT" : "TOTALORDER")
                           : elem[0] == 'u' ? "UNSIGNED"
                                            : "SIGNED";
        emit(c + " = \"stablehlo.compare\"(" + a + ", " + b +
             ") {comparison_direction = #stablehlo<comparison_direction " + kDir[pick(6)] +
             ">, compare_type = #stablehlo<comparison_type " + kind + ">} : (" + T() + ", " + T() +
             ") -> " + type(shape, "i1"));
        emit(out + " = \"stablehlo.select\"(" + c + ", " + a + ", " + val() + ") : (" +
             type(shape, "i1") + ", " + T() + ", " + T() + ") -> " + T());
        break;
      }
      case 4: {  // clamp by scalars
        std::string lo = scalar_const(-2), hi = scalar_const(3);
        emit(out + " = \"stablehlo.clamp\"(" + lo + ", " + val() + ", " + hi + ") : (" + S() +
             ", " + T() + ", " + S() + ") -> " + T());
        break;
      }
      case 5: {  // convert there and back
        static const char* kTo[] = {"f32", "f64", "f16", "bf16", "i32", "i8", "ui16", "i1", "i64"};
        std::string to = kTo[pick(9)], mid = fresh();
        emit(mid + " = \"stablehlo.convert\"(" + val() + ") : (" + T() + ") -> " + type(shape, to));
        emit(out + " = \"stablehlo.convert\"(" + mid + ") : (" + type(shape, to) + ") -> " + T());
        break;
      }
      case 6: {  // transpose (cube shapes) or reverse
        if (rank >= 2 && pick(2)) {
          std::vector<int64_t> perm(static_cast<size_t>(rank), 0);
          for (int k = 0; k < rank; ++k) perm[size_t(k)] = k;
          std::shuffle(perm.begin(), perm.end(), rng);
          emit(out + " = \"stablehlo.transpose\"(" + val() + ") {permutation = " + ints(perm) +
               "} : (" + T() + ") -> " + T());
        } else if (rank >= 1) {
          emit(out + " = \"stablehlo.reverse\"(" + val() + ") {dimensions = " + ints({pick(rank)}) +
               "} : (" + T() + ") -> " + T());
        } else {
          emit(out + " = \"stablehlo.negate\"(" + val() + ") : (" + T() + ") -> " + T());
        }
        break;
      }
      case 7: {  // reduce one dimension, broadcast back
        if (rank == 0) {
          emit(out + " = \"stablehlo.abs\"(" + val() + ") : (" + T() + ") -> " + T());
          break;
        }
        int d = pick(rank);
        std::vector<int64_t> rs, keep;
        for (int k = 0; k < rank; ++k)
          if (k != d) rs.push_back(shape[size_t(k)]), keep.push_back(k);
        std::string init = scalar_const(0), r = fresh();
        std::string op = pick(2) ? "stablehlo.add" : "stablehlo.maximum";
        emit(r + " = \"stablehlo.reduce\"(" + val() + ", " + init + ") " + binary_reduce_body(op) +
             " {dimensions = " + ints({d}) + "} : (" + T() + ", " + S() + ") -> " + type(rs, elem));
        emit(out + " = \"stablehlo.broadcast_in_dim\"(" + r +
             ") {broadcast_dimensions = " + ints(keep) + "} : (" + type(rs, elem) + ") -> " + T());
        break;
      }
      case 8: {  // slice off the first row of dim 0, pad it back (low 1)
        if (rank == 0 || n < 2) {
          emit(out + " = \"stablehlo.negate\"(" + val() + ") : (" + T() + ") -> " + T());
          break;
        }
        std::vector<int64_t> start(size_t(rank), 0), limit = shape, strides(size_t(rank), 1);
        start[0] = 1;
        std::vector<int64_t> cut = shape;
        cut[0] -= 1;
        std::string s = fresh(), pv = scalar_const(1);
        emit(s + " = \"stablehlo.slice\"(" + val() + ") {start_indices = " + ints(start) +
             ", limit_indices = " + ints(limit) + ", strides = " + ints(strides) + "} : (" + T() +
             ") -> " + type(cut, elem));
        std::vector<int64_t> lo(size_t(rank), 0), zero(size_t(rank), 0);
        lo[0] = 1;
        emit(out + " = \"stablehlo.pad\"(" + s + ", " + pv + ") {edge_padding_low = " + ints(lo) +
             ", edge_padding_high = " + ints(zero) + ", interior_padding = " + ints(zero) +
             "} : (" + type(cut, elem) + ", " + S() + ") -> " + T());
        break;
      }
      default: {  // dot_general on square matrices, else iota
        if (rank == 2 && shape[0] == shape[1] && elem != "i1") {
          emit(out + " = \"stablehlo.dot_general\"(" + val() + ", " + val() +
               ") {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], "
               "rhs_contracting_dimensions = [0]>} : (" +
               T() + ", " + T() + ") -> " + T());
        } else {
          emit(out + " = \"stablehlo.iota\"() {iota_dimension = " +
               std::to_string(rank ? pick(rank) : 0) + " : i64} : () -> " + T());
          if (rank == 0) body.erase(body.rfind("  " + out));  // iota needs a rank
          if (rank == 0)
            emit(out + " = \"stablehlo.abs\"(" + val() + ") : (" + T() + ") -> " + T());
        }
      }
    }
    vals.push_back(out);
  }

  std::string program(int steps) {
    static const char* kElem[] = {"f32", "f64", "f16", "bf16", "i32", "i8", "ui16", "i64", "ui8"};
    elem = kElem[pick(9)];
    int rank = pick(4);
    int n = 1 + pick(5);
    shape.assign(size_t(rank), n);  // cubes: transpose and dot keep the shape
    vals = {"%a", "%b"};
    for (int k = 0; k < steps; ++k) step();
    std::string ret = vals.back() + ", " + vals[vals.size() - 2] + ", " + val();
    return "func.func @main(%a: " + T() + ", %b: " + T() + ") -> (" + T() + ", " + T() + ", " +
           T() + ") {\n" + body + "  return " + ret + " : " + T() + ", " + T() + ", " + T() +
           "\n}\n";
  }
};

stablehlo::Tensor random_input(std::mt19937_64& rng, const stablehlo::Tensor& sig) {
  stablehlo::Tensor t = sig;
  int w = stablehlo::dtype_size(t.dtype);
  t.data.resize(size_t(t.size()) * size_t(w));
  auto et = parse_elem_type(stablehlo::dtype_name(t.dtype));
  for (int64_t k = 0; k < t.size(); ++k) {
    uint64_t bits = 0;
    if (et.ok() && is_float(*et)) {
      double v;
      switch (rng() % 12) {
        case 0:
          v = 0.0;
          break;
        case 1:
          v = -0.0;
          break;
        case 2:
          v = INFINITY;
          break;
        case 3:
          v = NAN;
          break;
        default:
          v = std::ldexp(double(int64_t(rng() % 2001) - 1000), -int(rng() % 8));
          break;
      }
      bits = float_bits(*et, round_float(*et, v));
    } else {
      bits = rng() % 16 == 0 ? rng() : rng() % 7;  // small values mostly, full range sometimes
    }
    for (int b = 0; b < w; ++b)
      t.data[size_t(k) * size_t(w) + size_t(b)] = uint8_t(bits >> (8 * b));
  }
  return t;
}

bool same_element(DType t, const uint8_t* a, const uint8_t* b) {
  int w = stablehlo::dtype_size(t);
  if (std::memcmp(a, b, size_t(w)) == 0) return true;
  auto et = parse_elem_type(stablehlo::dtype_name(t));
  if (!et.ok() || !is_float(*et)) return false;
  uint64_t x = 0, y = 0;
  for (int k = w - 1; k >= 0; --k) x = (x << 8) | a[k], y = (y << 8) | b[k];
  return std::isnan(float_from_bits(*et, x)) && std::isnan(float_from_bits(*et, y));
}

TEST(StablehloCompiled, RandomProgramsAgreeWithTheEvaluator) {
  int programs = 0, elements = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    Gen g(seed);
    std::string text = g.program(4 + int(seed % 10));
    auto ref = Program::parse(text, "random.mlir");
    ASSERT_TRUE(ref.ok()) << ref.error().to_string() << "\n" << text;
    auto comp = Program::parse(text, "random.mlir");
    ASSERT_TRUE(comp.ok());
    (*comp)->set_path(ExecutionPath::kCompiled);
    auto sig = (*ref)->signature("main");
    ASSERT_TRUE(sig.ok());
    std::mt19937_64 rng(seed * 7919);
    std::vector<stablehlo::Tensor> in;
    for (const auto& s : *sig) in.push_back(random_input(rng, s));
    auto want = (*ref)->run("main", in);
    ASSERT_TRUE(want.ok()) << want.error().to_string() << "\n" << text;
    auto got = (*comp)->run("main", in);
    ASSERT_TRUE(got.ok()) << got.error().to_string() << "\n" << text;
    ASSERT_EQ(got->size(), want->size());
    for (size_t r = 0; r < got->size(); ++r) {
      const auto &x = (*got)[r], &y = (*want)[r];
      ASSERT_EQ(x.shape, y.shape);
      ASSERT_EQ(x.data.size(), y.data.size());
      int w = stablehlo::dtype_size(x.dtype);
      for (int64_t k = 0; k < x.size(); ++k) {
        ASSERT_TRUE(same_element(x.dtype, x.data.data() + k * w, y.data.data() + k * w))
            << "seed " << seed << " result " << r << " element " << k << "\n"
            << text;
        ++elements;
      }
    }
    ++programs;
  }
  EXPECT_EQ(programs, 150);
  EXPECT_GT(elements, 1000);
}

TEST(StablehloCompiled, ArenaReusesDeadBuffers) {
  // Ten materialized 64 KiB values in a chain, each read twice: at most two live at once.
  std::string t = "tensor<128x128xf32>";
  std::string text = "func.func @main(%a: " + t + ") -> " + t + " {\n";
  std::string prev = "%a";
  for (int k = 0; k < 10; ++k) {
    std::string v = "%v" + std::to_string(k);
    text += "  " + v + " = stablehlo.multiply " + prev + ", " + prev + " : " + t + "\n";
    prev = v;
  }
  text += "  return " + prev + " : " + t + "\n}\n";
  auto m = parse_mlir(text, "chain.mlir");
  ASSERT_TRUE(m.ok());
  auto low = lower_module((*m)[0], "chain.mlir", {"main"});
  ASSERT_TRUE(low.ok()) << low.error().to_string();
  int64_t one = 128 * 128 * 4;
  EXPECT_GE(low->entries[0].arena_bytes, one);
  EXPECT_LE(low->entries[0].arena_bytes, 2 * one) << "buffers were not reused";
}

TEST(StablehloCompiled, UnsupportedFormsAreLocatedErrors) {
  std::string text =
      "func.func @main(%a: tensor<2xf32>) -> tuple<tensor<2xf32>> {\n"
      "  %0 = stablehlo.tuple %a : tuple<tensor<2xf32>>\n"
      "  return %0 : tuple<tensor<2xf32>>\n}\n";
  auto m = parse_mlir(text, "t.mlir");
  ASSERT_TRUE(m.ok());
  auto c = CompiledModule::create((*m)[0], "t.mlir", {"main"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(c.error().to_string().find("t.mlir"), std::string::npos) << c.error().to_string();
  std::string coll =
      "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
      "  %0 = \"stablehlo.all_reduce\"(%a) ({\n"
      "  ^bb0(%x: tensor<f32>, %y: tensor<f32>):\n"
      "    %s = stablehlo.add %x, %y : tensor<f32>\n"
      "    stablehlo.return %s : tensor<f32>\n"
      "  }) {replica_groups = dense<[[0]]> : tensor<1x1xi64>} : (tensor<2xf32>) -> tensor<2xf32>\n"
      "  return %0 : tensor<2xf32>\n}\n";
  // A collective outside run_parallel is a process group of one: the operand comes back.
  auto m2 = parse_mlir(coll, "c.mlir");
  ASSERT_TRUE(m2.ok()) << m2.error().to_string();
  auto c2 = CompiledModule::create((*m2)[0], "c.mlir", {"main"});
  ASSERT_TRUE(c2.ok()) << c2.error().to_string();
  Tensor a;
  a.type = ElemType::kF32;
  a.shape = {2};
  a.f = {1.5, -2.0};
  auto r2 = (*c2)->call("main", {a});
  ASSERT_TRUE(r2.ok()) << r2.error().to_string();
  EXPECT_EQ(r2->at(0).f, a.f);
}

TEST(StablehloCompiled, CompiledChecksReportFailures) {
  std::string text =
      "func.func @main() {\n"
      "  %0 = stablehlo.constant dense<[1.0, 2.0]> : tensor<2xf32>\n"
      "  %1 = stablehlo.add %0, %0 : tensor<2xf32>\n"
      "  check.expect_eq_const %1, dense<[2.0, 5.0]> : tensor<2xf32>\n"
      "  func.return\n}\n";
  auto m = parse_mlir(text, "k.mlir");
  ASSERT_TRUE(m.ok());
  auto c = CompiledModule::create((*m)[0], "k.mlir", {"main"});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_TRUE((*c)->call("main", {}).ok());
  EXPECT_EQ((*c)->checks().checks, 1);
  ASSERT_EQ((*c)->checks().failures.size(), 1u);
  EXPECT_NE((*c)->checks().failures[0].find("k.mlir:4:3"), std::string::npos);
  EXPECT_NE((*c)->checks().failures[0].find("element 1 is 4.0"), std::string::npos)
      << (*c)->checks().failures[0];
}

TEST(StablehloCompiled, ObjectCacheHitsAndRecoversFromCorruptEntries) {
  std::string text =
      "func.func @main(%a: tensor<64xf32>) -> tensor<64xf32> {\n"
      "  %0 = stablehlo.multiply %a, %a : tensor<64xf32>\n"
      "  %1 = stablehlo.exponential %0 : tensor<64xf32>\n"
      "  return %1 : tensor<64xf32>\n}\n";
  auto m = parse_mlir(text, "cache.mlir");
  ASSERT_TRUE(m.ok());
  auto dir =
      std::filesystem::temp_directory_path() / ("tierjit-shlo-cache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ObjectCache cache(dir.string());
  std::vector<std::string> warnings;
  cache.set_warning_handler([&](const std::string& w) { warnings.push_back(w); });
  CompileOptions options;
  options.cache = &cache;
  Tensor a = *make_tensor((*m)[0].funcs[0].args[0].second);
  for (size_t k = 0; k < a.f.size(); ++k) a.f[k] = float(k) / 16.0f;
  auto run = [&](bool expect_hit) {
    auto c = CompiledModule::create((*m)[0], "cache.mlir", {"main"}, options);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    if (!c.ok()) return std::vector<double>{};
    EXPECT_EQ((*c)->times().from_cache, expect_hit);
    auto r = (*c)->call("main", {a});
    EXPECT_TRUE(r.ok());
    return r.ok() ? (*r)[0].f : std::vector<double>{};
  };
  std::vector<double> first = run(false);
  ASSERT_EQ(first.size(), 64u);
  EXPECT_EQ(first[16], double(std::exp(1.0f)));
  EXPECT_EQ(run(true), first);
  // Flip a byte in every stored entry: the cache reports it, the compile redoes the work.
  size_t entries = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(e.file_size() / 2));
    f.put('\x5a');
    ++entries;
  }
  ASSERT_GE(entries, 1u);
  EXPECT_EQ(run(false), first);
  EXPECT_FALSE(warnings.empty());
  EXPECT_EQ(run(true), first);
  std::filesystem::remove_all(dir);
}

// interpreter.probe records its operand each time it runs (here inside a while loop) and
// check.expect_serialized_eq compares the iter-th record; both paths, with a wrong
// expectation reported as a located failure.
TEST(StablehloCompiled, ProbesRecordEveryExecutionOnBothPaths) {
  std::string text =
      "func.func @main() {\n"
      "  %i0 = stablehlo.constant dense<0> : tensor<i64>\n"
      "  %x0 = stablehlo.constant dense<[1.5, 2.0]> : tensor<2xf32>\n"
      "  %three = stablehlo.constant dense<3> : tensor<i64>\n"
      "  %one = stablehlo.constant dense<1> : tensor<i64>\n"
      "  %r0, %r1 = stablehlo.while(%i = %i0, %x = %x0) : tensor<i64>, tensor<2xf32>\n"
      "  cond {\n"
      "    %c = stablehlo.compare LT, %i, %three : (tensor<i64>, tensor<i64>) -> tensor<i1>\n"
      "    stablehlo.return %c : tensor<i1>\n"
      "  } do {\n"
      "    %y = stablehlo.add %x, %x : tensor<2xf32>\n"
      "    %p = interpreter.probe %y, probe_id = \"doubled\" : tensor<2xf32>\n"
      "    %j = stablehlo.add %i, %one : tensor<i64>\n"
      "    stablehlo.return %j, %p : tensor<i64>, tensor<2xf32>\n"
      "  }\n"
      "  %e1 = stablehlo.constant dense<[6.0, 8.0]> : tensor<2xf32>\n"
      "  %e2 = stablehlo.constant dense<[12.0, 15.0]> : tensor<2xf32>\n"
      "  check.expect_serialized_eq %e1, probe_id = \"doubled\", iter = 1 : tensor<2xf32>\n"
      "  check.expect_serialized_eq %e2, probe_id = \"doubled\", iter = 2 : tensor<2xf32>\n"
      "  check.expect_serialized_eq %e2, probe_id = \"doubled\", iter = 3 : tensor<2xf32>\n"
      "  func.return\n}\n";
  auto m = parse_mlir(text, "p.mlir");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  Evaluator ev((*m)[0], "p.mlir");
  ASSERT_TRUE(ev.call("main", {}).ok());
  auto c = CompiledModule::create((*m)[0], "p.mlir", {"main"});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_TRUE((*c)->call("main", {}).ok());
  for (const CheckOutcome* o : {&ev.checks(), &(*c)->checks()}) {
    ASSERT_EQ(o->probes.count("doubled"), 1u);
    ASSERT_EQ(o->probes.at("doubled").size(), 3u);
    EXPECT_EQ(o->probes.at("doubled")[2].f, (std::vector<double>{12.0, 16.0}));
    EXPECT_EQ(o->checks, 3);
    ASSERT_EQ(o->failures.size(), 2u);
    EXPECT_NE(o->failures[0].find("p.mlir:19:3: check.expect_serialized_eq: element 1 is 16"),
              std::string::npos)
        << o->failures[0];
    EXPECT_NE(o->failures[1].find("recorded no value for iteration 3"), std::string::npos)
        << o->failures[1];
  }
}

}  // namespace
}  // namespace tierjit::shlo
