"""The direct path of stride-1 1-d and 2-d convolutions with few channels (CPU):
forward, input and weight gradients against torch 2.13, ember's gradcheck, the
kernels against im2col + GEMM, their checks, and where they decline."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, torch
from tests.plugins.conv.kernel_paths import TOLERANCE, WEIGHT_ATOL32
from tests.plugins.conv.kernel_paths import compare_with_torch as _compare
from tests.plugins.conv.kernel_paths import random_array as _r
from tests.plugins.kernel_calls import counted_calls
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional


@pytest.fixture
def direct_calls(monkeypatch, device):
    """Counts the direct kernels' calls by name (on the CPU: the other backends have
    none); Winograd stays out of the way of 3x3 kernels."""
    from ember.plugins.conv import _direct, kernels

    monkeypatch.setattr(kernels, "WINOGRAD_MIN_CHANNELS", 10 ** 9)
    yield from counted_calls(monkeypatch, _direct, ("conv2d", "conv2d_weight_grad"), device)


# (function, input shape, weight shape, bias, kwargs): LeNet's two layers, odd sizes,
# one sample, one channel, channel counts off the blocks of four, dilation, padding
# wider than the kernel (the input gradient crops), 'same', 1-d
CASES = [
    ("conv2d", (4, 1, 28, 28), (6, 1, 5, 5), True, dict(padding=2)),
    ("conv2d", (3, 6, 14, 14), (16, 6, 5, 5), True, {}),
    ("conv2d", (2, 3, 7, 5), (5, 3, 3, 2), False, dict(padding=(1, 0))),
    ("conv2d", (1, 1, 4, 6), (1, 1, 2, 2), True, {}),
    ("conv2d", (2, 2, 9, 8), (3, 2, 3, 3), True, dict(dilation=(2, 3), padding=(2, 1))),
    ("conv2d", (2, 3, 5, 5), (2, 3, 2, 3), True, dict(padding=4)),
    ("conv2d", (2, 4, 6, 9), (7, 4, 4, 3), False, dict(padding="same", dilation=2)),
    ("conv2d", (2, 20, 9, 9), (9, 20, 3, 3), True, dict(padding=1)),
    ("conv1d", (2, 3, 11), (5, 3, 4), True, dict(padding=2)),
    ("conv1d", (3, 7), (2, 3, 3), True, dict(padding="same", dilation=3)),      # unbatched
    ("conv_transpose2d", (2, 3, 5, 6), (3, 4, 5, 5), True, dict(padding=1)),
    ("conv_transpose2d", (2, 2, 4, 3), (2, 3, 3, 2), False, dict(dilation=2, output_padding=1)),
    ("conv_transpose1d", (2, 4, 6), (4, 2, 3), True, dict(padding=2, dilation=2)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,xs,ws,bias,kw", CASES)
def test_against_torch(name, xs, ws, bias, kw, dtype, device, direct_calls):
    x, w = _r(xs, dtype), _r(ws, dtype, 1)
    out_channels = ws[1] if name.startswith("conv_transpose") else ws[0]
    b = _r(out_channels, dtype, 2) if bias else None
    _compare(name, x, w, b, kw, device, dtype)
    if device == "cpu":  # forward, input gradient; weight gradient
        assert direct_calls == {"conv2d": 2, "conv2d_weight_grad": 1}


def test_gradcheck(device, direct_calls):
    x = ember.tensor(_r((2, 2, 6, 5)), device=device, requires_grad=True)
    w = ember.tensor(_r((3, 2, 3, 2), seed=1), device=device, requires_grad=True)
    b = ember.tensor(_r(3, seed=2), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: EF.conv2d(x, w, b, padding=(1, 2), dilation=(1, 2)),
                                    (x, w, b))
    if device == "cpu":
        assert direct_calls["conv2d"] > 0 and direct_calls["conv2d_weight_grad"] > 0


def test_infinite_input_takes_im2col_for_the_weight_gradient(device, direct_calls):
    """The kernel multiplies inputs by the zeros between output rows: with an
    infinity in the input its weight gradient declines (0 * inf would be NaN where
    torch has an infinity), and im2col gives torch's answer."""
    x = _r((2, 2, 6, 6))
    x[0, 1, 2, 3] = np.inf
    w = np.abs(_r((3, 2, 3, 3), seed=1))
    g = np.ones((2, 3, 4, 4))
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        xt, wt = lib_tensor(lib, x, device), lib_tensor(lib, w, device, requires_grad=True)
        F.conv2d(xt, wt).backward(lib_tensor(lib, g, device))
        res.append(as_numpy(wt.grad))
    assert np.isinf(res[1]).any()
    np.testing.assert_allclose(res[0], res[1], **TOLERANCE[np.float64])
    if device == "cpu":
        assert direct_calls == {"conv2d": 1, "conv2d_weight_grad": 1}


def test_other_geometries_keep_im2col(device, direct_calls):
    x = ember.randn(1, 2, 6, 6, device=device)
    EF.conv2d(x, ember.randn(2, 2, 3, 3, device=device), stride=2)
    EF.conv2d(x, ember.randn(2, 1, 3, 3, device=device), groups=2)
    EF.conv2d(x, ember.randn(2, 2, 1, 1, device=device))                    # a plain product
    EF.conv2d(ember.randn(1, 20, 6, 6, device=device), ember.randn(40, 20, 3, 3, device=device))
    EF.conv3d(x[None], ember.randn(2, 1, 2, 2, 2, device=device))
    EF.conv_transpose2d(x, ember.randn(2, 2, 3, 3, device=device), stride=2)
    assert direct_calls == {"conv2d": 0, "conv2d_weight_grad": 0}


