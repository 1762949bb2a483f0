// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The baseline tier's one-pass compiler (see compiler.hpp for the code shape).
#include "baseline/compiler.hpp"

#include <dlfcn.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DataLayout.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GetElementPtrTypeIterator.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Operator.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "baseline/stencil.hpp"
#include "runtime/code_pool.hpp"
#include "stencils.inc"  // namespace tierjit::baseline::generated

namespace tierjit::baseline {
namespace {

using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

// ---- the stencil tables, indexed by operation, width and operand variant ------------------
enum Width { kW8, kW16, kW32, kW64, kNumWidths };
constexpr const char* kWidthName[] = {"8", "16", "32", "64"};
enum BinOp {
  kAdd,
  kSub,
  kMul,
  kAnd,
  kOr,
  kXor,
  kShl,
  kLShr,
  kAShr,
  kUDiv,
  kURem,
  kSDiv,
  kSRem,
  kSMin,
  kSMax,
  kUMin,
  kUMax,
  kUAddSat,
  kUSubSat,
  kSAddSat,
  kSSubSat,
  kNumBinOps
};
constexpr const char* kBinName[] = {"add",     "sub",     "mul",    "and",  "or",   "xor",
                                    "shl",     "lshr",    "ashr",   "udiv", "urem", "sdiv",
                                    "srem",    "smin",    "smax",   "umin", "umax", "uaddsat",
                                    "usubsat", "saddsat", "ssubsat"};
constexpr const char* kPredName[] = {"eq",  "ne",  "ugt", "uge", "ult",
                                     "ule", "sgt", "sge", "slt", "sle"};
constexpr int kNumPreds = 10;
constexpr const char* kFPredName[] = {"oeq", "ogt", "oge", "olt", "ole", "one", "ord",
                                      "uno", "ueq", "ugt", "uge", "ult", "ule", "une"};
constexpr int kNumFPreds = 14;
enum MemOp { kLd, kLdF, kLdS, kSt, kStP, kStF, kStKX, kStKF, kStSC, kNumMemOps };
constexpr const char* kMemName[] = {"ld", "ldF", "ldS", "st", "stP", "stF", "stKX", "stKF", "stsc"};
enum RmwOp { kRXchg, kRAdd, kRSub, kRAnd, kROr, kRXor, kRCas, kNumRmw };
constexpr const char* kRmwName[] = {"rmw_xchg", "rmw_xadd", "rmw_xsub", "rmw_xand",
                                    "rmw_xor",  "rmw_xxor", "rmw_cas"};
enum UnOp { kTrunc, kCtlz, kCttz, kCtpop, kAbs, kSext64, kBswap, kNumUnOps };
constexpr const char* kUnName[] = {"trunc", "ctlz", "cttz", "ctpop", "abs", "sext64", "bswap"};
enum OvfOp { kUAddO, kSAddO, kUSubO, kSSubO, kUMulO, kSMulO, kNumOvf };
constexpr const char* kOvfName[] = {"uaddo", "saddo", "usubo", "ssubo", "umulo", "smulo"};
enum FOp { kFAdd, kFSub, kFMul, kFDiv, kFNeg, kFAbs, kFSqrt, kFCall1, kFCall2, kFCall3, kNumFOps };
constexpr const char* kFName[] = {"fadd", "fsub",  "fmul",   "fdiv",   "fneg",
                                  "fabs", "fsqrt", "fcall1", "fcall2", "fcall3"};
enum FType { kF32, kF64, kNumFTypes };
constexpr const char* kFTypeName[] = {"f32", "f64"};
enum CvtOp { kSIToFP, kUIToFP, kFPToSI, kFPToUI, kNumCvt };
constexpr const char* kCvtName[] = {"sitofp", "uitofp", "fptosi", "fptoui"};
constexpr int kMaxIntArgs = 12, kMaxFpArgs = 8;

struct Tables {
  const Stencil* bin[kNumBinOps][kNumWidths][2] = {};  // [XS, XI]
  const Stencil* icmp[kNumPreds][kNumWidths][2] = {};
  const Stencil* br[kNumPreds][kNumWidths][2] = {};
  const Stencil* mem[kNumMemOps][kNumWidths] = {};
  const Stencil* rmw[kNumRmw][kNumWidths] = {};
  const Stencil* un[kNumUnOps][kNumWidths] = {};
  const Stencil* ovf[kNumOvf][kNumWidths] = {};
  const Stencil* fshl[kNumWidths] = {};
  const Stencil* fshr[kNumWidths] = {};
  const Stencil* f[kNumFOps][kNumFTypes] = {};
  const Stencil* fcmp[kNumFPreds][kNumFTypes] = {};
  const Stencil* cvt[kNumCvt][kNumWidths][kNumFTypes] = {};
  const Stencil* gep[2][2][5] = {};  // [XS, SX][idx 64, 32][scale 1, 2, 4, 8, n]
  const Stencil* call[2][kMaxIntArgs + 1][kMaxFpArgs + 1] = {};   // [K, S]
  const Stencil* entry[kMaxIntArgs + 1][kMaxFpArgs + 1][2] = {};  // [i, f]
  const Stencil *ldx_S, *ldx_S32, *ldx_K, *lea_F, *stx_S, *stk_S, *mov_SS, *jmp, *trap;
  const Stencil *trunc1, *sext1, *brnz, *brz, *sel, *fpext, *fptrunc, *fence, *ret_X, *ret_S,
      *count, *osr, *vastart, *vacopy, *ldrel, *lane_ld, *lane_st;
  const Stencil* entry_va[2] = {};  // [i, f]
  const Stencil* jtab[kNumWidths] = {};
  const Stencil* icmpz[2][kNumWidths] = {};  // [eq, ne] against zero
  const Stencil* brzero[2][kNumWidths] = {};
};

const Tables& tables() {
  static const Tables t = [] {
    std::unordered_map<std::string_view, const Stencil*> by;
    for (const NamedStencil& n : generated::kAllStencils) by[n.name] = n.stencil;
    auto get = [&](const std::string& name) -> const Stencil* {
      auto it = by.find(name);
      if (it == by.end()) {
        std::fprintf(stderr, "tierjit: internal error: no baseline stencil '%s'\n", name.c_str());
        std::abort();
      }
      return it->second;
    };
    auto opt = [&](const std::string& name) -> const Stencil* {
      auto it = by.find(name);
      return it == by.end() ? nullptr : it->second;
    };
    Tables t;
    const char* v2[] = {"XS", "XI"};
    for (int w = 0; w < kNumWidths; ++w) {
      std::string ws = kWidthName[w];
      for (int o = 0; o < kNumBinOps; ++o)
        for (int v = 0; v < 2; ++v)
          t.bin[o][w][v] = get(std::string(kBinName[o]) + "_" + ws + "_" + v2[v]);
      for (int p = 0; p < kNumPreds; ++p)
        for (int v = 0; v < 2; ++v) {
          t.icmp[p][w][v] = get(std::string("icmp_") + kPredName[p] + "_" + ws + "_" + v2[v]);
          t.br[p][w][v] = get(std::string("br_") + kPredName[p] + "_" + ws + "_" + v2[v]);
        }
      for (int m = 0; m < kNumMemOps; ++m) t.mem[m][w] = get(kMemName[m] + ws);
      for (int r = 0; r < kNumRmw; ++r) t.rmw[r][w] = get(kRmwName[r] + ws);
      for (int u = 0; u < kNumUnOps; ++u) t.un[u][w] = opt(std::string(kUnName[u]) + "_" + ws);
      for (int o = 0; o < kNumOvf; ++o) t.ovf[o][w] = get(std::string(kOvfName[o]) + "_" + ws);
      t.fshl[w] = get("fshl_" + ws);
      t.fshr[w] = get("fshr_" + ws);
      t.jtab[w] = get("jtab_" + ws);
      for (int z = 0; z < 2; ++z) {
        t.icmpz[z][w] = get(std::string("icmp_") + (z ? "ne_" : "eq_") + ws + "_XZ");
        t.brzero[z][w] = get(std::string("br_") + (z ? "ne_" : "eq_") + ws + "_XZ");
      }
      for (int c = 0; c < kNumCvt; ++c)
        for (int ft = 0; ft < kNumFTypes; ++ft)
          t.cvt[c][w][ft] = get(std::string(kCvtName[c]) + "_" + ws + "_" + kFTypeName[ft]);
    }
    for (int ft = 0; ft < kNumFTypes; ++ft) {
      for (int o = 0; o < kNumFOps; ++o)
        t.f[o][ft] = get(std::string(kFName[o]) + "_" + kFTypeName[ft]);
      for (int p = 0; p < kNumFPreds; ++p)
        t.fcmp[p][ft] = get(std::string("fcmp_") + kFPredName[p] + "_" + kFTypeName[ft]);
    }
    const char* gv[] = {"gepXS", "gepSX"};
    const char* gi[] = {"64", "32"};
    const char* gs[] = {"1", "2", "4", "8", "n"};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 5; ++c) t.gep[a][b][c] = get(std::string(gv[a]) + gi[b] + "_" + gs[c]);
    for (int ni = 0; ni <= kMaxIntArgs; ++ni)
      for (int nf = 0; nf <= kMaxFpArgs; ++nf) {
        std::string n = std::to_string(ni) + "_" + std::to_string(nf);
        t.call[0][ni][nf] = get("callK_" + n);
        t.call[1][ni][nf] = get("callS_" + n);
        t.entry[ni][nf][0] = get("entry_" + n + "_i");
        t.entry[ni][nf][1] = get("entry_" + n + "_f");
      }
    t.ldx_S = get("ldx_S");
    t.ldx_S32 = get("ldx_S32");
    t.ldx_K = get("ldx_K");
    t.lea_F = get("lea_F");
    t.stx_S = get("stx_S");
    t.stk_S = get("stk_S");
    t.mov_SS = get("mov_SS");
    t.jmp = get("jmp");
    t.trap = get("trap");
    t.trunc1 = get("trunc_1");
    t.sext1 = get("sext64_1");
    t.brnz = get("brnz_X");
    t.brz = get("brz_X");
    t.vastart = get("vastart");
    t.vacopy = get("vacopy");
    t.ldrel = get("ldrel");
    t.lane_ld = get("lane_ld");
    t.lane_st = get("lane_st");
    t.entry_va[0] = get("entry_va_i");
    t.entry_va[1] = get("entry_va_f");
    t.sel = get("sel_X");
    t.fpext = get("fpext");
    t.fptrunc = get("fptrunc");
    t.fence = get("fence");
    t.ret_X = get("ret_X");
    t.ret_S = get("ret_S");
    t.count = get("count");
    t.osr = get("osr");
    return t;
  }();
  return t;
}

/// Why a function is not compiled by this tier (becomes an Error with kUnsupported).
struct Unsupported {
  std::string reason;
};

constexpr uint32_t kSlot = 8;
constexpr int kNoLabel = -1;

/// The holes of one stencil use.
struct Patch {
  int64_t v[size_t(HoleKind::kCount)] = {};
  int target = kNoLabel;
  int ksym = 0, k2sym = 0;  // symbols (1-based) the K and K2 holes' addresses refer to
  Patch& set(HoleKind k, int64_t x) {
    v[size_t(k)] = x;
    return *this;
  }
  Patch& sym(int s) {
    ksym = s;
    return *this;
  }
};

bool fits_i32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

// Conventions that pass arguments and results as the C one does on x86-64 (LLVM's
// X86CallingConv.td: fastcc and coldcc delegate to CC_X86_64_C there).
bool psabi_convention(llvm::CallingConv::ID cc) {
  return cc == llvm::CallingConv::C || cc == llvm::CallingConv::Fast ||
         cc == llvm::CallingConv::Cold;
}

// Code memory: stencil copies are placed into chunks taken from the W^X code pool.
class Arena {
 public:
  Expected<runtime::CodeBlock> place(const std::vector<uint8_t>& code) {
    size_t need = (code.size() + 15) & ~size_t(15);
    // After fork() the chunks are memfd mappings shared with the parent: a child that kept
    // filling them would write into the parent's code. It starts a chunk of its own instead
    // (the old ones stay mapped for the code already in them).
    pid_t pid = ::getpid();
    bool forked = pid != pid_;
    pid_ = pid;
    if (chunks_.empty() || forked || used_ + need > chunks_.back().size) {
      size_t size = std::max<size_t>(need, kChunk);
      TJ_ASSIGN_OR_RETURN(runtime::CodeBlock b, pool_.acquire(size));
      chunks_.push_back(b);
      used_ = 0;
    }
    runtime::CodeBlock& c = chunks_.back();
    runtime::CodeBlock out{c.rw + used_, c.rx + used_, need, -1};
    used_ += need;
    total_ += need;
    return out;
  }
  size_t bytes() const { return total_; }
  ~Arena() {
    for (const auto& c : chunks_) pool_.release(c);
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  // chunks are populated when mapped: one bulk fault instead of one per page written
  runtime::CodePool pool_{runtime::CodePoolConfig{4096, 16, 64, 64 << 20, true}};
  std::vector<runtime::CodeBlock> chunks_;
  size_t used_ = 0, total_ = 0;
  pid_t pid_ = ::getpid();
};

// ---- one function ---------------------------------------------------------------------------
class FunctionCompiler {
 public:
  // `buffer` is the compiler's reused code buffer (fresh pages cost a fault each: reusing
  // one buffer for every function keeps them touched).
  FunctionCompiler(const Environment& env, const llvm::Function& f, const Profile& prof,
                   std::vector<uint8_t>& buffer)
      : code(buffer),
        env_(env),
        f_(f),
        dl_(f.getParent()->getDataLayout()),
        prof_(prof),
        t_(tables()) {
    code.clear();
  }

  void run();  // throws Unsupported
  std::vector<uint8_t>& code;
  struct AbsFixup {
    uint32_t at;  // 8-byte absolute address of label
    int label;
  };
  std::vector<AbsFixup> abs_fixups;
  std::vector<int64_t> labels;  // code offsets
  uint32_t frame_size = 0;
  uint32_t ninstr = 0;

 private:
  // Operand kinds for integer values.
  enum class Kind { kConst, kFrame, kSlot };
  struct Opnd {
    Kind kind;
    int64_t value;  // constant bits, frame offset, or slot offset
    int sym = 0;    // kConst: the symbol (1-based) its address is relative to, if any
  };
  // A constant's bits and, for an address, the symbol it is relative to (relocations).
  struct CVal {
    uint64_t bits;
    int sym;
  };
  struct Sym {
    SymbolKind kind;
    std::string_view name;
    int64_t addend;
  };
  struct HostFn {
    uint64_t value;
    int sym;
  };
  CVal cval(const llvm::Constant* c);
  int add_sym(SymbolKind kind, std::string_view name, int64_t addend) {
    syms_.push_back({kind, name, addend});
    return int(syms_.size());
  }
  HostFn host(const char* name) {
    void* p = ::dlsym(RTLD_DEFAULT, name);
    if (!p) fail(std::string("host function ") + name);
    return {uint64_t(p), add_sym(SymbolKind::kHost, name, 0)};
  }
  std::vector<Sym> syms_;
  llvm::DenseMap<const llvm::GlobalValue*, CVal> globals_;
  struct KReloc {
    uint32_t at;
    int sym;
    int32_t addend;
  };
  std::vector<KReloc> krelocs_;
  bool relocatable_ = true;

