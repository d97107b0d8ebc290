"""The Winograd F(2x2, 3x3) path of stride-1 3x3 convolutions (CPU): forward, input
and weight gradients against torch 2.13, ember's gradcheck, the kernels' checks,
and the im2col path where the kernels decline."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, torch
from tests.plugins.conv.kernel_paths import TOLERANCE
from tests.plugins.conv.kernel_paths import compare_with_torch as _compare
from tests.plugins.conv.kernel_paths import random_array as _r
from tests.plugins.kernel_calls import counted_calls
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional


@pytest.fixture
def winograd_calls(monkeypatch, device):
    """Every channel count takes the Winograd path; counts the kernel calls by name
    (on the CPU: the other backends have no Winograd kernels)."""
    from ember.plugins.conv import _winograd, kernels

    monkeypatch.setattr(kernels, "WINOGRAD_MIN_CHANNELS", 1)
    yield from counted_calls(monkeypatch, _winograd, ("conv2d", "conv2d_weight_grad"), device)


# (input shape, weight shape, padding, bias): even and odd sizes (partial tiles),
# sizes below 3, paddings 0/1/2 and mixed, one sample, one channel, many channels
CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, True),
    ((2, 3, 7, 5), (4, 3, 3, 3), 1, False),
    ((1, 1, 5, 5), (1, 1, 3, 3), 0, True),
    ((3, 2, 2, 9), (5, 2, 3, 3), 2, True),
    ((2, 2, 1, 4), (3, 2, 3, 3), (1, 2), False),
    ((1, 4, 3, 3), (2, 4, 3, 3), (0, 2), True),
    ((2, 1, 4, 1), (2, 1, 3, 3), (2, 1), True),
    ((5, 32, 16, 13), (24, 32, 3, 3), 1, True),      # a run of samples per thread, in chunks
    ((1, 64, 24, 24), (48, 64, 3, 3), 1, False),     # one sample: the steps split between threads
    ((2, 6, 9, 8), (7, 6, 3, 3), "same", True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs,ws,padding,bias", CASES)
def test_conv2d_against_torch(xs, ws, padding, bias, dtype, device, winograd_calls):
    x, w = _r(xs, dtype), _r(ws, dtype, 1)
    b = _r(ws[0], dtype, 2) if bias else None
    _compare("conv2d", x, w, b, dict(padding=padding), device, dtype)
    if device == "cpu":  # forward, input gradient; weight gradient
        assert winograd_calls == {"conv2d": 2, "conv2d_weight_grad": 1}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_unbatched_and_noncontiguous(dtype, device, winograd_calls):
    x = _r((3, 8, 7), dtype)
    w = _r((4, 3, 3, 3), dtype, 1)
    _compare("conv2d", x, w, None, dict(padding=1), device, dtype)
    base, w = _r((2, 5, 9, 7), dtype), _r((3, 5, 3, 3), dtype, 1)
    ex = ember.tensor(base, device=device, requires_grad=True)
    tx = torch.from_numpy(base).requires_grad_()
    ey = EF.conv2d(ex.transpose(2, 3), ember.tensor(w, device=device), padding=(2, 1))   # a strided input
    ty = TF.conv2d(tx.transpose(2, 3), torch.from_numpy(w), padding=(2, 1))
    np.testing.assert_allclose(as_numpy(ey), as_numpy(ty), **TOLERANCE[dtype])
    g = _r(tuple(ty.shape), dtype, 2)
    ey.backward(ember.tensor(g, device=device))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(as_numpy(ex.grad), as_numpy(tx.grad), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs,ws,padding,bias", [
    ((2, 3, 5, 6), (3, 4, 3, 3), 1, True),
    ((1, 2, 4, 3), (2, 3, 3, 3), 0, False),
    ((3, 4, 7, 7), (4, 2, 3, 3), 2, True),
])
def test_conv_transpose2d_stride1(xs, ws, padding, bias, dtype, device, winograd_calls):
    """A stride-1 transposed convolution is a convolution with the kernel flipped:
    the same kernels serve its forward and both gradients."""
    x, w = _r(xs, dtype), _r(ws, dtype, 1)
    b = _r(ws[1], dtype, 2) if bias else None
    _compare("conv_transpose2d", x, w, b, dict(padding=padding), device, dtype)
    if device == "cpu":
        assert winograd_calls == {"conv2d": 2, "conv2d_weight_grad": 1}


def test_gradcheck(device, winograd_calls):
    x = ember.tensor(_r((2, 2, 5, 4)), device=device, requires_grad=True)
    w = ember.tensor(_r((3, 2, 3, 3), seed=1), device=device, requires_grad=True)
    b = ember.tensor(_r(3, seed=2), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: EF.conv2d(x, w, b, padding=(1, 2)), (x, w, b))
    if device == "cpu":
        assert winograd_calls["conv2d"] > 0 and winograd_calls["conv2d_weight_grad"] > 0


def test_double_backward_keeps_its_graph(device, winograd_calls):
    """With create_graph the backward is built from ember ops (im2col); the second
    pass reaches the forward's node again (through the output gradient), whose
    first-order backward takes the kernels."""
    x, w = _r((2, 3, 6, 5)), _r((4, 3, 3, 3), seed=1)
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        xt, wt = (lib_tensor(lib, a, device, requires_grad=True) for a in (x, w))
        gx, gw = lib.autograd.grad((F.conv2d(xt, wt, padding=1) ** 2).sum(), (xt, wt), create_graph=True)
        res.append([as_numpy(t) for t in lib.autograd.grad((gx ** 2).sum() + (gw ** 2).sum(), (xt, wt))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
    if device == "cpu":
        assert winograd_calls == {"conv2d": 2, "conv2d_weight_grad": 1}


def test_other_geometries_keep_im2col(device, winograd_calls):
    x = ember.randn(1, 2, 6, 6, device=device)
    EF.conv2d(x, ember.randn(2, 2, 3, 3, device=device), stride=2)
    EF.conv2d(x, ember.randn(2, 2, 3, 3, device=device), dilation=2)
    EF.conv2d(x, ember.randn(2, 1, 3, 3, device=device), groups=2)
    EF.conv2d(x, ember.randn(2, 2, 3, 3, device=device), padding=3)
    EF.conv2d(x, ember.randn(2, 2, 2, 3, device=device))
    EF.conv_transpose2d(x, ember.randn(2, 2, 3, 3, device=device), stride=2)
    EF.conv1d(x[:, :, 0], ember.randn(2, 2, 3, device=device))
    assert winograd_calls == {"conv2d": 0, "conv2d_weight_grad": 0}


def test_channel_threshold():
    """By default the CPU takes the Winograd path when the input and the output have
    WINOGRAD_MIN_CHANNELS channels or more, in float32 and float64."""
    from ember.plugins.conv import kernels

    cpu = ember.tensor(0.0)._be.kernels
    n = kernels.WINOGRAD_MIN_CHANNELS
    few, enough = _r((1, n - 1, 4, 4), np.float32), _r((1, n, 4, 4), np.float32)
    assert cpu["conv.winograd"](few, _r((4 * n, n - 1, 3, 3), np.float32), (1, 1)) is None
    assert cpu["conv.winograd"](enough, _r((n - 1, n, 3, 3), np.float32), (1, 1)) is None
    assert cpu["conv.winograd"](enough, _r((n, n, 3, 3), np.float32), (1, 1)).shape == (1, n, 4, 4)
    assert cpu["conv.winograd"](enough, _r((n, n + 1, 3, 3), np.float32), (1, 1), None, True).shape == (
        1, n + 1, 4, 4)
    assert cpu["conv.winograd_weight_grad"](enough, _r((1, n - 1, 4, 4), np.float32), (1, 1)) is None
    assert cpu["conv.winograd_weight_grad"](enough, _r((1, n, 4, 4), np.float32), (1, 1)).shape == (n, n, 3, 3)
    assert cpu["conv.winograd"](enough.astype(np.float64), _r((n, n, 3, 3)), (1, 1)).dtype == np.float64
    assert cpu["conv.winograd"](enough.astype(np.float16), _r((n, n, 3, 3), np.float16), (1, 1)) is None


def test_declining_kernels_leave_im2col(monkeypatch):
    """The generic kernels (what CUDA and a CPU without the built module get) decline,
    and the convolution still runs, through im2col."""
    from ember.plugins.conv import kernels

    monkeypatch.setattr(kernels, "WINOGRAD_MIN_CHANNELS", 1)
    cpu = ember.tensor(0.0)._be.kernels
    for op in ("conv.winograd", "conv.winograd_weight_grad"):
        monkeypatch.setitem(cpu, op, kernels._declines(np))
    x, w = _r((2, 3, 5, 5)), _r((4, 3, 3, 3), seed=1)
    _compare("conv2d", x, w, _r(4, seed=2), dict(padding=1), "cpu", np.float64)


def test_calls_from_several_threads_restore_the_blas_threads():
    """Each call runs its products on one BLAS thread; calls overlapping in several
    Python threads give the right results and leave the BLAS's thread count as it was."""
    import threading

    from threadpoolctl import threadpool_info

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    x, w = _r((4, 16, 12, 12), np.float32), _r((16, 16, 3, 3), np.float32, 1)
    expected = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    results = []

    def convolve():
        for _ in range(20):
            results.append(as_numpy(EF.conv2d(ember.tensor(x), ember.tensor(w), padding=1)))

    threads = [threading.Thread(target=convolve) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 60
    for result in results:
        np.testing.assert_allclose(result, expected, **TOLERANCE[np.float32])
    assert blas_threads() == before


# ------------------------------------------------------------------ the kernels themselves
def test_transforms_compose_to_the_convolution():
    from ember.plugins.conv import _winograd as K

    x, w, b = _r((2, 3, 7, 6)), _r((5, 3, 3, 3), seed=1), _r(5, seed=2)
    v = K.transform_input(x, (1, 2))
    assert v.shape == (16, 3, 2 * 4 * 4)
    out = np.empty((2, 5, 7, 8))
    K.transform_output(np.matmul(K.transform_weight(w), v), out, b)
    expected = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding=(1, 2))
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_kernels_reject_bad_arguments():
    from ember.plugins.conv import _winograd as K

    x, w = _r((1, 2, 4, 4)), _r((3, 2, 3, 3), seed=1)
    with pytest.raises(ValueError, match="4-d float32 or float64"):
        K.conv2d(x[0], w, (1, 1))
    with pytest.raises(ValueError, match="4-d float32 or float64"):
        K.conv2d(x.astype(np.int64), w, (1, 1))
    with pytest.raises(ValueError, match="does not fit image"):
        K.conv2d(x, w.astype(np.float32), (1, 1))
    with pytest.raises(ValueError, match="does not fit image"):
        K.conv2d(x, _r((3, 5, 3, 3)), (1, 1))
    with pytest.raises(ValueError, match="must be 3x3"):
        K.conv2d(x, _r((3, 2, 5, 5)), (1, 1))
    with pytest.raises(ValueError, match="leaves no 3x3 block"):
        K.conv2d(_r((1, 2, 1, 4)), w, (0, 1))
    with pytest.raises(ValueError, match="leaves no 3x3 block"):
        K.conv2d(x, w, (-1, 1))
    with pytest.raises(ValueError, match="bias of shape"):
        K.conv2d(x, w, (1, 1), np.zeros(2))
    with pytest.raises(ValueError, match="does not fit image"):
        K.conv2d_weight_grad(x, _r((1, 3, 3, 4)), (1, 1))
    with pytest.raises(ValueError, match="out must be"):
        K.transform_input(x, (1, 1), out=np.empty((16, 2, 5)))
    with pytest.raises(ValueError, match="overlap"):
        K.transform_input(x, (1, 1), out=np.lib.stride_tricks.as_strided(np.empty(64), (16, 2, 4), (8, 32, 8)))
    with pytest.raises(ValueError, match="do not make"):
        K.transform_output(np.empty((16, 3, 5)), np.empty((1, 3, 4, 4)))
