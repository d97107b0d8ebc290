#!/usr/bin/env bash
# One prepared run on a lent GPU machine (CuPy and torch preinstalled, no network):
# build ember in place, report what it finds, run the cuda-marked tests, time a few ops.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/ember-gpu}
mkdir -p "$OUT"
python -m pip install --no-build-isolation --no-deps --no-index -q -e . >"$OUT/install.log" 2>&1 \
  || { tail -30 "$OUT/install.log"; exit 1; }
python -m ember | head -12 | tee "$OUT/ember.txt"
timeout 300 python -m pytest -q -m cuda -p no:cacheprovider --tb=line tests >"$OUT/pytest_full.txt" 2>&1
grep -E "^/.*:[0-9]+: |[0-9]+ (passed|failed)" "$OUT/pytest_full.txt" | sed 's/^.*\/tests\//tests\//' \
  | sort | uniq -c | sort -rn | head -40
python - <<'PY' 2>&1 | tee "$OUT/timing.txt"
import time, ember
x = ember.randn(1024, 1024, device="cuda", requires_grad=True)
w = ember.randn(1024, 1024, device="cuda", requires_grad=True)
for _ in range(3):
    (x @ w).sigmoid().sum().backward()
ember.cuda.synchronize()
t = time.perf_counter()
for _ in range(20):
    (x @ w).sigmoid().sum().backward()
ember.cuda.synchronize()
print(f"cuda 1024 matmul+sigmoid fwd+bwd: {(time.perf_counter() - t) / 20 * 1e3:.2f} ms")
print("grad device:", x.grad.device, "dtype:", x.grad.dtype)
PY
# ember/torch ratios of the benchmark workloads on the GPU (torch there is a CUDA build)
timeout 240 python benchmarks/ratio.py --quick --device cuda 2>&1 | tee "$OUT/ratio_cuda.txt"