  [[noreturn]] static void fail(std::string why) { throw Unsupported{std::move(why)}; }
  static std::string type_name(llvm::Type* t) {
    std::string s;
    llvm::raw_string_ostream os(s);
    t->print(os);
    return s;
  }

  // Emission
  void emit(const Stencil* s, const Patch& p);
  int new_label() {
    labels.push_back(-1);
    return int(labels.size() - 1);
  }
  void bind(int label) { labels[size_t(label)] = int64_t(code.size()); }

  // Values
  uint32_t alloc_slot(uint32_t bytes = kSlot, uint32_t align = 8) {
    frame_size = (frame_size + align - 1) & ~(align - 1);
    uint32_t off = frame_size;
    frame_size += bytes;
    return off;
  }
  uint32_t slot_of(const llvm::Value* v) {
    auto it = slots_.find(v);
    if (it != slots_.end()) return it->second;
    llvm::Type* t = v->getType();
    uint32_t bytes = t->isStructTy() ? 16 : 8;
    if (auto* vt = dyn_cast<llvm::FixedVectorType>(t)) bytes = 8 * vt->getNumElements();
    uint32_t off = alloc_slot(bytes);
    slots_[v] = off;
    return off;
  }
  uint32_t scratch(int i) {  // per-instruction temporaries
    while (int(scratch_.size()) <= i) scratch_.push_back(alloc_slot());
    return scratch_[size_t(i)];
  }
  uint64_t const_bits(const llvm::Constant* c) { return cval(c).bits; }
  Opnd operand(const llvm::Value* v);
  bool is_const(const llvm::Value* v) const { return isa<llvm::Constant>(v); }

  Width int_width(llvm::Type* t, bool* is_i1 = nullptr) {
    if (is_i1) *is_i1 = false;
    if (t->isPointerTy()) {
      if (t->getPointerAddressSpace() != 0)
        fail("pointer in address space " + std::to_string(t->getPointerAddressSpace()));
      return kW64;
    }
    if (auto* it = dyn_cast<llvm::IntegerType>(t)) {
      switch (it->getBitWidth()) {
        case 1:
          if (is_i1) *is_i1 = true;
          return kW8;
        case 8:
          return kW8;
        case 16:
          return kW16;
        case 32:
          return kW32;
        case 64:
          return kW64;
        default:
          fail("i" + std::to_string(it->getBitWidth()));
      }
    }
    if (t->isVectorTy()) fail("vector type");
    fail("type " + type_name(t));
  }
  FType fp_type(llvm::Type* t) {
    if (t->isFloatTy()) return kF32;
    if (t->isDoubleTy()) return kF64;
    if (t->isVectorTy()) fail("vector type");
    fail("type " + type_name(t));
  }
  static int width_bits(Width w) { return 8 << int(w); }
  // Immediate form of constant `bits` for a w-wide operation, if it has one.
  static bool as_imm(uint64_t bits, Width w, int64_t* imm) {
    if (w == kW64) {
      if (!fits_i32(int64_t(bits))) return false;
      *imm = int64_t(bits);
      return true;
    }
    *imm = int64_t(int32_t(uint32_t(bits)));
    return true;
  }

  // x0 management
  void load_x0(const llvm::Value* v);
  void store_result(const llvm::Instruction& i);
  bool forwarded(const llvm::Instruction& i) const;
  const llvm::Value* x0_operand(const llvm::Instruction& u) const;
  uint32_t slot_or_materialize(const llvm::Value* v, int scratch_index);

  // Instructions
  void prologue();
  void instruction(const llvm::Instruction& i);
  void binop(const llvm::BinaryOperator& i);
  void int_binop(BinOp op, const llvm::Instruction& i, const llvm::Value* a, const llvm::Value* b,
                 Width w);
  // The stencil operation of an integer binary opcode (scalar or per lane); on i1 only the
  // logical ones exist (add/sub are xor, mul is and).
  BinOp int_op(unsigned opcode, bool i1) {
    switch (opcode) {
      case llvm::Instruction::Add:
        return i1 ? kXor : kAdd;
      case llvm::Instruction::Sub:
        return i1 ? kXor : kSub;
      case llvm::Instruction::Mul:
        return i1 ? kAnd : kMul;
      case llvm::Instruction::And:
        return kAnd;
      case llvm::Instruction::Or:
        return kOr;
      case llvm::Instruction::Xor:
        return kXor;
      default:
        break;
    }
    if (i1) fail("i1 arithmetic");
    switch (opcode) {
      case llvm::Instruction::Shl:
        return kShl;
      case llvm::Instruction::LShr:
        return kLShr;
      case llvm::Instruction::AShr:
        return kAShr;
      case llvm::Instruction::UDiv:
        return kUDiv;
      case llvm::Instruction::SDiv:
        return kSDiv;
      case llvm::Instruction::URem:
        return kURem;
      default:
        return kSRem;
    }
  }
  void fp_binop(FOp op, const llvm::Instruction& i);
  void atomic_rmw(const llvm::AtomicRMWInst& r);
  void icmp(const llvm::ICmpInst& i, const llvm::BranchInst* fused);
  void fcmp(const llvm::FCmpInst& i);
  void cast_inst(const llvm::CastInst& i);
  void load(const llvm::LoadInst& i);
  void store(const llvm::StoreInst& i);
  void gep(const llvm::GetElementPtrInst& i);
  void call(const llvm::CallInst& i);
  bool intrinsic(const llvm::CallInst& i, const llvm::Function& callee);
  bool int_intrinsic(const llvm::CallInst& i, llvm::Intrinsic::ID id);
  bool fp_intrinsic(const llvm::CallInst& i, llvm::Intrinsic::ID id);
  void host_call(const llvm::CallInst& i, const char* host_fn, const llvm::Value* callee_value);
  void ret(const llvm::ReturnInst& i);
  void branch(const llvm::BranchInst& i);
  void switch_inst(const llvm::SwitchInst& i);
  void select(const llvm::SelectInst& i);
  void fcall(FOp op, FType ft, const llvm::CallInst& i, const char* fn);
  void unary_int(UnOp op, const llvm::Instruction& i, const llvm::Value* a, Width w);

  // Vectors are compiled lane by lane: a <N x T> value has N consecutive 8-byte slots, each
  // lane kept like a scalar of type T.
  struct VecType {
    unsigned n;
    llvm::Type* elem;
  };
  VecType vec_type(llvm::Type* t) {
    auto* vt = dyn_cast<llvm::FixedVectorType>(t);
    if (!vt) fail("scalable vector");
    if (vt->getNumElements() > 64) fail("vector of more than 64 lanes");
    llvm::Type* e = vt->getElementType();
    if (!e->isFloatTy() && !e->isDoubleTy()) int_width(e);
    return {vt->getNumElements(), e};
  }
  Opnd lane(const llvm::Value* v, unsigned k) {
    if (auto* c = dyn_cast<llvm::Constant>(v)) {
      llvm::Constant* e = c->getAggregateElement(k);
      if (!e) fail("vector constant expression");
      CVal cv = cval(e);
      return {Kind::kConst, int64_t(cv.bits), cv.sym};
    }
    return {Kind::kSlot, int64_t(slot_of(v) + 8 * k)};
  }
  void lane_x0(const llvm::Value* v, unsigned k) {
    Opnd o = lane(v, k);
    if (o.kind == Kind::kConst)
      emit(t_.ldx_K, Patch().set(HoleKind::kK, o.value).sym(o.sym));
    else
      emit(t_.ldx_S, Patch().set(HoleKind::kA, o.value));
    x0_ = nullptr;
  }
  uint32_t lane_slot(const llvm::Value* v, unsigned k, int scratch_index) {
    Opnd o = lane(v, k);
    if (o.kind == Kind::kSlot) return uint32_t(o.value);
    uint32_t s = scratch(scratch_index);
    emit(t_.stk_S, Patch().set(HoleKind::kK, o.value).sym(o.sym).set(HoleKind::kC, s));
    return s;
  }
  void lane_copy(uint32_t dst, const llvm::Value* v, unsigned k) {
    Opnd o = lane(v, k);
    if (o.kind == Kind::kConst)
      emit(t_.stk_S, Patch().set(HoleKind::kK, o.value).sym(o.sym).set(HoleKind::kC, dst));
    else if (uint32_t(o.value) != dst)
      emit(t_.mov_SS, Patch().set(HoleKind::kA, o.value).set(HoleKind::kC, dst));
  }
  Width mem_width(llvm::Type* t) {
    if (t->isFloatTy()) return kW32;
    if (t->isDoubleTy()) return kW64;
    if (t->isIntegerTy(1)) fail("vector of i1 in memory");
    return int_width(t);
  }
  void vector_inst(const llvm::Instruction& i);
  void vector_insert(const llvm::Instruction& i);
  void vector_extract(const llvm::Instruction& i);
  void vector_shuffle(const llvm::Instruction& i);
  void vector_load(const llvm::Instruction& i);
  void vector_store(const llvm::Instruction& i);
  void vector_gep(const llvm::Instruction& i);
  void vector_select(const llvm::Instruction& i);
  void vector_binop(const llvm::Instruction& i);
  void vector_icmp(const llvm::Instruction& i);
  void vector_cast(const llvm::Instruction& i);
  void lanewise_int(const Stencil* const* st, const llvm::Value* a, const llvm::Value* b, Width w,
                    uint32_t dst, unsigned n);
  bool vector_reduce(const llvm::CallInst& i, llvm::Intrinsic::ID id);
  bool vector_intrinsic(const llvm::CallInst& i, llvm::Intrinsic::ID id);

  // Control flow
  int edge_label(const llvm::BasicBlock* from, const llvm::BasicBlock* to);
  void edge_copies(const llvm::BasicBlock* from, const llvm::BasicBlock* to);
  void jump_to(const llvm::BasicBlock* from, const llvm::BasicBlock* to);
  bool is_back_edge(const llvm::BasicBlock* from, const llvm::BasicBlock* to) const {
    return block_index_.at(to) <= block_index_.at(from);
  }
  void count_back_edge(const llvm::BasicBlock* to);
  Patch count_patch(int64_t calls, int64_t heat);
  bool osr_checks_ = false;  // some back-edge reads the OSR table
  int counters_sym_ = 0, hook_sym_ = 0;

  const Environment& env_;
  const llvm::Function& f_;
  const llvm::DataLayout& dl_;
  const Profile& prof_;
  const Tables& t_;
  llvm::DenseMap<const llvm::Value*, uint32_t> slots_;
  llvm::DenseMap<const llvm::AllocaInst*, uint32_t> frame_objects_;
  llvm::DenseMap<const llvm::BasicBlock*, int> block_label_;
  llvm::DenseMap<const llvm::BasicBlock*, size_t> block_index_;
  std::vector<uint32_t> scratch_;
  struct EdgeStub {
    int label;
    const llvm::BasicBlock *from, *to;
  };
  std::vector<EdgeStub> edge_stubs_;
  struct TableFixup {
    int label;        // the table's label
    uint32_t at = 0;  // its code offset, once laid out
    std::vector<int> targets;
  };
  std::vector<TableFixup> jump_tables_;
  std::vector<uint32_t> frame_size_sites_;  // offsets of N holes (entry stencil)
  std::vector<int32_t> frame_size_addends_;
  struct Fixup {
    uint32_t at;
    int label;
    int32_t addend;
  };
  std::vector<Fixup> fixups_;
  uint32_t va_gp_ = 0, va_fp_ = 0, va_rsa_ = 0, va_overflow_ = 0;  // variadic definitions
  const llvm::Value* x0_ = nullptr;  // value the accumulator holds, if known
  const llvm::BasicBlock* next_block_ = nullptr;
  const llvm::Instruction* skip_ = nullptr;  // a branch already emitted by a fused compare

