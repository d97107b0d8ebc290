"""The kernel table: one entry per (op, backend), each owned by the plugin that
registered it, resolved in one place (backend kernel where its ``accepts`` takes
the call, else the generic one)."""

import re
import subprocess
import sys
import types

import numpy as np
import pytest

import ember
from ember import hookimpl
from ember.backend import REGISTRY
from ember.kernels import GENERIC, Kernel, contiguous_floats, floating, kernel, table


def _plugin(name, kernels):
    mod = types.ModuleType(name)
    mod.ember_register_kernels = hookimpl(lambda: kernels)
    return mod


@pytest.fixture
def registered():
    """Register local plugins for one test; they are disabled afterwards."""
    names = []

    def register(name, kernels):
        ember.plugins.register(_plugin(name, kernels), name)
        names.append(name)

    yield register
    for name in names:
        ember.plugins.disable(name)


def test_every_kernel_has_an_owner_and_the_core_owns_the_tensor_ops():
    assert REGISTRY.kernels and set(REGISTRY.kernels) == set(REGISTRY.kernel_owner)
    assert all(isinstance(k, Kernel) for k in REGISTRY.kernels.values())
    assert REGISTRY.kernel_owner[("add", GENERIC)] == "core"
    assert REGISTRY.kernel_owner[("conv.im2col", GENERIC)] == "conv"
    assert REGISTRY.kernel_owner[("sigmoid", "cpu")] == "cpu"


def test_accepts_sends_other_calls_to_the_generic_kernel(registered):
    calls = []

    def exp_1d(x):
        calls.append(x.shape)
        return np.exp(x)

    registered("exp_1d", {("exp", "cpu"): kernel(exp_1d, accepts=lambda x: x.ndim == 1)})
    ember.tensor([0.0, 1.0]).exp()
    y = ember.tensor([[0.0, 1.0]]).exp()
    assert calls == [(2,)]
    np.testing.assert_allclose(y.numpy(), np.exp([[0.0, 1.0]]))


def test_a_factory_kernel_is_built_once_with_the_backends_namespace(registered):
    namespaces = []

    def exp_factory(xp):
        namespaces.append(xp)
        return lambda x: xp.exp(x) + 0.5

    registered("exp_factory", {("exp", "cpu"): kernel(exp_factory, factory=True,
                                                      accepts=lambda x: x.ndim == 1)})
    assert ember.tensor([0.0]).exp().item() == 1.5
    assert ember.tensor([0.0, 0.0]).exp().tolist() == [1.5, 1.5]
    assert ember.tensor([[0.0]]).exp().item() == 1.0  # refused: the generic kernel
    assert namespaces == [np]


def test_a_partial_kernel_without_a_generic_one_is_an_error(registered):
    registered("partial", {("test.only_cpu", "cpu"): kernel(lambda x: x, accepts=lambda x: True)})
    with pytest.raises(NotImplementedError, match="takes only some arguments.*no generic kernel"):
        REGISTRY.get("cpu").kernels["test.only_cpu"]


def test_an_unknown_op_names_the_op_and_backend():
    with pytest.raises(NotImplementedError, match="no kernel for op 'test.nowhere' on backend 'cpu'"):
        REGISTRY.get("cpu").kernels["test.nowhere"]


def test_clash_in_process_raises_naming_both_and_override_wins(registered):
    with pytest.raises(ember.plugins.PluginConflictError, match=r"'sigmoid', 'cpu'.*'cpu'.*'fake_sigmoid'"):
        registered("fake_sigmoid", {("sigmoid", "cpu"): lambda x: x})
    registered("override_sigmoid", {("sigmoid", "cpu"): kernel(lambda x: np.zeros_like(x), override=True)})
    assert ember.tensor([1.0]).sigmoid().item() == 0.0
    assert REGISTRY.kernel_owner[("sigmoid", "cpu")] == "override_sigmoid"
    ember.plugins.disable("override_sigmoid")
    assert ember.tensor([0.0]).sigmoid().item() == 0.5
    assert REGISTRY.kernel_owner[("sigmoid", "cpu")] == "cpu"


def test_two_overrides_of_one_key_clash(registered):
    registered("first_override", {("tanh", "cpu"): kernel(np.tanh, override=True)})
    with pytest.raises(ember.plugins.PluginConflictError, match="'first_override'.*'second_override'"):
        registered("second_override", {("tanh", "cpu"): kernel(np.tanh, override=True)})


def test_disabling_a_family_removes_its_kernels():
    proc = subprocess.run([sys.executable, "-c", (
        "import ember\n"
        "from ember.backend import REGISTRY\n"
        "ember.plugins.disable('vision')\n"
        "print(sorted({op.split('.')[0] for op, _ in REGISTRY.kernels if op.startswith('vision')}))\n"
        "ember.plugins.enable('vision')\n"
        "print(REGISTRY.kernel_owner[('vision.interp', 'generic')])\n")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[]", "vision"]


@pytest.mark.parametrize("value, key, message", [
    (lambda x: x, ("exp",), "not \\(op name, backend name or 'generic'\\)"),
    ("not callable", ("exp", "cpu"), "is not callable"),
])
def test_malformed_kernel_entries_refuse_the_plugin(value, key, message):
    with pytest.raises(ember.plugins.PluginFault, match=message):
        ember.plugins.register(_plugin("malformed", {key: value}), "malformed")
    info = {p.name: p for p in ember.plugins.list()}["malformed"]
    assert not info.enabled and re.search(message, info.error)


def test_kernel_description_checks_its_arguments():
    with pytest.raises(TypeError, match="must be callable"):
        kernel(3)
    with pytest.raises(TypeError, match="accepts must be callable"):
        kernel(np.exp, accepts=True)


def test_contiguous_floats_looks_at_arrays_only():
    a = np.zeros((2, 3))
    assert contiguous_floats(a, a.copy(), 0.5)
    assert not contiguous_floats(a.T, a)
    assert not contiguous_floats(a.astype(np.float32), a)
    assert not contiguous_floats(a.astype(np.int64))


def test_floating_is_float32_or_float64():
    assert floating(np.zeros(2, np.float32)) and floating(np.zeros((), np.float64))
    assert not floating(np.zeros(2, np.float16)) and not floating(np.zeros(2, np.int64))
    assert not floating(np.zeros(2, np.complex128)) and not floating(np.zeros(2, ">f8"))


def test_table_keys_by_backend():
    assert table({"op": np.exp}, cpu={"op": np.sin}) == {("op", GENERIC): np.exp, ("op", "cpu"): np.sin}


def test_python_m_ember_kernels_lists_owner_of_every_kernel():
    out = subprocess.run([sys.executable, "-m", "ember", "--kernels"], capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    rows = {line.split()[0]: line for line in out[1:]}
    assert len(rows) == len({op for op, _ in REGISTRY.kernels})
    assert "cpu? [cpu]" in rows["sigmoid"] and "generic [core]" in rows["sigmoid"]
    assert "cpu [conv]" in rows["conv.im2col"]


def test_has_own_kernel_tells_a_backends_kernel_from_the_generic_one():
    from ember.backend import has_own_kernel

    x = ember.ones(3)
    assert has_own_kernel("log_softmax", x)  # the cpu backend's Cython rows
    assert not has_own_kernel("losses.class_index_loss", x)  # only cuda fuses the log-softmax in
    assert (("losses.class_index_loss", "cuda") in REGISTRY.kernels)
