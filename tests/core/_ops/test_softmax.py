"""softmax / log_softmax against torch: values, gradients, double backward, gradcheck."""

import numpy as np
import pytest

import ember
from tests.oracle import check, torch

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim", [((2, 3), 1), ((2, 3), 0), ((2, 3, 2), -1), ((4,), 0), ((), 0)])
def test_matches_torch(name, dtype, shape, dim, device):
    x = RNG.standard_normal(shape).astype(dtype)
    check(lambda t: getattr(t, name)(dim), [x], device=device)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_extreme_and_infinite_inputs(name):
    x = np.array([[1e4, -1e4, 0.0], [-np.inf, 0.0, 1.0], [3.0, 3.0, 3.0]])
    check(lambda t: getattr(ember, name)(t, 1) if isinstance(t, ember.Tensor) else getattr(torch, name)(t, 1),
          [x], double=False, gradcheck=False)


def test_dtype_argument_and_integer_input():
    x = ember.tensor([[1, 2, 3]])
    assert x.softmax(1, dtype=ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        x.softmax(1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.tensor([1.0]).log_softmax(2)
