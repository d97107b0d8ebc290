"""Convolutions, transposed convolutions, unfold/fold against torch 2.13: values,
gradients of input/weight/bias, double backward and ember's own gradcheck."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, placed, same_outcome, torch
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _fn(name, **kw):
    """The same call on both libraries: ``F.name(*tensors, **kw)``."""
    return (lambda *a: getattr(EF, name)(*a, **kw)), (lambda *a: getattr(TF, name)(*a, **kw))


# (name, input shape, weight shape, bias, kwargs): every argument, 1-d/2-d/3-d
CONV_CASES = [
    ("conv1d", (2, 3, 9), (4, 3, 3), True, {}),
    ("conv1d", (1, 4, 10), (6, 2, 4), False, dict(stride=3, padding=2, dilation=2, groups=2)),
    ("conv1d", (3, 7), (2, 3, 2), True, dict(padding="same", dilation=3)),      # unbatched
    ("conv2d", (2, 3, 6, 7), (4, 3, 3, 3), True, dict(stride=2, padding=1)),
    ("conv2d", (1, 4, 7, 6), (6, 2, 3, 2), True, dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=2)),
    ("conv2d", (2, 3, 5, 6), (6, 1, 3, 3), False, dict(padding=1, groups=3)),    # depthwise
    ("conv2d", (2, 3, 5, 5), (4, 3, 2, 2), True, dict(padding="same")),        # asymmetric 'same'
    ("conv2d", (2, 3, 5, 6), (4, 3, 3, 2), False, dict(padding="valid", stride=(2, 1))),
    ("conv2d", (2, 3, 4, 5), (5, 3, 1, 1), True, {}),                           # 1x1 shortcut
    ("conv2d", (3, 5, 5), (2, 3, 3, 3), True, dict(padding=(0, 1))),            # unbatched
    ("conv3d", (2, 2, 4, 5, 4), (3, 2, 2, 3, 2), True, dict(stride=(2, 1, 1), padding=(1, 0, 1))),
    ("conv3d", (1, 4, 3, 4, 5), (4, 2, 1, 2, 3), False, dict(dilation=(1, 2, 1), groups=2, padding="same")),
    ("conv3d", (2, 3, 3, 3), (2, 2, 2, 2, 2), True, {}),                        # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,xs,ws,bias,kw", CONV_CASES)
def test_conv_functional(name, xs, ws, bias, kw, dtype):
    e_fn, t_fn = _fn(name, **kw)
    inputs = [_r(xs, dtype), _r(ws, dtype, 1)] + ([_r(ws[0], dtype, 2)] if bias else [])
    check(e_fn, inputs, t_fn)


# (name, input shape, weight shape (in, out/groups, *k), bias, kwargs)
TRANSPOSE_CASES = [
    ("conv_transpose1d", (2, 3, 5), (3, 2, 3), True, {}),
    ("conv_transpose1d", (1, 4, 4), (4, 1, 3), False, dict(stride=3, padding=1, output_padding=2, groups=2)),
    ("conv_transpose1d", (4, 5), (4, 2, 2), True, dict(dilation=3, output_padding=2)),   # unbatched
    ("conv_transpose2d", (2, 3, 4, 3), (3, 2, 3, 3), True, dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (1, 4, 3, 4), (4, 3, 2, 3), True, dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1),
                                                             groups=2, output_padding=(1, 0))),
    ("conv_transpose2d", (2, 2, 3, 3), (2, 3, 1, 1), False, {}),                          # 1x1 shortcut
    ("conv_transpose2d", (3, 3, 4), (3, 2, 2, 2), True, dict(stride=2)),                  # unbatched
    ("conv_transpose3d", (1, 2, 2, 3, 2), (2, 2, 2, 2, 3), True, dict(stride=(2, 1, 2), padding=(0, 1, 1),
                                                                   output_padding=(1, 0, 0))),
    ("conv_transpose3d", (2, 2, 3, 2, 2), (2, 1, 2, 1, 2), False, dict(groups=2, dilation=2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,xs,ws,bias,kw", TRANSPOSE_CASES)
def test_conv_transpose_functional(name, xs, ws, bias, kw, dtype):
    e_fn, t_fn = _fn(name, **kw)
    groups = kw.get("groups", 1)
    inputs = [_r(xs, dtype), _r(ws, dtype, 1)] + ([_r(ws[1] * groups, dtype, 2)] if bias else [])
    check(e_fn, inputs, t_fn)


@pytest.mark.parametrize("name,xs,ws,bias,kw", CONV_CASES + TRANSPOSE_CASES)
def test_first_order_backward(name, xs, ws, bias, kw, device):
    """``backward()`` without create_graph takes the array path (chunks of samples);
    ``check`` above asks for create_graph, which takes the differentiable one."""
    groups = kw.get("groups", 1)
    n_out = ws[1] * groups if "transpose" in name else ws[0]
    arrays = [_r(xs), _r(ws, seed=1)] + ([_r(n_out, seed=2)] if bias else [])
    grads = []
    for lib, F in ((ember, EF), (torch, TF)):
        ts = [lib_tensor(lib, a, device, requires_grad=True) for a in arrays]
        y = getattr(F, name)(*ts, **kw)
        y.backward(lib_tensor(lib, _r(tuple(y.shape), seed=3), device))
        grads.append([as_numpy(y)] + [as_numpy(t.grad) for t in ts])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_first_order_backward_in_chunks(monkeypatch, device):
    """Several chunks of samples (a tiny chunk budget), groups, strides."""
    from ember.plugins.conv import functional as CF

    for budget in ("_CHUNK_BYTES", "_DEVICE_CHUNK_BYTES"):
        monkeypatch.setattr(CF, budget, 1)
    for budget in ("_KEEP_BYTES", "_DEVICE_KEEP_BYTES"):
        monkeypatch.setattr(CF, budget, 0)
    test_first_order_backward("conv2d", (5, 4, 7, 6), (6, 2, 3, 2), True, dict(stride=(1, 2), padding=1, groups=2),
                              device)
    test_first_order_backward("conv_transpose2d", (5, 4, 3, 4), (4, 3, 2, 3), True,
                              dict(stride=2, groups=2, output_padding=(1, 0)), device)
    test_first_order_backward("conv1d", (3, 2, 8), (3, 2, 1), False, {}, device)   # 1x1 shortcut


def test_forward_columns_serve_the_weight_gradient_once(monkeypatch):
    """The forward keeps its columns for the weight gradient: the backward runs no
    im2col of its own; a second backward (retain_graph) computes them again, alike."""
    from ember.plugins.conv import functional as CF

    calls = []
    columns = CF._Arrays.columns
    monkeypatch.setattr(CF._Arrays, "columns", lambda self, img: calls.append(1) or columns(self, img))
    x = ember.tensor(_r((3, 2, 6, 5)), requires_grad=True)
    w = ember.tensor(_r((4, 2, 3, 2), seed=1), requires_grad=True)
    y = EF.conv2d(x, w, stride=(2, 1), padding=1)
    assert len(calls) == 1
    g = ember.tensor(_r(tuple(y.shape), seed=2))
    y.backward(g, retain_graph=True)
    assert len(calls) == 1
    first = w.grad.clone()
    w.grad = None
    y.backward(g)
    assert len(calls) == 2
    np.testing.assert_array_equal(w.grad.numpy(), first.numpy())
    tx = torch.from_numpy(_r((3, 2, 6, 5)))
    tw = torch.from_numpy(_r((4, 2, 3, 2), seed=1)).requires_grad_()
    TF.conv2d(tx, tw, stride=(2, 1), padding=1).backward(torch.from_numpy(_r(tuple(y.shape), seed=2)))
    np.testing.assert_allclose(first.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_a_gpu_takes_the_batch_in_one_chunk(monkeypatch, device):
    """A host CPU works on chunks of samples whose columns stay in its caches; a GPU,
    where each chunk costs launches, takes a batch of 9 MiB of columns in one chunk
    (one im2col, one batched GEMM) and keeps them for the weight gradient (stride 2:
    no whole-convolution kernel serves it)."""
    from ember.backend import on_host
    from ember.plugins.conv import functional as CF

    calls = []
    columns = CF._Arrays.columns
    monkeypatch.setattr(CF._Arrays, "columns", lambda self, img: calls.append(img.shape[0]) or columns(self, img))
    x = ember.tensor(_r((16, 4, 130, 130)), device=device, requires_grad=True)
    w = ember.tensor(_r((3, 4, 3, 3), seed=1), device=device, requires_grad=True)
    EF.conv2d(x, w, stride=2).sum().backward()
    if on_host(x):
        assert len(calls) > 2 and max(calls) < 16, calls
    else:
        assert calls == [16]


@pytest.mark.parametrize("dtype,allowed,expected", [(np.float32, True, 2), (np.float32, False, 0),
                                                     (np.float64, True, 0)])
def test_float32_convolutions_ask_their_backend_for_tf32_products(dtype, allowed, expected, device, monkeypatch):
    """A float32 convolution, forward and backward, runs inside its backend's TF32
    context where ``ember.backends.cudnn.allow_tf32`` (torch's cuDNN default) lets it."""
    import contextlib

    from ember.backend import REGISTRY

    entered = []
    backend = REGISTRY.backends[ember.device(device).type]
    monkeypatch.setattr(backend, "tf32_products", lambda: entered.append(1) or contextlib.nullcontext(),
                        raising=False)
    monkeypatch.setattr(ember.backends.cudnn, "allow_tf32", allowed)
    x = ember.tensor(_r((2, 3, 6, 6)).astype(dtype), device=device, requires_grad=True)
    w = ember.tensor(_r((4, 3, 3, 3), seed=1).astype(dtype), device=device, requires_grad=True)
    EF.conv2d(x, w, stride=2).sum().backward()
    assert len(entered) == expected


@pytest.mark.cuda
@pytest.mark.gpu_runtime
@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a GPU")
def test_gpu_tf32_convolutions_stay_within_tf32_error(monkeypatch):
    """On a GPU with TF32 units (compute capability 8.0 on), torch's default: a float32
    convolution is within TF32's error of the oracle, and not IEEE-exact (the emulated
    GPU computes in IEEE float32: it leaves this test out)."""
    monkeypatch.setattr(ember.backends.cudnn, "allow_tf32", True)
    x, w = _r((8, 64, 16, 16)).astype(np.float32), _r((64, 64, 3, 3), seed=1).astype(np.float32)
    got = EF.conv2d(ember.tensor(x, device="cuda"), ember.tensor(w, device="cuda"), stride=2).cpu().numpy()
    want = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2).numpy()
    scale = np.abs(want).max()
    assert np.abs(got - want).max() <= 1e-2 * scale
    if int(ember.cuda.get_device_capability()[0]) >= 8:
        assert np.abs(got - want).max() > 1e-6 * scale, "TF32 products were not used"


