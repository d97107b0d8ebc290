"""A stand-in for the ``cupy`` module that runs CuPy kernels on the CPU, so the cuda
backend's kernels are checked on every machine, GPU or not.

``CUPY`` answers every NumPy name as NumPy does (CuPy mirrors NumPy), and builds
``ElementwiseKernel``, ``ReductionKernel`` and ``RawKernel`` objects whose CUDA C
source is compiled by the host's C++ compiler into a loop, then called through
ctypes on NumPy arrays:

* an element-wise kernel runs its operation once per element of the broadcast
  inputs, with ``i`` the element's index and ``raw`` arguments indexed whole;
* a reduction kernel folds ``map_expr`` of the reduced elements with
  ``reduce_expr`` from ``identity``, then applies ``post_map_expr``;
* a raw kernel runs every thread of every block one after another, so kernels that
  share memory between threads (``__shared__``, ``__syncthreads``) are refused.

On a GPU machine, ``EMBER_CUDA_KERNEL_TESTS=gpu`` makes :func:`on_device` build the
kernels with the real CuPy instead, so the same tests check them on the device.
Where NVRTC and CuPy's headers are installed (the test extra installs them; no GPU
needed, see tests/cuda_nvrtc.py), every kernel is also compiled by NVRTC in the form
CuPy gives it, since g++ accepts host C++ that CUDA lacks (``INFINITY``, ``std::``,
host headers); ``EMBER_CUDA_KERNEL_TESTS=nvrtc`` makes a missing NVRTC an error.

It checks what a kernel computes, not how fast or how safely in parallel: a GPU run
remains the test of races and speed. To catch a kernel reading or writing outside
its arrays (on a GPU an illegal address, or silent corruption), build the kernels
with AddressSanitizer and load its runtime first, with the NVRTC check off::

    EMBER_EMULATOR_CXXFLAGS="-g -fsanitize=address" EMBER_NVRTC=off \
    LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
    TMPDIR=/tmp/asan python -m pytest tests/plugins/*/test_cuda_*.py

(``TMPDIR`` keeps those builds apart from the cached plain ones.)
"""

import ctypes
import hashlib
import os
import re
import subprocess
import tempfile
import threading

import numpy as np

_C_TYPES = {"float16": None, "float32": "float", "float64": "double", "int8": "signed char",
            "int16": "short", "int32": "int", "int64": "long long", "uint8": "unsigned char",
            "uint32": "unsigned int", "uint64": "unsigned long long", "bool": "bool"}
_FROM_C = {"float": "float32", "double": "float64", "int": "int32", "long long": "int64",
           "unsigned int": "uint32", "unsigned long long": "uint64", "bool": "bool",
           "signed char": "int8", "unsigned char": "uint8", "short": "int16", "size_t": "uint64",
           "ptrdiff_t": "int64", "long": "int64", "unsigned long": "uint64"}

# What CUDA device code may call that the host's C++ library spells differently.
_PRELUDE = r"""
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <algorithm>
#include <climits>
#include <cfloat>
using namespace std;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
static inline float rsqrt(float x) { return 1.0f / sqrt(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rsqrtf(float x) { return 1.0f / sqrt(x); }
static inline float __fdividef(float a, float b) { return a / b; }
template <typename T> static inline T __ldg(const T* p) { return *p; }
template <typename T> static inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <typename T> static inline T atomicMax(T* p, T v) { T old = *p; if (v > old) *p = v; return old; }
template <typename T> static inline T atomicMin(T* p, T v) { T old = *p; if (v < old) *p = v; return old; }
template <typename T> static inline T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
struct _Dim3 { unsigned int x, y, z; };
// per host thread: ctypes lets launches from several Python threads (DataParallel's replicas) run at once
static thread_local _Dim3 threadIdx, blockIdx, blockDim, gridDim;
struct _Index { long long n; long long size() const { return n; } };
"""

_CACHE = os.path.join(tempfile.gettempdir(), f"ember-cuda-emulator-{os.getuid()}")


