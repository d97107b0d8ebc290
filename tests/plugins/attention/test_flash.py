"""The fused (flash-style) attention kernels through ``flash_attention``: output and
query/key/value gradients against torch 2.13's ``scaled_dot_product_attention``,
ember's gradcheck and gradgradcheck, where it declines, and the kernels' own checks."""

import math

import numpy as np
import pytest

import ember
from ember.plugins.attention import flash
from ember.plugins.attention.flash import flash_attention
from tests.oracle import as_numpy, torch
from tests.plugins.kernel_calls import counted_calls
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=2e-5)}


def _random(shape, dtype, seed, magnitude=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * magnitude).astype(dtype)


@pytest.fixture(params=["kept", "rebuilt"])
def flash_calls(request, monkeypatch, device):
    """Counts the calls of the CPU kernels (``_flash.forward``/``backward``); every size
    goes to the kernel, whose backward takes the attention weights that the forward kept
    or rebuilds them tile by tile. Another backend has no such kernel: it declines and
    calls none."""
    from ember.plugins.attention import _flash

    monkeypatch.setattr(flash, "MIN_SCORES", 0)
    if request.param == "rebuilt":
        monkeypatch.setattr(_flash, "KEEP_MAX_KEYS", 0)
    yield from counted_calls(monkeypatch, _flash, ("forward", "backward"), device)


def _compare(lead, L, S, E, Ev, dtype, causal, device, magnitude=1.0, scale=None, tolerance=None):
    """flash_attention against torch in float64: output and the three gradients."""
    arrays = [_random(lead + shape, dtype, seed, magnitude)
              for seed, shape in enumerate(((L, E), (S, E), (S, Ev)))]
    grad = _random(lead + (L, Ev), dtype, 3)
    scale = 1 / math.sqrt(E) if scale is None else scale
    ts = [lib_tensor(ember, a, device, requires_grad=True) for a in arrays]
    y = flash_attention(*ts, scale, causal)
    if device != "cpu":
        assert y is None
        return
    y.backward(lib_tensor(ember, grad, device))
    tt = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    yt = TF.scaled_dot_product_attention(*tt, is_causal=causal, scale=scale)
    yt.backward(torch.tensor(grad, dtype=torch.float64))
    for name, e, t in zip(("output", "query grad", "key grad", "value grad"),
                          [y] + [t.grad for t in ts], [yt] + [t.grad for t in tt]):
        assert e.dtype == ember.float32 if dtype == np.float32 else e.dtype == ember.float64
        np.testing.assert_allclose(as_numpy(e), as_numpy(t), **(tolerance or TOLERANCE[dtype]), err_msg=name)


# (leading dims, L, S, E, Ev): one tile, L != S both ways across the 128 x 64 tiles,
# sizes off the tiles, Ev != E, one query row, one key, two and three leading dims,
# none
CASES = [
    ((2,), 5, 7, 4, 3),
    ((1,), 130, 70, 16, 9),
    ((2,), 70, 200, 8, 12),
    ((3,), 129, 129, 5, 5),
    ((2, 2), 1, 9, 6, 4),
    ((2,), 9, 1, 6, 4),
    ((1,), 1, 1, 3, 2),
    ((2, 1, 2), 5, 6, 3, 4),
    ((), 7, 3, 2, 5),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lead,L,S,E,Ev", CASES)
def test_matches_torch(flash_calls, device, lead, L, S, E, Ev, causal, dtype):
    _compare(lead, L, S, E, Ev, dtype, causal, device)
    if device == "cpu":
        assert flash_calls == {"forward": 1, "backward": 1}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("causal", [False, True])
def test_large_scores_do_not_overflow(flash_calls, device, dtype, causal):
    # scores in the thousands: exp of them overflows unless the row maximum is taken out.
    # A score's rounding error (its size times the dtype's epsilon) is an error of the
    # weights' exponents, and the gradients cancel terms of the scores' size (near
    # one-hot weights), so the tolerance grows with the scores.
    tolerance = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=1e-3, atol=2e-2)}[dtype]
    _compare((2,), 70, 90, 8, 8, dtype, causal, device, magnitude=30.0, scale=1.0, tolerance=tolerance)


