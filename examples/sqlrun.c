// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* sqlrun: execute SQL against an SQLite database and print every result row.
 *
 *   sqlrun [-d DB] [SQL ...]     SQL from the arguments, else from stdin; DB default :memory:
 *
 * Rows print as `col|col|...`; errors print "error: ..." to stderr and exit 1.
 * A driver for tierjit's demo and tests: SQLite's amalgamation is real code nobody here wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

static int print_row(void *unused, int ncol, char **vals, char **names) {
  (void)unused;
  (void)names;
  for (int i = 0; i < ncol; i++) {
    if (i) putchar('|');
    fputs(vals[i] ? vals[i] : "NULL", stdout);
  }
  putchar('\n');
  return 0;
}

static char *read_all(FILE *f) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) buf = realloc(buf, cap *= 2);
  }
  if (buf) buf[len] = 0;
  return buf;
}

int main(int argc, char **argv) {
  const char *db_path = ":memory:";
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "-d") == 0) {
    db_path = argv[2];
    first = 3;
  }
  size_t total = 1;
  for (int i = first; i < argc; i++) total += strlen(argv[i]) + 1;
  char *sql;
  if (first < argc) {
    sql = malloc(total);
    sql[0] = 0;
    for (int i = first; i < argc; i++) {
      strcat(sql, argv[i]);
      strcat(sql, " ");
    }
  } else {
    sql = read_all(stdin);
  }
  if (!sql) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  sqlite3 *db;
  if (sqlite3_open(db_path, &db) != SQLITE_OK) {
    fprintf(stderr, "error: cannot open %s: %s\n", db_path, sqlite3_errmsg(db));
    return 1;
  }
  char *err = NULL;
  int rc = sqlite3_exec(db, sql, print_row, NULL, &err);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "error: %s\n", err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
  }
  sqlite3_close(db);
  free(sql);
  return rc == SQLITE_OK ? 0 : 1;
}
