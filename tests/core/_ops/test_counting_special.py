"""histc, bincount, unique, unique_consecutive, cross, lerp, meshgrid, renorm, erfinv,
lgamma, digamma and polygamma, compared with torch (and SciPy for the special
functions' accuracy)."""

import numpy as np
import pytest

import ember
from tests.oracle import assert_same, check, same_outcome, torch

FLOATS = [np.float64, np.float32]
rng = np.random.default_rng(1)


# ----------------------------------------------------------------- histc
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bins, lo, hi", [(10, 0, 0), (7, -1.0, 1.5), (1, 0, 0), (100, -3, 3), (5, 2, 2)])
def test_histc_matches_torch(dtype, bins, lo, hi):
    x = rng.standard_normal((6, 50)).astype(dtype)
    x[0, :5] = [hi, lo, 1.5, -1.0, 0.0]  # values on the edges
    same_outcome(lambda m: m.histc(m.tensor(x), bins, lo, hi), raises=False)
    same_outcome(lambda m: m.tensor(x.T).histc(bins=bins, min=lo, max=hi), raises=False)


def test_histc_corner_cases():
    same_outcome(lambda m: m.histc(m.tensor(np.array([2.0, 2.0])), 3), raises=False)
    same_outcome(lambda m: m.histc(m.tensor(np.array([1.0, np.nan, np.inf, -np.inf, 3.0])), 4, 0, 3), raises=False)
    same_outcome(lambda m: m.histc(m.tensor(np.zeros(0)), 3), raises=False)
    same_outcome(lambda m: m.histc(m.tensor(np.array(1.5)), 5), raises=False)
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert not ember.histc(x, 3).requires_grad


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.histc(ember.tensor([1.0]), 0), RuntimeError, "bins must be > 0"),
    (lambda: ember.histc(ember.tensor([1.0]), 3, 2, 1), RuntimeError, "max must be larger than min"),
    (lambda: ember.histc(ember.tensor([1.0, np.nan]), 3), RuntimeError, "not finite"),
    (lambda: ember.histc(ember.tensor([1.0, np.inf]), 3), RuntimeError, "not finite"),
    (lambda: ember.histc(ember.tensor([1, 2]), 3), NotImplementedError, "Long"),
    (lambda: ember.histc(ember.tensor([1.0]), 2.5), TypeError, "bins"),
])
def test_histc_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- bincount
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_bincount_matches_torch(dtype):
    x = rng.integers(0, 7, 40).astype(dtype)
    same_outcome(lambda m: m.bincount(m.tensor(x)), raises=False)
    same_outcome(lambda m: m.tensor(x).bincount(minlength=12), raises=False)
    for weight_dtype in (np.float64, np.float32, np.float16, np.int64):
        w = rng.standard_normal(40).astype(weight_dtype)
        same_outcome(lambda m: m.bincount(m.tensor(x), m.tensor(w)), raises=False)
    same_outcome(lambda m: m.bincount(m.tensor(np.zeros(0, np.int64))), raises=False)
    same_outcome(lambda m: m.bincount(m.tensor(np.zeros(0, np.int64)), minlength=3), raises=False)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.bincount(ember.tensor([-1, 1])), RuntimeError, "non-negative"),
    (lambda: ember.bincount(ember.tensor([[1]])), RuntimeError, "1-d"),
    (lambda: ember.bincount(ember.tensor([1.0])), NotImplementedError, "Float"),
    (lambda: ember.bincount(ember.tensor([True])), NotImplementedError, "Bool"),
    (lambda: ember.bincount(ember.tensor([1, 2]), minlength=-1), RuntimeError, "minlength should be >= 0"),
    (lambda: ember.bincount(ember.tensor([1, 2]), ember.tensor([1.0])), RuntimeError, "same length"),
    (lambda: ember.bincount([1, 2]), TypeError, "Tensor"),
])
def test_bincount_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- unique
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.bool_])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_matches_torch(dtype, dim):
    x = rng.integers(0, 3, (6, 3)).astype(dtype)
    x[3] = x[0]  # a repeated row for dim=0
    for inverse, counts in ((False, False), (True, False), (False, True), (True, True)):
        # keywords: torch.unique_consecutive misreads positional flags
        flags = dict(return_inverse=inverse, return_counts=counts, dim=dim)
        same_outcome(lambda m: m.unique(m.tensor(x), True, inverse, counts, dim=dim), raises=False)
        same_outcome(lambda m: m.tensor(x).unique_consecutive(**flags), raises=False)
        same_outcome(lambda m: m.unique_consecutive(m.tensor(x).flip(0), **flags), raises=False)


