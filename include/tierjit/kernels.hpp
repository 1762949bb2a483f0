// Tensor kernels generated at run time for the exact shape and the CPU's best ISA.
//
// Model (seed 002, "neural kernel JIT"): every call is profiled by (op, shape, ISA); a shape
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

/// Per-(op, shape) profile, as the seed's "hot path" table.
struct ShapeProfile {
  std::string op;     ///< "sgemm"
  std::string shape;  ///< "RM NN 64x64x64 lda=64 ldb=64 ldc=64 b1"
  uint64_t calls = 0;
  uint64_t cycles = 0;  ///< TSC cycles spent in those calls (sampled 1 in 16 once compiled)
  bool compiled = false;
};

struct KernelStats {
  uint64_t calls = 0;          ///< all kernel calls
  uint64_t generic_calls = 0;  ///< calls that ran the generic kernel (below threshold)
  uint64_t hits = 0;           ///< calls that found their compiled kernel in the cache
  uint64_t compiles = 0;       ///< kernels generated
  uint64_t evictions = 0;      ///< kernels evicted by the LRU bound
  uint64_t compile_ns = 0;     ///< total generation time
  size_t code_bytes = 0;       ///< code held by the cache now
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
