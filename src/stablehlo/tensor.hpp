// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Tensors of the StableHLO reference evaluator: an element type, a shape, and the elements
// held exactly — integers as int64 (unsigned values zero-extended, ui64 as its bit
// pattern), floats as double already rounded to their type (f16, bf16, f32, f64), so every
// arithmetic result is computed in double and rounded once (exact for + - * / sqrt: double
// has more than 2p + 2 bits for these types).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stablehlo/ast.hpp"
#include "tierjit/stablehlo.hpp"

namespace tierjit::shlo {

/// The element types are the public API's (include/tierjit/stablehlo.hpp).
using ElemType = stablehlo::DType;

/// "i1", "i32", "si8", "ui16", "f16", "bf16", "f32", "f64", "i2", "ui4", "complex<f32>"...
/// Errors: kUnsupported for types the evaluator does not handle (quantized), naming them.
Expected<ElemType> parse_elem_type(std::string_view name);
const char* elem_name(ElemType t);
/// Real floating-point types (f16, bf16, f32, f64 and the small floats); complex ones are not.
bool is_float(ElemType t);
/// The 4-, 6- and 8-bit floats (f4E2M1FN ... f8E8M0FNU), held one per byte.
bool is_small_float(ElemType t);
/// complex<f32> and complex<f64>.
bool is_complex(ElemType t);
/// The type of a complex type's parts (f32, f64); any other type itself.
ElemType component(ElemType t);
bool is_unsigned(ElemType t);
int bit_width(ElemType t);

/// x rounded to the nearest value of a float type (ties to even), +-inf past its range; for a
/// complex type, to its parts' type.
double round_float(ElemType t, double x);
/// v wrapped to an integer type's width (two's complement; i1 keeps the low bit).
int64_t wrap_int(ElemType t, int64_t v);
/// The bits of a float value in its type's encoding, and back.
uint64_t float_bits(ElemType t, double x);
double float_from_bits(ElemType t, uint64_t bits);

struct Tensor {
  ElemType type = ElemType::kF32;
  std::vector<int64_t> shape;
  std::vector<double> f;   ///< float element types; the real parts of complex ones
  std::vector<double> im;  ///< complex element types: the imaginary parts (as many as f)
  std::vector<int64_t> i;  ///< integer element types (and i1)
  /// A tuple value (stablehlo.tuple): its elements, in order; the fields above are unused.
  std::vector<Tensor> tuple;
  bool is_tuple = false;
  int64_t tuple_elements = 0;  ///< elements inside the tuple, nested ones included

  int64_t size() const;
  /// Elements held in `f` (real and complex types).
  bool floating() const { return is_float(type) || is_complex(type); }
  bool complex() const { return is_complex(type); }
  std::string type_text() const;  ///< "tensor<2x3xf32>"
};

/// Builds a tensor of a parsed tensor type, zero-filled. Errors: unsupported element type,
/// dynamic or unranked shape.
Expected<Tensor> make_tensor(const Type& type);
/// The element type and shape of a parsed tensor type, without element storage (errors as
/// make_tensor's).
Expected<Tensor> tensor_type(const Type& type);
/// Bytes per element in packed form (the public API's and compiled code's): i1 is one byte.
int elem_bytes(ElemType t);
/// Packed little-endian elements (floats in their type's encoding), and back.
std::vector<uint8_t> to_bytes(const Tensor& t);
Tensor from_bytes(ElemType type, const std::vector<int64_t>& shape, const uint8_t* data);
/// How parse_dense returns a splat literal (one value for every element).
enum class DenseForm : uint8_t {
  kElements,       ///< every element stored
  kSplatAsScalar,  ///< a splat as a rank-0 tensor of its one value (a compiler's view)
};
/// Parses the body of `dense<...>` for `type`: a splat, nested lists in row-major order,
/// or a "0x..." hex string of little-endian elements. Errors name what is wrong; element
/// counts are checked before storage is allocated.
Expected<Tensor> parse_dense(std::string_view body, const Type& type,
                             DenseForm form = DenseForm::kElements);

}  // namespace tierjit::shlo
