// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "backend/jit_memory.hpp"

#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/Shared/AllocationActions.h>
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "support/dual_map.hpp"

namespace tierjit::backend {

namespace jitlink = llvm::jitlink;
namespace orc = llvm::orc;

namespace {

// First-fit allocator of byte ranges (page multiples) with coalescing on release.
class RangeAllocator {
 public:
  explicit RangeAllocator(size_t size) { free_[0] = size; }
  std::optional<size_t> take(size_t bytes) {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second < bytes) continue;
      size_t off = it->first, rest = it->second - bytes;
      free_.erase(it);
      if (rest) free_[off + bytes] = rest;
      return off;
    }
    return std::nullopt;
  }
  void give(size_t off, size_t bytes) {
    auto next = free_.lower_bound(off);
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == off) {
        off = prev->first;
        bytes += prev->second;
        free_.erase(prev);
      }
    }
    if (next != free_.end() && off + bytes == next->first) {
      bytes += next->second;
      free_.erase(next);
    }
    free_[off] = bytes;
  }

 private:
  std::map<size_t, size_t> free_;  // offset -> size
};

// Reserved address space: the code half is the executable view of a dual mapping, the data
// half ordinary read-write pages.
struct Arena {
  // Inherited from the parent by fork(): its code pages are shared with the parent (one
  // memfd), so this process neither allocates from it nor frees into it any more.
  bool foreign = false;
  uint8_t* base = nullptr;
  size_t half = 0;
  DualMapping code;  // code.rx == base
  uint8_t* data = nullptr;
  RangeAllocator code_free{0}, data_free{0};
};

struct Range {
  Arena* arena = nullptr;
  bool code = false;
  bool read_only = false;  // data protected read-only after finalization
  size_t off = 0, size = 0;
  uint8_t* address() const { return code ? arena->code.rx + off : arena->data + off; }
  uint8_t* working() const { return code ? arena->code.rw + off : arena->data + off; }
};

struct FinalizedInfo {
  std::vector<Range> ranges;
  std::vector<orc::shared::WrapperFunctionCall> dealloc_actions;
};

llvm::Error make_llvm_error(const std::string& msg) {
  return llvm::make_error<llvm::StringError>(msg, llvm::inconvertibleErrorCode());
}

}  // namespace

