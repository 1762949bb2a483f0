/* SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception */
/* The C API from C: every part once on good input (results checked against values computed
 * here, independently of tierjit) and on bad input (codes, located messages, nothing
 * written). Usage: capi_test GUEST.elf CACHE_DIR; prints "ok"/"FAIL" lines, exits 1 on any
 * failure. Built against the build tree (ctest) and against an installed prefix
 * (tests/cli/install.sh). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tierjit/tierjit.h>

static int failures, checks;

#define CHECK(cond, ...)                          \
  do {                                            \
    ++checks;                                     \
    if (cond) {                                   \
      printf("ok   ");                            \
    } else {                                      \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      ++failures;                                 \
    }                                             \
    printf(__VA_ARGS__);                          \
    printf("\n");                                 \
  } while (0)

/* Takes an expected error: checks its code and that its message contains `part`. */
static void expect_error(tierjit_error* e, tierjit_error_code code, int exit_status,
                         const char* part, const char* what) {
  if (!e) {
    CHECK(0, "%s: no error", what);
    return;
  }
  const char* m = tierjit_error_message(e);
  CHECK(tierjit_error_get_code(e) == code && tierjit_error_exit_status(e) == exit_status &&
            strstr(m, part) != NULL,
        "%s: code %d, exit %d: %s", what, (int)tierjit_error_get_code(e),
        tierjit_error_exit_status(e), m);
  tierjit_error_delete(e);
}

/* Fails the check and frees the error if there is one. */
static int no_error(tierjit_error* e, const char* what) {
  if (!e) return 1;
  CHECK(0, "%s: %s", what, tierjit_error_message(e));
  tierjit_error_delete(e);
  return 0;
}

static const char kProgram[] =
    "declare i64 @strlen(ptr)\n"
    "define i32 @main(i32 %argc, ptr %argv) {\n"
    "  %p = getelementptr ptr, ptr %argv, i64 1\n"
    "  %s = load ptr, ptr %p\n"
    "  %n = call i64 @strlen(ptr %s)\n"
    "  %n32 = trunc i64 %n to i32\n"
    "  %t = mul i32 %argc, 10\n"
    "  %r = add i32 %t, %n32\n"
    "  ret i32 %r\n"
    "}\n";

static void test_programs(void) {
  tierjit_program_options o;
  tierjit_program_options_init(&o);
  o.cache = false;
  tierjit_program* p = NULL;
  if (no_error(tierjit_program_load_bytes(kProgram, sizeof kProgram - 1, "prog.ll", &o, &p),
               "program load")) {
    const char* argv[] = {"prog", "hello", "x"};
    int status = -1;
    if (no_error(tierjit_program_run(p, 3, argv, &status), "program run"))
      CHECK(status == 35, "program: main(3, {prog, hello, x}) returned %d (want 35)", status);
    char* json = tierjit_program_stats_json(p);
    CHECK(json && strstr(json, "tierjit-stats") != NULL, "program: stats JSON");
    tierjit_string_delete(json);
    expect_error(tierjit_program_run(p, 3, argv, &status), TIERJIT_ERROR_USAGE, 64, "runs once",
                 "program: second run");
    tierjit_program_delete(p);
  }
  p = NULL;
  static const char bad[] = "define i32 @main() {\n  ret i64 0\n}\n";
  expect_error(tierjit_program_load_bytes(bad, sizeof bad - 1, "bad.ll", &o, &p),
               TIERJIT_ERROR_INVALID_INPUT, 65, "bad.ll:2:", "program: invalid IR");
  CHECK(p == NULL, "program: no handle after an error");
  expect_error(tierjit_program_load("/nonexistent/prog.bc", &o, &p), TIERJIT_ERROR_FILE_NOT_FOUND,
               66, "/nonexistent/prog.bc", "program: missing file");
  static const char noentry[] = "define i32 @f() {\n  ret i32 0\n}\n";
  expect_error(tierjit_program_load_bytes(noentry, sizeof noentry - 1, "f.ll", &o, &p),
               TIERJIT_ERROR_MISSING_ENTRY, 67, "main", "program: no entry");
}