@pytest.mark.parametrize("name", ["conv1d", "conv2d"])
def test_an_empty_batch_trains(name):
    """Empty batch, weight requiring grad (the forward keeps no columns): zero gradients."""
    spatial = (5,) if name == "conv1d" else (5, 5)
    x = ember.zeros((0, 3) + spatial, dtype=ember.float64, requires_grad=True)
    w = ember.tensor(_r((4, 3) + (3,) * len(spatial)), requires_grad=True)
    y = getattr(EF, name)(x, w, padding=1)
    assert y.shape == (0, 4) + spatial
    y.sum().backward()
    assert x.grad.shape == x.shape and not w.grad.numpy().any()


def test_columns_are_not_kept_without_a_weight_gradient(monkeypatch):
    from ember.plugins.conv import functional as CF

    kept = []
    forward = CF._Arrays.forward
    monkeypatch.setattr(CF._Arrays, "forward", lambda self, img, bias, keep=False:
                        kept.append(keep) or forward(self, img, bias, keep))
    x = ember.tensor(_r((2, 3, 5, 5)), requires_grad=True)
    EF.conv2d(x, ember.tensor(_r((4, 3, 3, 3), seed=1)), stride=2).sum().backward()
    assert kept == [False]


def test_weight_only_and_input_only_grads(device):
    x, w = _r((2, 3, 5, 5)), _r((4, 3, 3, 3), seed=1)
    for rg_x, rg_w in ((True, False), (False, True)):
        ex, ew = ember.tensor(x, device=device, requires_grad=rg_x), ember.tensor(w, device=device, requires_grad=rg_w)
        tx, tw = torch.from_numpy(x).requires_grad_(rg_x), torch.from_numpy(w).requires_grad_(rg_w)
        EF.conv2d(ex, ew, padding=1).sum().backward()
        TF.conv2d(tx, tw, padding=1).sum().backward()
        for e, t in ((ex, tx), (ew, tw)):
            assert (e.grad is None) == (t.grad is None)
            if t.grad is not None:
                np.testing.assert_allclose(as_numpy(e.grad), as_numpy(t.grad), rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 5, 6), dict(kernel_size=2)),
    ((1, 2, 6, 7), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
    ((2, 5, 4), dict(kernel_size=(3, 2), padding=(1, 0), stride=2)),          # unbatched
])
def test_unfold_fold(shape, kw, dtype):
    e_fn, t_fn = _fn("unfold", **kw)
    check(e_fn, [_r(shape, dtype)], t_fn)
    cols = as_numpy(TF.unfold(torch.from_numpy(_r(shape, dtype)), **kw))
    e_fn, t_fn = _fn("fold", output_size=shape[-2:], **kw)
    check(e_fn, [_r(cols.shape, dtype, 3)], t_fn)


