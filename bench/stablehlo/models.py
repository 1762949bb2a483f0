#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""The StableHLO benchmark models (an MLP, a small CNN, a ResNet-18 basic block at 56x56x64
and a BERT-base encoder layer at sequence 128), written as JAX exports them (jax.export / jit(...).lower():
weights as arguments, `module @jit_...`, dot_general with contracting_dims, broadcast_in_dim for
biases, maximum against a broadcast zero for relu, reduce_window max for pooling, NHWC x HWIO
convolutions), each with the same math in NumPy.

  models.py DIR   writes DIR/NAME.mlir, DIR/NAME.in*.npy (seeded random inputs) for every model
                  and prints one line per model: NAME N_INPUTS
  models.py --numpy DIR NAME ITERS   times NumPy on the model's inputs (median of ITERS runs,
                  microseconds), writes DIR/NAME.numpy.npy, prints "numpy_us X"
  models.py --torch DIR NAME ITERS   the same with PyTorch (Debian python3-torch), one thread,
                  the faster of eager (inference_mode) and torch.jit.trace + freeze; writes
                  DIR/NAME.torch.npy, prints "torch_us X" and "torch_jit 0|1"
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


def resnet_block(batch, hw=56, c=64):
    # ResNet-18's basic block at 56x56x64, inference: conv3x3 (batch norm folded into its
    # weights and bias) + relu, conv3x3 + bias, the residual added, relu.
    conv = ("dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {stride = [1, 1], "
            "pad = [[1, 1], [1, 1]], lhs_dilate = [1, 1], rhs_dilate = [1, 1]} "
            "{batch_group_count = 1 : i64, feature_group_count = 1 : i64, precision_config = "
            "[#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]}")
    x = t(batch, hw, hw, c)
    args = [f"%arg0: {x}", f"%arg1: {t(3, 3, c, c)}", f"%arg2: {t(c)}", f"%arg3: {t(3, 3, c, c)}",
            f"%arg4: {t(c)}"]
    lines = ["%cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>",
             f"%z = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> {x}"]
    prev = "%arg0"
    for i in range(2):
        lines += [
            f"%c{i} = stablehlo.convolution({prev}, %arg{2 * i + 1}) {conv} : ({x}, {t(3, 3, c, c)}) -> {x}",
            f"%cb{i} = stablehlo.broadcast_in_dim %arg{2 * i + 2}, dims = [3] : ({t(c)}) -> {x}",
            f"%ca{i} = stablehlo.add %c{i}, %cb{i} : {x}",
        ]
        prev = f"%ca{i}"
        if i == 0:
            lines.append(f"%r0 = stablehlo.maximum %ca0, %z : {x}")
            prev = "%r0"
    lines += [f"%res = stablehlo.add %ca1, %arg0 : {x}", f"%y = stablehlo.maximum %res, %z : {x}"]
    text = (f"module @jit_resnet_block attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
            f"  func.func public @main({', '.join(args)}) -> ({x} {{jax.result_info = \"\"}}) {{\n"
            f"    " + "\n    ".join(lines) + f"\n    return %y : {x}\n  }}\n}}\n")
    rng = np.random.default_rng(200 + batch)
    ins = [rng.standard_normal((batch, hw, hw, c), dtype=np.float32)]
    for _ in range(2):
        ins += [(rng.standard_normal((3, 3, c, c), dtype=np.float32) / np.sqrt(9 * c)).astype(np.float32),
                rng.standard_normal(c, dtype=np.float32) * np.float32(0.1)]
    return text, ins


def resnet_numpy(ins):
    x = ins[0]
    h = np.maximum(conv_same3(x, ins[1]) + ins[2], np.float32(0))
    return np.maximum(conv_same3(h, ins[3]) + ins[4] + x, np.float32(0))