def _compile(source):
    """The shared library built from ``source`` (cached by its hash)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    os.makedirs(_CACHE, exist_ok=True)
    lib = os.path.join(_CACHE, f"k{digest}.so")
    if not os.path.exists(lib):
        # files of this process and thread alone: other threads and processes may build it too
        own = os.path.join(_CACHE, f"k{digest}.{os.getpid()}.{threading.get_ident()}")
        with open(own + ".cpp", "w") as f:
            f.write(source)
        flags = ["-O1", "-std=c++17", "-shared", "-fPIC", "-w", *os.environ.get("EMBER_EMULATOR_CXXFLAGS", "").split()]
        done = subprocess.run(["g++", *flags, "-o", own + ".so", own + ".cpp"], capture_output=True, text=True)
        os.remove(own + ".cpp")
        if done.returncode:
            raise RuntimeError(f"the kernel does not compile:\n{done.stderr[-4000:]}\n--- source ---\n{source}")
        os.replace(own + ".so", lib)
    return ctypes.CDLL(lib)


def _nvrtc_check(source, name):
    """Compile ``source`` with NVRTC where this machine has it (see the module's docstring)."""
    from .cuda_nvrtc import compiler

    nvrtc = compiler()
    if nvrtc is not None:
        nvrtc.check(source, name)
    elif os.environ.get("EMBER_CUDA_KERNEL_TESTS") == "nvrtc":
        raise RuntimeError("EMBER_CUDA_KERNEL_TESTS=nvrtc, but no NVRTC or no CuPy headers were found "
                           "(see tests/cuda_nvrtc.py)")


def _cupy_form(typedefs, preamble, name, params, body):
    """A kernel's CUDA C as CuPy generates it: its headers, the type placeholders'
    typedefs, the preamble, then ``extern "C" __global__ void name(params) {body}``."""
    from .cuda_nvrtc import CUPY_HEADER

    return (CUPY_HEADER + typedefs + preamble + "\n"
            + f"extern \"C\" __global__ void {name}({', '.join(params)}) {{\n{body}\n}}\n")


def _c_type(dtype):
    name = np.dtype(dtype).name
    c = _C_TYPES.get(name)
    if c is None:
        raise TypeError(f"the CPU emulator has no C type for {name}")
    return c


class _Param:
    """One parameter of an element-wise or reduction kernel: ``[raw] TYPE name``."""

    def __init__(self, text):
        words = text.split()
        self.raw = words[0] == "raw"
        if self.raw:
            words = words[1:]
        self.type, self.name = words
        self.placeholder = self.type not in _C_TYPES

    @property
    def ctype(self):
        """How the kernel's C code names the type: the placeholder, or the C type."""
        return self.type if self.placeholder else _c_type(self.type)

    def dtype(self, bound):
        return np.dtype(bound[self.type]) if self.placeholder else np.dtype(self.type)


def _params(text):
    return [_Param(p) for p in text.split(",") if p.strip()]


def _bind(params, args):
    """Placeholder name -> dtype, from the array arguments (then scalars) bound to them."""
    bound = {}
    for p, a in zip(params, args):
        if p.placeholder and isinstance(a, np.ndarray) and p.type not in bound:
            bound[p.type] = a.dtype
    for p, a in zip(params, args):
        if p.placeholder and p.type not in bound and a is not None:
            bound[p.type] = np.asarray(a).dtype
    return bound


def _typedefs(bound, extra=""):
    return "".join(f"typedef {_c_type(dt)} {name};\n" for name, dt in bound.items()) + extra


def _pointers(arrays):
    return (ctypes.c_void_p * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])


