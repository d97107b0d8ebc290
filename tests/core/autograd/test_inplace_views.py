"""In-place changes through views: the base's history is rewritten (torch's CopySlices),
so gradients flow to what was written and not to what was overwritten."""

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, tol

torch = pytest.importorskip("torch")


def _scatter_into_buffer(lib):
    v = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    buf = lib.zeros(2, 3)
    buf[0].add_(v)
    (buf * w).sum().backward()
    return [v.grad, w.grad]


def _slice_assign_of_itself(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[1:] = y[1:] * 2
    y.sum().backward()
    return [x.grad]


def _transposed_row_mul(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    y = x * 1
    y.t()[0].mul_(x[0])
    y.exp().sum().backward()
    return [x.grad]


def _column_scale_then_square(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    y = x.sin()
    y[:, 1].mul_(3)
    (y * y).sum().backward()
    return [x.grad]


def _view_of_view_then_reuse_view(lib):
    x = lib.arange(12.0, dtype=lib.float64).reshape(3, 4).requires_grad_()
    y = x * 2
    v = y.view(2, 6)[1]
    v.clamp_(max=15.0)
    (v.sum() + y.pow(2).sum()).backward()
    return [x.grad]


def _double_backward_through_view_write(lib):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = x.sin()
    y[1:].mul_(x[:2])
    (g,) = lib.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    return [g, gg]


@pytest.mark.parametrize("case", [_scatter_into_buffer, _slice_assign_of_itself, _transposed_row_mul,
                                  _column_scale_then_square, _view_of_view_then_reuse_view,
                                  _double_backward_through_view_write])
def test_inplace_through_view_matches_torch(case):
    for e, t in zip(case(ember), case(torch)):
        a, b = as_numpy(e), as_numpy(t)
        np.testing.assert_allclose(a, b, **tol(a.dtype))


def test_saved_output_changed_through_view_is_refused_like_torch():
    for lib in (ember, torch):
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        y = x.exp()
        y[1:].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_view_of_leaf_in_place_is_refused():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[:2].add_(1)
    with ember.no_grad():
        x[:2].add_(1)
    assert x.tolist() == [2.0, 2.0, 1.0] and x.is_leaf
