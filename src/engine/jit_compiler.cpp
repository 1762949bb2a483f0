// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// JitCompiler: the snippet API over ORC, with an id-keyed LRU and the object cache.
#include "tierjit/jit_compiler.hpp"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <atomic>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

#include "backend/codegen.hpp"
#include "backend/jit_session.hpp"
#include "llvmir/ir_loader.hpp"
#include "runtime/cache_key.hpp"
#include "runtime/object_cache.hpp"
#include "support/file.hpp"

namespace tierjit {
namespace orc = llvm::orc;

// One compiled snippet's code: a JITDylib of the process-wide session, removed with the last
// CompiledFunction that refers to it.
struct CodeHandle {
  backend::JitSession* session = nullptr;
  orc::JITDylib* jd = nullptr;
  ~CodeHandle() {
    if (session) session->remove(jd);
  }
};

void* CompiledFunction::lookup(const std::string& symbol) const {
  if (!code) return nullptr;
  auto addr = code->session->lookup(*code->jd, symbol);
  return addr.ok() ? addr.value() : nullptr;
}

struct JitCompiler::Impl {
  JitConfig cfg;
  backend::JitSession* session = nullptr;
  Error init_error;
  bool init_failed = false;
  std::unique_ptr<ObjectCache> disk;
  backend::TargetConfig target;
  mutable std::mutex mu;
  mutable std::list<std::shared_ptr<const CompiledFunction>> lru;  // front = most recent
  mutable std::unordered_map<std::string, decltype(lru)::iterator> index;
  CompilationStats stats;
  uint64_t disk_hits = 0;

  Hash128 snippet_key(std::string_view ir) const {
    return CacheKey("snippet")
        .add(ir)
        .add(backend::pipeline_name(cfg.optimization_level))
        .target(target.key())
        .finish();
  }

  // Object payload for `ir`: entry name, NUL, ELF object. From the disk cache when possible.
  Expected<std::string> build(std::string_view ir, const std::string& id, bool* from_disk) {
    Hash128 key = snippet_key(ir);
    if (disk) {
      if (auto payload = disk->load(key); payload && payload->find('\0') != std::string::npos) {
        *from_disk = true;
        return std::move(*payload);
      }
    }
    llvm::LLVMContext ctx;
    TJ_ASSIGN_OR_RETURN(llvmir::LoadedIr loaded,
                        llvmir::load_ir_bytes(std::string(ir), id, ctx, false));
    llvm::Module& m = *loaded.module;
    TJ_TRY(llvmir::verify_ir(m, id));
    std::string entry;
    for (llvm::Function& f : m.functions())
      if (!f.isDeclaration() && !f.hasLocalLinkage()) {
        entry = f.getName().str();
        break;
      }
    if (entry.empty())
      return make_error(ErrorCode::kMissingEntry, "the IR defines no externally visible function",
                        {id});
    TJ_ASSIGN_OR_RETURN(llvm::TargetMachine * tm,
                        backend::thread_target_machine(target, cfg.optimization_level));
    m.setDataLayout(tm->createDataLayout());
    TJ_ASSIGN_OR_RETURN(std::string obj,
                        backend::compile_to_object(m, *tm, cfg.optimization_level));
    std::string payload = entry + '\0' + obj;
    if (disk) disk->store(key, payload);
    if (cfg.cache_enabled && !cfg.work_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(cfg.work_dir, ec);
      std::string path = cfg.work_dir + "/" + key.hex() + ".o";
      if (!ec) (void)write_file_atomic(path, obj);
    }
    return payload;
  }

