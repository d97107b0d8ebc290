"""ember-swishy against ember (and torch, where torch has the same function):
run with ``python -m pytest docs/example_plugin/tests`` after
``pip install ./docs/example_plugin``."""

import doctest
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
import ember_swishy
from ember.backend import REGISTRY
from ember.kernels import GENERIC
from ember_swishy import functional, instrument, modules

X = np.array([-30.0, -3.0, -0.5, 0.0, 0.25, 2.0, 40.0])


def _torch():
    return pytest.importorskip("torch")


def _run(code, **env):
    """A fresh interpreter running ``code`` (warnings shown), with extra environment."""
    return subprocess.run([sys.executable, "-W", "default", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env})


# ---------------------------------------------------------------- registration
def test_the_plugin_is_loaded_from_its_distribution():
    info = {p.name: p for p in ember.plugins.list()}["swishy"]
    assert (info.distribution, info.enabled, info.builtin, info.error) == ("ember-swishy", True, False, None)
    assert ember.nn.BetaSwish is modules.BetaSwish and ember.nn.ShiftedSoftplus is modules.ShiftedSoftplus
    assert ember.nn.functional.beta_swish is functional.beta_swish
    assert ember_swishy.BetaSwish is modules.BetaSwish and "beta_swish" in dir(ember_swishy)


def test_shifted_softplus_is_a_builtin_softplus():
    assert issubclass(ember.nn.ShiftedSoftplus, ember.nn.Softplus)
    assert repr(ember.nn.ShiftedSoftplus(beta=2)) == "ShiftedSoftplus(beta=2, threshold=20.0)"


def test_docstring_examples_run():
    for module in (functional, modules):
        result = doctest.testmod(module, extraglobs={"ember": ember, "ember_swishy": ember_swishy})
        assert result.attempted and not result.failed, module.__name__


# ---------------------------------------------------------------- values and gradients
@pytest.mark.parametrize("beta", [1.0, 0.5, 3.0])
def test_beta_swish_values_and_gradients(beta):
    x = ember.tensor(X, requires_grad=True)
    b = ember.tensor(beta, dtype=ember.float64, requires_grad=True)
    y = functional.beta_swish(x, b)
    expected = X / (1 + np.exp(-beta * X))
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-300)
    y.sum().backward()
    s = 1 / (1 + np.exp(-beta * X))
    np.testing.assert_allclose(x.grad.numpy(), s + beta * X * s * (1 - s), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(b.grad.item(), np.sum(X * X * s * (1 - s)), rtol=1e-12)


def test_a_number_beta_gets_no_gradient_and_dtypes_are_kept():
    x = ember.tensor(X, dtype=ember.float32, requires_grad=True)
    y = functional.beta_swish(x, 2.0)
    assert y.dtype == ember.float32 and type(y.grad_fn).__name__ == "BetaSwishBackward"
    y.sum().backward()
    assert x.grad.dtype == ember.float32 and np.isfinite(x.grad.numpy()).all()


def test_gradcheck_and_gradgradcheck_in_float64():
    x = ember.tensor(np.linspace(-4, 4, 9), requires_grad=True)
    beta = ember.tensor(1.3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(functional.beta_swish, (x, beta))
    assert ember.autograd.gradgradcheck(functional.beta_swish, (x, beta))
    assert ember.autograd.gradcheck(lambda t: functional.beta_swish(t, 0.7), (x,))


def test_beta_is_a_parameter_that_learns():
    m = ember.nn.BetaSwish(init=0.5)
    assert [name for name, _ in m.named_parameters()] == ["beta"] and repr(m) == "BetaSwish(init=0.5)"
    m(ember.tensor([1.0, 2.0])).sum().backward()
    assert m.beta.grad.shape == () and m.beta.grad.item() > 0
    with ember.no_grad():
        m.beta.add_(1.0)
    m.reset_parameters()
    assert m.beta.item() == 0.5


def test_bad_arguments_are_refused():
    with pytest.raises(NotImplementedError, match="\"beta_swish\" not implemented for 'Long'"):
        functional.beta_swish(ember.tensor([1, 2]))
    with pytest.raises(ValueError, match="one-element tensor"):
        functional.beta_swish(ember.ones(2), ember.ones(2))
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        functional.beta_swish([1.0])


# ---------------------------------------------------------------- against torch
def test_beta_swish_at_beta_one_is_torchs_silu():
    torch = _torch()
    x, tx = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = ember.nn.BetaSwish()(x.float()), torch.nn.SiLU()(tx.float())
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1.3e-6, atol=1e-5)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_beta_swish_and_its_beta_gradient_match_torch():
    torch = _torch()
    x, tx = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    b, tb = ember.tensor(1.7, dtype=ember.float64, requires_grad=True), torch.tensor(1.7, requires_grad=True,
                                                                                   dtype=torch.float64)
    functional.beta_swish(x, b).pow(2).sum().backward()
    (tx * torch.sigmoid(tb * tx)).pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.item(), tb.grad.item(), rtol=1e-10)


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 5.0)])
def test_shifted_softplus_matches_torch(beta, threshold):
    torch = _torch()
    x, tx = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y = ember.nn.ShiftedSoftplus(beta, threshold)(x)
    ty = torch.nn.Softplus(beta, threshold)(tx) - math.log(2) / beta
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-15)
    assert ember.nn.ShiftedSoftplus(beta, threshold)(ember.zeros(1)).item() == 0.0
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- kernels
def test_the_generic_kernel_is_the_plugins_and_runs_on_any_namespace():
    assert REGISTRY.kernel_owner[("swishy.beta_swish", GENERIC)] == "swishy"
    kernel = REGISTRY.generic("swishy.beta_swish", np)
    np.testing.assert_allclose(kernel(X, 2.0), X / (1 + np.exp(-2 * X)), rtol=1e-12, atol=1e-300)
    assert kernel(X.astype(np.float16), np.float64(2.0)).dtype == np.float16


