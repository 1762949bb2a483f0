// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// C++ exception handling through JIT code: throw/catch across functions (which tier up at
// different times), cleanups during unwinding, rethrow, nested try, function-try-blocks,
// exceptions thrown by the host's C++ library into JIT code, and std::terminate when
// nothing catches (argv[1] == "uncaught").
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

static int g_cleanups = 0;
struct Guard {
  const char* what;
  ~Guard() { ++g_cleanups; }
};

struct MyError : std::runtime_error {
  int code;
  MyError(const char* m, int c) : std::runtime_error(m), code(c) {}
};

__attribute__((noinline)) int leaf(int i) {
  Guard g{"leaf"};
  if (i % 7 == 3) throw MyError("leaf", i);
  if (i % 11 == 5) throw i;
  return i * 2;
}

__attribute__((noinline)) int middle(int i) {
  Guard g{"middle"};
  std::vector<int> v(3, i);  // destroyed on unwind
  return leaf(i) + v[1];
}

__attribute__((noinline)) int rethrower(int i) {
  try {
    return middle(i);
  } catch (const MyError& e) {
    if (e.code % 2) throw;  // rethrow the same object
    return -e.code;
  }
}

struct Ctor {
  int v;
  explicit Ctor(int x) try : v(leaf(x)) {
  } catch (...) {
    ++g_cleanups;  // function-try-block: rethrows implicitly
  }
};

static long loop(int n) {
  long sum = 0, caught_my = 0, caught_int = 0, caught_ctor = 0;
  for (int i = 0; i < n; ++i) {
    try {
      try {
        sum += rethrower(i);
      } catch (int x) {
        caught_int += x;
      }
    } catch (const MyError& e) {
      caught_my += e.code;
    }
    try {
      Ctor c(i);
      sum += c.v;
    } catch (const std::exception&) {
      ++caught_ctor;
    } catch (int) {
      ++caught_ctor;
    }
  }
  std::printf("sum %ld my %ld int %ld ctor %ld cleanups %d\n", sum, caught_my, caught_int,
              caught_ctor, g_cleanups);
  return sum;
}

static void library_throws() {
  int n = 0;
  try {
    std::stoi("not a number");
  } catch (const std::invalid_argument& e) {
    ++n;
  }
  try {
    std::vector<int> v;
    (void)v.at(5);
  } catch (const std::out_of_range&) {
    ++n;
  }
  try {
    std::map<std::string, int> m;
    (void)m.at("missing");
  } catch (const std::out_of_range&) {
    ++n;
  }
  try {
    auto p = std::make_unique<std::string>(std::string(10, 'x'));
    p->substr(100);
  } catch (const std::exception& e) {
    std::printf("what: %s\n", std::strstr(e.what(), "basic_string") ? "basic_string" : e.what());
    ++n;
  }
  std::printf("library exceptions caught: %d\n", n);
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "uncaught") == 0) {
    std::printf("about to throw\n");
    std::fflush(stdout);
    throw MyError("nobody catches this", 1);
  }
  library_throws();
  loop(200);
  return 0;
}
