// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tensor kernels generated at run time for the exact shape and the CPU's best ISA.
//
// Model (a "neural kernel JIT"): every call is profiled by (op, shape, ISA); a shape
// that reaches the compile threshold gets its own machine code, emitted with Xbyak into
// tierjit's W^X code pool (never a page that is writable and executable at once); until then
// a portable generic kernel runs. Compiled kernels live in an LRU cache bounded in bytes.
//
// Thread safety: a KernelEngine may be called from several threads at once.
// Units: sizes in elements, leading dimensions in elements, memory bounds in bytes, times in
// nanoseconds, cycles from the TSC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tierjit/error.hpp"

namespace tierjit::kernels {

/// Instruction-set level of generated code, lowest first. kAvx2 means AVX2 + FMA3; kAvx512
/// means AVX-512 F + BW + VL + DQ (the Skylake-SP set), with the OS saving zmm/opmask state.
enum class Isa : uint8_t { kScalar, kAvx2, kAvx512 };
const char* isa_name(Isa isa);

/// What cpuid and xgetbv report (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E).
struct CpuFeatures {
  std::string vendor;  ///< "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   ///< processor brand string
  bool sse2 = false, avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
  bool os_ymm = false;                                 ///< XCR0 has SSE+AVX state enabled (xgetbv)
  bool os_zmm = false;                                 ///< XCR0 also has opmask+ZMM state enabled
  uint32_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;  ///< data caches (0 = not reported)
  Isa best = Isa::kScalar;                             ///< highest level usable here
};

/// Detected once per process.
const CpuFeatures& cpu_features();

/// The level kernels use by default: cpu_features().best, lowered by the environment
/// variable TIERJIT_ISA=scalar|avx2|avx512. Errors: kUsage for an unknown name, kUnsupported
/// for a level this CPU (or OS) cannot run.
Expected<Isa> default_isa();
/// Parses "scalar", "avx2", "avx512" and checks the CPU supports it (errors as above).
Expected<Isa> parse_isa(const std::string& name);

/// The core's fp32 peak at this ISA in GFLOP/s, measured by running independent FMAs for
/// about `seconds` (best of repeated timings). 0 for kScalar.
double measure_peak_gflops(Isa isa, double seconds = 0.05);

enum class Layout : uint8_t { kRowMajor, kColMajor };
enum class Transpose : uint8_t { kNo, kYes };

/// C = alpha * op(A) * op(B) + beta * C with op(A) M x K, op(B) K x N, C M x N (BLAS sgemm).
/// Leading dimensions count elements between consecutive rows (row-major) or columns
/// (column-major) of the matrices as stored, i.e. before op(): for row-major A with
/// trans_a = kNo, lda >= K; with kYes, lda >= M. A leading dimension must also be >= 1.
/// beta = 0 means C is not read (NaN in C does not propagate); alpha = 0 means A and B are
/// not read (BLAS reference semantics).
struct GemmDesc {
  Layout layout = Layout::kRowMajor;
  Transpose trans_a = Transpose::kNo;
  Transpose trans_b = Transpose::kNo;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;

  /// A dense row-major M x N x K description (lda = K, ldb = N, ldc = N, or the transposed
  /// storage widths when trans_a/trans_b are set).
  static GemmDesc row_major(int64_t m, int64_t n, int64_t k, bool trans_a = false,
                            bool trans_b = false);
};

/// Elementwise unary operations, y[i] = f(x[i]). Accuracy against a double-precision
/// reference, in ulp of the result (results below FLT_MIN may be flushed to 0); asserted by
/// tests/unit/tensor_ops_test.cpp over dense sweeps, measured maxima in docs/DESIGN.md:
///   relu     exact; NaN stays NaN.
///   exp      <= 2 ulp (Cephes expf: range reduction by ln 2 in two parts, degree-6
///            polynomial); 0 below about -103.9, +inf above about 88.72; NaN stays NaN.
///   tanh     <= 3 ulp (Cephes tanhf: odd polynomial for |x| < 0.625, 1 - 2/(e^2|x| + 1)).
///   sigmoid  1 / (1 + e^-x): <= 3 ulp.
///   gelu     x/2 (1 + erf(x/sqrt 2)), computed as max(x,0) - |x|/2 erfc(|x|/sqrt 2) with
///            erfc from Numerical Recipes' Chebyshev fit (relative error < 1.2e-7):
///            <= 8 + 2 x^2 ulp for x >= -10 (gelu's condition number grows as x^2; below
///            -10 the result is under 1e-22 in magnitude).
/// The scalar ISA level (and calls below the compile threshold) use the C library's
/// expf/tanhf/erfcf and meet the same bounds.
enum class UnaryOp : uint8_t { kRelu, kExp, kTanh, kSigmoid, kGelu };
/// Elementwise binary operations with NumPy broadcasting. add/sub/mul/div are IEEE-754
/// correctly rounded; max/min return NaN when either operand is NaN (NumPy maximum/minimum).
enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv, kMax, kMin };
/// Reductions along one axis. sum and mean accumulate in fp32 over several vector partial
/// sums (error <= ~(n/lanes + log2(lanes)) ulp of sum|x|); max returns NaN if any element is.
enum class ReduceOp : uint8_t { kSum, kMax, kMean };
const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(ReduceOp op);

