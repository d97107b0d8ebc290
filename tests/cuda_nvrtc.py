"""NVRTC, the compiler CuPy builds its kernels with, called through ctypes so that a
machine without a GPU (or without CuPy's device libraries) can still check that the
cuda backend's kernels compile as CUDA, not only as the C++ that the CPU emulator
(tests/cuda_emulator.py) turns them into.

It needs:

* NVRTC: ``libnvrtc.so`` of the ``nvidia-cuda-nvrtc`` wheel (``nvidia/cu13/lib``,
  or ``nvidia/cuda_nvrtc/lib`` for CUDA 12) on ``sys.path``, or the path given as
  ``EMBER_NVRTC``;
* CuPy's headers (``cupy/_core/include``, found through an installed ``cupy``
  package, or given as ``EMBER_CUPY_INCLUDE``), which element-wise and reduction
  kernels include as CuPy's own code does.

The test extra installs both (CuPy imports without a GPU), so CI checks every
kernel the tests build; :func:`compiler` is None on a machine without them.

Sources are compiled for ``EMBER_NVRTC_ARCH`` (default ``compute_90``, the H100);
one that compiled is remembered by its hash in a cache folder.
"""

import ctypes
import hashlib
import importlib.util
import os
import sys
import tempfile

_SUCCESS = 0
_HEADERS = ("cupy/complex.cuh", "cupy/carray.cuh", "cupy/atomics.cuh", "cupy/math_constants.h")

#: What CuPy puts before every element-wise and reduction kernel.
CUPY_HEADER = "".join(f"#include <{h}>\n" for h in _HEADERS)


_WHEEL_LIBRARIES = ("nvidia/cu13/lib/libnvrtc.so.13", "nvidia/cuda_nvrtc/lib/libnvrtc.so.12")


def _library_path():
    given = os.environ.get("EMBER_NVRTC")
    if given == "off":  # no check (NVRTC does not load beside AddressSanitizer's runtime)
        return None
    if given:
        return given
    for folder in sys.path:
        for name in _WHEEL_LIBRARIES:
            path = os.path.join(folder or ".", name)
            if os.path.exists(path):
                return path
    return None


def _include_dir():
    given = os.environ.get("EMBER_CUPY_INCLUDE")
    if given:
        return given
    try:
        spec = importlib.util.find_spec("cupy")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(spec.submodule_search_locations[0], "_core", "include")


_CACHE = os.path.join(tempfile.gettempdir(), f"ember-nvrtc-{os.getuid()}")
_FOUND = {}


def compiler():
    """The :class:`Compiler` of this machine (made once), or None without NVRTC or
    CuPy's headers."""
    if "compiler" not in _FOUND:
        library, include = _library_path(), _include_dir()
        _FOUND["compiler"] = Compiler(library, include, _CACHE) if library and include else None
    return _FOUND["compiler"]


class Compiler:
    """Compiles CUDA C with NVRTC as CuPy would, raising on a rejected source."""

    def __init__(self, library, include, cache):
        self._lib, self._library = ctypes.CDLL(library), library
        self._lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        cccl = os.path.join(include, "cupy", "_cccl")
        arch = os.environ.get("EMBER_NVRTC_ARCH", "compute_90")
        self._options = [f"-arch={arch}", "--std=c++17", f"-I{include}",
                         *(f"-I{os.path.join(cccl, part)}" for part in ("libcudacxx", "thrust", "cub"))]
        self._cache = cache

    def check(self, source, name):
        """Compile ``source`` (kernel ``name``); RuntimeError with NVRTC's log if it fails."""
        digest = hashlib.sha256("\0".join([self._library, *self._options, source]).encode()).hexdigest()[:24]
        passed = os.path.join(self._cache, f"n{digest}.ok")
        if os.path.exists(passed):
            return
        lib, program = self._lib, ctypes.c_void_p()
        self._call(lib.nvrtcCreateProgram(ctypes.byref(program), source.encode(), f"{name}.cu".encode(),
                                          0, None, None), name)
        try:
            options = (ctypes.c_char_p * len(self._options))(*[o.encode() for o in self._options])
            status = lib.nvrtcCompileProgram(program, len(self._options), options)
            if status != _SUCCESS:
                size = ctypes.c_size_t()
                lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
                log = ctypes.create_string_buffer(size.value)
                lib.nvrtcGetProgramLog(program, log)
                raise RuntimeError(f"NVRTC rejects kernel {name}:\n{log.value.decode(errors='replace')}"
                                   f"\n--- source ---\n{source}")
        finally:
            lib.nvrtcDestroyProgram(ctypes.byref(program))
        os.makedirs(self._cache, exist_ok=True)
        open(passed, "w").close()

    def _call(self, status, name):
        if status != _SUCCESS:
            raise RuntimeError(f"NVRTC failed on {name}: {self._lib.nvrtcGetErrorString(status).decode()}")