static void test_jit(const char* cache_dir) {
  tierjit_jit_options o;
  tierjit_jit_options_init(&o);
  o.cache_dir = cache_dir;
  tierjit_jit* jit = NULL;
  if (!no_error(tierjit_jit_new(&o, &jit), "jit new")) return;
  static const char ir[] =
      "@k = global i32 5\n"
      "define i32 @mad(i32 %a, i32 %b) {\n"
      "  %k = load i32, ptr @k\n"
      "  %m = mul i32 %a, %k\n"
      "  %s = add i32 %m, %b\n"
      "  ret i32 %s\n"
      "}\n";
  tierjit_function* f = NULL;
  if (no_error(tierjit_jit_compile(jit, ir, sizeof ir - 1, "mad", &f), "jit compile")) {
    int (*mad)(int, int);
    *(void**)&mad = tierjit_function_address(f);  // POSIX's idiom (dlsym)
    CHECK(mad && mad(7, 3) == 38, "jit: mad(7, 3) = %d (want 38)", mad ? mad(7, 3) : -1);
    CHECK(strcmp(tierjit_function_name(f), "mad") == 0, "jit: entry name %s",
          tierjit_function_name(f));
    int* k = (int*)tierjit_function_lookup(f, "k");
    CHECK(k && *k == 5, "jit: the global k is found");
    if (k) *k = 2;
    CHECK(mad(7, 3) == 17, "jit: the code reads the global it exported");
    CHECK(tierjit_function_lookup(f, "nothing") == NULL, "jit: unknown symbol is NULL");
  }
  tierjit_function* g = NULL;
  if (no_error(tierjit_jit_compile(jit, ir, sizeof ir - 1, "mad", &g), "jit compile again")) {
    tierjit_jit_stats s;
    s.size = sizeof s;
    tierjit_jit_get_stats(jit, &s);
    CHECK(s.memory_hits == 1 && s.cached == 1, "jit: same id and IR is an in-memory hit (%llu)",
          (unsigned long long)s.memory_hits);
    tierjit_function_delete(g);
  }
  static const char bad[] = "define i32 @f(i32 %a) {\n  %x = add i32 %a, %nope\n  ret i32 %x\n}\n";
  tierjit_function* h = NULL;
  expect_error(tierjit_jit_compile(jit, bad, sizeof bad - 1, "bad", &h),
               TIERJIT_ERROR_INVALID_INPUT, 65, ":2:", "jit: invalid IR");
  tierjit_jit_delete(jit);
  if (f) {  // the function outlives the jit that compiled it
    int (*mad)(int, int);
    *(void**)&mad = tierjit_function_address(f);
    CHECK(mad(1, 1) == 3, "jit: code stays mapped after the jit is deleted");
    tierjit_function_delete(f);
  }
  tierjit_cache_usage u;
  u.size = sizeof u;
  if (no_error(tierjit_cache_usage_get(cache_dir, &u), "cache usage"))
    CHECK(u.entries > 0 && u.bytes > 0, "cache: %llu entries, %llu bytes",
          (unsigned long long)u.entries, (unsigned long long)u.bytes);
  if (no_error(tierjit_cache_clear(cache_dir), "cache clear") &&
      no_error(tierjit_cache_usage_get(cache_dir, &u), "cache usage"))
    CHECK(u.entries == 0, "cache: empty after clear (%llu)", (unsigned long long)u.entries);
  char* dir = tierjit_cache_default_dir();
  CHECK(dir && dir[0] == '/', "cache: default directory %s", dir ? dir : "(null)");
  tierjit_string_delete(dir);
}

