"""The plugin guide's example package (docs/example_plugin) passes its own tests
against this ember, when it is installed."""

import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "example_plugin"


def _installed():
    try:
        importlib.metadata.distribution("ember-swishy")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed(), reason="the example plugin is not installed: "
                    "pip install ./docs/example_plugin")
def test_the_example_plugin_passes_its_tests():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", str(EXAMPLE / "tests")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stdout.splitlines()[-1]
    assert " passed" in summary
    if importlib.util.find_spec("torch") is not None:
        assert "skipped" not in summary, summary  # the comparisons with torch ran