 public:
  void finish(uint64_t rx_base);
  std::vector<Relocation> relocations() const;
  bool relocatable() const { return relocatable_; }
  // Compiled::osr_slots: empty when no back-edge checks the OSR table.
  std::vector<uint32_t> osr_slots() const {
    std::vector<uint32_t> out;
    if (!osr_checks_) return out;
    auto where = [&](const llvm::Value* v) -> uint32_t {
      if (auto* a = dyn_cast<llvm::AllocaInst>(v))
        if (auto it = frame_objects_.find(a); it != frame_objects_.end())
          return kOsrFrameObject | it->second;
      auto it = slots_.find(v);
      return it == slots_.end() ? 0 : it->second;
    };
    for (const llvm::Argument& a : f_.args()) out.push_back(where(&a));
    for (const llvm::BasicBlock& b : f_)
      for (const llvm::Instruction& i : b) out.push_back(where(&i));
    return out;
  }
};

void FunctionCompiler::emit(const Stencil* s, const Patch& p) {
  size_t base = code.size();
  bool drop_tail = s->tail == HoleKind::kNEXT;
  size_t len = drop_tail ? s->body_size : s->size;
  code.insert(code.end(), s->code, s->code + len);
  uint8_t* c = code.data() + base;
  for (uint16_t k = 0; k < s->nholes; ++k) {
    const Hole& h = s->holes[k];
    if (h.offset >= len) continue;  // in the dropped trailing jump
    switch (h.kind) {
      case HoleKind::kNEXT: {
        int32_t rel = int32_t(int64_t(len) + h.addend - int64_t(h.offset));
        std::memcpy(c + h.offset, &rel, 4);
        break;
      }
      case HoleKind::kTARGET:
        fixups_.push_back({uint32_t(base + h.offset), p.target, h.addend});
        break;
      case HoleKind::kN:
        frame_size_sites_.push_back(uint32_t(base + h.offset));
        frame_size_addends_.push_back(h.addend);
        break;
      default: {
        int64_t v = p.v[size_t(h.kind)] + h.addend;
        if (h.reloc == RelocKind::kAbs64) {
          std::memcpy(c + h.offset, &v, 8);
          int sym = h.kind == HoleKind::kK ? p.ksym : h.kind == HoleKind::kK2 ? p.k2sym : 0;
          if (sym) krelocs_.push_back({uint32_t(base + h.offset), sym, h.addend});
        } else {
          uint32_t lo = uint32_t(uint64_t(v));
          std::memcpy(c + h.offset, &lo, 4);
        }
      }
    }
  }
}

FunctionCompiler::CVal FunctionCompiler::cval(const llvm::Constant* c) {
  if (auto* ci = dyn_cast<llvm::ConstantInt>(c)) {
    if (ci->getBitWidth() > 64) fail("i" + std::to_string(ci->getBitWidth()));
    return {ci->getZExtValue(), 0};
  }
  if (auto* cf = dyn_cast<llvm::ConstantFP>(c)) {
    if (!c->getType()->isFloatTy() && !c->getType()->isDoubleTy())
      fail("type " + type_name(c->getType()));
    return {cf->getValueAPF().bitcastToAPInt().getZExtValue(), 0};
  }
  if (isa<llvm::ConstantPointerNull>(c) || isa<llvm::UndefValue>(c)) {
    if (c->getType()->isVectorTy() || c->getType()->isAggregateType()) fail("vector type");
    return {0, 0};
  }
  if (auto* gv = dyn_cast<llvm::GlobalValue>(c)) {  // one lookup and symbol per global
    auto [it, fresh] = globals_.try_emplace(gv, CVal{0, 0});
    if (fresh) {
      auto a = env_.address_of(*gv);
      if (!a.ok()) fail(a.error().message);
      it->second = {a.value().value, add_sym(a.value().kind, a.value().name, 0)};
    }
    return it->second;
  }
  if (auto* ce = dyn_cast<llvm::ConstantExpr>(c)) {
    auto mask = [&](uint64_t v) {
      unsigned bits = ce->getType()->isIntegerTy() ? ce->getType()->getIntegerBitWidth() : 64;
      return bits >= 64 ? v : v & ((uint64_t(1) << bits) - 1);
    };
    switch (ce->getOpcode()) {
      case llvm::Instruction::GetElementPtr: {
        auto* gep = cast<llvm::GEPOperator>(ce);
        llvm::APInt off(64, 0);
        if (!gep->accumulateConstantOffset(dl_, off)) fail("constant expression");
        CVal base = cval(cast<llvm::Constant>(gep->getPointerOperand()));
        int64_t o = int64_t(off.getZExtValue());
        int sym = base.sym ? add_sym(syms_[base.sym - 1].kind, syms_[base.sym - 1].name,
                                     syms_[base.sym - 1].addend + o)
                           : 0;
        return {base.bits + uint64_t(o), sym};
      }
      case llvm::Instruction::BitCast:
      case llvm::Instruction::IntToPtr:
      case llvm::Instruction::AddrSpaceCast:
        return cval(ce->getOperand(0));
      case llvm::Instruction::PtrToInt:
      case llvm::Instruction::Trunc: {
        CVal v = cval(ce->getOperand(0));
        if (ce->getType()->getIntegerBitWidth() >= 64) return v;
        if (v.sym) relocatable_ = false;  // part of an address: not a relocation
        return {mask(v.bits), 0};
      }
      case llvm::Instruction::Add:
      case llvm::Instruction::Sub:
      case llvm::Instruction::Xor: {
        CVal a = cval(ce->getOperand(0)), b = cval(ce->getOperand(1));
        uint64_t r = ce->getOpcode() == llvm::Instruction::Add   ? a.bits + b.bits
                     : ce->getOpcode() == llvm::Instruction::Sub ? a.bits - b.bits
                                                                 : a.bits ^ b.bits;
        if (a.sym || b.sym) relocatable_ = false;
        return {mask(r), 0};
      }
      default:
        fail(std::string("constant expression ") + ce->getOpcodeName());
    }
  }
  if (isa<llvm::BlockAddress>(c)) fail("blockaddress");
  fail("constant of type " + type_name(c->getType()));
}

FunctionCompiler::Opnd FunctionCompiler::operand(const llvm::Value* v) {
  if (auto* c = dyn_cast<llvm::Constant>(v)) {
    CVal cv = cval(c);
    return {Kind::kConst, int64_t(cv.bits), cv.sym};
  }
  if (auto* a = dyn_cast<llvm::AllocaInst>(v)) {
    auto it = frame_objects_.find(a);
    if (it != frame_objects_.end()) return {Kind::kFrame, int64_t(it->second)};
  }
  return {Kind::kSlot, int64_t(slot_of(v))};
}

void FunctionCompiler::load_x0(const llvm::Value* v) {
  if (x0_ == v) return;
  Opnd o = operand(v);
  switch (o.kind) {
    case Kind::kConst:
      emit(t_.ldx_K, Patch().set(HoleKind::kK, o.value).sym(o.sym));
      break;
    case Kind::kFrame:
      emit(t_.lea_F, Patch().set(HoleKind::kI, o.value));
      break;
    case Kind::kSlot:
      emit(v->getType()->isFloatTy() ? t_.ldx_S32 : t_.ldx_S, Patch().set(HoleKind::kA, o.value));
      break;
  }
  x0_ = v;
}

// A slot holding v's bits (constants and frame addresses are written to scratch slots).
uint32_t FunctionCompiler::slot_or_materialize(const llvm::Value* v, int scratch_index) {
  Opnd o = operand(v);
  switch (o.kind) {
    case Kind::kSlot:
      return uint32_t(o.value);
    case Kind::kConst: {
      uint32_t s = scratch(scratch_index);
      emit(t_.stk_S, Patch().set(HoleKind::kK, o.value).sym(o.sym).set(HoleKind::kC, s));
      return s;
    }
    case Kind::kFrame: {
      // frame addresses have their slot filled by the prologue
      return slots_.at(v);
    }
  }
  return 0;
}

// The operand an instruction wants in the accumulator first (nullptr: none).
const llvm::Value* FunctionCompiler::x0_operand(const llvm::Instruction& u) const {
  auto not_const = [](const llvm::Value* v) { return !isa<llvm::Constant>(v); };
  // vector instructions read every operand from slots (vector_inst)
  if (u.getType()->isVectorTy()) return nullptr;
  for (const llvm::Use& op : u.operands())
    if (op->getType()->isVectorTy()) return nullptr;
  switch (u.getOpcode()) {
    case llvm::Instruction::Add:
    case llvm::Instruction::Mul:
    case llvm::Instruction::And:
    case llvm::Instruction::Or:
    case llvm::Instruction::Xor:
      if (isa<llvm::Constant>(u.getOperand(0)) && not_const(u.getOperand(1)))
        return u.getOperand(1);
      // commutative: the operand computed just before rides in the accumulator
      if (u.getOperand(1) == u.getPrevNode() && u.getOperand(0) != u.getOperand(1) &&
          !isa<llvm::Constant>(u.getOperand(1)))
        return u.getOperand(1);
      return u.getOperand(0);
    case llvm::Instruction::Sub:
    case llvm::Instruction::Shl:
    case llvm::Instruction::LShr:
    case llvm::Instruction::AShr:
    case llvm::Instruction::UDiv:
    case llvm::Instruction::SDiv:
    case llvm::Instruction::URem:
    case llvm::Instruction::SRem:
      return u.getOperand(0);
    case llvm::Instruction::ICmp:  // the predicate is swapped with the operands
      if (isa<llvm::Constant>(u.getOperand(0)) && not_const(u.getOperand(1)))
        return u.getOperand(1);
      if (u.getOperand(1) == u.getPrevNode() && u.getOperand(0) != u.getOperand(1) &&
          !isa<llvm::Constant>(u.getOperand(0)))
        return u.getOperand(1);
      return u.getOperand(0);
    case llvm::Instruction::Trunc:
    case llvm::Instruction::ZExt:
    case llvm::Instruction::SExt:
    case llvm::Instruction::PtrToInt:
    case llvm::Instruction::IntToPtr:
    case llvm::Instruction::Freeze:
      return u.getOperand(0);
    case llvm::Instruction::BitCast:
      return u.getType()->isFloatingPointTy() ? nullptr : u.getOperand(0);
    case llvm::Instruction::Select:
      return u.getOperand(0);
    case llvm::Instruction::Br:
      return cast<llvm::BranchInst>(u).isConditional() ? u.getOperand(0) : nullptr;
    case llvm::Instruction::Switch:
      return u.getOperand(0);
    case llvm::Instruction::Ret:
      return u.getNumOperands() && !u.getOperand(0)->getType()->isFloatingPointTy()
                 ? u.getOperand(0)
                 : nullptr;
    case llvm::Instruction::Load: {
      const llvm::Value* p = u.getOperand(0);
      return isa<llvm::AllocaInst>(p) ? nullptr : p;
    }
    case llvm::Instruction::Store: {
      const llvm::Value *v = u.getOperand(0), *p = u.getOperand(1);
      if (v->getType()->isFloatingPointTy() || isa<llvm::Constant>(v)) return p;
      if (isa<llvm::AllocaInst>(p)) return v;
      if (p == u.getPrevNode() && v != p) return p;
      return v;
    }
    case llvm::Instruction::GetElementPtr: {
      const llvm::Value* base = u.getOperand(0);
      if (u.getNumOperands() == 2 && u.getOperand(1) == u.getPrevNode() &&
          base != u.getOperand(1) && !isa<llvm::AllocaInst>(base))
        return u.getOperand(1);
      return base;
    }
    default:
      return nullptr;
  }
}

// A result consumed only by the next instruction, as its accumulator operand, is not stored.
bool FunctionCompiler::forwarded(const llvm::Instruction& i) const {
  if (!i.hasOneUse()) return false;
  const llvm::Instruction* next = i.getNextNode();
  if (!next || *i.user_begin() != next || isa<llvm::PHINode>(next)) return false;
  // a GEP whose index is this value reads it from a slot unless it is the accumulator operand
  return x0_operand(*next) == &i;
}

void FunctionCompiler::store_result(const llvm::Instruction& i) {
  x0_ = &i;
  if (forwarded(i)) return;
  emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
}

void FunctionCompiler::prologue() {
  // Parameters: integers and pointers in the integer registers, float/double in SSE ones.
  int ni = 0, nf = 0;
  std::vector<std::pair<HoleKind, uint32_t>> param_slots;
  for (const llvm::Argument& a : f_.args()) {
    if (a.hasByValAttr() || a.hasInAllocaAttr() || a.hasPreallocatedAttr() ||
        a.hasAttribute(llvm::Attribute::Nest))
      fail("byval/inalloca parameter");
    llvm::Type* t = a.getType();
    if (t->isFloatTy() || t->isDoubleTy()) {
      if (nf >= kMaxFpArgs) fail("more than 8 floating-point parameters");
      if (f_.isVarArg() && nf >= 8) fail("variadic definition with stack parameters");
      param_slots.push_back({HoleKind(int(HoleKind::kQ0) + nf++), slot_of(&a)});
    } else {
      int_width(t);
      if (ni >= kMaxIntArgs) fail("more than 12 integer parameters");
      if (f_.isVarArg() && ni >= 6) fail("variadic definition with stack parameters");
      param_slots.push_back({HoleKind(int(HoleKind::kP0) + ni++), slot_of(&a)});
    }
  }
  llvm::Type* rt = f_.getReturnType();
  int fret = 0;
  if (rt->isFloatTy() || rt->isDoubleTy())
    fret = 1;
  else if (!rt->isVoidTy())
    int_width(rt);
  // Frame objects: static allocas of the entry block.
  for (const llvm::Instruction& i : f_.getEntryBlock()) {
    auto* a = dyn_cast<llvm::AllocaInst>(&i);
    if (!a) continue;
    if (!a->isStaticAlloca()) fail("dynamic alloca");
    auto size = a->getAllocationSize(dl_);
    if (!size || size->isScalable()) fail("dynamic alloca");
    uint32_t align = uint32_t(a->getAlign().value());
    if (align > 16) fail("alloca aligned to more than 16 bytes");
    uint64_t bytes = std::max<uint64_t>(size->getFixedValue(), 1);
    if (bytes > (1u << 30)) fail("alloca larger than 1 GiB");
    frame_objects_[a] = alloc_slot(uint32_t(bytes), std::max<uint32_t>(align, 8));
  }
  Patch p;
  for (auto& [k, s] : param_slots) p.set(k, s);
  if (f_.isVarArg()) {  // register save area and the caller's stack arguments (va_start)
    va_gp_ = 8 * ni;
    va_fp_ = 48 + 16 * nf;
    va_rsa_ = alloc_slot(176, 16);
    va_overflow_ = alloc_slot();
    p.set(HoleKind::kD, va_rsa_).set(HoleKind::kC, va_overflow_);
    emit(t_.entry_va[fret], p);
  } else {
    emit(t_.entry[ni][nf][fret], p);
  }
  if (prof_.counters) {
    emit(t_.count, count_patch(1, int64_t(prof_.call_heat)));
  }
  // Narrow integer parameters arrive with undefined upper bits (psABI): make them canonical.
  for (const llvm::Argument& a : f_.args()) {
    llvm::Type* t = a.getType();
    if (!t->isIntegerTy() || t->getIntegerBitWidth() == 64) continue;
    load_x0(&a);
    bool i1 = false;
    Width w = int_width(t, &i1);
    emit(i1 ? t_.trunc1 : t_.un[kTrunc][w], Patch());
    emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&a)));
  }
  // Allocas whose address is used as a value get a slot holding it.
  for (auto& [a, off] : frame_objects_) {
    uint32_t s = slot_of(a);
    emit(t_.lea_F, Patch().set(HoleKind::kI, off));
    emit(t_.stx_S, Patch().set(HoleKind::kC, s));
  }
  x0_ = nullptr;
}

void FunctionCompiler::run() {
  if (!psabi_convention(f_.getCallingConv())) fail("calling convention");
  if (!f_.doesNotThrow() && env_.module_has_eh) fail("may unwind (no unwind tables yet)");
  if (f_.hasPersonalityFn()) fail("exception handling");
  if (f_.hasGC()) fail("garbage collector");
  size_t idx = 0;
  for (const llvm::BasicBlock& b : f_) {
    block_index_[&b] = idx++;
    block_label_[&b] = new_label();
  }
  alloc_slot();  // offset 0 stays unused: a zero slot hole is always a bug
  code.reserve(f_.getInstructionCount() * 24 + 256);
  prologue();
  for (auto bi = f_.begin(); bi != f_.end(); ++bi) {
    const llvm::BasicBlock& b = *bi;
    auto nb = std::next(bi);
    next_block_ = nb == f_.end() ? nullptr : &*nb;
    bind(block_label_[&b]);
    x0_ = nullptr;
    for (const llvm::Instruction& i : b) {
      if (&i == skip_) continue;
      instruction(i);
      ++ninstr;
    }
  }
  for (size_t k = 0; k < edge_stubs_.size(); ++k) {  // may grow while emitting
    EdgeStub e = edge_stubs_[k];
    bind(e.label);
    x0_ = nullptr;
    edge_copies(e.from, e.to);
    if (prof_.counters && is_back_edge(e.from, e.to)) count_back_edge(e.to);
    emit(t_.jmp, [&] {
      Patch p;
      p.target = block_label_.at(e.to);
      return p;
    }());
  }
  for (TableFixup& t : jump_tables_) {  // jump tables: 8-byte entries after the code
    code.resize((code.size() + 7) & ~size_t(7), 0xcc);
    bind(t.label);
    t.at = uint32_t(code.size());
    code.resize(code.size() + 8 * t.targets.size(), 0);
  }
  frame_size = (frame_size + 15) & ~15u;
}

