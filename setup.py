"""Build script: the Cython extensions and the folder-to-package mapping only.

Project metadata lives in pyproject.toml.  Environment switches, read at
build time (a change of switches regenerates the C sources, so an in-place or
editable rebuild never keeps a ``.so`` built in the other mode):

``EMBER_CYTHON_DEBUG=1``
    compile the kernels with bounds and negative-index checks back on.
``EMBER_BUILD_ONLY=name``
    build only the extensions whose module name contains ``name`` (for
    ``python setup.py build_ext --inplace`` while working on one family).
``EMBER_NATIVE=1``
    tune for the building machine's CPU (``-march=native`` on x86-64,
    ``-mcpu=native`` on aarch64): the vectorised loops then use AVX2/AVX-512
    where it has them (sigmoid about 4x faster on an AVX-512 machine), but the
    result only runs on CPUs like it.  Off by default so that builds and wheels
    stay portable (SSE2 baseline); ignored when cross-compiling.

The target CPU is the one the extensions are compiled for, not the one that
runs this script: ``sysconfig.get_platform()`` follows cross builds
(``_PYTHON_HOST_PLATFORM``, set by crossenv and cibuildwheel) and
``ARCHFLAGS`` lists the macOS targets.  x86 flags (``-march=x86-64-v3/v4``)
are passed only when every target is x86-64.
"""
import os
import pathlib
import platform
import re
import sysconfig

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

# The three source folders form one installed package, ``ember``.
PACKAGE_ROOTS = {
    "ember": "core",
    "ember.backends": "backends",
    "ember.plugins": "plugins",
}


def _packages():
    packages = []
    for name, folder in PACKAGE_ROOTS.items():
        packages.append(name)
        packages.extend(f"{name}.{sub}" for sub in find_packages(folder))
    return packages


_DEBUG = os.environ.get("EMBER_CYTHON_DEBUG", "") == "1"

_ARCH_NAMES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


def _target_archs():
    """The CPU architectures the extensions are compiled for (normalised names)."""
    archs = re.findall(r"-arch\s+(\S+)", os.environ.get("ARCHFLAGS", ""))
    if not archs:
        arch = sysconfig.get_platform().rsplit("-", 1)[-1].lower()
        archs = ["x86_64", "arm64"] if arch == "universal2" else [arch]
    return {_ARCH_NAMES.get(a.lower(), a.lower()) for a in archs}


_TARGETS = _target_archs()
_X86_64 = _TARGETS == {"x86_64"}
_HOST = _ARCH_NAMES.get(platform.machine().lower(), platform.machine().lower())
_NATIVE_FLAG = {"x86_64": "-march=native", "aarch64": "-mcpu=native"}
_NATIVE = os.environ.get("EMBER_NATIVE", "") == "1"
if _NATIVE and (_TARGETS != {_HOST} or _HOST not in _NATIVE_FLAG):
    print(f"EMBER_NATIVE=1 ignored: compiling for {', '.join(sorted(_TARGETS))} on {_HOST}")
    _NATIVE = False

# Directives are set once here, not per file, so a debug build flips them all.
COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": _DEBUG,
    "wraparound": _DEBUG,
    "cdivision": True,
    "initializedcheck": False,
}

# -fno-trapping-math lets GCC if-convert the float selects in the kernels
# (e.g. the clamp in _exp_nonpos) and so vectorise them; ember never traps on
# floating-point exceptions, so nothing observable changes.
_OPENMP_COMPILE = ["-O3", "-fopenmp", "-fno-trapping-math"]
if _NATIVE:
    _OPENMP_COMPILE.append(_NATIVE_FLAG[_HOST])
_OPENMP_LINK = ["-fopenmp"]

# Where cimports are looked up: the folder of ember_cython.pxd, the header that
# every kernel file (backends/cpu and plugins/<family>) cimports by that name.
CYTHON_INCLUDE_PATH = ["backends/cpu"]


def _build_mode_changed():
    """True when the directives or flags differ from the previous build.

    Neither cythonize nor build_ext looks at them, only at file times; forcing
    cythonize rewrites the .c files, whose new times then trigger compilation.
    """
    stamp = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "build", "ember-build-mode.txt")
    mode = f"{sorted(COMPILER_DIRECTIVES.items())} {_OPENMP_COMPILE}\n"
    try:
        with open(stamp) as f:
            if f.read() == mode:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as f:
        f.write(mode)
    return True


# The elementwise kernels are built once portable and, on x86-64, once per wider
# instruction set; backends/cpu/kernels.py picks the widest the running CPU has.
_KERNEL_VARIANTS = {"_kernels": []}
if _X86_64 and not _NATIVE:
    _KERNEL_VARIANTS["_kernels_avx2"] = ["-march=x86-64-v3"]
    _KERNEL_VARIANTS["_kernels_avx512"] = ["-march=x86-64-v4", "-mprefer-vector-width=512"]

# The fused optimizer steps and the row-wise softmax kernels are built in the same
# variants. The steps round like the tensor ops they replace (no FMA contraction);
# their sqrt never sets errno, so it vectorises.
_CPU_MODULES = dict(_KERNEL_VARIANTS)
_CPU_MODULES.update({name.replace("_kernels", "_optim"): flags + ["-ffp-contract=off", "-fno-math-errno"]
                     for name, flags in _KERNEL_VARIANTS.items()})
_CPU_MODULES.update({name.replace("_kernels", "_softmax"): flags for name, flags in _KERNEL_VARIANTS.items()})

extensions = [
    Extension(
        f"ember.backends.cpu.{name}",
        sources=[f"backends/cpu/{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=_OPENMP_COMPILE + flags,
        extra_link_args=_OPENMP_LINK,
    )
    for name, flags in _CPU_MODULES.items()
] + [
    # every Cython file of a layer family: plugins/<family>/<name>.pyx
    Extension(
        f"ember.plugins.{path.parent.name}.{path.stem}",
        sources=[path.as_posix()],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=_OPENMP_COMPILE,
        extra_link_args=_OPENMP_LINK,
    )
    for path in sorted(pathlib.Path("plugins").glob("*/*.pyx"))
]

# Development switch: EMBER_BUILD_ONLY=conv builds only the extensions whose
# module name contains "conv" (with ``setup.py build_ext --inplace``).
_ONLY = os.environ.get("EMBER_BUILD_ONLY", "")
if _ONLY:
    extensions = [ext for ext in extensions if _ONLY in ext.name]

setup(
    package_dir=PACKAGE_ROOTS,
    packages=_packages(),
    ext_modules=cythonize(extensions, compiler_directives=COMPILER_DIRECTIVES,
                          include_path=CYTHON_INCLUDE_PATH, force=_build_mode_changed(),
                          nthreads=os.cpu_count() or 1),
)
