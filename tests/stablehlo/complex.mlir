// complex<f64> on both paths, against NumPy's values for the same inputs (complex128):
// arithmetic, elementwise functions, parts, comparisons, dot_general and the four FFTs.

func.func @complex_f64() {
  %x = stablehlo.constant dense<[(1.5, 2.0), (-0.25, 0.5), (3.0, -4.0), (-1.0, -1.0)]> : tensor<4xcomplex<f64>>
  %y = stablehlo.constant dense<[(0.5, -1.0), (2.0, 0.25), (-1.5, 3.0), (0.75, 0.0)]> : tensor<4xcomplex<f64>>
  %0 = stablehlo.multiply %x, %y : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %0, dense<[(2.75, -0.5), (-0.625, 0.9375), (7.5, 15.0), (-0.75, -0.75)]> : tensor<4xcomplex<f64>>
  %1 = stablehlo.divide %x, %y : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %1, dense<[(-1.0, 2.0), (-0.09230769230769231, 0.26153846153846155), (-1.4666666666666666, -0.26666666666666666), (-1.3333333333333333, -1.3333333333333333)]> : tensor<4xcomplex<f64>>
  %2 = stablehlo.exponential %x : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %2, dense<[(-1.8650407290090891, 4.075188339491183), (0.683461986410032, 0.37337698488938337), (-13.128783081462158, 15.200784463067954), (0.19876611034641298, -0.3095598756531122)]> : tensor<4xcomplex<f64>>
  %3 = stablehlo.log %x : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %3, dense<[(0.9162907318741551, 0.9272952180016122), (-0.5815754049028404, 2.0344439357957027), (1.6094379124341003, -0.9272952180016122), (0.34657359027997264, -2.356194490192345)]> : tensor<4xcomplex<f64>>
  %4 = stablehlo.sqrt %x : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %4, dense<[(1.4142135623730951, 0.7071067811865475), (0.39307568887871164, 0.6360098247570345), (2.0, -1.0), (0.45508986056222733, -1.09868411346781)]> : tensor<4xcomplex<f64>>
  %5 = stablehlo.sine %x : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %5, dense<[(3.752771340479298, 0.2565539560904818), (-0.2789791283502615, 0.504895714387995), (3.853738037919377, 27.016813258003932), (-1.2984575814159773, -0.6349639147847361)]> : tensor<4xcomplex<f64>>
  %6 = stablehlo.tanh %y : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %6, dense<[(1.0428307283443607, -0.806877412163085), (0.968214572183509, 0.017009461384601497), (-0.9084174179337579, -0.02533730030009158), (0.6351489523872874, 0.0)]> : tensor<4xcomplex<f64>>
  %7 = stablehlo.power %x, %y : tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %7, dense<[(3.594107287041342, -1.7478830773544338), (-0.13334029804165728, -0.13241101595706622), (1.4414995845173701, -0.09227900175434396), (-0.25300084632011777, -1.2719211462463909)]> : tensor<4xcomplex<f64>>
  %8 = stablehlo.abs %x : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  check.expect_almost_eq_const %8, dense<[2.5, 0.5590169943749475, 5.0, 1.4142135623730951]> : tensor<4xf64>
  %9 = stablehlo.real %y : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  %10 = stablehlo.imag %x : (tensor<4xcomplex<f64>>) -> tensor<4xf64>
  %11 = stablehlo.complex %9, %10 : tensor<4xcomplex<f64>>
  check.expect_eq_const %11, dense<[(0.5, 2.0), (2.0, 0.5), (-1.5, -4.0), (0.75, -1.0)]> : tensor<4xcomplex<f64>>
  %12 = stablehlo.compare EQ, %x, %x : (tensor<4xcomplex<f64>>, tensor<4xcomplex<f64>>) -> tensor<4xi1>
  check.expect_eq_const %12, dense<true> : tensor<4xi1>
  %13 = stablehlo.compare NE, %x, %11 : (tensor<4xcomplex<f64>>, tensor<4xcomplex<f64>>) -> tensor<4xi1>
  check.expect_eq_const %13, dense<[true, true, true, true]> : tensor<4xi1>
  %14 = stablehlo.reshape %x : (tensor<4xcomplex<f64>>) -> tensor<2x2xcomplex<f64>>
  %15 = stablehlo.reshape %y : (tensor<4xcomplex<f64>>) -> tensor<2x2xcomplex<f64>>
  %16 = stablehlo.dot_general %14, %15, contracting_dims = [1] x [0] : (tensor<2x2xcomplex<f64>>, tensor<2x2xcomplex<f64>>) -> tensor<2x2xcomplex<f64>>
  check.expect_almost_eq_const %16, dense<[(1.625, -2.0), (2.3125, 4.75), (2.0, -6.5), (6.25, -8.0)]> : tensor<2x2xcomplex<f64>>
  %17 = stablehlo.fft %x, type = FFT, length = [4] : (tensor<4xcomplex<f64>>) -> tensor<4xcomplex<f64>>
  check.expect_almost_eq_const %17, dense<[(3.25, -2.5), (0.0, 5.25), (5.75, -1.5), (-3.0, 6.75)]> : tensor<4xcomplex<f64>>
  %18 = stablehlo.fft %14, type = IFFT, length = [2, 2] : (tensor<2x2xcomplex<f64>>) -> tensor<2x2xcomplex<f64>>
  check.expect_almost_eq_const %18, dense<[(0.8125, -0.625), (1.4375, -0.375), (-0.1875, 1.875), (-0.5625, 1.125)]> : tensor<2x2xcomplex<f64>>
  %r = stablehlo.constant dense<[1.0, -2.0, 3.5, 0.25, -1.0, 4.0, 0.5, 2.0]> : tensor<8xf64>
  %19 = stablehlo.fft %r, type = RFFT, length = [8] : (tensor<8xf64>) -> tensor<5xcomplex<f64>>
  check.expect_almost_eq_const %19, dense<[(8.25, 0.0), (-1.0052038200428273, 2.480077554195744), (-4.0, 0.25), (5.005203820042827, 8.480077554195745), (-0.25, 0.0)]> : tensor<5xcomplex<f64>>
  %20 = stablehlo.fft %19, type = IRFFT, length = [8] : (tensor<5xcomplex<f64>>) -> tensor<8xf64>
  check.expect_almost_eq_const %20, dense<[1.0, -2.0, 3.5, 0.25, -1.0, 4.0, 0.5, 2.0]> : tensor<8xf64>
  func.return
}

