"""Which build of the CPU kernels to import: the CPU check runs before any import.

setup.py builds ``_kernels`` for the x86-64 baseline and, on x86-64, also
``_kernels_avx2`` (x86-64-v3) and ``_kernels_avx512`` (x86-64-v4). A module
built for a wider instruction set may execute those instructions while it
initialises, so importing it on a CPU without them kills the process
(SIGILL): nothing here imports a variant before checking the CPU's features.

``EMBER_CPU_DISPATCH=portable|avx2|avx512`` forces one variant; otherwise the
widest one that the CPU runs and that was built is taken. The library and the
tests use the same table (``VARIANTS``) and the same check (``missing_features``).
"""

import os
from importlib import import_module

ENV = "EMBER_CPU_DISPATCH"

# variant -> (module name, CPU features it needs, as NumPy names them), widest first.
# x86-64-v3 is AVX2 with FMA, BMI1/2, F16C, LZCNT and MOVBE; v4 adds AVX-512 F/CD/BW/DQ/VL.
_V3 = ("AVX", "AVX2", "FMA3", "BMI", "BMI2", "F16C", "LZCNT", "MOVBE")
VARIANTS = {
    "avx512": ("_kernels_avx512", _V3 + ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")),
    "avx2": ("_kernels_avx2", _V3),
    "portable": ("_kernels", ()),
}


def cpu_features():
    """The features of the running CPU (and OS) as NumPy detected them: name -> bool."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return {}
    return dict(__cpu_features__)


def missing_features(variant):
    """The CPU features ``variant`` needs that this CPU lacks (empty when it runs)."""
    features = cpu_features()
    return [flag for flag in VARIANTS[_checked(variant)][1] if not features.get(flag)]


def load(variant):
    """Import the kernels built for ``variant`` after checking that the CPU runs them.

    Raises RuntimeError naming the missing CPU features, or saying that the
    variant was not built (it is only built when compiling for x86-64).
    """
    module, _ = VARIANTS[_checked(variant)]
    missing = missing_features(variant)
    if missing:
        raise RuntimeError(f"the {variant!r} CPU kernels need CPU features this CPU lacks: {', '.join(missing)}")
    try:
        return import_module(f"{__package__}.{module}")
    except ImportError as error:
        raise RuntimeError(f"the {variant!r} CPU kernels were not built ({__package__}.{module}: {error}); "
                           "setup.py builds the wider variants only when compiling for x86-64") from error


def choose():
    """(variant, module): the one ``EMBER_CPU_DISPATCH`` names, else the widest that runs here."""
    forced = os.environ.get(ENV, "").strip().lower()
    if forced:
        if forced not in VARIANTS:
            raise ValueError(f"{ENV}={os.environ[ENV]!r} is not a kernel variant; "
                             f"valid values: {', '.join(VARIANTS)}")
        return forced, load(forced)
    for variant in VARIANTS:
        if not missing_features(variant):
            try:
                return variant, load(variant)
            except RuntimeError:  # not built: try the next narrower one
                continue
    raise RuntimeError("the portable CPU kernels (ember.backends.cpu._kernels) are not built")


def _checked(variant):
    if variant not in VARIANTS:
        raise ValueError(f"unknown CPU kernel variant {variant!r}; valid: {', '.join(VARIANTS)}")
    return variant


def load_companion(stem, variant):
    """Another kernel module (``stem``: "_optim", "_softmax") built for ``variant``,
    which :func:`choose` picked after checking the CPU, else its portable build."""
    try:
        return import_module(f"{__package__}.{VARIANTS[variant][0].replace('_kernels', stem)}")
    except ImportError:  # built before the variants existed
        return import_module(f"{__package__}.{stem}")
