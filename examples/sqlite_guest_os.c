// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* SQLite's OS layer for tierjit's riscv64 guests (SQLITE_OS_OTHER=1): the sandbox has no file
 * system, so this VFS serves in-memory databases only (":memory:", with SQLITE_TEMP_STORE=3
 * for temporary tables): opening a file fails with SQLITE_CANTOPEN; time comes from time()
 * (gettimeofday) and randomness from a fixed-seed generator (a sandboxed guest is
 * deterministic). Linked only into the riscv64 build of examples/sqlrun.c. */
#include <string.h>
#include <time.h>

#include "sqlite3.h"

static int guest_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                      int* out_flags) {
  (void)vfs, (void)name, (void)flags, (void)out_flags;
  file->pMethods = 0;
  return SQLITE_CANTOPEN;
}
static int guest_delete(sqlite3_vfs* vfs, const char* name, int sync) {
  (void)vfs, (void)name, (void)sync;
  return SQLITE_IOERR_DELETE;
}
static int guest_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  (void)vfs, (void)name, (void)flags;
  *out = 0;
  return SQLITE_OK;
}
static int guest_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  (void)vfs;
  sqlite3_snprintf(n, out, "%s", name);
  return SQLITE_OK;
}
static int guest_randomness(sqlite3_vfs* vfs, int n, char* out) {
  (void)vfs;
  static unsigned long long state = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = (char)(state >> 56);
  }
  return n;
}
static int guest_sleep(sqlite3_vfs* vfs, int us) {
  (void)vfs;
  return us;
}
static int guest_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  (void)vfs;
  /* Julian day number in milliseconds (the unix epoch is day 2440587.5). */
  *out = (sqlite3_int64)210866760000000ll + (sqlite3_int64)time(0) * 1000;
  return SQLITE_OK;
}
static int guest_current_time(sqlite3_vfs* vfs, double* out) {
  sqlite3_int64 ms;
  guest_current_time_int64(vfs, &ms);
  *out = ms / 86400000.0;
  return SQLITE_OK;
}
static int guest_last_error(sqlite3_vfs* vfs, int n, char* out) {
  (void)vfs, (void)n, (void)out;
  return 0;
}

static sqlite3_vfs guest_vfs = {
    2, 0, 512, 0, "tierjit-guest", 0, guest_open, guest_delete, guest_access,
    guest_full_pathname, 0, 0, 0, 0, guest_randomness, guest_sleep, guest_current_time,
    guest_last_error, guest_current_time_int64, 0, 0, 0};

int sqlite3_os_init(void) { return sqlite3_vfs_register(&guest_vfs, 1); }
int sqlite3_os_end(void) { return SQLITE_OK; }