class DualMappedMemoryManager::Impl {
 public:
  explicit Impl(size_t arena_bytes) : arena_bytes_(arena_bytes) {
    static std::once_flag once;
    std::call_once(once, [] {
      pthread_atfork([] { for_each_live([](Impl& m) { m.mu_.lock(); }); },
                     [] { for_each_live([](Impl& m) { m.mu_.unlock(); }); },
                     [] {
                       for_each_live([](Impl& m) {
                         for (auto& a : m.arenas_) a->foreign = true;
                         m.mu_.unlock();
                       });
                     });
    });
    std::lock_guard<std::mutex> lock(live_mu());
    live().push_back(this);
  }
  template <class F>
  static void for_each_live(F f) {
    for (Impl* m : live()) f(*m);
  }
  static std::vector<Impl*>& live() {
    static std::vector<Impl*> v;
    return v;
  }
  static std::mutex& live_mu() {
    static std::mutex m;
    return m;
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(live_mu());
      live().erase(std::find(live().begin(), live().end(), this));
    }
    // Code may run until the process ends (the JIT session is never destroyed before exit);
    // an owner that does destroy the manager has removed everything linked through it.
    for (auto& a : arenas_) {
      unmap_dual({a->code.rw, nullptr, a->code.size});
      munmap(a->base, 2 * a->half);
    }
  }

  // Takes a range for every segment from one arena (a new one if none has room).
  llvm::Error take(std::vector<Range>& ranges) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& a : arenas_)
      if (!a->foreign && take_from(*a, ranges)) return llvm::Error::success();
    size_t code_need = 0, data_need = 0;
    for (const Range& r : ranges) (r.code ? code_need : data_need) += r.size;
    size_t half = std::max(arena_bytes_ / 2, std::max(code_need, data_need));
    half = (half + page_size() - 1) & ~(page_size() - 1);
    auto arena = std::make_unique<Arena>();
    void* base =
        mmap(nullptr, 2 * half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
      return make_llvm_error("reserving JIT memory: " + std::string(std::strerror(errno)));
    arena->base = static_cast<uint8_t*>(base);
    arena->half = half;
    auto dual = map_dual(half, false, arena->base);
    if (!dual.ok()) {
      munmap(base, 2 * half);
      return make_llvm_error(dual.error().to_string());
    }
    arena->code = dual.value();
    void* data = mmap(arena->base + half, half, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (data == MAP_FAILED) {
      unmap_dual({arena->code.rw, nullptr, half});
      munmap(base, 2 * half);
      return make_llvm_error("mapping JIT data memory: " + std::string(std::strerror(errno)));
    }
    arena->data = static_cast<uint8_t*>(data);
    arena->code_free = RangeAllocator(half);
    arena->data_free = RangeAllocator(half);
    arenas_.push_back(std::move(arena));
    if (!take_from(*arenas_.back(), ranges))
      return make_llvm_error("JIT memory: a new arena could not hold one object");
    return llvm::Error::success();
  }

  // Returns ranges for reuse and their pages to the system: code pages are removed from the
  // memfd (both views then read zeros), data pages dropped (zero-filled when touched again).
  void give(const std::vector<Range>& ranges) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Range& r : ranges) {
      (r.code ? code_bytes : data_bytes) -= r.size;
      if (r.arena->foreign) continue;  // the parent's pages: leave them alone
      if (r.read_only) mprotect(r.address(), r.size, PROT_READ | PROT_WRITE);
      madvise(r.working(), r.size, r.code ? MADV_REMOVE : MADV_DONTNEED);
      (r.code ? r.arena->code_free : r.arena->data_free).give(r.off, r.size);
    }
  }

  size_t code_bytes = 0, data_bytes = 0;  // guarded by mu_
  mutable std::mutex mu_;

 private:
  bool take_from(Arena& a, std::vector<Range>& ranges) {  // caller holds mu_
    size_t i = 0;
    for (; i < ranges.size(); ++i) {
      auto off = (ranges[i].code ? a.code_free : a.data_free).take(ranges[i].size);
      if (!off) break;
      ranges[i].arena = &a;
      ranges[i].off = *off;
    }
    if (i == ranges.size()) {
      for (const Range& r : ranges) (r.code ? code_bytes : data_bytes) += r.size;
      return true;
    }
    while (i-- > 0)
      (ranges[i].code ? a.code_free : a.data_free).give(ranges[i].off, ranges[i].size);
    return false;
  }

  size_t arena_bytes_;
  std::vector<std::unique_ptr<Arena>> arenas_;
};

namespace {

class InFlight final : public jitlink::JITLinkMemoryManager::InFlightAlloc {
 public:
  InFlight(DualMappedMemoryManager::Impl& mm, jitlink::LinkGraph& g, std::vector<Range> standard,
           std::vector<Range> finalize_only, std::vector<std::unique_ptr<char[]>> no_alloc)
      : mm_(mm),
        g_(g),
        standard_(std::move(standard)),
        finalize_only_(std::move(finalize_only)),
        no_alloc_(std::move(no_alloc)) {}
  ~InFlight() override { release(); }

  void finalize(OnFinalizedFunction on_finalized) override {
    auto dealloc = orc::shared::runFinalizeActions(g_.allocActions());
    if (!dealloc) {
      release();
      return on_finalized(dealloc.takeError());
    }
    for (const Range& r : standard_)  // a failure is not fatal: the data stays writable
      if (r.read_only) (void)mprotect(r.address(), r.size, PROT_READ);
    mm_.give(finalize_only_);
    finalize_only_.clear();
    no_alloc_.clear();
    auto* info = new FinalizedInfo{std::move(standard_), std::move(*dealloc)};
    standard_.clear();
    on_finalized(jitlink::JITLinkMemoryManager::FinalizedAlloc(orc::ExecutorAddr::fromPtr(info)));
  }

