// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* tierjit bytecode runner for riscv64 guests: the `main` of an ELF made by
 * `tierjit compile --target riscv64 prog.tjasm`. The compiled module (the bytecode's LLVM IR
 * translation) provides the tables below; this file gives it what `tierjit run` gives a
 * bytecode program on the host: linear memory of the module's size, a register stack, a call
 * depth limit of 10,000, the standard host functions (print_i64, print_u64, print_f64,
 * print_f32, putchar, write) and the same exit statuses (the entry's result & 0xff, halt's
 * status, 100 + trap kind with "tierjit: trap: KIND at FUNC+PC" on stderr). Arguments are
 * integers (strtoll base 0). print_f64/print_f32 format like the host's fmt "{}". */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tierjit/bytecode_abi.h"

extern const uint64_t tj_guest_memory_size;
extern const uint32_t tj_guest_entry_nargs;
extern uint64_t (*const tj_guest_entry)(TjCtx* ctx, uint64_t* frame);
extern const char* const tj_guest_imports[];
extern const uint32_t tj_guest_num_imports;
extern const char* const tj_guest_functions[];
extern const uint32_t tj_guest_num_functions;

#define MAX_DEPTH 10000u
#define REGS_PER_FRAME 256u

/* Prints v like the host's print_f64/print_f32 (fmt's "{}"): the shortest digits that read
 * back exactly, in fixed notation when the decimal exponent is in [-4, 16), else as
 * d.ddde+XX. */
static void print_shortest(double v, int is_float) {
  char buf[64];
  if (v != v) {
    puts(signbit(v) ? "-nan" : "nan");
    return;
  }
  if (v == 1.0 / 0.0 || v == -1.0 / 0.0) {
    puts(v < 0 ? "-inf" : "inf");
    return;
  }
  if (v == 0) {
    puts(signbit(v) ? "-0" : "0");
    return;
  }
  int p = 1;
  for (; p <= 17; ++p) {
    snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    double back = strtod(buf, NULL);
    if (is_float ? (float)back == (float)v : back == v) break;
  }
  /* buf = [-]d[.ddd]e[+-]XX: collect the digits and the exponent. */
  char digits[32];
  int n = 0, neg = buf[0] == '-';
  const char* c = buf + neg;
  for (; *c && *c != 'e'; ++c)
    if (*c >= '0' && *c <= '9') digits[n++] = *c;
  int exp = atoi(c + 1);
  while (n > 1 && digits[n - 1] == '0') --n;
  digits[n] = 0;
  char out[80];
  int o = 0;
  if (neg) out[o++] = '-';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out[o++] = '0';
      out[o++] = '.';
      for (int i = 0; i < -exp - 1; ++i) out[o++] = '0';
      for (int i = 0; i < n; ++i) out[o++] = digits[i];
    } else {
      for (int i = 0; i <= exp; ++i) out[o++] = i < n ? digits[i] : '0';
      if (n > exp + 1) {
        out[o++] = '.';
        for (int i = exp + 1; i < n; ++i) out[o++] = digits[i];
      }
    }
    out[o] = 0;
  } else {
    out[o++] = digits[0];
    if (n > 1) {
      out[o++] = '.';
      for (int i = 1; i < n; ++i) out[o++] = digits[i];
    }
    snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  }
  puts(out);
}

static uint64_t host_call(TjCtx* ctx, uint64_t import, uint64_t* a, uint64_t nargs) {
  (void)nargs;
  const char* name = import < tj_guest_num_imports ? tj_guest_imports[import] : "";
  if (strcmp(name, "print_i64") == 0) {
    printf("%" PRId64 "\n", (int64_t)a[0]);
  } else if (strcmp(name, "print_u64") == 0) {
    printf("%" PRIu64 "\n", a[0]);
  } else if (strcmp(name, "print_f64") == 0) {
    double d;
    memcpy(&d, &a[0], 8);
    print_shortest(d, 0);
  } else if (strcmp(name, "print_f32") == 0) {
    float f;
    uint32_t w = (uint32_t)a[0];
    memcpy(&f, &w, 4);
    print_shortest(f, 1);
  } else if (strcmp(name, "putchar") == 0) {
    putchar((int)(a[0] & 0xff));
    return a[0] & 0xff;
  } else if (strcmp(name, "write") == 0) {
    if (a[0] > ctx->mem_size || a[1] > ctx->mem_size - a[0]) {
      ctx->status = TJ_TRAP_OUT_OF_BOUNDS;
      return 0;
    }
    fwrite(ctx->mem + a[0], 1, a[1], stdout);
    return a[1];
  } else {
    ctx->status = TJ_TRAP_HOST;
  }
  return 0;
}

static const char* trap_name(uint64_t s) {
  switch (s) {
    case TJ_TRAP_OUT_OF_BOUNDS: return "out_of_bounds";
    case TJ_TRAP_DIV_BY_ZERO: return "div_by_zero";
    case TJ_TRAP_STACK_OVERFLOW: return "stack_overflow";
    case TJ_TRAP_BUDGET: return "budget_exhausted";
    case TJ_TRAP_BAD_CALL: return "bad_call";
    case TJ_TRAP_MISALIGNED: return "misaligned";
    case TJ_TRAP_USER: return "user";
    case TJ_TRAP_HOST: return "host";
    default: return "?";
  }
}

int main(int argc, char** argv) {
  uint8_t* mem = calloc(tj_guest_memory_size ? tj_guest_memory_size : 1, 1);
  uint64_t* regs = calloc((size_t)MAX_DEPTH * REGS_PER_FRAME, sizeof(uint64_t));
  if (!mem || !regs) {
    fprintf(stderr, "tierjit: out of guest memory for the bytecode's linear memory\n");
    return 70;
  }
  TjCtx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.mem = mem;
  ctx.mem_size = tj_guest_memory_size;
  ctx.fuel = UINT64_MAX;
  ctx.max_depth = MAX_DEPTH;
  ctx.reg_limit = regs + (size_t)MAX_DEPTH * REGS_PER_FRAME;
  ctx.host_call = host_call;
  tj_init_memory(mem);
  for (int i = 1; i < argc && i - 1 < (int)REGS_PER_FRAME; ++i) {
    char* end;
    errno = 0;
    long long v = strtoll(argv[i], &end, 0);
    if (*argv[i] == 0 || *end != 0 || errno) {
      fprintf(stderr, "tierjit: program argument '%s' is not an integer\n", argv[i]);
      return 64;
    }
    regs[i - 1] = (uint64_t)v;
  }
  uint64_t v = tj_guest_entry(&ctx, regs);
  fflush(stdout);
  if (ctx.status == TJ_RUNNING) return (int)(v & 0xff);
  if (ctx.status == TJ_HALTED) return (int)(ctx.trap_code & 0xff);
  const char* fn = ctx.trap_fn < tj_guest_num_functions ? tj_guest_functions[ctx.trap_fn] : "?";
  fprintf(stderr, "tierjit: trap: %s at %s+%u", trap_name(ctx.status), fn, (unsigned)ctx.trap_pc);
  if (ctx.status == TJ_TRAP_USER) fprintf(stderr, " (code %" PRIu64 ")", ctx.trap_code);
  fprintf(stderr, "\n");
  return 100 + (int)ctx.status;
}
