// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The tier-up service every tiering engine shares (the bytecode VM, the LLVM IR engine): a
// background compile queue with per-function deduplication, and the entry-cell protocol for
// installing new code.
//
// Tier-up protocol: running code counts heat and, on crossing a threshold, asks for a higher
// tier (request). The queue runs one compile at a time on its worker thread; the job installs
// the result by storing the new entry into the function's entry cell with release order, so
// every caller that loads the cell with acquire order jumps to complete code. Old code stays
// mapped until its owner can prove no frame runs it (a quiescent point).
//
// Thread safety: request(), requested(), mark_requested() may be called from any thread,
// including JIT code; drain() and stop() from any thread but the worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace tierjit::tierup {

/// Stores `code` into an entry cell (release order: the code is complete before any caller
/// can jump to it). Cells hold a code address as a pointer or as a 64-bit integer.
template <class Cell>
inline void install_entry(Cell& cell, Cell code) {
  std::atomic_ref<Cell>(cell).store(code, std::memory_order_release);
}
/// Installs `code` only if the cell still holds `expected` (a first compile must never
/// overwrite a newer tier installed meanwhile). Returns whether it did.
template <class Cell>
inline bool install_entry_if(Cell& cell, Cell expected, Cell code) {
  return std::atomic_ref<Cell>(cell).compare_exchange_strong(expected, code,
                                                             std::memory_order_acq_rel);
}
/// The code an entry cell holds now (acquire order).
template <class Cell>
inline Cell load_entry(Cell& cell) {
  return std::atomic_ref<Cell>(cell).load(std::memory_order_acquire);
}

/// fork(): a child process has no worker thread, so before a fork every queue waits for the
/// job in progress to finish and holds its locks (pthread_atfork); the parent then goes on,
/// the child's queues are stopped (its code stays at the tiers it had). No lock a job takes is
/// then held by a thread that does not exist in the child, so the child can still compile
/// lazily on its own threads.
class CompileQueue {
 public:
  /// Compiles function `fn` at tier `tier` and installs it; runs on the worker thread. A
  /// failure is the job's to record (engines count it in their --stats fallbacks).
  using Job = std::function<void(uint32_t fn, uint32_t tier)>;

  /// `functions`: the number of functions (ids 0..functions-1).
  CompileQueue(size_t functions, Job job);
  ~CompileQueue();
  CompileQueue(const CompileQueue&) = delete;
  CompileQueue& operator=(const CompileQueue&) = delete;

  /// Starts the worker thread (once). Requests made before are kept and run then.
  void start();
  /// Order of the queued requests: with a priority function the worker takes the request
  /// with the highest priority(fn) first (e.g. the hottest per unit of compile time), else in
  /// arrival order. Set before start(); called on the worker thread under the queue lock.
  void set_priority(std::function<uint64_t(uint32_t fn)> priority) {
    priority_ = std::move(priority);
  }
  /// Queues (fn, tier) when `tier` is above every tier requested for `fn` so far and the
  /// queue is not stopped; returns whether it did. Lock-free when there is nothing to do.
  bool request(uint32_t fn, uint32_t tier);
  /// The highest tier requested (or marked) for `fn`; 0 when none.
  uint32_t requested(uint32_t fn) const { return requested_[fn].load(std::memory_order_relaxed); }
  /// Records that `fn` already runs at `tier` (code from a cache or bundle), so requests up to
  /// it are ignored.
  void mark_requested(uint32_t fn, uint32_t tier);
  /// Blocks until every queued request has run (or the queue was stopped).
  void drain();
  /// Drops queued requests and ends the worker. With `wait` false and a compile still running,
  /// detaches the worker and returns true: the job will finish on its own, so the caller must
  /// keep what the job touches alive (the process is about to exit).
  bool stop(bool wait = true);
  /// Whether the calling thread is a queue's worker (a job must not drain() its own queue).
  static bool on_worker_thread();
  /// Requests run to completion so far.
  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }

 private:
  void work();

  Job job_;
  std::function<uint64_t(uint32_t)> priority_;
  std::unique_ptr<std::atomic<uint32_t>[]> requested_;
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::pair<uint32_t, uint32_t>> queue_;
  int in_flight_ = 0;  // queued + running
  bool stopping_ = false;
  bool running_ = false;                 // the worker has started (start() waits for it)
  std::mutex job_mu_;                    // held by the worker while a job runs
  std::unique_ptr<std::thread> worker_;  // released (never joined) in a forked child

  friend struct ForkGuard;
  std::atomic<uint64_t> completed_{0};
};

}  // namespace tierjit::tierup