// Every absolute address in the placed code, for saving it (Compiled::relocations).
std::vector<Relocation> FunctionCompiler::relocations() const {
  std::vector<Relocation> out;
  for (const KReloc& r : krelocs_) {
    const Sym& s = syms_[size_t(r.sym - 1)];
    out.push_back({r.at, s.kind, s.addend + r.addend, s.name});
  }
  for (const AbsFixup& a : abs_fixups)
    out.push_back({a.at, SymbolKind::kSelf, labels[size_t(a.label)], ""});
  for (const TableFixup& t : jump_tables_)
    for (size_t k = 0; k < t.targets.size(); ++k)
      out.push_back({uint32_t(t.at + 8 * k), SymbolKind::kSelf, labels[size_t(t.targets[k])], ""});
  return out;
}

void FunctionCompiler::finish(uint64_t rx_base) {
  for (const Fixup& f : fixups_) {
    int64_t target = labels[size_t(f.label)];
    int32_t rel = int32_t(target + f.addend - int64_t(f.at));
    std::memcpy(code.data() + f.at, &rel, 4);
  }
  for (size_t k = 0; k < frame_size_sites_.size(); ++k) {
    uint32_t v = frame_size + uint32_t(frame_size_addends_[k]);
    std::memcpy(code.data() + frame_size_sites_[k], &v, 4);
  }
  for (const AbsFixup& a : abs_fixups) {
    uint64_t v = rx_base + uint64_t(labels[size_t(a.label)]);
    std::memcpy(code.data() + a.at, &v, 8);
  }
  for (const TableFixup& t : jump_tables_)
    for (size_t k = 0; k < t.targets.size(); ++k) {
      uint64_t a = rx_base + uint64_t(labels[size_t(t.targets[k])]);
      std::memcpy(code.data() + t.at + 8 * k, &a, 8);
    }
}

void FunctionCompiler::instruction(const llvm::Instruction& i) {
  if (!isa<llvm::CallInst>(i)) {
    bool vec = i.getType()->isVectorTy();
    for (const llvm::Use& u : i.operands()) vec = vec || u->getType()->isVectorTy();
    if (vec) return vector_inst(i);
  }
  switch (i.getOpcode()) {
    case llvm::Instruction::Alloca:
      if (!frame_objects_.count(cast<llvm::AllocaInst>(&i))) fail("alloca outside the entry block");
      return;
    case llvm::Instruction::Add:
    case llvm::Instruction::Sub:
    case llvm::Instruction::Mul:
    case llvm::Instruction::And:
    case llvm::Instruction::Or:
    case llvm::Instruction::Xor:
    case llvm::Instruction::Shl:
    case llvm::Instruction::LShr:
    case llvm::Instruction::AShr:
    case llvm::Instruction::UDiv:
    case llvm::Instruction::SDiv:
    case llvm::Instruction::URem:
    case llvm::Instruction::SRem:
    case llvm::Instruction::FAdd:
    case llvm::Instruction::FSub:
    case llvm::Instruction::FMul:
    case llvm::Instruction::FDiv:
    case llvm::Instruction::FRem:
      return binop(cast<llvm::BinaryOperator>(i));
    case llvm::Instruction::FNeg:
      return fp_binop(kFNeg, i);
    case llvm::Instruction::ICmp: {
      auto& c = cast<llvm::ICmpInst>(i);
      const llvm::BranchInst* br = dyn_cast_or_null<llvm::BranchInst>(i.getNextNode());
      bool fuse = br && br->isConditional() && br->getCondition() == &i && i.hasOneUse();
      return icmp(c, fuse ? br : nullptr);
    }
    case llvm::Instruction::FCmp:
      return fcmp(cast<llvm::FCmpInst>(i));
    case llvm::Instruction::Trunc:
    case llvm::Instruction::ZExt:
    case llvm::Instruction::SExt:
    case llvm::Instruction::FPTrunc:
    case llvm::Instruction::FPExt:
    case llvm::Instruction::FPToSI:
    case llvm::Instruction::FPToUI:
    case llvm::Instruction::SIToFP:
    case llvm::Instruction::UIToFP:
    case llvm::Instruction::PtrToInt:
    case llvm::Instruction::IntToPtr:
    case llvm::Instruction::BitCast:
    case llvm::Instruction::AddrSpaceCast:
      return cast_inst(cast<llvm::CastInst>(i));
    case llvm::Instruction::Load:
      return load(cast<llvm::LoadInst>(i));
    case llvm::Instruction::Store:
      return store(cast<llvm::StoreInst>(i));
    case llvm::Instruction::GetElementPtr:
      return gep(cast<llvm::GetElementPtrInst>(i));
    case llvm::Instruction::Call:
      return call(cast<llvm::CallInst>(i));
    case llvm::Instruction::Ret:
      return ret(cast<llvm::ReturnInst>(i));
    case llvm::Instruction::Br:
      return branch(cast<llvm::BranchInst>(i));
    case llvm::Instruction::Switch:
      return switch_inst(cast<llvm::SwitchInst>(i));
    case llvm::Instruction::Select:
      return select(cast<llvm::SelectInst>(i));
    case llvm::Instruction::PHI:
      if (i.getType()->isStructTy()) fail("aggregate phi");
      if (!i.getType()->isFloatingPointTy())
        int_width(i.getType());
      else
        fp_type(i.getType());
      slot_of(&i);
      return;
    case llvm::Instruction::Unreachable:
      emit(t_.trap, Patch());
      return;
    case llvm::Instruction::Freeze:
      if (i.getType()->isFloatingPointTy()) {
        fp_type(i.getType());
        uint32_t s = slot_or_materialize(i.getOperand(0), 0);
        emit(t_.mov_SS, Patch().set(HoleKind::kA, s).set(HoleKind::kC, slot_of(&i)));
        return;
      }
      int_width(i.getType());
      load_x0(i.getOperand(0));
      return store_result(i);
    case llvm::Instruction::ExtractValue: {
      auto& ev = cast<llvm::ExtractValueInst>(i);
      const llvm::Value* agg = ev.getAggregateOperand();
      if (ev.getNumIndices() != 1 || ev.getIndices()[0] > 1 || !slots_.count(agg))
        fail("extractvalue");
      emit(t_.ldx_S, Patch().set(HoleKind::kA, slots_.at(agg) + 8 * ev.getIndices()[0]));
      return store_result(i);
    }
    case llvm::Instruction::AtomicRMW:
      return atomic_rmw(cast<llvm::AtomicRMWInst>(i));
    case llvm::Instruction::AtomicCmpXchg: {
      auto& x = cast<llvm::AtomicCmpXchgInst>(i);
      Width w = int_width(x.getNewValOperand()->getType());
      uint32_t p = slot_or_materialize(x.getPointerOperand(), 0);
      uint32_t e = slot_or_materialize(x.getCompareOperand(), 1);
      load_x0(x.getNewValOperand());
      emit(t_.rmw[kRCas][w],
           Patch().set(HoleKind::kA, p).set(HoleKind::kB, e).set(HoleKind::kC, slot_of(&i)));
      x0_ = nullptr;
      return;
    }
    case llvm::Instruction::Fence: {
      auto& fe = cast<llvm::FenceInst>(i);
      if (fe.getOrdering() == llvm::AtomicOrdering::SequentiallyConsistent &&
          fe.getSyncScopeID() != llvm::SyncScope::SingleThread)
        emit(t_.fence, Patch());
      return;  // acquire/release fences order nothing more than x86-64 already does
    }
    default:
      fail(i.getOpcodeName());
  }
}

void FunctionCompiler::atomic_rmw(const llvm::AtomicRMWInst& r) {
  RmwOp op;
  switch (r.getOperation()) {
    case llvm::AtomicRMWInst::Xchg:
      op = kRXchg;
      break;
    case llvm::AtomicRMWInst::Add:
      op = kRAdd;
      break;
    case llvm::AtomicRMWInst::Sub:
      op = kRSub;
      break;
    case llvm::AtomicRMWInst::And:
      op = kRAnd;
      break;
    case llvm::AtomicRMWInst::Or:
      op = kROr;
      break;
    case llvm::AtomicRMWInst::Xor:
      op = kRXor;
      break;
    default:
      fail(std::string("atomicrmw ") +
           llvm::AtomicRMWInst::getOperationName(r.getOperation()).str());
  }
  if (r.getType()->isFloatingPointTy()) fail("atomicrmw on floating point");
  bool i1 = false;
  Width w = int_width(r.getType(), &i1);
  uint32_t p = slot_or_materialize(r.getPointerOperand(), 0);
  load_x0(r.getValOperand());
  emit(t_.rmw[op][w], Patch().set(HoleKind::kA, p));
  return store_result(r);
}

void FunctionCompiler::binop(const llvm::BinaryOperator& i) {
  if (i.getType()->isFloatingPointTy()) {
    switch (i.getOpcode()) {
      case llvm::Instruction::FAdd:
        return fp_binop(kFAdd, i);
      case llvm::Instruction::FSub:
        return fp_binop(kFSub, i);
      case llvm::Instruction::FMul:
        return fp_binop(kFMul, i);
      case llvm::Instruction::FDiv:
        return fp_binop(kFDiv, i);
      default: {  // frem
        FType ft = fp_type(i.getType());
        HostFn fn = host(ft == kF32 ? "fmodf" : "fmod");
        uint32_t a = slot_or_materialize(i.getOperand(0), 0);
        uint32_t b = slot_or_materialize(i.getOperand(1), 1);
        Patch p = Patch()
                      .set(HoleKind::kA, a)
                      .set(HoleKind::kB, b)
                      .set(HoleKind::kC, slot_of(&i))
                      .set(HoleKind::kK, int64_t(fn.value));
        p.ksym = fn.sym;
        emit(t_.f[kFCall2][ft], p);
        x0_ = nullptr;
        return;
      }
    }
  }
  bool i1 = false;
  Width w = int_width(i.getType(), &i1);
  BinOp op = int_op(i.getOpcode(), i1);
  const llvm::Value *a = i.getOperand(0), *b = i.getOperand(1);
  if (x0_operand(i) == b) std::swap(a, b);  // commutative, constant first
  int_binop(op, i, a, b, w);
}

void FunctionCompiler::int_binop(BinOp op, const llvm::Instruction& i, const llvm::Value* a,
                                 const llvm::Value* b, Width w) {
  int64_t imm = 0;
  bool use_imm = false;
  uint32_t bslot = 0;
  if (auto* c = dyn_cast<llvm::Constant>(b)) {
    CVal v = cval(c);  // an address is never an immediate: it must stay relocatable
    use_imm = !v.sym && as_imm(v.bits, w, &imm);
    if (!use_imm) bslot = slot_or_materialize(b, 0);
  } else if (b == x0_ && a != b) {
    // b sits in the accumulator (cached): keep it in its slot and load a
    bslot = slot_of(b);
  } else {
    bslot = slot_or_materialize(b, 0);
  }
  load_x0(a);
  emit(t_.bin[op][w][use_imm],
       use_imm ? Patch().set(HoleKind::kI, imm) : Patch().set(HoleKind::kB, bslot));
  store_result(i);
}

void FunctionCompiler::fp_binop(FOp op, const llvm::Instruction& i) {
  FType ft = fp_type(i.getType());
  uint32_t a = slot_or_materialize(i.getOperand(0), 0);
  uint32_t b = op == kFNeg ? 0 : slot_or_materialize(i.getOperand(1), 1);
  emit(t_.f[op][ft],
       Patch().set(HoleKind::kA, a).set(HoleKind::kB, b).set(HoleKind::kC, slot_of(&i)));
  x0_ = nullptr;
}

int pred_index(llvm::CmpInst::Predicate p) {
  switch (p) {
    case llvm::CmpInst::ICMP_EQ:
      return 0;
    case llvm::CmpInst::ICMP_NE:
      return 1;
    case llvm::CmpInst::ICMP_UGT:
      return 2;
    case llvm::CmpInst::ICMP_UGE:
      return 3;
    case llvm::CmpInst::ICMP_ULT:
      return 4;
    case llvm::CmpInst::ICMP_ULE:
      return 5;
    case llvm::CmpInst::ICMP_SGT:
      return 6;
    case llvm::CmpInst::ICMP_SGE:
      return 7;
    case llvm::CmpInst::ICMP_SLT:
      return 8;
    default:
      return 9;  // SLE
  }
}

void FunctionCompiler::icmp(const llvm::ICmpInst& i, const llvm::BranchInst* fused) {
  const llvm::Value *a = i.getOperand(0), *b = i.getOperand(1);
  llvm::CmpInst::Predicate pred = i.getPredicate();
  if (x0_operand(i) == b && a != b) {
    std::swap(a, b);
    pred = llvm::CmpInst::getSwappedPredicate(pred);
  }
  bool i1 = false;
  Width w = int_width(a->getType(), &i1);
  if (i1 && llvm::CmpInst::isSigned(pred)) fail("signed compare of i1");
  int64_t imm = 0;
  bool use_imm = false;
  uint32_t bslot = 0;
  if (auto* c = dyn_cast<llvm::Constant>(b)) {
    CVal v = cval(c);
    use_imm = !v.sym && as_imm(v.bits, w, &imm);
    if (!use_imm) bslot = slot_or_materialize(b, 0);
  } else {
    bslot = slot_or_materialize(b, 0);
  }
  load_x0(a);
  Patch p = use_imm ? Patch().set(HoleKind::kI, imm) : Patch().set(HoleKind::kB, bslot);
  const llvm::BasicBlock* taken = fused ? fused->getSuccessor(0) : nullptr;
  const llvm::BasicBlock* other = fused ? fused->getSuccessor(1) : nullptr;
  if (fused && taken == next_block_ && other != next_block_) {  // fall through to the true side
    std::swap(taken, other);
    pred = llvm::CmpInst::getInversePredicate(pred);
  }
  int pi = pred_index(pred);
  bool zero = use_imm && imm == 0 && pi <= 1;  // eq/ne against zero: `test`
  if (!fused) {
    emit(zero ? t_.icmpz[pi][w] : t_.icmp[pi][w][use_imm], p);
    return store_result(i);
  }
  // compare-and-branch: true edge to its label (or edge stub), false edge inline
  const llvm::BasicBlock* from = fused->getParent();
  p.target = edge_label(from, taken);
  emit(zero ? t_.brzero[pi][w] : t_.br[pi][w][use_imm], p);
  skip_ = fused;
  jump_to(from, other);
}

