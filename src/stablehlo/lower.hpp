// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// StableHLO -> LLVM IR (the compiled path).
//
// Every tensor value is lowered as an *elemental generator* in the manner of XLA's
// ElementalIrEmitter: a function that emits the IR computing one element at a given
// multi-index. Elementwise ops, broadcast_in_dim, transpose, slice, reverse, iota, convert,
// compare, select, clamp and dynamic_slice compose generators, so a chain of them becomes one
// loop nest with no intermediate buffer (loop fusion). A value is *materialized* into a
// buffer — one loop nest writing it — when it is used more than once, when its consumer
// reads it non-linearly (dot_general, reduce_window, convolution, a widening
// broadcast_in_dim), when it crosses control flow (while/if/case), and for results and
// checked values. Single-element values used several times stay in SSA registers.
//
// Buffers live in one arena per entry whose offsets are planned after lowering from each
// buffer's first and last access (greedy first fit; a buffer read inside a while loop lives
// to the loop's end), so the code allocates nothing. Constants with distinct elements live
// in a constant pool passed in at run time (LLVM cannot fold them away; the IR stays small);
// splats become IR constants. f32 dot_general with enough work calls the tensor kernels'
// sgemm (with the shape known at compile time, it is generated before the first run).
//
// Arithmetic follows the reference evaluator exactly: f16/bf16 values are held in float and
// rounded after every op (float has more than 2p+2 bits for both, so + - * / sqrt round
// once); transcendental functions are computed in double by the C library and rounded to the
// element type, like the evaluator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"
#include "stablehlo/tensor.hpp"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace tierjit::shlo {

/// A tensor type without elements.
struct TensorShape {
  ElemType type = ElemType::kF32;
  std::vector<int64_t> dims;
  int64_t elements() const;
  int64_t bytes() const;  ///< packed: elements() * elem_bytes(type)
};

/// An sgemm the code calls (row-major operands as stored; see kernels::GemmDesc).
struct GemmCall {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
};

/// A convolution the code hands to the tensor kernels' conv2d_nhwc (f32 NHWC x HWIO -> NHWC,
/// symmetric padding; fields as kernels::Conv2dDesc's).
struct ConvCall {
  int64_t n = 0, h = 0, w = 0, c = 0, k = 0, r = 0, s = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
};

/// One lowered function: `void SYMBOL(ptr args, ptr results, ptr consts, ptr arena, ptr ctx)`
/// where args/results are arrays of pointers to packed row-major tensors, consts is the
/// module's constant pool, arena a scratch area of arena_bytes (64-byte aligned) and ctx
/// the run context the runtime helpers receive.
struct LoweredEntry {
  std::string func, symbol;
  std::vector<TensorShape> args, results;
  /// A check op: its operands' values are written to result slots after the function's own
  /// results (slots index `results` + `probe_shapes`).
  struct Probe {
    const Op* op = nullptr;
    std::string name;  ///< "check.expect_eq", "check.expect_almost_eq_const", ...
    std::vector<size_t> slots;
  };
  std::vector<Probe> probes;
  std::vector<TensorShape> probe_shapes;
  int64_t arena_bytes = 0;
  std::vector<GemmCall> gemms;
  /// Convolutions by index: the code calls tj_shlo_conv2d_nhwc(ctx, index, x, w, y).
  std::vector<ConvCall> convs;
  /// interpreter.probe ops: the code calls tj_shlo_probe(ctx, index into this, data) each
  /// time one runs (inside loops too), with the operand's packed elements.
  struct ProbePoint {
    std::string id;  ///< probe_id
    TensorShape shape;
  };
  std::vector<ProbePoint> probe_points;
};

struct LoweredModule {
  std::unique_ptr<llvm::LLVMContext> ctx;
  std::unique_ptr<llvm::Module> mod;
  std::vector<LoweredEntry> entries;
  std::vector<uint8_t> consts;  ///< the constant pool (entries 64-byte aligned)
  LoweredModule();
  LoweredModule(LoweredModule&&) noexcept;
  ~LoweredModule();
};

/// Lowers functions `entries` of `m` (with everything they call, inlined). Requires: `m`
/// passed verify_module (values defined once and before use, calls well formed). Errors:
/// kUnsupported "FILE:LINE:COL: stablehlo.OP: ... is not lowered" for an op or form the
/// compiled path does not implement, kInvalidInput for a malformed program, located.
Expected<LoweredModule> lower_module(const Module& m, const std::string& file,
                                     const std::vector<std::string>& entries);

// Runtime helpers the lowered code calls (resolved as absolute symbols by the JIT).
extern "C" {
double tj_shlo_round(int32_t type, double x);  ///< round_float(type, x)
double tj_shlo_digamma(double x);
double tj_shlo_erf_inv(double x);
double tj_shlo_bessel_i1e(double x);
double tj_shlo_next_after(int32_t type, double x, double y);
int64_t tj_shlo_ipow(int32_t type, int64_t base, int64_t e);
/// x rounded to `eb` exponent and `mb` mantissa bits, then to `type` (spec reduce_precision).
double tj_shlo_reduce_precision(int32_t type, double x, int32_t eb, int32_t mb);
/// Records the value of probe point `point` of the running entry (`data`: its packed
/// elements) in the run context's probe log.
void tj_shlo_probe(void* ctx, int32_t point, const void* data);
/// C = A B for f32 row-major A (m x k, or k x m with trans_a), B (k x n, or n x k).
void tj_shlo_sgemm(void* ctx, int64_t m, int64_t n, int64_t k, int32_t trans_a, int32_t trans_b,
                   const float* a, const float* b, float* c);
/// y = the running entry's convolution `index` (LoweredEntry::convs) of x and w.
void tj_shlo_conv2d_nhwc(void* ctx, int64_t index, const float* x, const float* w, float* y);
}

}  // namespace tierjit::shlo
