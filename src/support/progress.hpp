// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Progress of long work on a terminal: a bar ("label [#####.....] 45/100") when the amount of
// work is known, else the label with the seconds elapsed, redrawn at most ten times a second
// on stderr and erased when done. Only when stderr is a terminal (isatty) and TERM is not
// "dumb"; silent otherwise (pipes, files, CI logs), so it never mixes into captured output.
// TIERJIT_NO_PROGRESS=1 turns it off. Thread safety: one thread drives one Progress; an
// indeterminate one redraws from its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace tierjit {

class Progress {
 public:
  /// `total` units of work (0: unknown, shows the time elapsed instead, from a ticker thread).
  Progress(std::string label, uint64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// `done` units are finished; redraws if a tenth of a second has passed (or all is done).
  void update(uint64_t done);
  /// Erases the bar's line (before other output to the terminal); the next update redraws.
  void clear();
  /// Whether progress is shown in this process (stderr is a terminal, ...).
  static bool enabled();

 private:
  void draw(uint64_t done, bool force);

  std::string label_;
  uint64_t total_;
  bool on_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::thread ticker_;
};

}  // namespace tierjit
