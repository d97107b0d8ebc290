"""Per-op sample counts of the OpInfo harness, shown at the end of a pytest run.

tests/conformance/test_torch_tensor_samples.py adds one row per test (op, variant, kind,
dtype); tests/conformance/conftest.py prints the table in the terminal summary, so a run
with ``-k <opname>`` shows how many of torch's samples passed, failed or were
skipped (and why) for that op.
"""

from collections import Counter, defaultdict

COUNTS = defaultdict(Counter)


def add(test, outcome, n=1):
    """Count ``n`` samples of ``test`` (a label) with ``outcome`` (passed, failed, skipped: why)."""
    COUNTS[test][outcome] += n


def summary_lines():
    """The table: one line per test, then the totals."""
    if not COUNTS:
        return []
    total = Counter()
    lines = []
    for test in sorted(COUNTS):
        counts = COUNTS[test]
        total.update(counts)
        lines.append(f"{test:<48} {_describe(counts)}")
    lines.append(f"{'TOTAL':<48} {_describe(total)}")
    return lines


def _describe(counts):
    skips = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if k.startswith("skipped"))
    text = f"passed {counts['passed']:>4}  failed {counts['failed']:>4}"
    return f"{text}  ({skips})" if skips else text