def test_conv2d_noncontiguous_and_float32_large(device):
    """A transposed (non-contiguous) input and a float32 case with long sums; the
    tolerance grows with the sum length (C*K = 144 terms)."""
    x = _r((2, 16, 11, 9), np.float32).transpose(0, 1, 3, 2)
    w = _r((8, 16, 3, 3), np.float32, 1)
    ex, tx = ember.tensor(x, device=device, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
    ew, tw = ember.tensor(w, device=device, requires_grad=True), torch.from_numpy(w).requires_grad_()
    ey = EF.conv2d(ex.transpose(2, 3), ew, padding=1, stride=(1, 2))
    ty = TF.conv2d(tx.transpose(2, 3), tw, padding=1, stride=(1, 2))
    np.testing.assert_allclose(as_numpy(ey), as_numpy(ty), rtol=1e-5, atol=1e-4)
    g = _r(tuple(ty.shape), np.float32, 2)
    ey.backward(ember.tensor(g, device=device))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(as_numpy(ex.grad), as_numpy(tx.grad), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(as_numpy(ew.grad), as_numpy(tw.grad), rtol=1e-5, atol=5e-4)


def test_conv2d_double_backward_vs_torch(device):
    """Gradient of (input, weight) gradients w.r.t. input and weight, against torch."""
    x, w = _r((2, 3, 6, 5)), _r((4, 3, 3, 2), seed=1)
    v = _r((2, 4, 3, 6), seed=2)
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        xt = lib_tensor(lib, x, device, requires_grad=True)
        wt = lib_tensor(lib, w, device, requires_grad=True)
        y = F.conv2d(xt, wt, stride=(2, 1), padding=(1, 1))
        gx, gw = lib.autograd.grad((y * lib_tensor(lib, v, device)).sum(), (xt, wt), create_graph=True)
        s = (gx ** 2).sum() + (gw * gw.sin()).sum()
        res.append([as_numpy(t) for t in lib.autograd.grad(s, (xt, wt))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name,xs,ws,kw", [
    ("conv2d", (1, 2, 4, 3), (2, 1, 2, 2), dict(groups=2, padding=1, stride=2)),
    ("conv_transpose2d", (1, 2, 3, 2), (2, 2, 2, 2), dict(stride=2, output_padding=1)),
    ("conv1d", (2, 2, 5), (3, 2, 2), dict(dilation=2)),
])
def test_gradgradcheck(name, xs, ws, kw, device):
    x = ember.tensor(_r(xs), device=device, requires_grad=True)
    w = ember.tensor(_r(ws, seed=1), device=device, requires_grad=True)
    b = ember.tensor(_r(ws[0] if name.startswith("conv") and "transpose" not in name else ws[1], seed=2),
                     device=device, requires_grad=True)
    fn = getattr(EF, name)
    f = lambda x, w, b: fn(x, w, b, **kw)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))


