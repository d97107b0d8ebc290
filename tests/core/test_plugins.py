"""The plugin manager: discovery of a real third-party distribution through entry
points, the switches (list/enable/disable, environment), broken and conflicting
plugins, kernels contributed by plugins, and ``python -m ember``."""

import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import ember
from ember import hookimpl

SWISH = '''
import ember

class Swish(ember.nn.Module):
    """x * sigmoid(x)."""
    def forward(self, x):
        return x * ember.sigmoid(x)

def swish(x):
    return x * ember.sigmoid(x)

@ember.hookimpl
def ember_register_modules():
    return {"Swish": Swish}

@ember.hookimpl
def ember_register_functions():
    return {"swish": swish}
'''

BROKEN = "raise ImportError('this plugin is broken on purpose')\n"

CLASH = '''
import ember

class Swish(ember.nn.Module):
    def forward(self, x):
        return x

@ember.hookimpl
def ember_register_modules():
    return {"Swish": Swish}
'''


def _write_dist(site, dist, version, module, source, ep_name):
    """What pip leaves for an installed package: its module plus a dist-info folder."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[ember]\n{ep_name} = {module}\n")
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path):
    """A folder on which a third-party plugin distribution is 'installed'."""
    _write_dist(tmp_path, "ember-swish", "1.2", "ember_swish", SWISH, "swish")
    return tmp_path


def _run(code, site, **env):
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join([str(site)] + [p for p in sys.path if p])
    full_env.update(env)
    proc = subprocess.run([sys.executable, "-W", "default", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, env=full_env, timeout=120)
    return proc


def test_third_party_plugin_is_discovered(site):
    proc = _run("""
        import ember
        m = ember.nn.Swish()
        x = ember.tensor([-1.0, 0.0, 2.0])
        print(m(x).tolist() == (x * x.sigmoid()).tolist())
        print(ember.nn.functional.swish is not None, 'Swish' in dir(ember.nn))
        info = {p.name: p for p in ember.plugins.list()}['swish']
        print(info.distribution, info.version, info.enabled, info.builtin)
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["True", "True True", "ember-swish 1.2 True False"]


def test_disable_by_environment_names_the_plugin(site):
    proc = _run("""
        import ember
        try:
            ember.nn.Swish
        except AttributeError as e:
            print(e)
        ember.plugins.enable('swish')
        print(ember.nn.Swish.__name__)
    """, site, EMBER_DISABLE_PLUGINS="swish")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()[:2]
    assert "Swish" in first and "'swish'" in first and "disabled" in first
    assert second == "Swish"


def test_autoload_switch_keeps_only_builtins(site):
    proc = _run("""
        import ember
        print(sorted(p.name for p in ember.plugins.list() if p.enabled))
        print(hasattr(ember.nn, 'Swish'))
    """, site, EMBER_DISABLE_PLUGIN_AUTOLOAD="1")
    assert proc.returncode == 0, proc.stderr
    enabled, has = proc.stdout.splitlines()[:2]
    assert "swish" not in enabled and "cpu" in enabled
    assert has == "False"


