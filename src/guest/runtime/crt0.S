/* SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception */
/* tierjit guest start-up: the process entry point of every ELF `tierjit compile --target
 * riscv64` links. The stack holds argc, argv[], NULL, envp[], NULL, auxv[] as the Linux
 * riscv64 ABI lays them out (the sandbox builds it the same way, so the ELF also runs under
 * qemu-riscv64). Sets the global pointer (for linker relaxation) and the thread pointer (the
 * C library keeps errno in TLS; tierjit.ld puts the one TLS block at __tls_base), then
 * continues in C (start.c). */
	.section .text._start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	.option push
	.option norelax
	lla gp, __global_pointer$
	.option pop
	lla tp, __tls_base
	mv a0, sp
	andi sp, sp, -16
	call __tj_start
1:	j 1b
	.size _start, . - _start
