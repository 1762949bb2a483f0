/* SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception */
/* tierjit's C API: the library's parts behind opaque handles and plain C types, for embedders
 * in C and in every language with a C foreign-function interface (Rust, Go, Zig, Python's
 * ctypes). Link with libtierjit (pkg-config tierjit, or CMake find_package(tierjit) and the
 * target tierjit::tierjit).
 *
 * Conventions, for every function below:
 *  - Errors. A function that can fail returns `tierjit_error*`: NULL on success, else an error
 *    the caller owns and frees with tierjit_error_delete(). It carries a code (the same codes
 *    and exit statuses as the `tierjit` command) and a one-line message that names the input
 *    and, where there is one, the line and column ("prog.ll:3:7: expected type"). On failure
 *    out-parameters are left unchanged and nothing else is written.
 *  - Ownership. A handle returned through an out-parameter (`**out`) belongs to the caller,
 *    who frees it with the matching *_delete() (NULL is accepted and ignored). Strings
 *    returned as `char*` are the caller's, freed with tierjit_string_delete(); strings returned
 *    as `const char*` belong to the handle and stay valid as documented. Input pointers are
 *    only read during the call unless stated otherwise.
 *  - Threads. Distinct handles may be used from distinct threads at once. One handle is not
 *    safe to use from two threads at once unless its section says so. Errors and strings may
 *    be passed between threads.
 *  - ABI. Structs whose first member is `size` are versioned by it: set it to sizeof(the
 *    struct) as your header declares it (the *_init() helpers do), so that later releases can
 *    append members. Enumerations keep their values across releases.
 */
#ifndef TIERJIT_TIERJIT_H
#define TIERJIT_TIERJIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TIERJIT_API __attribute__((visibility("default")))
#else
#define TIERJIT_API
#endif

/* ---------------------------------------------------------------------------------------
 * Errors and versions
 * ------------------------------------------------------------------------------------- */

/** What kind of failure an error is; tierjit_error_exit_status() gives the `tierjit`
 *  command's exit status for it (BSD sysexits(3)). */
typedef enum tierjit_error_code {
  TIERJIT_ERROR_USAGE = 0,             /**< a bad argument or option (64) */
  TIERJIT_ERROR_INVALID_INPUT = 1,     /**< malformed IR, MLIR, ELF, shapes, buffers (65) */
  TIERJIT_ERROR_FILE_NOT_FOUND = 2,    /**< unreadable or missing file (66) */
  TIERJIT_ERROR_MISSING_ENTRY = 3,     /**< entry function not defined (67) */
  TIERJIT_ERROR_UNRESOLVED_SYMBOL = 4, /**< external symbol not found in the host (69) */
  TIERJIT_ERROR_COMPILE_FAILED = 5,    /**< code generation or linking failed (70) */
  TIERJIT_ERROR_CACHE_CORRUPT = 6,     /**< a cache entry failed verification (74) */
  TIERJIT_ERROR_IO = 7,                /**< a write failed (74) */
  TIERJIT_ERROR_UNSUPPORTED = 8,       /**< valid input tierjit cannot handle yet (69) */
  TIERJIT_ERROR_INTERNAL = 9           /**< a broken invariant: a tierjit bug (70) */
} tierjit_error_code;

typedef struct tierjit_error tierjit_error;

TIERJIT_API tierjit_error_code tierjit_error_get_code(const tierjit_error* error);
/** The located one-line message; valid until the error is deleted. */
TIERJIT_API const char* tierjit_error_message(const tierjit_error* error);
TIERJIT_API int tierjit_error_exit_status(const tierjit_error* error);
TIERJIT_API void tierjit_error_delete(tierjit_error* error);

/** Frees a string the library returned as `char*`. */
TIERJIT_API void tierjit_string_delete(char* string);

/** "0.1.0" (the library) and the LLVM it was built with ("22.1.0"); static strings. */
TIERJIT_API const char* tierjit_version(void);
TIERJIT_API const char* tierjit_llvm_version(void);

