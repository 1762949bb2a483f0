#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""The StableHLO benchmark models, written as JAX exports them (jax.export / jit(...).lower():
weights as arguments, `module @jit_...`, dot_general with contracting_dims, broadcast_in_dim for
biases, maximum against a broadcast zero for relu, reduce_window max for pooling, NHWC x HWIO
convolutions), each with the same math in NumPy.

  models.py DIR   writes DIR/NAME.mlir, DIR/NAME.in*.npy (seeded random inputs) for every model
                  and prints one line per model: NAME N_INPUTS
  models.py --numpy DIR NAME ITERS   times NumPy on the model's inputs (median of ITERS runs,
                  microseconds), writes DIR/NAME.numpy.npy, prints "numpy_us X"
"""
import sys
import time

import numpy as np

F = "f32"


def t(*dims):
    return "tensor<" + "x".join(str(d) for d in dims) + "xf32>"


def mlp(batch):
    sizes = [784, 512, 512, 10]
    args, lines, prev = [f"%arg0: {t(batch, 784)}"], [], "%arg0"
    for i in range(3):
        k, n = sizes[i], sizes[i + 1]
        w, bias = f"%arg{2 * i + 1}", f"%arg{2 * i + 2}"
        args += [f"{w}: {t(k, n)}", f"{bias}: {t(n)}"]
        lines += [
            f"%d{i} = stablehlo.dot_general {prev}, {w}, contracting_dims = [1] x [0], "
            f"precision = [DEFAULT, DEFAULT] : ({t(batch, k)}, {t(k, n)}) -> {t(batch, n)}",
            f"%b{i} = stablehlo.broadcast_in_dim {bias}, dims = [1] : ({t(n)}) -> {t(batch, n)}",
            f"%s{i} = stablehlo.add %d{i}, %b{i} : {t(batch, n)}",
        ]
        prev = f"%s{i}"
        if i < 2:
            lines += [
                f"%z{i} = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> {t(batch, n)}",
                f"%r{i} = stablehlo.maximum %s{i}, %z{i} : {t(batch, n)}",
            ]
            prev = f"%r{i}"
    body = "\n    ".join(["%cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>"] + lines)
    text = (f"module @jit_mlp attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
            f"  func.func public @main({', '.join(args)}) -> ({t(batch, 10)} {{jax.result_info = \"\"}}) {{\n"
            f"    {body}\n    return {prev} : {t(batch, 10)}\n  }}\n}}\n")
    rng = np.random.default_rng(batch)
    ins = [rng.standard_normal((batch, 784), dtype=np.float32)]
    for i in range(3):
        k, n = sizes[i], sizes[i + 1]
        ins += [(rng.standard_normal((k, n), dtype=np.float32) / np.sqrt(k)).astype(np.float32),
                rng.standard_normal(n, dtype=np.float32) * np.float32(0.1)]
    return text, ins


def mlp_numpy(ins):
    x = ins[0]
    for i in range(3):
        x = x @ ins[2 * i + 1] + ins[2 * i + 2]
        if i < 2:
            x = np.maximum(x, np.float32(0))
    return x


def cnn(batch):
    # conv3x3(1->16, SAME)+relu+maxpool2 -> conv3x3(16->32, SAME)+relu+maxpool2 -> dense 1568->10
    conv = ("dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {{stride = [1, 1], "
            "pad = [[1, 1], [1, 1]], lhs_dilate = [1, 1], rhs_dilate = [1, 1]}} "
            "{{batch_group_count = 1 : i64, feature_group_count = 1 : i64, precision_config = "
            "[#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]}}")
    lines = ["%cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>",
             "%ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>"]
    prev, hw, c = "%arg0", 28, 1
    args = [f"%arg0: {t(batch, 28, 28, 1)}"]
    for i, co in enumerate([16, 32]):
        w, bias = f"%arg{2 * i + 1}", f"%arg{2 * i + 2}"
        args += [f"{w}: {t(3, 3, c, co)}", f"{bias}: {t(co)}"]
        o = t(batch, hw, hw, co)
        lines += [
            f"%c{i} = stablehlo.convolution({prev}, {w}) {conv.format()} : ({t(batch, hw, hw, c)}, {t(3, 3, c, co)}) -> {o}",
            f"%cb{i} = stablehlo.broadcast_in_dim {bias}, dims = [3] : ({t(co)}) -> {o}",
            f"%ca{i} = stablehlo.add %c{i}, %cb{i} : {o}",
            f"%cz{i} = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> {o}",
            f"%cr{i} = stablehlo.maximum %ca{i}, %cz{i} : {o}",
            f'%p{i} = "stablehlo.reduce_window"(%cr{i}, %ninf) <{{padding = dense<0> : tensor<4x2xi64>, '
            f"window_dimensions = array<i64: 1, 2, 2, 1>, window_strides = array<i64: 1, 2, 2, 1>}}> ({{\n"
            f"    ^bb0(%a{i}: tensor<f32>, %b{i}: tensor<f32>):\n"
            f"      %m{i} = stablehlo.maximum %a{i}, %b{i} : tensor<f32>\n"
            f"      stablehlo.return %m{i} : tensor<f32>\n"
            f"    }}) : ({o}, tensor<f32>) -> {t(batch, hw // 2, hw // 2, co)}",
        ]
        prev, hw, c = f"%p{i}", hw // 2, co
    flat = hw * hw * c
    args += [f"%arg5: {t(flat, 10)}", f"%arg6: {t(10)}"]
    lines += [
        f"%f = stablehlo.reshape {prev} : ({t(batch, hw, hw, c)}) -> {t(batch, flat)}",
        f"%d = stablehlo.dot_general %f, %arg5, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : ({t(batch, flat)}, {t(flat, 10)}) -> {t(batch, 10)}",
        f"%db = stablehlo.broadcast_in_dim %arg6, dims = [1] : ({t(10)}) -> {t(batch, 10)}",
        f"%y = stablehlo.add %d, %db : {t(batch, 10)}",
    ]
    text = (f"module @jit_cnn attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
            f"  func.func public @main({', '.join(args)}) -> ({t(batch, 10)} {{jax.result_info = \"\"}}) {{\n"
            f"    " + "\n    ".join(lines) + f"\n    return %y : {t(batch, 10)}\n  }}\n}}\n")
    rng = np.random.default_rng(100 + batch)
    ins = [rng.standard_normal((batch, 28, 28, 1), dtype=np.float32)]
    c = 1
    for co in [16, 32]:
        ins += [(rng.standard_normal((3, 3, c, co), dtype=np.float32) / np.sqrt(9 * c)).astype(np.float32),
                rng.standard_normal(co, dtype=np.float32) * np.float32(0.1)]
        c = co
    ins += [(rng.standard_normal((flat, 10), dtype=np.float32) / np.sqrt(flat)).astype(np.float32),
            rng.standard_normal(10, dtype=np.float32) * np.float32(0.1)]
    return text, ins


def conv_same3(x, w):
    # im2col by stride tricks + one GEMM on OpenBLAS (what a NumPy user writes).
    n, h, wd, c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    s = xp.strides
    cols = np.lib.stride_tricks.as_strided(xp, (n, h, wd, 3, 3, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
    return (cols.reshape(n * h * wd, 9 * c) @ w.reshape(9 * c, -1)).reshape(n, h, wd, -1)


def cnn_numpy(ins):
    x = ins[0]
    for i in range(2):
        x = np.maximum(conv_same3(x, ins[2 * i + 1]) + ins[2 * i + 2], np.float32(0))
        n, h, w, c = x.shape
        x = x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
    return x.reshape(x.shape[0], -1) @ ins[5] + ins[6]


MODELS = {"mlp_b1": (lambda: mlp(1), mlp_numpy), "mlp_b64": (lambda: mlp(64), mlp_numpy),
          "cnn_b1": (lambda: cnn(1), cnn_numpy), "cnn_b16": (lambda: cnn(16), cnn_numpy)}


def main():
    if sys.argv[1] == "--numpy":
        d, name, iters = sys.argv[2], sys.argv[3], int(sys.argv[4])
        _, fn = MODELS[name]
        ins, k = [], 0
        while True:
            try:
                ins.append(np.load(f"{d}/{name}.in{k}.npy"))
            except FileNotFoundError:
                break
            k += 1
        fn(ins)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            y = fn(ins)
            times.append((time.perf_counter() - t0) * 1e6)
        np.save(f"{d}/{name}.numpy.npy", y)
        print(f"numpy_us {sorted(times)[len(times) // 2]:.3f}")
        return
    d = sys.argv[1]
    for name, (make, _) in MODELS.items():
        text, ins = make()
        with open(f"{d}/{name}.mlir", "w") as f:
            f.write(text)
        for k, a in enumerate(ins):
            np.save(f"{d}/{name}.in{k}.npy", a)
        print(name, len(ins))


if __name__ == "__main__":
    main()
