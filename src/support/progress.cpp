// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "support/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tierjit {

bool Progress::enabled() {
  static const bool on = [] {
    const char* off = std::getenv("TIERJIT_NO_PROGRESS");
    const char* term = std::getenv("TERM");
    return ::isatty(2) == 1 && !(off && *off && std::strcmp(off, "0") != 0) &&
           !(term && std::strcmp(term, "dumb") == 0);
  }();
  return on;
}

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), on_(enabled()) {
  if (on_ && total_ == 0)
    ticker_ = std::thread([this] {
      while (!stop_.load()) {
        draw(0, true);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
}

Progress::~Progress() {
  if (!on_) return;
  stop_ = true;
  if (ticker_.joinable()) ticker_.join();
  std::fprintf(stderr, "\r\033[K");  // erase the line: what follows starts clean
  std::fflush(stderr);
}

void Progress::clear() {
  if (!on_) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  last_ = {};
}

void Progress::update(uint64_t done) {
  if (on_) draw(done, total_ != 0 && done >= total_);
}

void Progress::draw(uint64_t done, bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  if (total_ == 0) {
    double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s %.1f s\033[K", label_.c_str(), s);
  } else {
    constexpr int kWidth = 30;
    int filled = int(kWidth * std::min(done, total_) / total_);
    char bar[kWidth + 1];
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
    bar[kWidth] = 0;
    std::fprintf(stderr, "\r%s [%s] %llu/%llu\033[K", label_.c_str(), bar,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_));
  }
  std::fflush(stderr);
}

}  // namespace tierjit
