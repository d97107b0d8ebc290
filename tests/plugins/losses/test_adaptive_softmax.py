"""nn.AdaptiveLogSoftmaxWithLoss against torch 2.13 with the same weights."""

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, tol, torch


def _pair(device, dtype=np.float64, in_features=16, n_classes=20, cutoffs=(5, 12), div_value=2.0,
          head_bias=False, seed=0):
    """A torch module and an ember module (on ``device``) holding the same parameters."""
    torch.manual_seed(seed)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value=div_value,
                                             head_bias=head_bias)
    tm = tm.to(torch.float64 if dtype == np.float64 else torch.float32)
    em = ember.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value=div_value,
                                             head_bias=head_bias,
                                             dtype=ember.float64 if dtype == np.float64 else None)
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(state)
    return em.to(device), tm


def _close(e, t, dtype, what):
    assert tuple(e.shape) == tuple(t.shape), what
    np.testing.assert_allclose(as_numpy(e), as_numpy(t), **tol(dtype), err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("head_bias", [False, True])
@pytest.mark.parametrize("cutoffs, div_value", [((5, 12), 2.0), ((4,), 4.0), ((2, 8, 15), 1.5)])
def test_forward_backward_match_torch(dtype, head_bias, cutoffs, div_value, device):
    em, tm = _pair(device, dtype, cutoffs=cutoffs, div_value=div_value, head_bias=head_bias)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12, 16)).astype(dtype)
    target = rng.integers(0, 20, 12)
    target[:3] = [0, 19, cutoffs[0]]                     # both ends and a cluster start
    xe, xt = ember.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    oe, ot = em(xe, ember.tensor(target, device=device)), tm(xt, torch.tensor(target))
    assert oe._fields == ("output", "loss") and type(oe).__name__ == "_ASMoutput"
    _close(oe.output, ot.output, dtype, "output")
    _close(oe.loss, ot.loss, dtype, "loss")
    go = rng.standard_normal(12).astype(dtype)
    (oe.loss + (oe.output * ember.tensor(go, device=device)).sum()).backward()
    (ot.loss + (ot.output * torch.tensor(go)).sum()).backward()
    _close(xe.grad, xt.grad, dtype, "input grad")
    grads = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        _close(p.grad, grads[name].grad, dtype, f"grad of {name}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_prob_and_predict_match_torch(dtype, device):
    em, tm = _pair(device, dtype, head_bias=True)
    x = np.random.default_rng(2).standard_normal((40, 16)).astype(dtype) * 3
    xe, xt = ember.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    le, lt = em.log_prob(xe), tm.log_prob(xt)
    _close(le, lt, dtype, "log_prob")
    np.testing.assert_allclose(np.exp(as_numpy(le)).sum(1), 1, rtol=1e-5)
    le.sum().backward()
    lt.sum().backward()
    _close(xe.grad, xt.grad, dtype, "log_prob input grad")
    pe, pt = em.predict(xe), tm.predict(xt)
    assert pe.dtype == ember.int64
    np.testing.assert_array_equal(as_numpy(pe), as_numpy(pt))
    np.testing.assert_array_equal(as_numpy(pe), as_numpy(le).argmax(1))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_predict_all_in_cluster_or_all_in_shortlist(sign, device):
    em, tm = _pair(device, cutoffs=(5,))
    with torch.no_grad():
        tm.head.weight[5] = sign * 10       # the cluster's head logit dominates (or loses)
    em.load_state_dict({k: ember.tensor(v.numpy().copy(), device=device) for k, v in tm.state_dict().items()})
    x = np.abs(np.random.default_rng(3).standard_normal((6, 16)))
    pe, pt = em.predict(ember.tensor(x, device=device)), tm.predict(torch.tensor(x))
    np.testing.assert_array_equal(as_numpy(pe), as_numpy(pt))
    assert ((as_numpy(pe) >= 5).all() if sign > 0 else (as_numpy(pe) < 5).all())


def test_unbatched(device):
    em, tm = _pair(device)
    x = np.random.default_rng(4).standard_normal(16)
    for target in (3, 17):
        oe = em(ember.tensor(x, device=device), ember.tensor(target, device=device))
        ot = tm(torch.tensor(x), torch.tensor(target))
        assert tuple(oe.output.shape) == () and tuple(oe.loss.shape) == ()
        np.testing.assert_allclose(oe.output.item(), ot.output.item(), rtol=1e-12)
        np.testing.assert_allclose(oe.loss.item(), ot.loss.item(), rtol=1e-12)


def test_structure_and_repr_match_torch(device):
    em, tm = _pair(device, head_bias=True, cutoffs=(2, 8, 15), div_value=1.5)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert repr(em) == repr(tm)
    for attr in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias", "shortlist_size",
                 "n_clusters", "head_size"):
        assert getattr(em, attr) == getattr(tm, attr), attr


def test_gradcheck(device):
    em, _ = _pair(device, in_features=6, n_classes=7, cutoffs=(2, 4), div_value=2.0, head_bias=True)
    target = ember.tensor([0, 3, 6, 5, 1], device=device)
    x = ember.tensor(np.random.default_rng(5).standard_normal((5, 6)), requires_grad=True, device=device)
    assert ember.autograd.gradcheck(lambda v: em(v, target).output, [x], eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 20], [4, 4], [2.5]])
def test_bad_cutoffs(cutoffs):
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        ember.nn.AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs)
    with pytest.raises(ValueError):
        torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs)


@pytest.mark.parametrize("x_shape, target, message", [
    ((4, 16), [0, 1, 20, 3], r"Target values should be in \[0, 19\], but values in range \[0, 20\]"),
    ((4, 16), [0, -1, 2, 3], r"Target values should be in \[0, 19\], but values in range \[-1, 3\]"),
    ((4, 16), [0, 1, 2], "same size in the batch dimension"),
    ((4, 2, 16), [0, 1, 2, 3], "1D target tensor expects 2D input tensors"),
    ((4, 16), 3, "0D target tensor expects 1D input tensors"),
    ((4, 16), [[0, 1], [2, 3]], "0D or 1D target tensor expected"),
])
def test_bad_inputs(x_shape, target, message, device):
    em, tm = _pair(device)
    x = np.zeros(x_shape)
    with pytest.raises(RuntimeError, match=message):
        em(ember.tensor(x, device=device), ember.tensor(target, device=device))
    with pytest.raises(RuntimeError, match=message):
        tm(torch.tensor(x), torch.tensor(target))
