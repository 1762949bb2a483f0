// The 4-, 6- and 8-bit floats on both paths. Expected values follow from the formats' rules
// (OCP 8-bit Floating Point Specification; OCP Microscaling Formats 1.0; LLVM APFloat's
// Float8E4M3FNUZ-style semantics): round to nearest, ties to even; IEEE-like types overflow
// to infinity, FN/FNUZ types to NaN, the NaN-less f4/f6 types saturate.

func.func @f8E4M3FN() {
  // 1 + 1/16 is a tie between 1 (mantissa 000) and 1.125 (001): 1. 1 + 3/16 ties between
  // 1.125 (001) and 1.25 (010): 1.25. 448 is the largest value; 896 is NaN. 240 + 16 = 256.
  %a = stablehlo.constant dense<[1.0, 1.0, 448.0, 240.0]> : tensor<4xf8E4M3FN>
  %b = stablehlo.constant dense<[0.0625, 0.1875, 448.0, 16.0]> : tensor<4xf8E4M3FN>
  %0 = stablehlo.add %a, %b : tensor<4xf8E4M3FN>
  check.expect_eq_const %0, dense<[1.0, 1.25, 0x7F, 256.0]> : tensor<4xf8E4M3FN>
  // Subnormals: 2^-9 is the smallest; half of it is a tie with 0 (even): 0. 0.003 is 1.54
  // quanta of 2^-9: 2^-8.
  %c = stablehlo.constant dense<[0.001953125, 0.001953125]> : tensor<2xf8E4M3FN>
  %d = stablehlo.constant dense<[0.5, 1.0]> : tensor<2xf8E4M3FN>
  %1 = stablehlo.multiply %c, %d : tensor<2xf8E4M3FN>
  check.expect_eq_const %1, dense<[0.0, 0.001953125]> : tensor<2xf8E4M3FN>
  %e = stablehlo.constant dense<3.0e-3> : tensor<f32>
  %2 = stablehlo.convert %e : (tensor<f32>) -> tensor<f8E4M3FN>
  check.expect_eq_const %2, dense<0.00390625> : tensor<f8E4M3FN>
  func.return
}

// -----

func.func @f8E5M2_and_f8E3M4_overflow_to_infinity() {
  // 57344 + 4096 ties between 57344 (mantissa 11) and 65536 (even, past the range): inf.
  // f8E3M4: 15.5 + 1 is past the range: inf; 2 + 1/16 ties between 2 (even) and 2.125.
  %a = stablehlo.constant dense<[57344.0, 57344.0, -57344.0]> : tensor<3xf8E5M2>
  %b = stablehlo.constant dense<[4096.0, 2048.0, -57344.0]> : tensor<3xf8E5M2>
  %0 = stablehlo.add %a, %b : tensor<3xf8E5M2>
  check.expect_eq_const %0, dense<[0x7C, 57344.0, 0xFC]> : tensor<3xf8E5M2>
  %c = stablehlo.constant dense<[15.5, 2.0]> : tensor<2xf8E3M4>
  %d = stablehlo.constant dense<[1.0, 0.0625]> : tensor<2xf8E3M4>
  %1 = stablehlo.add %c, %d : tensor<2xf8E3M4>
  check.expect_eq_const %1, dense<[0x70, 2.0]> : tensor<2xf8E3M4>
  func.return
}

// -----

func.func @fnuz_has_no_negative_zero() {
  %a = stablehlo.constant dense<[0.0, 1.0, 0x80]> : tensor<3xf8E4M3FNUZ>
  %0 = stablehlo.negate %a : tensor<3xf8E4M3FNUZ>
  %1 = stablehlo.bitcast_convert %0 : (tensor<3xf8E4M3FNUZ>) -> tensor<3xui8>
  check.expect_eq_const %1, dense<[0, 0xC0, 0x80]> : tensor<3xui8>
  %2 = stablehlo.compare NE, %a, %a : (tensor<3xf8E4M3FNUZ>, tensor<3xf8E4M3FNUZ>) -> tensor<3xi1>
  check.expect_eq_const %2, dense<[false, false, true]> : tensor<3xi1>
  %b = stablehlo.constant dense<[240.0, -30.0]> : tensor<2xf8E4M3B11FNUZ>
  %3 = stablehlo.bitcast_convert %b : (tensor<2xf8E4M3B11FNUZ>) -> tensor<2xui8>
  check.expect_eq_const %3, dense<[0x80, 0xFF]> : tensor<2xui8>
  func.return
}