def test_unfold_fold_gradgradcheck(device):
    x = ember.tensor(_r((1, 2, 4, 3)), device=device, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: EF.unfold(t, 2, padding=1, stride=(1, 2)), (x,))
    c = ember.tensor(_r((1, 8, 6)), device=device, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: EF.fold(t, (3, 4), 2), (c,))


def test_grad_fn_names(device):
    x = ember.randn(1, 2, 5, 5, device=device, requires_grad=True)
    assert type(EF.conv2d(x, ember.randn(3, 2, 3, 3, device=device)).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(EF.conv_transpose2d(x, ember.randn(2, 3, 3, 3, device=device)).grad_fn).__name__ == (
        "ConvolutionBackward0")
    assert type(EF.unfold(x, 2).grad_fn).__name__ == "Im2ColBackward0"
    folded = EF.fold(ember.randn(1, 4, 4, device=device, requires_grad=True), 3, 2)
    assert type(folded.grad_fn).__name__ == "Col2ImBackward0"


@pytest.mark.parametrize("fn,xs,ws", [
    ("conv2d", (0, 3, 6, 6), (4, 3, 3, 3)),
    ("conv_transpose2d", (0, 3, 4, 4), (3, 2, 3, 3)),
    ("unfold", (0, 3, 5, 5), None),
])
def test_empty(fn, xs, ws, device):
    x = _r(xs)
    args = (2,) if ws is None else (_r(ws, seed=1),)
    ex = ember.tensor(x, device=device, requires_grad=True)
    ey = getattr(EF, fn)(ex, *(a if isinstance(a, int) else ember.tensor(a, device=device) for a in args))
    ty = getattr(TF, fn)(torch.from_numpy(x), *(a if isinstance(a, int) else torch.from_numpy(a) for a in args))
    assert_same(ey, ty)
    ey.sum().backward()
    assert ex.grad.shape == ex.shape


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("geometry", [
    (((7,), (3,), (3,), (2,), (1,), (2,))),
    (((5, 6), (5, 6), (2, 3), (1, 1), (0, 1), (1, 1))),
    (((4, 5, 6), (2, 3, 2), (2, 2, 3), (1, 2, 1), (1, 0, 2), (2, 1, 3))),
    (((3, 3), (5, 4), (1, 2), (1, 1), (1, 1), (1, 1))),   # blocks beyond the image: 'same'-style tail
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_cpu_kernels_match_generic(geometry, dtype):
    """The Cython pair equals the generic xp pair (the one CuPy runs) and is its adjoint."""
    from ember.plugins.conv import _im2col, kernels as U

    g_i2c, g_c2i = U._im2col_generic(np), U._col2im_generic(np)
    nd = len(geometry[0])
    x = _r((2, 3) + geometry[0], dtype)
    cols = g_i2c(x, *geometry)
    np.testing.assert_array_equal(_im2col.im2col(x, *geometry), cols)
    c = _r(cols.shape, dtype, 1)
    np.testing.assert_allclose(_im2col.col2im(c, *geometry), g_c2i(c, *geometry), **(dict(rtol=2e-3, atol=4e-3) if dtype == np.float16 else dict(rtol=1e-12)))
    assert _im2col.col2im(c, *geometry).shape == x.shape and _im2col.col2im(c, *geometry).dtype == dtype
    if dtype == np.float64:  # <im2col(x), c> == <x, col2im(c)>
        assert np.isclose((cols * c).sum(), (x * g_c2i(c, *geometry)).sum())
    assert nd == len(geometry[1])


def test_cpu_kernel_rejects_bad_geometry():
    from ember.plugins.conv import _im2col

    with pytest.raises(ValueError):
        _im2col.im2col(np.zeros((1, 1, 4, 4)), (4, 5), (2, 2), (2, 2), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError):
        _im2col.col2im(np.zeros((1, 3, 4)), (4, 4), (2, 2), (2, 2), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError):
        _im2col.im2col(np.zeros((1, 1, 4, 4)), (4, 4), (2, 2), (2, 2), (0, 1), (0, 0), (1, 1))


# ------------------------------------------------------------------ modules
def _module_check(e_m, t_m, x, dtype, **fwd):
    t_m = t_m.to(torch.float64 if dtype == np.float64 else torch.float32)
    e_m = e_m.to(ember.float64 if dtype == np.float64 else ember.float32)
    names = [n for n, _ in t_m.named_parameters()]
    params = [as_numpy(p).astype(dtype) for p in t_m.parameters()]

    def e_fn(x, *ps):
        for n, p in zip(names, ps):
            e_m._parameters[n] = p
        return e_m(x, **fwd)

    def t_fn(x, *ps):
        return torch.func.functional_call(t_m, dict(zip(names, ps)), (x,), fwd)

    check(e_fn, [x] + params, t_fn, gradcheck=False)


def _has_pad():
    try:
        EF.pad
    except AttributeError:
        return False
    return True


MODULE_CASES = [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 9), {}),
    ("Conv1d", (4, 4, 3), dict(padding="same", groups=4, padding_mode="reflect"), (2, 4, 7), {}),
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="circular", bias=False), (2, 3, 5, 6), {}),
    ("Conv2d", (2, 4, (2, 3)), dict(padding=(1, 2), padding_mode="replicate", dilation=(2, 1)), (1, 2, 5, 6), {}),
    ("Conv2d", (2, 4, 2), dict(padding="same", padding_mode="reflect"), (2, 2, 4, 5), {}),
    ("Conv2d", (4, 6, 3), dict(stride=2, groups=2), (3, 4, 7, 7), {}),
    ("Conv3d", (2, 3, 2), dict(padding=1, padding_mode="circular"), (1, 2, 3, 4, 3), {}),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=2), (2, 3, 4), dict(output_size=[10])),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 4, 3), dict(output_size=(8, 6))),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=3, groups=2, bias=False, dilation=2), (4, 3, 2), dict(output_size=[4, 11, 8])),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2, output_padding=1), (1, 2, 2, 2, 3), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kw,xs,fwd", MODULE_CASES)