  Expected<std::shared_ptr<CodeHandle>> load(const std::string& obj, const std::string& id) {
    auto handle = std::make_shared<CodeHandle>();
    TJ_ASSIGN_OR_RETURN(handle->jd, session->create_dylib("snippet." + id));
    handle->session = session;
    if (Status st = session->add_object(*handle->jd, obj, id); !st.ok()) {
      Error e = st.error();
      e.where = SourceLoc{id};
      return e;
    }
    return handle;
  }
};

JitCompiler::JitCompiler(JitConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  impl_->target = backend::TargetConfig::host();
  auto session = backend::JitSession::get();
  if (!session) {
    impl_->init_failed = true;
    impl_->init_error = session.error();
  } else {
    impl_->session = *session;
  }
  if (impl_->cfg.cache_enabled) impl_->disk = std::make_unique<ObjectCache>(impl_->cfg.cache_dir);
}

JitCompiler::~JitCompiler() { clear_cache(); }

const JitConfig& JitCompiler::config() const { return impl_->cfg; }

Expected<std::shared_ptr<const CompiledFunction>> JitCompiler::compile_llvm_ir(
    std::string_view llvm_ir, const std::string& id) {
  Impl& s = *impl_;
  if (s.init_failed) return s.init_error;
  if (s.cfg.optimization_level < 0 || s.cfg.optimization_level > 3)
    return make_error(ErrorCode::kUsage, "optimization_level must be 0..3");
  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stats.total_compilations++;
    if (s.cfg.cache_enabled) {
      auto it = s.index.find(id);
      if (it != s.index.end() && (*it->second)->llvm_ir == llvm_ir) {
        s.lru.splice(s.lru.begin(), s.lru, it->second);
        s.stats.cache_hits++;
        s.stats.successful_compilations++;
        return *it->second;
      }
      s.stats.cache_misses++;
    }
  }
  bool from_disk = false;
  auto payload = s.build(llvm_ir, id, &from_disk);
  Expected<std::shared_ptr<CodeHandle>> handle =
      payload.ok() ? s.load(payload.value().substr(payload.value().find('\0') + 1), id)
                   : Expected<std::shared_ptr<CodeHandle>>(payload.error());
  std::shared_ptr<CompiledFunction> f;
  if (handle.ok()) {
    f = std::make_shared<CompiledFunction>();
    f->name = payload.value().substr(0, payload.value().find('\0'));
    f->code = handle.value();
    auto addr = s.session->lookup(*f->code->jd, f->name);
    if (addr) {
      f->function_pointer = addr.value();
    } else {
      std::string why = addr.error().message;
      bool missing = why.find("Symbols not found") != std::string::npos;
      handle = make_error(missing ? ErrorCode::kUnresolvedSymbol : ErrorCode::kCompileFailed,
                          "cannot link '" + f->name + "': " + why, {id});
    }
  }
  std::lock_guard<std::mutex> lock(s.mu);
  if (!handle.ok()) {
    s.stats.failed_compilations++;
    return handle.take_error();
  }
  f->id = id;
  f->llvm_ir = std::string(llvm_ir);
  f->compiled_at = std::chrono::system_clock::now();
  f->compilation_time_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  f->from_disk_cache = from_disk;
  if (s.cfg.cache_enabled && !s.cfg.work_dir.empty()) {
    // The same key as build()'s: the object file is named after it.
    f->native_code_path = s.cfg.work_dir + "/" + s.snippet_key(llvm_ir).hex() + ".o";
  }
  s.stats.successful_compilations++;
  s.stats.total_compilation_time_ms += f->compilation_time_ms;
  if (from_disk) s.disk_hits++;
  if (s.cfg.cache_enabled) {
    if (auto it = s.index.find(id); it != s.index.end()) {
      s.lru.erase(it->second);
      s.index.erase(it);
    }
    s.lru.push_front(f);
    s.index[id] = s.lru.begin();
    while (s.cfg.max_cached_functions && s.lru.size() > s.cfg.max_cached_functions) {
      s.index.erase(s.lru.back()->id);
      s.lru.pop_back();
    }
  }
  return std::shared_ptr<const CompiledFunction>(f);
}

CompilationStats JitCompiler::get_stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

CacheStatistics JitCompiler::get_cache_stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const CompilationStats& st = impl_->stats;
  CacheStatistics c;
  c.cache_size = impl_->lru.size();
  c.max_cache_size = impl_->cfg.max_cached_functions;
  c.total_compilations = st.total_compilations;
  c.successful_compilations = st.successful_compilations;
  c.failed_compilations = st.failed_compilations;
  c.cache_hits = st.cache_hits;
  c.cache_misses = st.cache_misses;
  uint64_t asked = st.cache_hits + st.cache_misses;
  c.hit_rate = asked ? double(st.cache_hits) / double(asked) : 0.0;
  c.disk_hits = impl_->disk_hits;
  return c;
}

std::shared_ptr<const CompiledFunction> JitCompiler::get_cached_function(
    const std::string& id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->index.find(id);
  if (it == impl_->index.end()) return nullptr;
  impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second);
  return *it->second;
}

std::vector<std::string> JitCompiler::list_cached_functions() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::string> ids;
  for (const auto& f : impl_->lru) ids.push_back(f->id);
  return ids;
}

void JitCompiler::clear_cache() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->lru.clear();
  impl_->index.clear();
}

}  // namespace tierjit