def test_unique_nan_zero_dim_empty_and_non_contiguous():
    x = np.array([[3.0, 1.0, np.nan], [1.0, np.nan, -0.0], [0.0, 2.0, 2.0]])
    same_outcome(lambda m: m.unique(m.tensor(x), return_inverse=True, return_counts=True), raises=False)
    same_outcome(lambda m: m.unique(m.tensor(x).t(), return_inverse=True, return_counts=True, dim=1), raises=False)
    same_outcome(lambda m: m.unique(m.tensor(np.array(3.0)), return_inverse=True, return_counts=True), raises=False)
    for shape, dim in (((0,), None), ((0, 3), 0), ((3, 0), 1), ((0, 3), None)):
        same_outcome(lambda m: m.unique(m.tensor(np.zeros(shape)), return_inverse=True, return_counts=True, dim=dim),
                     raises=False)
        same_outcome(lambda m: m.unique_consecutive(m.tensor(np.zeros(shape)), return_inverse=True,
                                                    return_counts=True, dim=dim), raises=False)
    e = ember.unique(ember.tensor([3, 1, 3]), sorted=False)  # accepted, ascending as torch gives it
    assert e.tolist() == [1, 3]


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.unique(ember.zeros(2, 3), dim=2), IndexError, "Dimension out of range"),
    (lambda: ember.unique(ember.tensor(1.0), dim=0), IndexError, "no dimensions"),
    (lambda: ember.unique_consecutive(ember.tensor(1.0), dim=0), IndexError, "no dimensions"),
    (lambda: ember.unique(ember.zeros(3, 0), dim=0), RuntimeError, "0 sized dimensions"),
])
def test_unique_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- cross
@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_matches_torch(dtype):
    a, b = rng.standard_normal((2, 4, 3, 5)).astype(dtype)
    check(lambda x, y: x.cross(y, dim=1), [a, b])
    first = [np.ascontiguousarray(v.transpose(1, 0, 2)) for v in (a, b)]  # the size-3 dim first
    check(lambda x, y: x.cross(y, dim=-3), first)
    check(lambda x, y: ember.cross(x, y) if isinstance(x, ember.Tensor) else torch.cross(x, y, dim=1), [a, b])
    check(lambda x, y: x.transpose(1, 2).cross(y.transpose(1, 2), dim=2), [a, b])  # non-contiguous
    check(lambda x, y: x.cross(y, dim=1), [a[:1], b])  # broadcast
    same_outcome(lambda m: m.cross(m.tensor(np.array([1, 2, 3])), m.tensor(np.array([4, 5, 6])), dim=0), raises=False)
    same_outcome(lambda m: m.cross(m.tensor(np.zeros((0, 3))), m.tensor(np.zeros((0, 3))), dim=1), raises=False)


@pytest.mark.parametrize("a, b, kwargs, error, match", [
    ((2, 4), (2, 4), {}, RuntimeError, "no dimension of size 3"),
    ((3, 2), (3, 2), dict(dim=1), RuntimeError, "must have length 3"),
    ((3, 2), (3, 2), dict(dim=2), IndexError, "Dimension out of range"),
    ((2, 3), (3,), {}, RuntimeError, "same number of dimensions"),
    ((4, 3), (3, 3), {}, RuntimeError, "must match"),
])
def test_cross_bad_input(a, b, kwargs, error, match):
    with pytest.raises(error, match=match):
        ember.cross(ember.zeros(*a), ember.zeros(*b), **kwargs)


