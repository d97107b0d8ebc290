"""ember.nn.init against torch.nn.init: gains, fans, statistics, errors, in-place contract."""

import math
import warnings

import numpy as np
import pytest

import ember
from ember.nn import init
from tests.oracle import torch

tinit = torch.nn.init


@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == tinit.calculate_gain(name, param)


@pytest.mark.parametrize("name,param", [("foo", None), ("leaky_relu", True), ("leaky_relu", "0.1")])
def test_calculate_gain_errors(name, param):
    with pytest.raises(ValueError) as theirs:
        tinit.calculate_gain(name, param)
    with pytest.raises(ValueError) as ours:
        init.calculate_gain(name, param)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 3, 1, 2, 2), (0, 3)])
def test_fans_exact(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        tinit._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_need_two_dims(shape):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(ember.empty(shape))


def test_kaiming_bad_mode():
    with pytest.raises(ValueError) as theirs:
        tinit.kaiming_uniform_(torch.empty(3, 3), mode="x")
    with pytest.raises(ValueError) as ours:
        init.kaiming_uniform_(ember.empty(3, 3), mode="x")
    assert str(ours.value) == str(theirs.value)


def _bounds_and_moments(t):
    a = t.detach().cpu().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


SHAPE = (400, 250, 3)   # fan_in 750, fan_out 1200, 300,000 draws


@pytest.mark.parametrize("fn,kwargs,kind,bound_or_std", [
    ("uniform_", dict(a=-0.3, b=0.7), "uniform", (-0.3, 0.7)),
    ("xavier_uniform_", dict(gain=2.0), "uniform", 2.0 * math.sqrt(6 / (750 + 1200))),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), "uniform", 1 / math.sqrt(750)),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), "uniform", math.sqrt(6 / 1200)),
    ("xavier_normal_", dict(gain=0.5), "normal", 0.5 * math.sqrt(2 / (750 + 1200))),
    ("kaiming_normal_", dict(nonlinearity="relu"), "normal", math.sqrt(2 / 750)),
    ("kaiming_normal_", dict(a=0.1, mode="FAN_OUT"), "normal", math.sqrt(2 / 1.01) / math.sqrt(1200)),
    ("normal_", dict(mean=1.5, std=0.2), "normal", 0.2),
])
def test_statistics_match_torch(fn, kwargs, kind, bound_or_std, device):
    ember.manual_seed(0)
    torch.manual_seed(0)
    ours = getattr(init, fn)(ember.empty(*SHAPE, device=device), **kwargs)
    theirs = getattr(tinit, fn)(torch.empty(*SHAPE), **kwargs)
    lo, hi, mean, std = _bounds_and_moments(ours)
    tlo, thi, tmean, tstd = _bounds_and_moments(theirs)
    if kind == "uniform":
        a, b = bound_or_std if isinstance(bound_or_std, tuple) else (-bound_or_std, bound_or_std)
        assert a <= lo and hi <= b
        assert lo - a < 1e-3 * (b - a) and b - hi < 1e-3 * (b - a)   # the bounds are reached
        assert abs(std - (b - a) / math.sqrt(12)) < 0.01 * (b - a)
        assert abs(tstd - (b - a) / math.sqrt(12)) < 0.01 * (b - a)
        assert abs(mean - (a + b) / 2) < 0.01 * (b - a)
    else:
        expected_mean = kwargs.get("mean", 0.0)
        assert abs(std - bound_or_std) < 0.01 * bound_or_std
        assert abs(std - tstd) < 0.01 * bound_or_std
        assert abs(mean - expected_mean) < 0.01 * bound_or_std
        assert abs(mean - tmean) < 0.02 * bound_or_std


def test_trunc_normal_statistics(device):
    ember.manual_seed(1)
    torch.manual_seed(1)
    kw = dict(mean=0.5, std=2.0, a=-1.0, b=3.0)
    lo, hi, mean, std = _bounds_and_moments(init.trunc_normal_(ember.empty(300, 1000, device=device), **kw))
    tlo, thi, tmean, tstd = _bounds_and_moments(tinit.trunc_normal_(torch.empty(300, 1000), **kw))
    assert -1.0 <= lo and hi <= 3.0
    assert abs(mean - tmean) < 0.01 and abs(std - tstd) < 0.01


def test_trunc_normal_far_mean_warns():
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        t = init.trunc_normal_(ember.empty(100), mean=10.0, std=1.0, a=-1.0, b=1.0)
    assert float(t.abs().max()) <= 1.0


