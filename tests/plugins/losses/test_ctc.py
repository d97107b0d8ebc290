"""F.ctc_loss / nn.CTCLoss against torch 2.13: values, gradients, errors."""

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, current_device, same_outcome, tol, torch
from tests.plugins.library_tensors import lib_tensor

F = ember.nn.functional
TF = torch.nn.functional


def _case(rng, T=12, N=5, C=6, S=4, blank=0):
    """Random log-probabilities, padded targets and lengths (some edge items)."""
    x = rng.standard_normal((T, N, C))
    labels = np.array([c for c in range(C) if c != blank])
    targets = rng.choice(labels, size=(N, S))
    targets[0, 1] = targets[0, 0]             # a repeated label needs a blank between
    input_lengths = rng.integers(S * 2 + 1, T + 1, N)
    target_lengths = rng.integers(1, S + 1, N)
    input_lengths[-1], target_lengths[-1] = T, S
    return x, targets, input_lengths, target_lengths


def _run(lib, x, targets, il, tl, *, normalise=True, concat=False, lengths_as="tensor",
         go=None, **kw):
    """Loss and gradient w.r.t. the log-probabilities, in ember (on the test's device) or torch."""
    device = current_device()
    xt = lib_tensor(lib, x, device, requires_grad=True)
    lp = xt.log_softmax(-1) if normalise else xt
    if concat:
        tg = lib_tensor(lib, np.concatenate([t[:n] for t, n in zip(targets, tl)]), device)
    else:
        tg = lib_tensor(lib, targets, device)
    if lengths_as == "tensor":
        il_, tl_ = lib_tensor(lib, il, device), lib_tensor(lib, tl, device)
    else:
        il_, tl_ = tuple(int(v) for v in il), tuple(int(v) for v in tl)
    fn = F.ctc_loss if lib is ember else TF.ctc_loss
    loss = fn(lp, tg, il_, tl_, **kw)
    if go is None:
        loss.sum().backward()
    else:
        loss.backward(lib_tensor(lib, go, device))
    return loss, xt.grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("concat", [False, True])