def test_cross_dtype_mismatch():
    with pytest.raises(RuntimeError, match="expected scalar type"):
        ember.cross(ember.zeros(3), ember.zeros(3, dtype=ember.float64))


# ----------------------------------------------------------------- lerp
@pytest.mark.parametrize("dtype", FLOATS)
def test_lerp_matches_torch(dtype):
    s, e = rng.standard_normal((2, 3, 4)).astype(dtype)
    w = rng.uniform(-0.5, 1.5, (3, 4)).astype(dtype)
    for weight in (0.3, 0.5, 1.0, 2, -0.25):
        check(lambda a, b: a.lerp(b, weight), [s, e])
    check(lambda a, b, c: ember.lerp(a, b, c) if isinstance(a, ember.Tensor) else torch.lerp(a, b, c), [s, e, w])
    check(lambda a, b, c: a.lerp(b, c), [s[:1], e, w[:, :1]])  # broadcasting, all three
    check(lambda a, b, c: a.t().lerp(b.t(), c.t()), [s, e, w])
    check(lambda a, b: (a * 1).lerp_(b, 0.7), [s, e])
    check(lambda a, b, c: (a * 1).lerp_(b, c), [s, e, w])


def test_lerp_weight_one_gives_end_exactly():
    s, e = ember.tensor([1e20, 0.1]), ember.tensor([1.0, 0.3])
    assert ember.lerp(s, e, 1.0).tolist() == e.tolist()


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.lerp(ember.zeros(2), ember.zeros(2, dtype=ember.float64), 0.5), RuntimeError, "for `end`"),
    (lambda: ember.lerp(ember.zeros(2), ember.zeros(2), ember.zeros(2, dtype=ember.float64)), RuntimeError,
     "for `weight`"),
    (lambda: ember.lerp(ember.tensor([1, 2]), ember.tensor([3, 4]), 0.5), NotImplementedError, "Long"),
    (lambda: ember.zeros(2).lerp_(ember.zeros(1, 2), 0.5), RuntimeError, "doesn't match the broadcast shape"),
    (lambda: ember.lerp(ember.zeros(2), ember.zeros(3), 0.5), RuntimeError, "must match"),
    (lambda: ember.lerp(ember.zeros(2), 3.0, 0.5), TypeError, "Tensor"),
])
def test_lerp_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- meshgrid
@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing):
    a, b, c = np.arange(2.0), np.arange(3.0) + 10, np.arange(4.0) - 5
    check(lambda x, y, z: ember.meshgrid(x, y, z, indexing=indexing) if isinstance(x, ember.Tensor)
          else torch.meshgrid(x, y, z, indexing=indexing), [a, b, c])
    check(lambda x, y: ember.meshgrid([x, y], indexing=indexing) if isinstance(x, ember.Tensor)
          else torch.meshgrid([x, y], indexing=indexing), [a, np.array(7.0)])
    check(lambda x: ember.meshgrid(x, indexing=indexing) if isinstance(x, ember.Tensor)
          else torch.meshgrid(x, indexing=indexing), [b])


def test_meshgrid_defaults_to_ij():
    grids = ember.meshgrid(ember.arange(2), ember.arange(3))
    assert [tuple(g.shape) for g in grids] == [(2, 3), (2, 3)]