class ElementwiseKernel:
    """``cupy.ElementwiseKernel`` on the CPU (see the module's docstring)."""

    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", no_return=False, return_tuple=False, loop_prep="", after_loop="", **_):
        self.ins, self.outs = _params(in_params), _params(out_params)
        self.operation, self.name, self.preamble = operation, name, preamble
        self.no_return, self.return_tuple = no_return, return_tuple
        self.loop_prep, self.after_loop = loop_prep, after_loop

    def __call__(self, *args, size=None, **_):
        ins = list(args[:len(self.ins)])
        outs = list(args[len(self.ins):]) + [None] * (len(self.outs) - (len(args) - len(self.ins)))
        if len(ins) != len(self.ins):
            raise TypeError(f"{self.name}: wrong number of arguments")
        bound = _bind(self.ins + self.outs, ins + outs)
        shaped = [a for p, a in zip(self.ins + self.outs, ins + outs)
                  if not p.raw and isinstance(a, np.ndarray)]
        shape = np.broadcast_shapes(*[a.shape for a in shaped]) if shaped else (int(size),)
        n = int(np.prod(shape))
        arrays, lines = [], []
        for k, (p, a) in enumerate(zip(self.ins, ins)):
            dt = p.dtype(bound)
            if p.raw:
                arrays.append(np.ascontiguousarray(a))
                lines.append(f"{p.ctype}* {p.name} = ({p.ctype}*)_a[{k}];")
            elif isinstance(a, np.ndarray):
                arrays.append(np.ascontiguousarray(np.broadcast_to(a.astype(dt, copy=False), shape)))
                lines.append(f"const {p.ctype} {p.name} = (({p.ctype}*)_a[{k}])[i];")
            else:
                arrays.append(np.array(a, dtype=dt))
                lines.append(f"const {p.ctype} {p.name} = *({p.ctype}*)_a[{k}];")
        results = []
        for j, (p, a) in enumerate(zip(self.outs, outs)):
            k = len(self.ins) + j
            if a is None:
                a = np.empty(shape, p.dtype(bound))
            results.append(a)
            work = a if a.flags.c_contiguous else np.ascontiguousarray(a)
            arrays.append(work)
            lines.append(f"{p.ctype}* {p.name} = ({p.ctype}*)_a[{k}];" if p.raw
                         else f"{p.ctype}& {p.name} = (({p.ctype}*)_a[{k}])[i];")
        _nvrtc_check(self._cupy_form(bound, ins, outs, len(shape)), self.name)
        source = (_PRELUDE + _typedefs(bound) + self.preamble + "\n"
                  + "extern \"C\" void run(void** _a, long long _n) {\n"
                  + "_Index _ind{_n};\n" + self.loop_prep + "\n"
                  + "for (long long i = 0; i < _n; ++i) {\n" + "\n".join(lines) + "\n"
                  + self.operation + ";\n}\n" + self.after_loop + "\n}\n")
        _compile(source).run(_pointers(arrays), ctypes.c_longlong(n))
        for a, work in zip(results, arrays[len(self.ins):]):
            if work is not a:
                a[...] = work
        if self.no_return:
            return None
        if len(results) == 1 and not self.return_tuple:
            return results[0]
        return tuple(results)


    def _cupy_form(self, bound, ins, outs, ndim):
        params, lines = [], []
        for k, (p, a) in enumerate(zip(self.ins + self.outs, ins + outs)):
            is_input = k < len(self.ins)
            if p.raw:
                params.append(f"CArray<{p.ctype}, {np.ndim(a)}, true> {p.name}")
            elif isinstance(a, np.ndarray) or not is_input:
                params.append(f"CArray<{p.ctype}, {ndim}, true> _raw_{p.name}")
                lines.append(f"{'const ' if is_input else ''}{p.ctype} &{p.name} = _raw_{p.name}[_ind.get()];")
            else:
                params.append(f"{p.ctype} {p.name}")
        body = (self.loop_prep + ";\nCUPY_FOR(i, _ind.size()) {\n_ind.set(i);\n" + "\n".join(lines)
                + "\n" + self.operation + ";\n}\n" + self.after_loop + ";")
        return _cupy_form(_typedefs(bound), self.preamble, self.name,
                          params + [f"CIndexer<{ndim}> _ind"], body)


