// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// A small fork-join pool: run(n, fn) calls fn(0..n-1) across the workers and the caller and
// returns when all are done and every worker has finished with the job (so none can touch
// it afterwards). One job at a time (callers are serialized).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tierjit::kernels {

class ThreadPool {
 public:
  /// `threads` counts the caller: 1 means no worker threads.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }
  void run(int tasks, const std::function<void(int)>& fn);

 private:
  void worker_loop();
  void drain();

  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one job at a time
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  int finished_ = 0;  // workers done with the current generation
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace tierjit::kernels
