"""Type promotion against torch: ``result_type``, ``promote_types``, ``can_cast`` and the
dtype that ``+``, ``*``, ``/`` and ``<`` actually produce, for every pair of the nine
dtypes, as dimensioned tensors, 0-d tensors and Python scalars on either side."""

import itertools

import numpy as np
import pytest

import ember
from tests.oracle import assert_same, torch

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]
PAIRS = list(itertools.product(DTYPES, DTYPES))
SCALARS = [2, -3, 2.5, True, False, 0]
KINDS = ["dim", "0d"]


def values(dtype, shape):
    """Small positive values (no division by zero, no overflow) of ``dtype``."""
    n = int(np.prod(shape))
    if dtype == "bool":
        return (np.arange(n) % 2 == 0).reshape(shape)
    return (np.arange(n) % 3 + 1).reshape(shape).astype(dtype)


def pair(dtype, kind):
    arr = values(dtype, (2, 3) if kind == "dim" else ())
    return ember.tensor(arr), torch.from_numpy(np.array(arr))


def name(t):
    return str(t).replace("torch.", "").replace("ember.", "")


# floating results to float16's precision (tests.oracle.assert_same)
TOL = dict(rtol=1e-3, atol=0)


OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "lt": lambda a, b: a < b,
}


@pytest.mark.parametrize("kinds", list(itertools.product(KINDS, KINDS)), ids="-".join)
@pytest.mark.parametrize("a,b", PAIRS)
def test_tensor_tensor(a, b, kinds):
    ea, ta = pair(a, kinds[0])
    eb, tb = pair(b, kinds[1])
    assert name(ember.result_type(ea, eb)) == name(torch.result_type(ta, tb))
    for op, fn in OPS.items():
        assert_same(fn(ea, eb), fn(ta, tb), tol=TOL)


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_and_python_scalar(dtype, kind, scalar):
    e, t = pair(dtype, kind)
    assert name(ember.result_type(e, scalar)) == name(torch.result_type(t, scalar))
    assert name(ember.result_type(scalar, e)) == name(torch.result_type(scalar, t))
    for op, fn in OPS.items():
        if op == "div" and scalar == 0:
            continue
        assert_same(fn(e, scalar), fn(t, scalar), tol=TOL)
        if not (op == "div" and dtype == "bool"):  # bool / False-like values: 0 divisors
            assert_same(fn(scalar, e), fn(scalar, t), tol=TOL)


THREE = [(("float64", "0d"), ("int64", "0d")), (("int8", "0d"), ("bool", "dim")),
         (("float16", "dim"), ("uint8", "0d")), (("int32", "dim"), ("float32", "0d")),
         (("bool", "0d"), ("int16", "0d"))]


@pytest.mark.parametrize("others", THREE, ids=str)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_three_tensor_promotion(dtype, kind, others):
    """Dimensioned tensors decide first, then 0-d tensors, each group only when it is of a
    higher category (bool < integer < floating): seen through clamp's three operands."""
    e1, t1 = pair(dtype, kind)
    (d2, k2), (d3, k3) = others
    e2, t2 = pair(d2, k2)
    e3, t3 = pair(d3, k3)
    assert name(ember.result_type(e1, e2)) == name(torch.result_type(t1, t2))
    try:
        want = torch.clamp(t1, t2, t3)
    except NotImplementedError:  # clamp of bool
        with pytest.raises(NotImplementedError):
            ember.clamp(e1, e2, e3)
        return
    assert_same(ember.clamp(e1, e2, e3), want, tol=TOL)
    assert name(ember.result_type(e1, e2, e3)) == name(want.dtype)


@pytest.mark.parametrize("a,b", [(x, y) for x in SCALARS for y in SCALARS], ids=repr)
def test_result_type_of_two_scalars(a, b):
    assert name(ember.result_type(a, b)) == name(torch.result_type(a, b))


@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types(a, b):
    got = ember.promote_types(getattr(ember, a), getattr(ember, b))
    assert isinstance(got, ember.dtype)
    assert name(got) == name(torch.promote_types(getattr(torch, a), getattr(torch, b)))


@pytest.mark.parametrize("a,b", PAIRS)
def test_can_cast(a, b):
    assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))


@pytest.fixture
def float64_default():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_default_dtype_decides_integer_to_float(dtype, float64_default):
    e, t = pair(dtype, "dim")
    assert_same(e / 2, t / 2, tol=TOL)
    assert_same(e + 2.5, t + 2.5, tol=TOL)
    assert_same(e.exp(), t.exp(), tol=TOL)
    assert_same(ember.atan2(e, e), torch.atan2(t, t), tol=TOL)
    assert name(ember.result_type(e, 2.5)) == name(torch.result_type(t, 2.5))


@pytest.mark.parametrize("a,b", PAIRS)
def test_gradients_come_back_in_each_inputs_dtype(a, b):
    """When a float input is promoted, its gradient is cast back to its own dtype."""
    if "float" not in a:
        return
    ea = ember.tensor(values(a, (2, 3))).requires_grad_()
    ta = torch.from_numpy(values(a, (2, 3))).requires_grad_()
    eb, tb = pair(b, "dim")
    (ea * eb).sum().backward()
    (ta * tb).sum().backward()
    assert_same(ea.grad, ta.grad, tol=TOL)
    if "float" in b:
        eb.requires_grad_()
        tb.requires_grad_()
        (ea / eb).sum().backward()
        (ta / tb).sum().backward()
        assert_same(eb.grad, tb.grad, tol=TOL)
