/* File access from a Linux guest (static glibc): each argument is a path to read (its size,
 * or the error) or, with a trailing '/', a directory to list (names sorted); then the
 * environment variable GREETING. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    size_t len = strlen(argv[i]);
    if (len > 1 && argv[i][len - 1] == '/') {
      DIR* d = opendir(argv[i]);
      if (!d) {
        printf("%s: %s\n", argv[i], strerror(errno));
        continue;
      }
      char* names[256];
      int n = 0;
      for (struct dirent* e; (e = readdir(d)) != NULL && n < 256;)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
      closedir(d);
      qsort(names, (size_t)n, sizeof names[0], by_name);
      printf("%s:", argv[i]);
      for (int k = 0; k < n; k++) printf(" %s", names[k]), free(names[k]);
      printf("\n");
      continue;
    }
    FILE* f = fopen(argv[i], "r");
    if (!f) {
      printf("%s: %s\n", argv[i], strerror(errno));
      continue;
    }
    long n = 0;
    while (fgetc(f) != EOF) n++;
    fclose(f);
    printf("%s: %ld bytes\n", argv[i], n);
  }
  const char* g = getenv("GREETING");
  printf("GREETING=%s\n", g ? g : "(unset)");
  return 0;
}
