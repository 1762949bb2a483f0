// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* jsrun: evaluate a JavaScript file with Duktape and print what it prints.
 *
 *   jsrun SCRIPT.js [ARGS...]    `print(...)` writes its arguments to stdout; `scriptArgs`
 *                                holds ARGS. An uncaught error prints its stack, exit 1.
 * A driver for tierjit's demo and tests: Duktape is a real engine nobody here wrote. */
#include <stdio.h>
#include <stdlib.h>

#include "duktape.h"

static duk_ret_t js_print(duk_context *ctx) {
  duk_idx_t n = duk_get_top(ctx);
  for (duk_idx_t i = 0; i < n; i++) {
    if (i) putchar(' ');
    fputs(duk_safe_to_string(ctx, i), stdout);
  }
  putchar('\n');
  return 0;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[n] = 0;
  *len = (size_t)n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: jsrun SCRIPT.js [ARGS...]\n");
    return 2;
  }
  size_t len;
  char *src = read_file(argv[1], &len);
  if (!src) {
    fprintf(stderr, "error: cannot read %s\n", argv[1]);
    return 1;
  }
  duk_context *ctx = duk_create_heap_default();
  duk_push_c_function(ctx, js_print, DUK_VARARGS);
  duk_put_global_string(ctx, "print");
  duk_idx_t arr = duk_push_array(ctx);
  for (int i = 2; i < argc; i++) {
    duk_push_string(ctx, argv[i]);
    duk_put_prop_index(ctx, arr, (duk_uarridx_t)(i - 2));
  }
  duk_put_global_string(ctx, "scriptArgs");
  duk_push_string(ctx, argv[1]);
  int rc = duk_pcompile_lstring_filename(ctx, 0, src, len);
  if (rc == 0) rc = duk_pcall(ctx, 0);
  if (rc != 0) {
    if (duk_is_error(ctx, -1)) {
      duk_get_prop_string(ctx, -1, "stack");
      fprintf(stderr, "error: %s\n", duk_safe_to_string(ctx, -1));
    } else {
      fprintf(stderr, "error: %s\n", duk_safe_to_string(ctx, -1));
    }
  }
  duk_destroy_heap(ctx);
  free(src);
  return rc == 0 ? 0 : 1;
}