// -----

func.func @f4_f6_saturate() {
  // f4E2M1FN holds 0, 0.5, 1, 1.5, 2, 3, 4, 6: 1.5 + 1 = 2.5 ties between 2 (even) and 3.
  %a = stablehlo.constant dense<[6.0, 1.5, -4.0]> : tensor<3xf4E2M1FN>
  %b = stablehlo.constant dense<[6.0, 1.0, -3.0]> : tensor<3xf4E2M1FN>
  %0 = stablehlo.add %a, %b : tensor<3xf4E2M1FN>
  check.expect_eq_const %0, dense<[6.0, 2.0, -6.0]> : tensor<3xf4E2M1FN>
  %1 = stablehlo.bitcast_convert %0 : (tensor<3xf4E2M1FN>) -> tensor<3xui4>
  check.expect_eq_const %1, dense<[7, 4, 15]> : tensor<3xui4>
  %c = stablehlo.constant dense<[28.0, 0.0625]> : tensor<2xf6E3M2FN>
  %2 = stablehlo.add %c, %c : tensor<2xf6E3M2FN>
  check.expect_eq_const %2, dense<[28.0, 0.125]> : tensor<2xf6E3M2FN>
  func.return
}

// -----

func.func @f8E8M0FNU_powers_of_two() {
  %a = stablehlo.constant dense<[2.0, 0.3, 1.0]> : tensor<3xf8E8M0FNU>
  %b = stablehlo.constant dense<[4.0, 1.0, 0xFF]> : tensor<3xf8E8M0FNU>
  %0 = stablehlo.multiply %a, %b : tensor<3xf8E8M0FNU>
  check.expect_eq_const %0, dense<[8.0, 0.25, 0xFF]> : tensor<3xf8E8M0FNU>
  %1 = stablehlo.convert %0 : (tensor<3xf8E8M0FNU>) -> tensor<3xf32>
  check.expect_eq_const %1, dense<[8.0, 0.25, 0x7FC00000]> : tensor<3xf32>
  // Below the smallest power of two (2^-127), in double or in float (where it is 0): 2^-127.
  %c = stablehlo.constant dense<[7.88860905e-31, 0.0]> : tensor<2xf8E8M0FNU>
  %d = stablehlo.constant dense<[8.67361738e-19, 1.0]> : tensor<2xf8E8M0FNU>
  %2 = stablehlo.multiply %c, %d : tensor<2xf8E8M0FNU>
  %3 = stablehlo.bitcast_convert %2 : (tensor<2xf8E8M0FNU>) -> tensor<2xui8>
  check.expect_eq_const %3, dense<[0, 0]> : tensor<2xui8>
  func.return
}

// -----

func.func @fnuz_nan_orders_last_and_f4_packs_into_bytes() {
  %a = stablehlo.constant dense<[0x80, 1.0, 0x80]> : tensor<3xf8E4M3FNUZ>
  %b = stablehlo.constant dense<[1.0, 0x80, 240.0]> : tensor<3xf8E4M3FNUZ>
  %0 = stablehlo.compare GT, %a, %b, TOTALORDER : (tensor<3xf8E4M3FNUZ>, tensor<3xf8E4M3FNUZ>) -> tensor<3xi1>
  check.expect_eq_const %0, dense<[true, false, true]> : tensor<3xi1>
  // Two f4 values make one byte, the first in the low bits: 1.0 is 0b0010, -6.0 0b1111.
  %c = stablehlo.constant dense<[[1.0, -6.0], [0.5, 3.0]]> : tensor<2x2xf4E2M1FN>
  %1 = stablehlo.bitcast_convert %c : (tensor<2x2xf4E2M1FN>) -> tensor<2xui8>
  check.expect_eq_const %1, dense<[0xF2, 0x51]> : tensor<2xui8>
  %2 = stablehlo.bitcast_convert %1 : (tensor<2xui8>) -> tensor<2x2xf4E2M1FN>
  check.expect_eq_const %2, dense<[[1.0, -6.0], [0.5, 3.0]]> : tensor<2x2xf4E2M1FN>
  func.return
}
