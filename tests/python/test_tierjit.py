# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""The Python module against NumPy (the oracle for kernels and StableHLO results) and against
values computed here: programs, kernels, StableHLO, the sandbox, and their errors."""
import math
import os
import subprocess

import numpy as np
import pytest

import tierjit

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---- kernels ----

@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (5, 7, 3), (64, 48, 33), (130, 17, 250)])
def test_sgemm_matches_numpy(m, n, k):
    a, b = rand(m, k), rand(k, n)
    np.testing.assert_allclose(tierjit.kernels.sgemm(a, b), a @ b, rtol=1e-4, atol=1e-4)


def test_sgemm_transposes_alpha_beta_in_place():
    a, b, c = rand(9, 4), rand(6, 9), rand(4, 6)
    want = 0.5 * (a.T @ b.T) + 2.0 * c
    out = tierjit.kernels.sgemm(a, b, alpha=0.5, beta=2.0, c=c, trans_a=True, trans_b=True)
    assert np.shares_memory(out, c), "c= is written in place"
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-5)


def test_sgemm_strided_and_float64_inputs_are_converted():
    a = rand(8, 10)[:, ::2]  # not contiguous
    b = RNG.standard_normal((5, 3))  # float64
    np.testing.assert_allclose(tierjit.kernels.sgemm(a, b), a @ b.astype(np.float32), rtol=1e-5)


def test_sgemm_nan_propagates():
    a, b = rand(4, 4), rand(4, 4)
    a[1, 2] = np.nan
    c = tierjit.kernels.sgemm(a, b)
    assert np.isnan(c[1]).all() and not np.isnan(c[0]).any()


def test_sgemm_errors():
    with pytest.raises(tierjit.Error, match="inner dimensions") as e:
        tierjit.kernels.sgemm(rand(3, 4), rand(5, 6))
    assert e.value.code == "usage" and e.value.exit_status == 64
    with pytest.raises(tierjit.Error, match="out= must be"):
        tierjit.kernels.sgemm(rand(2, 2), rand(2, 2), c=np.zeros((2, 2)))


def gelu(x):
    return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()],
                    dtype=np.float64).reshape(x.shape)


@pytest.mark.parametrize("name,ref,tol", [
    ("relu", lambda x: np.maximum(x, 0), 0),
    ("exp", np.exp, 1e-6),
    ("tanh", np.tanh, 1e-6),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x.astype(np.float64))), 1e-6),
    ("gelu", gelu, 2e-6),
])
def test_unary_matches_numpy(name, ref, tol):
    x = rand(1000) * 4
    y = getattr(tierjit.kernels, name)(x)
    np.testing.assert_allclose(y, ref(x), rtol=tol, atol=tol)


def test_unary_in_place():
    x = rand(100)
    want = np.maximum(x, 0)
    tierjit.kernels.relu(x, out=x)
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("name,ref", [("add", np.add), ("subtract", np.subtract),
                                      ("multiply", np.multiply), ("divide", np.divide),
                                      ("maximum", np.maximum), ("minimum", np.minimum)])
def test_binary_broadcasts_like_numpy(name, ref):
    a, b = rand(4, 1, 5), rand(3, 1)
    np.testing.assert_allclose(getattr(tierjit.kernels, name)(a, b), ref(a, b), rtol=1e-6)


def test_binary_incompatible_shapes():
    with pytest.raises(tierjit.Error, match=r"do not broadcast") as e:
        tierjit.kernels.add(rand(2, 3), rand(4))
    assert e.value.code == "invalid-input"


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_reductions(axis):
    x = rand(6, 7, 8)
    np.testing.assert_allclose(tierjit.kernels.sum(x, axis), x.sum(axis), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tierjit.kernels.mean(x, axis), x.mean(axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(tierjit.kernels.max(x, axis), x.max(axis))


def test_softmax_and_layer_norm():
    x = rand(5, 33) * 10
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(tierjit.kernels.softmax(x), e / e.sum(-1, keepdims=True),
                               rtol=1e-5, atol=1e-7)
    g, b = rand(33), rand(33)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(tierjit.kernels.layer_norm(x, g, b, 1e-5),
                               (x - mu) / np.sqrt(var + 1e-5) * g + b, rtol=1e-4, atol=1e-4)


# ---- StableHLO ----

MODULE = """
func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> (tensor<2x4xf32>, tensor<2x3xf32>) {
  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = stablehlo.tanh %a : tensor<2x3xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x3xf32>
}
"""


@pytest.mark.parametrize("path", ["compiled", "reference"])
def test_stablehlo_matches_numpy(path):
    m = tierjit.stablehlo.load(MODULE, path=path)
    assert m.signature == [("f32", (2, 3)), ("f32", (3, 4))]
    a, b = rand(2, 3), rand(3, 4)
    dot, th = m(a, b)
    np.testing.assert_allclose(dot, a @ b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(th, np.tanh(a), rtol=1e-5, atol=1e-6)


MATH_OPS = [("exponential", np.exp), ("exponential_minus_one", np.expm1), ("log", np.log),
            ("log_plus_one", np.log1p), ("sine", np.sin), ("cosine", np.cos), ("tanh", np.tanh),
            ("logistic", lambda v: 1 / (1 + np.exp(-v)))]
MATH_MODULE = ("func.func @main(%x: tensor<4096xf32>, %p: tensor<4096xf32>, %d: tensor<4096xf64>) -> ("
               + ", ".join(["tensor<4096xf32>"] * (len(MATH_OPS) + 2) + ["tensor<4096xf64>"]) + ") {\n"
               + "".join(f"  %{k} = stablehlo.{op} %{'p' if 'log' == op[:3] else 'x'} : tensor<4096xf32>\n"
                         for k, (op, _) in enumerate(MATH_OPS))
               + f"  %pw = stablehlo.power %p, %x : tensor<4096xf32>\n"
               + f"  %at = stablehlo.atan2 %x, %p : tensor<4096xf32>\n"
               + f"  %dt = stablehlo.tanh %d : tensor<4096xf64>\n"
               + "  return " + ", ".join(f"%{k}" for k in range(len(MATH_OPS))) + ", %pw, %at, %dt : "
               + ", ".join(["tensor<4096xf32>"] * (len(MATH_OPS) + 2) + ["tensor<4096xf64>"]) + "\n}\n")


def test_stablehlo_vector_math_rounds_like_double():
    # The compiled path's f32 transcendentals run glibc's vector variants in double (when the
    # loop vectorizer takes them) and round to f32: within 1 ulp of NumPy's float64 result
    # rounded to f32, and exact nearly everywhere. f64 keeps the C library's scalar function:
    # equal to Python's math.tanh (the same glibc function) bit for bit.
    m = tierjit.stablehlo.load(MATH_MODULE)
    x = (RNG.standard_normal(4096) * 4).astype(np.float32)
    p = (RNG.random(4096) * 8 + 1e-3).astype(np.float32)
    d = RNG.standard_normal(4096) * 4
    outs = m(x, p, d)
    refs = [f((p if op[:3] == "log" else x).astype(np.float64)) for op, f in MATH_OPS]
    refs += [np.power(p.astype(np.float64), x), np.arctan2(x.astype(np.float64), p)]
    for k, (got, want) in enumerate(zip(outs[:-1], refs)):
        want = want.astype(np.float32)
        assert not np.any(np.isnan(got)), k
        ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
        assert ulps.max() <= 1, (k, int(ulps.max()))
        assert np.count_nonzero(ulps) <= 4, (k, np.count_nonzero(ulps))
    assert np.array_equal(outs[-1], np.array([math.tanh(v) for v in d]))


COMPLEX_MODULE = """
func.func @main(%a: tensor<3x4xcomplex<f32>>, %b: tensor<3x4xcomplex<f32>>, %w: tensor<4x5xcomplex<f32>>,
                %re: tensor<3x8xf32>)
    -> (tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>,
        tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>,
        tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xcomplex<f32>>, tensor<3x5xcomplex<f32>>,
        tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x5xcomplex<f32>>, tensor<3x8xf32>,
        tensor<3x4xi1>) {
  %0 = stablehlo.multiply %a, %b : tensor<3x4xcomplex<f32>>
  %1 = stablehlo.divide %a, %b : tensor<3x4xcomplex<f32>>
  %2 = stablehlo.exponential %a : tensor<3x4xcomplex<f32>>
  %3 = stablehlo.log %a : tensor<3x4xcomplex<f32>>
  %4 = stablehlo.sqrt %a : tensor<3x4xcomplex<f32>>
  %5 = stablehlo.tanh %a : tensor<3x4xcomplex<f32>>
  %6 = stablehlo.abs %a : (tensor<3x4xcomplex<f32>>) -> tensor<3x4xf32>
  %7 = stablehlo.imag %b : (tensor<3x4xcomplex<f32>>) -> tensor<3x4xf32>
  %8 = stablehlo.complex %6, %7 : tensor<3x4xcomplex<f32>>
  %9 = stablehlo.dot_general %a, %w, contracting_dims = [1] x [0] : (tensor<3x4xcomplex<f32>>, tensor<4x5xcomplex<f32>>) -> tensor<3x5xcomplex<f32>>
  %10 = stablehlo.fft %a, type = FFT, length = [4] : (tensor<3x4xcomplex<f32>>) -> tensor<3x4xcomplex<f32>>
  %11 = stablehlo.fft %a, type = IFFT, length = [3, 4] : (tensor<3x4xcomplex<f32>>) -> tensor<3x4xcomplex<f32>>
  %12 = stablehlo.fft %re, type = RFFT, length = [8] : (tensor<3x8xf32>) -> tensor<3x5xcomplex<f32>>
  %13 = stablehlo.fft %12, type = IRFFT, length = [8] : (tensor<3x5xcomplex<f32>>) -> tensor<3x8xf32>
  %14 = stablehlo.compare EQ, %a, %b : (tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>) -> tensor<3x4xi1>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14 : tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xcomplex<f32>>, tensor<3x5xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x4xcomplex<f32>>, tensor<3x5xcomplex<f32>>, tensor<3x8xf32>, tensor<3x4xi1>
}
"""


def crand(*shape):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)


@pytest.mark.parametrize("path", ["compiled", "reference"])
def test_stablehlo_complex_matches_numpy(path):
    m = tierjit.stablehlo.load(COMPLEX_MODULE, path=path)
    assert m.signature[0] == ("complex<f32>", (3, 4))
    a, b, w, re = crand(3, 4), crand(3, 4), crand(4, 5), rand(3, 8)
    b[1, 2] = a[1, 2]
    b[2, 3] = a[2, 3].real + 1j * (a[2, 3].imag + 1)  # same real part only
    out = m(a, b, w, re)
    want = [a * b, a / b, np.exp(a), np.log(a), np.sqrt(a), np.tanh(a), np.abs(a), b.imag,
            np.abs(a) + 1j * b.imag, a @ w, np.fft.fft(a, axis=-1), np.fft.ifft2(a),
            np.fft.rfft(re, axis=-1), re]
    for k, (got, ref) in enumerate(zip(out, want)):
        assert got.dtype == (np.complex64 if np.iscomplexobj(ref) else np.float32), k
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5, err_msg=f"result {k}")
    assert out[14].dtype == np.bool_ and out[14].sum() == 1 and out[14][1, 2]
    f64 = m(a.astype(np.complex128), b.astype(np.complex128), w.astype(np.complex128),
            re.astype(np.float64))  # converted to the signature's types
    np.testing.assert_allclose(f64[0], a * b, rtol=2e-5, atol=2e-5)


BATCHED_MODULE = """
func.func @main(%q: tensor<2x3x40x32xf32>, %k: tensor<2x3x48x32xf32>, %v: tensor<2x3x48x24xf32>,
                %x: tensor<2x40x96xf32>, %w: tensor<96x80xf32>, %wt: tensor<80x96xf32>)
    -> (tensor<2x3x40x48xf32>, tensor<2x3x40x24xf32>, tensor<2x40x80xf32>, tensor<2x40x80xf32>) {
  %s = stablehlo.dot_general %q, %k, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [3] : (tensor<2x3x40x32xf32>, tensor<2x3x48x32xf32>) -> tensor<2x3x40x48xf32>
  %c = stablehlo.dot_general %s, %v, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [2] : (tensor<2x3x40x48xf32>, tensor<2x3x48x24xf32>) -> tensor<2x3x40x24xf32>
  %d = stablehlo.dot_general %x, %w, contracting_dims = [2] x [0] : (tensor<2x40x96xf32>, tensor<96x80xf32>) -> tensor<2x40x80xf32>
  %e = stablehlo.dot_general %x, %wt, contracting_dims = [2] x [1] : (tensor<2x40x96xf32>, tensor<80x96xf32>) -> tensor<2x40x80xf32>
  return %s, %c, %d, %e : tensor<2x3x40x48xf32>, tensor<2x3x40x24xf32>, tensor<2x40x80xf32>, tensor<2x40x80xf32>
}
"""


@pytest.mark.parametrize("path", ["compiled", "reference"])
def test_stablehlo_batched_and_rank3_dot_general_match_numpy(path):
    # Large enough for the compiled path's sgemm forms: one sgemm per batch (attention), and
    # a rank-3 lhs whose leading dimensions are the rows of one sgemm (dense layers).
    m = tierjit.stablehlo.load(BATCHED_MODULE, path=path)
    q, k, v = rand(2, 3, 40, 32), rand(2, 3, 48, 32), rand(2, 3, 48, 24)
    x, w = rand(2, 40, 96), rand(96, 80)
    s, c, d, e = m(q, k, v, x, w, np.ascontiguousarray(w.T))
    want_s = q @ k.transpose(0, 1, 3, 2)
    np.testing.assert_allclose(s, want_s, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(c, want_s @ v, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(d, x @ w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(e, x @ w, rtol=1e-4, atol=1e-4)


CONV_DIMS = ("dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {{stride = [{s}, {s}], "
             "pad = [[{p0}, {p1}], [{p0}, {p1}]], lhs_dilate = [1, 1], rhs_dilate = [1, 1]}} "
             "{{batch_group_count = 1 : i64, feature_group_count = 1 : i64}}")
CONV_MODULE = f"""
func.func @main(%x: tensor<2x12x12x32xf32>, %w: tensor<3x3x32x48xf32>, %y: tensor<1x12x12x8xf32>,
                %v: tensor<3x3x8x16xf32>) -> (tensor<2x12x12x48xf32>, tensor<1x10x10x16xf32>, tensor<1x6x6x16xf32>) {{
  %a = stablehlo.convolution(%x, %w) {CONV_DIMS.format(s=1, p0=1, p1=1)} : (tensor<2x12x12x32xf32>, tensor<3x3x32x48xf32>) -> tensor<2x12x12x48xf32>
  %b = stablehlo.convolution(%y, %v) {CONV_DIMS.format(s=1, p0=0, p1=0)} : (tensor<1x12x12x8xf32>, tensor<3x3x8x16xf32>) -> tensor<1x10x10x16xf32>
  %c = stablehlo.convolution(%y, %v) {CONV_DIMS.format(s=2, p0=0, p1=1)} : (tensor<1x12x12x8xf32>, tensor<3x3x8x16xf32>) -> tensor<1x6x6x16xf32>
  return %a, %b, %c : tensor<2x12x12x48xf32>, tensor<1x10x10x16xf32>, tensor<1x6x6x16xf32>
}}
"""


def conv_nhwc(x, w, stride, pad):
    # NHWC x HWIO cross-correlation in float64, by explicit windows.
    xp = np.pad(x.astype(np.float64), ((0, 0), pad, pad, (0, 0)))
    kh, kw = w.shape[:2]
    oh = (xp.shape[1] - kh) // stride + 1
    ow = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for r in range(kh):
        for c in range(kw):
            win = xp[:, r:r + stride * oh:stride, c:c + stride * ow:stride, :]
            out += win @ w[r, c].astype(np.float64)
    return out


@pytest.mark.parametrize("path", ["compiled", "reference"])
def test_stablehlo_convolutions_match_numpy(path):
    # The compiled path hands SAME 3x3 convolutions with 32+ channels to Winograd's F(4x4, 3x3),
    # other symmetric paddings to im2col in the tensor kernels, and asymmetric ones (SAME at
    # stride 2) to its own im2col: each checked against float64 NumPy, the first two counted.
    m = tierjit.stablehlo.load(CONV_MODULE, path=path)
    x, w, y, v = rand(2, 12, 12, 32), rand(3, 3, 32, 48), rand(1, 12, 12, 8), rand(3, 3, 8, 16)
    a, b, c = m(x, w, y, v)
    # Winograd's documented bound (kernels.hpp): 2^-17 of sum |x| |w| over each window.
    bound = 2.0**-17 * conv_nhwc(np.abs(x), np.abs(w), 1, (1, 1))
    err = np.abs(a - conv_nhwc(x, w, 1, (1, 1)))
    assert not np.any(np.isnan(a)) and np.all(err <= bound), float(np.max(err / bound))
    np.testing.assert_allclose(b, conv_nhwc(y, v, 1, (0, 0)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(c, conv_nhwc(y, v, 2, (0, 1)), rtol=1e-4, atol=1e-4)
    if path == "compiled":
        counts = m.kernel_counts()
        assert counts["winograd_convs"] == 1 and counts["im2col_convs"] == 1, counts
        assert counts["sgemm_calls"] >= 36 + 1 + 1, counts


def test_stablehlo_from_file_and_integers(tmp_path):
    f = tmp_path / "m.mlir"
    f.write_text("func.func @main(%a: tensor<4xi32>) -> tensor<4xi32> {\n"
                 "  %0 = stablehlo.multiply %a, %a : tensor<4xi32>\n"
                 "  return %0 : tensor<4xi32>\n}\n")
    m = tierjit.stablehlo.load(str(f))
    out = m(np.array([1, -2, 3, 46341], dtype=np.int32))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.array([1, -2, 3, 46341], np.int32) ** 2)
    assert m.compile() >= 0


def test_stablehlo_errors(tmp_path):
    with pytest.raises(tierjit.Error, match=r"^<text>:2:\d+: ") as e:
        tierjit.stablehlo.load("func.func @main() {\n  %0 = stablehlo.add %a, %b : tensor<2xf32\n}")
    assert e.value.code == "invalid-input" and e.value.exit_status == 65
    with pytest.raises(tierjit.Error) as e:
        tierjit.stablehlo.load(MODULE, entry="nope")
    assert e.value.code == "missing-entry"
    m = tierjit.stablehlo.load(MODULE)
    with pytest.raises(tierjit.Error, match="takes 2 arguments, 1 given"):
        m(rand(2, 3))
    with pytest.raises(tierjit.Error, match=r"must have shape \[3x4\]"):
        m(rand(2, 3), rand(4, 3))
    with pytest.raises(tierjit.Error) as e:
        tierjit.stablehlo.load(str(tmp_path / "missing.mlir"))
    assert e.value.code == "file-not-found"


# ---- programs ----

PROGRAM = """
declare i64 @strlen(ptr)
define i32 @main(i32 %argc, ptr %argv) {
  %p = getelementptr ptr, ptr %argv, i64 1
  %s = load ptr, ptr %p
  %n = call i64 @strlen(ptr %s)
  %n32 = trunc i64 %n to i32
  %t = mul i32 %argc, 10
  %r = add i32 %t, %n32
  ret i32 %r
}
"""


def test_run_program(tmp_path):
    f = tmp_path / "p.ll"
    f.write_text(PROGRAM)
    assert tierjit.run(str(f), ["hello"], cache=False) == 25
    p = tierjit.Program(str(f), opt_level=2, cache=False)
    assert p.run(["a", "bcd"]) == 31
    stats = p.stats()
    assert stats["schema"] == "tierjit-stats" and stats["mode"].startswith("fixed O2")
    with pytest.raises(tierjit.Error, match="runs once"):
        p.run([])


def test_program_errors(tmp_path):
    with pytest.raises(tierjit.Error) as e:
        tierjit.run(str(tmp_path / "none.bc"))
    assert e.value.code == "file-not-found" and e.value.exit_status == 66
    f = tmp_path / "bad.ll"
    f.write_text("define i32 @main() {\n  ret i64 0\n}\n")
    with pytest.raises(tierjit.Error, match=r"bad\.ll:2:\d+: ") as e:
        tierjit.run(str(f))
    assert e.value.code == "invalid-input"


# ---- the sandbox ----

@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    tj, clang = os.environ.get("TIERJIT"), os.environ.get("CLANG")
    if not tj or not clang:
        pytest.skip("TIERJIT and CLANG name the command and clang-22 (set by ctest)")
    d = tmp_path_factory.mktemp("guest")
    src = os.path.join(os.path.dirname(__file__), "..", "sandbox", "guests", "api_guest.c")
    flags = subprocess.run([tj, "guest-cflags"], capture_output=True, text=True,
                           check=True).stdout.split()
    subprocess.run([clang, *flags, "-march=rv64gc_zbb", "-O2", "-S", "-emit-llvm", src, "-o",
                    str(d / "api.ll")], check=True)
    subprocess.run([tj, "compile", "--target", "riscv64", str(d / "api.ll"), "-o",
                    str(d / "api.elf")], check=True)
    return str(d / "api.elf")


def test_sandbox_run_and_vmcall(guest):
    s = tierjit.Sandbox(guest)
    r = s.run()
    assert r["reason"] == "exited" and r["exit_code"] == 5, r
    assert s.vmcall("add4", 1, 2, 3, 4)["value"] == 30
    assert s.vmcall("scale", 2.5, np.float32(1.5))["fvalue"] == 3.75  # (double, float)
    buf = s.alloc(100)
    assert s.write(buf, bytes(range(100)))
    assert s.vmcall("sum_bytes", buf, 100)["value"] == 4950
    assert s.read(buf + 10, 3) == bytes([10, 11, 12])
    assert s.read(8, 4) is None  # the null page
    r = s.vmcall("load_at", 0)
    assert r["reason"] == "fault" and r["fault"] == "load-fault", r


def test_sandbox_host_functions(guest):
    with open(guest, "rb") as f:
        s = tierjit.Sandbox(f.read())
    s.run()
    seen = []

    def host(call):
        seen.append([call.arg(i) for i in range(4)])
        return sum(seen[-1])

    s.register(577, host)
    r = s.vmcall("call_unregistered")
    assert r["reason"] == "returned" and r["value"] == 10 and seen == [[1, 2, 3, 4]], r

    def broken(call):
        raise ValueError("no")

    s.register(577, broken)
    r = s.vmcall("call_unregistered")
    assert r["reason"] == "fault" and "ValueError" in r["message"], r
    with pytest.raises(tierjit.Error, match="500..599"):
        s.register(42, host)


def test_sandbox_budget_and_bad_elf(guest):
    s = tierjit.Sandbox(guest, interpret=True, max_instructions=100000)
    s.run()
    r = s.vmcall("spin")
    assert r["reason"] == "budget" and r["instructions"] == 100000, r
    with pytest.raises(tierjit.Error, match="no ELF magic") as e:
        tierjit.Sandbox(b"\x7fELX" + bytes(60))
    assert e.value.code == "invalid-input"