static float frand(unsigned* s) {
  *s = *s * 1103515245u + 12345u;
  return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void test_kernels(void) {
  tierjit_kernels_options o;
  tierjit_kernels_options_init(&o);
  o.compile_threshold = 0;  // generated code from the first call
  tierjit_kernels* k = NULL;
  if (!no_error(tierjit_kernels_new(&o, &k), "kernels new")) return;
  enum { M = 37, N = 29, K = 13 };
  static float a[M * K], b[K * N], c[M * N];
  unsigned seed = 7;
  for (int i = 0; i < M * K; ++i) a[i] = frand(&seed);
  for (int i = 0; i < K * N; ++i) b[i] = frand(&seed);
  for (int i = 0; i < M * N; ++i) c[i] = 1.0f;
  if (no_error(tierjit_sgemm(k, false, false, false, M, N, K, 2.0f, a, K, b, N, 0.5f, c, N),
               "sgemm")) {
    double worst = 0;
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double want = 0.5;
        for (int p = 0; p < K; ++p) want += 2.0 * a[i * K + p] * b[p * N + j];
        double err = fabs(want - c[i * N + j]);
        if (!(err <= worst)) worst = err;  // NaN makes worst NaN
      }
    CHECK(worst < 1e-4, "sgemm %dx%dx%d (%s): max error %g", M, N, K, tierjit_kernels_isa(k),
          worst);
  }
  float before = c[0];
  expect_error(tierjit_sgemm(k, false, false, false, -1, N, K, 1, a, K, b, N, 0, c, N),
               TIERJIT_ERROR_INVALID_INPUT, 65, "", "sgemm: negative m");
  CHECK(c[0] == before, "sgemm: nothing written on error");
  float x[6] = {-2, -0.5f, 0, 0.5f, 1, 3}, y[6];
  if (no_error(tierjit_unary(k, TIERJIT_RELU, 6, x, y), "relu"))
    CHECK(y[0] == 0 && y[1] == 0 && y[3] == 0.5f && y[5] == 3, "relu");
  int64_t as[2] = {2, 3}, bs[1] = {3};
  float bb[3] = {10, 20, 30};
  if (no_error(tierjit_binary(k, TIERJIT_ADD, as, 2, x, bs, 1, bb, y), "add"))
    CHECK(y[0] == 8 && y[4] == 21 && y[5] == 33, "add with broadcasting");
  int64_t bad_shape[1] = {4};
  expect_error(tierjit_binary(k, TIERJIT_ADD, as, 2, x, bad_shape, 1, bb, y),
               TIERJIT_ERROR_INVALID_INPUT, 65, "", "add: incompatible shapes");
  float r[2];
  if (no_error(tierjit_reduce(k, TIERJIT_REDUCE_SUM, as, 2, 1, x, r), "reduce"))
    CHECK(r[0] == -2.5f && r[1] == 4.5f, "reduce sum along axis 1: %g %g", r[0], r[1]);
  if (no_error(tierjit_softmax(k, 2, 3, x, y), "softmax")) {
    double s0 = y[0] + y[1] + y[2], s1 = y[3] + y[4] + y[5];
    double want = exp(-2.0) / (exp(-2.0) + exp(-0.5) + 1.0);
    CHECK(fabs(s0 - 1) < 1e-6 && fabs(s1 - 1) < 1e-6 && fabs(y[0] - want) < 1e-6,
          "softmax rows: %g %g, y0 %g (want %g)", s0, s1, y[0], want);
  }
  if (no_error(tierjit_layer_norm(k, 2, 3, x, NULL, NULL, 0, y), "layer_norm")) {
    double mean = (-2 - 0.5 + 0) / 3.0, var = 0;
    for (int i = 0; i < 3; ++i) var += (x[i] - mean) * (x[i] - mean) / 3.0;
    CHECK(fabs(y[0] - (x[0] - mean) / sqrt(var)) < 1e-5, "layer_norm row 0: %g", y[0]);
  }
  char* st = tierjit_kernels_stats(k);
  CHECK(st && strstr(st, "sgemm") != NULL, "kernel stats name the sgemm shape");
  tierjit_string_delete(st);
  tierjit_kernels_delete(k);
  tierjit_kernels* none = NULL;
  o.isa = "vax";
  expect_error(tierjit_kernels_new(&o, &none), TIERJIT_ERROR_USAGE, 64, "vax", "kernels: bad ISA");
}

static const char kModule[] =
    "func.func @main(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {\n"
    "  %0 = stablehlo.add %a, %b : tensor<2x3xf32>\n"
    "  %1 = stablehlo.multiply %0, %a : tensor<2x3xf32>\n"
    "  return %1 : tensor<2x3xf32>\n"
    "}\n";

