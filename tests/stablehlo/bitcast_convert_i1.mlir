// bitcast_convert to and from i1 (StableHLO spec, bitcast_convert, C2: the narrower type's last dimension spans
// one element of the wider; bits least significant first). Expected values computed with
// NumPy's views of the same bytes.

func.func @i1_to_f16() {
  %0 = stablehlo.constant dense<[false, false, false, false, false, false, false, false, true, false, false, false, false, false, true, true]> : tensor<16xi1>
  %1 = stablehlo.bitcast_convert %0 : (tensor<16xi1>) -> tensor<f16>
  check.expect_almost_eq_const %1, dense<-2.5> : tensor<f16>
  func.return
}

// -----

func.func @f32_to_i1() {
  %0 = stablehlo.constant dense<[3.25, -0.1875]> : tensor<2xf32>
  %1 = stablehlo.bitcast_convert %0 : (tensor<2xf32>) -> tensor<2x32xi1>
  check.expect_eq_const %1, dense<[[false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, true, false, true, false, false, false, false, false, false, false, true, false], [false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, false, true, false, false, true, true, true, true, true, false, true]]> : tensor<2x32xi1>
  func.return
}

// -----

func.func @i1_to_i8() {
  %0 = stablehlo.constant dense<[[true, false, false, false, false, false, false, true], [false, true, true, false, false, false, false, false], [true, true, true, true, true, true, true, true]]> : tensor<3x8xi1>
  %1 = stablehlo.bitcast_convert %0 : (tensor<3x8xi1>) -> tensor<3xi8>
  check.expect_eq_const %1, dense<[-127, 6, -1]> : tensor<3xi8>
  func.return
}

// -----

func.func @ui16_to_i1_to_ui16() {
  %0 = stablehlo.constant dense<48879> : tensor<ui16>
  %1 = stablehlo.bitcast_convert %0 : (tensor<ui16>) -> tensor<16xi1>
  check.expect_eq_const %1, dense<[true, true, true, true, false, true, true, true, false, true, true, true, true, true, false, true]> : tensor<16xi1>
  %2 = stablehlo.bitcast_convert %1 : (tensor<16xi1>) -> tensor<ui16>
  check.expect_eq_const %2, dense<48879> : tensor<ui16>
  %3 = stablehlo.bitcast_convert %1 : (tensor<16xi1>) -> tensor<16xi1>
  %4 = stablehlo.and %3, %1 : tensor<16xi1>
  check.expect_eq_const %4, dense<[true, true, true, true, false, true, true, true, false, true, true, true, true, true, false, true]> : tensor<16xi1>
  func.return
}
