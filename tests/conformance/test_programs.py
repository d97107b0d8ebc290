"""PyTorch 1.0 style programs (tests/conformance/programs/) run under torch and under ember with
only their imports changed, each library in its own process, from identical initial
weights: the losses they print agree (float64 to 1e-8, float32 to 1e-4 relative)."""

import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

PROGRAMS = pathlib.Path(__file__).parent / "programs"
TOLERANCE = {"float64": 1e-8, "float32": 1e-4}

# (program, arguments after dtype and steps); WORKDIR stands for a fresh folder
RUNS = [
    ("word_language_model", ["LSTM", "WORKDIR"]),
    ("word_language_model", ["GRU", "WORKDIR"]),
    ("lbfgs_sequence", []),
    ("lbfgs_sequence", ["strong_wolfe"]),
    ("cnn_resume", ["0.0", "WORKDIR"]),
    ("policy_gradient", []),
    ("poly_regression", []),
    ("checkpointed_blocks", []),
    ("transformer_language_model", []),
    ("graph_network", []),
]

_IMPORT = re.compile(r"^(\s*)import torch(\.[\w.]+)?( as \w+)?\s*$")
_FROM = re.compile(r"^(\s*)from torch((?:\.\w+)*) import ")


def with_ember_imports(source):
    """The program's text with each ``torch`` import replaced by ember's, and nothing else."""
    lines = []
    for line in source.splitlines():
        m = _IMPORT.match(line)
        if m:
            indent, sub, alias = m.groups()
            line = (f"{indent}import ember{sub}{alias}" if alias and sub else
                    f"{indent}import ember as torch" + (f"; import ember{sub}" if sub else ""))
        else:
            line = _FROM.sub(lambda m: f"{m.group(1)}from ember{m.group(2)} import ", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def run_program(name, library, dtype, steps, args, workdir):
    source = (PROGRAMS / f"{name}.py").read_text()
    if library == "ember":
        source = with_ember_imports(source)
        assert "torch." not in "".join(l for l in source.splitlines() if l.lstrip().startswith(("import", "from")))
    argv = [dtype, str(steps)] + [str(workdir) if a == "WORKDIR" else a for a in args]
    done = subprocess.run([sys.executable, "-c", source, *argv], capture_output=True, text=True,
                          timeout=600, cwd=workdir)
    assert done.returncode == 0, f"{library} {name} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_imports_are_the_only_change():
    source = (PROGRAMS / "cnn_resume.py").read_text()
    changed = with_ember_imports(source)
    diff = [(a, b) for a, b in zip(source.splitlines(), changed.splitlines()) if a != b]
    assert diff and all(a.lstrip().startswith(("import torch", "from torch")) for a, _ in diff)
    assert ("from torch.utils.data.sampler import Sampler",
            "from ember.utils.data.sampler import Sampler") in diff
    assert ("import torch.nn.functional as F", "import ember.nn.functional as F") in diff
    assert ("import torch", "import ember as torch") in diff


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,args", RUNS, ids=[f"{n}-{'-'.join(a for a in args if a != 'WORKDIR') or 'default'}"
                                                  for n, args in RUNS])
def test_program_matches_torch(name, args, dtype, tmp_path):
    steps = 20
    (tmp_path / "torch").mkdir()
    (tmp_path / "ember").mkdir()
    expected = run_program(name, "torch", dtype, steps, args, tmp_path / "torch")
    actual = run_program(name, "ember", dtype, steps, args, tmp_path / "ember")
    assert len(actual) == len(expected) >= steps
    assert np.all(np.isfinite(actual))
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 1e-2)


def test_cnn_dropout_is_active_in_training(tmp_path):
    """With p > 0 the random masks differ between libraries, so only ember runs: its
    training losses differ from the p = 0 run, and stay finite."""
    without = run_program("cnn_resume", "ember", "float64", 8, ["0.0", "WORKDIR"], tmp_path)
    dropped = run_program("cnn_resume", "ember", "float64", 8, ["0.5", "WORKDIR"], tmp_path)
    assert np.all(np.isfinite(dropped)) and dropped[:8] != without[:8]