static void test_stablehlo(void) {
  tierjit_stablehlo* m = NULL;
  if (!no_error(tierjit_stablehlo_parse(kModule, sizeof kModule - 1, "m.mlir", &m), "parse"))
    return;
  size_t n = 0, rank = 0;
  int64_t dims[4];
  tierjit_dtype dt;
  if (no_error(tierjit_stablehlo_arity(m, "main", &n), "arity") &&
      no_error(tierjit_stablehlo_argument(m, "main", 1, &dt, &rank, dims, 4), "argument"))
    CHECK(n == 2 && dt == TIERJIT_F32 && rank == 2 && dims[0] == 2 && dims[1] == 3,
          "signature: %zu arguments, f32[2x3]", n);
  float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, -1, 2, 0, 1, -6}, out[6];
  int64_t shape[2] = {2, 3};
  tierjit_tensor in[2] = {{TIERJIT_F32, 2, shape, a, sizeof a},
                          {TIERJIT_F32, 2, shape, b, sizeof b}};
  for (int compiled = 1; compiled >= 0; --compiled) {
    tierjit_stablehlo_set_compiled(m, compiled);
    memset(out, 0, sizeof out);
    tierjit_tensor o = {TIERJIT_F32, 2, shape, out, sizeof out};
    if (no_error(tierjit_stablehlo_run(m, "main", in, 2, &o, 1), "run")) {
      int same = 1;
      for (int i = 0; i < 6; ++i) same &= out[i] == (a[i] + b[i]) * a[i];
      CHECK(same, "stablehlo (%s): (a + b) * a", compiled ? "compiled" : "reference");
    }
  }
  int64_t wrong[2] = {3, 2};
  out[0] = 42;
  tierjit_tensor o = {TIERJIT_F32, 2, wrong, out, sizeof out};
  expect_error(tierjit_stablehlo_run(m, "main", in, 2, &o, 1), TIERJIT_ERROR_INVALID_INPUT, 65,
               "output 0 is f32[2x3]", "stablehlo: wrong output shape");
  CHECK(out[0] == 42, "stablehlo: nothing written on error");
  expect_error(tierjit_stablehlo_run(m, "nope", in, 2, &o, 1), TIERJIT_ERROR_MISSING_ENTRY, 67,
               "nope", "stablehlo: missing entry");
  tierjit_stablehlo_delete(m);
  static const char bad[] =
      "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
      "  %0 = stablehlo.add %a, %a : tensor<2xf32\n"
      "  return %0 : tensor<2xf32>\n"
      "}\n";
  tierjit_stablehlo* b2 = NULL;
  expect_error(tierjit_stablehlo_parse(bad, sizeof bad - 1, "bad.mlir", &b2),
               TIERJIT_ERROR_INVALID_INPUT, 65, "bad.mlir:2:37:", "stablehlo: malformed MLIR");
}

static void sum4(tierjit_host_call* call, void* user) {
  uint64_t s = 0;
  for (int i = 0; i < 4; ++i) s += tierjit_host_call_arg(call, i);
  ++*(int*)user;
  tierjit_host_call_set_result(call, s);
}