def test_the_tanh_backward_override_counts_and_is_bit_identical():
    from ember.backends.cpu.kernels import KERNELS

    assert REGISTRY.kernel_owner[("tanh_backward", "cpu")] == "swishy"
    entry = REGISTRY.kernels[("tanh_backward", "cpu")]
    assert entry.override and entry.accepts is KERNELS["tanh_backward"].accepts
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = ember.tensor(rng.standard_normal((64, 33)).astype(dtype), requires_grad=True)
        before = instrument.CALLS["tanh_backward"]
        x.tanh().backward(ember.ones_like(x))
        assert instrument.CALLS["tanh_backward"] == before + 1
        g, y = np.ones_like(x.detach().numpy()), np.tanh(x.detach().numpy())
        expected = KERNELS["tanh_backward"].fn(g, y)
        np.testing.assert_array_equal(x.grad.numpy(), expected)
        # a strided call is not the Cython loop's: it goes to the generic kernel, uncounted
        strided = REGISTRY.get("cpu").kernels["tanh_backward"](g[:, ::2], y[:, ::2])
        np.testing.assert_array_equal(strided, REGISTRY.generic("tanh_backward", np)(g[:, ::2], y[:, ::2]))
        assert instrument.CALLS["tanh_backward"] == before + 1


def test_gradients_are_the_same_bits_with_the_plugin_disabled():
    x = ember.tensor(np.random.default_rng(1).standard_normal(1000).astype(np.float32), requires_grad=True)

    def grad():
        x.grad = None
        x.tanh().sum().backward()
        return x.grad.numpy().copy()

    with_plugin = grad()
    ember.plugins.disable("swishy")
    try:
        assert REGISTRY.kernel_owner[("tanh_backward", "cpu")] == "cpu"
        without = grad()
    finally:
        ember.plugins.enable("swishy")
    assert REGISTRY.kernel_owner[("tanh_backward", "cpu")] == "swishy"
    np.testing.assert_array_equal(with_plugin, without)


def test_python_m_ember_lists_the_plugin_and_its_kernels():
    kernels = subprocess.run([sys.executable, "-m", "ember", "--kernels"], capture_output=True, text=True,
                             timeout=120, check=True).stdout
    rows = {line.split()[0]: line for line in kernels.splitlines()[1:]}
    assert "generic [swishy]" in rows["swishy.beta_swish"]
    assert "cpu*? [swishy]" in rows["tanh_backward"] and "generic [core]" in rows["tanh_backward"]
    report = subprocess.run([sys.executable, "-m", "ember"], capture_output=True, text=True, timeout=120,
                            check=True).stdout
    rows = {line.split()[0]: line.split()[1:] for line in report.splitlines() if line.strip()}
    assert rows["swishy"] == ["ember-swishy", "0.1.0", "(third-party)", "enabled", "(requires", "activation)"]
    assert "ember.nn.BetaSwish" in report and "ember.nn.functional.beta_swish" in report


# ---------------------------------------------------------------- the activation requirement
def test_without_the_activation_family_the_plugin_is_disabled_with_a_warning():
    proc = _run("""
        import ember
        info = {p.name: p for p in ember.plugins.list()}['swishy']
        print(info.enabled, hasattr(ember.nn, 'BetaSwish'))
        try:
            ember.plugins.enable('swishy')
        except RuntimeError as error:
            print(error)
        ember.plugins.enable('activation')
        ember.plugins.enable('swishy')
        print(ember.nn.BetaSwish()(ember.zeros(1)).item())
    """, EMBER_DISABLE_PLUGINS="activation")
    assert proc.returncode == 0, proc.stderr
    state, refusal, value = proc.stdout.splitlines()
    assert state == "False False"
    assert "plugin 'swishy' requires plugin(s) 'activation'" in refusal and "enable them first" in refusal
    assert value == "0.0"
    warned = [line for line in proc.stderr.splitlines() if "RuntimeWarning" in line and "'swishy'" in line]
    assert len(warned) == 1 and "requires plugin(s) 'activation'" in warned[0], proc.stderr


def test_disabling_activation_in_process_takes_the_plugin_along():
    proc = _run("""
        import warnings
        import ember
        from ember.backend import REGISTRY
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter('always')
            ember.plugins.disable('activation')
        print([str(w.message) for w in seen if w.category is RuntimeWarning and "'swishy'" in str(w.message)])
        print(hasattr(ember.nn, 'BetaSwish'), REGISTRY.kernel_owner[('tanh_backward', 'cpu')])
    """)
    assert proc.returncode == 0, proc.stderr
    warned, state = proc.stdout.splitlines()
    assert eval(warned) == ["ember plugin 'swishy' disabled: it requires plugin(s) 'activation', not enabled"]
    assert state == "False cpu"
