// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// include/tierjit/stablehlo.hpp: the public tensor type, .npy files (NumPy's format
// description, numpy/lib/format.py: magic "\x93NUMPY", version, little-endian header length,
// a Python dict literal padded to 64 bytes) and Program on top of the parser and evaluator.
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "backend/warm_up.hpp"
#include "runtime/object_cache.hpp"
#include "stablehlo/compiled.hpp"
#include "stablehlo/evaluator.hpp"
#include "stablehlo/verifier.hpp"
#include "tierjit/kernels.hpp"
#include "tierjit/stablehlo.hpp"

namespace tierjit::stablehlo {

namespace {

struct DTypeInfo {
  DType t;
  const char* name;
  int size;
  const char* descr;  // NumPy descr (little-endian)
};
const DTypeInfo kInfo[] = {
    {DType::kBool, "i1", 1, "|b1"},
    {DType::kI8, "i8", 1, "|i1"},
    {DType::kI16, "i16", 2, "<i2"},
    {DType::kI32, "i32", 4, "<i4"},
    {DType::kI64, "i64", 8, "<i8"},
    {DType::kU8, "ui8", 1, "|u1"},
    {DType::kU16, "ui16", 2, "<u2"},
    {DType::kU32, "ui32", 4, "<u4"},
    {DType::kU64, "ui64", 8, "<u8"},
    {DType::kF16, "f16", 2, "<f2"},
    {DType::kBF16, "bf16", 2, "bfloat16"},
    {DType::kF32, "f32", 4, "<f4"},
    {DType::kF64, "f64", 8, "<f8"},
    // NumPy has no 2- or 4-bit integers: .npy files hold them one per byte, as int8/uint8
    // (written so; read back only where the signature asks for int8/uint8).
    {DType::kI2, "i2", 1, "|i1"},
    {DType::kI4, "i4", 1, "|i1"},
    {DType::kU2, "ui2", 1, "|u1"},
    {DType::kU4, "ui4", 1, "|u1"},
    {DType::kC64, "complex<f32>", 8, "<c8"},
    {DType::kC128, "complex<f64>", 16, "<c16"},
    // NumPy has no small floats: .npy files hold their bits, as uint8.
    {DType::kF4E2M1FN, "f4E2M1FN", 1, "|u1"},
    {DType::kF6E2M3FN, "f6E2M3FN", 1, "|u1"},
    {DType::kF6E3M2FN, "f6E3M2FN", 1, "|u1"},
    {DType::kF8E3M4, "f8E3M4", 1, "|u1"},
    {DType::kF8E4M3, "f8E4M3", 1, "|u1"},
    {DType::kF8E4M3FN, "f8E4M3FN", 1, "|u1"},
    {DType::kF8E4M3FNUZ, "f8E4M3FNUZ", 1, "|u1"},
    {DType::kF8E4M3B11FNUZ, "f8E4M3B11FNUZ", 1, "|u1"},
    {DType::kF8E5M2, "f8E5M2", 1, "|u1"},
    {DType::kF8E5M2FNUZ, "f8E5M2FNUZ", 1, "|u1"},
    {DType::kF8E8M0FNU, "f8E8M0FNU", 1, "|u1"},
};
const DTypeInfo& info(DType t) { return kInfo[int(t)]; }

Error bad_npy(const std::string& path, const std::string& msg) {
  return make_error(ErrorCode::kInvalidInput, msg, SourceLoc{path, 0, 0, -1});
}

// shlo tensor <-> packed little-endian bytes.
Tensor pack(const shlo::Tensor& t) {
  Tensor out;
  out.dtype = t.type;
  out.shape = t.shape;
  out.data = shlo::to_bytes(t);
  return out;
}
shlo::Tensor unpack(const Tensor& t) { return shlo::from_bytes(t.dtype, t.shape, t.data.data()); }

}  // namespace

const char* dtype_name(DType t) { return info(t).name; }
int dtype_size(DType t) { return info(t).size; }

int64_t Tensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Expected<Tensor> read_npy(const std::string& path, const DType* hint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kFileNotFound, "cannot open", SourceLoc{path, 0, 0, -1});
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() < 10 || s.compare(0, 6, "\x93NUMPY") != 0)
    return bad_npy(path, "not a .npy file (bad magic)");
  int major = uint8_t(s[6]);
  size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = uint8_t(s[8]) | (size_t(uint8_t(s[9])) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (s.size() < 12) return bad_npy(path, "truncated .npy header");
    hlen = uint8_t(s[8]) | (size_t(uint8_t(s[9])) << 8) | (size_t(uint8_t(s[10])) << 16) |
           (size_t(uint8_t(s[11])) << 24);
    hstart = 12;
  } else {
    return bad_npy(path, ".npy format version " + std::to_string(major) + " is not supported");
  }
  if (hstart + hlen > s.size()) return bad_npy(path, "truncated .npy header");
  std::string h = s.substr(hstart, hlen);
  auto field = [&](const char* key) -> std::string {
    std::string quoted = "'";
    quoted.append(key).append("'");
    size_t p = h.find(quoted);
    if (p == std::string::npos) return {};
    p = h.find(':', p);
    if (p == std::string::npos) return {};
    ++p;
    while (p < h.size() && h[p] == ' ') ++p;
    size_t e = p;
    if (p < h.size() && h[p] == '\'') {
      e = h.find('\'', p + 1);
      return e == std::string::npos ? std::string() : h.substr(p + 1, e - p - 1);
    }
    if (p < h.size() && h[p] == '(') {
      e = h.find(')', p);
      return e == std::string::npos ? std::string() : h.substr(p, e - p + 1);
    }
    while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
    return h.substr(p, e - p);
  };
  std::string descr = field("descr"), order = field("fortran_order"), shape = field("shape");
  if (descr.empty() || shape.empty()) return bad_npy(path, "malformed .npy header: " + h);
  if (order.find("True") != std::string::npos)
    return bad_npy(path, "Fortran-order .npy arrays are not supported");
  Tensor t;
  bool found = false;
  // Several element types share a NumPy dtype (i8, i2 and i4 are int8; the f4/f6/f8 types are
  // their bits as uint8): the first is taken, or the signature's type where it is one of them.
  for (const auto& i : kInfo) {
    bool one_byte_alias = i.descr[0] == '|' && descr.size() == 3 && descr[0] == '<' &&
                          descr.compare(1, 2, i.descr + 1) == 0;  // "<i1" for "|i1"
    if (descr == i.descr || one_byte_alias) {
      if (!found || (hint && *hint == i.t)) t.dtype = i.t;
      found = true;
    }
  }
  if (!found && (descr == "|V2" || descr == "<V2") && hint && *hint == DType::kBF16) {
    t.dtype = DType::kBF16;
    found = true;
  }
  if (!found) return bad_npy(path, "unsupported .npy dtype '" + descr + "'");
  for (size_t p = 1; p < shape.size();) {
    while (p < shape.size() && !std::isdigit(static_cast<unsigned char>(shape[p]))) ++p;
    if (p >= shape.size()) break;
    size_t e = p;
    while (e < shape.size() && std::isdigit(static_cast<unsigned char>(shape[e]))) ++e;
    t.shape.push_back(std::strtoll(shape.substr(p, e - p).c_str(), nullptr, 10));
    p = e;
  }
  size_t bytes = size_t(t.size()) * size_t(dtype_size(t.dtype));
  size_t at = hstart + hlen;
  if (s.size() - at < bytes) {
    return bad_npy(path, "truncated .npy data: " + std::to_string(s.size() - at) + " bytes, " +
                             std::to_string(bytes) + " needed");
  }
  t.data.assign(s.begin() + long(at), s.begin() + long(at + bytes));
  return t;
}