@pytest.mark.parametrize("causal", [False, True])
def test_heads_split_off_wider_rows(flash_calls, device, causal):
    # as multi-head attention makes them: (N, L, heads * E) -> (N, heads, L, E), rows
    # heads * E apart; the kernels read them in place
    x = _random((2, 70, 3 * 4 * 8), np.float64, 0)
    grad = _random((2, 4, 70, 8), np.float64, 1)
    results = []
    for lib in (ember, torch):
        t = lib_tensor(lib, x, device, requires_grad=True)
        q, k, v = t.reshape(2, 70, 3, 4, 8).permute(2, 0, 3, 1, 4).unbind(0)
        y = (flash_attention(q, k, v, 0.3, causal) if lib is ember
             else TF.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=0.3))
        if y is None:
            assert device != "cpu"
            return
        y.backward(lib_tensor(lib, grad, device))
        results.append((as_numpy(y), as_numpy(t.grad)))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, **TOLERANCE[np.float64])


def test_gradcheck_and_gradgradcheck(flash_calls, device):
    ts = [ember.tensor(_random(s, np.float64, i), device=device, requires_grad=True)
          for i, s in enumerate(((2, 5, 3), (2, 4, 3), (2, 4, 2)))]
    if device != "cpu":
        assert flash_attention(*ts, 0.7, False) is None
        return
    for causal in (False, True):
        def fn(q, k, v, causal=causal):
            return flash_attention(q, k, v, 0.7, causal)
        assert ember.autograd.gradcheck(fn, ts)
        assert ember.autograd.gradgradcheck(fn, ts)


def test_double_backward_matches_torch(flash_calls, device):
    if device != "cpu":
        pytest.skip("the fused kernel is the CPU's")
    arrays = [_random(s, np.float64, i) for i, s in enumerate(((2, 6, 4), (2, 5, 4), (2, 5, 3)))]
    results = []
    for lib, run in ((ember, lambda q, k, v: flash_attention(q, k, v, 0.5, True)),
                     (torch, lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.5))):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = run(*ts)
        grads = (torch if lib is torch else ember).autograd.grad(y.pow(2).sum(), ts, create_graph=True)
        sum(g.pow(2).sum() for g in grads).backward()
        results.append([as_numpy(t.grad) for t in ts])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, **TOLERANCE[np.float64])
    # the recorded backward took ember ops; the kernel ran once, in the second backward,
    # where the first one's incoming gradient (2 y) leads back to the fused node
    assert flash_calls == {"forward": 1, "backward": 1}


def test_second_backward_with_retained_graph(flash_calls, device):
    ts = [ember.tensor(_random(s, np.float64, i), device=device, requires_grad=True)
          for i, s in enumerate(((2, 9, 4), (2, 11, 4), (2, 11, 3)))]
    y = flash_attention(*ts, 0.5, True)
    if device != "cpu":
        assert y is None
        return
    y.sum().backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in ts]
    y.sum().backward()
    for t, g in zip(ts, first):
        np.testing.assert_allclose(t.grad.numpy(), 2 * g, **TOLERANCE[np.float64])


def test_only_requested_gradients(flash_calls, device):
    q, k, v = (ember.tensor(_random((2, 4, 3), np.float32, i), device=device) for i in range(3))
    k.requires_grad_()
    y = flash_attention(q, k, v, 0.5, False)
    if device != "cpu":
        assert y is None
        return
    y.sum().backward()
    assert q.grad is None and v.grad is None and k.grad.shape == k.shape


