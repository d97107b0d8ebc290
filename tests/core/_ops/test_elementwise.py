"""Elementwise ops against torch: unary math, binary arithmetic and operators,
comparisons, logical/bitwise ops, clamp, where, masked_fill and their errors.

Values, dtypes, gradients and double-backward gradients go through ``tests.oracle.check``
(with ember's own gradcheck in float64); results that are errors must be the same
exception type as torch's, and for the messages users read (broadcasting, bool
subtraction, negative integer powers) the same text.
"""

import math
import operator

import numpy as np
import pytest

import ember
from tests.oracle import assert_same, check, same_outcome, torch

RNG = np.random.default_rng(1234)
FLOATS = [np.float64, np.float32]
INTS = [np.int64, np.int32, np.int16, np.int8, np.uint8]

pytestmark = pytest.mark.filterwarnings("error")  # overflow, log(0), 0/0: silent, as in torch


def normal(*shape, dtype=np.float64, scale=1.0):
    return np.asarray(RNG.standard_normal(shape) * scale).astype(dtype)


def uniform(lo, hi, *shape, dtype=np.float64):
    return np.asarray(RNG.uniform(lo, hi, shape)).astype(dtype)


def away_from_zero(*shape, dtype=np.float64, lo=0.3, hi=2.0):
    """Values with |x| in [lo, hi] and random signs."""
    signs = np.where(RNG.random(shape) < 0.5, -1.0, 1.0)
    return np.asarray(signs * RNG.uniform(lo, hi, shape)).astype(dtype)


def distinct(*shape, dtype=np.float64):
    """Values without ties, away from 0, so min/max/sign-like gradients are unambiguous."""
    n = int(np.prod(shape))
    return np.asarray((RNG.permutation(n).reshape(shape) - n / 2 + 0.5) * 0.37).astype(dtype)


def shifted(*shape, dtype=np.float64):
    """``distinct`` values moved by 0.1: never equal to another ``distinct`` array's."""
    return np.asarray(distinct(*shape, dtype=dtype) + 0.1, dtype=dtype)


def ints(*shape, dtype=np.int64, lo=-9, hi=10):
    if np.dtype(dtype) == np.uint8:
        lo = max(lo, 0)
    return np.asarray(RNG.integers(lo, hi, shape)).astype(dtype)


def bools(*shape):
    return np.asarray(RNG.random(shape) < 0.5)


# Non-contiguous views: each op also runs on a transposed and a step-sliced input.
LAYOUTS = {
    "plain": lambda x: x,
    "transposed": lambda x: x.transpose(0, 1),
    "sliced": lambda x: x[:, ::2],
}


def the_error(fn, *args):
    """The exception ``fn(*args)`` raises (fails the test when it raises none)."""
    with pytest.raises(Exception) as info:
        fn(*args)
    return info.value


# ===================================================================== unary
UNARY_DOMAIN = {
    "log": lambda s, dt: uniform(0.2, 3.0, *s, dtype=dt),
    "log2": lambda s, dt: uniform(0.2, 3.0, *s, dtype=dt),
    "log10": lambda s, dt: uniform(0.2, 3.0, *s, dtype=dt),
    "sqrt": lambda s, dt: uniform(0.2, 3.0, *s, dtype=dt),
    "rsqrt": lambda s, dt: uniform(0.2, 3.0, *s, dtype=dt),
    "log1p": lambda s, dt: uniform(-0.8, 3.0, *s, dtype=dt),
    "asin": lambda s, dt: uniform(-0.9, 0.9, *s, dtype=dt),
    "acos": lambda s, dt: uniform(-0.9, 0.9, *s, dtype=dt),
    "tan": lambda s, dt: uniform(-1.2, 1.2, *s, dtype=dt),
    "reciprocal": lambda s, dt: away_from_zero(*s, dtype=dt),
    "abs": lambda s, dt: away_from_zero(*s, dtype=dt),
    "relu": lambda s, dt: away_from_zero(*s, dtype=dt),
    "sign": lambda s, dt: away_from_zero(*s, dtype=dt),
    "floor": lambda s, dt: normal(*s, dtype=dt, scale=3),
    "ceil": lambda s, dt: normal(*s, dtype=dt, scale=3),
    "round": lambda s, dt: normal(*s, dtype=dt, scale=3),
    "trunc": lambda s, dt: normal(*s, dtype=dt, scale=3),
    "frac": lambda s, dt: normal(*s, dtype=dt, scale=3),
}
UNARY = ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan", "asin",
         "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "reciprocal", "abs", "neg", "relu", "sign",
         "floor", "ceil", "round", "trunc", "frac", "erf"]
ALIASES = {"negative": "neg", "absolute": "abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
           "fix": "trunc"}
BINARY_ALIASES = ["greater", "greater_equal", "less", "less_equal", "not_equal", "arctan2"]


def unary_input(name, shape, dtype):
    return UNARY_DOMAIN.get(name, lambda s, dt: normal(*s, dtype=dt))(shape, dtype)


def test_unary_ops_are_functions_methods_and_inplace_methods():
    assert set(UNARY) | set(ALIASES) == set(ember._ops.unary.UNARY_OPS)
    for name in UNARY + list(ALIASES):
        assert callable(getattr(ember, name)) and callable(getattr(ember.Tensor, name))
        assert callable(getattr(ember.Tensor, name + "_"))


@pytest.mark.parametrize("alias", list(ALIASES))
def test_unary_aliases(alias):
    x = unary_input(ALIASES[alias], (3, 4), np.float64)
    check(getattr(ember, alias), [x], getattr(torch, alias))
    check(lambda t: getattr(t, alias)(), [x], grad=False)
    check(lambda t: getattr(t * 1, alias + "_")(), [x], gradcheck=False)


@pytest.mark.parametrize("alias", BINARY_ALIASES)
def test_binary_aliases(alias):
    a, b = away_from_zero(3, 4), away_from_zero(4)
    check(getattr(ember, alias), [a, b], getattr(torch, alias))
    check(lambda x, y: getattr(x, alias)(y), [a, b])


@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.uint8, np.int8, np.float32])
def test_bitwise_not(dtype):
    x = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype, lo=-50, hi=50)
    same_outcome(ember.bitwise_not, [x], torch.bitwise_not, message=True)
    same_outcome(lambda t: t.bitwise_not(), [x], message=True)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", UNARY)
