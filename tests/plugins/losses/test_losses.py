"""The losses family against torch 2.13: every functional in every reduction, in
float64 and float32 (values, input and target gradients, double backward, and
ember's gradcheck in float64), plus the class-index edge cases, extreme inputs
and the module wrappers."""

import numpy as np
import pytest

import ember
from tests.oracle import as_numpy, check, same_outcome, tol, torch

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float64, np.float32]


def F(x):
    """The functional namespace of ``x``'s library (one lambda serves both)."""
    return ember.nn.functional if isinstance(x, ember.Tensor) else torch.nn.functional


def const(x, arr):
    """``arr`` as a constant tensor of ``x``'s library, on ``x``'s device (weights, fixed targets)."""
    if isinstance(x, ember.Tensor):
        return ember.tensor(arr, device=x.device)
    return torch.from_numpy(np.array(arr))


def rng(seed=0):
    return np.random.default_rng(seed)


def randn(*shape, dtype=np.float64, seed=0):
    return rng(seed).standard_normal(shape).astype(dtype)


def rand(*shape, dtype=np.float64, seed=0, lo=0.05, hi=0.95):
    return rng(seed).uniform(lo, hi, shape).astype(dtype)


def signs(*shape, dtype=np.float64, seed=1):
    return rng(seed).choice([-1.0, 1.0], shape).astype(dtype)


# ----------------------------------------------------------------- pointwise losses
POINTWISE = {
    "l1": (lambda x, t, r: F(x).l1_loss(x, t, reduction=r), lambda d: [randn(3, 4, dtype=d), randn(3, 4, dtype=d, seed=1)]),
    "mse": (lambda x, t, r: F(x).mse_loss(x, t, reduction=r), lambda d: [randn(3, 4, dtype=d), randn(3, 4, dtype=d, seed=1)]),
    "smooth_l1": (lambda x, t, r: F(x).smooth_l1_loss(x, t, reduction=r),
                  lambda d: [2 * randn(3, 4, dtype=d), randn(3, 4, dtype=d, seed=1)]),
    "smooth_l1_beta": (lambda x, t, r: F(x).smooth_l1_loss(x, t, reduction=r, beta=0.4),
                       lambda d: [randn(3, 4, dtype=d), randn(3, 4, dtype=d, seed=1)]),
    "smooth_l1_beta0": (lambda x, t, r: F(x).smooth_l1_loss(x, t, reduction=r, beta=0.0),
                        lambda d: [randn(3, 4, dtype=d), randn(3, 4, dtype=d, seed=1)]),
    "huber": (lambda x, t, r: F(x).huber_loss(x, t, reduction=r, delta=0.7),
              lambda d: [2 * randn(3, 4, dtype=d), randn(3, 4, dtype=d, seed=1)]),
    "soft_margin": (lambda x, t, r: F(x).soft_margin_loss(x, t.detach(), reduction=r),
                    lambda d: [randn(3, 4, dtype=d), signs(3, 4, dtype=d)]),
    "kl_div": (lambda x, t, r: F(x).kl_div(x, t, reduction=r),
               lambda d: [np.log(rand(3, 4, dtype=d)), rand(3, 4, dtype=d, seed=1)]),
    "kl_div_log_target": (lambda x, t, r: F(x).kl_div(x, t, reduction=r, log_target=True),
                          lambda d: [np.log(rand(3, 4, dtype=d)), np.log(rand(3, 4, dtype=d, seed=1))]),
    "poisson": (lambda x, t, r: F(x).poisson_nll_loss(x, t, reduction=r),
                lambda d: [randn(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1, lo=0, hi=4)]),
    "poisson_rate_full": (lambda x, t, r: F(x).poisson_nll_loss(x, t, log_input=False, full=True, reduction=r),
                          lambda d: [rand(3, 4, dtype=d, hi=3), rand(3, 4, dtype=d, seed=1, lo=0.2, hi=4)]),
    "bce": (lambda x, t, r: F(x).binary_cross_entropy(x, t, reduction=r),
            lambda d: [rand(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1)]),
    "bce_weight": (lambda x, t, r: F(x).binary_cross_entropy(
        x, t, weight=const(x, np.linspace(0.5, 2, 4).astype(as_numpy(x).dtype)), reduction=r),
        lambda d: [rand(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1)]),
    "bce_logits": (lambda x, t, r: F(x).binary_cross_entropy_with_logits(x, t, reduction=r),
                   lambda d: [3 * randn(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1)]),
    "bce_logits_weights": (lambda x, t, r: F(x).binary_cross_entropy_with_logits(
        x, t, weight=const(x, np.linspace(0.5, 2, 4).astype(as_numpy(x).dtype)),
        pos_weight=const(x, np.array([0.5, 1.0, 2.0, 3.0], dtype=as_numpy(x).dtype)), reduction=r),
        lambda d: [3 * randn(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1)]),
    "multilabel_soft_margin": (lambda x, t, r: F(x).multilabel_soft_margin_loss(x, t, reduction=r),
                               lambda d: [randn(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1)]),
    "multilabel_soft_margin_weight": (lambda x, t, r: F(x).multilabel_soft_margin_loss(
        x, t, weight=const(x, np.linspace(0.5, 2, 4).astype(as_numpy(x).dtype)), reduction=r),
        lambda d: [randn(3, 4, dtype=d), rand(3, 4, dtype=d, seed=1)]),
    "hinge_embedding": (lambda x, t, r: F(x).hinge_embedding_loss(x, t.detach(), margin=0.5, reduction=r),
                        lambda d: [randn(3, 4, dtype=d), signs(3, 4, dtype=d)]),
}


