"""ember.FloatTensor, ember.LongTensor, ...: torch's legacy typed constructors."""

import numpy as np
import pytest

import ember
from tests.oracle import torch

NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor", "CharTensor",
         "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("args", [([[1, 2], [3, 0]],), ([1, 0, 1],), (np.array([[1, 0]]),)])
def test_values_like_torch(name, args):
    e, t = getattr(ember, name)(*args), getattr(torch, name)(*args)
    assert e.dtype.name == str(t.dtype).replace("torch.", "")
    assert e.tolist() == t.tolist()
    assert e.type() == t.type()


@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor"])
@pytest.mark.parametrize("args", [(), (2, 3), (ember.Size([4, 1]),), (0,)])
def test_shapes_like_torch(name, args):
    targs = tuple(torch.Size(a) if isinstance(a, ember.Size) else a for a in args)
    assert tuple(getattr(ember, name)(*args).shape) == tuple(getattr(torch, name)(*targs).shape)


def test_isinstance_and_type_cast():
    x = ember.ones(2)
    assert isinstance(x, ember.FloatTensor) and not isinstance(x, ember.LongTensor)
    assert isinstance(x.long(), ember.LongTensor)
    y = x.type(ember.DoubleTensor)
    assert y.dtype == ember.float64 and isinstance(y, ember.DoubleTensor)
    assert ember.FloatTensor(x) is x


def test_errors_like_torch():
    for bad in (("a",), (ember.ones(2, dtype=ember.float64),), (2, "x")):
        with pytest.raises(TypeError):
            torch.FloatTensor(*[torch.ones(2, dtype=torch.float64) if isinstance(b, ember.Tensor) else b for b in bad])
        with pytest.raises(TypeError):
            ember.FloatTensor(*bad)