def test_unary_function(name, dtype, layout, device):
    lay = LAYOUTS[layout]
    x = unary_input(name, (3, 4), dtype)
    check(lambda t: getattr(ember, name)(lay(t)), [x], lambda t: getattr(torch, name)(lay(t)),
          device=device)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", UNARY)
def test_unary_method_and_0d(name, dtype):
    x = unary_input(name, (2, 5, 3), dtype)
    check(lambda t: getattr(t, name)(), [x], grad=False)
    check(lambda t: getattr(t, name)(), [unary_input(name, (), dtype)], gradcheck=False)


@pytest.mark.parametrize("dtype", INTS + [np.bool_])
@pytest.mark.parametrize("name", UNARY)
def test_unary_integer_and_bool_inputs(name, dtype):
    """Math functions promote to the default float; abs/neg/sign/floor/... keep the
    integer dtype; bool inputs raise where torch raises."""
    x = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype, lo=1 if "log" in name or "sqrt" in name else -9)
    same_outcome(getattr(ember, name), [x], getattr(torch, name))
    same_outcome(lambda t: getattr(t, name)(), [x])


def test_unary_on_integers_returns_a_copy():
    x = ember.tensor([1, -2, 3])
    for name in ("floor", "ceil", "round", "trunc"):
        y = getattr(ember, name)(x)
        y[0] = 100
        assert x.tolist() == [1, -2, 3]
    s = ember.sign(ember.tensor([True, False]))
    s[1] = True
    assert s.dtype == ember.bool


EXTREMES = [-1000.0, -745.0, -100.0, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.5, 2.5, 89.0, 100.0, 710.0,
            1000.0, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name,dtype", [(n, d) for n in UNARY for d in FLOATS + [np.float16]])
def test_unary_extreme_values_without_warnings(name, dtype):
    """sigmoid(+-1000), exp overflow to inf, log(0) = -inf, sqrt(-1) = nan, sign(nan) = 0, ...
    with gradients there too, and never a NumPy warning (the module turns them into errors)."""
    values = EXTREMES
    if name in ("cosh", "sinh"):  # torch overflows to inf at 710 where cosh(710) = 1.1e308 is finite
        values = [v for v in values if v != 710.0]
    x = np.array(values, dtype=dtype)
    reference = getattr(torch, name)
    if name in CPU_DEPENDENT and dtype != np.float64:
        reference = _float64_reference(reference)
    check(getattr(ember, name), [x], reference, double=False, gradcheck=False)


# torch's float32 answers that depend on the CPU's vector path: with AVX2 its float32
# sinh/cosh give inf near |x| = 89, where the true values (2.2e38) are finite and
# AVX-512 gives them.
CPU_DEPENDENT = ("sinh", "cosh")


def _float64_reference(torch_fn):
    """``torch_fn`` computed in float64 and rounded to the input's dtype: the right answer
    on every CPU (values and gradients)."""
    return lambda t: torch_fn(t.double()).to(t.dtype)


@pytest.mark.parametrize("x,expected", [(1000.0, 1.0), (-1000.0, 0.0), (0.0, 0.5), (-100.0, 3.7200759760208356e-44)])
def test_sigmoid_saturates(x, expected):
    out = ember.sigmoid(ember.tensor([x], dtype=ember.float64))
    assert out.item() == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("dtype", FLOATS)
def test_round_decimals(decimals, dtype):
    x = normal(4, 5, dtype=dtype, scale=300)
    check(lambda t: ember.round(t, decimals=decimals), [x], lambda t: torch.round(t, decimals=decimals),
          gradcheck=False)
    check(lambda t: t.round(decimals=decimals), [x], grad=False)


def test_round_halves_to_even():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5])
    check(ember.round, [x], torch.round, grad=False)


@pytest.mark.parametrize("name", ["exp", "abs", "neg", "sigmoid", "floor"])
def test_unary_rejects_non_tensors(name):
    for bad in (1.0, [1.0, 2.0], None):
        same_outcome(getattr(ember, name), [bad], getattr(torch, name))


@pytest.mark.parametrize("name", ["exp", "sin", "sigmoid", "abs", "relu", "floor"])
def test_unary_inplace(name):
    x = unary_input(name, (3, 4), np.float64)
    check(lambda t: getattr(t * 1, name + "_")(), [x], gradcheck=False)


# ==================================================================== binary
BINARY = {
    # name: (ember fn, torch fn, input a, input b) where the inputs take (shape, dtype)
    "add": (ember.add, torch.add, normal, normal),
    "sub": (ember.sub, torch.sub, normal, normal),
    "mul": (ember.mul, torch.mul, normal, normal),
    "div": (ember.div, torch.div, normal, away_from_zero),
    "add_alpha": (lambda a, b: ember.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5),
                  normal, normal),
    "sub_alpha": (lambda a, b: ember.sub(a, b, alpha=-3), lambda a, b: torch.sub(a, b, alpha=-3),
                  normal, normal),
    "pow": (ember.pow, torch.pow, lambda *s, dtype: uniform(0.5, 2.0, *s, dtype=dtype),
            lambda *s, dtype: uniform(-2.0, 2.0, *s, dtype=dtype)),
    "maximum": (ember.maximum, torch.maximum, distinct, lambda *s, dtype: shifted(*s, dtype=dtype)),
    "minimum": (ember.minimum, torch.minimum, distinct, lambda *s, dtype: shifted(*s, dtype=dtype)),
    "atan2": (ember.atan2, torch.atan2, away_from_zero, away_from_zero),
    "remainder": (ember.remainder, torch.remainder, lambda *s, dtype: normal(*s, dtype=dtype, scale=3),
                  away_from_zero),
    "fmod": (ember.fmod, torch.fmod, lambda *s, dtype: normal(*s, dtype=dtype, scale=3), away_from_zero),
}

SHAPES = [((2, 3), (2, 3)), ((3, 1, 4), (5, 4)), ((4, 1), (1, 3)), ((2, 3), ()), ((), (2, 3)), ((), ())]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcast(name, dtype, shapes, device):
    e_fn, t_fn, make_a, make_b = BINARY[name]
    a, b = make_a(*shapes[0], dtype=dtype), make_b(*shapes[1], dtype=dtype)
    big = max(np.prod(s) for s in shapes) > 20
    check(e_fn, [a, b], t_fn, device=device, gradcheck=not big)


