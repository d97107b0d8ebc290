"""RMSNorm and F.rms_norm against torch 2.13: outputs, input and weight gradients,
double backward and gradcheck (float64), eps None or given, with and without a
weight, normalized shapes of one to three dims; the module's parameters, repr and
state dict; torch's errors; and the Cython kernel against the generic one."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.plugins.normalization import kernels
from tests.oracle import assert_same, check, same_outcome, tol, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0, loc=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) + loc).astype(dtype)


def _lib(x):
    return EF if isinstance(x, ember.Tensor) else TF


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)),
                                        ((2, 2, 3, 4), (2, 3, 4)), ((3, 1), (1,)), ((1, 37), (37,))])
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_functional(shape, norm, weighted, eps, dtype):
    inputs = [_r(shape, dtype, loc=0.5)] + ([_r(norm, dtype, 1, loc=1.0)] if weighted else [])

    def fn(x, w=None):
        return _lib(x).rms_norm(x, list(norm), w, eps)

    small = int(np.prod(shape)) <= 24
    check(fn, inputs, double=dtype == np.float64, gradcheck=small)


def test_rms_norm_gradcheck_and_gradgradcheck(device):
    x = ember.tensor(_r((3, 2, 4)), requires_grad=True, device=device)
    w = ember.tensor(_r((2, 4), seed=1, loc=1.0), requires_grad=True, device=device)
    fn = lambda x, w: EF.rms_norm(x, (2, 4), w, 1e-4)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert ember.autograd.gradgradcheck(fn, (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_rms_norm_long_rows_and_many_threads(device):
    """Rows longer than the kernel's blocks, row counts not a multiple of its chunks."""
    for dtype, (rows, k) in [(np.float32, (133, 1031)), (np.float64, (70, 300))]:
        x, w, g = _r((rows, k), dtype, loc=2.0), _r((k,), dtype, 1), _r((rows, k), dtype, 2)
        xe = ember.tensor(x, device=device, requires_grad=True)
        we = ember.tensor(w, device=device, requires_grad=True)
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        ye, yt = EF.rms_norm(xe, (k,), we), TF.rms_norm(xt, (k,), wt)
        assert_same(ye, yt)
        ye.backward(ember.tensor(g, device=device))
        yt.backward(torch.tensor(g))
        assert_same(xe.grad, xt.grad, "dx")
        bound = tol(dtype)
        assert_same(we.grad, wt.grad, "dw", tol=dict(rtol=bound["rtol"] * 10, atol=bound["atol"] * rows))


def test_eps_none_is_the_dtypes_machine_epsilon():
    x = np.full((2, 3), 1e-4)   # small enough that eps shows
    for dtype in (np.float32, np.float64):
        same_outcome(lambda a: _lib(a).rms_norm(a, [3]), [x.astype(dtype)])
    # float16 computes in float32, with float32's epsilon
    same_outcome(lambda a: _lib(a).rms_norm(a.half(), [3]), [x], tol=dict(rtol=1e-3, atol=1e-3))


def test_weight_of_another_dtype_gives_the_inputs_dtype():
    x, w = _r((3, 4), np.float32), _r((4,), np.float64, 1)
    same_outcome(lambda a, b: _lib(a).rms_norm(a, [4], b), [x, w], quiet=True)
    same_outcome(lambda a, b: _lib(a).rms_norm(a, [4], b), [x.astype(np.float64), w.astype(np.float32)])


def test_empty_input():
    same_outcome(lambda a: _lib(a).rms_norm(a, [4]), [np.zeros((0, 4))])
    same_outcome(lambda a: _lib(a).rms_norm(a, [0]), [np.zeros((3, 0))])


def test_one_graph_node_named_as_torchs_last():
    x = ember.randn(3, 4, requires_grad=True)
    y = EF.rms_norm(x, [4], ember.ones(4, requires_grad=True))
    assert type(y.grad_fn).__name__ == type(TF.rms_norm(torch.randn(3, 4, requires_grad=True), [4]).grad_fn).__name__
    assert y.grad_fn.next_functions[0][0].variable is x