void FunctionCompiler::fcmp(const llvm::FCmpInst& i) {
  FType ft = fp_type(i.getOperand(0)->getType());
  llvm::CmpInst::Predicate p = i.getPredicate();
  if (p == llvm::CmpInst::FCMP_TRUE || p == llvm::CmpInst::FCMP_FALSE) {
    emit(t_.ldx_K, Patch().set(HoleKind::kK, p == llvm::CmpInst::FCMP_TRUE));
    return store_result(i);
  }
  static const llvm::CmpInst::Predicate order[] = {
      llvm::CmpInst::FCMP_OEQ, llvm::CmpInst::FCMP_OGT, llvm::CmpInst::FCMP_OGE,
      llvm::CmpInst::FCMP_OLT, llvm::CmpInst::FCMP_OLE, llvm::CmpInst::FCMP_ONE,
      llvm::CmpInst::FCMP_ORD, llvm::CmpInst::FCMP_UNO, llvm::CmpInst::FCMP_UEQ,
      llvm::CmpInst::FCMP_UGT, llvm::CmpInst::FCMP_UGE, llvm::CmpInst::FCMP_ULT,
      llvm::CmpInst::FCMP_ULE, llvm::CmpInst::FCMP_UNE};
  int k = 0;
  while (order[k] != p) ++k;
  uint32_t a = slot_or_materialize(i.getOperand(0), 0);
  uint32_t b = slot_or_materialize(i.getOperand(1), 1);
  emit(t_.fcmp[k][ft], Patch().set(HoleKind::kA, a).set(HoleKind::kB, b));
  store_result(i);
}

void FunctionCompiler::unary_int(UnOp op, const llvm::Instruction& i, const llvm::Value* a,
                                 Width w) {
  const Stencil* s = t_.un[op][w];
  if (!s) fail(std::string(kUnName[op]) + " of i" + std::to_string(width_bits(w)));
  load_x0(a);
  emit(s, Patch());
  store_result(i);
}

void FunctionCompiler::cast_inst(const llvm::CastInst& i) {
  llvm::Type *src = i.getSrcTy(), *dst = i.getDestTy();
  const llvm::Value* a = i.getOperand(0);
  switch (i.getOpcode()) {
    case llvm::Instruction::Trunc: {
      int_width(src);
      bool i1 = false;
      Width w = int_width(dst, &i1);
      load_x0(a);
      emit(i1 ? t_.trunc1 : t_.un[kTrunc][w], Patch());
      return store_result(i);
    }
    case llvm::Instruction::ZExt:
    case llvm::Instruction::IntToPtr:
      int_width(src);
      int_width(dst);
      load_x0(a);
      return store_result(i);
    case llvm::Instruction::PtrToInt: {
      int_width(src);
      bool i1 = false;
      Width w = int_width(dst, &i1);
      load_x0(a);
      if (w != kW64) emit(i1 ? t_.trunc1 : t_.un[kTrunc][w], Patch());
      return store_result(i);
    }
    case llvm::Instruction::SExt: {
      bool s1 = false, d1 = false;
      Width ws = int_width(src, &s1), wd = int_width(dst, &d1);
      load_x0(a);
      emit(s1 ? t_.sext1 : t_.un[kSext64][ws], Patch());
      if (wd != kW64) emit(t_.un[kTrunc][wd], Patch());
      return store_result(i);
    }
    case llvm::Instruction::BitCast:
    case llvm::Instruction::AddrSpaceCast: {
      if (src->isVectorTy() || dst->isVectorTy()) fail("vector type");
      if (i.getOpcode() == llvm::Instruction::AddrSpaceCast) fail("addrspacecast");
      if (dst->isFloatingPointTy()) {  // int → fp bits, or fp → fp
        fp_type(dst);
        uint32_t s = slot_or_materialize(a, 0);
        if (src->isFloatTy() || src->isIntegerTy(32)) {  // keep the upper half clean
          emit(t_.ldx_S32, Patch().set(HoleKind::kA, s));
          emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
        } else {
          emit(t_.mov_SS, Patch().set(HoleKind::kA, s).set(HoleKind::kC, slot_of(&i)));
        }
        x0_ = nullptr;
        return;
      }
      int_width(dst);
      if (src->isFloatingPointTy()) fp_type(src);
      load_x0(a);  // f32 sources load 32 bits
      return store_result(i);
    }
    case llvm::Instruction::FPExt:
    case llvm::Instruction::FPTrunc: {
      FType fs = fp_type(src), fd = fp_type(dst);
      uint32_t s = slot_or_materialize(a, 0);
      if (fs == fd) {
        emit(t_.mov_SS, Patch().set(HoleKind::kA, s).set(HoleKind::kC, slot_of(&i)));
      } else {
        emit(fs == kF32 ? t_.fpext : t_.fptrunc,
             Patch().set(HoleKind::kA, s).set(HoleKind::kC, slot_of(&i)));
      }
      x0_ = nullptr;
      return;
    }
    case llvm::Instruction::SIToFP:
    case llvm::Instruction::UIToFP: {
      bool i1 = false;
      Width w = int_width(src, &i1);
      if (i1 && i.getOpcode() == llvm::Instruction::SIToFP) fail("sitofp of i1");
      FType ft = fp_type(dst);
      uint32_t s = slot_or_materialize(a, 0);
      emit(t_.cvt[i.getOpcode() == llvm::Instruction::SIToFP ? kSIToFP : kUIToFP][w][ft],
           Patch().set(HoleKind::kA, s).set(HoleKind::kC, slot_of(&i)));
      x0_ = nullptr;
      return;
    }
    case llvm::Instruction::FPToSI:
    case llvm::Instruction::FPToUI: {
      FType ft = fp_type(src);
      bool i1 = false;
      Width w = int_width(dst, &i1);
      uint32_t s = slot_or_materialize(a, 0);
      emit(t_.cvt[i.getOpcode() == llvm::Instruction::FPToSI ? kFPToSI : kFPToUI][w][ft],
           Patch().set(HoleKind::kA, s));
      if (i1) emit(t_.trunc1, Patch());
      return store_result(i);
    }
    default:
      fail(i.getOpcodeName());
  }
}

void FunctionCompiler::load(const llvm::LoadInst& i) {
  llvm::Type* t = i.getType();
  Width w;
  if (t->isFloatingPointTy())
    w = fp_type(t) == kF32 ? kW32 : kW64;
  else
    w = int_width(t);
  const llvm::Value* p = i.getPointerOperand();
  Opnd o = operand(p);
  if (o.kind == Kind::kFrame) {
    emit(t_.mem[kLdF][w], Patch().set(HoleKind::kI, o.value));
  } else if (o.kind == Kind::kConst) {
    load_x0(p);
    emit(t_.mem[kLd][w], Patch());
  } else if (x0_ == p) {
    load_x0(p);
    emit(t_.mem[kLd][w], Patch());
  } else {
    emit(t_.mem[kLdS][w], Patch().set(HoleKind::kA, o.value));
  }
  if (t->isFloatingPointTy()) {  // fp values live in slots
    x0_ = nullptr;
    emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
    return;
  }
  store_result(i);
}

void FunctionCompiler::store(const llvm::StoreInst& i) {
  const llvm::Value *v = i.getValueOperand(), *p = i.getPointerOperand();
  llvm::Type* t = v->getType();
  Width w;
  if (t->isFloatingPointTy())
    w = fp_type(t) == kF32 ? kW32 : kW64;
  else
    w = int_width(t);
  bool seq_cst = i.isAtomic() && i.getOrdering() == llvm::AtomicOrdering::SequentiallyConsistent;
  Opnd po = operand(p);
  if (seq_cst) {
    uint32_t ps = slot_or_materialize(p, 0);
    if (t->isFloatingPointTy()) {
      emit(w == kW32 ? t_.ldx_S32 : t_.ldx_S, Patch().set(HoleKind::kA, slot_or_materialize(v, 1)));
      x0_ = nullptr;
    } else {
      load_x0(v);
    }
    emit(t_.mem[kStSC][w], Patch().set(HoleKind::kB, ps));
    return;
  }
  int64_t imm = 0;
  if (auto* c = dyn_cast<llvm::Constant>(v); c && [&] {
        CVal cv = cval(c);
        return !cv.sym && as_imm(cv.bits, w, &imm);
      }()) {
    if (po.kind == Kind::kFrame) {
      emit(t_.mem[kStKF][w], Patch().set(HoleKind::kI, po.value).set(HoleKind::kJ, imm));
    } else {
      load_x0(p);
      emit(t_.mem[kStKX][w], Patch().set(HoleKind::kJ, imm));
    }
    return;
  }
  if (t->isFloatingPointTy() || isa<llvm::Constant>(v)) {  // value from a slot
    uint32_t vs = slot_or_materialize(v, 1);
    if (po.kind == Kind::kFrame) {
      emit(w == kW32 && t->isFloatTy() ? t_.ldx_S32 : t_.ldx_S, Patch().set(HoleKind::kA, vs));
      x0_ = nullptr;
      emit(t_.mem[kStF][w], Patch().set(HoleKind::kI, po.value));
      return;
    }
    load_x0(p);
    emit(t_.mem[kStP][w], Patch().set(HoleKind::kA, vs));
    return;
  }
  if (po.kind == Kind::kFrame) {
    load_x0(v);
    emit(t_.mem[kStF][w], Patch().set(HoleKind::kI, po.value));
    return;
  }
  if (x0_operand(i) == p || x0_ == p) {
    uint32_t vs = slot_or_materialize(v, 1);
    load_x0(p);
    emit(t_.mem[kStP][w], Patch().set(HoleKind::kA, vs));
    return;
  }
  uint32_t ps = po.kind == Kind::kSlot ? uint32_t(po.value) : slot_or_materialize(p, 0);
  load_x0(v);
  emit(t_.mem[kSt][w], Patch().set(HoleKind::kB, ps));
}

void FunctionCompiler::gep(const llvm::GetElementPtrInst& i) {
  if (i.getType()->isVectorTy()) fail("vector type");
  int64_t off = 0;
  struct Var {
    const llvm::Value* v;
    int64_t scale;
    uint32_t slot;
    bool i32;
  };
  Var vars[4];
  int nvars = 0;
  for (auto it = llvm::gep_type_begin(&i), e = llvm::gep_type_end(&i); it != e; ++it) {
    const llvm::Value* idx = it.getOperand();
    if (llvm::StructType* st = it.getStructTypeOrNull()) {
      off += int64_t(dl_.getStructLayout(st)->getElementOffset(
          unsigned(cast<llvm::ConstantInt>(idx)->getZExtValue())));
      continue;
    }
    llvm::TypeSize ts = it.getSequentialElementStride(dl_);
    if (ts.isScalable()) fail("scalable vector");
    int64_t size = int64_t(ts.getFixedValue());
    if (auto* c = dyn_cast<llvm::ConstantInt>(idx)) {
      if (c->getBitWidth() > 64) fail("i" + std::to_string(c->getBitWidth()));
      off += c->getSExtValue() * size;
      continue;
    }
    if (isa<llvm::Constant>(idx)) {  // undef/poison index: any address will do
      continue;
    }
    if (idx->getType()->isVectorTy()) fail("vector type");
    if (size == 0) continue;
    if (nvars == 4) fail("GEP with more than 4 variable indices");
    vars[nvars++] = {idx, size, 0, false};
  }
  if (!fits_i32(off)) fail("GEP offset beyond 2 GiB");
  const llvm::Value* base = i.getPointerOperand();
  auto scale_index = [&](int64_t s) {
    switch (s) {
      case 1:
        return 0;
      case 2:
        return 1;
      case 4:
        return 2;
      case 8:
        return 3;
      default:
        if (!fits_i32(s)) fail("GEP scale beyond 2 GiB");
        return 4;
    }
  };
  auto idx_kind = [&](const llvm::Value* v, bool* narrow) {
    bool i1 = false;
    Width w = int_width(v->getType(), &i1);
    *narrow = i1 || w == kW8 || w == kW16;
    return w;
  };
  if (nvars == 1 && x0_operand(i) == vars[0].v) {
    // x0 = base + idx(x0) * scale + off
    uint32_t bslot = slot_or_materialize(base, 0);
    bool narrow = false;
    Width w = idx_kind(vars[0].v, &narrow);
    load_x0(vars[0].v);
    bool i32 = w == kW32;
    if (narrow) {
      bool i1 = false;
      int_width(vars[0].v->getType(), &i1);
      emit(i1 ? t_.sext1 : t_.un[kSext64][w], Patch());
    }
    int sc = scale_index(vars[0].scale);
    emit(t_.gep[1][i32][sc],
         Patch().set(HoleKind::kA, bslot).set(HoleKind::kJ, off).set(HoleKind::kI, vars[0].scale));
    return store_result(i);
  }
  // narrow indices are sign-extended into scratch slots first (this uses the accumulator)
  for (int k = 0; k < nvars; ++k) {
    bool narrow = false;
    Width w = idx_kind(vars[k].v, &narrow);
    vars[k].i32 = w == kW32;
    if (narrow) {
      bool i1 = false;
      int_width(vars[k].v->getType(), &i1);
      load_x0(vars[k].v);
      emit(i1 ? t_.sext1 : t_.un[kSext64][w], Patch());
      vars[k].slot = scratch(2 + k);
      emit(t_.stx_S, Patch().set(HoleKind::kC, vars[k].slot));
      x0_ = nullptr;
    } else {
      vars[k].slot = slot_or_materialize(vars[k].v, 2 + k);
    }
  }
  Opnd bo = operand(base);
  if (bo.kind == Kind::kFrame && x0_ != base) {
    int64_t a = bo.value + (nvars == 0 ? off : 0);
    if (!fits_i32(a)) fail("GEP offset beyond 2 GiB");
    emit(t_.lea_F, Patch().set(HoleKind::kI, a));
    x0_ = base;
    if (nvars == 0) return store_result(i);
  } else {
    load_x0(base);
    if (nvars == 0) {
      if (off != 0) emit(t_.bin[kAdd][kW64][1], Patch().set(HoleKind::kI, off));
      return store_result(i);
    }
  }
  for (int k = 0; k < nvars; ++k) {
    int sc = scale_index(vars[k].scale);
    emit(t_.gep[0][vars[k].i32][sc], Patch()
                                         .set(HoleKind::kB, vars[k].slot)
                                         .set(HoleKind::kJ, k == nvars - 1 ? off : 0)
                                         .set(HoleKind::kI, vars[k].scale));
  }
  store_result(i);
}