CONSTANT_TARGET = {"soft_margin", "hinge_embedding"}


@pytest.mark.filterwarnings("ignore:reduction.*mean.*divides:UserWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_losses_match_torch(name, reduction, dtype):
    fn, make = POINTWISE[name]
    x, t = make(dtype)
    if name in CONSTANT_TARGET:
        # torch gives these targets no gradient: keep them out of ember's gradcheck too
        check(lambda a: fn(a, const(a, t), reduction), [x])
    else:
        check(lambda a, b: fn(a, b, reduction), [x, t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
def test_kl_div_reductions(reduction, dtype):
    x, t = np.log(rand(4, 3, dtype=dtype)), rand(4, 3, dtype=dtype, seed=3)
    with pytest.warns(UserWarning) if reduction == "mean" else _no_warning():
        check(lambda a, b: F(a).kl_div(a, b, reduction=reduction), [x, t])


def _no_warning():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def ctx():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
    return ctx()


def test_kl_div_zero_target_gives_zero_terms(device):
    x = ember.tensor([-1.0, -2.0, -0.5], dtype=ember.float64, requires_grad=True, device=device)
    t = ember.tensor([0.0, 0.3, 0.7], dtype=ember.float64, device=device)
    loss = ember.nn.functional.kl_div(x, t, reduction="none")
    assert loss[0].item() == 0.0
    loss.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, -0.3, -0.7])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), ()])
