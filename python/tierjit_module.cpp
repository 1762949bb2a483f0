// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The Python module `tierjit` (pybind11 over the C++ API in include/tierjit):
//   tierjit.run(path, args)                 run an LLVM IR program, return main's status
//   tierjit.Program(path, ...)              the same, with .run(args) and .stats()
//   tierjit.kernels.sgemm(a, b, ...)        the tensor kernels on NumPy float32 arrays
//   tierjit.stablehlo.load(path_or_text)    a StableHLO module: callable, .signature
//   tierjit.Sandbox(elf)                    the RISC-V sandbox: run, vmcall, memory, host calls
//   tierjit.Error                           every failure, with .code and .exit_status
// Arrays: float32 C-contiguous arrays are used in place (no copy); others are converted
// once. Results are new arrays unless an `out=` array is given. The GIL is released while
// native code runs, except around Python host functions of the sandbox.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "tierjit/engine.hpp"
#include "tierjit/kernels.hpp"
#include "tierjit/sandbox.hpp"
#include "tierjit/stablehlo.hpp"
#include "tierjit/version.hpp"

namespace py = pybind11;
using namespace tierjit;

namespace {

PyObject* g_error = nullptr;  // tierjit.Error

const char* code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kInvalidInput:
      return "invalid-input";
    case ErrorCode::kFileNotFound:
      return "file-not-found";
    case ErrorCode::kMissingEntry:
      return "missing-entry";
    case ErrorCode::kUnresolvedSymbol:
      return "unresolved-symbol";
    case ErrorCode::kCompileFailed:
      return "compile-failed";
    case ErrorCode::kCacheCorrupt:
      return "cache-corrupt";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

// Raises tierjit.Error(message) with .code and .exit_status.
[[noreturn]] void raise(const Error& e) {
  py::object err = py::reinterpret_borrow<py::object>(g_error)(e.to_string());
  err.attr("code") = code_name(e.code);
  err.attr("exit_status") = exit_status(e.code);
  PyErr_SetObject(g_error, err.ptr());
  throw py::error_already_set();
}
void check(const Status& s) {
  if (!s.ok()) raise(s.error());
}
template <class T>
T take(Expected<T> v) {
  if (!v.ok()) raise(v.error());
  return std::move(v).value();
}
[[noreturn]] void usage(const std::string& message) {
  raise(make_error(ErrorCode::kUsage, message));
}

std::string read_path(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) raise(make_error(ErrorCode::kFileNotFound, path + ": cannot open"));
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// ---- programs ----

struct PyProgram {
  std::unique_ptr<Engine> engine;
  bool ran = false;