/* ---------------------------------------------------------------------------------------
 * Programs: `tierjit run` as a library (LLVM IR text, bitcode or LLBC)
 *
 * A program is loaded once and run once; it starts in the baseline tier and tiers up to O2
 * on a background thread (or runs at a fixed level). Its C library calls go to the host's.
 * If the program calls exit() itself, the process ends, as it would natively (after the
 * program's atexit handlers and destructors); a return from the entry is captured instead.
 * ------------------------------------------------------------------------------------- */

typedef struct tierjit_program_options {
  size_t size;            /**< sizeof(tierjit_program_options) */
  int opt_level;          /**< -1: tiered (default); 0..3: every function at that level */
  const char* thresholds; /**< tiered: "100" (-> O2) or "100,1000,10000"; NULL: "100" */
  const char* entry;      /**< NULL: the LLBC entry, else "main" */
  bool cache;             /**< use the persistent object cache (default true) */
  const char* cache_dir;  /**< NULL: TIERJIT_CACHE_DIR, XDG_CACHE_HOME or ~/.cache/tierjit */
  bool baseline;          /**< start functions in the baseline tier (default true) */
  bool osr;               /**< on-stack replacement of running loops (default true) */
  const char* trace_path; /**< NULL, or a Chrome trace-event JSON file written at the end */
} tierjit_program_options;

/** Fills `options` with the defaults of `tierjit run`. */
TIERJIT_API void tierjit_program_options_init(tierjit_program_options* options);

typedef struct tierjit_program tierjit_program;

/** Loads `path` (format detected from its bytes). `options` may be NULL (defaults).
 *  Errors: FILE_NOT_FOUND, INVALID_INPUT (located), MISSING_ENTRY, UNRESOLVED_SYMBOL,
 *  USAGE (bad thresholds), IO (trace path). */
TIERJIT_API tierjit_error* tierjit_program_load(const char* path,
                                                const tierjit_program_options* options,
                                                tierjit_program** out);
/** The same for bytes already in memory (copied); `name` names them in messages. */
TIERJIT_API tierjit_error* tierjit_program_load_bytes(const void* bytes, size_t length,
                                                      const char* name,
                                                      const tierjit_program_options* options,
                                                      tierjit_program** out);
/** Runs constructors, then the entry as main(argc, argv) (argv[0] is the program's name;
 *  argc may be 0), then destructors; *status receives the entry's return value. A program
 *  runs once: a second call is USAGE. Errors from lazy compilation: COMPILE_FAILED. */
TIERJIT_API tierjit_error* tierjit_program_run(tierjit_program* program, int argc,
                                               const char* const* argv, int* status);
/** The run's statistics as JSON (the schema of `tierjit run --stats=json`, documented in
 *  include/tierjit/engine.hpp); the caller frees it with tierjit_string_delete(). */
TIERJIT_API char* tierjit_program_stats_json(const tierjit_program* program);
/** Stops the background compiler and frees the program (its code is unmapped). */
TIERJIT_API void tierjit_program_delete(tierjit_program* program);

/* ---------------------------------------------------------------------------------------
 * The function JIT: compile LLVM IR snippets and call them
 *
 * A tierjit_jit keeps compiled modules by caller-chosen id (an LRU of `max_cached` entries)
 * and in the persistent object cache by content. Thread safety: one tierjit_jit may be used
 * from several threads at once; a compiled function may be called from any thread.
 * ------------------------------------------------------------------------------------- */

typedef struct tierjit_jit_options {
  size_t size;           /**< sizeof(tierjit_jit_options) */
  int opt_level;         /**< 0..3 (default 2) */
  bool cache;            /**< in-memory and persistent caches (default true) */
  const char* cache_dir; /**< NULL: the default directory */
  size_t max_cached;     /**< in-memory LRU capacity; 0 = unbounded (default 1000) */
} tierjit_jit_options;

TIERJIT_API void tierjit_jit_options_init(tierjit_jit_options* options);

typedef struct tierjit_jit tierjit_jit;
typedef struct tierjit_function tierjit_function;

