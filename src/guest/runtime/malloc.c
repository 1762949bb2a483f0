// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* tierjit guest heap: a size-class allocator over sbrk, replacing picolibc's first-fit
 * free list (whose free() walks the whole list: quadratic on allocation-heavy programs such
 * as a JavaScript engine). Single-threaded, like every guest.
 *
 * Small requests (<= 32 KiB) round up to one of 48 classes (16-byte steps to 256 bytes, then
 * four steps per power of two) and are served from per-class free lists, refilled from 64 KiB
 * chunks taken with sbrk. Larger requests get their own sbrk'd block and, when freed, go to a
 * first-fit list of large blocks that later large requests reuse. Every block carries a
 * 16-byte header (its usable size) so free/realloc know the class and pointers stay 16-byte
 * aligned, as the RISC-V psABI's malloc guarantee requires. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define ALIGN 16u
#define HEADER 16u
#define SMALL_MAX 32768u
#define CHUNK 65536u

struct free_block {
  struct free_block* next;
};
struct large_block {
  struct large_block* next;
  size_t size;
};

static struct free_block* free_lists[64];
static struct large_block* large_free;
static char* chunk_cur;
static char* chunk_end;

static unsigned class_of(size_t n, size_t* rounded) {
  if (n <= 256) {
    size_t r = (n + 15) & ~(size_t)15;
    if (r == 0) r = 16;
    *rounded = r;
    return (unsigned)(r / 16 - 1); /* 0..15 */
  }
  unsigned log = 63u - (unsigned)__builtin_clzl(n - 1); /* n in (2^log, 2^(log+1)] */
  size_t base = (size_t)1 << log, step = base / 4;
  size_t q = (n - base + step - 1) / step; /* 1..4 */
  *rounded = base + q * step;
  return 16 + (log - 8) * 4 + (unsigned)(q - 1);
}

static void* grab(size_t n) {
  void* p = sbrk((ptrdiff_t)n);
  return p == (void*)-1 ? NULL : p;
}

static void set_size(void* block, size_t usable) { *(size_t*)block = usable; }
static size_t get_size(const void* user) { return *(const size_t*)((const char*)user - HEADER); }

void* malloc(size_t n) {
  if (n > ((size_t)1 << 40)) {
    errno = ENOMEM;
    return NULL;
  }
  if (n <= SMALL_MAX) {
    size_t rounded;
    unsigned c = class_of(n, &rounded);
    struct free_block* b = free_lists[c];
    if (b) {
      free_lists[c] = b->next;
      return b;
    }
    size_t need = HEADER + rounded;
    if ((size_t)(chunk_end - chunk_cur) < need) {
      size_t take = need > CHUNK ? need : CHUNK;
      char* p = grab(take);
      if (!p) {
        errno = ENOMEM;
        return NULL;
      }
      if (p != chunk_end) chunk_cur = p; /* not contiguous: abandon the old tail */
      chunk_end = p + take;
    }
    char* block = chunk_cur;
    chunk_cur += need;
    set_size(block, rounded);
    return block + HEADER;
  }
  size_t rounded = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  for (struct large_block **pp = &large_free, *b; (b = *pp); pp = &b->next) {
    if (b->size >= rounded && b->size <= rounded * 2) {
      *pp = b->next;
      char* block = (char*)b;
      set_size(block, b->size);
      return block + HEADER;
    }
  }
  char* block = grab(HEADER + rounded);
  if (!block) {
    errno = ENOMEM;
    return NULL;
  }
  set_size(block, rounded);
  return block + HEADER;
}

void free(void* p) {
  if (!p) return;
  size_t size = get_size(p);
  if (size <= SMALL_MAX) {
    size_t rounded;
    unsigned c = class_of(size, &rounded);
    struct free_block* b = p;
    b->next = free_lists[c];
    free_lists[c] = b;
    return;
  }
  struct large_block* b = (struct large_block*)((char*)p - HEADER);
  b->size = size;
  b->next = large_free;
  large_free = b;
}

void* calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  void* p = malloc(n);
  if (p) memset(p, 0, n);
  return p;
}

void* realloc(void* p, size_t n) {
  if (!p) return malloc(n);
  if (n == 0) {
    free(p);
    return NULL;
  }
  size_t have = get_size(p);
  if (n <= have && (have <= SMALL_MAX || n > have / 2)) return p;
  void* q = malloc(n);
  if (!q) return NULL;
  memcpy(q, p, have < n ? have : n);
  free(p);
  return q;
}

size_t malloc_usable_size(void* p) { return p ? get_size(p) : 0; }

void* memalign(size_t align, size_t n) {
  if (align <= ALIGN) return malloc(n);
  /* Over-allocate and hand out an aligned pointer inside a large block of its own; the
   * header before it records the usable size from there to the end (free() then treats it
   * as a large block, which is what it is). */
  if ((align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  char* raw = grab(HEADER + n + align + SMALL_MAX);
  if (!raw) {
    errno = ENOMEM;
    return NULL;
  }
  uintptr_t user = ((uintptr_t)raw + HEADER + align - 1) & ~(uintptr_t)(align - 1);
  size_t usable = (size_t)((raw + HEADER + n + align + SMALL_MAX) - (char*)user);
  set_size((char*)user - HEADER, usable);
  return (void*)user;
}
void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void** out, size_t align, size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t n) { return memalign(4096, n); }
void* pvalloc(size_t n) { return memalign(4096, (n + 4095) & ~(size_t)4095); }