Status write_npy(const std::string& path, const Tensor& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    shape.append(std::to_string(t.shape[i]));
    shape.append(t.shape.size() == 1 ? "," : i + 1 < t.shape.size() ? ", " : "");
  }
  shape += ")";
  std::string h = "{'descr': '" + std::string(info(t.dtype).descr) +
                  "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + h.size() + 1;
  h += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(h.size() & 0xFF);
  out += char(h.size() >> 8);
  out += h;
  out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  std::ofstream f(path, std::ios::binary);
  if (!f || !f.write(out.data(), std::streamsize(out.size()))) {
    return make_error(ErrorCode::kIo, "cannot write", SourceLoc{path, 0, 0, -1});
  }
  return {};
}

struct Program::Impl {
  std::vector<shlo::Module> modules;
  std::string file;
  ExecutionPath path = ExecutionPath::kReference;
  std::map<std::string, std::unique_ptr<shlo::CompiledModule>> compiled;  // by entry
  bool cache_enabled = true;
  std::string cache_dir;               // "" = ObjectCache::default_dir()
  std::unique_ptr<ObjectCache> cache;  // opened on the first compile
  bool warm_up = false;                // this program started the LLVM warm-up
};

Program::Program(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
// The warm-up must not outlive the program that started it: at process exit its LLVM code
// would run on while static objects it uses are destroyed.
Program::~Program() {
  if (impl_ && impl_->warm_up) backend::finish_llvm_warm_up();
}

Expected<std::unique_ptr<Program>> Program::parse(const std::string& text,
                                                  const std::string& file) {
  auto m = shlo::parse_mlir(text, file);
  if (!m.ok()) return m.take_error();
  for (const auto& mod : *m) TJ_TRY(shlo::verify_module(mod, file));
  auto impl = std::make_unique<Impl>();
  impl->modules = std::move(*m);
  impl->file = file;
  return std::unique_ptr<Program>(new Program(std::move(impl)));
}

namespace {

const shlo::Func* find_entry(const std::vector<shlo::Module>& mods, const std::string& entry,
                             const shlo::Module** mod) {
  for (const auto& m : mods)
    for (const auto& f : m.funcs)
      if (f.name == entry) {
        *mod = &m;
        return &f;
      }
  return nullptr;
}

}  // namespace

Expected<std::vector<Tensor>> Program::signature(const std::string& entry) const {
  const shlo::Module* mod = nullptr;
  const shlo::Func* f = find_entry(impl_->modules, entry, &mod);
  if (f == nullptr)
    return make_error(ErrorCode::kMissingEntry, "no function @" + entry, SourceLoc{impl_->file});
  std::vector<Tensor> out;
  for (const auto& [name, type] : f->args) {
    auto t = shlo::tensor_type(type);
    if (!t.ok())
      return make_error(t.error().code, "argument " + name + ": " + t.error().message,
                        SourceLoc{impl_->file, f->loc.line, f->loc.col});
    Tensor p;
    p.dtype = t->type;
    p.shape = t->shape;
    out.push_back(std::move(p));
  }
  return out;
}

Expected<std::vector<Tensor>> Program::run(const std::string& entry,
                                           const std::vector<Tensor>& inputs) {
  const shlo::Module* mod = nullptr;
  const shlo::Func* f = find_entry(impl_->modules, entry, &mod);
  if (f == nullptr)
    return make_error(ErrorCode::kMissingEntry, "no function @" + entry, SourceLoc{impl_->file});
  TJ_ASSIGN_OR_RETURN(auto sig, signature(entry));
  if (inputs.size() != sig.size()) {
    return make_error(ErrorCode::kInvalidInput,
                      "@" + entry + " takes " + std::to_string(sig.size()) + " inputs, got " +
                          std::to_string(inputs.size()),
                      SourceLoc{impl_->file, f->loc.line, f->loc.col});
  }
  std::vector<shlo::Tensor> args;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].dtype != sig[k].dtype || inputs[k].shape != sig[k].shape ||
        inputs[k].data.size() != size_t(inputs[k].size()) * size_t(dtype_size(inputs[k].dtype))) {
      std::string want = std::string(dtype_name(sig[k].dtype)), got = dtype_name(inputs[k].dtype);
      for (int64_t d : sig[k].shape) want.append("x").append(std::to_string(d));
      for (int64_t d : inputs[k].shape) got.append("x").append(std::to_string(d));
      return make_error(
          ErrorCode::kInvalidInput,
          "input " + std::to_string(k) + " is " + got + ", @" + entry + " wants " + want,
          SourceLoc{impl_->file, f->loc.line, f->loc.col});
    }
    if (impl_->path == ExecutionPath::kReference) args.push_back(unpack(inputs[k]));
  }
  if (impl_->path == ExecutionPath::kCompiled) {
    if (auto c = compile(entry); !c.ok()) return c.take_error();
    shlo::CompiledModule& cm = *impl_->compiled.at(entry);
    std::vector<const uint8_t*> ptrs;
    for (const Tensor& t : inputs) ptrs.push_back(t.data.data());
    size_t failures = cm.checks().failures.size();
    TJ_ASSIGN_OR_RETURN(auto res, cm.run(entry, ptrs));
    if (cm.checks().failures.size() > failures)
      return make_error(ErrorCode::kInvalidInput, "check failed: " + cm.checks().failures.back());
    const shlo::LoweredEntry& e = *cm.entry(entry);
    std::vector<Tensor> out;
    for (size_t k = 0; k < res.size(); ++k) {
      Tensor t;
      t.dtype = e.results[k].type;
      t.shape = e.results[k].dims;
      t.data = std::move(res[k]);
      out.push_back(std::move(t));
    }
    return out;
  }
  shlo::Evaluator ev(*mod, impl_->file);
  TJ_ASSIGN_OR_RETURN(auto res, ev.call(entry, std::move(args)));
  if (!ev.checks().failures.empty()) {
    return make_error(ErrorCode::kInvalidInput, "check failed: " + ev.checks().failures.front());
  }
  std::vector<Tensor> out;
  for (const auto& t : res) out.push_back(pack(t));
  return out;
}