TIERJIT_API tierjit_error* tierjit_jit_new(const tierjit_jit_options* options, tierjit_jit** out);
TIERJIT_API void tierjit_jit_delete(tierjit_jit* jit);
/** Compiles LLVM IR (text or bitcode, `length` bytes) under `id`; the entry is the first
 *  externally visible defined function. The same id with the same IR returns the cached
 *  code. Errors: INVALID_INPUT (line:col), MISSING_ENTRY, UNRESOLVED_SYMBOL, COMPILE_FAILED,
 *  USAGE. The function keeps its code mapped until tierjit_function_delete(), even after the
 *  jit is deleted or its cache cleared. */
TIERJIT_API tierjit_error* tierjit_jit_compile(tierjit_jit* jit, const char* ir, size_t length,
                                               const char* id, tierjit_function** out);
/** The entry's address: cast it to the function's C type to call it. */
TIERJIT_API void* tierjit_function_address(const tierjit_function* function);
/** The address of another function or global defined by the same IR, or NULL. */
TIERJIT_API void* tierjit_function_lookup(const tierjit_function* function, const char* symbol);
/** The entry's name; valid until the function is deleted. */
TIERJIT_API const char* tierjit_function_name(const tierjit_function* function);
/** Wall time of the compile in milliseconds (near 0 for a cache hit). */
TIERJIT_API double tierjit_function_compile_ms(const tierjit_function* function);
/** Whether the object came from the persistent cache. */
TIERJIT_API bool tierjit_function_from_cache(const tierjit_function* function);
TIERJIT_API void tierjit_function_delete(tierjit_function* function);

typedef struct tierjit_jit_stats {
  size_t size; /**< sizeof(tierjit_jit_stats), set by the caller */
  uint64_t compilations, successful, failed;
  uint64_t memory_hits, memory_misses; /**< in-memory cache by id */
  uint64_t disk_hits;                  /**< compiles answered by the persistent cache */
  double compile_ms;                   /**< total */
  size_t cached;                       /**< entries held now */
} tierjit_jit_stats;

/** Fills `stats` (whose `size` the caller set). */
TIERJIT_API void tierjit_jit_get_stats(const tierjit_jit* jit, tierjit_jit_stats* stats);
/** Drops every in-memory entry (functions already returned stay valid). */
TIERJIT_API void tierjit_jit_clear_cache(tierjit_jit* jit);

/* ---------------------------------------------------------------------------------------
 * The persistent object cache (shared by programs, the function JIT and StableHLO)
 * ------------------------------------------------------------------------------------- */

typedef struct tierjit_cache_usage {
  size_t size; /**< sizeof(tierjit_cache_usage), set by the caller */
  uint64_t entries, bytes;
} tierjit_cache_usage;

/** The default directory (TIERJIT_CACHE_DIR, else $XDG_CACHE_HOME/tierjit, else
 *  ~/.cache/tierjit); the caller frees it with tierjit_string_delete(). */
TIERJIT_API char* tierjit_cache_default_dir(void);
/** Entries and bytes in `dir` (NULL: the default). */
TIERJIT_API tierjit_error* tierjit_cache_usage_get(const char* dir, tierjit_cache_usage* usage);
/** Removes every entry in `dir` (NULL: the default). Errors: IO. */
TIERJIT_API tierjit_error* tierjit_cache_clear(const char* dir);

/* ---------------------------------------------------------------------------------------
 * Tensor kernels: fp32 GEMM and the row operations of small networks
 *
 * Shape-specialized AVX-512/AVX2 code is generated after `compile_threshold` calls of one
 * shape; below it a generic kernel runs. Buffers are dense and row-major unless stated; no
 * buffer is kept after a call. Thread safety: one tierjit_kernels may be used from several
 * threads at once. Accuracy bounds: include/tierjit/kernels.hpp.
 * ------------------------------------------------------------------------------------- */

typedef struct tierjit_kernels tierjit_kernels;