def test_margin_ranking(shape, reduction, dtype):
    check(lambda a, b, y: F(a).margin_ranking_loss(a, b, y, margin=0.3, reduction=reduction),
          [randn(*shape, dtype=dtype), randn(*shape, dtype=dtype, seed=2), signs(*shape, dtype=dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [True, False])
def test_cosine_embedding(batched, reduction, dtype):
    shape = (4, 3) if batched else (3,)
    y = signs(4, dtype=dtype) if batched else np.array(-1.0, dtype=dtype)
    check(lambda a, b: F(a).cosine_embedding_loss(a, b, const(a, y), margin=-0.2, reduction=reduction),
          [randn(*shape, dtype=dtype), randn(*shape, dtype=dtype, seed=2)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,swap", [(2, False), (1, True), (3, False)])
def test_triplet_margin(p, swap, reduction, dtype):
    check(lambda a, b, c: F(a).triplet_margin_loss(a, b, c, margin=1.5, p=p, swap=swap, reduction=reduction),
          [randn(4, 3, dtype=dtype), randn(4, 3, dtype=dtype, seed=2), randn(4, 3, dtype=dtype, seed=3)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_with_distance(reduction):
    def dist(a, b):
        return (a - b).abs().sum(-1)
    check(lambda a, b, c: F(a).triplet_margin_with_distance_loss(a, b, c, margin=2.0, swap=True,
                                                                 reduction=reduction),
          [randn(4, 3), randn(4, 3, seed=2), randn(4, 3, seed=3)])
    check(lambda a, b, c: F(a).triplet_margin_with_distance_loss(a, b, c, distance_function=dist,
                                                                 reduction=reduction),
          [randn(4, 3), randn(4, 3, seed=2), randn(4, 3, seed=3)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4, 1), (4,)])
def test_gaussian_nll(var_shape, reduction, dtype):
    var = rand(*var_shape, dtype=dtype, seed=4, lo=0.2, hi=2)
    check(lambda x, t, v: F(x).gaussian_nll_loss(x, t, v, full=True, reduction=reduction),
          [randn(4, 3, dtype=dtype), randn(4, 3, dtype=dtype, seed=2), var])


def test_gaussian_nll_clamps_small_variance_without_cutting_its_gradient():
    check(lambda x, t, v: F(x).gaussian_nll_loss(x, t, v, eps=0.1), [randn(4, 3), randn(4, 3, seed=2),
                                                                   rand(4, 3, lo=0.01, hi=0.2)], gradcheck=False)


# ----------------------------------------------------------------- class indices
def _targets(shape, n_classes, seed=0, ignore=None):
    t = rng(seed).integers(0, n_classes, shape).astype(np.int64)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


CLASS_SHAPES = [((4, 5), (4,)), ((5,), ()), ((3, 4, 2), (3, 2)), ((2, 3, 2, 2), (2, 2, 2)),
                ((2, 3, 2, 1, 2), (2, 2, 1, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", CLASS_SHAPES, ids=str)
def test_cross_entropy_and_nll_shapes(shapes, reduction, dtype):
    in_shape, t_shape = shapes
    c = in_shape[0] if len(in_shape) == 1 else in_shape[1]
    x, t = randn(*in_shape, dtype=dtype), _targets(t_shape, c)
    check(lambda a, b: F(a).cross_entropy(a, b, reduction=reduction), [x, t])
    check(lambda a, b: F(a).nll_loss(a, b, reduction=reduction), [x, t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", CLASS_SHAPES[:4], ids=str)
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_weights_and_ignore_index(shapes, ignore_index, reduction, dtype):
    in_shape, t_shape = shapes
    c = in_shape[0] if len(in_shape) == 1 else in_shape[1]
    x, t = randn(*in_shape, dtype=dtype), _targets(t_shape, c, ignore=ignore_index if len(t_shape) else None)
    w = np.linspace(0.3, 2.0, c).astype(dtype)

    def ce(a, b):
        return F(a).cross_entropy(a, b, weight=const(a, w), ignore_index=ignore_index, reduction=reduction)

    def nll(a, b):
        return F(a).nll_loss(a, b, weight=const(a, w), ignore_index=ignore_index, reduction=reduction)
    check(ce, [x, t])
    check(nll, [x, t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", CLASS_SHAPES[:4], ids=str)
@pytest.mark.parametrize("weighted", [False, True])
def test_label_smoothing(shapes, weighted, reduction, dtype):
    in_shape, t_shape = shapes
    c = in_shape[0] if len(in_shape) == 1 else in_shape[1]
    x, t = randn(*in_shape, dtype=dtype), _targets(t_shape, c, ignore=2 if len(t_shape) else None)
    w = np.linspace(0.3, 2.0, c).astype(dtype)
    check(lambda a, b: F(a).cross_entropy(a, b, weight=const(a, w) if weighted else None, ignore_index=2,
                                          reduction=reduction, label_smoothing=0.15), [x, t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 2, 2)], ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(shape, smoothing, reduction, dtype):
    class_dim = 0 if len(shape) == 1 else 1
    p = rand(*shape, dtype=dtype, seed=3)
    p = p / p.sum(class_dim, keepdims=True)
    w = np.linspace(0.3, 2.0, shape[class_dim]).astype(dtype)
    check(lambda a, b: F(a).cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing),
          [randn(*shape, dtype=dtype), p])
    # the class weights are differentiable here, in torch as well
    check(lambda a, b, ww: F(a).cross_entropy(a, b, weight=ww, reduction=reduction), [randn(*shape, dtype=dtype), p, w])


def test_nll_double_backward_is_zero(device):
    x = ember.tensor(randn(4, 5), requires_grad=True, device=device)
    go = ember.tensor(2.0, dtype=ember.float64, requires_grad=True, device=device)
    loss = ember.nn.functional.nll_loss(x, ember.tensor([0, 1, 4, 2], device=device))
    (g,) = ember.autograd.grad(loss, x, go, create_graph=True)
    gg = ember.autograd.grad((g * ember.tensor(randn(4, 5, seed=3), device=device)).sum(), [x, go], allow_unused=True)
    assert (gg[0] is None or not as_numpy(gg[0]).any()) and gg[1] is not None
    tx = torch.from_numpy(randn(4, 5)).requires_grad_()
    tgo = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.nll_loss(tx, torch.tensor([0, 1, 4, 2])), tx, tgo,
                                create_graph=True)
    tgg = torch.autograd.grad((tg * torch.from_numpy(randn(4, 5, seed=3))).sum(), [tx, tgo])
    assert not tgg[0].any()
    np.testing.assert_allclose(gg[1].item(), tgg[1].item(), rtol=1e-12)


@pytest.mark.parametrize("input_shape, target_shape, name", [
    ((5,), (), "NllLossBackward0"), ((3, 5), (3,), "NllLossBackward0"),
    ((3, 5, 4, 2), (3, 4, 2), "NllLoss2DBackward0")])
@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
def test_class_index_losses_end_in_one_node_named_as_torch(input_shape, target_shape, name, fn):
    x = ember.randn(*input_shape, requires_grad=True)
    target = ember.randint(0, 5, target_shape)
    loss = getattr(ember.nn.functional, fn)(x, target)
    assert loss.grad_fn.name() == name
    # straight onto the input's accumulator, or onto cross entropy's log_softmax (on a
    # backend that fuses it into the node, the cuda one, the node goes straight on)
    inner = loss.grad_fn.next_functions[0][0]
    assert inner.name() == ("AccumulateGrad" if fn == "nll_loss" else "LogSoftmaxBackward0")


@pytest.mark.parametrize("fn, name", [("mse_loss", "MseLossBackward0"),
                                      ("smooth_l1_loss", "SmoothL1LossBackward0"),
                                      ("huber_loss", "HuberLossBackward0")])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses_are_one_node_named_as_torch(fn, name, reduction):
    x = ember.randn(3, 4, requires_grad=True)
    t = ember.randn(3, 4, requires_grad=True)
    loss = getattr(ember.nn.functional, fn)(x, t, reduction=reduction)
    assert loss.grad_fn.name() == name
    assert [e[0].name() for e in loss.grad_fn.next_functions] == ["AccumulateGrad"] * 2


@pytest.mark.parametrize("fn", ["mse_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_of_empty_inputs(fn):
    check(lambda a, b: getattr(F(a), fn)(a, b), [randn(0, 3), randn(0, 3, seed=2)], gradcheck=False)


def test_uint8_targets_are_accepted():
    check(lambda a, b: F(a).nll_loss(a, b), [randn(4, 5), _targets((4,), 5).astype(np.uint8)])


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_all_targets_ignored_gives_nan_mean_and_zero_sum(fn, weighted, device):
    x = ember.randn(3, 4, requires_grad=True, device=device)
    t = ember.tensor([-100, -100, -100], device=device)
    w = ember.ones(4, device=device) if weighted else None
    f = getattr(ember.nn.functional, fn)
    assert np.isnan(f(x, t, weight=w).item())
    assert f(x, t, weight=w, reduction="sum").item() == 0
    f(x, t, weight=w, reduction="sum").backward()
    assert not as_numpy(x.grad).any()
    assert np.isnan(f(ember.randn(0, 4, device=device), ember.zeros(0, dtype=ember.int64, device=device)).item())


def test_ignored_targets_get_no_gradient_and_zero_loss(device):
    x = ember.randn(3, 4, requires_grad=True, device=device)
    t = ember.tensor([1, 7, 2], device=device)                      # 7 is ignored, so it is not out of range
    loss = ember.nn.functional.cross_entropy(x, t, ignore_index=7, reduction="none")
    assert loss[1].item() == 0
    loss.sum().backward()
    assert not as_numpy(x.grad)[1].any() and as_numpy(x.grad)[0].any()


# ----------------------------------------------------------------- hinge classification losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.7, False), (1, 1.3, True), (2, 1.0, True)])
def test_multi_margin(p, margin, weighted, reduction, dtype):
    w = np.linspace(0.3, 2.0, 5).astype(dtype)
    x = randn(4, 5, dtype=dtype) * 0.6
    # torch has no double backward for this loss
    check(lambda a, b: F(a).multi_margin_loss(a, b, p=p, margin=margin, weight=const(a, w) if weighted else None,
                                              reduction=reduction), [x, _targets((4,), 5)], double=False)
    check(lambda a, b: F(a).multi_margin_loss(a, b, p=p, margin=margin, reduction=reduction),
          [x[0], np.array(3)], double=False)
    check(lambda a, b: F(a).multi_margin_loss(a, b, p=p, margin=margin, reduction=reduction),
          [x[0], np.array([3])], double=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin(reduction, dtype):
    x = randn(4, 5, dtype=dtype) * 0.5
    t = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [-1, 2, 3, 0, 0], [0, 1, 2, 3, 4]], dtype=np.int64)
    check(lambda a, b: F(a).multilabel_margin_loss(a, b, reduction=reduction), [x, t], double=False)
    check(lambda a, b: F(a).multilabel_margin_loss(a, b, reduction=reduction), [x[0], t[0]], double=False)


def test_hinge_losses_have_double_backward_from_autograd(device):
    x = ember.tensor(randn(3, 4), requires_grad=True, device=device)
    for loss in (ember.nn.functional.multi_margin_loss(x, ember.tensor([0, 1, 2], device=device), p=2),
                 ember.nn.functional.multilabel_margin_loss(x, ember.tensor([[0, 1, -1, 0]] * 3, device=device))):
        (g,) = ember.autograd.grad(loss, x, create_graph=True)
        assert ember.autograd.gradcheck(lambda a: ember.nn.functional.multi_margin_loss(
            a, ember.tensor([0, 1, 2], device=device), p=2), [x])


# ----------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_stay_finite(dtype, device):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], dtype=dtype)
    t = np.array([1, 0])
    check(lambda a, b: F(a).cross_entropy(a, b), [x, t], gradcheck=False)
    check(lambda a, b: F(a).cross_entropy(a, b, label_smoothing=0.1), [x, t], gradcheck=False)
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]], dtype=dtype)
    check(lambda a, b: F(a).binary_cross_entropy_with_logits(a, b.detach(), reduction="none"), [x, y],
          gradcheck=False)
    check(lambda a, b: F(a).binary_cross_entropy_with_logits(
        a, b.detach(), pos_weight=const(a, np.array([2.0, 0.5, 1.0], dtype=dtype))), [x, y], gradcheck=False)
    check(lambda a, b: F(a).multilabel_soft_margin_loss(a, b.detach()), [x, y], gradcheck=False)
    for out in (ember.nn.functional.soft_margin_loss(ember.tensor(x, requires_grad=True, device=device),
                                                     ember.tensor(y * 2 - 1, device=device), reduction="none"),):
        assert np.isfinite(as_numpy(out)).all()
        np.testing.assert_allclose(as_numpy(out)[0, 1], 1000.0 if y[0, 1] == 1 else 0.0, atol=1e-3)


def test_logits_at_zero_have_the_sigmoid_gradient(device):
    x = ember.zeros(4, dtype=ember.float64, requires_grad=True, device=device)
    t = ember.tensor([0.0, 1.0, 0.25, 1.0], dtype=ember.float64, device=device)
    ember.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="sum").backward()
    np.testing.assert_allclose(as_numpy(x.grad), 0.5 - as_numpy(t))


def test_bce_clamps_log_and_keeps_gradient_finite_at_0_and_1(device):
    check(lambda a, b: F(a).binary_cross_entropy(a, b.detach(), reduction="none"),
          [np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), np.array([0.0, 1.0, 1.0, 0.0, 1.0])], gradcheck=False, double=False)
    out = ember.nn.functional.binary_cross_entropy(ember.tensor([0.0, 1.0], device=device),
                                                   ember.tensor([1.0, 0.0], device=device), reduction="none")
    assert out.tolist() == [100.0, 100.0]


# ----------------------------------------------------------------- reduction arguments
@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, False, "none"),
    (False, False, "none"), (True, True, "mean"), (False, True, "sum"), (None, True, "mean")])
def test_legacy_reduction_flags(size_average, reduce, expected):
    if size_average is None and reduce is None:
        assert ember.nn.MSELoss().reduction == "mean"
        return
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        m = ember.nn.CrossEntropyLoss(size_average=size_average, reduce=reduce, reduction="sum")
    assert m.reduction == expected
    x, t = randn(3, 4), _targets((3,), 4)
    with pytest.warns(UserWarning):
        check(lambda a, b: F(a).nll_loss(a, b, size_average=size_average, reduce=reduce), [x, t], gradcheck=False)
    with pytest.warns(UserWarning):
        check(lambda a, b: F(a).l1_loss(a, b, size_average=size_average, reduce=reduce), [x, randn(3, 4, seed=3)],
              gradcheck=False)


@pytest.mark.parametrize("call", [
    lambda f, d: f.mse_loss(ember.ones(2, device=d), ember.ones(2, device=d), reduction="foo"),
    lambda f, d: f.nll_loss(ember.ones(2, 3, device=d), ember.tensor([0, 1], device=d), reduction="foo"),
    lambda f, d: f.cross_entropy(ember.ones(2, 3, device=d), ember.tensor([0, 1], device=d), reduction="foo"),
    lambda f, d: f.kl_div(ember.ones(2, device=d), ember.ones(2, device=d), reduction="foo"),
    lambda f, d: f.multilabel_soft_margin_loss(ember.ones(2, 3, device=d), ember.ones(2, 3, device=d),
                                               reduction="foo"),
])
def test_invalid_reduction_is_a_value_error(call, device):
    with pytest.raises(ValueError, match="foo is not"):
        call(ember.nn.functional, device)


def test_weighted_l1_and_mse():
    w = rand(3, 4, seed=7)
    for r in REDUCTIONS:
        check(lambda a, b: F(a).l1_loss(a, b, reduction=r, weight=const(a, w)), [randn(3, 4), randn(3, 4, seed=1)])
        check(lambda a, b: F(a).mse_loss(a, b, reduction=r, weight=const(a, w)), [randn(3, 4), randn(3, 4, seed=1)])
        check(lambda a, b: F(a).huber_loss(a, b, reduction=r, weight=const(a, w)), [randn(3, 4), randn(3, 4, seed=1)])


def test_size_mismatch_warns_and_broadcasts():
    with pytest.warns(UserWarning, match="target size"):
        check(lambda a, b: F(a).mse_loss(a, b, reduction="none"), [randn(3, 4), randn(4)], gradcheck=False)


# ----------------------------------------------------------------- errors
ERRORS = {
    "target out of bounds": (lambda f, m: f.nll_loss(m.zeros(3, 5), m.tensor([0, 5, 1])), IndexError,
                             r"^Target 5 is out of bounds\.$"),
    "negative target": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.tensor([0, -1, 1])), IndexError,
                        "Target -1 is out of bounds"),
    "nd target out of bounds": (lambda f, m: f.cross_entropy(m.zeros(2, 3, 4), m.full((2, 4), 3)), IndexError,
                                "Target 3 is out of bounds"),
    "float target": (lambda f, m: f.nll_loss(m.zeros(3, 5), m.tensor([0.0, 1.0, 1.0])), RuntimeError,
                     "expected target dtype to be Long or Byte, but got Float"),
    "int32 target": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.tensor([0, 1, 1], dtype=m.int32)),
                     RuntimeError, "but got Int"),
    "batch size": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.tensor([0, 1])), ValueError,
                   r"Expected input batch_size \(3\) to match target batch_size \(2\)"),
    "nd target size": (lambda f, m: f.nll_loss(m.zeros(2, 3, 4), m.zeros(2, 5, dtype=m.int64)), RuntimeError,
                       r"Expected target size \[2, 4\], got \[2, 5\]"),
    "multi-target": (lambda f, m: f.nll_loss(m.zeros(3, 5), m.zeros(3, 2, dtype=m.int64)), RuntimeError,
                     "multi-target not supported"),
    "0-d input": (lambda f, m: f.nll_loss(m.tensor(1.0), m.tensor(0)), ValueError, "Expected 1 or more dimensions"),
    "weight size": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.tensor([0, 1, 1]), weight=m.ones(4)),
                    RuntimeError, r"for all 5 classes .* shape: \[4\]"),
    "prob weight size": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.ones(3, 5), weight=m.ones(4)),
                         RuntimeError, "for all 5 classes"),
    "prob int": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.ones(3, 5, dtype=m.int64)), RuntimeError,
                 "Expected floating point type for target with class probabilities, got Long"),
    "prob ignore": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.ones(3, 5), ignore_index=1), RuntimeError,
                    "ignore_index is not supported"),
    "smoothing > 1": (lambda f, m: f.cross_entropy(m.zeros(3, 5), m.tensor([0, 1, 1]), label_smoothing=1.5),
                      RuntimeError, "label_smoothing must be between 0.0 and 1.0"),
    "bce range": (lambda f, m: f.binary_cross_entropy(m.tensor([0.5, 1.5]), m.tensor([0.0, 1.0])), RuntimeError,
                  "all elements of input should be between 0 and 1"),
    "bce size": (lambda f, m: f.binary_cross_entropy(m.tensor([0.5, 0.5]), m.tensor([0.0, 1.0, 1.0])), ValueError,
                 "target size"),
    "bce weight": (lambda f, m: f.binary_cross_entropy(m.full((3, 5), 0.5), m.ones(3, 5), weight=m.ones(4)),
                   RuntimeError, "weight"),
    "bce logits size": (lambda f, m: f.binary_cross_entropy_with_logits(m.zeros(2), m.zeros(3)), ValueError,
                        "must be the same as input size"),
    "smooth_l1 beta": (lambda f, m: f.smooth_l1_loss(m.zeros(2), m.zeros(2), beta=-1.0), RuntimeError,
                       "negative values for beta"),
    "huber delta": (lambda f, m: f.huber_loss(m.zeros(2), m.zeros(2), delta=0.0), RuntimeError,
                    "non-positive values for delta"),
    "mse shapes": (lambda f, m: f.mse_loss(m.zeros(3, 5), m.zeros(4, 5)), RuntimeError, "must match"),
    "multi_margin p": (lambda f, m: f.multi_margin_loss(m.zeros(3, 5), m.tensor([0, 1, 1]), p=3), ValueError,
                       "only p == 1 and p == 2"),
    "multi_margin target": (lambda f, m: f.multi_margin_loss(m.zeros(3, 5), m.tensor([0, 5, 1])), RuntimeError,
                            "target out of range"),
    "multi_margin target shape": (lambda f, m: f.multi_margin_loss(m.zeros(3, 5), m.tensor([0, 1])), RuntimeError,
                                  r"Expected target size \[3\], but got \[2\]"),
    "multi_margin weight": (lambda f, m: f.multi_margin_loss(m.zeros(3, 5), m.tensor([0, 1, 1]), weight=m.ones(4)),
                            RuntimeError, "inconsistent weight size, expected 5"),
    "multi_margin float target": (lambda f, m: f.multi_margin_loss(m.zeros(2, 3), m.tensor([0.0, 1.0])),
                                  RuntimeError, "expected scalar type Long but found Float"),
    "multilabel target": (lambda f, m: f.multilabel_margin_loss(m.zeros(3, 5), m.full((3, 5), 6)), RuntimeError,
                          "out of range"),
    "multilabel shape": (lambda f, m: f.multilabel_margin_loss(m.zeros(3, 5), m.zeros(3, 4, dtype=m.int64)),
                         RuntimeError, "inconsistent target size"),
    "multilabel 3d": (lambda f, m: f.multilabel_margin_loss(m.zeros(2, 3, 4), m.zeros(2, 3, 4, dtype=m.int64)),
                      RuntimeError, "non-empty vector or matrix"),
    "cosine target dims": (lambda f, m: f.cosine_embedding_loss(m.zeros(3, 5), m.zeros(3, 5), m.ones(3, 5)),
                           RuntimeError, "0D or 1D target"),
    "cosine input dims": (lambda f, m: f.cosine_embedding_loss(m.zeros(5), m.zeros(5), m.ones(1)), RuntimeError,
                          "1D target tensor expects 2D input tensors"),
    "ranking dims": (lambda f, m: f.margin_ranking_loss(m.zeros(3, 5), m.zeros(3, 5), m.ones(4)), RuntimeError,
                     "should have same dimension"),
    "triplet dims": (lambda f, m: f.triplet_margin_loss(m.zeros(3, 5), m.zeros(3, 5), m.ones(5)), RuntimeError,
                     "same number of dimensions"),
    "triplet margin": (lambda f, m: f.triplet_margin_loss(m.zeros(3, 5), m.zeros(3, 5), m.ones(3, 5), margin=0),
                       ValueError, "margin must be greater than 0"),
    "gaussian var size": (lambda f, m: f.gaussian_nll_loss(m.zeros(3, 5), m.zeros(3, 5), m.ones(2, 2)), ValueError,
                          "var is of incorrect size"),
    "gaussian var sign": (lambda f, m: f.gaussian_nll_loss(m.zeros(3, 5), m.zeros(3, 5), -m.ones(3, 5)),
                          ValueError, "negative"),
}


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_input_raises_torchs_error(name):
    fn, exc, match = ERRORS[name]
    same_outcome(lambda L: fn(L.nn.functional, L), raises=exc, match=match)


