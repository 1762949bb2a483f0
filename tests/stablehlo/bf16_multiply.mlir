func.func @add_right() {
  %0 = stablehlo.constant dense<[1.5, 2.0]> : tensor<2xbf16>
  %1 = stablehlo.multiply %0, %0 : tensor<2xbf16>
  check.expect_eq_const %1, dense<[2.25, 4.0]> : tensor<2xbf16>
  func.return
}
