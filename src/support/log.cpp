// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Channel-filtered debug log to stderr.
#include "support/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace tierjit {

std::atomic<unsigned> g_log_channels{0};

namespace {
struct EnvInit {
  EnvInit() {
    if (const char* e = std::getenv("TJ_DEBUG")) enable_log_channels(e);
  }
} g_env_init;

const char* channel_name(Channel ch) {
  switch (ch) {
    case Channel::kTier:
      return "tier";
    case Channel::kCache:
      return "cache";
    case Channel::kLazy:
      return "lazy";
    case Channel::kLink:
      return "link";
  }
  return "?";
}
}  // namespace

void enable_log_channels(std::string_view list) {
  unsigned mask = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    if (name == "tier") mask |= unsigned(Channel::kTier);
    if (name == "cache") mask |= unsigned(Channel::kCache);
    if (name == "lazy") mask |= unsigned(Channel::kLazy);
    if (name == "link") mask |= unsigned(Channel::kLink);
    if (name == "all") mask |= 0xffu;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  g_log_channels.fetch_or(mask);
}

void log_line(Channel ch, const std::string& text) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "[tierjit:%s] %s\n", channel_name(ch), text.c_str());
}

}  // namespace tierjit