@pytest.mark.parametrize("make", [
    lambda nn: nn.MultiMarginLoss(p=3),
    lambda nn: nn.MultiMarginLoss(weight=nn_ones(nn, 2, 2)),
    lambda nn: nn.TripletMarginLoss(margin=-1.0),
    lambda nn: nn.TripletMarginWithDistanceLoss(margin=0.0),
])
def test_module_argument_errors(make):
    with pytest.raises(ValueError):
        make(torch.nn)
    with pytest.raises(ValueError):
        make(ember.nn)


def nn_ones(nn, *shape):
    return ember.ones(*shape) if nn is ember.nn else torch.ones(*shape)


# ----------------------------------------------------------------- modules
MODULES = [
    ("L1Loss", {}), ("MSELoss", {"reduction": "sum"}), ("CrossEntropyLoss", {"ignore_index": 2, "label_smoothing": 0.1}),
    ("NLLLoss", {}), ("PoissonNLLLoss", {"log_input": False, "full": True}), ("GaussianNLLLoss", {}),
    ("KLDivLoss", {"reduction": "batchmean"}), ("BCELoss", {}), ("BCEWithLogitsLoss", {}),
    ("MarginRankingLoss", {"margin": 0.5}), ("HingeEmbeddingLoss", {}), ("MultiLabelMarginLoss", {}),
    ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 2.0}), ("SoftMarginLoss", {}),
    ("MultiLabelSoftMarginLoss", {}), ("CosineEmbeddingLoss", {}), ("MultiMarginLoss", {"p": 2}),
    ("TripletMarginLoss", {"swap": True}), ("TripletMarginWithDistanceLoss", {}),
]