/// 2-D convolution (cross-correlation, as in deep-learning frameworks), NCHW activations and
/// KCRS (OIHW) weights: y[n][k][p][q] = bias[k] + sum over c, r, s of
/// x[n][c][p*stride_h - pad_h + r*dilation_h][q*stride_w - pad_w + s*dilation_w] * w[k][c][r][s],
/// with x read as 0 outside the image. Output: N x K x out_h() x out_w().
struct Conv2dDesc {
  int64_t n = 1, c = 0, h = 0, w = 0;  ///< input batch, channels, height, width
  int64_t k = 0, r = 1, s = 1;         ///< output channels, filter height, filter width
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  /// (h + 2 pad_h - dilation_h (r - 1) - 1) / stride_h + 1; <= 0 means an invalid shape.
  int64_t out_h() const;
  int64_t out_w() const;
};

struct KernelConfig {
  /// Calls of one (op, shape) before its kernel is generated; 0 compiles on the first call.
  uint32_t compile_threshold = 100;
  /// Code bytes the kernel cache may hold; least recently used kernels are evicted past it.
  size_t cache_bytes = 8u << 20;
  /// Worker threads for GEMM; 0 = one per online core. 1 runs everything on the caller.
  int threads = 1;
  /// Level of generated code; unset = default_isa().
  bool isa_set = false;
  Isa isa = Isa::kScalar;
};

/// Per-(op, shape) profile: the engine's table of hot shapes.
struct ShapeProfile {
  std::string op;     ///< "sgemm", "exp", "add", "reduce_sum", "softmax", ...
  std::string shape;  ///< "RM NN 64x64x64 lda=64 ldb=64 ldc=64 b1"
  uint64_t calls = 0;
  uint64_t cycles = 0;  ///< TSC cycles spent in those calls (sampled 1 in 16 once compiled)
  bool compiled = false;
  bool failed = false;  ///< generation failed: this shape runs the generic kernel for good
};

struct KernelStats {
  uint64_t calls = 0;             ///< all kernel calls
  uint64_t generic_calls = 0;     ///< calls that ran the generic kernel (below threshold)
  uint64_t hits = 0;              ///< calls that found their compiled kernel in the cache
  uint64_t compiles = 0;          ///< kernels generated
  uint64_t compile_failures = 0;  ///< shapes whose generation failed (they run generic)
  uint64_t evictions = 0;         ///< kernels evicted by the LRU bound
  uint64_t compile_ns = 0;        ///< total generation time
  size_t code_bytes = 0;          ///< code held by the cache now
  uint64_t winograd_convs = 0;    ///< conv2d_nhwc calls run by Winograd's F(4x4, 3x3)
  uint64_t im2col_convs = 0;      ///< conv2d_nhwc calls run by im2col + sgemm
  std::vector<ShapeProfile> shapes;
};

/// The kernel JIT: profiles calls, generates shape-specialized code, caches it.
class KernelEngine {
 public:
  /// Errors: kUnsupported when config.isa is above what the CPU supports.
  static Expected<std::unique_ptr<KernelEngine>> create(const KernelConfig& config = {});
  ~KernelEngine();
  KernelEngine(const KernelEngine&) = delete;
  KernelEngine& operator=(const KernelEngine&) = delete;