static void test_sandbox(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    CHECK(0, "sandbox: cannot open %s", path);
    return;
  }
  static char elf[1 << 22];
  size_t len = fread(elf, 1, sizeof elf, f);
  fclose(f);
  tierjit_sandbox* s = NULL;
  if (!no_error(tierjit_sandbox_load(elf, len, "api.elf", NULL, &s), "sandbox load")) return;
  tierjit_sandbox_result r;
  r.size = sizeof r;
  tierjit_sandbox_run(s, 0, NULL, &r);
  CHECK(r.reason == TIERJIT_STOP_EXITED && r.exit_code == 5, "sandbox run: %s", r.message);
  tierjit_sandbox_arg args[4] = {{TIERJIT_ARG_INT, 1, 0},
                                 {TIERJIT_ARG_INT, 2, 0},
                                 {TIERJIT_ARG_INT, 3, 0},
                                 {TIERJIT_ARG_INT, 4, 0}};
  tierjit_sandbox_vmcall(s, tierjit_sandbox_symbol(s, "add4"), args, 4, &r);
  CHECK(r.reason == TIERJIT_STOP_RETURNED && r.value == 30, "vmcall add4(1, 2, 3, 4) = %llu",
        (unsigned long long)r.value);
  tierjit_sandbox_arg fargs[2] = {{TIERJIT_ARG_F64, 0, 2.5}, {TIERJIT_ARG_F32, 0, 1.5}};
  tierjit_sandbox_vmcall(s, tierjit_sandbox_symbol(s, "scale"), fargs, 2, &r);
  CHECK(r.reason == TIERJIT_STOP_RETURNED && r.fvalue == 3.75, "vmcall scale(2.5, 1.5f) = %g",
        r.fvalue);
  unsigned char bytes[100];
  for (int i = 0; i < 100; ++i) bytes[i] = (unsigned char)i;
  uint64_t buf = tierjit_sandbox_alloc(s, sizeof bytes);
  CHECK(buf && tierjit_sandbox_write(s, buf, bytes, sizeof bytes), "guest buffer written");
  tierjit_sandbox_arg bargs[2] = {{TIERJIT_ARG_INT, buf, 0}, {TIERJIT_ARG_INT, 100, 0}};
  tierjit_sandbox_vmcall(s, tierjit_sandbox_symbol(s, "sum_bytes"), bargs, 2, &r);
  CHECK(r.value == 4950, "vmcall sum_bytes over guest memory = %llu", (unsigned long long)r.value);
  unsigned char back[4] = {0};
  CHECK(tierjit_sandbox_read(s, buf + 10, back, 4) && back[3] == 13, "guest memory read back");
  CHECK(!tierjit_sandbox_read(s, 8, back, 4), "a read of the null page is refused");
  int calls = 0;
  if (no_error(tierjit_sandbox_register_host_function(s, 577, sum4, &calls), "host function")) {
    tierjit_sandbox_vmcall(s, tierjit_sandbox_symbol(s, "call_unregistered"), NULL, 0, &r);
    CHECK(r.reason == TIERJIT_STOP_RETURNED && r.value == 10 && calls == 1,
          "host function 577 called from the guest: %llu", (unsigned long long)r.value);
  }
  expect_error(tierjit_sandbox_register_host_function(s, 42, sum4, &calls), TIERJIT_ERROR_USAGE, 64,
               "42", "sandbox: host function number outside 500..599");
  tierjit_sandbox_arg null_arg[1] = {{TIERJIT_ARG_INT, 0, 0}};
  tierjit_sandbox_vmcall(s, tierjit_sandbox_symbol(s, "load_at"), null_arg, 1, &r);
  CHECK(r.reason == TIERJIT_STOP_FAULT && strcmp(r.fault_name, "load-fault") == 0 && r.addr == 0,
        "a guest load from 0 faults: %s", r.message);
  tierjit_sandbox_delete(s);
  tierjit_sandbox_limits lim;
  tierjit_sandbox_limits_init(&lim);
  lim.interpret = true;
  lim.max_instructions = 100000;
  if (no_error(tierjit_sandbox_load(elf, len, "api.elf", &lim, &s), "sandbox load (limits)")) {
    tierjit_sandbox_run(s, 0, NULL, &r);
    tierjit_sandbox_vmcall(s, tierjit_sandbox_symbol(s, "spin"), NULL, 0, &r);
    CHECK(r.reason == TIERJIT_STOP_BUDGET && r.instructions == 100000,
          "the budget stops a spinning guest after exactly %llu instructions",
          (unsigned long long)r.instructions);
    tierjit_sandbox_delete(s);
  }
  s = NULL;
  expect_error(tierjit_sandbox_load("\x7f"
                                    "ELF",
                                    4, "short.elf", NULL, &s),
               TIERJIT_ERROR_INVALID_INPUT, 65, "short.elf", "sandbox: truncated ELF");
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: capi_test GUEST.elf CACHE_DIR\n");
    return 2;
  }
  CHECK(tierjit_version()[0] != '\0' && strncmp(tierjit_llvm_version(), "22", 2) == 0,
        "versions: tierjit %s, LLVM %s", tierjit_version(), tierjit_llvm_version());
  test_programs();
  test_jit(argv[2]);
  test_kernels();
  test_stablehlo();
  test_sandbox(argv[1]);
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