@pytest.mark.parametrize("name,kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_module_repr_and_attributes_match_torch(name, kwargs):
    e, t = getattr(ember.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(e) == repr(t)
    for attr in ("reduction", "ignore_index", "label_smoothing", "log_input", "full", "eps", "margin", "beta",
                 "delta", "p", "swap", "log_target"):
        assert getattr(e, attr, None) == getattr(t, attr, None), attr


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "BCELoss", "MultiLabelSoftMarginLoss",
                                  "MultiMarginLoss"])
def test_weight_is_a_buffer(name, device):
    w = ember.tensor([1.0, 2.0, 3.0], device=device)
    m = getattr(ember.nn, name)(weight=w)
    assert m.weight is w and dict(m.named_buffers())["weight"] is w and not list(m.parameters())
    assert getattr(ember.nn, name)().weight is None
    b = ember.nn.BCEWithLogitsLoss(pos_weight=w)
    assert b.pos_weight is w and b.weight is None


def _module_inputs(name, dtype):
    x, x2 = randn(4, 3, dtype=dtype), randn(4, 3, dtype=dtype, seed=2)
    cls = _targets((4,), 3)
    return {
        "CrossEntropyLoss": [x, cls], "NLLLoss": [x, cls], "MultiMarginLoss": [x, cls],
        "PoissonNLLLoss": [rand(4, 3, dtype=dtype), rand(4, 3, dtype=dtype, seed=2, lo=0.2, hi=4)],
        "GaussianNLLLoss": [x, x2, rand(4, 3, dtype=dtype, seed=3)],
        "KLDivLoss": [np.log(rand(4, 3, dtype=dtype)), rand(4, 3, dtype=dtype, seed=2)],
        "BCELoss": [rand(4, 3, dtype=dtype), rand(4, 3, dtype=dtype, seed=2)],
        "BCEWithLogitsLoss": [x, rand(4, 3, dtype=dtype, seed=2)],
        "MarginRankingLoss": [x[:, 0], x2[:, 0], signs(4, dtype=dtype)],
        "HingeEmbeddingLoss": [x, signs(4, 3, dtype=dtype)],
        "MultiLabelMarginLoss": [x, np.array([[0, -1, 1], [2, 1, 0], [1, 0, -1], [-1, 0, 0]])],
        "MultiLabelSoftMarginLoss": [x, rand(4, 3, dtype=dtype, seed=2)],
        "CosineEmbeddingLoss": [x, x2, signs(4, dtype=dtype)],
        "TripletMarginLoss": [x, x2, randn(4, 3, dtype=dtype, seed=3)],
        "TripletMarginWithDistanceLoss": [x, x2, randn(4, 3, dtype=dtype, seed=3)],
    }.get(name, [x, x2])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_module_forward_and_backward_match_torch(name, kwargs, dtype, device):
    e, t = getattr(ember.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    inputs = _module_inputs(name, dtype)
    e_in = [ember.tensor(a, device=device, requires_grad=i == 0) for i, a in enumerate(inputs)]
    t_in = [torch.from_numpy(a.copy()).requires_grad_(i == 0) for i, a in enumerate(inputs)]
    e_out, t_out = e(*e_in), t(*t_in)
    np.testing.assert_allclose(as_numpy(e_out), as_numpy(t_out), **tol(dtype))
    e_out.backward()
    t_out.backward()
    np.testing.assert_allclose(as_numpy(e_in[0].grad), as_numpy(t_in[0].grad), **tol(dtype))


def test_weighted_module_matches_torch(device):
    w = np.array([0.5, 1.0, 2.0])
    x, cls = randn(4, 3), _targets((4,), 3)
    e = ember.nn.CrossEntropyLoss(weight=ember.tensor(w, device=device), ignore_index=1)
    t = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w), ignore_index=1)
    np.testing.assert_allclose(e(ember.tensor(x, device=device), ember.tensor(cls, device=device)).item(),
                               t(torch.from_numpy(x), torch.from_numpy(cls)).item(), rtol=1e-12)


