"""Double backward of composite expressions against torch 2.13, and ``gradgradcheck``.

For each expression: first gradients with ``create_graph=True``, then the gradients of
``sum(g * v)`` (random ``v``) with respect to every input; both steps must match torch.
"""

import zlib

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1234)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 5))
V = RNG.standard_normal((2, 5))
POS = RNG.random((3, 4)) + 0.5
POS2 = RNG.random((3, 4)) + 0.5


def _lib(t):
    return ember if isinstance(t, ember.Tensor) else torch


def _softmax(x):
    e = (x - x.amax(1, keepdim=True)).exp()
    return e / e.sum(1, keepdim=True)


# name: (function of tensors written once for both libraries, inputs)
CASES = {
    "sin_of_product": (lambda x, y: (x * y).sin().sum(), [A, B]),
    "cube_mean": (lambda x: (x ** 3).mean(), [A]),
    "tanh_times_sigmoid": (lambda x, y: x.tanh() * y.sigmoid(), [A, B]),
    "relu_of_matmul": (lambda x, w: (x @ w).relu(), [A, W]),
    "logsumexp": (lambda x: x.logsumexp(1), [A]),
    "softmax_from_exp_sum": (_softmax, [A]),
    "naive_softmax": (lambda x: x.exp() / x.exp().sum(1, keepdim=True), [A]),
    "norm": (lambda x: x.norm(), [A]),
    "norm_dim": (lambda x: x.norm(dim=1), [A]),
    "log_of_ratio": (lambda x, y: (x / y).log(), [POS, POS2]),
    "abs_times_x": (lambda x: x.abs() * x, [A]),
    "where": (lambda x, y: _lib(x).where(x > 0, x * y, y ** 2), [A, B]),
    "clamp_times_x": (lambda x: x.clamp(-0.5, 0.5) * x, [A]),
    "clamp_min_squared": (lambda x: x.clamp(min=0.1) ** 2, [A]),
    "var": (lambda x: x.var(1), [A]),
    "std": (lambda x: x.std(), [A]),
    "var_biased": (lambda x: x.var(0, unbiased=False), [A]),
    "matmul_chain": (lambda x, w, v: ((x @ w) @ v.t()).tanh(), [A, W, V]),
    "sqrt": (lambda x: (x * x + 1).sqrt(), [A]),
    "pow_tensor_exponent": (lambda x, y: x.pow(y), [POS, B]),
    "prod": (lambda x: x.prod(1), [POS]),
    "max_dim_squared": (lambda x: x.max(1)[0] ** 2, [A]),
    "maximum_times_x": (lambda x, y: _lib(x).maximum(x, y) * x, [A, B]),
    "log1p_exp": (lambda x: x.exp().log1p(), [A]),
    "division": (lambda x, y: x / (y * y + 1), [A, B]),
    "cumsum_squared": (lambda x: x.cumsum(1) ** 2, [A]),
    "reshape_transpose_product": (lambda x: (x.reshape(4, 3).t() * x).sum(0), [A]),
    "advanced_index": (lambda x: (x[:, [0, 2, 2]] ** 2).sum(), [A]),
    "cat": (lambda x, y: _lib(x).cat([x * y, x.sin()], 0) ** 2, [A, B]),
    "atan2": (lambda x, y: _lib(x).atan2(x, y), [A, B]),
    "sigmoid_tanh_chain": (lambda x: x.sigmoid().tanh().sigmoid(), [A]),
    "bmm_exp": (lambda x, y: _lib(x).bmm(x.reshape(1, 3, 4), y.reshape(1, 4, 3)).exp(), [A, B]),
    "mse_like": (lambda x, y: ((x - y) ** 2).mean(), [A, B]),
    "broadcast_mul": (lambda x, y: (x * y[0]).exp().sum(1), [A, B]),
}


def _grads_ember(fn, arrays, gos, vs, device):
    xs = [ember.tensor(a, device=device, requires_grad=True) for a in arrays]
    out = fn(*xs)
    go = ember.tensor(gos, device=device, requires_grad=True)
    g1 = ember.autograd.grad(out, xs, go, create_graph=True, allow_unused=True)
    s = sum((g * ember.tensor(v, device=device)).sum() for g, v in zip(g1, vs) if g is not None)
    g2 = ember.autograd.grad(s, xs + [go], allow_unused=True) if s.requires_grad else [None] * (len(xs) + 1)
    return out, g1, g2


