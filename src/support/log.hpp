// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Debug logging by channel: TJ_LOG(Channel::kTier, "fmt", args...). Channels are switched on
// with `--debug=tier,cache,lazy` or TJ_DEBUG=...; compiled out when TIERJIT_NO_LOG is defined.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

namespace tierjit {

enum class Channel : unsigned { kTier = 1, kCache = 2, kLazy = 4, kLink = 8 };

extern std::atomic<unsigned> g_log_channels;

/// Enables channels named in a comma list ("tier,cache,lazy,link,all"). Unknown names ignored.
void enable_log_channels(std::string_view list);
void log_line(Channel ch, const std::string& text);

}  // namespace tierjit

#ifdef TIERJIT_NO_LOG
#define TJ_LOG(ch, ...) ((void)0)
#else
#define TJ_LOG(ch, ...)                                                                        \
  do {                                                                                         \
    if (::tierjit::g_log_channels.load(std::memory_order_relaxed) & static_cast<unsigned>(ch)) \
      ::tierjit::log_line(ch, fmt::format(__VA_ARGS__));                                       \
  } while (0)
#endif