@pytest.mark.parametrize("call, match", [
    (lambda: ember.meshgrid(), "non-empty"),
    (lambda: ember.meshgrid(ember.zeros(2, 2)), "0D or 1D"),
    (lambda: ember.meshgrid(ember.zeros(2), ember.zeros(2, dtype=ember.float64)), "same dtype"),
    (lambda: ember.meshgrid(ember.zeros(2), indexing="foo"), "indexing must be"),
])
def test_meshgrid_bad_input(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


# ----------------------------------------------------------------- renorm
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [1, 2, 3.5, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_renorm_matches_torch(dtype, p, dim):
    x = rng.standard_normal((3, 4, 2)).astype(dtype) * np.array([0.1, 1.0, 3.0]).reshape(3, 1, 1).astype(dtype)
    check(lambda a: a.renorm(p, dim, 1.0), [x])
    check(lambda a: (a * 1).renorm_(p, dim, 1.5), [x], gradcheck=False)


def test_renorm_corner_cases():
    check(lambda a: a.renorm(2, 0, 0.0), [rng.standard_normal((2, 3))])
    check(lambda a: a.renorm(2, 0, 1.0), [np.zeros((0, 3))], gradcheck=False)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.renorm(ember.zeros(3), 2, 0, 1), RuntimeError, "at least 2 dimensions"),
    (lambda: ember.renorm(ember.zeros(2, 3), 0, 0, 1), RuntimeError, "non-positive-norm"),
    (lambda: ember.renorm(ember.zeros(2, 3), 2, 0, -1), RuntimeError, "maxnorm to be >= 0"),
    (lambda: ember.renorm(ember.zeros(2, 3), 2, 2, 1), IndexError, "Dimension out of range"),
    (lambda: ember.renorm(ember.tensor([[1, 2]]), 2, 0, 1), RuntimeError, "floating point"),
])
def test_renorm_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- special functions
scipy_special = pytest.importorskip("scipy.special")

WIDE = np.concatenate([
    np.linspace(-40.3, 40.1, 4001), np.logspace(-300, 300, 121), -np.logspace(-300, 12, 60) + 0.25,
    1 + np.logspace(-15, -1, 15), 2 - np.logspace(-15, -1, 15), [171.3, 1e100],
])
WIDE = WIDE[(WIDE > 0) | (WIDE != np.floor(WIDE))]  # no poles
SPECIAL_POINTS = np.array([0.0, -0.0, -1.0, -2.0, -7.0, np.inf, -np.inf, np.nan, 1e-310, -1e-310])


def _close(e, ref, rtol=1e-12, atol=1e-300):
    np.testing.assert_allclose(e, ref, rtol=rtol, atol=atol, equal_nan=True)


def test_erfinv_accuracy_and_special_values():
    y = np.concatenate([np.linspace(-1, 1, 4001), 1 - np.logspace(-16, -1, 300), -np.logspace(-320, -1, 100),
                        [1 - 2.0 ** -53, -1 + 2.0 ** -53, 1.5, -1.0001, np.nan, -0.0, 0.0]])
    e = ember.erfinv(ember.tensor(y)).numpy()
    _close(e, torch.erfinv(torch.tensor(y)).numpy())
    _close(e, scipy_special.erfinv(y))
    assert np.signbit(ember.erfinv(ember.tensor(-0.0)).item())


def test_lgamma_accuracy_and_special_values():
    e = ember.lgamma(ember.tensor(WIDE)).numpy()
    # relative accuracy, except at the zeros of lgamma left of 0 where no value is relative-accurate
    _close(e, torch.lgamma(torch.tensor(WIDE)).numpy(), atol=1e-14)
    _close(e, scipy_special.gammaln(WIDE), rtol=1e-11, atol=1e-14)
    _close(ember.lgamma(ember.tensor(SPECIAL_POINTS)).numpy(), torch.lgamma(torch.tensor(SPECIAL_POINTS)).numpy())


