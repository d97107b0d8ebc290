"""Peak memory of scaled_dot_product_attention forward + backward, each library alone
in a fresh process: the rise of the peak resident set over what the process held
once its inputs were built (so the library's import does not count).

Usage: ``python benchmarks/attention_memory.py [--seq 1024]``. torch is measured twice:
with its default CPU kernel and forced onto its math path (``SDPBackend.MATH``), which
forms the whole score matrix as ember's unfused path would.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = """
import json, resource, sys
sys.path.insert(0, {benchmarks!r})
lib_name, seq, math_path = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "math"
lib = __import__(lib_name)
from benchmarks.attention_workloads import sdpa_causal
run = sdpa_causal(lib, "cpu", seq)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if math_path:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        run()
else:
    run()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps((after - before) / 1024))
"""

CASES = [("ember", "default"), ("torch", "default"), ("torch", "math")]


def rise_mib(lib, path, seq):
    """The peak-memory rise of one forward + backward in a fresh process, in MiB."""
    code = WORKER.format(benchmarks=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", code, lib, str(seq), path], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    """Measure every case and print one line each, then the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq", type=int, default=1024)
    args = parser.parse_args(argv)
    results = {f"{lib} {path}": rise_mib(lib, path, args.seq) for lib, path in CASES}
    for case, mib in results.items():
        print(f"{case:<16}{mib:>10.1f} MiB")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