@pytest.mark.parametrize("layout", ["transposed", "sliced"])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_non_contiguous(name, layout):
    e_fn, t_fn, make_a, make_b = BINARY[name]
    lay = LAYOUTS[layout]
    a, b = make_a(4, 6, dtype=np.float64), make_b(4, 6, dtype=np.float64)
    check(lambda x, y: e_fn(lay(x), lay(y)), [a, b], lambda x, y: t_fn(lay(x), lay(y)))


SCALARS = [2, -3, 0.5, -1.5, True, 0]


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "remainder", "add_alpha", "sub_alpha"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_with_python_scalar(name, scalar, dtype):
    """A Python number on either side keeps the tensor's dtype (it is a weak scalar)."""
    e_fn, t_fn, make_a, _ = BINARY[name]
    if name == "pow":
        make_a = away_from_zero if isinstance(scalar, int) else (lambda *s, dtype: uniform(0.5, 2, *s, dtype=dtype))
    if (name in ("div", "remainder") and scalar == 0) or (name.startswith("sub") and scalar is True):
        return  # division by zero is tested below; bool subtraction is an error (tested below)
    x = make_a(2, 3, dtype=dtype)
    check(lambda t: e_fn(t, scalar), [x], lambda t: t_fn(t, scalar))
    if name in ("add", "sub", "mul", "div", "remainder"):
        y = away_from_zero(2, 3, dtype=dtype) if name in ("div", "remainder") else x
        # torch has no derivative for number % tensor (tested below)
        check(lambda t: e_fn(scalar, t), [y], lambda t: t_fn(scalar, t), grad=name != "remainder")


OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}


@pytest.mark.parametrize("other", [2, 2.5, -0.5, "tensor", "0d"], ids=str)
@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("dtype", FLOATS)
def test_operators_and_reflected(op, other, dtype):
    fn = OPERATORS[op]
    x = uniform(0.5, 2.0, 2, 3, dtype=dtype)
    grad = op != "//"
    if other in ("tensor", "0d"):
        y = uniform(0.5, 2.0, *((2, 3) if other == "tensor" else ()), dtype=dtype)
        check(fn, [x, y], grad=grad)
        return
    check(lambda t: fn(t, other), [x], grad=grad)
    check(lambda t: fn(other, t), [x], grad=grad and op != "%")


@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_operators(dtype):
    x = away_from_zero(3, 4, dtype=dtype)
    check(lambda t: -t, [x])
    check(lambda t: abs(t), [x])
    check(lambda t: +t, [x])
    check(lambda t: -(t.transpose(0, 1)[::2]), [x])


@pytest.mark.parametrize("dtype", INTS)
def test_operators_on_integers(dtype):
    a = ints(3, 4, dtype=dtype)
    b = ints(3, 4, dtype=dtype, lo=1)
    for op in ("+", "-", "*", "/", "//", "%"):
        same_outcome(OPERATORS[op], [a, b])
        same_outcome(lambda t: OPERATORS[op](t, 3), [a])
        same_outcome(lambda t: OPERATORS[op](7, t), [b])
    same_outcome(lambda t: -t, [a])
    same_outcome(lambda t: abs(t), [a])
    same_outcome(lambda t: t ** 2, [a])


# ------------------------------------------------------------ div rounding
@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_div_rounding_modes(mode, dtype):
    """Negative operands: trunc rounds toward zero, floor toward -inf; ints stay ints."""
    if np.dtype(dtype).kind == "f":
        a, b = normal(4, 5, dtype=dtype, scale=5), away_from_zero(4, 5, dtype=dtype)
    else:
        a, b = ints(4, 5, dtype=dtype, lo=-20, hi=20), ints(4, 5, dtype=dtype, lo=1, hi=6)
        if np.dtype(dtype) != np.uint8:
            b = b * np.where(RNG.random(b.shape) < 0.5, -1, 1).astype(dtype)
    check(lambda x, y: ember.div(x, y, rounding_mode=mode), [a, b],
          lambda x, y: torch.div(x, y, rounding_mode=mode), gradcheck=False)
    check(lambda x: ember.div(x, -3, rounding_mode=mode), [a], lambda x: torch.div(x, -3, rounding_mode=mode),
          gradcheck=False)
    check(lambda x: x.div(2.5, rounding_mode=mode), [a], gradcheck=False)


def test_div_true_division_of_integers_gives_float():
    a, b = ints(3, 4), ints(3, 4, lo=1)
    check(ember.div, [a, b], torch.div, grad=False)
    check(ember.true_divide, [a, b], torch.true_divide, grad=False)
    check(lambda x: x / 2, [a], grad=False)
    check(lambda x: 7 / x, [b], grad=False)
    u = ints(3, 4, dtype=np.uint8, lo=1)
    check(lambda x: x / -3, [u], grad=False)  # the scalar's value, not its uint8 wrap, is used
    check(lambda x, y: x / y, [u, np.array(-3)], grad=False)


def test_div_rounding_mode_error():
    x = normal(3)
    same_outcome(lambda t: ember.div(t, 2, rounding_mode="round"), [x],
                 lambda t: torch.div(t, 2, rounding_mode="round"), message=True)


@pytest.mark.parametrize("fn", ["floor_divide", "remainder", "fmod", "div_trunc", "div_floor"])
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float64])
def test_division_by_zero(fn, dtype):
    """Integers raise ZeroDivisionError (a RuntimeError); floats give inf/nan silently."""
    pick = {"div_trunc": lambda m: (lambda a, b: m.div(a, b, rounding_mode="trunc")),
            "div_floor": lambda m: (lambda a, b: m.div(a, b, rounding_mode="floor"))}
    e_fn = pick[fn](ember) if fn in pick else getattr(ember, fn)
    t_fn = pick[fn](torch) if fn in pick else getattr(torch, fn)
    a = np.array([3, 0, 2], dtype=dtype)
    b = np.array([0, 0, 1], dtype=dtype)
    same_outcome(e_fn, [a, b], t_fn, message=True)
    same_outcome(e_fn, [a, 0], t_fn, message=True)