def test_broken_plugin_warns_and_the_rest_loads(site):
    _write_dist(site, "ember-broken", "0.1", "ember_broken", BROKEN, "broken")
    proc = _run("""
        import ember
        print(ember.nn.Swish.__name__, float(ember.ones(2).sum()))
        info = {p.name: p for p in ember.plugins.list()}['broken']
        print(info.enabled, info.error)
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert "ember plugin 'broken'" in proc.stderr and "broken on purpose" in proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "Swish 2.0"
    assert out[1].startswith("False ImportError: this plugin is broken on purpose")


def test_conflicting_plugins_are_an_error_naming_both(site):
    _write_dist(site, "ember-clash", "0.1", "ember_clash", CLASH, "clash")
    proc = _run("""
        import ember
        refused = [p.name for p in ember.plugins.list() if p.name in ('swish', 'clash') and not p.enabled]
        print(refused)
        try:
            ember.plugins.enable(refused[0])
        except ember.plugins.PluginConflictError as e:
            print('conflict:', e)
        print([p.name for p in ember.plugins.list() if p.name in ('swish', 'clash') and p.enabled])
    """, site)
    assert proc.returncode == 0, proc.stderr
    assert "refused" in proc.stderr and "'clash'" in proc.stderr and "'swish'" in proc.stderr
    refused, conflict, enabled = proc.stdout.splitlines()[:3]
    assert refused in ("['swish']", "['clash']")
    assert conflict.startswith("conflict:") and "'clash'" in conflict and "'swish'" in conflict
    assert "Swish" in conflict
    assert len(eval(enabled)) == 1 and eval(enabled)[0] not in refused


def test_python_m_ember_lists_backends_and_plugins(site):
    proc = _run("import runpy; runpy.run_module('ember', run_name='__main__')", site)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "backends:" in out and "  cpu " in out and "  cuda " in out
    assert "available" in out
    assert "swish" in out and "ember-swish 1.2" in out
    assert "ember.nn.Swish" in out and "sigmoid" in out


def _local_plugin(name, **hooks):
    mod = types.ModuleType(name)
    for hook, value in hooks.items():
        setattr(mod, hook, hookimpl(lambda value=value: value))
    return mod


def test_register_disable_enable_in_process():
    class Cube(ember.nn.Module):
        def forward(self, x):
            return x ** 3

    mod = _local_plugin("cube_plugin", ember_register_modules={"Cube": Cube})
    ember.plugins.register(mod, "cube")
    try:
        assert ember.nn.Cube is Cube
        ember.plugins.disable("cube")
        with pytest.raises(AttributeError, match="plugin 'cube'"):
            ember.nn.Cube
        ember.plugins.enable("cube")
        assert ember.nn.Cube()(ember.tensor([2.0])).item() == 8.0
    finally:
        ember.plugins.disable("cube")


def test_plugin_kernel_overrides_and_disabling_restores():
    calls = []

    def exp_kernel(x):
        calls.append(x.shape)
        return np.exp(x)

    mod = _local_plugin("fast_exp", ember_register_kernels={("exp", "cpu"): exp_kernel})
    ember.plugins.register(mod, "fastexp")
    try:
        y = ember.tensor([0.0, 1.0]).exp()
        assert calls == [(2,)]
        assert np.allclose(y.numpy(), np.exp([0.0, 1.0]))
    finally:
        ember.plugins.disable("fastexp")
    ember.tensor([0.0]).exp()
    assert calls == [(2,)]


def test_essential_and_unknown_plugins():
    with pytest.raises(ValueError, match="essential"):
        ember.plugins.disable("cpu")
    with pytest.raises(ValueError, match="no ember plugin named 'nope'"):
        ember.plugins.enable("nope")


def test_misspelled_hook_fails_loudly():
    mod = types.ModuleType("typo_plugin")
    mod.ember_register_modulez = hookimpl(lambda: {})
    with pytest.warns(RuntimeWarning, match="typo"):
        ember.plugins.register(mod, "typo")
    info = {p.name: p for p in ember.plugins.list()}["typo"]
    assert not info.enabled and "ember_register_modulez" in info.error


def test_cuda_backend_reports_why_unavailable():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="'cuda' backend is not available: .*(CuPy|GPU)"):
        ember.zeros(2).cuda()
    with pytest.raises(RuntimeError, match="not available"):
        ember.zeros(2, device="cuda")


def test_rnn_utilities_import_as_a_submodule():
    """``from torch.nn.utils.rnn import ...`` has to work with ember in place of torch."""
    from ember.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_sequence
    import ember.nn.utils.rnn as rnn_utils

    assert rnn_utils.pad_sequence is pad_sequence
    assert isinstance(pack_padded_sequence(ember.ones(3, 2, 1), [3, 2]), PackedSequence)
    assert "pad_sequence" in dir(rnn_utils) and "pad_sequence" not in dir(ember.nn.utils)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_helper'"):
        rnn_utils.no_such_helper