class ReductionKernel:
    """``cupy.ReductionKernel`` on the CPU (see the module's docstring)."""

    def __init__(self, in_params, out_params, map_expr, reduce_expr, post_map_expr, identity,
                 name="reduce_kernel", reduce_type=None, reduce_dims=True, preamble="", options=(), **_):
        self.ins, self.outs = _params(in_params), _params(out_params)
        self.map_expr, self.reduce_expr, self.post_map_expr = map_expr, reduce_expr, post_map_expr
        self.identity, self.name, self.preamble = identity, name, preamble
        self.reduce_type = reduce_type

    def __call__(self, *args, axis=None, keepdims=False, out=None, **_):
        """Reduce; as CuPy's, the outputs are either all given after the inputs (of
        the reduced shape; the post-map may read them, being references) or all made,
        and the first is returned."""
        ins, outs = args[:len(self.ins)], list(args[len(self.ins):])
        if out is not None:
            outs = [out]
        if len(ins) != len(self.ins) or (outs and len(outs) != len(self.outs)):
            raise TypeError(f"{self.name}: wrong number of arguments")
        bound = _bind(self.ins, ins)
        arrays = [a for a in ins if isinstance(a, np.ndarray)]
        shape = np.broadcast_shapes(*[a.shape for a in arrays])
        ndim = len(shape)
        axes = tuple(range(ndim)) if axis is None else tuple(
            a % ndim for a in ((axis,) if np.isscalar(axis) else axis))
        kept = [d for d in range(ndim) if d not in axes]
        order = kept + list(axes)
        outer = int(np.prod([shape[d] for d in kept]))
        inner = int(np.prod([shape[d] for d in axes]))
        out_shape = tuple(1 if d in axes else shape[d] for d in range(ndim)) if keepdims else \
            tuple(shape[d] for d in kept)
        buffers, per_element, scalars = [], [], []
        for k, (p, a) in enumerate(zip(self.ins, ins)):
            dt = p.dtype(bound)
            if isinstance(a, np.ndarray):
                full = np.broadcast_to(a.astype(dt, copy=False), shape).transpose(order)
                buffers.append(np.ascontiguousarray(full))
                per_element.append(f"const {p.ctype} {p.name} = (({p.ctype}*)_a[{k}])[_j * _inner + _r];")
            else:
                buffers.append(np.array(a, dtype=dt))
                scalars.append(f"const {p.ctype} {p.name} = *({p.ctype}*)_a[{k}];")
        if not outs:
            outs = [np.empty(out_shape, p.dtype(bound)) for p in self.outs]
        for p, o in zip(self.outs, outs):
            if o.shape != out_shape:
                raise ValueError(f"{self.name}: out shape is mismatched: {o.shape}, expected {out_shape}")
        works = [o if o.flags.c_contiguous else np.ascontiguousarray(o) for o in outs]
        buffers += works
        reduce_type = self.reduce_type or self.outs[0].type
        reduce_c = _c_type(reduce_type) if reduce_type in _C_TYPES else reduce_type
        _nvrtc_check(self._cupy_form(bound, ins, reduce_c, len(kept), len(axes)), self.name)
        references = "".join(f"{p.ctype}& {p.name} = (({p.ctype}*)_a[{len(self.ins) + k}])[_j];\n"
                             for k, p in enumerate(self.outs))
        source = (_PRELUDE + _typedefs(bound) + self.preamble + "\n"
                  + f"typedef {reduce_c} _type_reduce;\n"
                  + "extern \"C\" void run(void** _a, long long _outer, long long _inner) {\n"
                  + "\n".join(scalars) + "\n"
                  + "for (long long _j = 0; _j < _outer; ++_j) {\n"
                  + f"_type_reduce _acc = _type_reduce({self.identity});\n"
                  + "for (long long _r = 0; _r < _inner; ++_r) {\n" + "\n".join(per_element) + "\n"
                  + f"_type_reduce b = _type_reduce({self.map_expr}); _type_reduce a = _acc;\n"
                  + f"_acc = _type_reduce({self.reduce_expr});\n}}\n"
                  + f"_type_reduce a = _acc; {references}"
                  + f"{self.post_map_expr};\n}}\n}}\n")
        _compile(source).run(_pointers(buffers), ctypes.c_longlong(outer), ctypes.c_longlong(inner))
        for o, work in zip(outs, works):
            if work is not o:
                o[...] = work
        return outs[0]

    def _cupy_form(self, bound, args, reduce_c, out_ndim, in_ndim):
        """One thread per output folding its inputs, as CuPy's kernel does before it
        combines the threads' partial results through shared memory."""
        params, lines = [], []
        for p, a in zip(self.ins, args):
            if isinstance(a, np.ndarray):
                params.append(f"CArray<{p.ctype}, {out_ndim + in_ndim}, true> _raw_{p.name}")
                lines.append(f"const {p.ctype} {p.name} = _raw_{p.name}[_in_ind.get()];")
            else:
                params.append(f"{p.ctype} {p.name}")
        params += [f"CArray<{p.ctype}, {out_ndim}, true> _raw_{p.name}" for p in self.outs]
        params += [f"CIndexer<{out_ndim + in_ndim}> _in_ind", f"CIndexer<{out_ndim}> _out_ind"]
        references = "".join(f"{p.ctype} &{p.name} = _raw_{p.name}[_out_ind.get()];\n" for p in self.outs)
        body = ("CUPY_FOR(_j, _out_ind.size()) {\n"
                f"_type_reduce _s = _type_reduce({self.identity});\n"
                "for (ptrdiff_t _r = 0; _r < _in_ind.size() / _out_ind.size(); ++_r) {\n"
                "_in_ind.set(_j * (_in_ind.size() / _out_ind.size()) + _r);\n" + "\n".join(lines) + "\n"
                f"_type_reduce _a = static_cast<_type_reduce>({self.map_expr});\n_s = REDUCE(_s, _a);\n}}\n"
                f"_out_ind.set(_j);\n{references}"
                "POST_MAP(_s);\n}")
        macros = (f"#define REDUCE(a, b) ({self.reduce_expr})\n#define POST_MAP(a) ({self.post_map_expr})\n"
                  f"typedef {reduce_c} _type_reduce;\n")
        # CuPy's order: the placeholders' typedefs, the preamble, then the macros and the
        # reduce type (which the preamble may define)
        return _cupy_form(_typedefs(bound), self.preamble + "\n" + macros, self.name, params, body)


