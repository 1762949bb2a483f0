// 2- and 4-bit integers wrap at their width (two's complement for i2/i4), on both paths; add
// on i1 is logical or (StableHLO spec, add).

func.func @i4_wraps() {
  %0 = stablehlo.constant dense<[7, -8, 5, -3]> : tensor<4xi4>
  %1 = stablehlo.constant dense<[1, -1, 5, 2]> : tensor<4xi4>
  %2 = stablehlo.add %0, %1 : tensor<4xi4>
  check.expect_eq_const %2, dense<[-8, 7, -6, -1]> : tensor<4xi4>
  %3 = stablehlo.negate %0 : tensor<4xi4>
  check.expect_eq_const %3, dense<[-7, -8, -5, 3]> : tensor<4xi4>
  %4 = stablehlo.maximum %0, %1 : tensor<4xi4>
  check.expect_eq_const %4, dense<[7, -1, 5, 2]> : tensor<4xi4>
  %5 = stablehlo.convert %0 : (tensor<4xi4>) -> tensor<4xf32>
  check.expect_almost_eq_const %5, dense<[7.0, -8.0, 5.0, -3.0]> : tensor<4xf32>
  func.return
}

// -----

func.func @ui4_and_ui2() {
  %0 = stablehlo.constant dense<[15, 9, 0]> : tensor<3xui4>
  %1 = stablehlo.constant dense<[1, 9, 1]> : tensor<3xui4>
  %2 = stablehlo.add %0, %1 : tensor<3xui4>
  check.expect_eq_const %2, dense<[0, 2, 1]> : tensor<3xui4>
  %3 = stablehlo.minimum %0, %1 : tensor<3xui4>
  check.expect_eq_const %3, dense<[1, 9, 0]> : tensor<3xui4>
  %4 = stablehlo.xor %0, %1 : tensor<3xui4>
  check.expect_eq_const %4, dense<[14, 0, 1]> : tensor<3xui4>
  %5 = stablehlo.iota dim = 0 : tensor<6xui2>
  check.expect_eq_const %5, dense<[0, 1, 2, 3, 0, 1]> : tensor<6xui2>
  %6 = stablehlo.constant dense<[300, -1]> : tensor<2xi32>
  %7 = stablehlo.convert %6 : (tensor<2xi32>) -> tensor<2xi4>
  check.expect_eq_const %7, dense<[-4, -1]> : tensor<2xi4>
  func.return
}

// -----

func.func @i1_add_is_or() {
  %0 = stablehlo.constant dense<[false, false, true, true]> : tensor<4xi1>
  %1 = stablehlo.constant dense<[false, true, false, true]> : tensor<4xi1>
  %2 = stablehlo.add %0, %1 : tensor<4xi1>
  check.expect_eq_const %2, dense<[false, true, true, true]> : tensor<4xi1>
  func.return
}
