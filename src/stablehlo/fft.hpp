// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// stablehlo.fft (spec "fft"): the four transforms over an operand's last 1-3 dimensions, shared
// by the reference evaluator and the compiled path (which calls run_fft through a host
// function). The 1-D transforms are KISS FFT's (kissfft.hh, BSD-3-Clause, Debian
// libkissfft-dev), instantiated in double precision for every element type; results are
// rounded to the element type by the caller.
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"

namespace tierjit::shlo {

enum class FftType : uint8_t {
  kFft,    ///< complex -> complex, forward: X[k] = sum_j x[j] e^(-2 pi i jk/n)
  kIfft,   ///< complex -> complex, inverse, divided by n: the inverse of kFft
  kRfft,   ///< real -> complex; the last dimension keeps n/2 + 1 coefficients
  kIrfft,  ///< complex (n/2 + 1 coefficients, Hermitian) -> real, the inverse of kRfft
};

struct FftSpec {
  FftType type = FftType::kFft;
  std::vector<int64_t> length;  ///< fft_length: the transformed trailing dimensions (1-3)
  int64_t batch = 1;            ///< the product of the other (leading) dimensions
  int64_t in_count = 1;         ///< elements per batch in the operand
  int64_t out_count = 1;        ///< elements per batch in the result
};

/// Reads `op`'s fft_type and fft_length (pretty `type = FFT, length = [..]` or generic
/// `fft_type`, `fft_length`) and checks them against the operand and result shapes and
/// whether each is complex (spec "fft", C1-C5). Returns "" and fills `out`, or why not.
std::string fft_spec(const Op& op, const std::vector<int64_t>& operand_shape, bool operand_complex,
                     const std::vector<int64_t>& result_shape, bool result_complex, FftSpec& out);

/// Transforms `spec.batch` consecutive blocks: `in` holds batch * in_count values (real
/// operands as complex numbers with imaginary part 0), `out` receives batch * out_count values
/// (kIrfft: their real parts are the result).
void run_fft(const FftSpec& spec, const std::complex<double>* in, std::complex<double>* out);

}  // namespace tierjit::shlo