def test_modules(name, args, kw, xs, fwd, dtype):
    if kw.get("padding_mode", "zeros") != "zeros" and not _has_pad():
        pytest.skip("ember.nn.functional.pad is not available yet")
    _module_check(getattr(ember.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw),
                  _r(xs, dtype), dtype, **fwd)


@pytest.mark.parametrize("name,args,kw", [
    ("Conv1d", (3, 6, 3), dict(groups=3)),
    ("Conv2d", (3, 4, (3, 5)), dict(stride=2, padding=1, dilation=2, bias=False)),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="circular")),
    ("Conv2d", (3, 4, 3), dict(padding="valid")),
    ("Conv3d", (2, 4, 3), dict(stride=(1, 2, 1))),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, output_padding=1, dilation=2, bias=False)),
    ("ConvTranspose2d", (4, 4, 3), dict(stride=2, groups=2)),
    ("ConvTranspose3d", (2, 4, 3), dict(padding=1)),
    ("Unfold", (3,), dict(padding=1)),
    ("Fold", ((4, 5), 2), dict(stride=(1, 2))),
])
def test_repr_state_dict_and_attributes(name, args, kw):
    e, t = getattr(ember.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for key, v in t.state_dict().items():
        assert tuple(e.state_dict()[key].shape) == tuple(v.shape)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "transposed",
                 "output_padding", "groups", "padding_mode", "output_size"):
        if hasattr(t, attr):
            assert getattr(e, attr) == getattr(t, attr), attr
    if hasattr(t, "_reversed_padding_repeated_twice"):
        assert list(e._reversed_padding_repeated_twice) == list(t._reversed_padding_repeated_twice)


