func.func @p(%a: tensor<4xi32>, %t: !stablehlo.token) -> (tensor<4xi32>, tensor<8xi32>, tensor<2xi32>, tensor<4xi32>, !stablehlo.token) {
  %r = "stablehlo.all_reduce"(%a) ({
  ^bb0(%x: tensor<i32>, %y: tensor<i32>):
    %s = stablehlo.add %x, %y : tensor<i32>
    stablehlo.return %s : tensor<i32>
  }) {replica_groups = dense<[[0, 1]]> : tensor<1x2xi64>} : (tensor<4xi32>) -> tensor<4xi32>
  %g = "stablehlo.all_gather"(%a) {all_gather_dim = 0 : i64, replica_groups = dense<[[0, 1]]> : tensor<1x2xi64>} : (tensor<4xi32>) -> tensor<8xi32>
  %s = "stablehlo.reduce_scatter"(%a) ({
  ^bb0(%x: tensor<i32>, %y: tensor<i32>):
    %m = stablehlo.maximum %x, %y : tensor<i32>
    stablehlo.return %m : tensor<i32>
  }) {scatter_dimension = 0 : i64, replica_groups = dense<[[1, 0]]> : tensor<1x2xi64>} : (tensor<4xi32>) -> tensor<2xi32>
  %q = "stablehlo.all_to_all"(%a) {split_dimension = 0 : i64, concat_dimension = 0 : i64, split_count = 2 : i64, replica_groups = dense<[[0, 1]]> : tensor<1x2xi64>} : (tensor<4xi32>) -> tensor<4xi32>
  %u = "stablehlo.send"(%q, %t) {channel_handle = #stablehlo.channel_handle<handle = 1, type = 2>} : (tensor<4xi32>, !stablehlo.token) -> !stablehlo.token
  return %r, %g, %s, %q, %u : tensor<4xi32>, tensor<8xi32>, tensor<2xi32>, tensor<4xi32>, !stablehlo.token
}
func.func @main() {
  %a = stablehlo.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %b = stablehlo.constant dense<[5, 6, 7, 8]> : tensor<4xi32>
  %t = stablehlo.after_all : !stablehlo.token
  %r:10 = "interpreter.run_parallel"(%a, %t, %b, %t) {programs = [[@p], [@p]]} : (tensor<4xi32>, !stablehlo.token, tensor<4xi32>, !stablehlo.token) -> (tensor<4xi32>, tensor<8xi32>, tensor<2xi32>, tensor<4xi32>, !stablehlo.token, tensor<4xi32>, tensor<8xi32>, tensor<2xi32>, tensor<4xi32>, !stablehlo.token)
  %v = interpreter.probe %r#0, probe_id = "sum" : tensor<4xi32>
  check.expect_eq_const %r#2, dense<[7, 8]> : tensor<2xi32>
  check.expect_serialized_eq %v, probe_id = "sum" : tensor<4xi32>
  func.return
}