void Program::set_path(ExecutionPath path) {
  impl_->path = path;
  // The first compile is coming: LLVM's start-up runs on another core meanwhile.
  if (path == ExecutionPath::kCompiled && !impl_->warm_up) {
    backend::start_llvm_warm_up();
    impl_->warm_up = true;
  }
}

void Program::set_object_cache(bool enabled, const std::string& dir) {
  impl_->cache_enabled = enabled;
  impl_->cache_dir = dir;
  impl_->cache.reset();
}

Expected<double> Program::compile(const std::string& entry) {
  if (auto it = impl_->compiled.find(entry); it != impl_->compiled.end()) return 0.0;
  const shlo::Module* mod = nullptr;
  if (find_entry(impl_->modules, entry, &mod) == nullptr)
    return make_error(ErrorCode::kMissingEntry, "no function @" + entry, SourceLoc{impl_->file});
  shlo::CompileOptions options;
  if (impl_->cache_enabled) {
    if (!impl_->cache) impl_->cache = std::make_unique<ObjectCache>(impl_->cache_dir);
    options.cache = impl_->cache.get();
  }
  TJ_ASSIGN_OR_RETURN(auto cm, shlo::CompiledModule::create(*mod, impl_->file, {entry}, options));
  double ms = cm->times().total_ms();
  impl_->compiled[entry] = std::move(cm);
  return ms;
}

Expected<KernelCounts> Program::kernel_counts(const std::string& entry) const {
  auto it = impl_->compiled.find(entry);
  if (it == impl_->compiled.end())
    return make_error(ErrorCode::kMissingEntry, "@" + entry + " has not been compiled",
                      SourceLoc{impl_->file});
  kernels::KernelStats ks = it->second->kernel_stats();
  KernelCounts c;
  for (const kernels::ShapeProfile& sp : ks.shapes)
    if (sp.op == "sgemm") c.sgemm_calls += sp.calls;
  c.winograd_convs = ks.winograd_convs;
  c.im2col_convs = ks.im2col_convs;
  return c;
}

}  // namespace tierjit::stablehlo
