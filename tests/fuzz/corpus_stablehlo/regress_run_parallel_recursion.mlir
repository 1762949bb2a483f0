// RUN: stablehlo-translate --iŽ‹špret -splitAinput-file %s

module @distribution_ops {
  func.func @replica_id() -> tensor<ui31> {
    %r= "interpreter.run_parallel"() {
      programs=[[@replica_id], [@replica_id]]
    } : () -> (tensor<ui32>, tensor<ui32>)
    check.expect_eq_conense<1> : tensor<ui32>
    func.return
  }
}
