// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// File helpers.
#include "support/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace tierjit {

Expected<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::kFileNotFound, std::string("cannot open: ") + std::strerror(errno),
                      {path});
  // One allocation of the final size (inputs and cache entries are megabytes: growing a string
  // by appends copies them and faults in fresh pages each time).
  struct stat st;
  size_t expected = (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? size_t(st.st_size) : 0;
  std::string out;
  out.resize(expected ? expected : 1 << 16);
  size_t len = 0;
  char probe;  // a full buffer: one byte more, or the end (not a doubled buffer to learn it)
  for (;;) {
    bool full = len == out.size();
    ssize_t n = full ? ::read(fd, &probe, 1) : ::read(fd, out.data() + len, out.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return make_error(ErrorCode::kFileNotFound, std::string("cannot read: ") + std::strerror(err),
                        {path});
    }
    if (n == 0) break;
    if (full) {
      out.resize(out.size() * 2);
      out[len] = probe;
    }
    len += size_t(n);
  }
  ::close(fd);
  out.resize(len);
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorCode::kIo, std::string("cannot create: ") + std::strerror(errno), {tmp});
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(ErrorCode::kIo, std::string("cannot write: ") + std::strerror(err), {tmp});
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo,
                      std::string("cannot rename into place: ") + std::strerror(err), {path});
  }
  return {};
}

}  // namespace tierjit
