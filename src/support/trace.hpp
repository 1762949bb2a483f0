// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// A recorder of Chrome trace events (`tierjit run --trace FILE.json`): the JSON object format
// that chrome://tracing, Perfetto and LLVM's -ftime-trace use ("Trace Event Format",
// Google, docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).
//
// Events: complete ("ph":"X", a start and a duration), instant ("ph":"i", thread scope) and
// thread names ("ph":"M"). Times are microseconds since the recorder was made (steady
// clock); "pid" is the process id, "tid" the kernel thread id of the recording thread.
//
// Thread safety: every member may be called from any thread (JIT code and the tier-up
// worker included); events are appended under one mutex. The file is opened when the recorder
// is made (so a path that cannot be written fails before the program runs) and written whole
// by write().
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "support/error.hpp"

namespace tierjit::trace {

/// One "args" entry of an event: a string or a number.
struct Arg {
  std::string key;
  std::variant<std::string, int64_t, double> value;
};

class Recorder {
 public:
  /// Opens `path` for writing (truncating it). Errors: kIo with the path and the reason.
  static Expected<std::unique_ptr<Recorder>> open(const std::string& path);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  using Clock = std::chrono::steady_clock;
  /// Microseconds from the recorder's start to `t`.
  double micros(Clock::time_point t) const;

  /// A complete event from `start` to `end` on the calling thread.
  void complete(std::string name, std::string_view category, Clock::time_point start,
                Clock::time_point end, std::vector<Arg> args = {});
  /// An instant event now, on the calling thread.
  void instant(std::string name, std::string_view category, std::vector<Arg> args = {});
  /// Names the calling thread in the trace (shown instead of its id).
  void name_thread(std::string name);

  /// Writes every event recorded so far as {"traceEvents": [...], "displayTimeUnit": "ms"}
  /// and closes the file; later calls do nothing. Errors: kIo.
  Status write();
  /// Events recorded so far.
  size_t size() const;

 private:
  struct Event {
    std::string name, category;
    char phase;
    double ts, dur;
    int64_t tid;
    std::vector<Arg> args;
  };
  Recorder(std::string path, std::FILE* file);

  std::string path_;
  std::FILE* file_;
  Clock::time_point start_ = Clock::now();
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

}  // namespace tierjit::trace
