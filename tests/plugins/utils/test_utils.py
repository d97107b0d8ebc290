"""The utils family against torch: gradient clipping, parameter vectors, Flatten/Unflatten."""

import math
import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, check, placed, tol, torch

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def grads_pair(device, dtype=np.float64, seed=0, scale=1.0, none_at=None):
    """Parameters with the same ``.grad`` in ember (on ``device``) and torch (one may have none)."""
    rng = np.random.default_rng(seed)
    e, t = [], []
    for i, shape in enumerate(SHAPES):
        value = rng.standard_normal(shape).astype(dtype)
        ep = ember.nn.Parameter(ember.tensor(value, device=device))
        tp = torch.nn.Parameter(torch.from_numpy(value.copy()))
        if i != none_at:
            g = (rng.standard_normal(shape) * scale).astype(dtype)
            ep.grad = ember.tensor(g, device=device)
            tp.grad = torch.from_numpy(g.copy())
        e.append(ep)
        t.append(tp)
    return e, t


def assert_grads_equal(e, t, dtype):
    for ep, tp in zip(e, t):
        if tp.grad is None:
            assert ep.grad is None
        else:
            np.testing.assert_allclose(as_numpy(ep.grad), as_numpy(tp.grad), **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm(dtype, norm_type, max_norm, device):
    e, t = grads_pair(device, dtype, none_at=1)
    e_total = ember.nn.utils.clip_grad_norm_(e, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t, max_norm, norm_type=norm_type)
    assert isinstance(e_total, ember.Tensor) and e_total.dim() == 0 and e_total.device == placed(device)
    assert e_total.dtype.name == str(t_total.dtype).replace("torch.", "")
    assert not e_total.requires_grad
    np.testing.assert_allclose(as_numpy(e_total), as_numpy(t_total), **tol(dtype))
    assert_grads_equal(e, t, dtype)


def test_clip_grad_norm_single_tensor_generator_and_empty(device):
    e, t = grads_pair(device)
    e_total = ember.nn.utils.clip_grad_norm_(e[0], 0.1)
    t_total = torch.nn.utils.clip_grad_norm_(t[0], 0.1)
    np.testing.assert_allclose(as_numpy(e_total), as_numpy(t_total), rtol=1e-12)
    assert_grads_equal(e, t, np.float64)
    e_total = ember.nn.utils.clip_grad_norm_((p for p in e), 0.05)
    t_total = torch.nn.utils.clip_grad_norm_((p for p in t), 0.05)
    np.testing.assert_allclose(as_numpy(e_total), as_numpy(t_total), rtol=1e-12)
    assert_grads_equal(e, t, np.float64)
    # No gradient at all: norm 0, nothing to do.
    p = ember.nn.Parameter(ember.ones(3, device=device))
    assert ember.nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        ember.nn.utils.clip_grad_norm_((q for q in []), 1.0)


def test_clip_grad_norm_nonfinite(device):
    e, t = grads_pair(device)
    e[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="total norm of order 2.0 for gradients from `parameters` "
                                           "is non-finite"):
        ember.nn.utils.clip_grad_norm_(e, 1.0, error_if_nonfinite=True)
    total = ember.nn.utils.clip_grad_norm_(e, 1.0)
    assert math.isnan(total.item())


def test_clip_grad_norm_mixed_dtypes(device):
    e, t = grads_pair(device)
    e32, t32 = grads_pair(device, np.float32, seed=3)
    e[1], t[1] = e32[1], t32[1]
    e_total = ember.nn.utils.clip_grad_norm_(e, 0.3)
    t_total = torch.nn.utils.clip_grad_norm_(t, 0.3)
    np.testing.assert_allclose(as_numpy(e_total), as_numpy(t_total), rtol=1e-6)
    assert e[1].grad.dtype == ember.float32 and e[0].grad.dtype == ember.float64
    assert_grads_equal(e, t, np.float32)


@pytest.mark.parametrize("clip_value", [0.3, 1, 10.0])
def test_clip_grad_value(clip_value, device):
    e, t = grads_pair(device, none_at=2)
    assert ember.nn.utils.clip_grad_value_(e, clip_value) is None
    torch.nn.utils.clip_grad_value_(t, clip_value)
    assert_grads_equal(e, t, np.float64)
    ember.nn.utils.clip_grad_value_(e[0], 0.01)
    assert float(e[0].grad.abs().max()) <= 0.01


def test_parameters_to_vector_and_back(device):
    e, t = grads_pair(device)
    e_vec = ember.nn.utils.parameters_to_vector(e)
    t_vec = torch.nn.utils.parameters_to_vector(t)
    np.testing.assert_array_equal(as_numpy(e_vec), as_numpy(t_vec))
    assert e_vec.shape == (sum(int(np.prod(s)) for s in SHAPES),)
    # Differentiable with respect to the parameters.
    (e_vec * ember.arange(e_vec.numel(), dtype=ember.float64, device=device)).sum().backward()
    (t_vec * torch.arange(t_vec.numel(), dtype=torch.float64)).sum().backward()
    assert_grads_equal(e, t, np.float64)

    new = np.linspace(-1, 1, e_vec.numel())
    ember.nn.utils.vector_to_parameters(ember.tensor(new, device=device), e)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new.copy()), t)
    for ep, tp in zip(e, t):
        assert isinstance(ep, ember.nn.Parameter) and ep.requires_grad
        np.testing.assert_array_equal(as_numpy(ep), as_numpy(tp))
    with pytest.raises(TypeError, match="expected ember.Tensor, but got: ndarray"):
        ember.nn.utils.vector_to_parameters(new, e)


