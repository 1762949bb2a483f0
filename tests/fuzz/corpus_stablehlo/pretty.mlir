module @seed attributes {mhlo.num_partitions = 1 : i32} {
  func.func public @main(%arg0: tensor<2x3xf32> {mhlo.sharding = ""}) -> (tensor<3xf32> {jax.result_info = ""}) {
    %c = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %0 = stablehlo.compare  LT, %arg0, %c,  FLOAT : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
    %1 = stablehlo.select %0, %arg0, %c : tensor<2x3xi1>, tensor<2x3xf32>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %2 = stablehlo.reduce(%1 init: %cst) applies stablehlo.add across dimensions = [0] : (tensor<2x3xf32>, tensor<f32>) -> tensor<3xf32>
    %3 = stablehlo.dot_general %1, %c, contracting_dims = [1] x [1], precision = [DEFAULT, DEFAULT] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
    %4 = stablehlo.slice %2 [0:2:1] : (tensor<3xf32>) -> tensor<2xf32>
    %5 = stablehlo.constant dense<"0x0000803F00000040"> : tensor<2xf32>
    stablehlo.custom_call @check.expect_close(%4, %5) {has_side_effect = true} : (tensor<2xf32>, tensor<2xf32>) -> ()
    return %2 : tensor<3xf32>
  }
}