@pytest.mark.parametrize("dtype", INTS + FLOATS)
def test_remainder_fmod_floor_divide_negative_operands(dtype):
    if np.dtype(dtype).kind == "f":
        a, b = normal(5, 4, dtype=dtype, scale=6), away_from_zero(5, 4, dtype=dtype, lo=0.5, hi=3)
    else:
        lo = 0 if np.dtype(dtype) == np.uint8 else -20
        a, b = ints(5, 4, dtype=dtype, lo=lo, hi=20), ints(5, 4, dtype=dtype, lo=1, hi=7)
        if lo:
            b = b * np.where(RNG.random(b.shape) < 0.5, -1, 1).astype(dtype)
    for name in ("remainder", "fmod", "floor_divide"):
        grad = name != "floor_divide"
        check(getattr(ember, name), [a, b], getattr(torch, name), grad=grad)
        check(lambda x: getattr(ember, name)(x, -3), [a], lambda x: getattr(torch, name)(x, -3), grad=grad)
    check(lambda x: ember.remainder(5, x), [b], lambda x: torch.remainder(5, x), grad=False)
    check(lambda x, y: x % y, [a, b])


@pytest.mark.parametrize("case", ["floor_divide", "number_remainder"])
def test_ops_without_derivative_raise_in_backward(case):
    """``x // y`` and ``2 % x`` record a node whose backward raises, as torch's do."""
    x, y = normal(3), away_from_zero(3)
    for lib in (torch, ember):
        a = lib.tensor(x).requires_grad_()
        out = a // lib.tensor(y) if case == "floor_divide" else 2.5 % a
        assert out.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::(floor_divide|remainder) is not implemented"):
            out.sum().backward()


# --------------------------------------------------------------------- pow
@pytest.mark.parametrize("exponent", [0, 0.5, 1, 2, 3, -1, -2, 2.5, -0.5, True])
@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_tensor_scalar_including_zero_base(exponent, dtype):
    """Gradients at x = 0 as torch: 0 for x**0, inf for x**0.5, 0 for x**2, ..."""
    x = np.array([[0.0, 0.7, 1.3], [2.0, 0.0, 0.4]], dtype=dtype)
    check(lambda t: t ** exponent, [x], gradcheck=False)
    check(lambda t: ember.pow(t, exponent), [x], lambda t: torch.pow(t, exponent), gradcheck=False)
    check(lambda t: t.pow(exponent), [uniform(0.5, 2, 2, 3, dtype=dtype)])


@pytest.mark.parametrize("base", [2, 0.5, 0, 0.0, 1, -2.0])
@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_scalar_tensor(base, dtype):
    """``base ** x``: the exponent's gradient is ``y * log(base)``, 0 where base is 0 and
    x >= 0 (log(0) = -inf elsewhere).

    Double backward is not compared for base 0: torch's second derivative there is nan
    (``0 * log(0)`` from its masked first derivative), ember's is 0.
    """
    x = np.array([[-1.5, -0.5, 0.0], [0.5, 1.0, 2.0]], dtype=dtype)
    check(lambda t: base ** t, [x], gradcheck=False, double=base != 0)
    check(lambda t: ember.pow(base, t), [x], lambda t: torch.pow(base, t), gradcheck=False, double=base != 0)
    if base > 0:
        check(lambda t: base ** t, [uniform(-2, 2, 2, 3, dtype=dtype)])


@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_tensor_tensor_with_zeros(dtype):
    """Zero base and/or zero exponent: torch masks the gradients there.

    (Double backward at base 0 is not compared: torch gives nan there, see above.)"""
    base = np.array([[0.0, 0.0, 0.0, 1.5], [2.0, 0.5, 0.0, 3.0]], dtype=dtype)
    expo = np.array([[0.0, 2.0, 1.0, 0.0], [-1.0, 2.5, 0.5, 1.5]], dtype=dtype)
    check(ember.pow, [base, expo], torch.pow, gradcheck=False, double=False)
    check(lambda a, b: a ** b, [base[:1], expo], gradcheck=False, double=False)  # broadcast base
    check(lambda a, b: a ** b, [base[1:] ** 2 + 0.5, expo], gradcheck=False)  # zero exponents only


@pytest.mark.parametrize("dtype", FLOATS)
def test_pow_negative_base_non_integer_exponent_is_nan(dtype):
    check(lambda t: t ** 0.5, [np.array([-1.0, -4.0, 4.0], dtype=dtype)], gradcheck=False)


@pytest.mark.parametrize("dtype", INTS + [np.bool_])
def test_pow_integer_and_bool(dtype):
    x = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype, lo=-3, hi=4)
    e = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype, lo=-3, hi=4)
    for exponent in (0, 1, 2, 3, True, 0.5, -2.0):
        same_outcome(lambda t: t ** exponent, [x])
    same_outcome(ember.pow, [x, e], torch.pow)  # negative integer exponents tensors: 0, 1 or -1
    base = True if dtype is np.bool_ else 3
    same_outcome(lambda t: 2 ** t, [e])
    same_outcome(lambda t: ember.pow(base, t), [e], lambda t: torch.pow(base, t))


def test_pow_integer_negative_exponent_tensor_values():
    base = np.array([2, 1, -1, -1, 0, 5, -3])
    expo = np.array([-1, -2, -3, -4, -1, 0, 3])
    check(ember.pow, [base, expo], torch.pow, grad=False)


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("exponent", [-1, -2])
def test_pow_integer_to_negative_integer_scalar_raises(dtype, exponent):
    x = ints(3, dtype=dtype, lo=1)
    same_outcome(lambda t: t ** exponent, [x], message=True)
    same_outcome(lambda t: ember.pow(t, exponent), [x], lambda t: torch.pow(t, exponent), message=True)


