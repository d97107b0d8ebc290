"""ember.autograd.linear_map: a kernel pair gives gradients of every order."""

import types

import numpy as np
import pytest

import ember
from ember import backend
from ember.autograd import gradcheck, gradgradcheck, linear_map
from ember.nn import _tuples

# a test-only pair: y = A x and its adjoint A^T g, with A a fixed 3x4 matrix, from a
# plugin registered for this module's tests
_A = np.arange(12.0).reshape(3, 4) / 7.0


@pytest.fixture(autouse=True, scope="module")
def _apply_a_kernels():
    plugin = types.ModuleType("apply_a_plugin")
    plugin.ember_register_kernels = ember.hookimpl(lambda: ember.kernels.table({
        "test.apply_a": lambda xp: lambda x, a: xp.asarray(a, dtype=x.dtype) @ x,
        "test.apply_a_t": lambda xp: lambda g, a: xp.asarray(a, dtype=g.dtype).T @ g,
    }))
    ember.plugins.register(plugin, "apply_a")
    yield
    ember.plugins.disable("apply_a")


def _a(x):
    return linear_map(x, "test.apply_a", "test.apply_a_t", (_A,), "ApplyABackward0")


def test_forward_values_and_node_names():
    x = ember.randn(4, dtype=ember.float64, requires_grad=True)
    y = _a(x)
    np.testing.assert_allclose(y.detach().numpy(), _A @ x.detach().numpy())
    assert type(y.grad_fn).__name__ == "ApplyABackward0"
    (g,) = ember.autograd.grad(y, x, ember.ones(3, dtype=ember.float64, requires_grad=True),
                               create_graph=True)
    assert type(g.grad_fn).__name__ == "ApplyABackward0Backward"
    np.testing.assert_allclose(g.detach().numpy(), _A.T @ np.ones(3))


def test_gradients_of_every_order():
    x = ember.randn(4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(_a, (x,))
    assert gradgradcheck(lambda t: _a(t) ** 2, (x,))


def test_no_node_without_grad():
    assert _a(ember.randn(4, dtype=ember.float64)).grad_fn is None


@pytest.mark.parametrize("fn, value, expected", [
    (_tuples.single, 3, (3,)), (_tuples.pair, 3, (3, 3)), (_tuples.triple, (1, 2, 3), (1, 2, 3)),
    (_tuples.pair, [4, 5], (4, 5)), (_tuples.ntuple(4), 0, (0, 0, 0, 0)),
])
def test_tuples(fn, value, expected):
    assert fn(value) == expected


def test_reverse_repeat_tuple():
    assert _tuples.reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)


def test_kernel_access_helpers():
    x = ember.arange(6.0)
    assert backend.data_of(x) is x._data
    assert backend.xp_of(x) is np
    y = backend.run_kernel("test.apply_a", x[:4], _A)
    assert isinstance(y, ember.Tensor) and y.device == x.device
    np.testing.assert_allclose(y.numpy(), _A @ np.arange(4.0))