def _grads_torch(fn, arrays, gos, vs):
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    go = torch.tensor(gos, requires_grad=True)
    g1 = torch.autograd.grad(out, xs, go, create_graph=True, allow_unused=True)
    s = sum((g * torch.tensor(v)).sum() for g, v in zip(g1, vs) if g is not None)
    g2 = torch.autograd.grad(s, xs + [go], allow_unused=True) if s.requires_grad else [None] * (len(xs) + 1)
    return out, g1, g2


def _np(t):
    return t.detach().cpu().numpy()


def _close(e, t, what):
    if t is None:
        # torch may keep an undefined gradient where ember has an explicit zero (or vice versa)
        assert e is None or not np.abs(_np(e)).max(initial=0) > 1e-12, f"{what}: torch has none"
        return
    if e is None:
        assert not np.abs(_np(t)).max(initial=0) > 1e-12, f"{what}: ember has none"
        return
    assert tuple(e.shape) == tuple(t.shape), what
    np.testing.assert_allclose(_np(e), _np(t), rtol=1e-9, atol=1e-10, err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_double_backward_matches_torch(name, device):
    fn, arrays = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out_shape = tuple(fn(*[torch.tensor(a) for a in arrays]).shape)
    gos = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    t_out, t_g1, t_g2 = _grads_torch(fn, arrays, gos, vs)
    e_out, e_g1, e_g2 = _grads_ember(fn, arrays, gos, vs, device)
    _close(e_out, t_out, "forward")
    for i, (e, t) in enumerate(zip(e_g1, t_g1)):
        _close(e, t, f"first grad {i}")
    for i, (e, t) in enumerate(zip(e_g2, t_g2)):
        _close(e, t, f"second grad {i}")


def test_relu_second_derivative_is_zero():
    x = ember.tensor(A, requires_grad=True)
    (g,) = ember.autograd.grad(x.relu().sum(), x, create_graph=True)
    if g.requires_grad:
        (gg,) = ember.autograd.grad(g.sum(), x, allow_unused=True)
        assert gg is None or not gg.numpy().any()


def test_third_derivative():
    def third(L):
        x = L.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
        y = (x.sin() * x ** 3).sum()
        (g1,) = L.autograd.grad(y, x, create_graph=True)
        (g2,) = L.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = L.autograd.grad(g2.sum(), x)
        return [_np(g) for g in (g1, g2, g3)]

    for e, t in zip(third(ember), third(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-10)


def test_double_backward_through_backward_call():
    # loss.backward(create_graph=True) then a gradient penalty, as in WGAN-GP
    def penalty(L):
        w = L.tensor(W, requires_grad=True)
        x = L.tensor(A, requires_grad=True)
        out = (x @ w).tanh().sum()
        (gx,) = L.autograd.grad(out, x, create_graph=True)
        pen = ((gx.norm(dim=1) - 1) ** 2).mean()
        pen.backward()
        return _np(w.grad), _np(x.grad)

    for e, t in zip(penalty(ember), penalty(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_accumulates_differentiable_grad():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    (x ** 2).sum().backward(create_graph=True)   # second call: out-of-place sum
    assert x.grad is not g
    np.testing.assert_allclose(x.grad.detach().numpy(), [3 + 2, 12 + 4])


GRADGRAD = {
    "tanh_times_sigmoid": (lambda x, y: x.tanh() * y.sigmoid(), (2, 3)),
    "softmax": (_softmax, (2, 3)),
    "norm_dim": (lambda x: x.norm(dim=1), (2, 3)),
    "matmul_exp": (lambda x, y: (x @ y.t()).exp(), (2, 3)),
    "logsumexp": (lambda x: x.logsumexp(0), (3, 2)),
    "var": (lambda x: x.var(1), (2, 4)),
}


@pytest.mark.parametrize("name", list(GRADGRAD))
def test_gradgradcheck(name):
    fn, shape = GRADGRAD[name]
    n_args = fn.__code__.co_argcount
    rng = np.random.default_rng(7)
    xs = [ember.tensor(rng.standard_normal(shape) * 0.7, requires_grad=True) for _ in range(n_args)]
    assert ember.autograd.gradcheck(fn, xs)
    assert ember.autograd.gradgradcheck(fn, xs)


def test_gradgradcheck_detects_wrong_double_backward():
    class WrongSquare(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            # right value, wrong derivative: detach cuts the x-dependence
            return g * 2 * x.detach()

    x = ember.tensor([0.5, -1.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(WrongSquare.apply, (x,))
    assert not ember.autograd.gradgradcheck(WrongSquare.apply, (x,), raise_exception=False)
