// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "backend/jit_session.hpp"

#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/AbsoluteSymbols.h>
#include <llvm/ExecutionEngine/Orc/Debugging/DebugInfoSupport.h>
#include <llvm/ExecutionEngine/Orc/Debugging/DebuggerSupport.h>
#include <llvm/ExecutionEngine/Orc/EHFrameRegistrationPlugin.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/Support/MemoryBuffer.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "support/jitdump.hpp"

namespace tierjit::backend {

namespace {

thread_local std::string t_last_error;  // the session error reporter's last message here
thread_local int t_in_lookup = 0;       // > 0 while this thread is inside JitSession::lookup

// A plugin that only adds link passes: it keeps no per-object resources.
class PassPlugin : public llvm::orc::ObjectLinkingLayer::Plugin {
 public:
  llvm::Error notifyFailed(llvm::orc::MaterializationResponsibility&) override {
    return llvm::Error::success();
  }
  llvm::Error notifyRemovingResources(llvm::orc::JITDylib&, llvm::orc::ResourceKey) override {
    return llvm::Error::success();
  }
  void notifyTransferringResources(llvm::orc::JITDylib&, llvm::orc::ResourceKey,
                                   llvm::orc::ResourceKey) override {}
};

// Appends "ADDR SIZE NAME" lines for every linked function to /tmp/perf-PID.map.
class PerfMapPlugin final : public PassPlugin {
 public:
  PerfMapPlugin() {
    std::string path = "/tmp/perf-" + std::to_string(::getpid()) + ".map";
    file_ = std::fopen(path.c_str(), "a");
  }
  ~PerfMapPlugin() override {
    if (file_) std::fclose(file_);
  }
  void modifyPassConfig(llvm::orc::MaterializationResponsibility&, llvm::jitlink::LinkGraph&,
                        llvm::jitlink::PassConfiguration& config) override {
    config.PostFixupPasses.push_back([this](llvm::jitlink::LinkGraph& g) -> llvm::Error {
      if (!file_) return llvm::Error::success();
      std::lock_guard<std::mutex> lock(mu_);
      for (llvm::jitlink::Symbol* sym : g.defined_symbols())
        if (sym->hasName() && sym->isCallable())
          std::fprintf(file_, "%llx %llx %s\n",
                       static_cast<unsigned long long>(sym->getAddress().getValue()),
                       static_cast<unsigned long long>(sym->getSize()),
                       (*sym->getName()).str().c_str());
      std::fflush(file_);
      return llvm::Error::success();
    });
  }

 private:
  std::FILE* file_ = nullptr;
  std::mutex mu_;
};

// Writes a jitdump code load record (with the line table, when the object has DWARF) for every
// function linked, by any client (support/jitdump.hpp). Debug sections are kept through
// linking (ORC's preserveDebugSections) so that their relocated line tables give final
// addresses.
class JitDumpPlugin final : public PassPlugin {
 public:
  explicit JitDumpPlugin(JitDump& dump) : dump_(dump) {}
  void modifyPassConfig(llvm::orc::MaterializationResponsibility&, llvm::jitlink::LinkGraph& g,
                        llvm::jitlink::PassConfiguration& config) override {
    bool dwarf = g.findSectionByName(".debug_line") != nullptr;
    if (dwarf) config.PrePrunePasses.push_back(llvm::orc::preserveDebugSections);
    config.PostFixupPasses.push_back([this, dwarf](llvm::jitlink::LinkGraph& g) {
      std::unique_ptr<llvm::DWARFContext> dc;
      llvm::StringMap<std::unique_ptr<llvm::MemoryBuffer>> sections;  // owned while dc lives
      if (dwarf) {
        if (auto c = llvm::orc::createDWARFContext(g)) {
          dc = std::move(c->first);
          sections = std::move(c->second);
        } else {
          llvm::consumeError(c.takeError());  // code without lines is still worth a record
        }
      }
      for (llvm::jitlink::Symbol* sym : g.defined_symbols()) {
        if (!sym->hasName() || !sym->isCallable() || sym->getSize() == 0) continue;
        const llvm::jitlink::Block& b = sym->getBlock();
        if (b.isZeroFill()) continue;
        uint64_t addr = sym->getAddress().getValue();
        std::vector<JitDump::Line> lines;
        if (dc) {
          using Kind = llvm::DILineInfoSpecifier::FileLineInfoKind;
          auto table = dc->getLineInfoForAddressRange(
              {addr, llvm::object::SectionedAddress::UndefSection}, sym->getSize(),
              llvm::DILineInfoSpecifier(Kind::AbsoluteFilePath));
          for (const auto& [at, info] : table)
            if (info.Line) lines.push_back({at, info.Line, info.Discriminator, info.FileName});
        }
        dump_.code_load((*sym->getName()).str(), addr, b.getContent().data() + sym->getOffset(),
                        sym->getSize(), lines);
      }
      return llvm::Error::success();
    });
  }