def test_default_init_bounds():
    """kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias."""
    ember.manual_seed(0)
    for m, fan_in in ((ember.nn.Conv2d(8, 16, 3, groups=2), 4 * 9), (ember.nn.ConvTranspose2d(8, 6, 3, groups=2), 3 * 9)):
        bound = 1 / np.sqrt(fan_in)
        w, b = as_numpy(m.weight), as_numpy(m.bias)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
        assert np.abs(b).max() <= bound and np.abs(b).std() > 0
        assert m.weight.requires_grad and m.weight.dtype == ember.float32


def test_module_device_dtype_arguments(device):
    m = ember.nn.Conv1d(2, 3, 2, dtype=ember.float64, device=device)
    assert m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64
    assert m.weight.device == placed(device) and m.bias.device == placed(device)
    y = m(ember.randn(1, 2, 4, dtype=ember.float64, device=device))
    assert y.dtype == ember.float64 and y.device == placed(device)


# ------------------------------------------------------------------ errors
def _t(lib, *shape):
    return lib.zeros(*shape)


FUNCTIONAL_ERRORS = {
    "wrong dims": lambda L, F: F.conv2d(_t(L, 3, 8), _t(L, 4, 3, 3, 3)),
    "5d to conv2d": lambda L, F: F.conv2d(_t(L, 1, 2, 3, 8, 8), _t(L, 4, 3, 3, 3)),
    "channel mismatch": lambda L, F: F.conv2d(_t(L, 2, 4, 8, 8), _t(L, 4, 3, 3, 3)),
    "unbatched mismatch": lambda L, F: F.conv2d(_t(L, 4, 8, 8), _t(L, 4, 3, 3, 3)),
    "groups divide": lambda L, F: F.conv2d(_t(L, 2, 4, 8, 8), _t(L, 4, 2, 3, 3), groups=3),
    "groups zero": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3), groups=0),
    "kernel too big": lambda L, F: F.conv2d(_t(L, 2, 3, 2, 2), _t(L, 4, 3, 3, 3)),
    "stride zero": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3), stride=0),
    "dilation zero": lambda L, F: F.conv1d(_t(L, 2, 3, 8), _t(L, 4, 3, 3), dilation=0),
    "negative padding": lambda L, F: F.conv3d(_t(L, 1, 3, 4, 4, 4), _t(L, 4, 3, 1, 1, 1), padding=-1),
    "same strided": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3), padding="same", stride=2),
    "bad padding string": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3), padding="full"),
    "bias size": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3), _t(L, 3)),
    "stride length": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3), stride=(1, 1, 1)),
    "dtype mismatch": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 4, 3, 3, 3).double()),
    "zero out channels": lambda L, F: F.conv2d(_t(L, 2, 3, 8, 8), _t(L, 0, 3, 3, 3)),
    "empty spatial": lambda L, F: F.conv2d(_t(L, 2, 3, 0, 8), _t(L, 4, 3, 3, 3)),
    "T output_padding": lambda L, F: F.conv_transpose2d(_t(L, 2, 3, 4, 4), _t(L, 3, 4, 3, 3), stride=2,
                                                       output_padding=2),
    "T output_padding stride 1": lambda L, F: F.conv_transpose1d(_t(L, 2, 3, 4), _t(L, 3, 4, 3), output_padding=1),
    "T channels": lambda L, F: F.conv_transpose2d(_t(L, 2, 4, 4, 4), _t(L, 3, 4, 3, 3)),
    "T groups": lambda L, F: F.conv_transpose2d(_t(L, 2, 3, 4, 4), _t(L, 3, 4, 3, 3), groups=2),
    "T too small": lambda L, F: F.conv_transpose2d(_t(L, 1, 3, 1, 1), _t(L, 3, 4, 3, 3), padding=3),
    "T bias": lambda L, F: F.conv_transpose2d(_t(L, 2, 3, 4, 4), _t(L, 3, 4, 3, 3), _t(L, 3)),
    "T padding string": lambda L, F: F.conv_transpose2d(_t(L, 2, 3, 4, 4), _t(L, 3, 4, 3, 3), padding="same"),
    "unfold 2d": lambda L, F: F.unfold(_t(L, 1, 1, 3, 8, 8), 2),
    "unfold too big": lambda L, F: F.unfold(_t(L, 1, 1, 3, 3), 4),
    "unfold kernel 0": lambda L, F: F.unfold(_t(L, 1, 1, 3, 3), 0),
    "unfold stride 0": lambda L, F: F.unfold(_t(L, 1, 1, 3, 3), 2, stride=0),
    "unfold padding": lambda L, F: F.unfold(_t(L, 1, 1, 3, 3), 2, padding=-1),
    "unfold dilation": lambda L, F: F.unfold(_t(L, 1, 1, 3, 3), 2, dilation=0),
    "fold 4d": lambda L, F: F.fold(_t(L, 1, 2, 12, 49), (8, 8), 2),
    "fold channels": lambda L, F: F.fold(_t(L, 2, 13, 49), (8, 8), 2),
    "fold blocks": lambda L, F: F.fold(_t(L, 2, 12, 48), (8, 8), 2),
    "fold output too small": lambda L, F: F.fold(_t(L, 2, 12, 49), (1, 1), 2),
}