def test_utils_on_a_module(device):
    ember.manual_seed(0)
    model = ember.nn.Module()
    model.w = ember.nn.Parameter(ember.randn(4, 3, device=device))
    model.b = ember.nn.Parameter(ember.zeros(3, device=device))
    (ember.randn(2, 4, device=device) @ model.w + model.b).pow(2).sum().backward()
    total = ember.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert total.item() > 0.5
    after = ember.nn.utils.parameters_to_vector(p.grad for p in model.parameters()).norm()
    assert after.item() == pytest.approx(0.5, rel=1e-5)


def test_registered_names():
    for name in ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
                 "vector_to_parameters", "get_total_norm", "clip_grads_with_norm_"]:
        assert callable(getattr(ember.nn.utils, name))
    assert issubclass(ember.nn.Flatten, ember.nn.Module)
    assert issubclass(ember.nn.Unflatten, ember.nn.Module)


def test_get_total_norm_and_clip_with_norm_match_torch(device):
    e, t = grads_pair(device)
    e_total = ember.nn.utils.get_total_norm([p.grad for p in e], 3.0)
    t_total = torch.nn.utils.get_total_norm([p.grad for p in t], 3.0)
    np.testing.assert_allclose(as_numpy(e_total), as_numpy(t_total), rtol=1e-12)
    ember.nn.utils.clip_grads_with_norm_(e, 0.2, e_total)
    torch.nn.utils.clip_grads_with_norm_(t, 0.2, t_total)
    assert_grads_equal(e, t, np.float64)


@pytest.mark.parametrize("args, shape", [
    ((), (2, 3, 4, 5)),
    ((0, -1), (2, 3, 4)),
    ((1, 2), (2, 3, 4, 5)),
    ((-3, -2), (2, 3, 4, 5)),
    ((2, 2), (2, 3, 4)),
    ((0,), (7,)),
])
def test_flatten(args, shape):
    e_mod, t_mod = ember.nn.Flatten(*args), torch.nn.Flatten(*args)
    assert repr(e_mod) == repr(t_mod)
    x = np.random.default_rng(0).standard_normal(shape)
    check(lambda v: e_mod(v), [x], torch_fn=lambda v: t_mod(v))
    check(lambda v: e_mod(v), [x.astype(np.float32)], torch_fn=lambda v: t_mod(v), gradcheck=False)


@pytest.mark.parametrize("dim, sizes, shape", [
    (1, (2, 5), (3, 10, 4)),
    (-1, (2, 3, 2), (4, 12)),
    (0, (2, -1), (6, 2)),
    (1, [4], (2, 4)),
])
def test_unflatten(dim, sizes, shape):
    e_mod, t_mod = ember.nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(e_mod) == repr(t_mod)
    x = np.random.default_rng(0).standard_normal(shape)
    check(lambda v: e_mod(v), [x], torch_fn=lambda v: t_mod(v))


def test_unflatten_size_repr_and_errors(device):
    assert repr(ember.nn.Unflatten(1, ember.Size([2, 3]))) == \
        "Unflatten(dim=1, unflattened_size=ember.Size([2, 3]))"
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        ember.nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        ember.nn.Unflatten(1, (2, 3.0))
    with pytest.raises(RuntimeError):
        ember.nn.Unflatten(1, (4, 4))(ember.randn(2, 10, device=device))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.nn.Flatten()(ember.randn(7, device=device))


def test_flatten_in_sequential_like_use(device):
    flat = ember.nn.Flatten()
    x = ember.randn(4, 2, 3, requires_grad=True, device=device)
    y = ember.nn.Unflatten(1, (2, 3))(flat(x))
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad.shape == x.shape
