// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// StableHLO programs (the portable format JAX, TensorFlow and PyTorch/XLA export) as
// tierjit inputs: parse MLIR text, run a function on tensors, read and write NumPy .npy.
//
// Two execution paths: the reference evaluator (exact StableHLO semantics per the
// specification, op by op) and the compiled path (the function lowered to LLVM IR with fused
// elementwise loops, O2, JIT-linked by ORC; f32 dot_general/convolution call the tensor
// kernels). Both compute every element identically except f32 GEMMs large enough for the
// kernels, whose summation order differs (error within the usual sgemm bounds). Element
// types: i1, i8..i64, ui8..ui64, f16, bf16, f32, f64 (others, e.g. complex or f8, are
// kUnsupported).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tierjit/error.hpp"

namespace tierjit::stablehlo {

enum class DType : uint8_t {
  kBool,
  kI8,
  kI16,
  kI32,
  kI64,
  kU8,
  kU16,
  kU32,
  kU64,
  kF16,
  kBF16,
  kF32,
  kF64,
  kI2,  ///< 2- and 4-bit integers, one per byte (sign- or zero-extended) in packed buffers
  kI4,
  kU2,
  kU4,
  kC64,   ///< complex<f32>: real then imaginary part, 8 bytes (NumPy complex64)
  kC128,  ///< complex<f64>: real then imaginary part, 16 bytes (NumPy complex128)
  /// The small floats of the OCP 8-bit and microscaling formats, one per byte (their bits,
  /// zero-extended; NumPy: uint8): E = exponent bits, M = mantissa bits, FN = finite (no
  /// infinities), UZ = unsigned zero (one NaN, 0x80), B11 = exponent bias 11, FNU = no sign
  /// (E8M0: powers of two only).
  kF4E2M1FN,
  kF6E2M3FN,
  kF6E3M2FN,
  kF8E3M4,
  kF8E4M3,
  kF8E4M3FN,
  kF8E4M3FNUZ,
  kF8E4M3B11FNUZ,
  kF8E5M2,
  kF8E5M2FNUZ,
  kF8E8M0FNU,
};

/// "i1", "i8", ..., "ui64", "f16", "bf16", "f32", "f64", "i2", "i4", "ui2", "ui4",
/// "complex<f32>", "complex<f64>", "f4E2M1FN", "f6E2M3FN", "f6E3M2FN", "f8E3M4", "f8E4M3",
/// "f8E4M3FN", "f8E4M3FNUZ", "f8E4M3B11FNUZ", "f8E5M2", "f8E5M2FNUZ", "f8E8M0FNU".
const char* dtype_name(DType t);
/// Bytes per element (bool: 1).
int dtype_size(DType t);

/// A dense row-major tensor; `data` holds its elements little-endian, dtype_size(dtype)
/// bytes each (bool: 0 or 1 per byte; f16/bf16: their 16-bit encodings).
struct Tensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
  int64_t size() const;  ///< element count
};

/// Reads a NumPy .npy file (format versions 1-3, C order). bf16 is accepted as descr
/// "bfloat16" or as 2-byte void ("|V2") when `hint` says bf16. Errors: kFileNotFound,
/// kInvalidInput (bad magic, malformed header, Fortran order, truncated data, unknown
/// dtype) naming the file.
Expected<Tensor> read_npy(const std::string& path, const DType* hint = nullptr);
/// Writes a .npy file (version 1; bf16 as descr "bfloat16"). Errors: kIo.
Status write_npy(const std::string& path, const Tensor& t);

enum class ExecutionPath : uint8_t {
  kReference,  ///< the evaluator
  kCompiled,   ///< native code (compiled on the first run of each entry)
};

/// The tensor-kernel calls an entry's compiled code made, over all its runs so far.
struct KernelCounts {
  uint64_t sgemm_calls = 0;     ///< matrix products (Winograd's 36 per tile block included)
  uint64_t winograd_convs = 0;  ///< convolutions by Winograd's F(4x4, 3x3)
  uint64_t im2col_convs = 0;    ///< convolutions by im2col + sgemm in the tensor kernels
};

/// A parsed StableHLO module.
class Program {
 public:
  /// Parses MLIR text. Errors: kInvalidInput "FILE:LINE:COL: expected ..., got ...".
  static Expected<std::unique_ptr<Program>> parse(const std::string& text, const std::string& file);
  ~Program();
  /// The argument types of function `entry` as tensors with empty data (for reading inputs).
  Expected<std::vector<Tensor>> signature(const std::string& entry) const;
  /// Runs function `entry` on `inputs` (count, dtypes and shapes must match its arguments).
  /// Errors: kMissingEntry, kInvalidInput (argument mismatch, a failed check op, a
  /// malformed program), kUnsupported (an op or element type not implemented), located.
  /// With ExecutionPath::kCompiled, also kUnsupported for an op the lowering does not
  /// implement (the reference path may still run it) and kCompileFailed. Not reentrant.
  Expected<std::vector<Tensor>> run(const std::string& entry, const std::vector<Tensor>& inputs);
  /// Selects the path run() takes (default kReference). Selecting kCompiled also starts, once
  /// per process, a background thread that pays LLVM's one-time start-up (about 12-15 ms of
  /// the first compile) while the caller reads its inputs; TIERJIT_NO_LLVM_WARM_UP=1 turns
  /// it off.
  void set_path(ExecutionPath path);
  /// The persistent object cache of the compiled path (default: enabled, in
  /// ObjectCache::default_dir(): TIERJIT_CACHE_DIR, else $XDG_CACHE_HOME/tierjit, else
  /// ~/.cache/tierjit). Objects are keyed by a hash of the lowered LLVM IR, the pipeline, the
  /// host CPU and features, and the tierjit and LLVM versions, so a hit skips the optimizer and
  /// code generation and never returns stale code. A corrupt entry is reported and recompiled.
  /// Applies to later compiles.
  void set_object_cache(bool enabled, const std::string& dir = "");
  /// Compiles `entry` now (run() on the compiled path otherwise compiles on first use).
  /// Returns the compile time in milliseconds (lowering + LLVM O2 + code generation +
  /// GEMM kernel generation). Errors as run()'s compiled path.
  Expected<double> compile(const std::string& entry);
  /// What the compiled code of `entry` asked of the tensor kernels. Errors: kMissingEntry
  /// when `entry` has not been compiled.
  Expected<KernelCounts> kernel_counts(const std::string& entry) const;

  struct Impl;

 private:
  explicit Program(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierjit::stablehlo
