"""equal, isclose, allclose and numel compared with torch: results, dtype rules, errors."""

import numpy as np
import pytest

import ember
from tests.oracle import same_outcome, torch

DTYPES = ["float64", "float32", "float16", "int64", "int32", "int8", "uint8", "bool"]


def _pair(dtype, seed):
    """Two torch tensors of ``dtype`` that are close, far, infinite and NaN in places."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(40) * rng.choice([1, 10, 1000], 40)
    b = a + rng.standard_normal(40) * rng.choice([1e-9, 1e-6, 1e-3, 1, 100], 40)
    a[:4], b[:4] = [np.inf, np.nan, -np.inf, np.inf], [np.inf, np.nan, np.inf, 1e30]
    if dtype in ("float64", "float32", "float16"):
        return torch.tensor(a).to(getattr(torch, dtype)), torch.tensor(b).to(getattr(torch, dtype))
    a, b = np.nan_to_num(a[4:], posinf=0, neginf=0), np.nan_to_num(b[4:], posinf=0, neginf=0)
    return torch.tensor(a).to(getattr(torch, dtype)), torch.tensor(np.round(b)).to(getattr(torch, dtype))


def _ember(t):
    return ember.tensor(t.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rtol, atol", [(1e-5, 1e-8), (0, 0), (1e-3, 0), (0, 1.5), (0.1, 2), (1, 1e-8)])
@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_and_allclose_match_torch(dtype, rtol, atol, equal_nan):
    for seed in range(3):
        a, b = _pair(dtype, seed)
        expected = torch.isclose(a, b, rtol, atol, equal_nan)
        got = ember.isclose(_ember(a), _ember(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
        assert got.dtype is ember.bool
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
        assert _ember(a).isclose(_ember(b), rtol, atol, equal_nan).tolist() == expected.tolist()
        for x, y in ((a, b), (a, a), (a[4:6], b[4:6]), (a[4:], a[4:])):
            e = ember.allclose(_ember(x), _ember(y), rtol, atol, equal_nan)
            assert e is torch.allclose(x, y, rtol, atol, equal_nan)


def test_isclose_broadcasts_and_works_on_non_contiguous():
    a = torch.randn(3, 4, dtype=torch.float64)
    b = a[:1] + 1e-9
    assert ember.isclose(_ember(a).t(), _ember(b).t()).tolist() == torch.isclose(a.t(), b.t()).tolist()
    assert ember.allclose(_ember(b), _ember(b).expand(5, 4))


def test_isclose_counts_integer_differences_without_wrapping():
    a, b = ember.tensor([0, 255], dtype=ember.uint8), ember.tensor([255, 0], dtype=ember.uint8)
    assert ember.isclose(a, b, atol=254).tolist() == [False, False]
    assert ember.isclose(a, b, atol=255).tolist() == [True, True]


EQUAL = [
    ([1.0, 2.0], [1.0, 2.0]),
    ([1.0, 2.0], [1.0, 2.5]),
    ([1, 2], [1.0, 2.0]),
    ([1, 2], [[1, 2]]),
    ([1, 2], [1, 2, 3]),
    ([float("nan")], [float("nan")]),
    ([-0.0], [0.0]),
    ([True, False], [1, 0]),
    ([], []),
]


@pytest.mark.parametrize("a, b", EQUAL)
def test_equal_matches_torch(a, b):
    assert ember.equal(ember.tensor(a), ember.tensor(b)) is torch.equal(torch.tensor(a), torch.tensor(b))
    assert ember.tensor(a).equal(ember.tensor(b)) is torch.equal(torch.tensor(a), torch.tensor(b))


def test_equal_promotes_as_torch_does():
    # float32 cannot hold 2**24 + 1: in the promoted dtype (float32) the two are equal
    a, b = [2 ** 24 + 1], [float(2 ** 24)]
    expected = torch.equal(torch.tensor(a), torch.tensor(b, dtype=torch.float32))
    assert ember.equal(ember.tensor(a), ember.tensor(b, dtype=ember.float32)) is expected


def test_equal_same_tensor_with_nan_is_false():
    t = ember.tensor([1.0, float("nan")])
    assert ember.equal(t, t) is False
    assert ember.equal(t[:1], t[:1]) is True


def test_numel():
    assert ember.numel(ember.zeros(2, 3, 4)) == 24 == torch.numel(torch.zeros(2, 3, 4))
    assert ember.numel(ember.tensor(1.0)) == 1
    assert ember.numel(ember.zeros(0, 3)) == 0
    assert ember.zeros(2, 3).numel() == 6
    assert isinstance(ember.numel(ember.zeros(2)), int)


BAD = {
    "isclose dtypes": lambda lib: lib.isclose(lib.ones(2), lib.ones(2).double()),
    "isclose int and float": lambda lib: lib.isclose(lib.ones(2), lib.ones(2).long()),
    "isclose negative rtol": lambda lib: lib.isclose(lib.ones(2), lib.ones(2), rtol=-1),
    "isclose negative atol": lambda lib: lib.isclose(lib.ones(2), lib.ones(2), atol=-1e-3),
    "isclose nan atol": lambda lib: lib.isclose(lib.ones(2), lib.ones(2), atol=float("nan")),
    "isclose shapes": lambda lib: lib.isclose(lib.ones(3), lib.ones(2)),
    "isclose number": lambda lib: lib.isclose(lib.ones(3), 1.0),
    "allclose dtypes": lambda lib: lib.allclose(lib.ones(2), lib.ones(2).double()),
    "allclose shapes": lambda lib: lib.allclose(lib.ones(3), lib.ones(2)),
    "allclose number": lambda lib: lib.allclose(lib.ones(3), 1.0),
    "allclose list": lambda lib: lib.allclose([1.0], lib.ones(1)),
    "equal number": lambda lib: lib.equal(lib.ones(1), 1),
    "numel list": lambda lib: lib.numel([1, 2]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_as_torch_does(name):
    same_outcome(BAD[name], raises=True, match=".", message=(lambda text: text.split(",")[0]) if "tol" in name else None)