# ------------------------------------------------------- maximum / minimum
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_maximum_minimum_ties_split_the_gradient(name, dtype):
    a = np.array([[1.0, 2.0, 3.0], [4.0, -1.0, 0.0]], dtype=dtype)
    b = np.array([[1.0, 5.0, 3.0], [0.0, -1.0, 2.0]], dtype=dtype)
    check(getattr(ember, name), [a, b], getattr(torch, name), gradcheck=False)
    check(getattr(ember, name), [a, b[:1]], getattr(torch, name), gradcheck=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_nan_and_mixed_dtypes(name):
    a = np.array([1.0, np.nan, 3.0, -np.inf])
    b = np.array([np.nan, 2.0, 1.0, 0.0], dtype=np.float32)
    check(getattr(ember, name), [a, b], getattr(torch, name), grad=False)
    check(getattr(ember, name), [ints(2, 3), ints(2, 3, dtype=np.int8)], getattr(torch, name))
    check(getattr(ember, name), [ints(2, 3), normal(2, 3, dtype=np.float32)], getattr(torch, name))


@pytest.mark.parametrize("name", ["maximum", "minimum", "atan2", "logical_and", "logical_or", "logical_xor"])
def test_tensor_only_functions_reject_numbers(name):
    x = normal(3)
    same_outcome(lambda t: getattr(ember, name)(t, 1.0), [x], lambda t: getattr(torch, name)(t, 1.0))
    same_outcome(lambda t: getattr(ember, name)(1.0, t), [x], lambda t: getattr(torch, name)(1.0, t))


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "fmod"])
def test_number_first_is_rejected_where_torch_rejects_it(name):
    x = normal(3)
    same_outcome(lambda t: getattr(ember, name)(2, t), [x], lambda t: getattr(torch, name)(2, t))
    same_outcome(lambda t: getattr(ember, name)(t, 2), [x], lambda t: getattr(torch, name)(t, 2))


@pytest.mark.parametrize("dtype", INTS + [np.bool_])
def test_atan2_integers_promote_to_float(dtype):
    a = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype)
    b = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype)
    check(ember.atan2, [a, b], torch.atan2, grad=False)
    check(ember.atan2, [a, np.array(-1.5)], torch.atan2, grad=False)


# ------------------------------------------------------------- add / sub alpha
@pytest.mark.parametrize("alpha", [2, -1, 0, 0.5, True, False])
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.int64), (np.int32, np.int32),
                                    (np.int64, np.bool_), (np.bool_, np.bool_), (np.uint8, np.bool_)], ids=str)
@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha(name, dtypes, alpha):
    a, b = [bools(2, 3) if d is np.bool_ else (ints(2, 3, dtype=d, lo=0) if np.dtype(d).kind in "iu"
                                             else normal(2, 3, dtype=d)) for d in dtypes]
    e_fn, t_fn = getattr(ember, name), getattr(torch, name)
    same_outcome(lambda x, y: e_fn(x, y, alpha=alpha), [a, b], lambda x, y: t_fn(x, y, alpha=alpha), message=True)
    same_outcome(lambda x: e_fn(x, 3, alpha=alpha), [a], lambda x: t_fn(x, 3, alpha=alpha), message=True)
    same_outcome(lambda x: getattr(x, name)(b[0, 0].item(), alpha=alpha), [a], message=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_alpha_gradient(dtype):
    a, b = normal(2, 3, dtype=dtype), normal(3, dtype=dtype)
    check(lambda x, y: ember.add(x, y, alpha=-2.5), [a, b], lambda x, y: torch.add(x, y, alpha=-2.5))
    check(lambda x, y: x.sub(y, alpha=3), [a, b])


# ====================================================== comparisons & logic
COMPARISONS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}


@pytest.mark.parametrize("op", list(COMPARISONS))
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.int64), (np.int8, np.uint8),
                                    (np.bool_, np.int32), (np.float16, np.bool_)], ids=str)
def test_comparisons_give_bool(op, dtypes):
    a, b = [bools(3, 1, 4) if d is np.bool_ else ints(3, 1, 4, dtype=d, lo=-2, hi=3).astype(d) for d in dtypes]
    b = b[0]  # (1, 4): broadcast
    fn = COMPARISONS[op]
    check(fn, [a, b], grad=False)
    for scalar in (1, -1, 0.5, True):
        check(lambda t: fn(t, scalar), [a], grad=False)
        check(lambda t: fn(scalar, t), [a], grad=False)  # reflected: 2 < t is t > 2


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_functions_and_methods(name):
    a, b = normal(3, 4), normal(4, dtype=np.float32)
    a[0, :] = b
    check(getattr(ember, name), [a, b], getattr(torch, name))
    check(lambda x, y: getattr(x, name)(y), [a, b])
    check(lambda x: getattr(x, name)(0.0), [a])


def test_comparisons_with_nan_and_inf():
    a = np.array([np.nan, np.inf, -np.inf, 1.0, np.nan])
    b = np.array([np.nan, np.inf, np.inf, np.nan, 1.0])
    for fn in COMPARISONS.values():
        check(fn, [a, b], grad=False)


def test_comparison_of_uint8_with_negative_scalar_wraps_like_torch():
    u = np.array([0, 1, 200, 255], dtype=np.uint8)
    for fn in COMPARISONS.values():
        check(lambda t: fn(t, -1), [u], grad=False)
        check(lambda t: fn(t, 300), [u], grad=False)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("dtypes", [(np.bool_, np.bool_), (np.float64, np.int64), (np.uint8, np.float32)], ids=str)
def test_logical(name, dtypes):
    a, b = [bools(3, 4) if d is np.bool_ else ints(3, 4, lo=-1, hi=2).astype(d) for d in dtypes]
    check(getattr(ember, name), [a, b[:1]], getattr(torch, name), grad=False)
    check(lambda x, y: getattr(x, name)(y), [a, b], grad=False)
    check(ember.logical_not, [a], torch.logical_not, grad=False)
    check(lambda x: x.logical_not(), [b], grad=False)


BITWISE = {"&": operator.and_, "|": operator.or_, "^": operator.xor}


@pytest.mark.parametrize("op", list(BITWISE))
@pytest.mark.parametrize("dtypes", [(np.bool_, np.bool_), (np.int64, np.int64), (np.int32, np.uint8),
                                    (np.bool_, np.int8)], ids=str)
def test_bitwise(op, dtypes):
    a, b = [bools(3, 4) if d is np.bool_ else ints(3, 4, dtype=d, lo=-50, hi=50) for d in dtypes]
    fn = BITWISE[op]
    name = {"&": "bitwise_and", "|": "bitwise_or", "^": "bitwise_xor"}[op]
    check(fn, [a, b], grad=False)
    check(getattr(ember, name), [a, b[1:2]], getattr(torch, name), grad=False)
    for scalar in (True, 1, 6):
        check(lambda t: fn(t, scalar), [a], grad=False)
        check(lambda t: fn(scalar, t), [a], grad=False)
    check(lambda t: ~t, [a], grad=False)