// -----

func.func @complex_f32_and_conversions() {
  %x = stablehlo.constant dense<[(1.5, 2.0), (-0.25, 0.5), (3.0, -4.0), (-1.0, -1.0)]> : tensor<4xcomplex<f32>>
  %0 = stablehlo.convert %x : (tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f64>>
  %1 = stablehlo.convert %0 : (tensor<4xcomplex<f64>>) -> tensor<4xf32>
  check.expect_eq_const %1, dense<[1.5, -0.25, 3.0, -1.0]> : tensor<4xf32>
  %2 = stablehlo.multiply %x, %x : tensor<4xcomplex<f32>>
  check.expect_almost_eq_const %2, dense<[(-1.75, 6.0), (-0.1875, -0.25), (-7.0, -24.0), (0.0, 2.0)]> : tensor<4xcomplex<f32>>
  %3 = stablehlo.constant dense<[-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]> : tensor<3x5xf64>
  %4 = stablehlo.fft %3, type = RFFT, length = [3, 5] : (tensor<3x5xf64>) -> tensor<3x3xcomplex<f64>>
  check.expect_almost_eq_const %4, dense<[(22.5, 0.0), (-3.75, 5.1614322017669), (-3.7499999999999996, 1.2184488608733988), (-18.75, 10.825317547305483), (0.0, 0.0), (-2.220446049250313e-16, 3.8459253727671276e-16), (-18.75, -10.825317547305483), (0.0, 0.0), (-2.220446049250313e-16, -3.8459253727671276e-16)]> : tensor<3x3xcomplex<f64>>
  %5 = stablehlo.fft %4, type = IRFFT, length = [3, 5] : (tensor<3x3xcomplex<f64>>) -> tensor<3x5xf64>
  check.expect_almost_eq_const %5, dense<[-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]> : tensor<3x5xf64>
  %6 = stablehlo.iota dim = 0 : tensor<3xcomplex<f32>>
  check.expect_eq_const %6, dense<[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]> : tensor<3xcomplex<f32>>
  // A NaN part makes complex numbers unordered (lexicographic order otherwise).
  %n = stablehlo.constant dense<[(1.0, 0x7FC00000), (1.0, 2.0), (1.0, 2.0)]> : tensor<3xcomplex<f32>>
  %m = stablehlo.constant dense<[(2.0, 0.0), (1.0, 3.0), (0.5, 9.0)]> : tensor<3xcomplex<f32>>
  %lt = stablehlo.compare LT, %n, %m : (tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>) -> tensor<3xi1>
  check.expect_eq_const %lt, dense<[false, true, false]> : tensor<3xi1>
  %ne = stablehlo.compare NE, %n, %n : (tensor<3xcomplex<f32>>, tensor<3xcomplex<f32>>) -> tensor<3xi1>
  check.expect_eq_const %ne, dense<[true, false, false]> : tensor<3xi1>
  %z = stablehlo.constant dense<(0.0, 0.0)> : tensor<complex<f32>>
  %7 = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<4xcomplex<f32>>, tensor<complex<f32>>) -> tensor<complex<f32>>
  check.expect_eq_const %7, dense<(3.25, -2.5)> : tensor<complex<f32>>
  func.return
}
