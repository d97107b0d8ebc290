"""The random draws on every device (tests/conftest.py's ``device``): each lands on
the device with its dtype and shape, inside its support, and repeats after
``ember.manual_seed``. On cuda they come from the device's own generator, whose
API (CuPy's) is narrower than NumPy's."""

import numpy as np
import pytest

import ember
from tests.oracle import placed

DRAWS = {
    "rand": lambda d: ember.rand(3, 4, device=d),
    "randn float64": lambda d: ember.randn(3, 4, dtype=ember.float64, device=d),
    "randint": lambda d: ember.randint(2, 9, (12,), device=d),
    "randperm": lambda d: ember.randperm(20, device=d),
    "randperm int32": lambda d: ember.randperm(7, dtype=ember.int32, device=d),
    "rand_like": lambda d: ember.rand_like(ember.zeros(5, device=d)),
    "randint_like": lambda d: ember.randint_like(ember.zeros(5, device=d), 3),
    "uniform_": lambda d: ember.empty(6, device=d).uniform_(-2, 3),
    "normal_": lambda d: ember.empty(6, device=d).normal_(1.0, 0.5),
    "log_normal_": lambda d: ember.empty(6, device=d).log_normal_(),
    "exponential_": lambda d: ember.empty(6, device=d).exponential_(2.0),
    "cauchy_": lambda d: ember.empty(6, device=d).cauchy_(),
    "geometric_": lambda d: ember.empty(6, device=d).geometric_(0.3),
    "random_": lambda d: ember.empty(6, device=d).random_(0, 5),
    "bernoulli": lambda d: ember.bernoulli(ember.full((8,), 0.4, device=d)),
    "bernoulli_": lambda d: ember.empty(8, device=d).bernoulli_(0.7),
    "multinomial": lambda d: ember.multinomial(ember.tensor([[1.0, 0.0, 3.0], [2.0, 2.0, 0.0]], device=d), 2),
    "multinomial replacement": lambda d: ember.multinomial(ember.tensor([0.2, 0.8], device=d), 6,
                                                            replacement=True),
    "normal": lambda d: ember.normal(ember.zeros(4, device=d), ember.ones(4, device=d)),
}

SUPPORT = {
    "rand": lambda v: (0 <= v).all() and (v < 1).all(),
    "randint": lambda v: (2 <= v).all() and (v < 9).all(),
    "randperm": lambda v: sorted(v.tolist()) == list(range(20)),
    "randperm int32": lambda v: v.dtype == np.int32 and sorted(v.tolist()) == list(range(7)),
    "randint_like": lambda v: (0 <= v).all() and (v < 3).all(),
    "uniform_": lambda v: (-2 <= v).all() and (v < 3).all(),
    "log_normal_": lambda v: (v > 0).all(),
    "exponential_": lambda v: (v >= 0).all(),
    "geometric_": lambda v: (v >= 1).all() and (v == np.round(v)).all(),
    "random_": lambda v: (0 <= v).all() and (v < 5).all(),
    "bernoulli": lambda v: set(v.tolist()) <= {0.0, 1.0},
    "bernoulli_": lambda v: set(v.tolist()) <= {0.0, 1.0},
    "multinomial": lambda v: v[0].tolist() in ([0, 2], [2, 0]) and sorted(v[1].tolist()) == [0, 1],
    "multinomial replacement": lambda v: set(v.tolist()) <= {0, 1},
}


@pytest.mark.parametrize("name", DRAWS)
def test_draws_land_on_the_device_inside_their_support_and_repeat_after_seeding(name, device):
    ember.manual_seed(11)
    first = DRAWS[name](device)
    ember.manual_seed(11)
    again = DRAWS[name](device)
    assert first.device == placed(device)
    values = first.cpu().numpy()
    assert np.isfinite(values).all()
    assert SUPPORT.get(name, lambda v: True)(values)
    np.testing.assert_array_equal(again.cpu().numpy(), values)