@pytest.mark.parametrize("case", list(FUNCTIONAL_ERRORS))
def test_functional_errors(case):
    ours, theirs = same_outcome(lambda L: FUNCTIONAL_ERRORS[case](L, L.nn.functional), raises=True)
    e_msg, t_msg = ours.message, theirs.message
    if "channels instead" in t_msg or "Kernel size can't" in t_msg or "output padding must" in t_msg:
        assert e_msg == t_msg


MODULE_ERRORS = {
    "groups in": lambda L: L.nn.Conv2d(3, 4, 3, groups=2),
    "groups out": lambda L: L.nn.Conv2d(4, 3, 3, groups=2),
    "groups zero": lambda L: L.nn.Conv1d(4, 4, 3, groups=0),
    "same strided": lambda L: L.nn.Conv2d(4, 4, 3, padding="same", stride=2),
    "bad padding string": lambda L: L.nn.Conv2d(4, 4, 3, padding="full"),
    "bad padding mode": lambda L: L.nn.Conv3d(4, 4, 3, padding_mode="mirror"),
    "transpose padding mode": lambda L: L.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
    "output_size length": lambda L: L.nn.ConvTranspose2d(3, 4, 3, stride=2)(L.zeros(2, 3, 8, 8), output_size=[1, 18, 18]),
    "output_size too big": lambda L: L.nn.ConvTranspose2d(3, 4, 3, stride=2)(L.zeros(2, 3, 8, 8), output_size=[19, 19]),
    "output_size too small": lambda L: L.nn.ConvTranspose1d(3, 4, 3, stride=2)(L.zeros(3, 8), output_size=[16]),
}