  /// fp32 GEMM (see GemmDesc). Errors (kInvalidInput, nothing written): a negative or
  /// overflowing dimension, a leading dimension below the stored row length, a null buffer
  /// with a non-zero size, C overlapping A or B.
  Status sgemm(const GemmDesc& desc, float alpha, const float* a, const float* b, float beta,
               float* c);

  /// Generates (or finds) the kernel for this shape now, regardless of the threshold;
  /// returns the generation time in ns (0 when it was cached).
  Expected<uint64_t> prepare_sgemm(const GemmDesc& desc, float alpha, float beta);

  // The other kernels a small network needs. Shapes are dense row-major, rank 0..8, every
  // dimension >= 0. Errors (kInvalidInput, nothing written): a negative or overflowing
  // dimension, a null buffer with a non-zero size, an output that partly overlaps an input
  // (an output may be exactly the input where the shapes are equal: in-place).

  /// y[i] = op(x[i]) for i < n.
  Status unary(UnaryOp op, int64_t n, const float* x, float* y);
  /// y = a op b with NumPy broadcasting: shapes are aligned on their last dimension and a
  /// dimension of 1 (or a missing one) stretches. y has the broadcast shape; incompatible
  /// shapes are kInvalidInput naming both.
  Status binary(BinaryOp op, std::span<const int64_t> a_shape, const float* a,
                std::span<const int64_t> b_shape, const float* b, float* y);
  /// y = reduction of x along `axis` (negative counts from the end); y has x's shape without
  /// that axis. A zero-length axis gives 0 (sum), NaN (mean) or -inf (max).
  Status reduce(ReduceOp op, std::span<const int64_t> shape, int axis, const float* x, float* y);
  /// Softmax along the last axis of a rows x cols matrix: y = exp(x - max) / sum(exp(x - max)),
  /// max-subtracted so no row overflows. Error per element <= 8 + |x - max| ulp (x - max is
  /// rounded to fp32 before exp); a NaN in a row makes the whole row NaN.
  Status softmax(int64_t rows, int64_t cols, const float* x, float* y);
  /// Layer normalization along the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta
  /// with the biased variance (two passes). gamma and beta have `cols` elements; either may be
  /// null (1 and 0). eps must be >= 0.
  Status layer_norm(int64_t rows, int64_t cols, const float* x, const float* gamma,
                    const float* beta, float eps, float* y);
  /// 2-D convolution (see Conv2dDesc) by im2col + this engine's sgemm (1x1 stride-1 unpadded
  /// filters skip im2col); GEMM threads split it. bias (K elements) may be null. y must not
  /// overlap x, w or bias. Errors also: non-positive stride or dilation, negative padding,
  /// an empty output.
  Status conv2d(const Conv2dDesc& desc, const float* x, const float* w, const float* bias,
                float* y);
  /// The same convolution in the layouts JAX and TensorFlow use: x is NHWC (N x h x w x c),
  /// w is HWIO (r x s x c x k), y is NHWC (N x out_h() x out_w() x k); bias as conv2d's.
  /// 3x3 filters at stride 1 without dilation, with c and k >= 32 and an output of at least
  /// 4x4, run Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for
  /// Convolutional Neural Networks", CVPR 2016): 36 sgemms of (tiles x c) x (c x k) between
  /// an input and an output transform, a quarter of the direct form's multiplies. Its
  /// transforms amplify rounding: the error is within about 2^-17 of sum |x| |w| over each
  /// output's window (asserted in tests/unit/conv_nhwc_test.cpp against a double-precision
  /// direct convolution), against about 2^-21 for im2col. Every other shape runs im2col +
  /// sgemm, a few output rows at a time. One thread (the GEMMs' plans run on the engine's
  /// workers). Errors as conv2d's. stats() counts calls by algorithm.
  Status conv2d_nhwc(const Conv2dDesc& desc, const float* x, const float* w, const float* bias,
                     float* y);
  /// Generates the sgemm kernels conv2d_nhwc needs for `desc` now (as prepare_sgemm).
  Status prepare_conv2d_nhwc(const Conv2dDesc& desc);

  Isa isa() const;
  int threads() const;
  KernelStats stats() const;
  /// Human-readable stats: totals, then one line per profiled shape.
  std::string stats_text() const;

  struct Impl;

 private:
  explicit KernelEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::kernels