# ----------------------------------------------------------------- backends
DEVICE_CASES = {
    "cross_entropy": (lambda a, b: F(a).cross_entropy(a, b, ignore_index=1, label_smoothing=0.1),
                      lambda: [randn(3, 4, 2), _targets((3, 2), 4)]),
    "cross_entropy_probs": (lambda a, b: F(a).cross_entropy(a, b), lambda: [randn(3, 4), rand(3, 4, seed=2)]),
    "nll": (lambda a, b: F(a).nll_loss(a, b, reduction="sum"), lambda: [randn(3, 4), _targets((3,), 4)]),
    "bce": (lambda a, b: F(a).binary_cross_entropy(a, b), lambda: [rand(3, 4), rand(3, 4, seed=2)]),
    "bce_logits": (lambda a, b: F(a).binary_cross_entropy_with_logits(a, b), lambda: [randn(3, 4), rand(3, 4, seed=2)]),
    "smooth_l1": (lambda a, b: F(a).smooth_l1_loss(a, b, beta=0.5), lambda: [randn(3, 4), randn(3, 4, seed=2)]),
    "kl_div": (lambda a, b: F(a).kl_div(a, b, reduction="batchmean"),
               lambda: [np.log(rand(3, 4)), rand(3, 4, seed=2)]),
    "multi_margin": (lambda a, b: F(a).multi_margin_loss(a, b, p=2), lambda: [randn(3, 4), _targets((3,), 4)]),
    "multilabel_margin": (lambda a, b: F(a).multilabel_margin_loss(a, b),
                          lambda: [randn(2, 3), np.array([[2, -1, 0], [0, 1, 2]])]),
    "triplet": (lambda a, b, c: F(a).triplet_margin_loss(a, b, c), lambda: [randn(3, 4), randn(3, 4, seed=2),
                                                                            randn(3, 4, seed=3)]),
}


@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_losses_on_each_backend(name, device):
    fn, make = DEVICE_CASES[name]
    check(fn, make(), device=device, double=name not in ("multi_margin", "multilabel_margin"))