void FunctionCompiler::call(const llvm::CallInst& i) {
  if (i.isInlineAsm()) fail("inline asm");
  if (i.isMustTailCall()) fail("musttail call");
  const llvm::Function* callee = i.getCalledFunction();
  if (callee && callee->isIntrinsic()) {
    if (intrinsic(i, *callee)) return;
    fail("intrinsic " + callee->getName().str());
  }
  if (i.hasFnAttr(llvm::Attribute::ReturnsTwice) ||
      (callee && callee->hasFnAttribute(llvm::Attribute::ReturnsTwice)))
    fail("returns_twice call");
  if (!psabi_convention(i.getCallingConv())) fail("calling convention");
  host_call(i, nullptr, i.getCalledOperand());
}

void FunctionCompiler::host_call(const llvm::CallInst& i, const char* host_fn,
                                 const llvm::Value* callee_value) {
  unsigned nargs = callee_value ? unsigned(i.arg_size()) : 3;  // mem* intrinsics: 3
  int ni = 0, nf = 0;
  Patch p;
  for (unsigned k = 0; k < nargs; ++k) {
    const llvm::Value* a = i.getArgOperand(k);
    if (callee_value && (i.paramHasAttr(k, llvm::Attribute::ByVal) ||
                         i.paramHasAttr(k, llvm::Attribute::InAlloca) ||
                         i.paramHasAttr(k, llvm::Attribute::Preallocated)))
      fail("byval/inalloca argument");
    llvm::Type* t = a->getType();
    if (t->isFloatTy() || t->isDoubleTy()) {
      if (nf == kMaxFpArgs) fail("more than 8 floating-point arguments");
      p.set(HoleKind(int(HoleKind::kQ0) + nf++), slot_or_materialize(a, 2 + int(k)));
      continue;
    }
    bool i1 = false;
    Width w = int_width(t, &i1);
    if (ni == kMaxIntArgs) fail("more than 12 integer arguments");
    uint32_t s;
    if (callee_value && w < kW32 && i.paramHasAttr(k, llvm::Attribute::SExt)) {
      load_x0(a);
      emit(i1 ? t_.sext1 : t_.un[kSext64][w], Patch());
      s = scratch(2 + int(k));
      emit(t_.stx_S, Patch().set(HoleKind::kC, s));
      x0_ = nullptr;
    } else {
      s = slot_or_materialize(a, 2 + int(k));
    }
    p.set(HoleKind(int(HoleKind::kP0) + ni++), s);
  }
  if (ni > 6 && nf == kMaxFpArgs && i.arg_size() > unsigned(ni + nf))
    fail("stack arguments of both classes");
  int kind = 0;
  if (callee_value) {
    if (auto* c = dyn_cast<llvm::Constant>(callee_value)) {
      CVal v = cval(c);
      p.set(HoleKind::kK, int64_t(v.bits));
      p.ksym = v.sym;
    } else {
      kind = 1;
      p.set(HoleKind::kA, slot_or_materialize(callee_value, 1));
    }
  } else {
    HostFn h = host(host_fn);
    p.set(HoleKind::kK, int64_t(h.value));
    p.ksym = h.sym;
  }
  llvm::Type* rt = callee_value ? i.getType() : llvm::Type::getVoidTy(i.getContext());
  uint32_t junk = scratch(0);
  bool fp_ret = rt->isFloatTy() || rt->isDoubleTy();
  bool int_ret = !rt->isVoidTy() && !fp_ret;
  Width w = kW64;
  bool i1 = false;
  if (int_ret) w = int_width(rt, &i1);
  p.set(HoleKind::kC, int_ret ? slot_of(&i) : junk).set(HoleKind::kD, fp_ret ? slot_of(&i) : junk);
  emit(t_.call[kind][ni][nf], p);
  x0_ = nullptr;
  if (int_ret) {
    if (w != kW64 || i1) {  // the callee leaves the bits above the width undefined
      emit(i1 ? t_.trunc1 : t_.un[kTrunc][w], Patch());
      emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
    }
    x0_ = &i;
  }
}

void FunctionCompiler::fcall(FOp op, FType ft, const llvm::CallInst& i, const char* fn) {
  Patch p;
  p.set(HoleKind::kA, slot_or_materialize(i.getArgOperand(0), 0));
  if (op == kFCall2 || op == kFCall3)
    p.set(HoleKind::kB, slot_or_materialize(i.getArgOperand(1), 1));
  if (op == kFCall3) p.set(HoleKind::kD, slot_or_materialize(i.getArgOperand(2), 2));
  HostFn h = host(fn);
  p.set(HoleKind::kC, slot_of(&i)).set(HoleKind::kK, int64_t(h.value));
  p.ksym = h.sym;
  emit(t_.f[op][ft], p);
  x0_ = nullptr;
}

bool FunctionCompiler::intrinsic(const llvm::CallInst& i, const llvm::Function& callee) {
  using llvm::Intrinsic::ID;
  namespace I = llvm::Intrinsic;
  ID id = callee.getIntrinsicID();
  auto arg = [&](unsigned k) { return i.getArgOperand(k); };
  if (i.getType()->isVectorTy()) return vector_intrinsic(i, id);
  switch (id) {
    case I::lifetime_start:
    case I::lifetime_end:
    case I::dbg_declare:
    case I::dbg_value:
    case I::dbg_label:
    case I::dbg_assign:
    case I::assume:
    case I::experimental_noalias_scope_decl:
    case I::donothing:
    case I::sideeffect:
    case I::prefetch:
    case I::pseudoprobe:
    case I::vaend:
      return true;
    case I::vastart: {
      if (!f_.isVarArg()) return false;
      uint32_t a = slot_or_materialize(arg(0), 0);
      emit(t_.vastart, Patch()
                           .set(HoleKind::kA, a)
                           .set(HoleKind::kI, va_gp_)
                           .set(HoleKind::kJ, va_fp_)
                           .set(HoleKind::kC, va_overflow_)
                           .set(HoleKind::kD, va_rsa_));
      return true;
    }
    case I::vector_reduce_add:
    case I::vector_reduce_mul:
    case I::vector_reduce_and:
    case I::vector_reduce_or:
    case I::vector_reduce_xor:
    case I::vector_reduce_smax:
    case I::vector_reduce_smin:
    case I::vector_reduce_umax:
    case I::vector_reduce_umin:
      return vector_reduce(i, id);
    case I::load_relative: {
      if (!arg(1)->getType()->isIntegerTy(64)) return false;
      uint32_t a = slot_or_materialize(arg(0), 0);
      load_x0(arg(1));
      emit(t_.ldrel, Patch().set(HoleKind::kA, a));
      store_result(i);
      return true;
    }
    case I::vacopy: {
      uint32_t a = slot_or_materialize(arg(0), 0), b = slot_or_materialize(arg(1), 1);
      emit(t_.vacopy, Patch().set(HoleKind::kA, a).set(HoleKind::kB, b));
      return true;
    }
    case I::memcpy:
    case I::memcpy_inline:
      host_call(i, "memcpy", nullptr);
      return true;
    case I::memmove:
      host_call(i, "memmove", nullptr);
      return true;
    case I::memset:
    case I::memset_inline:
      host_call(i, "memset", nullptr);
      return true;
    case I::trap:
    case I::debugtrap:
    case I::ubsantrap:
      emit(t_.trap, Patch());
      return true;
    case I::expect:
    case I::expect_with_probability:
      int_width(i.getType());
      load_x0(arg(0));
      store_result(i);
      return true;
    default:
      return int_intrinsic(i, id) || fp_intrinsic(i, id);
  }
}

// Integer intrinsics: bit counts, min/max/abs, saturating and funnel shifts, overflow.
bool FunctionCompiler::int_intrinsic(const llvm::CallInst& i, llvm::Intrinsic::ID id) {
  using llvm::Intrinsic::ID;
  namespace I = llvm::Intrinsic;
  auto arg = [&](unsigned k) { return i.getArgOperand(k); };
  switch (id) {
    case I::ctlz:
    case I::cttz:
    case I::ctpop:
    case I::bswap:
    case I::abs: {
      bool i1 = false;
      Width w = int_width(i.getType(), &i1);
      if (i1) return false;
      UnOp op = id == I::ctlz    ? kCtlz
                : id == I::cttz  ? kCttz
                : id == I::ctpop ? kCtpop
                : id == I::bswap ? kBswap
                                 : kAbs;
      unary_int(op, i, arg(0), w);
      return true;
    }
    case I::smin:
    case I::smax:
    case I::umin:
    case I::umax:
    case I::uadd_sat:
    case I::usub_sat:
    case I::sadd_sat:
    case I::ssub_sat: {
      bool i1 = false;
      Width w = int_width(i.getType(), &i1);
      if (i1) return false;
      BinOp op = id == I::smin       ? kSMin
                 : id == I::smax     ? kSMax
                 : id == I::umin     ? kUMin
                 : id == I::umax     ? kUMax
                 : id == I::uadd_sat ? kUAddSat
                 : id == I::usub_sat ? kUSubSat
                 : id == I::sadd_sat ? kSAddSat
                                     : kSSubSat;
      int_binop(op, i, arg(0), arg(1), w);
      return true;
    }
    case I::fshl:
    case I::fshr: {
      bool i1 = false;
      Width w = int_width(i.getType(), &i1);
      if (i1) return false;
      uint32_t b = slot_or_materialize(arg(1), 0), c = slot_or_materialize(arg(2), 1);
      load_x0(arg(0));
      emit(id == I::fshl ? t_.fshl[w] : t_.fshr[w],
           Patch().set(HoleKind::kB, b).set(HoleKind::kC, c));
      store_result(i);
      return true;
    }
    case I::uadd_with_overflow:
    case I::sadd_with_overflow:
    case I::usub_with_overflow:
    case I::ssub_with_overflow:
    case I::umul_with_overflow:
    case I::smul_with_overflow: {
      bool i1 = false;
      Width w = int_width(arg(0)->getType(), &i1);
      if (i1) return false;
      OvfOp op = id == I::uadd_with_overflow   ? kUAddO
                 : id == I::sadd_with_overflow ? kSAddO
                 : id == I::usub_with_overflow ? kUSubO
                 : id == I::ssub_with_overflow ? kSSubO
                 : id == I::umul_with_overflow ? kUMulO
                                               : kSMulO;
      uint32_t b = slot_or_materialize(arg(1), 0);
      load_x0(arg(0));
      emit(t_.ovf[op][w], Patch().set(HoleKind::kB, b).set(HoleKind::kC, slot_of(&i)));
      x0_ = nullptr;
      return true;
    }
    default:
      return false;
  }
}

// Floating-point intrinsics: fabs/sqrt in stencils, fmuladd as a multiply and an add, the
// rest as calls to libm.
bool FunctionCompiler::fp_intrinsic(const llvm::CallInst& i, llvm::Intrinsic::ID id) {
  using llvm::Intrinsic::ID;
  namespace I = llvm::Intrinsic;
  auto arg = [&](unsigned k) { return i.getArgOperand(k); };
  auto fty = [&] { return fp_type(i.getType()); };
  // One-argument libm functions: {intrinsic, float name, double name}.
  static constexpr struct {
    ID id;
    const char *f32, *f64;
  } kLibm1[] = {{I::floor, "floorf", "floor"}, {I::ceil, "ceilf", "ceil"},
                {I::trunc, "truncf", "trunc"}, {I::round, "roundf", "round"},
                {I::rint, "rintf", "rint"},    {I::nearbyint, "nearbyintf", "nearbyint"},
                {I::exp, "expf", "exp"},       {I::exp2, "exp2f", "exp2"},
                {I::log, "logf", "log"},       {I::log2, "log2f", "log2"},
                {I::log10, "log10f", "log10"}, {I::sin, "sinf", "sin"},
                {I::cos, "cosf", "cos"}};
  for (const auto& l : kLibm1)
    if (l.id == id) {
      FType ft = fty();
      fcall(kFCall1, ft, i, ft == kF32 ? l.f32 : l.f64);
      return true;
    }
  switch (id) {
    case I::fabs:
    case I::sqrt: {
      FType ft = fty();
      uint32_t a = slot_or_materialize(arg(0), 0);
      emit(t_.f[id == I::fabs ? kFAbs : kFSqrt][ft],
           Patch().set(HoleKind::kA, a).set(HoleKind::kC, slot_of(&i)));
      x0_ = nullptr;
      return true;
    }
    case I::fma: {
      FType ft = fty();
      fcall(kFCall3, ft, i, ft == kF32 ? "fmaf" : "fma");
      return true;
    }
    case I::fmuladd: {  // fused or not is the target's choice: x86-64 without FMA does not fuse
      FType ft = fty();
      uint32_t a = slot_or_materialize(arg(0), 0);
      uint32_t b = slot_or_materialize(arg(1), 1);
      uint32_t product = scratch(3);
      emit(t_.f[kFMul][ft],
           Patch().set(HoleKind::kA, a).set(HoleKind::kB, b).set(HoleKind::kC, product));
      uint32_t c = slot_or_materialize(arg(2), 2);
      emit(t_.f[kFAdd][ft],
           Patch().set(HoleKind::kA, product).set(HoleKind::kB, c).set(HoleKind::kC, slot_of(&i)));
      x0_ = nullptr;
      return true;
    }
    case I::copysign:
    case I::minnum:
    case I::maxnum:
    case I::pow: {
      FType ft = fty();
      const char* fn = id == I::copysign ? (ft == kF32 ? "copysignf" : "copysign")
                       : id == I::minnum ? (ft == kF32 ? "fminf" : "fmin")
                       : id == I::maxnum ? (ft == kF32 ? "fmaxf" : "fmax")
                                         : (ft == kF32 ? "powf" : "pow");
      fcall(kFCall2, ft, i, fn);
      return true;
    }
    default:
      return false;
  }
}

void FunctionCompiler::ret(const llvm::ReturnInst& i) {
  const llvm::Value* v = i.getReturnValue();
  if (!v) {
    for (const llvm::Argument& a : f_.args())
      if (a.hasStructRetAttr()) load_x0(&a);  // the psABI returns the sret pointer in rax
    emit(t_.ret_X, Patch());
    return;
  }
  if (v->getType()->isFloatingPointTy()) {
    emit(t_.ret_S, Patch().set(HoleKind::kA, slot_or_materialize(v, 0)));
    return;
  }
  load_x0(v);
  emit(t_.ret_X, Patch());
}

int FunctionCompiler::edge_label(const llvm::BasicBlock* from, const llvm::BasicBlock* to) {
  bool counted = prof_.counters && is_back_edge(from, to);
  if (!counted && !isa<llvm::PHINode>(to->front())) return block_label_.at(to);
  for (const EdgeStub& e : edge_stubs_)
    if (e.from == from && e.to == to) return e.label;
  int l = new_label();
  edge_stubs_.push_back({l, from, to});
  return l;
}

