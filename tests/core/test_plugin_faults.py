"""Plugins that go wrong, and the kernel table they feed: each case is a real
distribution (a module plus its dist-info with an ``ember`` entry point) on the
path of a fresh interpreter, which must import ember, warn once naming the plugin
and the reason, and load everything else."""

import re

import pytest

from tests.core.test_plugins import _run, _write_dist, site  # noqa: F401  (site: the fixture)

HOOK_RAISES = '''
import ember

@ember.hookimpl
def ember_register_functions():
    raise AttributeError("no attribute 'oops' (raised on purpose)")
'''

NOT_A_CLASS = '''
import ember

@ember.hookimpl
def ember_register_modules():
    return {"Gelu2": lambda x: x}
'''

NOT_A_MAPPING = '''
import ember

@ember.hookimpl
def ember_register_kernels():
    return ["exp"]
'''

BAD_BACKEND = '''
import ember

class HalfBackend:
    name = "half"

@ember.hookimpl
def ember_register_backends():
    return [HalfBackend()]
'''

# claims the cpu kernel of the sigmoid op that the cpu backend already registers
CLAIM = '''
import numpy as np
import ember

def sigmoid(x):
    return np.full_like(x, 0.25)

@ember.hookimpl
def ember_register_kernels():
    return {{("sigmoid", "cpu"): ember.kernels.kernel(sigmoid, override={override})}}
'''

SUBCLASS = '''
import ember
from ember.plugins.linear import Linear

class ScaledLinear(ember.nn.Linear):
    """Linear with its output doubled."""
    def forward(self, x):
        return 2 * super().forward(x)

assert issubclass(ScaledLinear, Linear)

@ember.hookimpl
def ember_register_modules():
    return {"ScaledLinear": ScaledLinear}
'''

NEEDS_PADDING = '''
import ember

REQUIRES = ("padding",)

@ember.hookimpl
def ember_register_functions():
    return {"pad_twice": lambda x, p: ember.nn.functional.pad(ember.nn.functional.pad(x, p), p)}
'''


def _install(site, name, source):
    _write_dist(site, f"ember-{name}", "0.1", f"ember_{name}", source, name)


def _warnings_about(stderr, plugin):
    return [line for line in stderr.splitlines()
            if "RuntimeWarning" in line and f"ember plugin '{plugin}'" in line]


@pytest.mark.parametrize("name, source, reason", [
    ("raiser", HOOK_RAISES, r"ember_register_functions\(\) raised AttributeError: .*on purpose"),
    ("notaclass", NOT_A_CLASS, r"'Gelu2' .* not a subclass of ember\.nn\.Module"),
    ("notamapping", NOT_A_MAPPING, r"ember_register_kernels\(\) returned list, not a mapping"),
    ("badbackend", BAD_BACKEND, r"backend .* lacks xp, version, .*synchronize"),
])
def test_a_faulty_plugin_is_refused_with_one_warning_and_the_rest_loads(site, name, source, reason):
    _install(site, name, source)
    proc = _run(f"""
        import ember
        print(ember.nn.Swish()(ember.tensor([0.0])).tolist(), float(ember.nn.Linear(2, 1)(ember.ones(1, 2)).shape[1]))
        info = {{p.name: p for p in ember.plugins.list()}}[{name!r}]
        print(info.enabled)
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[0.0] 1.0", "False"]
    warned = _warnings_about(proc.stderr, name)
    assert len(warned) == 1, proc.stderr
    assert re.search(reason, warned[0]), warned[0]


def test_a_clashing_kernel_is_refused_naming_both_plugins(site):
    _install(site, "claim", CLAIM.format(override=False))
    proc = _run("""
        import ember
        print(ember.tensor([0.0]).sigmoid().item())
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0.5"
    (warned,) = _warnings_about(proc.stderr, "claim")
    assert "('sigmoid', 'cpu')" in warned and "'cpu'" in warned and "'claim'" in warned
    assert "override=True" in warned


def test_an_explicit_override_wins_is_listed_and_goes_with_its_plugin(site):
    _install(site, "claim", CLAIM.format(override=True))
    proc = _run("""
        import ember
        from ember.__main__ import kernels_report
        x = ember.tensor([0.0, 1.0])
        print(x.sigmoid().tolist(), x[::2].sigmoid().tolist())
        print([line for line in kernels_report().splitlines() if line.split()[0] == 'sigmoid'][0])
        ember.plugins.disable('claim')
        print(x.sigmoid().tolist())
    """, site)
    assert proc.returncode == 0, proc.stderr
    overridden, listed, restored = proc.stdout.splitlines()
    assert overridden == "[0.25, 0.25] [0.25]"      # no accepts: it takes every call
    assert "cpu* [claim]" in listed and "generic [core]" in listed
    assert restored == "[0.5, 0.7310585975646973]"
    assert not _warnings_about(proc.stderr, "claim")


def test_a_third_party_module_subclasses_a_builtin_layer_while_it_is_imported(site):
    _install(site, "scaled", SUBCLASS)
    proc = _run("""
        import ember
        m = ember.nn.ScaledLinear(2, 1)
        x = ember.ones(1, 2)
        print(bool(ember.allclose(m(x), 2 * ember.nn.functional.linear(x, m.weight, m.bias))))
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
    assert not _warnings_about(proc.stderr, "scaled")


def test_disabling_a_required_family_disables_its_dependents_with_a_warning(site):
    _install(site, "needspad", NEEDS_PADDING)
    proc = _run("""
        import ember
        enabled = {p.name: p.enabled for p in ember.plugins.list()}
        print(enabled['padding'], enabled['conv'], enabled['needspad'], enabled['linear'])
        try:
            ember.plugins.enable('conv')
        except RuntimeError as e:
            print(e)
        ember.plugins.enable('padding')
        ember.plugins.enable('conv')
        ember.plugins.enable('needspad')
        print(ember.nn.functional.pad_twice(ember.ones(1, 1, 1), (1, 1)).shape[-1])
    """, site, EMBER_DISABLE_PLUGINS="padding")
    assert proc.returncode == 0, proc.stderr
    states, refusal, width = proc.stdout.splitlines()
    assert states == "False False False True"
    assert "plugin 'conv' requires plugin(s) 'padding'" in refusal
    assert width == "5"
    assert len(_warnings_about(proc.stderr, "conv")) == 1 and "'padding'" in _warnings_about(proc.stderr, "conv")[0]
    assert len(_warnings_about(proc.stderr, "needspad")) == 1


def test_disable_in_process_takes_the_dependents_along():
    proc = _run("""
        import warnings
        import ember
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter('always')
            ember.plugins.disable('linear')
        print(sorted(p.name for p in ember.plugins.list() if not p.enabled))
        print(sorted(str(w.message).split("'")[1] for w in seen))
        print(hasattr(ember.nn, 'LSTM'), hasattr(ember.nn, 'AdaptiveLogSoftmaxWithLoss'),
              hasattr(ember.nn, 'MultiheadAttention'))
    """, ".")
    assert proc.returncode == 0, proc.stderr
    disabled, warned, present = proc.stdout.splitlines()
    assert disabled == "['attention', 'linear', 'losses', 'recurrent']"
    assert warned == "['attention', 'losses', 'recurrent']"
    assert present == "False False False"