@pytest.mark.parametrize("case", [
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), [5]),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), [2, 4]),
    lambda L: L.nn.functional.rms_norm(L.ones(4), [3, 4]),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), []),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), [4], L.ones(3)),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), [4], L.ones(1, 4)),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4, dtype=L.long), [4]),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), [4.0]),
    lambda L: L.nn.functional.rms_norm(L.ones(3, 4), [4], eps="a"),
    lambda L: L.nn.functional.rms_norm([1.0, 2.0], [2]),
    lambda L: L.nn.RMSNorm(4)(L.ones(3, 5)),
], ids=["input-shape", "input-rank", "input-short", "empty-shape", "weight-shape", "weight-rank",
        "long-input", "float-size", "str-eps", "list-input", "module-shape"])
def test_errors_match_torch(case):
    same_outcome(case, raises=True, quiet=True)


def test_messages_name_the_problem():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*5\]"):
        EF.rms_norm(ember.ones(3, 4), [5])
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape"):
        EF.rms_norm(ember.ones(3, 4), [4], ember.ones(3))
    with pytest.raises(NotImplementedError, match="\"rms_norm\" not implemented for 'Long'"):
        EF.rms_norm(ember.ones(3, 4, dtype=ember.long), [4])
    with pytest.raises(TypeError, match="eps"):
        ember.nn.RMSNorm(4, eps="a")
    with pytest.raises(TypeError, match="normalized_shape"):
        ember.nn.RMSNorm("4")


# ---------------------------------------------------------------- the module

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,norm,kw", [((4, 6), 6, {}), ((2, 3, 4), [3, 4], dict(eps=1e-2)),
                                           ((2, 3, 4), (4,), dict(elementwise_affine=False))])
def test_rms_norm_module(shape, norm, kw, dtype, device):
    t_dt = torch.float32 if dtype == np.float32 else torch.float64
    e_dt = ember.float32 if dtype == np.float32 else ember.float64
    t_m = torch.nn.RMSNorm(norm, dtype=t_dt, **kw)
    e_m = ember.nn.RMSNorm(norm, dtype=e_dt, device=device, **kw)
    assert repr(e_m) == repr(t_m)
    assert list(e_m.state_dict()) == list(t_m.state_dict())
    with torch.no_grad():   # a trained weight: not all ones
        for p in t_m.parameters():
            p.mul_(torch.tensor(_r(tuple(p.shape), dtype, 3, loc=1.0)))
    e_m.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_m.state_dict().items()})
    x = _r(shape, dtype)
    xe, xt = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e_m(xe), t_m(xt)
    assert_same(ye, yt)
    g = _r(shape, dtype, 4)
    ye.backward(ember.tensor(g, device=device))
    yt.backward(torch.tensor(g))
    assert_same(xe.grad, xt.grad, "dx")
    for (name, pe), pt in zip(e_m.named_parameters(), t_m.parameters()):
        assert_same(pe.grad, pt.grad, name)


def test_module_attributes():
    m = ember.nn.RMSNorm([2, 3])
    assert m.normalized_shape == (2, 3) and m.eps is None and m.elementwise_affine
    assert m.weight.shape == (2, 3) and m.weight.tolist() == [[1.0] * 3] * 2
    assert dict(m.named_parameters()).keys() == {"weight"}
    off = ember.nn.RMSNorm(3, elementwise_affine=False)
    assert off.weight is None and not list(off.parameters())


# ---------------------------------------------------------------- kernels

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [True, False])
def test_cython_kernel_matches_the_generic_one(dtype, weighted):
    _norm = pytest.importorskip("ember.plugins.normalization._norm")
    x, g = _r((37, 301), dtype, loc=3.0), _r((37, 301), dtype, 1)
    w = _r((301,), dtype, 2) if weighted else None
    forward, backward = kernels._rms_forward_factory(np), kernels._rms_backward_factory(np)
    bound = tol(dtype)
    y, ms = _norm.rms_norm_forward(x, w, 1e-5)
    y0, ms0 = forward(x, w, 1e-5)
    np.testing.assert_allclose(y, y0, **bound)
    np.testing.assert_allclose(ms, ms0, rtol=bound["rtol"])
    for want_dx in (True, False):
        dx, dw = _norm.rms_norm_backward(g, x, ms, 1e-5, w, want_dx)
        dx0, dw0 = backward(g, x, ms0, 1e-5, w, want_dx)
        np.testing.assert_allclose(dw, dw0, rtol=bound["rtol"] * 10, atol=bound["atol"] * 37)
        if want_dx:
            np.testing.assert_allclose(dx, dx0, **bound)
        else:
            assert dx is None