def test_digamma_accuracy_and_special_values():
    e = ember.digamma(ember.tensor(WIDE)).numpy()
    _close(e, torch.digamma(torch.tensor(WIDE)).numpy(), atol=1e-14)
    _close(e, scipy_special.psi(WIDE), rtol=1e-11, atol=1e-14)
    np.testing.assert_array_equal(ember.digamma(ember.tensor(SPECIAL_POINTS)).numpy(),
                                  torch.digamma(torch.tensor(SPECIAL_POINTS)).numpy())


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_polygamma_accuracy(n):
    x = WIDE[WIDE > -1e4]  # SciPy's time grows with |x| left of 0
    if n == 1:  # reflection (constant time) far left of 0: psi1(x) + psi1(1 - x) = pi^2 / sin^2(pi x)
        far = np.array([-1e6 + 0.25, -123456.5, -1e12 + 0.75])
        total = (ember.polygamma(1, ember.tensor(far)) + ember.polygamma(1, ember.tensor(1 - far))).numpy()
        _close(total, np.pi ** 2 / np.sin(np.pi * (far - np.round(far))) ** 2)
    e = ember.polygamma(n, ember.tensor(x)).numpy()
    _close(e, scipy_special.polygamma(n, x), rtol=1e-11, atol=1e-200)  # SciPy underflows to 0 sooner
    # torch's own trigamma is accurate to about 1e-9 only; for n >= 2 it gives 0 or NaN far right
    moderate = np.abs(x) < 1e15
    _close(e[moderate], torch.polygamma(n, torch.tensor(x[moderate])).numpy(), rtol=1e-7 if n == 1 else 1e-11,
           atol=1e-200)
    assert (ember.polygamma(n, ember.tensor([np.inf, 1e300])).numpy() == 0).all()
    # poles: (-1)^(n+1) inf as torch (where torch's trigamma gives a large finite number)
    poles = ember.polygamma(n, ember.tensor([0.0, -0.0, -1.0, -3.0])).numpy()
    assert (poles == (np.inf if n % 2 else -np.inf)).all()
    assert np.isnan(ember.polygamma(n, ember.tensor(np.nan)).item())
    at_minus_inf = torch.polygamma(n, torch.tensor(-np.inf, dtype=torch.float64)).item()
    _close(ember.polygamma(n, ember.tensor(-np.inf)).item(), at_minus_inf)


@pytest.mark.parametrize("name", ["erfinv", "lgamma", "digamma"])
def test_special_float32_and_integer_inputs(name):
    x = np.array([0.3, -0.7, 0.9, 0.0, 0.5], np.float32) if name == "erfinv" else np.array(
        [0.3, 2.5, 10.0, -1.5, 1e-5, 35.0], np.float32)
    e, t = getattr(ember, name)(ember.tensor(x)), getattr(torch, name)(torch.tensor(x))
    assert_same(e, t)
    ints = np.array([0, 1, 2, 5])
    e, t = getattr(ember, name)(ember.tensor(ints)), getattr(torch, name)(torch.tensor(ints))
    assert_same(e, t)
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(ember.tensor(ints), name + "_")()


INSIDE = rng.uniform(-0.9, 0.9, (3, 4))
POSITIVE = rng.uniform(0.2, 6.0, (3, 4))
NEGATIVE = -rng.uniform(0.1, 0.9, (2, 3)) - rng.integers(0, 4, (2, 3))


@pytest.mark.parametrize("dtype", FLOATS)
def test_special_gradients(dtype):
    check(lambda a: a.erfinv(), [INSIDE.astype(dtype)])
    for x in (POSITIVE, NEGATIVE):
        check(lambda a: a.lgamma(), [x.astype(dtype)])
        check(lambda a: a.digamma(), [x.astype(dtype)])
        for n in (0, 1, 2, 4):
            check(lambda a: a.polygamma(n), [x.astype(dtype)])
    check(lambda a: a.t().lgamma(), [POSITIVE.astype(dtype)])  # non-contiguous


@pytest.mark.parametrize("name", ["erfinv", "lgamma", "digamma"])
def test_special_inplace_and_zero_dim(name):
    x = INSIDE if name == "erfinv" else POSITIVE
    check(lambda a: getattr(a * 1, name + "_")(), [x])
    check(lambda a: getattr(a, name)(), [np.array(0.4)])
    check(lambda a: getattr(a, name)(), [np.zeros((0, 2))], gradcheck=False)
    check(lambda a: (a * 1).polygamma_(2), [POSITIVE])


def test_polygamma_bad_input():
    with pytest.raises(RuntimeError, match="negative n"):
        ember.polygamma(-1, ember.zeros(2))
    with pytest.raises(TypeError, match="'n' must be int"):
        ember.polygamma(1.5, ember.zeros(2))
    with pytest.raises(TypeError, match="Tensor"):
        ember.lgamma([1.0])
