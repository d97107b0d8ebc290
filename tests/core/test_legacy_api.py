"""1.0-era names that scripts use besides the ops: dtype limits, the default tensor
type, ``Tensor.new``, print options; each compared with torch."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert e.dtype == t.dtype


def test_finfo_default_is_the_default_dtype():
    assert ember.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)


@pytest.mark.parametrize("call", [lambda m: m.finfo(m.int32), lambda m: m.iinfo(m.float32),
                                  lambda m: m.iinfo(m.bool)])
def test_limits_refuse_the_wrong_kind(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match="info"):
        call(ember)


@pytest.mark.parametrize("spec", ["torch.DoubleTensor", "DoubleTensor", "FloatTensor"])
def test_set_default_tensor_type(spec):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.set_default_tensor_type(spec if spec.startswith("torch") else getattr(torch, spec))
        ember.set_default_tensor_type(spec if spec.startswith("torch") else getattr(ember, spec))
        assert ember.ones(2).dtype.name == str(torch.ones(2).dtype).split(".")[1]
        assert ember.get_default_dtype().name == str(torch.get_default_dtype()).split(".")[1]
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("spec", ["torch.LongTensor", "torch.NoSuchTensor", 3])
def test_set_default_tensor_type_refuses(spec):
    with pytest.raises(TypeError):
        ember.set_default_tensor_type(spec)
    assert ember.get_default_dtype() is ember.float32


@pytest.mark.parametrize("args", [(2,), (2, 3), ([1, 2],), ([[1.5], [2.0]],), ()])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_tensor_new(args, dtype):
    e = ember.ones(1, dtype=getattr(ember, dtype)).new(*args)
    t = torch.ones(1, dtype=getattr(torch, dtype)).new(*args)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == dtype
    if args and isinstance(args[0], list):
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_tensor_new_from_size_and_errors():
    x = ember.ones(1, dtype=ember.float64)
    assert x.new(ember.Size([2, 2])).shape == (2, 2)
    with pytest.raises(TypeError, match="new"):
        x.new("abc")


def test_printoptions_are_exported():
    try:
        ember.set_printoptions(precision=2)
        assert repr(ember.tensor([1.23456])) == "tensor([1.23])"
    finally:
        ember.set_printoptions(profile="default")
    with ember.printoptions(precision=1):
        assert ember.get_printoptions()["precision"] == 1