_SIGNATURE = re.compile(r"__global__\s+void\s+(\w+)\s*\(([^)]*)\)", re.S)


class RawKernel:
    """``cupy.RawKernel`` on the CPU: every thread of every block, one after another."""

    def __init__(self, code, name, options=(), backend="nvrtc", **_):
        if "__syncthreads" in code or "__shared__" in code:
            raise NotImplementedError("the CPU emulator runs threads one after another: a kernel that "
                                      "shares memory between threads (__shared__, __syncthreads) "
                                      "cannot be emulated")
        self.code, self.name = code, name
        _nvrtc_check(code, name)
        self._typedefs = dict((alias, base) for base, alias in _TYPEDEF.findall(code))
        for found, params in _SIGNATURE.findall(code):
            if found == name:
                self.params = [self._param(p) for p in params.split(",") if p.strip()]
                break
        else:
            raise ValueError(f"no __global__ function named {name} in the kernel's source")

    @staticmethod
    def _param(text):
        text = re.sub(r"\b(const|__restrict__)\b", " ", text)
        pointer = "*" in text
        words = text.replace("*", " ").split()
        return pointer, " ".join(words[:-1])

    def __call__(self, grid, block, args, shared_mem=0, **_):
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        _check_launch(self.name, grid, block)
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments, got {len(args)}")
        buffers, passes = [], []
        for k, ((pointer, ctype), a) in enumerate(zip(self.params, args)):
            if pointer:
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"argument {k} of {self.name} must be an array")
                _check_pointee(self.name, k, self._typedefs.get(ctype, ctype), a)
                if not a.flags.c_contiguous:  # a raw kernel gets the address alone, no strides
                    raise TypeError(f"argument {k} of {self.name} is not C-contiguous: the kernel would "
                                    "read it as if it were (pass xp.ascontiguousarray(...))")
                buffers.append(a)
                passes.append(f"({ctype}*)_a[{k}]")
            else:
                _check_scalar(self.name, k, ctype, a)
                buffers.append(np.array(a, dtype=_FROM_C[ctype]))
                passes.append(f"*({ctype}*)_a[{k}]")
        source = (_PRELUDE + self.code + "\n"
                  + "extern \"C\" void launch(void** _a, unsigned gx, unsigned gy, unsigned gz,"
                  + " unsigned bx, unsigned by, unsigned bz) {\n"
                  + "gridDim = {gx, gy, gz}; blockDim = {bx, by, bz};\n"
                  + "for (unsigned z = 0; z < gz; ++z) for (unsigned y = 0; y < gy; ++y) "
                  + "for (unsigned x = 0; x < gx; ++x) {\nblockIdx = {x, y, z};\n"
                  + "for (unsigned tz = 0; tz < bz; ++tz) for (unsigned ty = 0; ty < by; ++ty) "
                  + "for (unsigned tx = 0; tx < bx; ++tx) {\nthreadIdx = {tx, ty, tz};\n"
                  + f"{self.name}({', '.join(passes)});\n}}\n}}\n}}\n")
        dims = [ctypes.c_uint(int(v)) for v in grid + block]
        _compile(source).launch(_pointers(buffers), *dims)


_TYPEDEF = re.compile(r"typedef\s+([\w ]+?)\s+(\w+)\s*;")


#: What a CUDA launch may ask for (every GPU since compute capability 3.0).
_GRID_LIMITS, _BLOCK_LIMITS, _THREADS_PER_BLOCK = (2 ** 31 - 1, 65535, 65535), (1024, 1024, 64), 1024


