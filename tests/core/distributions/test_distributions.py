"""ember.distributions against torch.distributions: log_prob, entropy, moments and their
gradients (float64 to 1e-10), sample shapes and supports, reparameterised sampling,
and the validation errors (same type and message)."""

import math

import numpy as np
import pytest

import ember
import ember.distributions as ED
from tests.oracle import same_outcome, torch

TD = torch.distributions
RNG = np.random.default_rng(0)
TOL = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=1e-5, atol=1e-5)}


def _pair(array, requires_grad=True):
    """The same array as an ember and a torch tensor (floating ones require grad)."""
    grad = requires_grad and array.dtype.kind == "f"
    return (ember.tensor(array).requires_grad_(grad), torch.tensor(array).requires_grad_(grad))


def _params(spec, dtype):
    """``{name: array}`` built from ``{name: (kind, shape)}``."""
    out = {}
    for name, (kind, shape) in spec.items():
        x = RNG.standard_normal(shape)
        x = {"real": x, "positive": np.abs(x) + 0.3, "unit": 1 / (1 + np.exp(-x)),
             "simplex": np.abs(x) + 0.05}[kind]
        out[name] = x.astype(dtype)
    return out


CASES = {
    "normal": (ED.Normal, TD.Normal, {"loc": ("real", (3,)), "scale": ("positive", (2, 1))},
               lambda shape: RNG.standard_normal((4,) + shape)),
    "uniform": (ED.Uniform, TD.Uniform, {"low": ("real", (2, 3)), "high": ("real", (3,))},
                None),
    "categorical_probs": (ED.Categorical, TD.Categorical, {"probs": ("simplex", (2, 5))},
                          lambda shape: RNG.integers(0, 5, (3,) + shape)),
    "categorical_logits": (ED.Categorical, TD.Categorical, {"logits": ("real", (2, 5))},
                           lambda shape: RNG.integers(0, 5, (3,) + shape)),
    "bernoulli_probs": (ED.Bernoulli, TD.Bernoulli, {"probs": ("unit", (2, 3))},
                        lambda shape: RNG.integers(0, 2, (4,) + shape)),
    "bernoulli_logits": (ED.Bernoulli, TD.Bernoulli, {"logits": ("real", (2, 3))},
                         lambda shape: RNG.integers(0, 2, (4,) + shape)),
}


def _build(case, dtype):
    ember_cls, torch_cls, spec, values = CASES[case]
    arrays = _params(spec, dtype)
    if case == "uniform":
        arrays["high"] = arrays["low"].max(0) + 0.5 + np.abs(arrays["high"])
    pairs = {k: _pair(v) for k, v in arrays.items()}
    e = ember_cls(**{k: p[0] for k, p in pairs.items()})
    t = torch_cls(**{k: p[1] for k, p in pairs.items()})
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    if values is None:  # uniform: points inside the support
        lo, hi = arrays["low"], arrays["high"]
        value = lo + (hi - lo) * RNG.uniform(size=(4,) + lo.shape)
    else:
        value = values(tuple(t.batch_shape))
    value = value.astype(dtype if case.startswith(("normal", "bernoulli")) else value.dtype)
    return pairs, e, t, value


def _close(a, b, dtype, what):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL[dtype], err_msg=what)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_entropy_moments_and_gradients_match_torch(case, dtype):
    pairs, e, t, value = _build(case, dtype)
    ev, tv = ember.tensor(value), torch.tensor(value)
    e_lp, t_lp = e.log_prob(ev), t.log_prob(tv)
    assert tuple(e_lp.shape) == tuple(t_lp.shape)
    _close(e_lp, t_lp, dtype, "log_prob")
    _close(e.entropy(), t.entropy(), dtype, "entropy")
    for name in ("probs", "logits") if case.startswith(("categorical", "bernoulli")) else ():
        _close(getattr(e, name), getattr(t, name), dtype, name)
    if not case.startswith("categorical"):
        for name in ("mean", "variance", "stddev"):
            _close(getattr(e, name), getattr(t, name), dtype, name)
    weights = RNG.standard_normal(tuple(t_lp.shape)).astype(dtype)
    e_loss = (e_lp * ember.tensor(weights)).sum() + (e.entropy() * 0.7).sum()
    t_loss = (t_lp * torch.tensor(weights)).sum() + (t.entropy() * 0.7).sum()
    e_loss.backward()
    t_loss.backward()
    for name, (ep, tp) in pairs.items():
        _close(ep.grad, tp.grad, dtype, f"gradient of {name}")