@pytest.mark.parametrize("op", list(BITWISE))
def test_bitwise_on_floats_raises(op):
    f, i = normal(3), ints(3)
    fn = BITWISE[op]
    same_outcome(fn, [f, f], message=True)
    same_outcome(fn, [i, f.astype(np.float32)], message=True)
    same_outcome(lambda t: fn(t, 1), [f], message=True)
    same_outcome(lambda t: fn(t, 1.5), [i], message=True)
    same_outcome(lambda t: ~t, [f])


# ==================================================================== clamp
@pytest.mark.parametrize("bounds", [(-0.5, None), (None, 0.5), (-0.5, 0.5), (0.5, -0.5), (-1, 1)], ids=str)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["clamp", "clip"])
def test_clamp_number_bounds(name, bounds, dtype, device):
    lo, hi = bounds
    x = distinct(3, 5, dtype=dtype) / 2
    check(lambda t: getattr(ember, name)(t, lo, hi), [x], lambda t: getattr(torch, name)(t, lo, hi),
          device=device)
    check(lambda t: getattr(t.transpose(0, 1), name)(min=lo, max=hi), [x])
    if lo is not None:
        check(lambda t: getattr(t, name)(lo), [x])
        check(lambda t: getattr(t, name)(min=lo), [x])
    if hi is not None:
        check(lambda t: getattr(t, name)(max=hi), [x])


def test_clamp_gradient_at_the_bounds():
    """Elements equal to a bound pass their gradient (x >= min and x <= max)."""
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    check(lambda t: t.clamp(-0.5, 0.5), [x], gradcheck=False)
    check(lambda t: t.clamp(min=0.5, max=-0.5), [x], gradcheck=False)