def test_matches_torch(dtype, reduction, concat):
    x, tg, il, tl = _case(np.random.default_rng(1))
    same_outcome(lambda L: _run(L, x.astype(dtype), tg, il, tl, concat=concat, reduction=reduction), raises=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_raw_inputs_gradient_formula(dtype):
    # torch's backward is exp(log_probs) - occupancy, also for unnormalised input
    x, tg, il, tl = _case(np.random.default_rng(2))
    go = np.random.default_rng(3).standard_normal(len(il)).astype(dtype)
    same_outcome(lambda L: _run(L, x.astype(dtype), tg, il, tl, normalise=False, reduction="none", go=go),
                 raises=False)


@pytest.mark.parametrize("blank", [3, 5])
def test_blank_not_zero(blank):
    x, tg, il, tl = _case(np.random.default_rng(4), blank=blank)
    assert (tg != blank).all() and (tg == 0).any()
    same_outcome(lambda L: _run(L, x, tg, il, tl, blank=blank, reduction="mean"), raises=False)


@pytest.mark.parametrize("blank", [0, 1])
def test_targets_containing_blank_are_computed_as_torch(blank, device):
    rng = np.random.default_rng(3)
    lp = rng.standard_normal((12, 3, 5))
    targets = np.array([[1, 0, 2], [0, 0, 3], [4, 1, 1]])
    lengths = ([12, 10, 12], [3, 2, 3])
    e = ember.tensor(lp, requires_grad=True, device=device)
    t = torch.tensor(lp, requires_grad=True)
    le = ember.nn.functional.ctc_loss(e.log_softmax(2), ember.tensor(targets, device=device), *lengths, blank=blank,
                                      reduction="none")
    lt = torch.nn.functional.ctc_loss(t.log_softmax(2), torch.tensor(targets), *lengths, blank=blank,
                                      reduction="none")
    le.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(as_numpy(le), as_numpy(lt), **tol(np.float64))
    np.testing.assert_allclose(as_numpy(e.grad), as_numpy(t.grad), **tol(np.float64))


def test_tuple_lengths():
    x, tg, il, tl = _case(np.random.default_rng(5))
    same_outcome(lambda L: _run(L, x, tg, il, tl, lengths_as="tuple", reduction="sum"), raises=False)


def test_large_batch_parallel_path():
    x, tg, il, tl = _case(np.random.default_rng(6), T=50, N=16, C=20, S=10)
    same_outcome(lambda L: _run(L, x.astype(np.float32), tg, il, tl, reduction="mean"), raises=False)


def _impossible(rng):
    x, tg, il, tl = _case(rng)
    il[1], tl[1] = 2, 3                      # 3 labels cannot fit into 2 frames
    tg[2, :3] = 4
    il[2], tl[2] = 4, 3                      # "4 4 4" needs 5 frames
    il[3], tl[3] = 0, 2                      # no frames at all
    return x, tg, il, tl


def test_impossible_alignment_is_infinite():
    x, tg, il, tl = _impossible(np.random.default_rng(7))
    le, ge = same_outcome(lambda L: _run(L, x, tg, il, tl, reduction="none"), raises=False)[0].value
    loss = as_numpy(le)
    assert np.isinf(loss[1:4]).all() and np.isfinite(loss[[0, 4]]).all()
    g = as_numpy(ge)
    assert np.isnan(g[:2, 1]).all()           # torch: nan where frames exist
    assert (g[:, 3] == 0).all()               # no frames: zero gradient


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_infinity(reduction, dtype):
    x, tg, il, tl = _impossible(np.random.default_rng(8))
    le, ge = same_outcome(lambda L: _run(L, x.astype(dtype), tg, il, tl, reduction=reduction, zero_infinity=True),
                          raises=False)[0].value
    assert np.isfinite(as_numpy(le)).all() and np.isfinite(as_numpy(ge)).all()
    assert (as_numpy(ge)[:, 1:4] == 0).all()


def test_empty_targets_and_zero_lengths():
    x, tg, il, tl = _case(np.random.default_rng(9))
    tl[0] = 0
    il[1], tl[1] = 0, 0
    le, _ = same_outcome(lambda L: _run(L, x, tg, il, tl, reduction="none"), raises=False)[0].value
    assert as_numpy(le)[1] == 0


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("lengths", ["tensor", "tuple"])
def test_unbatched(reduction, lengths, device):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((9, 5))
    tg = np.array([1, 2, 2, 4])
    res = []
    for lib in (ember, torch):
        xt = lib_tensor(lib, x, device, requires_grad=True)
        il, tl = (lib_tensor(lib, 8, device), lib_tensor(lib, 4, device)) if lengths == "tensor" else ((8,), (4,))
        fn = F.ctc_loss if lib is ember else TF.ctc_loss
        loss = fn(xt.log_softmax(-1), lib_tensor(lib, tg, device), il, tl, reduction=reduction)
        loss.backward()
        res.append((loss, xt.grad))
    (le, ge), (lt, gt) = res
    assert tuple(le.shape) == tuple(lt.shape) == ()
    np.testing.assert_allclose(as_numpy(le), as_numpy(lt), rtol=1e-10)
    np.testing.assert_allclose(as_numpy(ge), as_numpy(gt), rtol=1e-9, atol=1e-12)


def test_gradcheck_through_log_softmax(device):
    # exp(log_probs) - occupancy is the true gradient once log_softmax is applied
    x, tg, il, tl = _case(np.random.default_rng(11), T=6, N=3, C=4, S=2)
    xt = ember.tensor(x, requires_grad=True, device=device)
    tg_, il_, tl_ = (ember.tensor(a, device=device) for a in (tg, il, tl))
    fn = lambda v: F.ctc_loss(v.log_softmax(-1), tg_, il_, tl_, reduction="none")
    assert ember.autograd.gradcheck(fn, [xt], eps=1e-6, atol=1e-5, rtol=1e-3)


def test_module(device):
    x, tg, il, tl = _case(np.random.default_rng(12))
    m = ember.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert (m.blank, m.reduction, m.zero_infinity) == (0, "sum", True)
    assert repr(m) == repr(torch.nn.CTCLoss()) == "CTCLoss()"
    lt = torch.nn.CTCLoss(reduction="sum", zero_infinity=True)(
        torch.tensor(x).log_softmax(2), torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    tg_, il_, tl_ = (ember.tensor(a, device=device) for a in (tg, il, tl))
    le = m(ember.tensor(x, device=device).log_softmax(2), tg_, il_, tl_)
    np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-12)


def test_backward_not_differentiable_twice(device):
    x, tg, il, tl = _case(np.random.default_rng(13))
    xt = ember.tensor(x, requires_grad=True, device=device)
    loss = F.ctc_loss(xt.log_softmax(2), *(ember.tensor(a, device=device) for a in (tg, il, tl)))
    (g,) = ember.autograd.grad(loss, [xt], create_graph=True)
    assert g.shape == xt.shape


# --------------------------------------------------------------------------
# Errors: raised before the kernel runs, never a crash.

def _args(device, **change):
    """ctc_loss's arguments on ``device``, some of them changed."""
    rng = np.random.default_rng(14)
    a = dict(log_probs=ember.tensor(rng.standard_normal((6, 3, 5))).log_softmax(2),
             targets=ember.tensor([[1, 2, 3], [2, 2, 4], [4, 1, 1]]),
             input_lengths=ember.tensor([6, 6, 5]), target_lengths=ember.tensor([3, 2, 1]))
    a.update(change)
    return {k: v.to(device) if isinstance(v, ember.Tensor) else v for k, v in a.items()}


@pytest.mark.parametrize("change, exc, message", [
    (dict(input_lengths=ember.tensor([7, 6, 6])), RuntimeError,
     "Expected input_lengths to have value at most 6, but got value 7"),
    (dict(input_lengths=ember.tensor([6, -1, 6])), RuntimeError,
     "Expected input_lengths to have value at least 0, but got value -1"),
    (dict(target_lengths=ember.tensor([4, 1, 1])), RuntimeError,
     "Expected tensor to have size at least 4 at dimension 1, but got size 3"),
    (dict(target_lengths=ember.tensor([1, -2, 1])), RuntimeError,
     "Expected target_lengths to have value at least 0, but got value -2"),
    (dict(input_lengths=ember.tensor([6, 6])), RuntimeError, "input_lengths must be of size batch_size"),
    (dict(target_lengths=(1, 1)), RuntimeError, "target_lengths must be of size batch_size"),
    (dict(targets=ember.tensor([[1, 2, 3], [2, 2, 4]])), RuntimeError,
     "Expected tensor to have size 3 at dimension 0, but got size 2"),
    (dict(targets=ember.tensor([1, 2, 3, 2, 2])), RuntimeError,
     "Expected tensor to have size 6 at dimension 0, but got size 5"),
    (dict(targets=ember.tensor([[[1, 2, 3]]] * 3)), RuntimeError, "Expected 1 to 2 dimensions"),
    (dict(targets=ember.tensor([[1, 9, 3], [2, 2, 4], [4, 1, 1]])), RuntimeError,
     r"target 0 contains a label outside \[0, 5\) \(9\)"),
    (dict(targets=ember.tensor([[1, 2, 3], [-3, 2, 4], [4, 1, 1]])), RuntimeError,
     r"target 1 contains a label outside"),
    (dict(blank=5), RuntimeError, "blank must be in label range"),
    (dict(blank=-1), RuntimeError, "blank must be in label range"),
    (dict(input_lengths=ember.tensor([6.0, 6.0, 6.0])), RuntimeError, "input_lengths must be integral"),
    (dict(input_lengths=(6, 6.5, 6)), TypeError, "input_lengths"),
    (dict(log_probs=ember.zeros(6, 3, 5, dtype=ember.float16)), NotImplementedError,
     "not implemented for 'Half'"),
    (dict(log_probs=ember.zeros(6, 3, 0)), RuntimeError, "log_probs tensor must not be empty"),
    (dict(log_probs=ember.zeros(2, 6, 3, 5)), RuntimeError, "Expected 3-dimensional tensor"),
    (dict(reduction="avg"), ValueError, "avg is not a valid value for reduction"),
])
def test_errors(change, exc, message, device):
    with pytest.raises(exc, match=message):
        F.ctc_loss(**_args(device, **change))


def test_padding_beyond_target_length_is_not_read(device):
    # labels past target_lengths (here blank and out-of-range) are padding
    a = _args(device, targets=ember.tensor([[1, 2, 3], [2, 2, 0], [4, 99, -1]]))
    loss = F.ctc_loss(**a, reduction="none")
    b = _args(device, targets=ember.tensor([[1, 2, 3], [2, 2, 1], [4, 1, 1]]))
    np.testing.assert_array_equal(as_numpy(loss), as_numpy(F.ctc_loss(**b, reduction="none")))


def test_kernel_rejects_bad_indices_directly():
    from ember.plugins.losses import _ctc

    lp = np.zeros((4, 2, 3))
    la, nll = np.empty((2, 4, 5)), np.empty(2)
    i64 = lambda *v: np.array(v, dtype=np.int64)
    good = (i64(1, 2, 1, 2), i64(0, 2), i64(4, 4), i64(2, 2))
    _ctc.ctc_forward(lp, *good, 0, la, nll)
    for bad in [(i64(1, 2, 1, 2), i64(0, 3), i64(4, 4), i64(2, 2)),     # past the labels
                (i64(1, 2, 1, 7), i64(0, 2), i64(4, 4), i64(2, 2)),     # class 7 of 3
                (i64(1, 2, 1, 2), i64(0, 2), i64(4, 5), i64(2, 2)),     # 5 frames of 4
                (i64(1, 2, 1, 2), i64(0, 2), i64(4, 4), i64(2, 3))]:    # log_alpha too small
        with pytest.raises(ValueError):
            _ctc.ctc_forward(lp, *bad, 0, la, nll)
    with pytest.raises(ValueError, match="blank"):
        _ctc.ctc_forward(lp, *good, 3, la, nll)
    with pytest.raises(ValueError):
        _ctc.ctc_forward(lp, *good, 0, np.empty((2, 3, 5)), nll)
    with pytest.raises(ValueError, match="dtype mismatch"):     # float32 alpha, float64 input
        _ctc.ctc_forward(lp, *good, 0, la.astype(np.float32), nll)


def test_inplace_change_before_backward_is_an_error(device):
    x, tg, il, tl = _case(np.random.default_rng(15))
    lp = ember.tensor(x, device=device).log_softmax(2).detach().requires_grad_()
    lp2 = lp * 1.0
    loss = F.ctc_loss(lp2, *(ember.tensor(a, device=device) for a in (tg, il, tl)))
    with ember.no_grad():
        lp2.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_kernel_rejects_overflowing_lengths():
    from ember.plugins.losses import _ctc

    lp, la, nll = np.zeros((4, 1, 3)), np.empty((1, 4, 5)), np.empty(1)
    i64 = lambda *v: np.array(v, dtype=np.int64)
    huge = 2 ** 62
    for offsets, tl in [((0,), (huge,)), ((huge,), (1,)), ((1,), (2 ** 63 - 1,))]:
        with pytest.raises(ValueError):
            _ctc.ctc_forward(lp, i64(1, 2), i64(*offsets), i64(4), i64(*tl), 0, la, nll)