def transformer(batch, seq=128, d=768, heads=12, ff=3072):
    # One encoder layer (BERT-base sized), post-norm, as jax.numpy code exports: QKV projections,
    # softmax attention per head (dot_general with batching dims), output projection, residual
    # and layer norm, a GELU (tanh form) MLP, residual and layer norm.
    dh = heads and d // heads
    B, S, D, H, F2 = batch, seq, d, heads, ff
    T = lambda *dims: t(*dims)
    args = [f"%x: {T(B, S, D)}", f"%wq: {T(D, D)}", f"%bq: {T(D)}", f"%wk: {T(D, D)}", f"%bk: {T(D)}",
            f"%wv: {T(D, D)}", f"%bv: {T(D)}", f"%wo: {T(D, D)}", f"%bo: {T(D)}",
            f"%g1: {T(D)}", f"%be1: {T(D)}", f"%w1: {T(D, F2)}", f"%b1: {T(F2)}",
            f"%w2: {T(F2, D)}", f"%b2: {T(D)}", f"%g2: {T(D)}", f"%be2: {T(D)}"]
    L = []

    def dense(name, x, w, bias, k, n):
        L.append(f"%{name}_d = stablehlo.dot_general {x}, {w}, contracting_dims = [2] x [0], precision = [DEFAULT, DEFAULT] : ({T(B, S, k)}, {T(k, n)}) -> {T(B, S, n)}")
        L.append(f"%{name}_b = stablehlo.broadcast_in_dim {bias}, dims = [2] : ({T(n)}) -> {T(B, S, n)}")
        L.append(f"%{name} = stablehlo.add %{name}_d, %{name}_b : {T(B, S, n)}")
        return f"%{name}"

    def layer_norm(name, x, g, b):
        L.append(f"%{name}_s = stablehlo.reduce({x} init: %zero) applies stablehlo.add across dimensions = [2] : ({T(B, S, D)}, tensor<f32>) -> {T(B, S)}")
        L.append(f"%{name}_m = stablehlo.divide %{name}_s, %nD : {T(B, S)}")
        L.append(f"%{name}_mb = stablehlo.broadcast_in_dim %{name}_m, dims = [0, 1] : ({T(B, S)}) -> {T(B, S, D)}")
        L.append(f"%{name}_c = stablehlo.subtract {x}, %{name}_mb : {T(B, S, D)}")
        L.append(f"%{name}_sq = stablehlo.multiply %{name}_c, %{name}_c : {T(B, S, D)}")
        L.append(f"%{name}_vs = stablehlo.reduce(%{name}_sq init: %zero) applies stablehlo.add across dimensions = [2] : ({T(B, S, D)}, tensor<f32>) -> {T(B, S)}")
        L.append(f"%{name}_v = stablehlo.divide %{name}_vs, %nD : {T(B, S)}")
        L.append(f"%{name}_ve = stablehlo.add %{name}_v, %eps : {T(B, S)}")
        L.append(f"%{name}_r = stablehlo.rsqrt %{name}_ve : {T(B, S)}")
        L.append(f"%{name}_rb = stablehlo.broadcast_in_dim %{name}_r, dims = [0, 1] : ({T(B, S)}) -> {T(B, S, D)}")
        L.append(f"%{name}_n = stablehlo.multiply %{name}_c, %{name}_rb : {T(B, S, D)}")
        L.append(f"%{name}_gb = stablehlo.broadcast_in_dim {g}, dims = [2] : ({T(D)}) -> {T(B, S, D)}")
        L.append(f"%{name}_bb = stablehlo.broadcast_in_dim {b}, dims = [2] : ({T(D)}) -> {T(B, S, D)}")
        L.append(f"%{name}_g = stablehlo.multiply %{name}_n, %{name}_gb : {T(B, S, D)}")
        L.append(f"%{name} = stablehlo.add %{name}_g, %{name}_bb : {T(B, S, D)}")
        return f"%{name}"

    L += ["%zero = stablehlo.constant dense<0.000000e+00> : tensor<f32>",
          "%ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>",
          f"%nD = stablehlo.constant dense<{float(D)!r}> : {T(B, S)}",
          f"%eps = stablehlo.constant dense<9.99999996E-13> : {T(B, S)}",
          f"%scale = stablehlo.constant dense<{1 / np.sqrt(dh)!r}> : {T(B, H, S, S)}"]
    heads_of = {}
    for nm, w, bias in (("q", "%wq", "%bq"), ("k", "%wk", "%bk"), ("v", "%wv", "%bv")):
        y = dense(nm, "%x", w, bias, D, D)
        L.append(f"%{nm}4 = stablehlo.reshape {y} : ({T(B, S, D)}) -> {T(B, S, H, dh)}")
        L.append(f"%{nm}h = stablehlo.transpose %{nm}4, dims = [0, 2, 1, 3] : ({T(B, S, H, dh)}) -> {T(B, H, S, dh)}")
        heads_of[nm] = f"%{nm}h"
    L.append(f"%sc = stablehlo.dot_general %qh, %kh, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [3], precision = [DEFAULT, DEFAULT] : ({T(B, H, S, dh)}, {T(B, H, S, dh)}) -> {T(B, H, S, S)}")
    L.append(f"%scs = stablehlo.multiply %sc, %scale : {T(B, H, S, S)}")
    L.append(f"%mx = stablehlo.reduce(%scs init: %ninf) applies stablehlo.maximum across dimensions = [3] : ({T(B, H, S, S)}, tensor<f32>) -> {T(B, H, S)}")
    L.append(f"%mxb = stablehlo.broadcast_in_dim %mx, dims = [0, 1, 2] : ({T(B, H, S)}) -> {T(B, H, S, S)}")
    L.append(f"%sh = stablehlo.subtract %scs, %mxb : {T(B, H, S, S)}")
    L.append(f"%ex = stablehlo.exponential %sh : {T(B, H, S, S)}")
    L.append(f"%sm = stablehlo.reduce(%ex init: %zero) applies stablehlo.add across dimensions = [3] : ({T(B, H, S, S)}, tensor<f32>) -> {T(B, H, S)}")
    L.append(f"%smb = stablehlo.broadcast_in_dim %sm, dims = [0, 1, 2] : ({T(B, H, S)}) -> {T(B, H, S, S)}")
    L.append(f"%p = stablehlo.divide %ex, %smb : {T(B, H, S, S)}")
    L.append(f"%ctx = stablehlo.dot_general %p, %vh, batching_dims = [0, 1] x [0, 1], contracting_dims = [3] x [2], precision = [DEFAULT, DEFAULT] : ({T(B, H, S, S)}, {T(B, H, S, dh)}) -> {T(B, H, S, dh)}")
    L.append(f"%ctxt = stablehlo.transpose %ctx, dims = [0, 2, 1, 3] : ({T(B, H, S, dh)}) -> {T(B, S, H, dh)}")
    L.append(f"%ctx2 = stablehlo.reshape %ctxt : ({T(B, S, H, dh)}) -> {T(B, S, D)}")
    o = dense("o", "%ctx2", "%wo", "%bo", D, D)
    L.append(f"%r1 = stablehlo.add {o}, %x : {T(B, S, D)}")
    h1 = layer_norm("ln1", "%r1", "%g1", "%be1")
    f1 = dense("f1", h1, "%w1", "%b1", D, F2)
    # GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    G = T(B, S, F2)
    L += [f"%ga = stablehlo.constant dense<0.0447149985> : {G}",
          f"%gs = stablehlo.constant dense<0.797884583> : {G}",
          f"%gh = stablehlo.constant dense<5.000000e-01> : {G}",
          f"%g1c = stablehlo.constant dense<1.000000e+00> : {G}",
          f"%x2 = stablehlo.multiply {f1}, {f1} : {G}", f"%x3 = stablehlo.multiply %x2, {f1} : {G}",
          f"%ax3 = stablehlo.multiply %ga, %x3 : {G}", f"%in = stablehlo.add {f1}, %ax3 : {G}",
          f"%sin = stablehlo.multiply %gs, %in : {G}", f"%th = stablehlo.tanh %sin : {G}",
          f"%op = stablehlo.add %g1c, %th : {G}", f"%hx = stablehlo.multiply %gh, {f1} : {G}",
          f"%gelu = stablehlo.multiply %hx, %op : {G}"]
    f2 = dense("f2", "%gelu", "%w2", "%b2", F2, D)
    L.append(f"%r2 = stablehlo.add {f2}, {h1} : {T(B, S, D)}")
    y = layer_norm("ln2", "%r2", "%g2", "%be2")
    text = (f"module @jit_encoder_layer attributes {{mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32}} {{\n"
            f"  func.func public @main({', '.join(args)}) -> ({T(B, S, D)} {{jax.result_info = \"\"}}) {{\n"
            f"    " + "\n    ".join(L) + f"\n    return {y} : {T(B, S, D)}\n  }}\n}}\n")
    rng = np.random.default_rng(300 + batch)
    r = lambda *shape, s=1.0: (rng.standard_normal(shape, dtype=np.float32) * np.float32(s)).astype(np.float32)
    ins = [r(B, S, D)]
    for _ in range(4):
        ins += [r(D, D, s=1 / np.sqrt(D)), r(D, s=0.02)]
    ins += [1 + r(D, s=0.1), r(D, s=0.1), r(D, F2, s=1 / np.sqrt(D)), r(F2, s=0.02),
            r(F2, D, s=1 / np.sqrt(F2)), r(D, s=0.02), 1 + r(D, s=0.1), r(D, s=0.1)]
    return text, ins