@pytest.mark.parametrize("which", ["min", "max", "both", "both_broadcast", "crossed"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_tensor_bounds(which, dtype):
    x = distinct(3, 4, dtype=dtype) / 3
    lo = distinct(3, 4, dtype=dtype) / 3 - 0.05
    hi = lo + 0.9
    if which == "min":
        check(lambda t, m: t.clamp(min=m), [x, lo])
    elif which == "max":
        check(lambda t, m: ember.clamp(t, max=m), [x, hi], lambda t, m: torch.clamp(t, max=m))
    elif which == "both":
        check(lambda t, a, b: t.clamp(a, b), [x, lo, hi])
    elif which == "both_broadcast":
        check(lambda t, a, b: ember.clamp(t, a, b), [x[0], lo, hi[:, :1]],
              lambda t, a, b: torch.clamp(t, a, b))
    else:
        check(lambda t, a, b: t.clamp(a, b), [x, hi, lo])  # min > max everywhere: all max


def test_clamp_tensor_bound_ties():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    lo = np.array([0.0, 1.5, 2.0, 1.0])
    hi = np.array([1.0, 1.5, 2.0, 3.0])
    check(lambda t, a, b: t.clamp(a, b), [x, lo, hi], gradcheck=False)
    check(lambda t, a: t.clamp(min=a), [x, lo], gradcheck=False)


@pytest.mark.parametrize("case", ["int_float_min", "int_float_max", "int_int", "uint8_negative", "int_bool",
                                  "int_tensor_float_bound", "float_tensor_int_bound", "int8_overflow",
                                  "f16_overflow", "bool_input", "nan_bound", "nan_input"])
def test_clamp_dtypes_and_edge_cases(case):
    i = ints(3, 4)
    args = {
        "int_float_min": ([i], lambda m: m.clamp(min=0.5)),
        "int_float_max": ([i], lambda m: m.clamp(max=-2.5)),
        "int_int": ([i], lambda m: m.clamp(-2, 3)),
        "uint8_negative": ([ints(3, dtype=np.uint8)], lambda m: m.clamp(min=-1)),
        "int_bool": ([i], lambda m: m.clamp(min=True)),
        "int_tensor_float_bound": ([i, np.array(0.5)], lambda m, b: m.clamp(min=b)),
        "float_tensor_int_bound": ([normal(3, 4, dtype=np.float32), ints(4)], lambda m, b: m.clamp(max=b)),
        "int8_overflow": ([ints(3, dtype=np.int8)], lambda m: m.clamp(min=200)),
        "f16_overflow": ([normal(3, dtype=np.float16)], lambda m: m.clamp(max=1e6)),
        "bool_input": ([bools(3)], lambda m: m.clamp(min=False)),
        "nan_bound": ([normal(3)], lambda m: m.clamp(min=math.nan)),
        "nan_input": ([np.array([math.nan, 1.0, -3.0])], lambda m: m.clamp(-1, 1)),
    }[case]
    inputs, fn = args
    same_outcome(fn, inputs)


def test_clamp_errors():
    x = normal(3)
    same_outcome(lambda t: t.clamp(), [x], message=True)
    same_outcome(lambda t: ember.clamp(t, None, None), [x], lambda t: torch.clamp(t, None, None), message=True)
    same_outcome(lambda t: ember.clip(t), [x], lambda t: torch.clip(t), message=True)
    same_outcome(lambda t, m: t.clamp(m, 1.0), [x, x])  # mixed: TypeError
    same_outcome(lambda t, m: t.clamp(m), [x, normal(4)], message=True)
    same_outcome(lambda t: t.clamp("a"), [x])


def test_clamp_inplace():
    x = distinct(3, 4) / 3
    check(lambda t: (t * 1).clamp_(-0.5, 0.5), [x])
    check(lambda t: (t * 1).clamp_(max=0.2), [x])


# ==================================================================== where
@pytest.mark.parametrize("dtype", FLOATS)
def test_where_tensors_broadcast_and_grad(dtype, device):
    cond = bools(3, 1, 4)
    x, y = normal(5, 4, dtype=dtype), normal(3, 5, 1, dtype=dtype)
    check(lambda c, a, b: ember.where(c, a, b), [cond, x, y], lambda c, a, b: torch.where(c, a, b),
          device=device)
    check(lambda c, a, b: a.where(c, b), [cond, x, y])
    check(lambda c, a, b: ember.where(c[:, :, ::2], a[:, ::2], b), [cond, x, y],
          lambda c, a, b: torch.where(c[:, :, ::2], a[:, ::2], b))


@pytest.mark.parametrize("x_kind", ["tensor", "0d", "float", "int", "bool"])
@pytest.mark.parametrize("y_kind", ["tensor", "0d", "float", "int", "bool"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8, np.bool_])
def test_where_promotion(x_kind, y_kind, dtype):
    cond = bools(2, 3)

    def make(kind, seed):
        if kind == "tensor":
            return (bools(2, 3) if dtype is np.bool_ else ints(2, 3, lo=0, hi=9).astype(dtype))
        if kind == "0d":
            return np.array(seed, dtype=np.float64 if dtype is np.float32 else np.int64)
        return {"float": 2.5 * seed, "int": 3 * seed, "bool": bool(seed % 2)}[kind]

    x, y = make(x_kind, 1), make(y_kind, 2)
    same_outcome(ember.where, [cond, x, y], torch.where)


def test_where_scalar_values_wrap_into_the_tensor_dtype():
    cond = np.array([True, False, True])
    same_outcome(ember.where, [cond, np.array([1, 2, 3], dtype=np.int32), np.array(2 ** 40)], torch.where)
    same_outcome(ember.where, [cond, np.array([1, 2, 3], dtype=np.uint8), -1], torch.where)


def test_where_condition_only():
    c = np.array([[True, False, True], [False, False, True]])
    same_outcome(ember.where, [c], torch.where)
    same_outcome(ember.where, [np.array([0.0, 1.5, 0.0, -2.0])], torch.where)


def test_where_errors():
    c, x = bools(3), normal(3)
    same_outcome(ember.where, [x, x, x], torch.where, message=True)  # non-bool condition
    same_outcome(ember.where, [c.astype(np.int64), x, x], torch.where, message=True)
    same_outcome(ember.where, [c, x, normal(4)], torch.where, message=True)  # broadcast
    same_outcome(ember.where, [bools(2, 3), normal(3, 1), normal(3, 2)], torch.where, message=True)
    same_outcome(lambda a, b: ember.where(a, b), [c, x], lambda a, b: torch.where(a, b))  # TypeError
    same_outcome(ember.where, [c, None, 1.0], torch.where)


def test_where_gradient_with_scalar_branch():
    cond = bools(3, 4)
    x = normal(3, 4)
    check(lambda c, a: ember.where(c, a, 0.0), [cond, x], lambda c, a: torch.where(c, a, 0.0))
    check(lambda c, a: ember.where(c, -1, a), [cond, x], lambda c, a: torch.where(c, -1, a))


# ============================================================== masked_fill
@pytest.mark.parametrize("value", [2.5, -1, True, "0d", "0d_grad", "0d_f32", math.inf, -math.inf], ids=str)
@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1), (), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("dtype", FLOATS)
def test_masked_fill(value, mask_shape, dtype):
    """Scalar or 0-d tensor values (a 0-d value that requires grad gets the summed gradient);
    the mask broadcasts (also to a bigger shape, as torch's out-of-place form does)."""
    x = normal(3, 4, dtype=dtype)
    mask = bools(*mask_shape)
    if isinstance(value, str):
        v = np.array(1.75, dtype=np.float32 if value == "0d_f32" else dtype)
        # (gradcheck would perturb the detached value too)
        check(lambda a, m, val: a.masked_fill(m, val if value == "0d_grad" else val.detach()), [x, mask, v],
              gradcheck=value == "0d_grad")
        check(lambda a, m, val: ember.masked_fill(a, m, val), [x, mask, v],
              lambda a, m, val: torch.masked_fill(a, m, val))
        return
    finite = math.isfinite(value)  # gradcheck's differences are nan next to an infinite fill
    check(lambda a, m: a.masked_fill(m, value), [x, mask], gradcheck=finite)
    if len(mask_shape) == 2:
        check(lambda a, m: a.transpose(0, 1).masked_fill(m.transpose(0, 1), value), [x, mask], gradcheck=finite)


@pytest.mark.parametrize("dtype", INTS + [np.bool_])
def test_masked_fill_integer_and_bool(dtype):
    x = bools(3, 4) if dtype is np.bool_ else ints(3, 4, dtype=dtype, lo=0)
    mask = bools(3, 4)
    for value in (2, 2.7, True, -1, 300, np.array(5), np.array(2.7)):
        same_outcome(lambda a, m: a.masked_fill(m, value if not isinstance(value, np.ndarray)
                                                else ember.tensor(value)), [x, mask],
                     lambda a, m: a.masked_fill(m, value if not isinstance(value, np.ndarray)
                                                else torch.tensor(value)))


def test_masked_fill_errors():
    x = normal(3, 4)
    mask = bools(3, 4)
    same_outcome(lambda a, m: a.masked_fill(m, 1.0), [x, mask.astype(np.int64)], message=True)  # non-bool mask
    same_outcome(lambda a, m: a.masked_fill(m, 1.0), [x, mask.astype(np.float32)], message=True)
    same_outcome(lambda a, m, v: a.masked_fill(m, v), [x, mask, np.array([1.0])], message=True)  # 1-d value
    same_outcome(lambda a, m: a.masked_fill(m, 1.0), [x, bools(5)], message=True)  # broadcast
    same_outcome(lambda a, m: a.masked_fill(m, None), [x, mask])
    same_outcome(lambda a, m: a.masked_fill(m, 1e300), [x.astype(np.float32), mask], message=True)


def test_masked_fill_inplace():
    x, mask = normal(3, 4), bools(4)
    check(lambda a, m: (a * 1).masked_fill_(m, -2.0), [x, mask])


# ============================================================ errors
BROADCAST_CASES = [((3,), (4,)), ((2, 3), (4,)), ((3, 1, 4), (5, 3)), ((2, 3), (3, 2)), ((0,), (2,)),
                   ((5, 4), (3, 1, 3))]


@pytest.mark.parametrize("shapes", BROADCAST_CASES, ids=str)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "==", "<", "&", "maximum", "atan2",
                                "where", "clamp"])
