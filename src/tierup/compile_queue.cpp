// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "tierup/compile_queue.hpp"

#include <pthread.h>

#include <algorithm>
#include <vector>

namespace tierjit::tierup {

// Every live queue, for the fork handlers.
struct ForkGuard {
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::vector<CompileQueue*>& queues() {
    static std::vector<CompileQueue*> q;
    return q;
  }
  static void prepare() {
    mu().lock();
    for (CompileQueue* q : queues()) {
      q->job_mu_.lock();  // waits for the job in progress
      q->mu_.lock();
    }
  }
  static void parent() {
    for (CompileQueue* q : queues()) {
      q->mu_.unlock();
      q->job_mu_.unlock();
    }
    mu().unlock();
  }
  static std::vector<std::thread*>& orphans() {
    static auto* list = new std::vector<std::thread*>;  // never destroyed: see child()
    return *list;
  }
  static void child() {
    for (CompileQueue* q : queues()) {
      q->stopping_ = true;
      q->queue_.clear();
      q->in_flight_ = 0;
      // That thread does not exist here: never join it. Its handle stays reachable, so that
      // a leak checker in the child (LeakSanitizer) does not report it.
      orphans().push_back(q->worker_.release());
      q->mu_.unlock();
      q->job_mu_.unlock();
    }
    mu().unlock();
  }
  static void add(CompileQueue* q) {
    static std::once_flag once;
    std::call_once(once, [] { pthread_atfork(&prepare, &parent, &child); });
    std::lock_guard<std::mutex> lock(mu());
    queues().push_back(q);
  }
  static void remove(CompileQueue* q) {
    std::lock_guard<std::mutex> lock(mu());
    auto& v = queues();
    v.erase(std::remove(v.begin(), v.end(), q), v.end());
  }
};

CompileQueue::CompileQueue(size_t functions, Job job)
    : job_(std::move(job)), requested_(new std::atomic<uint32_t>[functions]) {
  for (size_t i = 0; i < functions; ++i) requested_[i].store(0, std::memory_order_relaxed);
  ForkGuard::add(this);
}

CompileQueue::~CompileQueue() {
  stop();
  ForkGuard::remove(this);
}

void CompileQueue::start() {
  std::unique_lock<std::mutex> lock(mu_);
  if (worker_ || stopping_) return;
  worker_ = std::make_unique<std::thread>([this] { work(); });
  // Returns once the thread runs our code: a fork() right after start() (a program that
  // forks first thing) then never finds it inside the C runtime's thread start-up.
  idle_cv_.wait(lock, [&] { return running_; });
}

bool CompileQueue::request(uint32_t fn, uint32_t tier) {
  uint32_t prev = requested_[fn].load(std::memory_order_relaxed);
  while (prev < tier) {
    if (requested_[fn].compare_exchange_weak(prev, tier)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
      queue_.emplace_back(fn, tier);
      in_flight_++;
      cv_.notify_one();
      return true;
    }
  }
  return false;
}

void CompileQueue::mark_requested(uint32_t fn, uint32_t tier) {
  uint32_t prev = requested_[fn].load(std::memory_order_relaxed);
  while (prev < tier && !requested_[fn].compare_exchange_weak(prev, tier)) {
  }
}

void CompileQueue::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return in_flight_ == 0 || stopping_; });
}

bool CompileQueue::stop(bool wait) {
  bool busy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    in_flight_ -= int(queue_.size());
    queue_.clear();
    busy = in_flight_ > 0;
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  if (!worker_ || !worker_->joinable()) return false;
  if (busy && !wait) {
    worker_->detach();
    return true;
  }
  worker_->join();
  return false;
}

namespace {
thread_local bool t_on_worker = false;
}

bool CompileQueue::on_worker_thread() { return t_on_worker; }

void CompileQueue::work() {
  t_on_worker = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  idle_cv_.notify_all();
  for (;;) {
    std::pair<uint32_t, uint32_t> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      auto pick = queue_.begin();
      if (priority_) {  // the most valuable request first; ties keep arrival order
        uint64_t best = 0;
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
          uint64_t p = priority_(it->first);
          if (it == queue_.begin() || p > best) best = p, pick = it;
        }
      }
      next = *pick;
      queue_.erase(pick);
    }
    {
      std::lock_guard<std::mutex> busy(job_mu_);
      job_(next.first, next.second);
    }
    completed_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_--;
    idle_cv_.notify_all();
  }
}

}  // namespace tierjit::tierup