def transformer_numpy(ins, heads=12):
    x, wq, bq, wk, bk, wv, bv, wo, bo, g1, be1, w1, b1, w2, b2, g2, be2 = ins
    B, S, D = x.shape
    dh = D // heads

    def split(y):
        return y.reshape(B, S, heads, dh).transpose(0, 2, 1, 3)

    def ln(y, g, b):
        m = y.mean(-1, keepdims=True)
        c = y - m
        return c / np.sqrt((c * c).mean(-1, keepdims=True) + np.float32(1e-12)) * g + b

    q, k, v = split(x @ wq + bq), split(x @ wk + bk), split(x @ wv + bv)
    s = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1 / np.sqrt(dh))
    e = np.exp(s - s.max(-1, keepdims=True))
    ctx = (e / e.sum(-1, keepdims=True)) @ v
    h1 = ln(ctx.transpose(0, 2, 1, 3).reshape(B, S, D) @ wo + bo + x, g1, be1)
    f = h1 @ w1 + b1
    gelu = np.float32(0.5) * f * (1 + np.tanh(np.float32(0.797884583) * (f + np.float32(0.0447149985) * f * f * f)))
    return ln(gelu @ w2 + b2 + h1, g2, be2)


MODELS = {"mlp_b1": (lambda: mlp(1), mlp_numpy), "mlp_b64": (lambda: mlp(64), mlp_numpy),
          "cnn_b1": (lambda: cnn(1), cnn_numpy), "cnn_b16": (lambda: cnn(16), cnn_numpy),
          "resnet_b1": (lambda: resnet_block(1), resnet_numpy),
          "resnet_b8": (lambda: resnet_block(8), resnet_numpy),
          "bert_b1": (lambda: transformer(1), transformer_numpy),
          "bert_b4": (lambda: transformer(4), transformer_numpy)}


