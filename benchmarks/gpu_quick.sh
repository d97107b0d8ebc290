#!/usr/bin/env bash
# The shortest GPU check: install without extensions, build them in parallel,
# run the cuda-marked tests of the layer families (for a lent machine with little time).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/ember-gpu}
mkdir -p "$OUT"
EMBER_BUILD_ONLY=__none__ python -m pip install --no-build-isolation --no-deps --no-index -q -e . \
  >"$OUT/install.log" 2>&1 || { tail -20 "$OUT/install.log"; exit 1; }
python setup.py -q build_ext --inplace -j "$(nproc)" >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
timeout "${TEST_SECONDS:-120}" python -m pytest -q -m cuda -p no:cacheprovider --tb=line tests/plugins \
  >"$OUT/pytest.txt" 2>&1
grep -E "^/.*:[0-9]+: |[0-9]+ (passed|failed)" "$OUT/pytest.txt" | sed 's/^.*\/tests\//tests\//' | sort | uniq -c | sort -rn | head -30