typedef struct tierjit_kernels_options {
  size_t size;                /**< sizeof(tierjit_kernels_options) */
  uint32_t compile_threshold; /**< calls of a shape before its kernel is generated (100) */
  int threads;                /**< GEMM worker threads; 0 = one per core (default 1) */
  const char* isa;            /**< NULL: the best the CPU has; "scalar", "avx2", "avx512" */
} tierjit_kernels_options;

TIERJIT_API void tierjit_kernels_options_init(tierjit_kernels_options* options);
/** Errors: UNSUPPORTED (an ISA above the CPU's), USAGE (an unknown ISA name). */
TIERJIT_API tierjit_error* tierjit_kernels_new(const tierjit_kernels_options* options,
                                               tierjit_kernels** out);
TIERJIT_API void tierjit_kernels_delete(tierjit_kernels* kernels);
/** The ISA generated code uses ("avx512", ...); a static string. */
TIERJIT_API const char* tierjit_kernels_isa(const tierjit_kernels* kernels);
/** Totals and one line per profiled shape; freed with tierjit_string_delete(). */
TIERJIT_API char* tierjit_kernels_stats(const tierjit_kernels* kernels);

/** C = alpha op(A) op(B) + beta C (BLAS sgemm): op(A) is m x k, op(B) k x n, C m x n.
 *  `col_major` selects column-major storage; lda/ldb/ldc count elements between rows
 *  (row-major) or columns (column-major) as stored. beta = 0: C is not read. Errors
 *  (INVALID_INPUT, nothing written): negative dimensions, a leading dimension below the
 *  stored row length, NULL buffers with non-zero sizes, C overlapping A or B. */
TIERJIT_API tierjit_error* tierjit_sgemm(tierjit_kernels* kernels, bool col_major, bool trans_a,
                                         bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                         const float* a, int64_t lda, const float* b, int64_t ldb,
                                         float beta, float* c, int64_t ldc);

typedef enum tierjit_unary_op {
  TIERJIT_RELU = 0,
  TIERJIT_EXP = 1,
  TIERJIT_TANH = 2,
  TIERJIT_SIGMOID = 3,
  TIERJIT_GELU = 4
} tierjit_unary_op;
typedef enum tierjit_binary_op {
  TIERJIT_ADD = 0,
  TIERJIT_SUB = 1,
  TIERJIT_MUL = 2,
  TIERJIT_DIV = 3,
  TIERJIT_MAX = 4,
  TIERJIT_MIN = 5
} tierjit_binary_op;
typedef enum tierjit_reduce_op {
  TIERJIT_REDUCE_SUM = 0,
  TIERJIT_REDUCE_MAX = 1,
  TIERJIT_REDUCE_MEAN = 2
} tierjit_reduce_op;

/** y[i] = op(x[i]) for i < n; y may be x. */
TIERJIT_API tierjit_error* tierjit_unary(tierjit_kernels* kernels, tierjit_unary_op op, int64_t n,
                                         const float* x, float* y);
/** y = a op b with NumPy broadcasting (ranks 0..8); y has the broadcast shape. Errors:
 *  INVALID_INPUT for incompatible shapes (named), a partly overlapping output. */
TIERJIT_API tierjit_error* tierjit_binary(tierjit_kernels* kernels, tierjit_binary_op op,
                                          const int64_t* a_shape, size_t a_rank, const float* a,
                                          const int64_t* b_shape, size_t b_rank, const float* b,
                                          float* y);
/** y = the reduction of x along `axis` (negative: from the end); y drops that axis. */
TIERJIT_API tierjit_error* tierjit_reduce(tierjit_kernels* kernels, tierjit_reduce_op op,
                                          const int64_t* shape, size_t rank, int axis,
                                          const float* x, float* y);
/** Softmax along each row of a rows x cols matrix. */
TIERJIT_API tierjit_error* tierjit_softmax(tierjit_kernels* kernels, int64_t rows, int64_t cols,
                                           const float* x, float* y);
/** Layer normalization along each row; gamma and beta (cols elements) may be NULL. */
TIERJIT_API tierjit_error* tierjit_layer_norm(tierjit_kernels* kernels, int64_t rows, int64_t cols,
                                              const float* x, const float* gamma, const float* beta,
                                              float eps, float* y);