def test_output_changed_in_place_refuses_backward(flash_calls, device):
    ts = [ember.tensor(_random((1, 4, 3), np.float64, i), device=device, requires_grad=True) for i in range(3)]
    y = flash_attention(*ts, 0.5, False)
    if device != "cpu":
        assert y is None
        return
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def _tensors(device, shapes, dtype=ember.float32):
    return [ember.ones(s, dtype=dtype, device=device) for s in shapes]


@pytest.mark.parametrize("shapes,dtype", [
    (((2, 4, 3), (2, 5, 3), (2, 5, 2)), ember.int64),          # not floating
    (((2, 4, 3), (2, 5, 3), (2, 5, 2)), ember.float16),        # no kernel for half
    (((2, 4, 3), (1, 5, 3), (1, 5, 2)), ember.float32),        # leading dims broadcast
    (((2, 0, 3), (2, 5, 3), (2, 5, 2)), ember.float32),        # empty dims
    (((2, 4, 3), (2, 0, 3), (2, 0, 2)), ember.float32),
    (((2, 4, 0), (2, 5, 0), (2, 5, 2)), ember.float32),
    (((0, 4, 3), (0, 5, 3), (0, 5, 2)), ember.float32),
    (((4,), (5,), (5,)), ember.float32),                       # one dim
    (((2, 4, 3), (2, 5, 4), (2, 5, 2)), ember.float32),        # E differs
])
def test_declines(flash_calls, device, shapes, dtype):
    assert flash_attention(*_tensors(device, shapes, dtype), 0.5, False) is None
    assert flash_calls == {"forward": 0, "backward": 0}


def test_declines_mixed_dtypes(flash_calls, device):
    q, k = _tensors(device, ((2, 4, 3), (2, 5, 3)))
    v = ember.ones((2, 5, 2), dtype=ember.float64, device=device)
    assert flash_attention(q, k, v, 0.5, False) is None


def test_declines_small_problems(monkeypatch, device):
    monkeypatch.setattr(flash, "MIN_SCORES", 21)
    assert flash_attention(*_tensors(device, ((2, 4, 3), (2, 5, 3), (2, 5, 2))), 0.5, False) is None


@pytest.mark.parametrize("causal", [False, True])
def test_without_grad_keeps_nothing(flash_calls, device, causal):
    arrays = [_random(s, np.float32, i) for i, s in enumerate(((2, 9, 4), (2, 11, 4), (2, 11, 3)))]
    with ember.no_grad():
        y = flash_attention(*(ember.tensor(a, device=device, requires_grad=True) for a in arrays), 0.5, causal)
    if device != "cpu":
        assert y is None
        return
    assert y.grad_fn is None and not y.requires_grad
    expected = TF.scaled_dot_product_attention(*(torch.tensor(a) for a in arrays), is_causal=causal, scale=0.5)
    np.testing.assert_allclose(as_numpy(y), expected.numpy(), **TOLERANCE[np.float32])
    from ember.plugins.attention import _flash

    assert _flash.forward(*arrays, 0.5, causal, False)[2] is None


def test_kernel_checks_its_arrays():
    pytest.importorskip("ember.plugins.attention._flash")
    from ember.plugins.attention import _flash

    q = np.ones((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match="shapes"):
        _flash.forward(q, np.ones((2, 5, 4), np.float32), np.ones((2, 5, 2), np.float32), 1.0, False)
    with pytest.raises(ValueError, match="float32 or float64"):
        _flash.forward(q, q, q.astype(np.int64), 1.0, False)
    with pytest.raises(ValueError, match="query is float32"):
        _flash.forward(q, q.astype(np.float64), q, 1.0, False)
    with pytest.raises(ValueError, match="empty"):
        _flash.forward(q[:, :0], q, q, 1.0, False)
    out, lse, probs = _flash.forward(q, q, q, 1.0, False)
    with pytest.raises(ValueError, match="lse"):
        _flash.backward(out, q, q, q, out, lse[:, :2], probs, 1.0, False)
    with pytest.raises(ValueError, match="probs"):
        _flash.backward(out, q, q, q, out, lse, probs[:1], 1.0, False)