  int run(const std::vector<std::string>& args) {
    if (ran) usage("a program runs once");
    ran = true;
    std::vector<std::string> argv = args;
    argv.insert(argv.begin(), "program");
    Error err;
    int r;
    {
      py::gil_scoped_release release;
      r = engine->run(argv, &err);
      engine->finish();
    }
    if (r < 0 && !err.message.empty()) raise(err);
    return r;
  }
  py::object stats() const {
    return py::module_::import("json").attr("loads")(engine->stats_json());
  }
};

PyProgram load_program(const std::string& path, std::optional<int> opt_level, bool cache,
                       const std::string& cache_dir, const std::string& thresholds,
                       const std::string& entry) {
  RunConfig cfg;
  cfg.path = path;
  if (opt_level) {
    if (*opt_level < 0 || *opt_level > 3) usage("opt_level must be 0..3 or None (tiered)");
    cfg.opt_level = *opt_level;
    cfg.baseline = false;
  }
  cfg.cache = cache;
  cfg.cache_dir = cache_dir;
  if (!thresholds.empty()) cfg.tier_thresholds = thresholds;
  cfg.entry = entry;
  Error err;
  auto engine = Engine::load(cfg, &err);
  if (!engine) raise(err);
  return PyProgram{std::move(engine)};
}

// ---- kernels ----

using F32 = py::array_t<float, py::array::c_style | py::array::forcecast>;

kernels::KernelEngine& default_kernels() {
  static std::unique_ptr<kernels::KernelEngine> engine = [] {
    return take(kernels::KernelEngine::create());
  }();
  return *engine;
}

std::vector<int64_t> shape_of(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

// The output array: `out` if given (float32, C-contiguous, the right shape), else a new one.
F32 output(const std::optional<py::array>& out, const std::vector<int64_t>& shape) {
  if (!out) return F32(std::vector<py::ssize_t>(shape.begin(), shape.end()));
  py::array o = *out;
  if (!o.dtype().is(py::dtype::of<float>()) || !(o.flags() & py::array::c_style) || !o.writeable())
    usage("out= must be a writable C-contiguous float32 array");
  if (shape_of(o) != shape) usage("out= has the wrong shape");
  return py::reinterpret_borrow<F32>(o);
}

F32 sgemm(F32 a, F32 b, float alpha, float beta, std::optional<py::array> c, bool trans_a,
          bool trans_b) {
  if (a.ndim() != 2 || b.ndim() != 2) usage("sgemm takes 2-D arrays");
  int64_t m = trans_a ? a.shape(1) : a.shape(0), k = trans_a ? a.shape(0) : a.shape(1);
  int64_t kb = trans_b ? b.shape(1) : b.shape(0), n = trans_b ? b.shape(0) : b.shape(1);
  if (k != kb)
    usage("sgemm: inner dimensions differ (" + std::to_string(k) + " and " + std::to_string(kb) +
          ")");
  if (beta != 0 && !c) usage("sgemm: beta != 0 needs c=");
  F32 out = output(c, {m, n});
  auto d = kernels::GemmDesc::row_major(m, n, k, trans_a, trans_b);
  Status s;
  {
    py::gil_scoped_release release;
    s = default_kernels().sgemm(d, alpha, a.data(), b.data(), beta, out.mutable_data());
  }
  check(s);
  return out;
}

F32 unary(kernels::UnaryOp op, F32 x, std::optional<py::array> out) {
  F32 y = output(out, shape_of(x));
  check(default_kernels().unary(op, x.size(), x.data(), y.mutable_data()));
  return y;
}

F32 binary(kernels::BinaryOp op, F32 a, F32 b) {
  std::vector<int64_t> as = shape_of(a), bs = shape_of(b);
  if (as.size() > 8 || bs.size() > 8) usage("binary operations take ranks 0..8");
  std::vector<int64_t> ys(std::max(as.size(), bs.size()), 1);
  for (size_t i = 0; i < ys.size(); ++i) {  // NumPy broadcasting, aligned on the last axis
    int64_t x = i < as.size() ? as[as.size() - 1 - i] : 1;
    int64_t z = i < bs.size() ? bs[bs.size() - 1 - i] : 1;
    ys[ys.size() - 1 - i] = x == 1 ? z : x;
  }
  F32 y(std::vector<py::ssize_t>(ys.begin(), ys.end()));
  check(default_kernels().binary(op, as, a.data(), bs, b.data(), y.mutable_data()));
  return y;
}

F32 reduce(kernels::ReduceOp op, F32 x, int axis) {
  std::vector<int64_t> s = shape_of(x);
  int rank = int(s.size());
  if (axis < -rank || axis >= rank) usage("axis out of range");
  std::vector<int64_t> ys = s;
  ys.erase(ys.begin() + (axis < 0 ? axis + rank : axis));
  F32 y(std::vector<py::ssize_t>(ys.begin(), ys.end()));
  check(default_kernels().reduce(op, s, axis, x.data(), y.mutable_data()));
  return y;
}

// Rows x cols view of an array whose last axis is the row.
std::pair<int64_t, int64_t> rows_cols(const py::array& x) {
  if (x.ndim() == 0) usage("needs at least one axis");
  int64_t cols = x.shape(x.ndim() - 1);
  return {cols ? x.size() / cols : 0, cols};
}

F32 softmax(F32 x) {
  auto [rows, cols] = rows_cols(x);
  F32 y(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  check(default_kernels().softmax(rows, cols, x.data(), y.mutable_data()));
  return y;
}

F32 layer_norm(F32 x, std::optional<F32> gamma, std::optional<F32> beta, float eps) {
  auto [rows, cols] = rows_cols(x);
  if ((gamma && gamma->size() != cols) || (beta && beta->size() != cols))
    usage("gamma and beta must have the last axis's length");
  F32 y(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  check(default_kernels().layer_norm(rows, cols, x.data(), gamma ? gamma->data() : nullptr,
                                     beta ? beta->data() : nullptr, eps, y.mutable_data()));
  return y;
}

// ---- StableHLO ----

py::dtype numpy_dtype(stablehlo::DType t) {
  switch (t) {
    case stablehlo::DType::kBool:
      return py::dtype("bool");
    case stablehlo::DType::kI8:
    case stablehlo::DType::kI2:  // NumPy has no 2- or 4-bit integers: one per byte
    case stablehlo::DType::kI4:
      return py::dtype("int8");
    case stablehlo::DType::kI16:
      return py::dtype("int16");
    case stablehlo::DType::kI32:
      return py::dtype("int32");
    case stablehlo::DType::kI64:
      return py::dtype("int64");
    case stablehlo::DType::kU8:
    case stablehlo::DType::kU2:
    case stablehlo::DType::kU4:
      return py::dtype("uint8");
    case stablehlo::DType::kU16:
    case stablehlo::DType::kBF16:  // NumPy has no bfloat16: its bits, as uint16
      return py::dtype("uint16");
    case stablehlo::DType::kU32:
      return py::dtype("uint32");
    case stablehlo::DType::kU64:
      return py::dtype("uint64");
    case stablehlo::DType::kF16:
      return py::dtype("float16");
    case stablehlo::DType::kF32:
      return py::dtype("float32");
    case stablehlo::DType::kF64:
      return py::dtype("float64");
    case stablehlo::DType::kC64:
      return py::dtype("complex64");
    case stablehlo::DType::kC128:
      return py::dtype("complex128");
    case stablehlo::DType::kF4E2M1FN:
    case stablehlo::DType::kF6E2M3FN:
    case stablehlo::DType::kF6E3M2FN:
    case stablehlo::DType::kF8E3M4:
    case stablehlo::DType::kF8E4M3:
    case stablehlo::DType::kF8E4M3FN:
    case stablehlo::DType::kF8E4M3FNUZ:
    case stablehlo::DType::kF8E4M3B11FNUZ:
    case stablehlo::DType::kF8E5M2:
    case stablehlo::DType::kF8E5M2FNUZ:
    case stablehlo::DType::kF8E8M0FNU:  // NumPy has no small floats: their bits
      return py::dtype("uint8");
  }
  return py::dtype("float32");
}

struct PyModule {
  std::unique_ptr<stablehlo::Program> program;
  std::string entry = "main";

  std::vector<stablehlo::Tensor> signature_tensors() const {
    return take(program->signature(entry));
  }
  py::list signature() const {
    py::list out;
    for (const auto& t : signature_tensors())
      out.append(py::make_tuple(stablehlo::dtype_name(t.dtype), py::tuple(py::cast(t.shape))));
    return out;
  }
  py::object call(const py::args& args) {
    std::vector<stablehlo::Tensor> sig = signature_tensors();
    if (args.size() != sig.size())
      usage(entry + " takes " + std::to_string(sig.size()) + " arguments, " +
            std::to_string(args.size()) + " given");
    std::vector<stablehlo::Tensor> in(sig.size());
    for (size_t i = 0; i < sig.size(); ++i) {
      // Converted to the argument's dtype (a copy only when it differs or is strided).
      py::array a = py::array::ensure(args[i], py::array::c_style | py::array::forcecast);
      if (!a) usage("argument " + std::to_string(i) + " is not an array");
      a = a.attr("astype")(numpy_dtype(sig[i].dtype), py::arg("copy") = false);
      a = py::array::ensure(a, py::array::c_style);
      if (shape_of(a) != sig[i].shape) {
        std::string want;
        for (int64_t d : sig[i].shape) {
          if (!want.empty()) want += 'x';
          want += std::to_string(d);
        }
        usage("argument " + std::to_string(i) + " must have shape [" + want + "]");
      }
      in[i].dtype = sig[i].dtype;
      in[i].shape = sig[i].shape;
      auto* p = static_cast<const uint8_t*>(a.data());
      in[i].data.assign(p, p + a.nbytes());
    }
    Expected<std::vector<stablehlo::Tensor>> r = make_error(ErrorCode::kInternal, "");
    {
      py::gil_scoped_release release;
      r = program->run(entry, in);
    }
    std::vector<stablehlo::Tensor> res = take(std::move(r));
    py::list out;
    for (stablehlo::Tensor& t : res) {
      py::array a(numpy_dtype(t.dtype), std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()));
      std::memcpy(a.mutable_data(), t.data.data(), t.data.size());
      out.append(a);
    }
    if (out.size() == 1) return out[0];
    return py::tuple(out);
  }
};

PyModule load_stablehlo(const std::string& path_or_text, const std::string& entry,
                        const std::string& path) {
  bool text = path_or_text.find("func.func") != std::string::npos ||
              path_or_text.find('\n') != std::string::npos;
  std::string file = text ? "<text>" : path_or_text;
  std::string src = text ? path_or_text : read_path(path_or_text);
  auto p = take(stablehlo::Program::parse(src, file));
  if (path == "compiled")
    p->set_path(stablehlo::ExecutionPath::kCompiled);
  else if (path == "reference")
    p->set_path(stablehlo::ExecutionPath::kReference);
  else
    usage("path is 'compiled' or 'reference', not '" + path + "'");
  PyModule m{std::move(p), entry};
  m.signature_tensors();  // a missing entry fails here, not at the first call
  return m;
}

// ---- the sandbox ----

py::dict result_dict(const sandbox::RunResult& r) {
  static const char* reasons[] = {"exited", "returned", "fault", "budget"};
  py::dict d;
  d["reason"] = reasons[int(r.reason)];
  d["exit_code"] = r.exit_code;
  d["value"] = r.value;
  d["fvalue"] = r.fvalue;
  d["instructions"] = r.instructions;
  d["fault"] = sandbox::fault_name(r.fault);
  d["pc"] = r.pc;
  d["addr"] = r.addr;
  d["message"] = sandbox::describe(r);
  return d;
}

struct PySandbox {
  std::unique_ptr<sandbox::Sandbox> box;

  uint64_t address(const py::object& fn) const {
    if (py::isinstance<py::str>(fn)) {
      std::string name = fn.cast<std::string>();
      uint64_t a = box->symbol(name);
      if (!a) usage("no symbol '" + name + "' in the guest");
      return a;
    }
    return fn.cast<uint64_t>();
  }
};

PySandbox load_sandbox(const py::object& elf, uint64_t max_memory, uint64_t max_instructions,
                       bool interpret, bool strict) {
  std::string bytes, name;
  if (py::isinstance<py::bytes>(elf)) {
    bytes = elf.cast<std::string>();
    name = "<bytes>";
  } else {
    name = py::str(elf).cast<std::string>();
    bytes = read_path(name);
  }
  sandbox::Limits lim;
  lim.max_memory = max_memory;
  lim.max_instructions = max_instructions;
  lim.tier = interpret ? sandbox::ExecTier::kInterpret : sandbox::ExecTier::kTranslate;
  lim.strict = strict;
  return PySandbox{take(sandbox::Sandbox::load(bytes, name, lim))};
}

}  // namespace

PYBIND11_MODULE(tierjit, m) {
  m.doc() =
      "tierjit: a tiered JIT and AOT compiler engine (LLVM IR, StableHLO, tensor "
      "kernels, a RISC-V sandbox)";
  m.attr("__version__") = kVersion;
  m.attr("llvm_version") = kLlvmVersion;
  static py::exception<std::runtime_error> error(m, "Error");
  g_error = error.ptr();

  py::class_<PyProgram>(m, "Program", "An LLVM IR program (.ll, .bc, .llbc), loaded once.")
      .def(py::init(&load_program), py::arg("path"), py::kw_only(),
           py::arg("opt_level") = py::none(), py::arg("cache") = true, py::arg("cache_dir") = "",
           py::arg("thresholds") = "", py::arg("entry") = "",
           "Loads `path`; tiered (baseline, then O2) unless opt_level is 0..3.")
      .def("run", &PyProgram::run, py::arg("args") = std::vector<std::string>(),
           "Runs the entry once with argv = ['program', *args]; returns its status. A call "
           "of exit() in the program ends the Python process, as it would natively.")
      .def("stats", &PyProgram::stats, "The statistics (the --stats=json schema) as a dict.");
  m.def(
      "run",
      [](const std::string& path, const std::vector<std::string>& args, std::optional<int> opt,
         bool cache) { return load_program(path, opt, cache, "", "", "").run(args); },
      py::arg("path"), py::arg("args") = std::vector<std::string>(), py::kw_only(),
      py::arg("opt_level") = py::none(), py::arg("cache") = true,
      "Runs an LLVM IR program like `tierjit run`; returns main's status.");

  py::module_ k = m.def_submodule("kernels", "Tensor kernels on float32 NumPy arrays");
  k.def("sgemm", &sgemm, py::arg("a"), py::arg("b"), py::kw_only(), py::arg("alpha") = 1.0f,
        py::arg("beta") = 0.0f, py::arg("c") = py::none(), py::arg("trans_a") = false,
        py::arg("trans_b") = false,
        "alpha * op(a) @ op(b) + beta * c; written into c (in place) when given.");
  struct U {
    const char* name;
    kernels::UnaryOp op;
  };
  for (U u : {U{"relu", kernels::UnaryOp::kRelu}, U{"exp", kernels::UnaryOp::kExp},
              U{"tanh", kernels::UnaryOp::kTanh}, U{"sigmoid", kernels::UnaryOp::kSigmoid},
              U{"gelu", kernels::UnaryOp::kGelu}}) {
    kernels::UnaryOp op = u.op;
    k.def(
        u.name, [op](F32 x, std::optional<py::array> out) { return unary(op, x, out); },
        py::arg("x"), py::kw_only(), py::arg("out") = py::none());
  }
  struct B {
    const char* name;
    kernels::BinaryOp op;
  };
  for (B b : {B{"add", kernels::BinaryOp::kAdd}, B{"subtract", kernels::BinaryOp::kSub},
              B{"multiply", kernels::BinaryOp::kMul}, B{"divide", kernels::BinaryOp::kDiv},
              B{"maximum", kernels::BinaryOp::kMax}, B{"minimum", kernels::BinaryOp::kMin}}) {
    kernels::BinaryOp op = b.op;
    k.def(
        b.name, [op](F32 x, F32 y) { return binary(op, x, y); }, py::arg("a"), py::arg("b"),
        "With NumPy broadcasting.");
  }
  k.def(
      "sum", [](F32 x, int axis) { return reduce(kernels::ReduceOp::kSum, x, axis); }, py::arg("x"),
      py::arg("axis") = -1);
  k.def(
      "max", [](F32 x, int axis) { return reduce(kernels::ReduceOp::kMax, x, axis); }, py::arg("x"),
      py::arg("axis") = -1);
  k.def(
      "mean", [](F32 x, int axis) { return reduce(kernels::ReduceOp::kMean, x, axis); },
      py::arg("x"), py::arg("axis") = -1);
  k.def("softmax", &softmax, py::arg("x"), "Along the last axis.");
  k.def("layer_norm", &layer_norm, py::arg("x"), py::arg("gamma") = py::none(),
        py::arg("beta") = py::none(), py::arg("eps") = 1e-5f, "Along the last axis.");
  k.def("isa", [] { return kernels::isa_name(default_kernels().isa()); });

  py::module_ s = m.def_submodule("stablehlo", "StableHLO modules (MLIR text as JAX exports)");
  py::class_<PyModule>(s, "Module")
      .def("__call__", &PyModule::call, "Runs the entry on arrays; returns an array or a tuple.")
      .def_property_readonly("signature", &PyModule::signature,
                             "[(dtype, shape), ...] of the entry's arguments")
      .def_readonly("entry", &PyModule::entry)
      .def(
          "compile", [](PyModule& mod) { return take(mod.program->compile(mod.entry)); },
          "Compiles the entry now; returns the compile time in ms.")
      .def(
          "kernel_counts",
          [](PyModule& mod) {
            auto c = take(mod.program->kernel_counts(mod.entry));
            py::dict d;
            d["sgemm_calls"] = c.sgemm_calls;
            d["winograd_convs"] = c.winograd_convs;
            d["im2col_convs"] = c.im2col_convs;
            return d;
          },
          "The tensor-kernel calls of the compiled entry so far: sgemm_calls, winograd_convs, "
          "im2col_convs.");
  s.def("load", &load_stablehlo, py::arg("path_or_text"), py::kw_only(), py::arg("entry") = "main",
        py::arg("path") = "compiled",
        "Parses a module from a file or from MLIR text; path='reference' runs the "
        "evaluator instead of native code.");

  py::class_<sandbox::HostCall>(m, "HostCall", "A guest's call of a host function.")
      .def("arg", &sandbox::HostCall::arg, py::arg("i"))
      .def("farg", &sandbox::HostCall::farg, py::arg("i"))
      .def(
          "read",
          [](sandbox::HostCall& c, uint64_t addr, uint64_t n) {
            std::string buf(n, '\0');
            if (!c.read(addr, buf.data(), n)) return py::object(py::none());
            return py::object(py::bytes(buf));
          },
          "Guest bytes, or None (and the call faults) when outside its memory.")
      .def("write",
           [](sandbox::HostCall& c, uint64_t addr, const py::bytes& b) {
             std::string data = b;
             return c.write(addr, data.data(), data.size());
           })
      .def("fail", &sandbox::HostCall::fail, py::arg("message"));
  py::class_<PySandbox>(m, "Sandbox", "A riscv64 Linux ELF executable in tierjit's sandbox.")
      .def(py::init(&load_sandbox), py::arg("elf"), py::kw_only(),
           py::arg("max_memory") = sandbox::Limits().max_memory,
           py::arg("max_instructions") = sandbox::Limits().max_instructions,
           py::arg("interpret") = false, py::arg("strict") = false,
           "`elf`: a path or the file's bytes.")
      .def(
          "run",
          [](PySandbox& sb, const std::vector<std::string>& argv) {
            std::vector<std::string> a = argv;
            if (a.empty()) a.push_back("guest");
            sandbox::RunResult r;
            {
              py::gil_scoped_release release;
              r = sb.box->run(a);
            }
            return result_dict(r);
          },
          py::arg("argv") = std::vector<std::string>())
      .def(
          "vmcall",
          [](PySandbox& sb, const py::object& fn, const py::args& args) {
            // Never released: an object must not outlive the interpreter's finalization.
            static py::handle f32 =
                py::object(py::module_::import("numpy").attr("float32")).release();
            std::vector<sandbox::Arg> a;
            for (const py::handle& x : args) {
              if (py::isinstance(x, f32))
                a.push_back(sandbox::Arg::f32(x.cast<float>()));
              else if (py::isinstance<py::float_>(x))
                a.push_back(sandbox::Arg::f64(x.cast<double>()));
              else
                a.push_back(sandbox::Arg::integer(x.cast<uint64_t>()));
            }
            uint64_t addr = sb.address(fn);
            sandbox::RunResult r;
            {
              py::gil_scoped_release release;  // host functions take it back
              r = sb.box->vmcall(addr, a);
            }
            return result_dict(r);
          },
          py::arg("function"),
          "Calls a guest function (name or address): ints and pointers go to a0..a7, floats "
          "(as double) and numpy.float32 (as float) to fa0..fa7.")
      .def("symbol", [](const PySandbox& sb, const std::string& n) { return sb.box->symbol(n); })
      .def("alloc", [](PySandbox& sb, uint64_t n) { return sb.box->guest_alloc(n); })
      .def("write",
           [](PySandbox& sb, uint64_t addr, const py::bytes& b) {
             std::string data = b;
             return sb.box->copy_to_guest(addr, data.data(), data.size());
           })
      .def("read",
           [](const PySandbox& sb, uint64_t addr, uint64_t n) {
             std::string buf(n, '\0');
             if (!sb.box->copy_from_guest(addr, buf.data(), n)) return py::object(py::none());
             return py::object(py::bytes(buf));
           })
      .def(
          "register",
          [](PySandbox& sb, int number, py::function fn) {
            check(sb.box->register_host_function(number, [fn](sandbox::HostCall& call) {
              py::gil_scoped_acquire gil;
              try {
                py::object r = fn(py::cast(&call, py::return_value_policy::reference));
                if (!r.is_none()) call.set_result(r.cast<uint64_t>());
              } catch (py::error_already_set& e) {
                call.fail("host function raised " + std::string(e.what()));
              }
            }));
          },
          py::arg("number"), py::arg("fn"),
          "fn(call) -> int or None, called when the guest makes host call `number` "
          "(500..599); an exception stops the guest with a host-call fault.")
      .def("reset", [](PySandbox& sb) { sb.box->reset(); });
}