def test_constant_ones_zeros_eye(device):
    assert init.constant_(ember.empty(2, 3, device=device), 0.25).tolist() == [[0.25] * 3] * 2
    assert init.ones_(ember.empty(3, device=device)).tolist() == [1.0] * 3
    assert init.zeros_(ember.ones(3, device=device)).tolist() == [0.0] * 3
    np.testing.assert_array_equal(init.eye_(ember.empty(3, 5, device=device)).cpu().numpy(),
                                  tinit.eye_(torch.empty(3, 5)).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ember.empty(2, 2, 2))


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 1), ((4, 2, 3, 3), 2),
                                          ((6, 2, 3, 4, 5), 3), ((2, 5, 3), 1), ((5, 2, 3, 3), 1)])
def test_dirac_matches_torch(shape, groups, device):
    np.testing.assert_array_equal(init.dirac_(ember.empty(*shape, device=device), groups).cpu().numpy(),
                                  tinit.dirac_(torch.empty(*shape), groups).numpy())


def test_dirac_errors():
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(ember.empty(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(ember.empty(4, 2, 3), groups=3)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (6, 6)])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_orthogonal(shape, dtype, device):
    w = init.orthogonal_(ember.empty(*shape, dtype=dtype, device=device), gain=2.0).cpu().numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-4)


def test_orthogonal_errors_and_empty():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ember.empty(3))
    assert tuple(init.orthogonal_(ember.empty(0, 3)).shape) == (0, 3)


def test_sparse(device):
    ember.manual_seed(3)
    w = init.sparse_(ember.empty(20, 50, device=device), sparsity=0.25, std=0.5).cpu().numpy()
    assert ((w == 0).sum(axis=0) == 5).all()
    assert abs(w[w != 0].std() - 0.5) < 0.05
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(ember.empty(2, 2, 2), 0.1)


def test_range_errors_match_torch():
    with pytest.raises(RuntimeError) as theirs:
        tinit.uniform_(torch.empty(3), 2, 1)
    with pytest.raises(RuntimeError) as ours:
        init.uniform_(ember.empty(3), 2, 1)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError) as theirs:
        tinit.normal_(torch.empty(3), 0, -1)
    with pytest.raises(RuntimeError) as ours:
        init.normal_(ember.empty(3), 0, -1)
    assert str(ours.value) == str(theirs.value)


def test_kaiming_zero_element_is_noop_with_warning():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        t = init.kaiming_uniform_(ember.empty(0, 3))
    assert tuple(t.shape) == (0, 3)


@pytest.mark.parametrize("fn,args", [
    (init.uniform_, ()), (init.normal_, ()), (init.trunc_normal_, ()), (init.constant_, (0.5,)),
    (init.ones_, ()), (init.zeros_, ()), (init.eye_, ()), (init.xavier_uniform_, ()),
    (init.xavier_normal_, ()), (init.kaiming_uniform_, ()), (init.kaiming_normal_, ()),
    (init.orthogonal_, ()), (init.sparse_, (0.5,)),
])
def test_in_place_on_parameter_without_history(fn, args):
    p = ember.nn.Parameter(ember.zeros(4, 6))
    before = p._version
    out = fn(p, *args)
    assert out is p
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p._version > before
    (p * 2).sum().backward()   # still a usable leaf
    assert p.grad is not None


def test_dirac_in_place_on_parameter():
    p = ember.nn.Parameter(ember.zeros(2, 2, 3))
    assert init.dirac_(p) is p and p.grad_fn is None


def test_views_are_filled_in_place():
    base = ember.zeros(4, 6)
    init.constant_(base[1:3], 7.0)
    assert base.numpy()[1:3].tolist() == [[7.0] * 6] * 2 and base.numpy()[0].tolist() == [0.0] * 6


@pytest.mark.parametrize("fn", ["uniform_", "normal_", "xavier_uniform_", "kaiming_normal_", "orthogonal_",
                                "trunc_normal_"])
def test_manual_seed_reproducible(fn):
    ember.manual_seed(123)
    a = getattr(init, fn)(ember.empty(5, 7)).numpy().copy()
    ember.manual_seed(123)
    b = getattr(init, fn)(ember.empty(5, 7)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [ember.float16, ember.float64])
def test_keeps_dtype(dtype):
    t = init.kaiming_uniform_(ember.empty(8, 8, dtype=dtype))
    assert t.dtype is dtype
    assert init.trunc_normal_(ember.empty(8, dtype=dtype)).dtype is dtype


def test_deprecated_aliases_warn():
    for old in ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
                "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"):
        assert callable(getattr(init, old))
    with pytest.warns(FutureWarning, match="`nn.init.xavier_uniform` is now deprecated in favor of "
                                           "`nn.init.xavier_uniform_`"):
        init.xavier_uniform(ember.empty(3, 3))


def test_public_names_cover_torch():
    missing = [n for n in dir(tinit) if not n.startswith("_") and callable(getattr(tinit, n))
               and n not in ("Callable", "Literal", "ParamSpec", "Tensor", "TypeVar") and not hasattr(init, n)]
    assert missing == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.kaiming_uniform_(ember.empty(2, 2))