 private:
  JitDump& dump_;
};

Error llvm_error(llvm::Error e, const std::string& what) {
  std::string msg = llvm::toString(std::move(e));
  if (!t_last_error.empty() && msg.find(t_last_error) == std::string::npos)
    msg += " (" + t_last_error + ")";
  t_last_error.clear();
  return make_error(ErrorCode::kCompileFailed, what + msg);
}

}  // namespace

JitSession::~JitSession() = default;

Expected<JitSession*> JitSession::get() {
  static std::once_flag once;
  static JitSession* session = nullptr;
  static Error failure;
  std::call_once(once, [] {
    initialize_llvm_targets();
    std::unique_ptr<JitSession> s(new JitSession);
    s->target_ = TargetConfig::host();
    s->memory_ = std::make_unique<DualMappedMemoryManager>();
    auto* memory = s->memory_.get();
    auto jit = llvm::orc::LLJITBuilder()
                   .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                   .setObjectLinkingLayerCreator(
                       [memory](llvm::orc::ExecutionSession& es)
                           -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
                         return std::make_unique<llvm::orc::ObjectLinkingLayer>(es, *memory);
                       })
                   .create();
    if (!jit) {
      failure = make_error(ErrorCode::kCompileFailed, "LLJIT: " + llvm::toString(jit.takeError()));
      return;
    }
    s->jit_ = std::move(*jit);
    // Unwind tables: with no ORC platform active nothing registers .eh_frame sections, and a
    // C++ throw through JIT code finds no FDE and calls std::terminate. The plugin registers
    // each linked object's frames with the unwinder (__register_frame) and deregisters them
    // when the object's memory is freed.
    auto& es = s->jit_->getExecutionSession();
    auto eh = llvm::orc::EHFrameRegistrationPlugin::Create(es);
    if (!eh) {
      failure = make_error(ErrorCode::kCompileFailed,
                           "EH frame registration: " + llvm::toString(eh.takeError()));
      return;
    }
    static_cast<llvm::orc::ObjectLinkingLayer&>(s->jit_->getObjLinkingLayer())
        .addPlugin(std::move(*eh));
    s->jit_->getExecutionSession().setErrorReporter([](llvm::Error e) {
      t_last_error = llvm::toString(std::move(e));
      if (t_in_lookup > 0) return;  // lookup() returns it to its caller
      std::fflush(stdout);
      std::fprintf(stderr, "tierjit: error: %s\n", t_last_error.c_str());
    });
    // perf jitdump (--perf-jitdump, TIERJIT_PERF_JITDUMP): enabled before the first compile.
    if (JitDump* dump = JitDump::get())
      static_cast<llvm::orc::ObjectLinkingLayer&>(s->jit_->getObjLinkingLayer())
          .addPlugin(std::make_unique<JitDumpPlugin>(*dump));
    session = s.release();  // lives until the process ends: code may run until then
  });
  if (!session) return failure;
  return session;
}

Expected<llvm::orc::JITDylib*> JitSession::create_dylib(
    std::string_view name, const std::vector<llvm::orc::JITDylib*>& also) {
  static std::atomic<uint64_t> counter{0};
  auto& es = jit_->getExecutionSession();
  auto jd = es.createJITDylib(std::string(name) + "." + std::to_string(counter++));
  if (!jd) return llvm_error(jd.takeError(), "JITDylib: ");
  using Flags = llvm::orc::JITDylibLookupFlags;
  llvm::orc::JITDylibSearchOrder order = {{&*jd, Flags::MatchAllSymbols}};
  for (llvm::orc::JITDylib* other : also) order.push_back({other, Flags::MatchAllSymbols});
  if (auto proc = jit_->getProcessSymbolsJITDylib())
    order.push_back({proc.get(), Flags::MatchAllSymbols});
  jd->setLinkOrder(std::move(order), false);
  return &*jd;
}

void JitSession::remove(llvm::orc::JITDylib* jd) {
  if (jd) llvm::consumeError(jit_->getExecutionSession().removeJITDylib(*jd));
}

Status JitSession::define_absolute(llvm::orc::JITDylib& jd,
                                   const std::vector<std::pair<std::string, void*>>& symbols) {
  llvm::orc::SymbolMap map;
  for (const auto& [name, addr] : symbols)
    map[jit_->mangleAndIntern(name)] = {
        llvm::orc::ExecutorAddr::fromPtr(addr),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  if (llvm::Error e = jd.define(llvm::orc::absoluteSymbols(std::move(map))))
    return llvm_error(std::move(e), "defining host symbols: ");
  return {};
}

Status JitSession::add_object(llvm::orc::JITDylib& jd, std::string_view object,
                              const std::string& name) {
  if (llvm::Error e =
          jit_->addObjectFile(jd, llvm::MemoryBuffer::getMemBufferCopy(
                                      llvm::StringRef(object.data(), object.size()), name)))
    return llvm_error(std::move(e), "");
  return {};
}

Expected<void*> JitSession::lookup(llvm::orc::JITDylib& jd, std::string_view symbol) {
  t_last_error.clear();
  ++t_in_lookup;
  auto addr = jit_->lookup(jd, llvm::StringRef(symbol.data(), symbol.size()));
  --t_in_lookup;
  if (!addr) return llvm_error(addr.takeError(), "");
  return addr->toPtr<void*>();
}

void JitSession::enable_perf_map() {
  std::call_once(perf_map_once_, [this] {
    auto& layer = static_cast<llvm::orc::ObjectLinkingLayer&>(jit_->getObjLinkingLayer());
    layer.addPlugin(std::make_unique<PerfMapPlugin>());
  });
}

Status JitSession::enable_debugger_support() {
  std::call_once(debugger_once_, [this] {
    if (llvm::Error e = llvm::orc::enableDebuggerSupport(*jit_))
      debugger_status_ = make_error(ErrorCode::kUnsupported,
                                    "GDB JIT registration: " + llvm::toString(std::move(e)));
  });
  return debugger_status_;
}

}  // namespace tierjit::backend