  void abandon(OnAbandonedFunction on_abandoned) override {
    release();
    on_abandoned(llvm::Error::success());
  }

 private:
  void release() {
    mm_.give(standard_);
    mm_.give(finalize_only_);
    standard_.clear();
    finalize_only_.clear();
    no_alloc_.clear();
  }

  DualMappedMemoryManager::Impl& mm_;
  jitlink::LinkGraph& g_;
  std::vector<Range> standard_, finalize_only_;
  std::vector<std::unique_ptr<char[]>> no_alloc_;
};

}  // namespace

DualMappedMemoryManager::DualMappedMemoryManager(size_t arena_bytes)
    : impl_(std::make_unique<Impl>(arena_bytes)) {}
DualMappedMemoryManager::~DualMappedMemoryManager() = default;

void DualMappedMemoryManager::allocate(const jitlink::JITLinkDylib*, jitlink::LinkGraph& g,
                                       OnAllocatedFunction on_allocated) {
  jitlink::BasicLayout layout(g);
  const size_t page = page_size();
  std::vector<jitlink::BasicLayout::Segment*> segs;
  std::vector<Range> ranges;
  std::vector<bool> finalize_only;
  std::vector<std::unique_ptr<char[]>> no_alloc;
  for (auto& [group, seg] : layout.segments()) {
    if (seg.Alignment.value() > page)
      return on_allocated(make_llvm_error("JIT memory: segment alignment " +
                                          std::to_string(seg.Alignment.value()) +
                                          " exceeds the page size"));
    size_t bytes = (seg.ContentSize + seg.ZeroFillSize + page - 1) & ~(page - 1);
    if (group.getMemLifetime() == orc::MemLifetime::NoAlloc) {
      // Link-time only (e.g. debug metadata): host memory, never run.
      no_alloc.push_back(std::make_unique<char[]>(bytes ? bytes : 1));
      std::memset(no_alloc.back().get(), 0, bytes);
      seg.WorkingMem = no_alloc.back().get();
      seg.Addr = orc::ExecutorAddr::fromPtr(seg.WorkingMem);
      continue;
    }
    if (bytes == 0) bytes = page;
    Range r;
    auto prot = static_cast<unsigned>(group.getMemProt());
    r.code = prot & static_cast<unsigned>(orc::MemProt::Exec);
    r.read_only = !r.code && !(prot & static_cast<unsigned>(orc::MemProt::Write));
    r.size = bytes;
    segs.push_back(&seg);
    ranges.push_back(r);
    finalize_only.push_back(group.getMemLifetime() == orc::MemLifetime::Finalize);
  }
  if (llvm::Error e = impl_->take(ranges)) return on_allocated(std::move(e));
  std::vector<Range> standard, finalize;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Range& r = ranges[i];
    std::memset(r.working(), 0, r.size);  // reused ranges hold old bytes
    segs[i]->WorkingMem = reinterpret_cast<char*>(r.working());
    segs[i]->Addr = orc::ExecutorAddr::fromPtr(r.address());
    (finalize_only[i] ? finalize : standard).push_back(r);
  }
  if (llvm::Error e = layout.apply()) {
    impl_->give(ranges);
    return on_allocated(std::move(e));
  }
  on_allocated(std::make_unique<InFlight>(*impl_, g, std::move(standard), std::move(finalize),
                                          std::move(no_alloc)));
}

void DualMappedMemoryManager::deallocate(std::vector<FinalizedAlloc> allocs,
                                         OnDeallocatedFunction on_deallocated) {
  llvm::Error err = llvm::Error::success();
  for (FinalizedAlloc& a : allocs) {
    std::unique_ptr<FinalizedInfo> info(a.release().toPtr<FinalizedInfo*>());
    err = llvm::joinErrors(std::move(err), orc::shared::runDeallocActions(info->dealloc_actions));
    impl_->give(info->ranges);
  }
  on_deallocated(std::move(err));
}

size_t DualMappedMemoryManager::code_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->code_bytes;
}

size_t DualMappedMemoryManager::data_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->data_bytes;
}

}  // namespace tierjit::backend
