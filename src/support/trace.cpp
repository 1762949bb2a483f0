// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "support/trace.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace tierjit::trace {

namespace {
int64_t thread_id() {
  thread_local int64_t tid = int64_t(::syscall(SYS_gettid));
  return tid;
}

nlohmann::json to_json(const std::vector<Arg>& args) {
  nlohmann::json o = nlohmann::json::object();
  for (const Arg& a : args) std::visit([&](const auto& v) { o[a.key] = v; }, a.value);
  return o;
}
}  // namespace

Expected<std::unique_ptr<Recorder>> Recorder::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f)
    return make_error(ErrorCode::kIo,
                      "--trace: cannot write '" + path + "': " + std::strerror(errno));
  return std::unique_ptr<Recorder>(new Recorder(path, f));
}

Recorder::Recorder(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}

Recorder::~Recorder() {
  if (file_) std::fclose(file_);
}

double Recorder::micros(Clock::time_point t) const {
  return std::chrono::duration<double, std::micro>(t - start_).count();
}

void Recorder::complete(std::string name, std::string_view category, Clock::time_point start,
                        Clock::time_point end, std::vector<Arg> args) {
  Event e{std::move(name),
          std::string(category),
          'X',
          micros(start),
          std::chrono::duration<double, std::micro>(end - start).count(),
          thread_id(),
          std::move(args)};
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(e));
}

void Recorder::instant(std::string name, std::string_view category, std::vector<Arg> args) {
  Event e{std::move(name), std::string(category), 'i', micros(Clock::now()), 0,
          thread_id(),     std::move(args)};
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(e));
}

void Recorder::name_thread(std::string name) {
  Event e{"thread_name", "", 'M', 0, 0, thread_id(), {{"name", std::move(name)}}};
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(e));
}

size_t Recorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

Status Recorder::write() {
  using nlohmann::json;
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return {};
  const int64_t pid = ::getpid();
  json events = json::array();
  for (const Event& e : events_) {
    json j = {{"name", e.name}, {"ph", std::string(1, e.phase)}, {"pid", pid}, {"tid", e.tid}};
    if (e.phase != 'M') {
      j["cat"] = e.category;
      j["ts"] = e.ts;
    }
    if (e.phase == 'X') j["dur"] = e.dur;
    if (e.phase == 'i') j["s"] = "t";
    if (!e.args.empty()) j["args"] = to_json(e.args);
    events.push_back(std::move(j));
  }
  json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  std::string text = doc.dump(1);
  text += '\n';
  bool ok = std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (!ok) return make_error(ErrorCode::kIo, "--trace: writing '" + path_ + "' failed");
  return {};
}

}  // namespace tierjit::trace
