"""The losses family's cuda kernels (plugins/losses/cuda.py) compute what its
generic kernels compute, on the CPU stand-in for ``cupy`` (tests/cuda_emulator.py),
in float32 and float64: the class-index losses forward and backward, with and
without class weights, with ignored targets (all of them, too), label smoothing,
NLL and cross entropy, 2-d and K-d inputs; with the arguments ``F.nll_loss`` and
``F.cross_entropy`` really pass (replayed); and the calls they refuse go to the
generic kernels.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import REGISTRY
from ember.plugins.losses.cuda import MOST_CLASSES

from ...cuda_emulator import generic, on_device
from ..cuda_replay import assert_same_results, replayed_on_device

FLOATS = [np.float32, np.float64]
# the sums over classes run in another order than NumPy's (pairwise) ones
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
LOSS, GRAD = "losses.class_index_loss", "losses.class_index_loss_backward"
# (N, C, S) of the kernels' view; S > 1 is a K-d input flattened
SHAPES = [(5, 4, 1), (1, 1, 1), (3, 7, 6), (2, 3, 10), (0, 3, 1), (4, 256, 1)]


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def same(op, *args, dtype):
    """The cuda kernel (emulated) and the generic one agree on ``args``."""
    assert REGISTRY.kernels[(op, "cuda")].accepts(*args)
    assert_same_results(on_device(op)(*args), generic(op)(*args), **TOL[dtype])


def case(rng, shape, dtype, weighted, ignored):
    """Scores, targets (with ``ignored`` of them -100) and class weights or None."""
    n, c, s = shape
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.integers(0, c, (n, s)).astype(np.int64)
    t.reshape(-1)[:ignored] = -100
    w = rng.uniform(0.2, 2.0, c).astype(dtype) if weighted else None
    return x, t, w


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("normalize", [True, False])
def test_forward_and_backward(shape, weighted, smoothing, normalize, dtype, rng):
    x, t, w = case(rng, shape, dtype, weighted, ignored=2)
    options = (w, -100, smoothing, normalize)
    same(LOSS, x, t, *options, dtype=dtype)
    scale = rng.standard_normal(t.shape).astype(dtype)
    same(GRAD, x, t, *options, scale, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_one_scale_for_every_sample(smoothing, dtype, rng):
    # a reduced loss's gradient: the 0-d factor is read by every sample, not copied out
    x = rng.standard_normal((3, 4, 2)).astype(dtype)
    t = np.array([[0, 3], [2, -100], [1, 1]], np.int64)
    scale = np.array(0.37, dtype)
    same(GRAD, x, t, None, -100, smoothing, True, scale, dtype=dtype)
    want = generic(GRAD)(x, t, None, -100, smoothing, True, np.full(t.shape, scale, dtype))
    np.testing.assert_allclose(on_device(GRAD)(x, t, None, -100, smoothing, True, scale), want, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_every_target_ignored_gives_zeros(ignore_index, dtype, rng):
    x = rng.standard_normal((3, 4, 2)).astype(dtype)
    t = np.full((3, 2), ignore_index, np.int64)
    loss, weights = on_device(LOSS)(x, t, None, ignore_index, 0.1, True)
    assert not loss.any() and not weights.any()
    assert not on_device(GRAD)(x, t, None, ignore_index, 0.1, True, np.ones((3, 2), dtype)).any()


@pytest.mark.parametrize("dtype", FLOATS)
def test_targets_outside_the_classes_are_not_followed(dtype, rng):
    # the family reports them on the device; the kernels must not read through them
    x = rng.standard_normal((3, 4, 1)).astype(dtype)
    t = np.array([[9], [-3], [1]], np.int64)
    same(LOSS, x, t, None, -100, 0.0, True, dtype=dtype)
    same(GRAD, x, t, None, -100, 0.0, True, np.ones((3, 1), dtype), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_extreme_and_nan_scores(dtype):
    x = np.array([[[1e30], [-1e30], [0.0]], [[np.inf], [0.0], [1.0]], [[np.nan], [0.0], [1.0]]], dtype)
    t = np.array([[0], [1], [2]], np.int64)
    for smoothing in (0.0, 0.2):
        same(LOSS, x, t, None, -100, smoothing, True, dtype=dtype)
        same(GRAD, x, t, None, -100, smoothing, True, np.ones((3, 1), dtype), dtype=dtype)


MEAN = "losses.class_index_mean"


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ignored,weights", [(0, "some"), (3, "some"), (6, "some"), (2, "zero")],
                         ids=["none-ignored", "some-ignored", "all-ignored", "zero-weights"])
def test_mean_reduction(ignored, weights, dtype, rng):
    loss = rng.standard_normal((2, 3)).astype(dtype)
    target_weight = (rng.uniform(0.5, 2.0, (2, 3)) if weights == "some" else np.zeros((2, 3))).astype(dtype)
    t = rng.integers(0, 4, (2, 3)).astype(np.int64)
    t.reshape(-1)[:ignored] = -100
    same(MEAN, loss, target_weight, t, -100, dtype=dtype)
    mean, scale = on_device(MEAN)(loss, target_weight, t, -100)
    if ignored == 6:  # every target ignored: NaN, and a finite scale (a zero gradient)
        assert np.isnan(mean) and scale == 1
    elif weights == "some":
        np.testing.assert_allclose(mean, loss.sum() / target_weight.sum(), **TOL[dtype])


def test_refused_calls_go_to_the_generic_kernel(rng):
    accepts = REGISTRY.kernels[(LOSS, "cuda")].accepts
    x, t, w = case(rng, (3, 4, 1), np.float32, True, 0)
    assert accepts(x, t, w, -100, 0.0, True)
    assert not accepts(x.astype(np.float16), t, None, -100, 0.0, True)
    assert not accepts(x, t, w.astype(np.float64), -100, 0.0, True)
    assert not accepts(x, t.astype(np.int32), None, -100, 0.0, True)
    assert not REGISTRY.kernels[(GRAD, "cuda")].accepts(x, t, w, -100, 0.0, True, np.ones((3, 2), np.float32))
    assert not REGISTRY.kernels[(MEAN, "cuda")].accepts(x[:, 0], x[:, 0].astype(np.float64), t, -100)
    assert not REGISTRY.kernels[(MEAN, "cuda")].accepts(x[:, 0], x[:, 0], t.astype(np.int32), -100)
    many = np.zeros((2, MOST_CLASSES + 1, 1), np.float32)  # a thread per sample would loop too long
    assert not accepts(many, np.zeros((2, 1), np.int64), None, -100, 0.0, True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 4), (2, 3, 2, 3)])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_the_calls_the_losses_make(fn, shape, reduction, dtype, monkeypatch, rng):
    loss_calls = replayed_on_device(monkeypatch, LOSS)
    grad_calls = replayed_on_device(monkeypatch, GRAD)
    x = ember.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    c = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, c, target_shape)
    t.reshape(-1)[:1] = 1  # the ignored class below: one hit at least
    weight = ember.tensor(rng.uniform(0.5, 1.5, c).astype(dtype))
    extra = dict(label_smoothing=0.2) if fn == "cross_entropy" else {}
    loss = getattr(F, fn)(x, ember.tensor(t), weight=weight, ignore_index=1, reduction=reduction, **extra)
    loss.sum().backward()
    assert len(loss_calls) == len(grad_calls) == 1
    for got, want in loss_calls + grad_calls:
        assert_same_results(got, want, **TOL[dtype])


# --- CTC: one thread per batch item, the Cython kernel's recursions -------------------

CTC_FWD, CTC_BWD = "losses.ctc_forward", "losses.ctc_backward"
# (T, C, input lengths, target lengths): repeated labels, empty targets and inputs,
# targets too long for their input (infinite loss)
CTC_CASES = [(6, 4, [6, 5, 3], [2, 3, 0]), (5, 3, [5, 0, 2], [0, 1, 2]), (3, 5, [3, 3], [3, 2]),
             (1, 2, [1], [1]), (8, 6, [8, 7, 8, 2], [4, 4, 1, 2])]


def ctc_case(rng, steps, n_classes, input_lengths, target_lengths, dtype, blank, repeat=False):
    n = len(input_lengths)
    scores = rng.standard_normal((steps, n, n_classes))
    lp = (scores - np.log(np.exp(scores).sum(-1, keepdims=True))).astype(dtype)
    tl = np.array(target_lengths, np.int64)
    labels = [c for c in range(n_classes) if c != blank]
    targets = rng.choice(labels, int(tl.sum())).astype(np.int64)
    if repeat and targets.size > 1:
        targets[1] = targets[0]
    offsets = np.cumsum(tl) - tl
    return lp, (targets, offsets.astype(np.int64), np.array(input_lengths, np.int64), tl, blank,
                2 * int(tl.max(initial=0)) + 1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", CTC_CASES)
@pytest.mark.parametrize("blank", [0, 1])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_forward_and_backward(case, blank, zero_infinity, dtype, rng):
    lp, args = ctc_case(rng, *case, dtype, blank, repeat=True)
    log_alpha, nll = on_device(CTC_FWD)(lp, *args)
    want_alpha, want_nll = generic(CTC_FWD)(lp, *args)
    np.testing.assert_allclose(nll, want_nll, **TOL[dtype])
    for b, length in enumerate(args[2]):  # the rows the recursion wrote
        rows = slice(0, length), slice(0, 2 * args[3][b] + 1)
        np.testing.assert_allclose(log_alpha[b][rows], want_alpha[b][rows], **TOL[dtype])
    go = rng.uniform(0.5, 2.0, lp.shape[1]).astype(dtype)
    tail = (*args[:5], want_alpha, want_nll, zero_infinity)
    np.testing.assert_allclose(on_device(CTC_BWD)(go, lp, *tail), generic(CTC_BWD)(go, lp, *tail), **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_the_calls_ctc_loss_makes(padded, reduction, dtype, monkeypatch, rng):
    fwd, bwd = replayed_on_device(monkeypatch, CTC_FWD), replayed_on_device(monkeypatch, CTC_BWD)
    lengths, target_lengths = [7, 5, 6], [3, 0, 2]
    lp = ember.tensor(rng.standard_normal((7, 3, 5)).astype(dtype)).log_softmax(2).detach().requires_grad_()
    if padded:
        targets = ember.tensor(rng.integers(1, 5, (3, 4)))
    else:
        targets = ember.tensor(rng.integers(1, 5, sum(target_lengths)))
    F.ctc_loss(lp, targets, lengths, target_lengths, reduction=reduction).sum().backward()
    assert len(fwd) == len(bwd) == 1
    for got, want in bwd + [(fwd[0][0][1], fwd[0][1][1])]:
        np.testing.assert_allclose(got, want, **TOL[dtype])