def test_categorical_moments_are_nan_like_torch():
    probs = RNG.uniform(size=(2, 4)) + 0.1
    e, t = ED.Categorical(ember.tensor(probs)), TD.Categorical(torch.tensor(probs))
    assert np.isnan(e.mean.numpy()).all() and tuple(e.mean.shape) == tuple(t.mean.shape) == (2,)
    assert np.isnan(e.variance.numpy()).all()


def test_categorical_with_a_zero_probability_matches_torch():
    probs = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    ep, tp = _pair(probs)
    e, t = ED.Categorical(ep), TD.Categorical(tp)
    value = np.array([1, 2])
    _close(e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)), "float64", "log_prob")
    e.entropy().sum().backward()
    t.entropy().sum().backward()
    _close(e.entropy(), t.entropy(), "float64", "entropy")
    _close(ep.grad, tp.grad, "float64", "entropy gradient")


def test_scalar_parameters_give_empty_batch_shape_and_default_dtype():
    for e, t in [(ED.Normal(0.0, 1.0), TD.Normal(0.0, 1.0)), (ED.Uniform(-1, 2), TD.Uniform(-1, 2)),
                 (ED.Bernoulli(0.3), TD.Bernoulli(0.3)), (ED.Bernoulli(logits=-1.0), TD.Bernoulli(logits=-1.0))]:
        assert tuple(e.batch_shape) == tuple(t.batch_shape) == ()
        assert e.mean.dtype == ember.float32 and str(t.mean.dtype) == "torch.float32"
        _close(e.entropy(), t.entropy(), "float32", type(e).__name__)
        assert repr(e) == repr(t)


def test_numbers_mixed_with_tensors_broadcast_like_torch():
    loc = np.zeros((2, 3))
    e, t = ED.Normal(ember.tensor(loc), 2), TD.Normal(torch.tensor(loc), 2)
    assert e.scale.dtype == ember.float64 and tuple(e.batch_shape) == tuple(t.batch_shape) == (2, 3)
    value = RNG.standard_normal((5, 1, 3))
    _close(e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)), "float64", "log_prob")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3)])
def test_sample_shapes_dtypes_and_supports(case, sample_shape):
    _, e, t, _ = _build(case, "float64")
    s, ts = e.sample(sample_shape), t.sample(sample_shape)
    assert tuple(s.shape) == tuple(ts.shape)
    assert s.dtype.name == str(ts.dtype).replace("torch.", "")
    assert not s.requires_grad
    assert bool(e.support.check(s).all())
    e.log_prob(s)  # validated: inside the support


def test_samples_follow_the_distribution():
    ember.manual_seed(0)
    n = 20000
    probs = ember.tensor([0.1, 0.2, 0.7], dtype=ember.float64)
    counts = np.bincount(ED.Categorical(probs).sample((n,)).numpy(), minlength=3) / n
    np.testing.assert_allclose(counts, probs.numpy(), atol=0.015)
    b = ED.Bernoulli(ember.tensor([0.2, 0.9])).sample((n,)).numpy().mean(0)
    np.testing.assert_allclose(b, [0.2, 0.9], atol=0.015)
    x = ED.Normal(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 3.0])).sample((n,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -2.0], atol=0.1)
    np.testing.assert_allclose(x.std(0), [0.5, 3.0], rtol=0.03)
    u = ED.Uniform(ember.tensor([0.0, 2.0]), ember.tensor([1.0, 6.0])).sample((n,)).numpy()
    assert (u >= [0, 2]).all() and (u < [1, 6]).all()
    np.testing.assert_allclose(u.mean(0), [0.5, 4.0], atol=0.05)


def test_sampling_is_reproducible_with_manual_seed():
    d = ED.Categorical(logits=ember.zeros(4, 6))
    ember.manual_seed(11)
    first = d.sample((5,)).numpy()
    ember.manual_seed(11)
    np.testing.assert_array_equal(d.sample((5,)).numpy(), first)


@pytest.mark.parametrize("cls,params", [(ED.Normal, ("loc", "scale")), (ED.Uniform, ("low", "high"))])
def test_rsample_is_differentiable(cls, params):
    a = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([2.0, 1.5], dtype=ember.float64, requires_grad=True)
    ember.manual_seed(4)
    x = cls(a, b).rsample((6,))
    ember.manual_seed(4)
    base = (ember.randn if cls is ED.Normal else ember.rand)((6, 2), dtype=ember.float64).numpy()
    (x * x).sum().backward()
    xs = x.detach().numpy()
    if cls is ED.Normal:  # x = loc + eps * scale
        expected_a, expected_b = (2 * xs).sum(0), (2 * xs * base).sum(0)
    else:  # x = low + u * (high - low)
        expected_a, expected_b = (2 * xs * (1 - base)).sum(0), (2 * xs * base).sum(0)
    np.testing.assert_allclose(a.grad.numpy(), expected_a, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), expected_b, rtol=1e-12)
    assert ED.Categorical(ember.ones(3)).has_rsample is False
    with pytest.raises(NotImplementedError):
        ED.Categorical(ember.ones(3)).rsample()


