func.func @clamp_mixed_types() -> tensor<3xi64> {
  %min = stablehlo.constant dense<0> : tensor<i64>
  %operand = stablehlo.constant dense<[2, 3, -1]> : tensor<3xi32>
  %max = stablehlo.constant dense<[1, 1, 4]> : tensor<3xi64>
  %result = stablehlo.clamp %min, %operand, %max : (tensor<i64>, YYtensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  func.return %result : tensor<3xi64>
}
func.func @clamp_mixed_types_2() -> tensor<3xi64> {
  %min = stablehlo.constant dense<0> : tensor<i32>
  %operand = stablehlo.constant dense<[2, 3, -1]> : tensor<3xi64>
  %result = stablehlo.clamp %min, %operand, %min : (tensor<i32>, tensor<3xi64>, tensor<i32>) -> tensor<3xi64>
  func.return %result : tensor<3xi64>
}