def torch_module(name, ins):
    """The model as a PyTorch module holding the same weights (None for a model without one)."""
    import torch
    import torch.nn.functional as tf
    P = [torch.from_numpy(a) for a in ins[1:]]

    def conv(x, w, b):  # NHWC x HWIO, SAME, as the StableHLO convolution
        return tf.conv2d(x, w.permute(3, 2, 0, 1), b, padding=1)

    class Mlp(torch.nn.Module):
        def forward(self, x):
            for i in range(3):
                x = torch.addmm(P[2 * i + 1], x, P[2 * i])
                if i < 2:
                    x = torch.relu(x)
            return x

    class Cnn(torch.nn.Module):
        def forward(self, x):
            x = x.permute(0, 3, 1, 2)
            for i in range(2):
                x = tf.max_pool2d(torch.relu(conv(x, P[2 * i], P[2 * i + 1])), 2)
            return torch.addmm(P[5], x.permute(0, 2, 3, 1).reshape(x.shape[0], -1), P[4])

    class Resnet(torch.nn.Module):
        def forward(self, x):
            x = x.permute(0, 3, 1, 2)
            h = torch.relu(conv(x, P[0], P[1]))
            return torch.relu(conv(h, P[2], P[3]) + x).permute(0, 2, 3, 1)

    class Bert(torch.nn.Module):
        def forward(self, x):
            wq, bq, wk, bk, wv, bv, wo, bo, g1, be1, w1, b1, w2, b2, g2, be2 = P
            B, S, D = x.shape
            H = 12

            def split(y):
                return y.reshape(B, S, H, D // H).transpose(1, 2)
            q, k, v = split(x @ wq + bq), split(x @ wk + bk), split(x @ wv + bv)
            a = torch.softmax(q @ k.transpose(-1, -2) / (D // H) ** 0.5, dim=-1) @ v
            h1 = tf.layer_norm(a.transpose(1, 2).reshape(B, S, D) @ wo + bo + x, (D,), g1, be1, 1e-12)
            f = tf.gelu(h1 @ w1 + b1, approximate="tanh")
            return tf.layer_norm(f @ w2 + b2 + h1, (D,), g2, be2, 1e-12)

    kind = name.split("_")[0]
    return {"mlp": Mlp, "cnn": Cnn, "resnet": Resnet, "bert": Bert}[kind]()


def time_torch(name, ins, iters):
    """PyTorch on one thread, eager under inference_mode and TorchScript (trace + freeze):
    the faster mode's median time in microseconds, that mode, and its output."""
    import torch
    torch.set_num_threads(1)
    x = torch.from_numpy(ins[0])
    best = None
    with torch.inference_mode():
        eager = torch_module(name, ins).eval()
        modes = [("eager", eager)]
    with torch.no_grad():
        try:
            modes.append(("jit", torch.jit.freeze(torch.jit.trace(torch_module(name, ins).eval(), x))))
        except Exception as e:  # a model TorchScript cannot trace: eager only
            print(f"# {name}: torch.jit.trace failed: {e}", file=sys.stderr)
    for mode, m in modes:
        with torch.inference_mode():
            for _ in range(3):
                y = m(x)
            times = []
            for _ in range(iters):
                t0 = time.perf_counter()
                y = m(x)
                times.append((time.perf_counter() - t0) * 1e6)
        med = sorted(times)[len(times) // 2]
        if best is None or med < best[0]:
            best = (med, mode, y.numpy())
    return best


def load_inputs(d, name):
    ins, k = [], 0
    while True:
        try:
            ins.append(np.load(f"{d}/{name}.in{k}.npy"))
        except FileNotFoundError:
            return ins
        k += 1


def main():
    if sys.argv[1] == "--torch":
        d, name, iters = sys.argv[2], sys.argv[3], int(sys.argv[4])
        us, mode, y = time_torch(name, load_inputs(d, name), iters)
        np.save(f"{d}/{name}.torch.npy", y)
        print(f"torch_us {us:.3f}")
        print(f"torch_jit {1 if mode == 'jit' else 0}")
        return
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
