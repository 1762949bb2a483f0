// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// perf's jitdump format: every piece of machine code a tier installs, with its bytes and (where
// the source has debug info) its line table, so that `perf record -k 1` + `perf inject --jit`
// turn JIT code into ELF images `perf report` and `perf annotate` understand.
//
// Format: "jitdump specification", Linux tools/perf/Documentation/jitdump-specification.txt:
// a file header (magic 'JiTD', version 1, ELF machine, pid, timestamp), then records of
// JIT_CODE_LOAD (pid, tid, address, size, an index, the NUL-terminated name, the code bytes)
// and JIT_CODE_DEBUG_INFO (address, then per line-table row: address, line, discriminator,
// file name), a debug record always before the load record it describes. Timestamps are
// CLOCK_MONOTONIC nanoseconds, which `perf record -k 1` (-k mono) also uses. The file is
// named jit-PID.dump and is mapped once PROT_READ|PROT_EXEC (never writable), which is how
// perf record finds it: the mapping appears as an MMAP event.
//
// Enabling: JitDump::enable(dir) (the CLI's --perf-jitdump), or the environment variable
// TIERJIT_PERF_JITDUMP=DIR (or =1 for the default directory) read on first use of get(). The
// default directory is $JITDUMPDIR, else ~/.debug/jit (perf's own convention), created if
// missing. Thread safety: every member may be called from any thread; records are appended
// under one lock, each whole.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "support/error.hpp"

namespace tierjit {

class JitDump {
 public:
  /// One row of a line table: code at `address` comes from `file`:`line`.
  struct Line {
    uint64_t address = 0;
    uint32_t line = 0;
    uint32_t discriminator = 0;
    std::string file;
  };

  /// Starts writing DIR/jit-PID.dump for this process (once; later calls return the same
  /// writer). `dir` empty: the default directory. Errors: kIo naming the path.
  static Expected<JitDump*> enable(const std::string& dir = "");
  /// The writer if enabled (by enable() or TIERJIT_PERF_JITDUMP), else nullptr. Cheap.
  static JitDump* get();

  /// A code load record for [code, code + size) executing at `address`, named `name`
  /// (`perf report` shows it as the symbol), preceded by `lines` if not empty.
  void code_load(std::string_view name, uint64_t address, const void* code, uint64_t size,
                 const std::vector<Line>& lines = {});
  /// The file written ("DIR/jit-PID.dump").
  const std::string& path() const { return path_; }
  /// Code load records written so far.
  uint64_t loads() const;

 private:
  JitDump() = default;
  Status open(const std::string& dir);
  void write(const void* data, size_t n);

  std::string path_;
  std::FILE* file_ = nullptr;
  mutable std::mutex mu_;
  uint64_t index_ = 0;
};

}  // namespace tierjit