void FunctionCompiler::edge_copies(const llvm::BasicBlock* from, const llvm::BasicBlock* to) {
  struct Copy {
    uint32_t dst;
    const llvm::Value* src;
    int lane;  // -1: a scalar; else the lane of a vector
  };
  std::vector<Copy> copies;
  bool hazard = false;
  for (const llvm::PHINode& phi : to->phis()) {
    const llvm::Value* src = phi.getIncomingValueForBlock(from);
    if (src == &phi) continue;
    if (phi.getType()->isVectorTy()) {
      unsigned n = vec_type(phi.getType()).n;
      for (unsigned k = 0; k < n; ++k) copies.push_back({slot_of(&phi) + 8 * k, src, int(k)});
    } else {
      copies.push_back({slot_of(&phi), src, -1});
    }
    if (auto* sp = dyn_cast<llvm::PHINode>(src); sp && sp->getParent() == to) hazard = true;
  }
  auto copy = [&](uint32_t dst, const Copy& c) {
    const llvm::Value* src = c.src;
    Opnd o = c.lane >= 0 ? lane(src, unsigned(c.lane)) : operand(src);
    if (o.kind == Kind::kConst)
      emit(t_.stk_S, Patch().set(HoleKind::kK, o.value).sym(o.sym).set(HoleKind::kC, dst));
    else
      emit(t_.mov_SS,
           Patch()
               .set(HoleKind::kA, o.kind == Kind::kFrame ? slots_.at(src) : uint32_t(o.value))
               .set(HoleKind::kC, dst));
  };
  if (!hazard) {
    for (const Copy& c : copies) copy(c.dst, c);
    return;
  }
  std::vector<uint32_t> tmp;
  for (size_t k = 0; k < copies.size(); ++k) {
    tmp.push_back(scratch(int(2 + k)));
    copy(tmp.back(), copies[k]);
  }
  for (size_t k = 0; k < copies.size(); ++k)
    emit(t_.mov_SS, Patch().set(HoleKind::kA, tmp[k]).set(HoleKind::kC, copies[k].dst));
}

void FunctionCompiler::count_back_edge(const llvm::BasicBlock* to) {
  emit(t_.count, count_patch(0, 1));
  if (!prof_.osr_table) return;
  // The OSR check: after the edge's phi copies, so the frame holds the header's entry state.
  int64_t cell = 8 * int64_t(block_index_.at(to));
  Patch p = Patch()
                .set(HoleKind::kK, int64_t(uint64_t(prof_.osr_table)) + cell)
                .set(HoleKind::kI, int64_t(block_index_.at(to)));
  p.ksym = add_sym(SymbolKind::kOsr, "", cell);
  emit(t_.osr, p);
  osr_checks_ = true;
}

// The profile counter stencil: calls += calls, heat += heat, the hook on crossing.
Patch FunctionCompiler::count_patch(int64_t calls, int64_t heat) {
  Patch p = Patch()
                .set(HoleKind::kK, int64_t(prof_.counters))
                .set(HoleKind::kK2, int64_t(prof_.hook))
                .set(HoleKind::kD, calls)
                .set(HoleKind::kJ, heat)
                .set(HoleKind::kI, int64_t(std::min<uint64_t>(prof_.threshold, INT32_MAX)))
                .set(HoleKind::kA, prof_.id)
                .set(HoleKind::kB, prof_.next_level);
  if (!counters_sym_) {
    counters_sym_ = add_sym(SymbolKind::kCounters, "", 0);
    hook_sym_ = add_sym(SymbolKind::kHook, "", 0);
  }
  p.ksym = counters_sym_;
  p.k2sym = hook_sym_;
  return p;
}

void FunctionCompiler::jump_to(const llvm::BasicBlock* from, const llvm::BasicBlock* to) {
  edge_copies(from, to);
  if (prof_.counters && is_back_edge(from, to)) count_back_edge(to);
  if (to == next_block_) return;
  Patch p;
  p.target = block_label_.at(to);
  emit(t_.jmp, p);
}

void FunctionCompiler::branch(const llvm::BranchInst& i) {
  const llvm::BasicBlock* from = i.getParent();
  if (i.isUnconditional()) return jump_to(from, i.getSuccessor(0));
  const llvm::Value* c = i.getCondition();
  if (auto* k = dyn_cast<llvm::ConstantInt>(c))
    return jump_to(from, i.getSuccessor(k->isZero() ? 1 : 0));
  if (isa<llvm::Constant>(c)) return jump_to(from, i.getSuccessor(1));  // undef
  load_x0(c);
  Patch p;
  const llvm::BasicBlock *taken = i.getSuccessor(0), *other = i.getSuccessor(1);
  bool invert = taken == next_block_ && other != next_block_;  // fall through to the true side
  if (invert) std::swap(taken, other);
  p.target = edge_label(from, taken);
  emit(invert ? t_.brz : t_.brnz, p);
  jump_to(from, other);
}

