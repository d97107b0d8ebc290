"""Outside a recorded backward (``create_graph=False``) some gradient formulas run on
the arrays (arithmetic binary nodes, fused unary gradients, reductions' broadcast,
the sum of gradients meeting at one input). They must give what the recorded
(tensor-op) formulas give, for every shape and dtype, and raise the same errors."""

import warnings

import numpy as np
import pytest

import ember


def _both_ways(fn, *shapes, dtype=ember.float64, seed=0):
    """The gradients of ``fn(*leaves).sum()`` computed without and with create_graph."""
    results = []
    for create_graph in (False, True):
        ember.manual_seed(seed)
        leaves = [ember.randn(s, dtype=dtype, requires_grad=True) for s in shapes]
        out = fn(*leaves)
        grads = ember.autograd.grad(out.sum(), leaves, create_graph=create_graph)
        results.append([g.detach().numpy() for g in grads])
    return results


_BINARY = {
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b,
    "mul_number": lambda a, b: (a * 2.5) * (3 * b),
    "div_number": lambda a, b: (2.0 / a) + (b / 4),
    "rsub": lambda a, b: 1 - a - b,
    "reused": lambda a, b: a * a - b * a + a / b,
}
_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((), ()), ((1,), ())]


@pytest.mark.parametrize("name", sorted(_BINARY))
@pytest.mark.parametrize("shapes", _SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=str)
def test_binary_gradients_on_arrays_match_recorded_ones(name, shapes, dtype):
    plain, recorded = _both_ways(_BINARY[name], *shapes, dtype=dtype)
    for p, r, shape in zip(plain, recorded, shapes):
        assert p.shape == shape and p.dtype == r.dtype
        np.testing.assert_array_equal(p, r)


_UNARY = {
    "exp": lambda x: x.exp(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "chain": lambda x: (x.exp() * x).relu().tanh().sigmoid(),
}


@pytest.mark.parametrize("name", sorted(_UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0, 3)], ids=str)
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=str)
def test_unary_gradients_on_arrays_match_recorded_ones(name, shape, dtype):
    (plain,), (recorded,) = _both_ways(_UNARY[name], shape, dtype=dtype)
    assert plain.shape == shape
    np.testing.assert_allclose(plain, recorded, rtol=1e-6 if dtype is ember.float32 else 1e-13)


def test_relu_gradient_on_arrays_is_zero_at_zero_and_passes_nan():
    x = ember.tensor([-1.0, 0.0, 2.0, float("nan")], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 1.0])


_REDUCTIONS = {
    "sum_all": lambda x: x.sum() * x.sum(),
    "sum_dim": lambda x: x.sum(1) * 2,
    "sum_dims_keepdim": lambda x: x.sum((0, 2), keepdim=True) * x,
    "mean_dim": lambda x: x.mean(-1) ** 2,
    "mean_all": lambda x: x.mean() * x,
}


@pytest.mark.parametrize("name", sorted(_REDUCTIONS))
def test_reduction_gradients_on_arrays_match_recorded_ones(name):
    (plain,), (recorded,) = _both_ways(_REDUCTIONS[name], (2, 3, 4))
    np.testing.assert_allclose(plain, recorded, rtol=1e-13)


def test_sum_of_a_zero_dim_tensor_keeps_a_zero_dim_gradient():
    x = ember.tensor(1.5, requires_grad=True)
    (x.sum() + x.sum() * 3 + x).backward()
    assert x.grad.shape == () and x.grad.item() == 5.0


def test_gradients_meeting_at_one_input_are_added_in_its_dtype():
    # float32 leaf used through two paths: the buffered sum stays float32, as the
    # gradient of a float32 tensor must
    x = ember.ones(3, dtype=ember.float32, requires_grad=True)
    (x * 2 + x * 3 + x.exp()).sum().backward()
    assert x.grad.dtype == ember.float32
    np.testing.assert_allclose(x.grad.numpy(), 5 + np.e, rtol=1e-6)


def test_zero_dim_gradients_meeting_at_one_input_stay_tensors():
    x = ember.tensor(2.0, requires_grad=True)
    y = x * x
    (y * 1 + y * 2).backward()
    assert x.grad.shape == () and x.grad.item() == pytest.approx(12.0)


def test_division_by_zero_gradient_on_arrays_is_inf_without_warning():
    a = ember.tensor([1.0, -1.0], requires_grad=True)
    b = ember.tensor([0.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (a / b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [np.inf, np.inf])
    np.testing.assert_array_equal(b.grad.numpy(), [-np.inf, np.inf])


@pytest.mark.parametrize("make", [lambda x: x.exp(), lambda x: x.sigmoid(), lambda x: x * x.detach()])
def test_array_path_still_refuses_a_freed_graph(make):
    x = ember.randn(3, requires_grad=True)
    y = make(x).sum()
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_array_path_still_refuses_an_output_changed_in_place():
    x = ember.randn(3, requires_grad=True)
    y = x.sigmoid()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_array_path_still_refuses_an_operand_changed_in_place():
    x = ember.randn(3, requires_grad=True)
    w = ember.randn(3)
    y = x * w
    w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
