"""Cases torch's OpInfo samples and error inputs found in the existing ops: the nuclear
norm, gather with an empty index or a 0-d input or index, narrow's and linspace's
argument checks."""

import numpy as np
import pytest

import ember
from tests.oracle import check, torch

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [{}, {"dim": (0, 1)}, {"dim": (2, 1), "keepdim": True}, {"dim": [0, -1]}],
                         ids=["matrix", "dims", "keepdim", "negative"])
def test_nuclear_norm(dtype, kwargs):
    x = RNG.standard_normal((4, 3) if not kwargs else (2, 3, 4)).astype(dtype)
    check(lambda t: ember.norm(t, "nuc", **kwargs), [x], lambda t: torch.norm(t, "nuc", **kwargs),
          double=False, gradcheck=dtype == np.float64)
    check(lambda t: t.norm(p="nuc", **kwargs), [x], lambda t: t.norm(p="nuc", **kwargs), double=False,
          gradcheck=False)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "dim must be a 2-tuple. Got 0 1 2"),
    ({"dim": 1}, "dim must be a 2-tuple. Got 1"),
    ({"dim": (1, -2)}, r"dims must be different. Got \(1, 1\)"),
])
def test_nuclear_norm_errors(kwargs, message):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=message):
            lib.norm(lib.ones(2, 3, 4), "nuc", **kwargs)


@pytest.mark.parametrize("index", [np.zeros(0, np.uint8), np.zeros((2, 0), np.uint8), np.zeros((0, 1, 1), np.int64),
                                   np.zeros(0, np.float32)], ids=["uint8", "uint8-2d", "rank", "float"])
def test_gather_with_an_empty_index_checks_nothing(index):
    x = RNG.standard_normal(5)
    check(lambda t, i: ember.gather(t, 0, i), [x, index], lambda t, i: torch.gather(t, 0, i), gradcheck=False)


@pytest.mark.parametrize("shape, index", [((), [0, 0]), ((), 0), ((3,), 2), ((3,), [2, 0])],
                         ids=["0d-input", "0d-both", "0d-index", "1d"])
def test_gather_takes_0d_as_1d(shape, index):
    x = RNG.standard_normal(shape)
    check(lambda t, i: ember.gather(t, 0, i), [x, np.array(index)], lambda t, i: torch.gather(t, 0, i))


def test_gather_still_checks_nonempty_indices():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
            lib.gather(lib.ones(5), 0, lib.tensor([1], dtype=lib.uint8))
        with pytest.raises(RuntimeError, match="same number of dimensions"):
            lib.gather(lib.tensor(5.0), 0, lib.tensor([[0]]))
        with pytest.raises(RuntimeError, match="index 1 is out of bounds for dimension 0 with size 1"):
            lib.gather(lib.tensor(5.0), 0, lib.tensor([1]))


@pytest.mark.parametrize("make, error, message", [
    (lambda lib: (0, 1.0, 2), TypeError, "narrow"),
    (lambda lib: (0, True, 2), TypeError, "narrow"),
    (lambda lib: (0, 1, 2.0), TypeError, "narrow"),
    (lambda lib: (0, lib.tensor([1]), 2), RuntimeError, "start must be an 0-dim integral Tensor."),
    (lambda lib: (0, lib.tensor(True), 2), RuntimeError, "start must be an 0-dim integral Tensor."),
    (lambda lib: (0, lib.tensor(1.0), 2), RuntimeError, "start must be an 0-dim integral Tensor."),
], ids=["float-start", "bool-start", "float-length", "1d-start", "bool-tensor", "float-tensor"])
def test_narrow_argument_errors(make, error, message):
    for lib in (torch, ember):
        with pytest.raises(error, match=message):
            lib.ones(4, 5).narrow(*make(lib))


def test_narrow_takes_0d_integer_tensors_and_refuses_0d_input():
    check(lambda t: t.narrow(0, ember.tensor(1), ember.tensor(2)), [RNG.standard_normal((4, 5))],
          lambda t: t.narrow(0, torch.tensor(1), torch.tensor(2)))
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=r"narrow\(\) cannot be applied to a 0-dim tensor."):
            lib.narrow(lib.tensor(1.0), 0, 0, 1)


@pytest.mark.parametrize("make, error, message", [
    (lambda lib: (0, 3, 2.0), TypeError, "linspace"),
    (lambda lib: (0, 3, True), TypeError, "linspace"),
    (lambda lib: (0, 3, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda lib: (lib.tensor([0.0, 1.0]), 3, 2), RuntimeError, "0-dim.* start and end tensors, but got start with 1"),
    (lambda lib: (0, lib.tensor([3.0]), 2), RuntimeError, "0-dim.* start and end tensors, but got end with 1"),
], ids=["float-steps", "bool-steps", "negative", "1d-start", "1d-end"])
def test_linspace_argument_errors(make, error, message):
    for lib in (torch, ember):
        with pytest.raises(error, match=message):
            lib.linspace(*make(lib))