def test_uniform_log_prob_outside_is_minus_infinity():
    e, t = ED.Uniform(0.0, 2.0, validate_args=False), TD.Uniform(0.0, 2.0, validate_args=False)
    v = [-1.0, 0.0, 1.0, 2.0, 3.0]
    np.testing.assert_array_equal(e.log_prob(ember.tensor(v)).numpy(), t.log_prob(torch.tensor(v)).numpy())


def _errors():
    """(name, build) where build(lib, dist) must raise the same error in both libraries."""
    def tensor(lib, x):
        return lib.tensor(x)

    return {
        "normal negative scale": lambda L, D: D.Normal(tensor(L, [0.0, 1.0]), tensor(L, [1.0, -1.0])),
        "normal zero scale": lambda L, D: D.Normal(0.0, 0.0),
        "normal nan loc": lambda L, D: D.Normal(tensor(L, float("nan")), 1.0),
        "categorical negative": lambda L, D: D.Categorical(tensor(L, [[0.5, -0.1], [1.0, 0.0]])),
        "categorical infinite logit": lambda L, D: D.Categorical(logits=tensor(L, [0.0, float("inf")])),
        "categorical 0-d": lambda L, D: D.Categorical(tensor(L, 1.0)),
        "categorical neither": lambda L, D: D.Categorical(),
        "bernoulli above one": lambda L, D: D.Bernoulli(tensor(L, [1.5])),
        "bernoulli nan logits": lambda L, D: D.Bernoulli(logits=tensor(L, float("nan"))),
        "bernoulli both": lambda L, D: D.Bernoulli(0.5, logits=0.0),
        "uniform reversed": lambda L, D: D.Uniform(1.0, 0.0),
        "uniform empty interval": lambda L, D: D.Uniform(tensor(L, [0.0, 1.0]), tensor(L, [1.0, 1.0])),
        "log_prob of a number": lambda L, D: D.Normal(0.0, 1.0).log_prob(1.0),
        "log_prob not broadcastable": lambda L, D: D.Normal(tensor(L, [0.0, 1.0]), 1.0).log_prob(tensor(L, [1.0, 2.0, 3.0])),
        "categorical class too big": lambda L, D: D.Categorical(tensor(L, [0.5, 0.5])).log_prob(tensor(L, 2)),
        "categorical fractional class": lambda L, D: D.Categorical(tensor(L, [0.5, 0.5])).log_prob(tensor(L, 0.5)),
        "bernoulli value 0.5": lambda L, D: D.Bernoulli(0.3).log_prob(tensor(L, 0.5)),
        "normal nan value": lambda L, D: D.Normal(0.0, 1.0).log_prob(tensor(L, float("nan"))),
        "uniform value outside": lambda L, D: D.Uniform(0.0, 1.0).log_prob(tensor(L, 1.5)),
    }


@pytest.mark.parametrize("name", sorted(_errors()))
def test_validation_errors_match_torch(name):
    build = _errors()[name]
    same_outcome(lambda: build(ember, ED), (), lambda: build(torch, TD), raises=True, message=True)


def test_validation_can_be_switched_off():
    d = ED.Normal(0.0, -1.0, validate_args=False)
    assert math.isnan(d.log_prob(ember.tensor(0.0)).item())
    try:
        ED.Distribution.set_default_validate_args(False)
        ED.Bernoulli(ember.tensor([2.0]))
    finally:
        ED.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="Expected parameter probs"):
        ED.Bernoulli(ember.tensor([2.0]))
    with pytest.raises(ValueError):
        ED.Distribution.set_default_validate_args("yes")


def test_bad_parameter_types_and_shapes():
    with pytest.raises(ValueError, match="numbers.Number or ember.Tensor, but got list"):
        ED.Normal([0.0], 1.0)
    with pytest.raises(RuntimeError, match=r"shapes \(2,\), \(3,\) cannot be broadcast"):
        ED.Normal(ember.zeros(2), ember.ones(3))
    with pytest.raises(TypeError, match="`probs` must be a Tensor"):
        ED.Categorical([0.5, 0.5])
