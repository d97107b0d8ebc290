"""Count the kernel launches one call of each ratio row makes on a GPU, without one.

Usage: ``python benchmarks/emulated_launches.py [--only PATTERN] [--sites]``, from the
repository root. Each row of ``ratio_rows.ROWS`` (but the CUDA graph ones) is built
for ember on the emulated GPU of the test suite (``tests/emulated_gpu.py``), called
twice to warm up, and its third call counted with ``counting_launches`` of
``tests/emulated_cupy.py``: the device calls that would be launches on a GPU (not
views or bare allocations). ``--sites`` also lists, per row, the lines of ember's
code that launch most.

A launch costs a few microseconds of Python and driver time on a GPU whatever it
computes, so on small models (the launch-bound rows) the count is most of the
step's time; it is a figure to lower while no GPU is lent to time the rows.
"""

import argparse
import collections
import re
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from tests import emulated_cupy  # noqa: E402
from tests.emulated_gpu import EmulatedGPU  # noqa: E402

from ember.backend import REGISTRY  # noqa: E402
from ratio_rows import ROWS  # noqa: E402


def _site():
    """The innermost line of ember's code on the stack (file:line:function)."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        path = frame.filename
        if str(ROOT) in path and not any(part in path for part in ("/tests/", "/benchmarks/", "/.venv/")):
            return f"{Path(path).relative_to(ROOT)}:{frame.lineno}:{frame.name}"
    return "?"


def count(fn, sites):
    """The launches of one call of ``fn``; ``sites`` (a Counter or None) gets where
    each was made."""
    launched = emulated_cupy._launched

    def noting(value, writes):
        yes = launched(value, writes)
        if yes and sites is not None:
            sites[_site()] += 1
        return yes

    emulated_cupy._launched = noting
    try:
        with emulated_cupy.counting_launches() as launches:
            fn()
    finally:
        emulated_cupy._launched = launched
    return len(launches)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="PATTERN", help="regex selecting rows by label")
    parser.add_argument("--sites", action="store_true", help="list the lines that launch most")
    args = parser.parse_args()
    REGISTRY.backends["cuda"] = EmulatedGPU()
    emulated_cupy.refuse_host_conversion()
    import ember

    for label, builder, size, _ in ROWS:
        if "graph" in label or (args.only and not re.search(args.only, label)):
            continue
        fn = builder(ember, "cuda", size)
        fn()
        fn()
        sites = collections.Counter() if args.sites else None
        print(f"{label:<56} {count(fn, sites):>6} launches", flush=True)
        for site, n in (sites or collections.Counter()).most_common(12):
            print(f"    {n:>5}  {site}")


if __name__ == "__main__":
    main()