def test_broadcast_mismatch_is_torchs_runtime_error(op, shapes):
    a = ints(*shapes[0], lo=1) if op == "&" else uniform(0.5, 2, *shapes[0])
    b = ints(*shapes[1], lo=1) if op == "&" else uniform(0.5, 2, *shapes[1])
    fns = {"maximum": lambda m: m.maximum, "atan2": lambda m: m.atan2,
           "where": lambda m: (lambda x, y: m.where(x > 1, x, y)),
           "clamp": lambda m: (lambda x, y: m.clamp(x, y))}
    if op in fns:
        e_fn, t_fn = fns[op](ember), fns[op](torch)
    else:
        e_fn = t_fn = {**OPERATORS, **COMPARISONS, **BITWISE}[op]
    exc = the_error(t_fn, torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(exc, RuntimeError)
    same_outcome(e_fn, [a, b], t_fn, message=True)


def test_broadcast_error_names_the_first_mismatch_from_the_right():
    exc = the_error(ember.add, ember.ones(2, 3, 4), ember.ones(5, 3, 6))
    assert str(exc) == "The size of tensor a (4) must match the size of tensor b (6) at non-singleton dimension 2"


@pytest.mark.parametrize("a_kind,b_kind", [("bool", "bool"), ("bool", "float"), ("float", "bool"),
                                            ("int", "True"), ("bool", "True"), ("True", "bool"),
                                            ("True", "float")])
def test_bool_subtraction_errors(a_kind, b_kind):
    make = {"bool": bools(3), "float": normal(3), "int": ints(3), "True": True}
    a, b = make[a_kind], make[b_kind]
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return
    same_outcome(operator.sub, [a, b], message=True)
    if isinstance(a, np.ndarray):
        same_outcome(ember.sub, [a, b], torch.sub, message=True)
        same_outcome(lambda x, y: x.sub(y), [a, b], message=True)


def test_bool_negation_errors():
    b = bools(3)
    same_outcome(lambda t: -t, [b], message=True)
    same_outcome(ember.neg, [b], torch.neg, message=True)
    same_outcome(lambda t: t.relu(), [b], message=True)


@pytest.mark.parametrize("other", ["a", None, [1.0], (1,), object()], ids=repr)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "<"])
def test_non_number_operand_raises_type_error(op, other):
    x = ember.ones(3)
    fn = {**OPERATORS, **COMPARISONS}[op]
    with pytest.raises(TypeError):
        fn(x, other)
    with pytest.raises(TypeError):
        fn(other, x)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "remainder", "maximum", "eq"])
def test_function_form_non_number_operand(name):
    x = normal(3)
    for bad in ("a", None, [1.0]):
        same_outcome(lambda t: getattr(ember, name)(t, bad), [x], lambda t: getattr(torch, name)(t, bad))


# ============================================================ Python scalars
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64])
@pytest.mark.parametrize("scalar", [-1, 200, -300, 2 ** 40, 2 ** 63])
@pytest.mark.parametrize("op", ["+", "-", "*", "//", "%"])
def test_integer_scalars_wrap_into_the_tensor_dtype(dtype, scalar, op):
    """torch converts an out-of-range Python int to the tensor's dtype with wrap-around."""
    x = ints(6, dtype=dtype, lo=1, hi=100)
    fn = {**OPERATORS}[op]
    same_outcome(lambda t: fn(t, scalar), [x], message=True)


def test_integer_scalar_too_big_raises_overflow():
    x = ints(3)
    same_outcome(lambda t: t + 2 ** 64, [x])


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_float_scalar_overflow_gives_inf(dtype):
    x = normal(4, dtype=dtype)
    check(lambda t: t + 1e6 if dtype == np.float16 else t * 1e300, [x], grad=False)
    check(lambda t: t < 1e300, [x], grad=False)


def test_numpy_scalars_are_numbers():
    x = normal(2, 3, dtype=np.float32)
    check(lambda t: t * np.float64(2.5), [x])
    check(lambda t: np.float64(2.5) * t, [x])
    check(lambda t: t + np.int64(3), [x])
    check(lambda t: t ** np.float32(2.0), [x])


def test_parameters_get_gradients_through_elementwise_ops():
    """Tensor subclasses (nn.Parameter) take part in the recorded graph like tensors."""
    data = normal(2, 3, dtype=np.float32)
    e = ember.nn.Parameter(ember.tensor(data))
    t = torch.nn.Parameter(torch.from_numpy(data.copy()))
    for lib, p in ((ember, e), (torch, t)):
        out = (p * 2 + 1 - p / 3) ** 2 + lib.exp(p) + lib.maximum(p, p * 0) + lib.where(p > 0, p, 0.0)
        out = out + p.clamp(-0.2, 0.2) + p.masked_fill(p > 1, 0.0) + 2 * p + p.sigmoid()
        out.sum().backward()
    assert_same(e.grad, t.grad)


@pytest.mark.parametrize("make", ["mul", "exp", "where", "clamp", "masked_fill", "lt"])
def test_zero_dim_results_are_arrays_that_take_inplace_ops(make):
    """NumPy answers 0-d operands with scalars; ember's results stay writable 0-d tensors."""
    for lib in (ember, torch):
        x = lib.tensor(1.5)
        y = {"mul": lambda: x * 2, "exp": lambda: x.exp(), "where": lambda: lib.where(x > 0, x, 0.0),
             "clamp": lambda: x.clamp(0, 1), "masked_fill": lambda: x.masked_fill(x > 2, 0.0),
             "lt": lambda: x < 2}[make]()
        if make == "lt":
            y.copy_(~y)
        else:
            y.add_(1)
        if lib is ember:
            got, expected_shape = y, ()
        else:
            assert_same(got, y)
            assert tuple(got.shape) == expected_shape and isinstance(got.numpy(), np.ndarray)


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "trunc"])
def test_piecewise_constant_gradient_is_zero_even_for_inf_grad(name):
    x = ember.zeros(3, requires_grad=True)
    getattr(ember, name)(x).backward(ember.tensor([float("inf"), float("nan"), 1.0]))
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["erf", "erfinv", "lgamma"])
def test_functions_computed_on_the_host_in_float16(name, device):
    # no device kernel takes float16: the portable kernels copy to the host and back
    x = unary_input(name, (3, 4), np.float16)
    check(getattr(ember, name), [x], getattr(torch, name), grad=False, device=device)
