#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""One row of bench/sandbox/run from a hyperfine JSON export of four commands (native,
sandbox --tier jit, sandbox --tier interp, qemu-riscv64): mean wall times and the ratios.
usage: ratios.py RESULTS.json NAME [GUEST_INSTRUCTIONS_PER_S]"""
import json
import sys

n, j, i, q = [x["mean"] for x in json.load(open(sys.argv[1]))["results"]]
ips = sys.argv[3] if len(sys.argv) > 3 else ""
print(f"{sys.argv[2]:<14} {n:8.3f}s {j:8.3f}s {i:8.3f}s {q:8.3f}s {j / n:12.1f}x {q / j:10.2f}x {ips:>12}")
