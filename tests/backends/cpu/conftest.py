"""The terminal summary says which builds of the CPU kernels the kernel tests ran on."""

from collections import Counter


def pytest_terminal_summary(terminalreporter):
    """Kernel-test outcomes per build (the test ids carry it), with the reason for a skipped build."""
    from ember.backends.cpu.dispatch import VARIANTS

    counts = {variant: Counter() for variant in VARIANTS}
    reasons = {}
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if "backends/cpu/test_kernels.py" not in nodeid or (outcome != "skipped" and report.when != "call"):
                continue
            params = nodeid.partition("[")[2].rstrip("]").split("-")
            variant = next((v for v in VARIANTS if v in params), None)
            if variant is not None:
                counts[variant][outcome] += 1
                if outcome == "skipped" and isinstance(report.longrepr, tuple):
                    reasons.setdefault(variant, report.longrepr[2].removeprefix("Skipped: "))
    if not any(counts.values()):
        return
    terminalreporter.section("cpu kernel builds tested")
    for variant, c in counts.items():
        note = f"  ({reasons[variant]})" if variant in reasons else ""
        terminalreporter.write_line(f"{variant:<9} passed {c['passed']:>4}  failed {c['failed']:>4}  "
                                    f"skipped {c['skipped']:>4}{note}")
