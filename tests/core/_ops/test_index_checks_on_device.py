"""Indices out of range raise torch's error on every device (tests/conftest.py's
``device``). On a GPU the array namespace wraps such an index (CuPy's rule) instead
of raising, so ember checks it on the device and raises at the next
synchronisation, as torch's device-side asserts do; the oracle synchronises after
each call. No call here waits for the device (see ``test_no_host_sync.py``)."""

import numpy as np
import pytest

import ember
from tests.oracle import on_device, same_outcome, synchronize_device

X = np.arange(12.0).reshape(3, 4)


def zeros_at(x, i):
    """``x[i] = 0`` on a copy of ``x``."""
    y = x.clone()
    y[i] = 0.0
    return y


CASES = {
    "getitem": (lambda x, i: x[i], [np.array([0, 5])], IndexError, "index 5 is out of bounds"),
    "getitem negative": (lambda x, i: x[i], [np.array([1, -4])], IndexError, "index -4 is out of bounds"),
    "getitem second dim": (lambda x, i: x[:, i], [np.array([0, 4])], IndexError, "index 4 is out of bounds"),
    "getitem after ellipsis": (lambda x, i: x[None, ..., i], [np.array([-5])], IndexError,
                               "index -5 is out of bounds"),
    "getitem after int": (lambda x, i, j: x[0, i] + x[j, 1], [np.array([9]), np.array([0])], IndexError,
                          "index 9 is out of bounds"),
    "getitem pair": (lambda x, i, j: x[i, j], [np.array([1]), np.array([7])], IndexError,
                     "index 7 is out of bounds for dimension 1 with size 4"),
    "setitem": (zeros_at, [np.array([3])], IndexError, "index 3 is out of bounds"),
    "index_select": (lambda x, i: x.index_select(0, i), [np.array([0, 4])], IndexError, "index out of range in self"),
    "index_select dim 1": (lambda x, i: x.index_select(1, i), [np.array([0, 9, -1])], RuntimeError,
                           "INDICES element is out of DATA bounds, id=9 axis_dim=4"),
    "gather": (lambda x, i: x.gather(0, i), [np.array([[1, -1, 5, 0]])], RuntimeError,
               "index -1 is out of bounds for dimension 0 with size 3"),
    "scatter": (lambda x, i: x.scatter(0, i, 1.0), [np.array([[1, 5, -1, 0]])], RuntimeError,
                "index 5 is out of bounds for dimension 0 with size 3"),
    "scatter_add": (lambda x, i: x.scatter_add(1, i, x), [np.array([[0], [4], [1]])], RuntimeError,
                    "index 4 is out of bounds for dimension 1 with size 4"),
    "index_add": (lambda x, i: x.index_add(0, i, x[:2]), [np.array([0, 3])], RuntimeError,
                  "index 3 is out of bounds for dimension 0 with size 3"),
    "index_copy": (lambda x, i: x.index_copy(1, i, x[:, :1]), [np.array([-1])], IndexError,
                   "index -1 is out of bounds"),
    "index_fill": (lambda x, i: x.index_fill(0, i, 1.0), [np.array([-4])], IndexError,
                   "index -4 is out of bounds for dimension 0 with size 3"),
    "put": (lambda x, i: x.put(i, x[0, :1]), [np.array([12])], IndexError,
            "tried to access index 12 on a tensor of 12 elements"),
    "take": (lambda x, i: x.take(i), [np.array([-13])], IndexError,
             "tried to access index -13 on a tensor of 12 elements"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_index_out_of_range_raises_as_torch_does(name, device):
    fn, indices, error, match = CASES[name]
    with on_device(device):
        same_outcome(fn, [X, *indices], raises=error, match=match)


@pytest.mark.parametrize("name", sorted(CASES))
def test_indices_in_range_give_torch_values(name, device):
    fn, indices, _, _ = CASES[name]
    with on_device(device):
        same_outcome(fn, [X, *(i % 3 for i in indices)])


def test_an_index_error_leaves_later_work_alone(device):
    x = ember.tensor(X, device=device)
    with on_device(device), pytest.raises(IndexError, match="index 5 is out of bounds"):
        x[ember.tensor([5], device=device)]
        synchronize_device()
    assert x[ember.tensor([2], device=device)].tolist() == [X[2].tolist()]