/* ---------------------------------------------------------------------------------------
 * StableHLO: parse a module (MLIR text as JAX exports it), compile it, run it on buffers
 *
 * Thread safety: a module runs one call at a time (not reentrant); use one per thread.
 * ------------------------------------------------------------------------------------- */

typedef enum tierjit_dtype {
  TIERJIT_BOOL = 0,
  TIERJIT_I8 = 1,
  TIERJIT_I16 = 2,
  TIERJIT_I32 = 3,
  TIERJIT_I64 = 4,
  TIERJIT_U8 = 5,
  TIERJIT_U16 = 6,
  TIERJIT_U32 = 7,
  TIERJIT_U64 = 8,
  TIERJIT_F16 = 9,
  TIERJIT_BF16 = 10,
  TIERJIT_F32 = 11,
  TIERJIT_F64 = 12,
  TIERJIT_I2 = 13, /* 2- and 4-bit integers: one per byte, sign- or zero-extended */
  TIERJIT_I4 = 14,
  TIERJIT_U2 = 15,
  TIERJIT_U4 = 16,
  TIERJIT_C64 = 17,  /* complex<f32>: real, then imaginary part (8 bytes) */
  TIERJIT_C128 = 18, /* complex<f64>: real, then imaginary part (16 bytes) */
  /* Small floats, one per byte (their bits): OCP FP8 and microscaling formats */
  TIERJIT_F4E2M1FN = 19,
  TIERJIT_F6E2M3FN = 20,
  TIERJIT_F6E3M2FN = 21,
  TIERJIT_F8E3M4 = 22,
  TIERJIT_F8E4M3 = 23,
  TIERJIT_F8E4M3FN = 24,
  TIERJIT_F8E4M3FNUZ = 25,
  TIERJIT_F8E4M3B11FNUZ = 26,
  TIERJIT_F8E5M2 = 27,
  TIERJIT_F8E5M2FNUZ = 28,
  TIERJIT_F8E8M0FNU = 29
} tierjit_dtype;

/** A dense row-major tensor in caller-owned memory: `bytes` must be the element count times
 *  the element size (bool: one byte, 0 or 1; f16/bf16: their 16-bit encodings). */
typedef struct tierjit_tensor {
  tierjit_dtype dtype;
  size_t rank;
  const int64_t* shape; /**< rank dimensions */
  void* data;
  size_t bytes;
} tierjit_tensor;

typedef struct tierjit_stablehlo tierjit_stablehlo;

/** Parses MLIR text (`length` bytes); `file` names it in messages. Errors: INVALID_INPUT
 *  "FILE:LINE:COL: ...". */
TIERJIT_API tierjit_error* tierjit_stablehlo_parse(const char* text, size_t length,
                                                   const char* file, tierjit_stablehlo** out);
TIERJIT_API void tierjit_stablehlo_delete(tierjit_stablehlo* module);
/** Chooses native code (true, the default) or the reference evaluator (false). */
TIERJIT_API void tierjit_stablehlo_set_compiled(tierjit_stablehlo* module, bool compiled);
/** Compiles `entry` now (else the first run does); *ms receives the compile time (may be
 *  NULL). Errors: MISSING_ENTRY, UNSUPPORTED (located), COMPILE_FAILED. */
TIERJIT_API tierjit_error* tierjit_stablehlo_compile(tierjit_stablehlo* module, const char* entry,
                                                     double* ms);
/** The number of arguments of `entry`, and argument i's dtype and rank; its dimensions are
 *  written to `shape` (room for `max_rank`). Errors: MISSING_ENTRY, USAGE (i or max_rank). */
TIERJIT_API tierjit_error* tierjit_stablehlo_arity(const tierjit_stablehlo* module,
                                                   const char* entry, size_t* count);
TIERJIT_API tierjit_error* tierjit_stablehlo_argument(const tierjit_stablehlo* module,
                                                      const char* entry, size_t i,
                                                      tierjit_dtype* dtype, size_t* rank,
                                                      int64_t* shape, size_t max_rank);
