func.func @scatter_and_while() {
  %x = stablehlo.constant dense<[1, 2, 3]> : tensor<3xi64>
  %i = stablehlo.constant dense<[[0]]> : tensor<1x1xi32>
  %u = stablehlo.constant dense<[7]> : tensor<1xi64>
  %0 = "stablehlo.scatter"(%x, %i, %u) <{scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
  ^bb0(%a: tensor<i64>, %b: tensor<i64>):
    %s = stablehlo.add %a, %b : tensor<i64>
    stablehlo.return %s : tensor<i64>
  }) : (tensor<3xi64>, tensor<1x1xi32>, tensor<1xi64>) -> tensor<3xi64>
  %c0 = stablehlo.constant dense<0> : tensor<i64>
  %1:2 = stablehlo.while(%iterArg = %0, %iterArg_0 = %c0) : tensor<3xi64>, tensor<i64>
   cond {
    %c3 = stablehlo.constant dense<3> : tensor<i64>
    %t = stablehlo.compare  LT, %iterArg_0, %c3,  SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
    stablehlo.return %t : tensor<i1>
  } do {
    %c1 = stablehlo.constant dense<1> : tensor<i64>
    %n = stablehlo.add %iterArg_0, %c1 : tensor<i64>
    stablehlo.return %iterArg, %n : tensor<3xi64>, tensor<i64>
  }
  check.expect_eq_const %1#1, dense<3> : tensor<i64>
  func.return
}

// -----

func.func @generic() {
  %0 = "stablehlo.iota"() <{iota_dimension = 0 : i64}> : () -> tensor<4xui8>
  %1 = chlo.next_after %0, %0 : tensor<4xui8>, tensor<4xui8> -> tensor<4xui8>
  check.expect_almost_eq_const %1, dense<[0, 1, 2, 3]> : tensor<4xui8> {tolerance = 0.1 : f64}
  func.return
}