@pytest.mark.parametrize("case", list(MODULE_ERRORS))
def test_module_errors(case):
    ours, theirs = same_outcome(MODULE_ERRORS[case], raises=True)
    e_msg, t_msg = ours.message, theirs.message
    if "{" not in t_msg:  # torch prints sets of choices in hash order
        assert e_msg.replace("ember.", "torch.") == t_msg


# ------------------------------------------------------------------ every backend
@pytest.mark.parametrize("name,xs,ws,kw", [
    ("conv2d", (2, 3, 6, 5), (4, 3, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2))),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 1, 3, 3), dict(stride=2, groups=2, output_padding=1)),
    ("conv3d", (1, 2, 3, 4, 3), (2, 2, 2, 2, 2), dict(padding="same")),
])
def test_conv_on_device(name, xs, ws, kw, device):
    e_fn, t_fn = _fn(name, **kw)
    check(e_fn, [_r(xs), _r(ws, seed=1)], t_fn, device=device, gradcheck=False)


def test_unfold_fold_on_device(device):
    e_fn, t_fn = _fn("unfold", kernel_size=(2, 3), padding=1, stride=(1, 2))
    check(e_fn, [_r((2, 3, 4, 5))], t_fn, device=device, gradcheck=False)
    e_fn, t_fn = _fn("fold", output_size=(4, 5), kernel_size=2, stride=(2, 1))
    check(e_fn, [_r((2, 8, 8))], t_fn, device=device, gradcheck=False)


def test_module_on_device(device):
    t = torch.nn.Conv2d(3, 4, 3, padding=1).double()
    e = ember.nn.Conv2d(3, 4, 3, padding=1).double().to(device)
    e.load_state_dict({k: ember.tensor(as_numpy(v)) for k, v in t.state_dict().items()})
    x = _r((2, 3, 5, 5))
    ey = e(ember.tensor(x, device=device))
    assert ey.device.type == device
    np.testing.assert_allclose(as_numpy(ey), as_numpy(t(torch.from_numpy(x))), rtol=1e-10, atol=1e-12)