/** Runs `entry` on `inputs` and writes its results into `outputs`, whose dtype, shape and
 *  byte size must match each result (INVALID_INPUT naming the first mismatch, with nothing
 *  written). Errors also: MISSING_ENTRY, INVALID_INPUT (argument mismatch, a failed check),
 *  UNSUPPORTED, COMPILE_FAILED, located. */
TIERJIT_API tierjit_error* tierjit_stablehlo_run(tierjit_stablehlo* module, const char* entry,
                                                 const tierjit_tensor* inputs, size_t n_inputs,
                                                 tierjit_tensor* outputs, size_t n_outputs);

/* ---------------------------------------------------------------------------------------
 * The RISC-V sandbox: run riscv64 Linux ELF executables and call their functions
 *
 * Thread safety: one sandbox runs one call at a time; distinct sandboxes run in parallel.
 * Guests are contained (memory, instruction budget, system calls); see
 * include/tierjit/sandbox.hpp for the system-call surface and the fault kinds.
 * ------------------------------------------------------------------------------------- */

typedef struct tierjit_sandbox_limits {
  size_t size;               /**< sizeof(tierjit_sandbox_limits) */
  uint64_t max_memory;       /**< bytes of guest address space (64 MiB) */
  uint64_t stack_size;       /**< bytes at its top (1 MiB) */
  uint64_t max_instructions; /**< per run or vmcall before the guest is stopped */
  bool strict;               /**< an unimplemented system call faults (else -ENOSYS) */
  bool interpret;            /**< interpreter only (else translated code) */
  bool allow_stdin;          /**< read(0) reads the host's stdin */
} tierjit_sandbox_limits;

TIERJIT_API void tierjit_sandbox_limits_init(tierjit_sandbox_limits* limits);

typedef enum tierjit_stop_reason {
  TIERJIT_STOP_EXITED = 0,   /**< exit/exit_group: exit_code */
  TIERJIT_STOP_RETURNED = 1, /**< a vmcall returned: value, fvalue */
  TIERJIT_STOP_FAULT = 2,    /**< the sandbox refused something: fault, pc, addr, message */
  TIERJIT_STOP_BUDGET = 3    /**< max_instructions ran out */
} tierjit_stop_reason;

typedef struct tierjit_sandbox_result {
  size_t size; /**< sizeof(tierjit_sandbox_result), set by the caller */
  tierjit_stop_reason reason;
  int exit_code;
  uint64_t value;         /**< a0 */
  double fvalue;          /**< fa0 as a double */
  uint64_t instructions;  /**< retired by this call */
  int fault;              /**< 0: none; else the FaultKind (include/tierjit/sandbox.hpp) */
  const char* fault_name; /**< "store-fault", ...: a static string */
  uint64_t pc, addr;
  /** One line ("exited with status 3", "fault: ..."); valid until the sandbox's next call. */
  const char* message;
} tierjit_sandbox_result;

typedef struct tierjit_sandbox tierjit_sandbox;

/** Loads a riscv64 ELF executable (copied); `name` names it in messages. `limits` may be NULL.
 *  Errors: INVALID_INPUT naming the offending header or segment. */
TIERJIT_API tierjit_error* tierjit_sandbox_load(const void* elf, size_t length, const char* name,
                                                const tierjit_sandbox_limits* limits,
                                                tierjit_sandbox** out);
TIERJIT_API void tierjit_sandbox_delete(tierjit_sandbox* sandbox);
/** Runs from the entry point with argv (argv[0] first) until exit, fault or budget. */
TIERJIT_API void tierjit_sandbox_run(tierjit_sandbox* sandbox, int argc, const char* const* argv,
                                     tierjit_sandbox_result* result);

