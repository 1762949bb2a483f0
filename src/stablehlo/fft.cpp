// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "stablehlo/fft.hpp"

#include <algorithm>
#include <kissfft/kissfft.hh>

#include "stablehlo/attrs.hpp"

namespace tierjit::shlo {

using Cplx = std::complex<double>;

namespace {
int64_t largest_prime_factor(int64_t n) {
  int64_t p = 1;
  for (int64_t f = 2; f * f <= n; ++f)
    while (n % f == 0) {
      p = f;
      n /= f;
    }
  return n > 1 ? n : p;
}
}  // namespace

std::string fft_spec(const Op& op, const std::vector<int64_t>& in_shape, bool in_complex,
                     const std::vector<int64_t>& out_shape, bool out_complex, FftSpec& out) {
  const Attr* t = op.attr("type");
  if (t == nullptr) t = op.attr("fft_type");
  std::string name = t ? (t->text.empty() ? t->source : t->text) : "";
  // The generic form is #stablehlo<fft_type FFT>: the last word names the type.
  size_t w = name.find_last_of(" <");
  if (w != std::string::npos) name = name.substr(w + 1);
  name.erase(std::remove(name.begin(), name.end(), '>'), name.end());
  if (name == "FFT") {
    out.type = FftType::kFft;
  } else if (name == "IFFT") {
    out.type = FftType::kIfft;
  } else if (name == "RFFT") {
    out.type = FftType::kRfft;
  } else if (name == "IRFFT") {
    out.type = FftType::kIrfft;
  } else {
    return "unknown fft_type '" + name + "'";
  }
  out.length = op_ints(op, "length", "fft_length");
  size_t L = out.length.size();
  if (L < 1 || L > 3)
    return "fft_length has " + std::to_string(L) + " dimensions, expected 1-3 (C1)";
  if (in_shape.size() < L || out_shape.size() != in_shape.size())
    return "operand and result ranks do not fit fft_length";
  for (int64_t n : out.length) {
    if (n < 1 || n > (int64_t(1) << 24)) return "fft_length " + std::to_string(n) + " is invalid";
    // KISS FFT transforms a prime factor p in O(p^2) per stage (no Bluestein): refuse lengths
    // that would take hours rather than run them.
    int64_t p = largest_prime_factor(n);
    if (n * p > (int64_t(1) << 32))
      return "fft_length " + std::to_string(n) + " has the prime factor " + std::to_string(p) +
             ", too large for this FFT (n x p over 2^32)";
  }
  bool want_in_complex = out.type != FftType::kRfft, want_out_complex = out.type != FftType::kIrfft;
  if (in_complex != want_in_complex)
    return std::string("operand must be ") + (want_in_complex ? "complex" : "real") + " (C2)";
  if (out_complex != want_out_complex)
    return std::string("result must be ") + (want_out_complex ? "complex" : "real") + " (C3)";
  size_t lead = in_shape.size() - L;
  out.batch = 1;
  for (size_t d = 0; d < lead; ++d) {
    if (in_shape[d] != out_shape[d]) return "operand and result differ in a batch dimension";
    out.batch *= in_shape[d];
  }
  out.in_count = out.out_count = 1;
  for (size_t d = 0; d < L; ++d) {
    int64_t n = out.length[d];
    bool last = d + 1 == L;
    int64_t want_in = last && out.type == FftType::kIrfft ? n / 2 + 1 : n;
    int64_t want_out = last && out.type == FftType::kRfft ? n / 2 + 1 : n;
    if (in_shape[lead + d] != want_in)
      return "operand dimension " + std::to_string(lead + d) + " is " +
             std::to_string(in_shape[lead + d]) + ", fft_length asks for " +
             std::to_string(want_in) + " (C4)";
    if (out_shape[lead + d] != want_out)
      return "result dimension " + std::to_string(lead + d) + " is " +
             std::to_string(out_shape[lead + d]) + ", expected " + std::to_string(want_out) +
             " (C5)";
    out.in_count *= want_in;
    out.out_count *= want_out;
  }
  return "";
}

namespace {

// 1-D transforms along axis `axis` of a row-major block of shape `dims`, in place.
void along_axis(std::vector<Cplx>& data, const std::vector<int64_t>& dims, size_t axis,
                bool inverse) {
  int64_t n = dims[axis], inner = 1, outer = 1;
  for (size_t d = axis + 1; d < dims.size(); ++d) inner *= dims[d];
  for (size_t d = 0; d < axis; ++d) outer *= dims[d];
  kissfft<double> fft(size_t(n), inverse);
  std::vector<Cplx> line(static_cast<size_t>(n)), res(static_cast<size_t>(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Cplx* base = data.data() + o * n * inner + i;
      for (int64_t k = 0; k < n; ++k) line[size_t(k)] = base[k * inner];
      fft.transform(line.data(), res.data());
      double scale = inverse ? 1.0 / double(n) : 1.0;
      for (int64_t k = 0; k < n; ++k) base[k * inner] = res[size_t(k)] * scale;
    }
}

}  // namespace

void run_fft(const FftSpec& spec, const Cplx* in, Cplx* out) {
  const std::vector<int64_t>& n = spec.length;
  size_t L = n.size();
  int64_t full = 1;
  for (int64_t x : n) full *= x;
  std::vector<Cplx> work(static_cast<size_t>(full));
  for (int64_t b = 0; b < spec.batch; ++b) {
    const Cplx* src = in + b * spec.in_count;
    Cplx* dst = out + b * spec.out_count;
    switch (spec.type) {
      case FftType::kFft:
      case FftType::kIfft:
        std::copy(src, src + full, work.begin());
        for (size_t a = 0; a < L; ++a) along_axis(work, n, a, spec.type == FftType::kIfft);
        std::copy(work.begin(), work.end(), dst);
        break;
      case FftType::kRfft: {
        std::copy(src, src + full, work.begin());
        for (size_t a = 0; a < L; ++a) along_axis(work, n, a, false);
        int64_t last = n[L - 1], keep = last / 2 + 1, rows = full / last;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t k = 0; k < keep; ++k) dst[r * keep + k] = work[size_t(r * last + k)];
        break;
      }
      case FftType::kIrfft: {
        // The inverse transforms of the outer dimensions on the n/2 + 1 coefficients, then
        // the last dimension's spectrum completed by Hermitian symmetry and inverted; the
        // real parts are the result (imaginary parts of the DC and Nyquist terms drop out).
        int64_t last = n[L - 1], keep = last / 2 + 1, rows = full / last;
        std::vector<int64_t> half = n;
        half[L - 1] = keep;
        std::vector<Cplx> h(src, src + rows * keep);
        for (size_t a = 0; a + 1 < L; ++a) along_axis(h, half, a, true);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t k = 0; k < last; ++k)
            work[size_t(r * last + k)] =
                k < keep ? h[size_t(r * keep + k)] : std::conj(h[size_t(r * keep + last - k)]);
        along_axis(work, n, L - 1, true);
        for (int64_t k = 0; k < full; ++k) dst[k] = {work[size_t(k)].real(), 0.0};
        break;
      }
    }
  }
}

}  // namespace tierjit::shlo
