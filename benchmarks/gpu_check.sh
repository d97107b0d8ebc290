#!/usr/bin/env bash
# The prepared run for a lent GPU machine (CuPy, torch and pytest-xdist preinstalled,
# no network): build ember in place, then
#   1. the cuda backend's kernels checked on the GPU by the tests that check them
#      emulated on every machine (EMBER_CUDA_KERNEL_TESTS=gpu),
#   2. every cuda-marked test,
#   3. a 10,000-step training loop: flat memory_allocated, no host sync per step,
#   4. the ember/torch GPU time ratios (each library in its own processes),
# and a summary table. Everything is kept under $OUT.
# A device command may run 10 minutes at most: `gpu_check.sh tests` runs steps 1-2
# (about 8 minutes), `gpu_check.sh bench` steps 3-4 (about 6); no argument runs all.
set -uo pipefail
STAGE=${1:-all}
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/ember-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
EMBER_BUILD_ONLY=__none__ python -m pip install --no-build-isolation --no-deps --no-index -q -e . \
  >"$OUT/install.log" 2>&1 || { tail -20 "$OUT/install.log"; exit 1; }
python setup.py -q build_ext --inplace -j "$(nproc)" >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
{ date -u +%FT%TZ; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python -m ember | head -12; } | tee "$OUT/device.txt"

summary() {  # the pytest closing line of a log
  grep -E "[0-9]+ (passed|failed)|no tests ran" "$1" | tail -1
}

if [ "$STAGE" != bench ]; then
  echo "== 1. cuda kernels on the GPU"
  EMBER_CUDA_KERNEL_TESTS=gpu timeout 150 python -m pytest -q -p no:cacheprovider --tb=short -n 8 \
    tests/backends/test_cuda_kernels.py $(ls tests/plugins/*/test_cuda_*.py 2>/dev/null) \
    tests/core/optim/test_group_steps.py >"$OUT/kernels.txt" 2>&1
  grep -E "^(FAILED|ERROR)" "$OUT/kernels.txt" | head -20

  echo "== 2. cuda-marked tests"
  timeout 330 python -m pytest -q -m cuda -p no:cacheprovider --tb=line -n 12 tests >"$OUT/cuda_tests.txt" 2>&1
  grep -E "^/.*:[0-9]+: |^(FAILED|ERROR)" "$OUT/cuda_tests.txt" | sed 's/^.*\/tests\//tests\//' \
    | sort | uniq -c | sort -rn | head -30
fi

if [ "$STAGE" != tests ]; then
  echo "== 3. steady state"
  timeout 120 python benchmarks/gpu_steady_state.py --steps 10000 2>&1 | tee "$OUT/steady_state.txt"

  echo "== 4. ember/torch GPU ratios"
  timeout 230 python benchmarks/ratio.py --quick --device cuda >"$OUT/ratio_cuda.txt" 2>&1
  tail -45 "$OUT/ratio_cuda.txt"
fi

echo "== summary"
touch "$OUT/kernels.txt" "$OUT/cuda_tests.txt" "$OUT/steady_state.txt" "$OUT/ratio_cuda.txt"
printf '%-28s %s\n' "cuda kernels (real CuPy)" "$(summary "$OUT/kernels.txt")" \
  "-m cuda tests" "$(summary "$OUT/cuda_tests.txt")" \
  "steady state" "$(grep -E 'host copies|memory_allocated' "$OUT/steady_state.txt" | tr '\n' ' ')"
grep -E "CUDA graph" "$OUT/ratio_cuda.txt" | sed 's/^/ratio (target <= 1.5): /'