# ------------------------------------------------------------------ the kernels
def _im2col_reference(x, w, out_sp, padding, dilation):
    from ember.plugins.conv import _im2col

    N, C, H, W = x.shape
    cols = _im2col.im2col(x, (H, W), out_sp, w.shape[2:], dilation, padding, (1, 1))
    return np.matmul(w.reshape(w.shape[0], -1), cols).reshape((N, w.shape[0]) + tuple(out_sp)), cols


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs,ws,padding,dilation", [
    ((3, 6, 14, 14), (16, 6, 5, 5), (0, 0), (1, 1)),
    ((2, 1, 9, 17), (5, 1, 3, 4), (2, 1), (1, 2)),
    ((1, 7, 3, 3), (9, 7, 1, 3), (0, 1), (1, 1)),
    ((2, 2, 5, 4), (3, 2, 2, 2), (3, 2), (2, 1)),
])
def test_kernels_match_im2col(xs, ws, padding, dilation, dtype):
    """Forward, weight gradient and (as a transposed convolution) input gradient."""
    from ember.plugins.conv import _direct, _im2col

    x, w, b = _r(xs, dtype), _r(ws, dtype, 1), _r(ws[0], dtype, 2)
    out_sp = tuple(i + 2 * p - d * (k - 1) for i, p, d, k in zip(xs[2:], padding, dilation, ws[2:]))
    ref, cols = _im2col_reference(x, w, out_sp, padding, dilation)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(_direct.conv2d(x, w, out_sp, padding, dilation, b),
                               ref + b[:, None, None], **tol)
    dy = _r(ref.shape, dtype, 3)
    gw = np.matmul(dy.reshape(xs[0], ws[0], -1), cols.transpose(0, 2, 1)).sum(0).reshape(ws)
    np.testing.assert_allclose(_direct.conv2d_weight_grad(x, dy, ws[2:], padding, dilation), gw,
                               **dict(tol, atol=WEIGHT_ATOL32 if dtype == np.float32 else 1e-12))
    gx = _im2col.col2im(np.matmul(w.reshape(ws[0], -1).T, dy.reshape(xs[0], ws[0], -1)),
                        xs[2:], out_sp, ws[2:], dilation, padding, (1, 1))
    np.testing.assert_allclose(_direct.conv2d(dy, w, xs[2:], padding, dilation, transposed=True), gx, **tol)


def test_kernels_decline_buffers_past_the_limit(monkeypatch):
    """A sample too large for a thread's buffers goes to im2col, with the same result."""
    from ember.plugins.conv import _direct

    x, w = _r((2, 3, 9, 40)), _r((4, 3, 3, 5), seed=1)
    expected = EF.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    monkeypatch.setattr(_direct, "MAX_SCRATCH_BYTES", 1000)
    assert _direct.conv2d(x, w, (9, 38), (1, 1)) is None
    assert _direct.conv2d_weight_grad(x, _r((2, 4, 9, 38)), (3, 5), (1, 1)) is None
    np.testing.assert_allclose(EF.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy(), expected,
                               **TOLERANCE[np.float64])


def test_kernels_check_their_arguments():
    from ember.plugins.conv import _direct

    x, w = _r((1, 2, 5, 5)), _r((3, 2, 3, 3))
    with pytest.raises(ValueError, match="float32 or float64"):
        _direct.conv2d(x.astype(np.int64), w, (3, 3), (0, 0))
    with pytest.raises(ValueError, match="does not fit"):
        _direct.conv2d(x, w.astype(np.float32), (3, 3), (0, 0))
    with pytest.raises(ValueError, match="does not fit"):
        _direct.conv2d(x, _r((3, 4, 3, 3)), (3, 3), (0, 0))
    with pytest.raises(ValueError, match="must be positive"):
        _direct.conv2d(x, w, (0, 3), (0, 0))
    with pytest.raises(ValueError, match="bias of shape"):
        _direct.conv2d(x, w, (3, 3), (0, 0), bias=np.zeros(2))
    with pytest.raises(ValueError, match="does not fit"):
        _direct.conv2d_weight_grad(x, _r((2, 3, 3, 3)), (3, 3), (0, 0))
    assert _direct.conv2d(x[:0], w, (3, 3), (0, 0)).shape == (0, 3, 3, 3)
    assert not _direct.conv2d_weight_grad(x[:0], _r((0, 3, 3, 3)), (3, 3), (0, 0)).any()


def test_cpu_kernels_decline_many_channels_and_other_dtypes():
    """The table's wrappers: above DIRECT_MAX_CHANNEL_PRODUCT channel pairs, and for
    float16, they return None (the caller takes im2col)."""
    from ember.plugins.conv import kernels

    cpu = ember.tensor(0.0)._be.kernels
    limit = kernels.DIRECT_MAX_CHANNEL_PRODUCT
    x = _r((1, 2, 5, 5), np.float32)
    big = _r((limit // 2 + 1, 2, 3, 3), np.float32)
    assert cpu["conv.direct"](x, big, (3, 3), (0, 0), (1, 1)) is None
    assert cpu["conv.direct"](x, big[:limit // 2], (3, 3), (0, 0), (1, 1)).shape == (1, limit // 2, 3, 3)
    assert cpu["conv.direct_weight_grad"](x, _r((1, limit // 2 + 1, 3, 3), np.float32), (3, 3), (0, 0),
                                          (1, 1)) is None
    assert cpu["conv.direct"](x.astype(np.float16), big[:2].astype(np.float16), (3, 3), (0, 0), (1, 1)) is None
    assert cpu["conv.direct"](x[:, :, 0], big[:2, :, 0], (3,), (0,), (1,)).shape == (1, 2, 3)
