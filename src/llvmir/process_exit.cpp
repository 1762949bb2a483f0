// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Process exit for JIT programs: the program's exit()/atexit()/__cxa_atexit() are served by
// the engine so that its handlers and destructors run in native order while LLVM is intact.
#include <cstdio>
#include <cstdlib>

#include "llvmir/internal/orc_impl.hpp"

extern "C" void* __dso_handle;  // NOLINT: the C runtime's per-DSO handle

namespace tierjit::llvmir {
namespace {
// Process exit for JIT programs. The program's exit() and atexit()/__cxa_atexit() are
// redirected here so that its handlers and llvm.global_dtors run, in the native order, while
// LLVM is still intact: function-local statics inside LLVM that were first used after an
// atexit() registration of ours would already be destroyed by the time libc ran it.
struct ExitRecord {
  void (*fn)(void*);
  void* arg;
};
std::mutex g_exit_mu;
std::vector<ExitRecord> g_exit_handlers;
std::atomic<OrcEngine*> g_exit_owner{nullptr};

void call_plain(void* fn) { reinterpret_cast<void (*)()>(fn)(); }
int tj_atexit(void (*fn)()) {
  std::lock_guard<std::mutex> lock(g_exit_mu);
  g_exit_handlers.push_back({&call_plain, reinterpret_cast<void*>(fn)});
  return 0;
}
int tj_cxa_atexit(void (*fn)(void*), void* arg, void*) {
  std::lock_guard<std::mutex> lock(g_exit_mu);
  g_exit_handlers.push_back({fn, arg});
  return 0;
}
[[noreturn]] void tj_exit(int status) {
  if (OrcEngine* owner = g_exit_owner.load()) owner->exit_process(status);
  std::exit(status);
}

}  // namespace

// Host functions the JIT program sees instead of libc's (and those glibc keeps in
// libc_nonshared.a, which dlsym cannot find).
const std::map<std::string, void*>& detail::host_shims() {
  static const std::map<std::string, void*> shims = {
      {"exit", reinterpret_cast<void*>(&tj_exit)},
      {"atexit", reinterpret_cast<void*>(&tj_atexit)},
      {"__cxa_atexit", reinterpret_cast<void*>(&tj_cxa_atexit)},
      {"at_quick_exit", reinterpret_cast<void*>(&::at_quick_exit)},
      {"__dso_handle", reinterpret_cast<void*>(&__dso_handle)},
  };
  return shims;
}

void OrcEngine::set_exit_hook(std::function<void(int)> hook) {
  impl_->exit_hook = std::move(hook);
  g_exit_owner.store(this);
}

void OrcEngine::exit_process(int status) {
  std::fflush(stdout);
  for (;;) {  // LIFO; handlers may register more handlers
    ExitRecord r;
    {
      std::lock_guard<std::mutex> lock(g_exit_mu);
      if (g_exit_handlers.empty()) break;
      r = g_exit_handlers.back();
      g_exit_handlers.pop_back();
    }
    r.fn(r.arg);
  }
  run_destructors();
  // A tier-up compile still running must not race LLVM's static destructors, and waiting for
  // it would delay exit by up to one large compile: leave without them in that case.
  bool busy = impl_->stop_background(false);
  impl_->write_baseline_bundle();
  impl_->write_bundle();
  if (impl_->exit_hook) impl_->exit_hook(status);
  g_exit_owner.store(nullptr);
  if (busy) {
    std::fflush(nullptr);
    std::_Exit(status);
  }
  std::exit(status);
}

}  // namespace tierjit::llvmir