def _check_launch(name, grid, block):
    """A launch the GPU would refuse (a grid or block too large, or empty) fails here too."""
    for what, dims, limits in (("grid", grid, _GRID_LIMITS), ("block", block, _BLOCK_LIMITS)):
        for axis, size, limit in zip("xyz", dims, limits):
            if not 1 <= int(size) <= limit:
                raise ValueError(f"{name}: {what} dimension {axis} is {size}, outside [1, {limit}]: "
                                 "the GPU would refuse the launch")
    if block[0] * block[1] * block[2] > _THREADS_PER_BLOCK:
        raise ValueError(f"{name}: a block of {block} has more than {_THREADS_PER_BLOCK} threads")


def _check_pointee(name, k, ctype, array):
    """An array for a ``ctype*`` parameter must hold that C type, the kernel reading
    other bytes as if they were; an unsigned integer type takes any dtype of its
    width (kernels that only move elements, ``raw.WidthKernels``)."""
    want = _FROM_C.get(ctype)
    if want is None:
        return
    want = np.dtype(want)
    fits = array.dtype.itemsize == want.itemsize if want.kind == "u" else array.dtype == want
    if not fits:
        raise TypeError(f"argument {k} of {name} is a {ctype}*: got an array of {array.dtype}")


def _check_scalar(name, k, ctype, value):
    """CuPy passes a raw kernel a NumPy scalar as its own C type and a Python number
    as a type of its choosing (int64, float64): only a NumPy scalar of the
    parameter's own type is sure to arrive as the kernel reads it."""
    want = np.dtype(_FROM_C[ctype])
    if not isinstance(value, np.generic) or value.dtype != want:
        raise TypeError(f"argument {k} of {name} is the C type {ctype}: pass a NumPy {want} scalar, "
                        f"not {type(value).__name__} {value!r}")


class _EmulatedCuPy:
    """NumPy under CuPy's name, with CuPy's kernel classes emulated on the CPU."""

    ElementwiseKernel = ElementwiseKernel
    ReductionKernel = ReductionKernel
    RawKernel = RawKernel

    def __getattr__(self, name):
        return getattr(np, name)


#: The stand-in ``cupy`` module that the cuda kernels' factories are built with in tests.
CUPY = _EmulatedCuPy()


#: False in a GPU run (``EMBER_CUDA_KERNEL_TESTS=gpu``), whose kernels are CuPy's:
#: tests that count the emulator's launches skip then.
EMULATED = os.environ.get("EMBER_CUDA_KERNEL_TESTS") != "gpu"


def on_device(op):
    """The cuda backend's kernel for ``op``, as a callable of NumPy arrays: built with
    :data:`CUPY`, or, when ``EMBER_CUDA_KERNEL_TESTS=gpu`` (a GPU run), with the real
    CuPy, its arguments copied to the GPU and its results (and arguments it updated
    in place) copied back, lists of arrays included."""
    from ember.backend import REGISTRY
    from ember.kernels import built

    entry = REGISTRY.kernels[(op, "cuda")]
    if EMULATED:
        return built(entry, CUPY)
    import cupy

    return _through_the_gpu(built(entry, cupy), cupy)


def _through_the_gpu(fn, cupy):
    """``fn`` of CuPy arrays as a function of NumPy arrays. Arguments that share
    memory on the host share it on the GPU too (views of one base become views of
    its copy, with the same offsets and strides), and the bases are copied back."""

    def run(*args):
        bases = {}

        def move(a):
            root = a
            while isinstance(root.base, np.ndarray):
                root = root.base
            if not root.flags.c_contiguous:  # no view to rebuild: a copy of its own
                root = a = np.ascontiguousarray(a)
            if id(root) not in bases:
                bases[id(root)] = (root, cupy.asarray(root))
            gpu = bases[id(root)][1]
            offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            return cupy.ndarray(a.shape, a.dtype, gpu.data + offset, strides=a.strides)

        def moved(a):
            if isinstance(a, np.ndarray):
                return move(a)
            if isinstance(a, (list, tuple)):  # the group kernels take lists of arrays
                return type(a)(moved(b) for b in a)
            return a

        result = fn(*[moved(a) for a in args])
        for root, gpu in bases.values():
            if root.flags.writeable:
                root[...] = gpu.get().reshape(root.shape)
        return _on_host(result, cupy)

    return run


def _on_host(result, cupy):
    if isinstance(result, (tuple, list)):
        return type(result)(_on_host(r, cupy) for r in result)
    return result.get() if isinstance(result, cupy.ndarray) else result


def generic(op):
    """``op``'s generic kernel on NumPy: what the cuda kernel must compute."""
    from ember.backend import REGISTRY

    return REGISTRY.generic(op, np)
