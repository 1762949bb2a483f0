// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Op semantics shared by the reference evaluator and the compiled path, so both compute the
// same values bit for bit: special functions (digamma, erf_inv, bessel_i1e, next_after), integer
// power, reduce_precision's rounding, the total order on float bits, the static form of the
// dynamic ops (dynamic_pad, dynamic_gather, dynamic_conv) and the check ops of the StableHLO test
// suite (their comparison and the outcomes collected).
#pragma once

#include <complex>
#include <map>
#include <string>
#include <vector>

#include "stablehlo/ast.hpp"
#include "stablehlo/tensor.hpp"

namespace tierjit::shlo {

struct CheckOutcome {
  int checks = 0;                     ///< check ops evaluated
  std::vector<std::string> failures;  ///< one message per failed check, located
  /// The values `interpreter.probe` recorded, per probe_id, one per execution (the StableHLO
  /// interpreter serializes them to files; check.expect_serialized_eq reads them back).
  std::map<std::string, std::vector<Tensor>> probes;
};

/// Evaluates one check op (`check.expect_eq`, `expect_eq_const`, `expect_almost_eq[_const]`,
/// `expect_close[_const]`, `expect_serialized_eq` (operand vs. the `iter`-th value probe
/// `probe_id` recorded in `checks.probes`) and their custom_call @check.* forms; `name` is
/// "check.KIND") on its operand values `in`, adding to `checks`. Errors: kInvalidInput (malformed
/// check), kUnsupported (a kind not implemented), located in `file`. Shared by the evaluator and
/// the compiled path, which runs the checks on the values its code produced.
Status run_check(const Op& op, const std::string& name, const std::vector<Tensor>& in,
                 const std::string& file, CheckOutcome& checks);

/// The static op a dynamic_pad, dynamic_gather or dynamic_conv stands for: the operands that
/// carry padding amounts or slice sizes (in[k], null when not known) become the static op's
/// attributes and its operands are the first two (spec: dynamic_pad, dynamic_gather,
/// dynamic_conv). Errors: kInvalidInput (not 1-d integers), kUnsupported (an unknown one).
Expected<Op> dynamic_static_form(const Op& op, const std::vector<const Tensor*>& in,
                                 const std::string& file);

/// digamma (A&S 6.3.18 series with 6.3.7 reflection) and the inverse error function
/// (Newton on erf) in double precision: the evaluator's definitions, also called by
/// compiled code so both paths agree bit for bit.
double digamma(double x);
double erf_inv(double y);
/// chlo.bessel_i1e, exp(-|x|) I1(x).
double bessel_i1e(double x);
/// The next value of float type t after x toward y (chlo.next_after).
double next_after(ElemType t, double x, double y);
/// base^e wrapped to integer type t (negative exponents: 0 unless |base| = 1).
int64_t int_pow(ElemType t, int64_t base, int64_t e);
/// x rounded to `eb` exponent and `mb` mantissa bits (spec "reduce_precision"), then to t.
double reduce_precision(ElemType t, double x, int64_t eb, int64_t mb);
/// Complex elements (complex<f32>, complex<f64>) are computed in complex<double> by both
/// paths and rounded part by part to the element type.
using Cplx = std::complex<double>;
/// The complex function of a unary op (spec "Ops"; expm1 and log1p without cancellation near
/// 0, sign z/|z|, cbrt the principal root), or null when the op has none on complex numbers.
Cplx (*complex_unary(OpCode code))(Cplx);
/// x * y as (ac - bd) + (ad + bc)i in double: what compiled code computes (without C's
/// Annex G recovery of infinities from NaN results, which std::complex applies).
inline Cplx complex_mul(Cplx x, Cplx y) {
  return {x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real()};
}
/// x OP y on complex numbers into v (add, subtract, multiply, divide, power with 0^y defined,
/// atan2 as -i log((y + ix)/sqrt(x^2 + y^2)), maximum/minimum in lexicographic order); false
/// when OP has no complex form.
bool complex_binary(OpCode code, Cplx x, Cplx y, Cplx& v);
/// The lexicographic order of (real, imaginary) pairs (spec "compare", "maximum",
/// "minimum"): -1, 0 or 1, and 2 when a part is NaN.
int complex_order(Cplx a, Cplx b);
/// triangular_solve's attributes: op(a) = a, its transpose (TRANSPOSE) or its conjugate
/// transpose (ADJOINT: trans and conj).
struct TriangularSolve {
  bool left = false, lower = false, unit = false, trans = false, conj = false;
};
/// Solves op(a) x = b (left) or x op(a) = b for each batch of a[..., m, m] and b into r, of
/// b's shape and type (spec "triangular_solve"): only a's `lower` or upper triangle is read,
/// its diagonal taken as ones with `unit`; by substitution in double (complex<double>),
/// rounded to the element type. Shapes and types are the caller's to check.
void triangular_solve(const Tensor& a, const Tensor& b, Tensor& r, const TriangularSolve& how);
/// Where interpreter.probe records its operand (its probe_id) and interpreter.print its own
/// ("interpreter.print": printed values are kept, not written out), into `key`. Returns ""
/// or what is wrong: one tensor operand (and a string probe_id) must be given.
std::string probe_key(const Op& op, size_t operands, bool tuple, std::string& key);
/// The bits of float x of type t mapped to an integer whose order is the IEEE total order
/// (-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN): compare's TOTALORDER, top_k, ULP distances.
uint64_t ordered_bits(ElemType t, double x);

}  // namespace tierjit::shlo