/** A vmcall argument: integers and pointers go to a0..a7, floating point to fa0..fa7. */
typedef enum tierjit_arg_kind {
  TIERJIT_ARG_INT = 0, /**< `i`: an integer or a guest pointer */
  TIERJIT_ARG_F32 = 1, /**< `d` rounded to float (NaN-boxed in the register) */
  TIERJIT_ARG_F64 = 2  /**< `d` */
} tierjit_arg_kind;
typedef struct tierjit_sandbox_arg {
  tierjit_arg_kind kind;
  uint64_t i;
  double d;
} tierjit_sandbox_arg;

/** Calls the guest function at `address` (usually after a run, so its C library is set up). */
TIERJIT_API void tierjit_sandbox_vmcall(tierjit_sandbox* sandbox, uint64_t address,
                                        const tierjit_sandbox_arg* args, size_t n_args,
                                        tierjit_sandbox_result* result);
/** The address of an ELF symbol, or 0. */
TIERJIT_API uint64_t tierjit_sandbox_symbol(const tierjit_sandbox* sandbox, const char* name);
/** Checked copies (false: some byte is outside the guest's writable / readable memory). */
TIERJIT_API bool tierjit_sandbox_write(tierjit_sandbox* sandbox, uint64_t address, const void* data,
                                       size_t n);
TIERJIT_API bool tierjit_sandbox_read(const tierjit_sandbox* sandbox, uint64_t address, void* out,
                                      size_t n);
/** Grows the guest heap by n bytes; returns their address, or 0 when memory is exhausted. */
TIERJIT_API uint64_t tierjit_sandbox_alloc(tierjit_sandbox* sandbox, size_t n);
/** Restores memory, registers and heap to their state right after load. */
TIERJIT_API void tierjit_sandbox_reset(tierjit_sandbox* sandbox);
/** Lets the guest read the host file `path` (exactly that path). Errors: FILE_NOT_FOUND. */
TIERJIT_API tierjit_error* tierjit_sandbox_allow_read(tierjit_sandbox* sandbox, const char* path);
/** Maps the host directory `host_dir` as `guest_dir` (NULL: the same path), read-only unless
 *  `writable`; resolution never leaves it. Errors: FILE_NOT_FOUND, USAGE. */
TIERJIT_API tierjit_error* tierjit_sandbox_allow_dir(tierjit_sandbox* sandbox, const char* host_dir,
                                                     const char* guest_dir, bool writable);
/** The guest's environment: `count` "KEY=VALUE" strings (default: none). */
TIERJIT_API void tierjit_sandbox_set_environment(tierjit_sandbox* sandbox, const char* const* env,
                                                 size_t count);

/** What a host function sees while the guest waits in its ecall. */
typedef struct tierjit_host_call tierjit_host_call;
/** A host function: runs on the thread that called run/vmcall; `user` as registered. */
typedef void (*tierjit_host_function)(tierjit_host_call* call, void* user);

/** Registers host function `number` (500..599): the guest calls it with ecall, a7 = number.
 *  `user` is passed back unchanged and must stay valid while the sandbox lives.
 *  Errors: USAGE for a number outside the range. */
TIERJIT_API tierjit_error* tierjit_sandbox_register_host_function(tierjit_sandbox* sandbox,
                                                                  int number,
                                                                  tierjit_host_function fn,
                                                                  void* user);
TIERJIT_API uint64_t tierjit_host_call_arg(const tierjit_host_call* call, int i); /**< a0..a5 */
TIERJIT_API double tierjit_host_call_farg(const tierjit_host_call* call, int i);  /**< fa0..fa7 */
TIERJIT_API void tierjit_host_call_set_result(tierjit_host_call* call, uint64_t value);
/** Checked guest memory access; false (and the call then faults) when outside. */
TIERJIT_API bool tierjit_host_call_read(tierjit_host_call* call, uint64_t address, void* out,
                                        size_t n);
TIERJIT_API bool tierjit_host_call_write(tierjit_host_call* call, uint64_t address,
                                         const void* data, size_t n);
/** Fails the call: the guest stops with a host-call fault and `message`. */
TIERJIT_API void tierjit_host_call_fail(tierjit_host_call* call, const char* message);

#ifdef __cplusplus
}
#endif

#endif /* TIERJIT_TIERJIT_H */