void FunctionCompiler::switch_inst(const llvm::SwitchInst& i) {
  const llvm::BasicBlock* from = i.getParent();
  bool i1 = false;
  Width w = int_width(i.getCondition()->getType(), &i1);
  load_x0(i.getCondition());
  unsigned n = i.getNumCases();
  uint64_t mask = w == kW64 ? ~uint64_t(0) : (uint64_t(1) << width_bits(w)) - 1;
  uint64_t lo = ~uint64_t(0), hi = 0;
  for (auto& c : i.cases()) {
    uint64_t v = c.getCaseValue()->getZExtValue() & mask;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  int64_t lo_imm = 0;
  if (n >= 4 && hi - lo < 4096 && hi - lo + 1 <= 4 * uint64_t(n) && as_imm(lo, w, &lo_imm)) {
    uint64_t range = hi - lo + 1;
    int dflt = edge_label(from, i.getDefaultDest());
    TableFixup t;
    t.targets.assign(range, dflt);
    for (auto& c : i.cases())
      t.targets[(c.getCaseValue()->getZExtValue() & mask) - lo] =
          edge_label(from, c.getCaseSuccessor());
    int table = new_label();
    Patch p;
    p.set(HoleKind::kJ, lo_imm).set(HoleKind::kI, int64_t(range));
    size_t before = code.size();
    emit(t_.jtab[w], p);
    // the K hole holds the table's address: patched once the code is placed
    for (uint16_t k = 0; k < t_.jtab[w]->nholes; ++k)
      if (t_.jtab[w]->holes[k].kind == HoleKind::kK)
        abs_fixups.push_back({uint32_t(before + t_.jtab[w]->holes[k].offset), table});
    t.label = table;
    jump_tables_.push_back(std::move(t));
  } else {
    for (auto& c : i.cases()) {
      uint64_t v = c.getCaseValue()->getZExtValue() & mask;
      int64_t imm = 0;
      Patch p;
      p.target = edge_label(from, c.getCaseSuccessor());
      if (as_imm(v, w, &imm)) {
        emit(t_.br[0][w][1], p.set(HoleKind::kI, imm));
      } else {
        uint32_t s = scratch(0);
        emit(t_.stk_S, Patch().set(HoleKind::kK, int64_t(v)).set(HoleKind::kC, s));
        emit(t_.br[0][w][0], p.set(HoleKind::kB, s));
      }
    }
  }
  jump_to(from, i.getDefaultDest());
}

void FunctionCompiler::select(const llvm::SelectInst& i) {
  llvm::Type* t = i.getType();
  bool fp = t->isFloatingPointTy();
  if (fp)
    fp_type(t);
  else
    int_width(t);
  int_width(i.getCondition()->getType());
  uint32_t a = slot_or_materialize(i.getTrueValue(), 0);
  uint32_t b = slot_or_materialize(i.getFalseValue(), 1);
  load_x0(i.getCondition());
  emit(t_.sel, Patch().set(HoleKind::kA, a).set(HoleKind::kB, b));
  if (fp) {
    emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
    x0_ = nullptr;
    return;
  }
  store_result(i);
}

bool FunctionCompiler::vector_reduce(const llvm::CallInst& i, llvm::Intrinsic::ID id) {
  namespace I = llvm::Intrinsic;
  const llvm::Value* v = i.getArgOperand(0);
  VecType vt = vec_type(v->getType());
  if (vt.elem->isFloatingPointTy()) return false;
  bool i1 = false;
  Width w = int_width(vt.elem, &i1);
  BinOp op = id == I::vector_reduce_add    ? kAdd
             : id == I::vector_reduce_mul  ? kMul
             : id == I::vector_reduce_and  ? kAnd
             : id == I::vector_reduce_or   ? kOr
             : id == I::vector_reduce_xor  ? kXor
             : id == I::vector_reduce_smax ? kSMax
             : id == I::vector_reduce_smin ? kSMin
             : id == I::vector_reduce_umax ? kUMax
                                           : kUMin;
  if (i1 && (op == kAdd || op == kMul)) op = op == kAdd ? kXor : kAnd;
  if (i1 && op != kAnd && op != kOr && op != kXor) return false;
  lane_x0(v, 0);
  for (unsigned k = 1; k < vt.n; ++k) {
    Opnd o = lane(v, k);
    int64_t imm = 0;
    if (o.kind == Kind::kConst && !o.sym && as_imm(uint64_t(o.value), w, &imm)) {
      emit(t_.bin[op][w][1], Patch().set(HoleKind::kI, imm));
    } else {
      emit(t_.bin[op][w][0], Patch().set(HoleKind::kB, lane_slot(v, k, 0)));
    }
  }
  store_result(i);
  return true;
}

// Elementwise integer intrinsics on vectors, lane by lane.
bool FunctionCompiler::vector_intrinsic(const llvm::CallInst& i, llvm::Intrinsic::ID id) {
  namespace I = llvm::Intrinsic;
  VecType vt = vec_type(i.getType());
  if (vt.elem->isFloatingPointTy()) return false;
  bool i1 = false;
  Width w = int_width(vt.elem, &i1);
  if (i1) return false;
  uint32_t dst = slot_of(&i);
  const llvm::Value* a = i.getArgOperand(0);
  int bin = -1, un = -1;
  switch (id) {
    case I::smin:
      bin = kSMin;
      break;
    case I::smax:
      bin = kSMax;
      break;
    case I::umin:
      bin = kUMin;
      break;
    case I::umax:
      bin = kUMax;
      break;
    case I::uadd_sat:
      bin = kUAddSat;
      break;
    case I::usub_sat:
      bin = kUSubSat;
      break;
    case I::sadd_sat:
      bin = kSAddSat;
      break;
    case I::ssub_sat:
      bin = kSSubSat;
      break;
    case I::abs:
      un = kAbs;
      break;
    case I::ctpop:
      un = kCtpop;
      break;
    case I::ctlz:
      un = kCtlz;
      break;
    case I::cttz:
      un = kCttz;
      break;
    case I::bswap:
      un = kBswap;
      break;
    default:
      return false;
  }
  if (un >= 0 && !t_.un[un][w]) return false;
  for (unsigned k = 0; k < vt.n; ++k) {
    if (bin >= 0) {
      uint32_t b = lane_slot(i.getArgOperand(1), k, 0);
      lane_x0(a, k);
      emit(t_.bin[bin][w][0], Patch().set(HoleKind::kB, b));
    } else {
      lane_x0(a, k);
      emit(t_.un[un][w], Patch());
    }
    emit(t_.stx_S, Patch().set(HoleKind::kC, dst + 8 * k));
  }
  x0_ = nullptr;
  return true;
}

// Vectors lane by lane: one helper per instruction kind.
void FunctionCompiler::vector_inst(const llvm::Instruction& i) {
  switch (i.getOpcode()) {
    case llvm::Instruction::InsertElement:
      return vector_insert(i);
    case llvm::Instruction::ExtractElement:
      return vector_extract(i);
    case llvm::Instruction::ShuffleVector:
      return vector_shuffle(i);
    case llvm::Instruction::Load:
      return vector_load(i);
    case llvm::Instruction::Store:
      return vector_store(i);
    case llvm::Instruction::PHI:
      vec_type(i.getType());
      slot_of(&i);
      return;
    case llvm::Instruction::GetElementPtr:
      return vector_gep(i);
    case llvm::Instruction::Freeze: {
      VecType vt = vec_type(i.getType());
      uint32_t dst = slot_of(&i);
      for (unsigned k = 0; k < vt.n; ++k) lane_copy(dst + 8 * k, i.getOperand(0), k);
      return;
    }
    case llvm::Instruction::Select:
      return vector_select(i);
    default:
      break;
  }
  if (isa<llvm::BinaryOperator>(&i)) return vector_binop(i);
  if (isa<llvm::ICmpInst>(&i)) return vector_icmp(i);
  if (isa<llvm::CastInst>(&i)) return vector_cast(i);
  fail(std::string("vector ") + i.getOpcodeName());
}

void FunctionCompiler::vector_insert(const llvm::Instruction& i) {
  VecType vt = vec_type(i.getType());
  auto* idx = dyn_cast<llvm::ConstantInt>(i.getOperand(2));
  uint32_t dst = slot_of(&i);
  if (!idx) {  // copy every lane, then store the scalar at the run-time index
    for (unsigned k = 0; k < vt.n; ++k) lane_copy(dst + 8 * k, i.getOperand(0), k);
    uint32_t s = slot_or_materialize(i.getOperand(1), 0);
    load_x0(i.getOperand(2));
    emit(t_.lane_st, Patch().set(HoleKind::kA, s).set(HoleKind::kI, dst).set(HoleKind::kJ, vt.n));
    x0_ = nullptr;
    return;
  }
  uint64_t at = idx->getZExtValue();
  for (unsigned k = 0; k < vt.n; ++k)
    if (k != at) lane_copy(dst + 8 * k, i.getOperand(0), k);
  if (at < vt.n) {
    const llvm::Value* s = i.getOperand(1);
    Opnd o = operand(s);
    if (o.kind == Kind::kConst)
      emit(t_.stk_S, Patch().set(HoleKind::kK, o.value).sym(o.sym).set(HoleKind::kC, dst + 8 * at));
    else
      emit(t_.mov_SS,
           Patch()
               .set(HoleKind::kA, o.kind == Kind::kFrame ? slots_.at(s) : uint32_t(o.value))
               .set(HoleKind::kC, dst + 8 * at));
  }
  x0_ = nullptr;
  return;
}

void FunctionCompiler::vector_extract(const llvm::Instruction& i) {
  const llvm::Value* v = i.getOperand(0);
  VecType vt = vec_type(v->getType());
  auto* idx = dyn_cast<llvm::ConstantInt>(i.getOperand(1));
  if (!idx) {
    uint32_t base = isa<llvm::Constant>(v) ? 0 : slot_of(v);
    if (isa<llvm::Constant>(v)) {  // lanes of a constant: materialize them in order
      base = alloc_slot(8 * vt.n);
      for (unsigned k = 0; k < vt.n; ++k) lane_copy(base + 8 * k, v, k);
    }
    load_x0(i.getOperand(1));
    emit(t_.lane_ld, Patch().set(HoleKind::kI, base).set(HoleKind::kJ, vt.n));
    if (i.getType()->isFloatingPointTy()) {
      emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
      x0_ = nullptr;
      return;
    }
    return store_result(i);
  }
  uint64_t at = idx->getZExtValue();
  if (at >= vt.n) {  // poison
    emit(t_.ldx_K, Patch().set(HoleKind::kK, 0));
  } else {
    lane_x0(v, unsigned(at));
  }
  if (i.getType()->isFloatingPointTy()) {
    emit(t_.stx_S, Patch().set(HoleKind::kC, slot_of(&i)));
    x0_ = nullptr;
    return;
  }
  return store_result(i);
}

void FunctionCompiler::vector_shuffle(const llvm::Instruction& i) {
  auto& sv = cast<llvm::ShuffleVectorInst>(i);
  VecType vt = vec_type(i.getType());
  unsigned na = vec_type(sv.getOperand(0)->getType()).n;
  uint32_t dst = slot_of(&i);
  for (unsigned k = 0; k < vt.n; ++k) {
    int m = sv.getMaskValue(k);
    if (m < 0) continue;  // poison lane
    if (unsigned(m) < na)
      lane_copy(dst + 8 * k, sv.getOperand(0), unsigned(m));
    else
      lane_copy(dst + 8 * k, sv.getOperand(1), unsigned(m) - na);
  }
  x0_ = nullptr;
  return;
}

void FunctionCompiler::vector_load(const llvm::Instruction& i) {
  auto& ld = cast<llvm::LoadInst>(i);
  VecType vt = vec_type(i.getType());
  Width w = mem_width(vt.elem);
  uint32_t esize = uint32_t(dl_.getTypeAllocSize(vt.elem));
  uint32_t dst = slot_of(&i);
  Opnd po = operand(ld.getPointerOperand());
  uint32_t ps = po.kind == Kind::kFrame ? 0 : slot_or_materialize(ld.getPointerOperand(), 0);
  for (unsigned k = 0; k < vt.n; ++k) {
    if (po.kind == Kind::kFrame)
      emit(t_.mem[kLdF][w], Patch().set(HoleKind::kI, po.value + k * esize));
    else
      emit(t_.mem[kLdS][w], Patch().set(HoleKind::kA, ps).set(HoleKind::kI, k * esize));
    emit(t_.stx_S, Patch().set(HoleKind::kC, dst + 8 * k));
  }
  x0_ = nullptr;
  return;
}

void FunctionCompiler::vector_store(const llvm::Instruction& i) {
  auto& st = cast<llvm::StoreInst>(i);
  const llvm::Value* v = st.getValueOperand();
  VecType vt = vec_type(v->getType());
  Width w = mem_width(vt.elem);
  uint32_t esize = uint32_t(dl_.getTypeAllocSize(vt.elem));
  Opnd po = operand(st.getPointerOperand());
  uint32_t ps = po.kind == Kind::kFrame ? 0 : slot_or_materialize(st.getPointerOperand(), 0);
  for (unsigned k = 0; k < vt.n; ++k) {
    lane_x0(v, k);
    if (po.kind == Kind::kFrame)
      emit(t_.mem[kStF][w], Patch().set(HoleKind::kI, po.value + k * esize));
    else
      emit(t_.mem[kSt][w], Patch().set(HoleKind::kB, ps).set(HoleKind::kI, k * esize));
  }
  x0_ = nullptr;
  return;
}

// per lane: base + sum(index * stride)
void FunctionCompiler::vector_gep(const llvm::Instruction& i) {
  auto& g = cast<llvm::GetElementPtrInst>(i);
  VecType vt = vec_type(i.getType());
  uint32_t dst = slot_of(&i);
  for (unsigned k = 0; k < vt.n; ++k) {
    const llvm::Value* base = g.getPointerOperand();
    if (base->getType()->isVectorTy())
      lane_x0(base, k);
    else
      load_x0(base);
    x0_ = nullptr;
    int64_t off = 0;
    for (auto it = llvm::gep_type_begin(&g), e = llvm::gep_type_end(&g); it != e; ++it) {
      const llvm::Value* idx = it.getOperand();
      if (llvm::StructType* st = it.getStructTypeOrNull()) {
        auto* c = dyn_cast<llvm::ConstantInt>(idx);
        if (!c)
          c = dyn_cast_or_null<llvm::ConstantInt>(
              cast<llvm::Constant>(idx)->getAggregateElement(k));
        if (!c) fail("vector getelementptr");
        off += int64_t(dl_.getStructLayout(st)->getElementOffset(unsigned(c->getZExtValue())));
        continue;
      }
      int64_t size = int64_t(it.getSequentialElementStride(dl_).getFixedValue());
      bool vec_idx = idx->getType()->isVectorTy();
      Opnd o = vec_idx ? lane(idx, k) : operand(idx);
      llvm::Type* it_ty = vec_idx ? vec_type(idx->getType()).elem : idx->getType();
      unsigned bits = it_ty->getIntegerBitWidth();
      if (bits != 64 && bits != 32) fail("vector getelementptr");
      if (o.kind == Kind::kConst) {
        int64_t v = bits == 32 ? int64_t(int32_t(uint32_t(o.value))) : o.value;
        off += v * size;
        continue;
      }
      if (o.kind != Kind::kSlot || !fits_i32(size)) fail("vector getelementptr");
      int sc = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : 4;
      emit(t_.gep[0][bits == 32][sc],
           Patch().set(HoleKind::kB, o.value).set(HoleKind::kJ, 0).set(HoleKind::kI, size));
    }
    if (!fits_i32(off)) fail("GEP offset beyond 2 GiB");
    if (off) emit(t_.bin[kAdd][kW64][1], Patch().set(HoleKind::kI, off));
    emit(t_.stx_S, Patch().set(HoleKind::kC, dst + 8 * k));
  }
  x0_ = nullptr;
  return;
}

void FunctionCompiler::vector_select(const llvm::Instruction& i) {
  VecType vt = vec_type(i.getType());
  const llvm::Value* c = i.getOperand(0);
  bool vec_cond = c->getType()->isVectorTy();
  uint32_t dst = slot_of(&i);
  for (unsigned k = 0; k < vt.n; ++k) {
    uint32_t a = lane_slot(i.getOperand(1), k, 0), b = lane_slot(i.getOperand(2), k, 1);
    if (vec_cond) {
      lane_x0(c, k);
    } else {
      load_x0(c);
    }
    emit(t_.sel, Patch().set(HoleKind::kA, a).set(HoleKind::kB, b));
    emit(t_.stx_S, Patch().set(HoleKind::kC, dst + 8 * k));
    x0_ = nullptr;  // the accumulator now holds the lane, not the condition
  }
  x0_ = nullptr;
  return;
}

void FunctionCompiler::vector_binop(const llvm::Instruction& i) {
  auto* bo = cast<llvm::BinaryOperator>(&i);
  unsigned opc = i.getOpcode();
  VecType vt = vec_type(i.getType());
  uint32_t dst = slot_of(&i);
  if (vt.elem->isFloatingPointTy()) {
    FType ft = fp_type(vt.elem);
    FOp op;
    switch (opc) {
      case llvm::Instruction::FAdd:
        op = kFAdd;
        break;
      case llvm::Instruction::FSub:
        op = kFSub;
        break;
      case llvm::Instruction::FMul:
        op = kFMul;
        break;
      case llvm::Instruction::FDiv:
        op = kFDiv;
        break;
      default:
        fail("vector frem");
    }
    for (unsigned k = 0; k < vt.n; ++k) {
      uint32_t a = lane_slot(bo->getOperand(0), k, 0), b = lane_slot(bo->getOperand(1), k, 1);
      emit(t_.f[op][ft],
           Patch().set(HoleKind::kA, a).set(HoleKind::kB, b).set(HoleKind::kC, dst + 8 * k));
    }
    x0_ = nullptr;
    return;
  }
  bool i1 = false;
  Width w = int_width(vt.elem, &i1);
  BinOp op = int_op(opc, i1);
  lanewise_int(t_.bin[op][w], bo->getOperand(0), bo->getOperand(1), w, dst, vt.n);
}

// dst lane k = a[k] op b[k] for n lanes, with the op's stencils indexed by [b is immediate].
void FunctionCompiler::lanewise_int(const Stencil* const* st, const llvm::Value* a,
                                    const llvm::Value* b, Width w, uint32_t dst, unsigned n) {
  for (unsigned k = 0; k < n; ++k) {
    Opnd bk = lane(b, k);
    int64_t imm = 0;
    bool use_imm = bk.kind == Kind::kConst && !bk.sym && as_imm(uint64_t(bk.value), w, &imm);
    uint32_t bs = use_imm ? 0 : lane_slot(b, k, 0);
    lane_x0(a, k);
    emit(st[use_imm], use_imm ? Patch().set(HoleKind::kI, imm) : Patch().set(HoleKind::kB, bs));
    emit(t_.stx_S, Patch().set(HoleKind::kC, dst + 8 * k));
  }
  x0_ = nullptr;
}

void FunctionCompiler::vector_icmp(const llvm::Instruction& i) {
  auto* ic = cast<llvm::ICmpInst>(&i);
  VecType vt = vec_type(ic->getOperand(0)->getType());
  bool i1 = false;
  Width w = int_width(vt.elem, &i1);
  if (i1 && ic->isSigned()) fail("signed compare of i1");
  int pi = pred_index(ic->getPredicate());
  lanewise_int(t_.icmp[pi][w], ic->getOperand(0), ic->getOperand(1), w, slot_of(&i), vt.n);
}

void FunctionCompiler::vector_cast(const llvm::Instruction& i) {
  auto* ci = cast<llvm::CastInst>(&i);
  unsigned opc = i.getOpcode();
  if (!ci->getSrcTy()->isVectorTy() || !ci->getDestTy()->isVectorTy()) fail("vector bitcast");
  VecType vs = vec_type(ci->getSrcTy()), vd = vec_type(ci->getDestTy());
  if (vs.n != vd.n) fail("vector bitcast");
  uint32_t dst = slot_of(&i);
  for (unsigned k = 0; k < vd.n; ++k) {
    switch (opc) {
      case llvm::Instruction::ZExt:
      case llvm::Instruction::IntToPtr:
      case llvm::Instruction::BitCast:
        if (vs.elem->isFloatTy() != vd.elem->isFloatTy() ||
            vs.elem->isDoubleTy() != vd.elem->isDoubleTy())
          fail("vector bitcast");
        lane_copy(dst + 8 * k, ci->getOperand(0), k);
        continue;
      case llvm::Instruction::Trunc:
      case llvm::Instruction::PtrToInt: {
        bool d1 = false;
        Width wd = int_width(vd.elem, &d1);
        lane_x0(ci->getOperand(0), k);
        if (d1 || wd != kW64) emit(d1 ? t_.trunc1 : t_.un[kTrunc][wd], Patch());
        break;
      }
      case llvm::Instruction::SExt: {
        bool s1 = false;
        Width ws = int_width(vs.elem, &s1), wd = int_width(vd.elem);
        lane_x0(ci->getOperand(0), k);
        emit(s1 ? t_.sext1 : t_.un[kSext64][ws], Patch());
        if (wd != kW64) emit(t_.un[kTrunc][wd], Patch());
        break;
      }
      default:
        fail(std::string("vector ") + i.getOpcodeName());
    }
    emit(t_.stx_S, Patch().set(HoleKind::kC, dst + 8 * k));
  }
  x0_ = nullptr;
  return;
}
}  // namespace

// ---- the public compiler ---------------------------------------------------------------------
class Compiler::Impl {
 public:
  explicit Impl(Environment e) : env(std::move(e)) {}
  Environment env;
  Arena arena;
  std::vector<uint8_t> buffer;  // the code being emitted, reused by every compile
};

Compiler::Compiler(Environment env) : impl_(std::make_unique<Impl>(std::move(env))) {}
Compiler::~Compiler() = default;

size_t Compiler::code_bytes() const { return impl_->arena.bytes(); }

Expected<Compiled> Compiler::compile(const llvm::Function& f, const Profile& profile) {
  if (f.isDeclaration()) return make_error(ErrorCode::kInternal, "no body to compile");
  FunctionCompiler fc(impl_->env, f, profile, impl_->buffer);
  try {
    fc.run();
  } catch (const Unsupported& u) {
    return make_error(ErrorCode::kUnsupported, u.reason);
  }
  TJ_ASSIGN_OR_RETURN(runtime::CodeBlock block, impl_->arena.place(fc.code));
  fc.finish(uint64_t(block.rx));
  std::memcpy(block.rw, fc.code.data(), fc.code.size());
  // Debugging aid: TIERJIT_BASELINE_DUMP=DIR writes each function's code to DIR/NAME.bin
  // (disassemble with objdump -D -b binary -mi386:x86-64 --adjust-vma=ENTRY).
  if (const char* dir = std::getenv("TIERJIT_BASELINE_DUMP")) {
    std::string path = std::string(dir) + "/" + f.getName().str() + ".bin";
    if (FILE* out = std::fopen(path.c_str(), "wb")) {
      std::fwrite(block.rw, 1, fc.code.size(), out);
      std::fclose(out);
    }
  }
  Compiled c;
  c.code = block.rw;
  c.saveable = fc.relocatable();
  if (c.saveable) c.relocations = fc.relocations();
  c.entry = uint64_t(block.rx);
  c.code_bytes = uint32_t(fc.code.size());
  c.frame_bytes = fc.frame_size;
  c.instructions = fc.ninstr;
  c.osr_slots = fc.osr_slots();
  return c;
}

Expected<Compiled> Compiler::load(const uint8_t* image, size_t size,
                                  const std::vector<Relocation>& relocations,
                                  const Resolver& resolve) {
  std::vector<uint8_t>& code = impl_->buffer;
  code.assign(image, image + size);
  TJ_ASSIGN_OR_RETURN(runtime::CodeBlock block, impl_->arena.place(code));
  for (const Relocation& r : relocations) {
    if (uint64_t(r.offset) + 8 > size)
      return make_error(ErrorCode::kCacheCorrupt, "baseline code image: relocation outside it");
    uint64_t v;
    if (r.kind == SymbolKind::kSelf) {
      if (r.addend < 0 || uint64_t(r.addend) >= size)
        return make_error(ErrorCode::kCacheCorrupt, "baseline code image: bad self address");
      v = uint64_t(block.rx) + uint64_t(r.addend);
    } else {
      TJ_ASSIGN_OR_RETURN(uint64_t base, resolve(r));
      v = base + uint64_t(r.addend);
    }
    std::memcpy(code.data() + r.offset, &v, 8);
  }
  std::memcpy(block.rw, code.data(), code.size());
  Compiled c;
  c.entry = uint64_t(block.rx);
  c.code = block.rw;
  c.code_bytes = uint32_t(size);
  return c;
}

size_t stencil_count() { return generated::kStencilCount; }

}  // namespace tierjit::baseline
