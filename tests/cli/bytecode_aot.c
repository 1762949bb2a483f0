// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* Links against `tierjit compile fib.tjasm -o fib.o` and calls the bytecode functions from C,
 * with a host_call that implements print_i64. Usage: bytecode_aot N */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tierjit/bytecode_abi.h"

uint64_t tj_fib(TjCtx* ctx, uint64_t* frame);
uint64_t tj_main(TjCtx* ctx, uint64_t* frame);

static uint64_t host_call(TjCtx* ctx, uint64_t import, uint64_t* args, uint64_t nargs) {
  (void)ctx;
  (void)import;
  (void)nargs;
  printf("host print_i64: %" PRId64 "\n", (int64_t)args[0]);
  return 0;
}

int main(int argc, char** argv) {
  static uint8_t mem[1 << 16];
  static uint64_t regs[256 * 1000];
  TjCtx ctx = {0};
  ctx.mem = mem;
  ctx.mem_size = sizeof mem;
  ctx.fuel = UINT64_MAX;
  ctx.max_depth = 900;
  ctx.reg_limit = regs + 256 * 1000;
  ctx.host_call = host_call;
  tj_init_memory(mem);
  regs[0] = (uint64_t)atoi(argv[1]);
  printf("tj_fib: %" PRIu64 "\n", tj_fib(&ctx, regs));
  regs[0] = 10;
  uint64_t rc = tj_main(&ctx, regs);
  printf("tj_main returned %" PRIu64 ", status %" PRIu64 "\n", rc, ctx.status);
  return ctx.status != 0;
}
