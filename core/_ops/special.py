"""Special functions (erfinv, lgamma, digamma, polygamma) and small vector helpers
(cross, lerp, meshgrid, renorm).

The special functions are computed in float64 with NumPy and rounded to the input's
floating dtype; integer inputs give the default floating dtype, as in torch. Their
gradients are special functions again, so derivatives of any order work.
"""

import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import (_make, broadcast_error, cast, check_tensor, host_kernel, is_scalar, normalize_dim, record,
                     same_backend, sum_to)
from .inplace import apply_inplace
from .overlap import refuse_overlapping_operands
from .reduce import norm
from .select import where

# ----------------------------------------------------------------- float64 kernels
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erfinv_start(y):
    """A first guess of erfinv(y) for 0 <= y < 1 (relative error about 1e-7): Giles'
    single-precision polynomials in w = -log(1 - y^2)."""
    w = -np.log((1.0 - y) * (1.0 + y))
    central = w < 5.0
    u = np.where(central, w - 2.5, np.sqrt(w) - 3.0)
    central_coefficients = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
    tail_coefficients = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
    p = np.zeros_like(y)
    for a, b in zip(central_coefficients, tail_coefficients):
        p = p * u + np.where(central, a, b)
    return p * y


def _erfinv64(y):
    """erfinv on float64, from a first guess: near 0, two Halley steps on
    ``erf(x) - y``; for y > 0.5, Newton steps on ``log(erfc(x)) - log(1 - y)``, which
    stays exact near 1 (where ``erf(x) - y`` cancels) and is almost linear in x."""
    a = np.abs(y)
    out = np.where(a == 1.0, np.copysign(np.inf, y), np.nan)
    inside = a < 1.0  # NaN is neither inside nor at 1
    t = a[inside]
    x = _erfinv_start(t)
    central = t <= 0.5
    xc, tc = x[central], t[central]
    for _ in range(2):
        step = (_erf(xc).astype(np.float64) - tc) / (_TWO_OVER_SQRT_PI * np.exp(-xc * xc))
        xc = xc - step / (1.0 + xc * step)
    xt, rest = x[~central], 1.0 - t[~central]
    for _ in range(4):
        tail = _erfc(xt).astype(np.float64)
        xt = xt + np.log(tail / rest) * tail / (_TWO_OVER_SQRT_PI * np.exp(-xt * xt))
    x[central], x[~central] = xc, xt
    out[inside] = np.copysign(x, y[inside])
    return out


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):  # a pole (0, a negative integer) or beyond float64
        return math.inf


_lgamma = np.frompyfunc(_lgamma_scalar, 1, 1)


def _lgamma64(x):
    """log|Gamma(x)| on float64: inf at the poles and at both infinities. Near its zeros
    at 1 and 2, Taylor series keep the relative accuracy that the general formula loses."""
    out = np.asarray(_lgamma(x), dtype=np.float64)  # a 0-d input gives a bare float
    for root in (1.0, 2.0):
        near = np.abs(x - root) < 0.2
        if near.any():
            out[near] = _lgamma_near(root, x[near] - root)
    return out


def _lgamma_near(root, e):
    """lgamma(root + e) for root 1 or 2 and small e: the series
    -gamma e + sum_k (-1)^k zeta(k) e^k / k (zeta(k) - 1 in place of zeta(k) at 2)."""
    coefficients = _LGAMMA_SERIES[root]
    total = np.zeros_like(e)
    for c in reversed(coefficients):
        total = total * e + c
    return total * e


def _lgamma_series(root, terms=30):
    euler_gamma = 0.5772156649015329
    zeta = [float(_hurwitz_zeta(np, float(k), np.ones(1))[0]) for k in range(2, terms + 2)]
    shift = root - 1.0  # lgamma(2 + e) = lgamma(1 + e) + log(1 + e): zeta(k) - 1 in each term
    first = shift - euler_gamma
    return (first,) + tuple((-1) ** k * (z - shift) / k for k, z in zip(range(2, terms + 2), zeta))


# Bernoulli-number terms B_2k / (2k) of the asymptotic series of digamma, in 1/x^2
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma64(xp, x):
    """digamma on float64: the reflection formula for negatives, the recurrence
    psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series."""
    negative = x < 0
    integer = x == xp.trunc(x)
    reflection = xp.zeros_like(x)
    fraction = x - xp.trunc(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        reflection[negative] = math.pi / xp.tan(math.pi * fraction[negative])
    z = xp.where(negative, 1.0 - x, x)
    z = xp.where(z == 0, 1.0, z)  # poles are set below; keep the arithmetic quiet
    result = xp.zeros_like(x)
    for _ in range(10):  # from z > 0, ten steps always reach 10
        small = z < 10.0
        result -= xp.where(small, 1.0 / z, 0.0)
        z = xp.where(small, z + 1.0, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv2 = 1.0 / (z * z)
        series = xp.zeros_like(x)
        for c in reversed(_DIGAMMA_SERIES):
            series = series * inv2 + c
        out = result + xp.log(z) - 0.5 / z - series * inv2 - reflection
    out = xp.where(x == 0, xp.copysign(np.inf, -x), out)  # -inf at +0, +inf at -0
    return xp.where(negative & integer, np.nan, out)  # negative integers and -inf


# Bernoulli numbers B_2, B_4, ..., B_24 for the Euler-Maclaurin tail of the Hurwitz zeta
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
              -174611 / 330, 854513 / 138, -236364091 / 2730)


def _hurwitz_zeta(xp, s, q):
    """zeta(s, q) = sum over k >= 0 of (q + k)^-s, for an integer s >= 2 and q > 0 or
    negative non-integers: the first terms summed until q + m >= s + 10, then the
    Euler-Maclaurin formula (its error is far below float64 resolution there)."""
    start = s + 10.0
    total = xp.zeros_like(q)
    a = q.copy()
    while True:
        low = a < start
        if not low.any():
            break
        total += xp.where(low, a ** -s, 0.0)
        a = xp.where(low, a + 1.0, a)
    # the tail as a^(1-s) times a series in 1/a, so that a large a does not underflow
    inverse = 1.0 / a
    series = 1.0 / (s - 1) + 0.5 * inverse
    rising, factorial, term = 1.0, 1.0, inverse * inverse
    for j, bernoulli in enumerate(_BERNOULLI, start=1):
        rising *= (s + 2 * j - 3) * (s + 2 * j - 2) if j > 1 else s
        factorial *= (2 * j - 1) * (2 * j) if j > 1 else 2
        series = series + bernoulli / factorial * rising * term
        term = term * (inverse * inverse)
    return total + a ** (1.0 - s) * series


def _polygamma64(xp, n, x):
    """The n-th derivative of digamma (n >= 1) on float64:
    (-1)^(n+1) n! zeta(n + 1, x), with psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x) for
    negative x when n == 1. Poles give (-1)^(n+1) inf; +inf gives 0."""
    sign = 1.0 if n % 2 else -1.0
    scale = float(math.factorial(n)) if n <= 170 else math.inf
    pole = (x <= 0) & (x == xp.floor(x))
    finite = xp.isfinite(x) & ~pole
    q = xp.where(finite, x, 1.0)
    reflect = (q < 0) if n == 1 else xp.zeros(q.shape, dtype=bool)
    zeta = _hurwitz_zeta(xp, n + 1.0, xp.where(reflect, 1.0 - q, q))
    if n == 1:
        sin = xp.sin(math.pi * (q - xp.round(q)))
        zeta = xp.where(reflect, math.pi ** 2 / (sin * sin) - zeta, zeta)
    with np.errstate(over="ignore", invalid="ignore"):
        out = sign * scale * zeta
    out = xp.where(finite, out, xp.where(pole, sign * np.inf, 0.0))
    at_minus_inf = np.nan if n == 1 else sign * np.inf  # torch's values there
    return xp.where(x == -np.inf, at_minus_inf, xp.where(xp.isnan(x), np.nan, out))


_LGAMMA_SERIES = {root: _lgamma_series(root) for root in (1.0, 2.0)}


def _generic(fn):
    def factory(xp):
        return lambda x, *args: fn(xp, *args, x.astype(np.float64)).astype(x.dtype)

    return factory


GENERIC_KERNELS = {
    "erfinv": host_kernel(_erfinv64),
    "lgamma": host_kernel(_lgamma64),
    "digamma": _generic(_digamma64),
    "polygamma": _generic(_polygamma64),
}


# ----------------------------------------------------------------- special-function ops
class ErfinvBackward0(Node):
    def backward(self, g):
        y = self.saved_output()
        return (g * (y * y).exp() * (math.sqrt(math.pi) / 2),)


class LgammaBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return (g * digamma(x),)


class DigammaBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return (g * polygamma(1, x),)


class PolygammaBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return (g * polygamma(self.n + 1, x),)


def _special(kernel, node_cls, input, *args, saves_output=False):
    check_tensor(input)
    x = input if input._data.dtype.kind == "f" else cast(input, _dtype.get_default_dtype())
    data = x._be.kernels[kernel](x._data, *args)
    if not (MODE.enabled and x._rg):
        return _make(data, x._be)
    node = node_cls()
    if args:
        node.n = args[0]
    if not saves_output:
        node.save(x)
    out = record(node, data, x._be, (x,))
    if saves_output:
        node.save_output(out)
    return out


def erfinv(input):
    """The inverse error function: ``erf(erfinv(x)) == x`` on (-1, 1); +-inf at +-1, NaN
    outside [-1, 1]."""
    return _special("erfinv", ErfinvBackward0, input, saves_output=True)


def lgamma(input):
    """``log|Gamma(x)|``; inf at 0, at the negative integers and at both infinities."""
    return _special("lgamma", LgammaBackward0, input)


def digamma(input):
    """The logarithmic derivative of Gamma, ``Gamma'(x) / Gamma(x)``: -inf at +0 (+inf
    at -0), NaN at the negative integers."""
    return _special("digamma", DigammaBackward0, input)


def polygamma(n, input):
    """The ``n``-th derivative of digamma (``n = 0`` is digamma itself); the poles at 0
    and the negative integers give ``(-1)^(n+1) inf``."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    return _special("polygamma", PolygammaBackward0, input, int(n))


# ----------------------------------------------------------------- cross
class LinalgCrossBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        return (sum_to(cross(b, g, self.dim), a._data.shape) if self.needs[0] else None,
                sum_to(cross(g, a, self.dim), b._data.shape) if self.needs[1] else None)


def _cross_dim(input, other, dim):
    check_tensor(input)
    check_tensor(other, "other")
    if dim is None:  # torch 1.0's default: the first dimension of size 3
        dim = next((i for i, s in enumerate(input._data.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = normalize_dim(dim, input._data.ndim)
    a, b = input._data.shape[d], other._data.shape[d]
    if a != 3 or b != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {a} and {b}")
    error = broadcast_error(input._data.shape, other._data.shape)
    if error is not None:
        raise error
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found {other.dtype.scalar_name}")
    return d


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (by default the first dimension of
    size 3, as in torch 1.0); the other dimensions broadcast."""
    d = _cross_dim(input, other, dim)
    be = same_backend(input, other)
    data = be.xp.cross(input._data, other._data, axis=d)
    if MODE.enabled and (input._rg or other._rg):
        node = LinalgCrossBackward0()
        node.dim, node.needs = d, (input._rg, other._rg)
        node.save(input, other)
        return record(node, data, be, (input, other))
    return _make(data, be)


# ----------------------------------------------------------------- lerp
class LerpBackward0(Node):
    """Gradient of ``start + weight * (end - start)``, weight a number."""

    def backward(self, g):
        w = self.weight
        return sum_to(g * (1 - w), self.shapes[0]), sum_to(g * w, self.shapes[1])


class LerpBackward1(Node):
    """Gradient of ``start + weight * (end - start)``, weight a tensor."""

    def backward(self, g):
        start, end, weight = self.saved()
        return (sum_to(g * (1 - weight), self.shapes[0]), sum_to(g * weight, self.shapes[1]),
                sum_to(g * (end - start), self.shapes[2]))


def _lerp_checks(input, end, weight):
    check_tensor(input)
    check_tensor(end, "end")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"lerp_kernel\" not implemented for '{input.dtype.scalar_name}'")
    operands = [("end", end)] + ([("weight", weight)] if isinstance(weight, Tensor) else [])
    for name, t in operands:
        if t.dtype != input.dtype:
            raise RuntimeError(f"expected dtype {input.dtype.name} for `{name}` but got dtype {t.dtype.name}")
        same_backend(input, t)
    if not isinstance(weight, Tensor) and not is_scalar(weight):
        raise TypeError(f"lerp(): argument 'weight' must be a Tensor or a number, not {type(weight).__name__}")
    error = broadcast_error(*(t._data.shape for t in [input, end] + [t for _, t in operands[1:]]))
    if error is not None:
        raise error


def lerp(input, end, weight):
    """Linear interpolation ``input + weight * (end - input)`` (computed from the nearer
    end, so ``weight = 1`` gives ``end`` exactly); ``weight`` a number or a tensor,
    all three broadcasting together."""
    _lerp_checks(input, end, weight)
    xp, be = input._be.xp, input._be
    w = weight._data if isinstance(weight, Tensor) else float(weight)
    start_data, end_data = input._data, end._data
    diff = end_data - start_data
    data = xp.where(xp.abs(w) < 0.5, start_data + w * diff, end_data - diff * (1 - w)).astype(start_data.dtype)
    tensors = (input, end) + ((weight,) if isinstance(weight, Tensor) else ())
    if not (MODE.enabled and any(t._rg for t in tensors)):
        return _make(data, be)
    if isinstance(weight, Tensor):
        node = LerpBackward1()
        node.save(input, end, weight)
    else:
        node = LerpBackward0()
        node.weight = float(weight)
    node.shapes = [t._data.shape for t in tensors]
    return record(node, data, be, tensors)


# ----------------------------------------------------------------- meshgrid
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` (the default, as in
    torch 1.0) output ``i`` varies along dimension ``i``; ``'xy'`` swaps the first two
    dimensions (Cartesian, as NumPy's default). Returns a tuple of expanded views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        check_tensor(t, "tensors")
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a "
                               f"{t._data.ndim}-D tensor")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        same_backend(t, tensors[0])
    sizes = [t._data.size for t in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for axis, size in zip(axes, sizes):
        shape[axis] = size
    grids = []
    for axis, t in zip(axes, tensors):
        view = [1] * len(tensors)
        view[axis] = -1
        grids.append(t.reshape(view).expand(shape))
    return tuple(grids)


# ----------------------------------------------------------------- renorm
def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to norm
    ``maxnorm`` (by ``maxnorm / (norm + 1e-7)``); the others unchanged."""
    check_tensor(input)
    if input._data.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input._data.ndim} dimensions")
    if not is_scalar(p) or not is_scalar(maxnorm):
        raise TypeError("renorm(): 'p' and 'maxnorm' must be numbers")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = normalize_dim(dim, input._data.ndim)
    others = [i for i in range(input._data.ndim) if i != d]
    norms = norm(input, float(p), others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


# ----------------------------------------------------------------- tables
def _inplace(op):
    def inplace(self, *args):
        if op is lerp and isinstance(self, Tensor):  # element-wise in torch: its operands are checked
            refuse_overlapping_operands(self, args)
        return apply_inplace(self, op, *args)

    inplace.__name__ = op.__name__ + "_"
    inplace.__doc__ = f"In-place ``{op.__name__}``."
    return inplace


def _polygamma_method(self, n):
    """``polygamma(n, self)``."""
    return polygamma(n, self)


def _polygamma_inplace(self, n):
    """In-place ``polygamma(n, self)``."""
    return apply_inplace(self, _polygamma_method, n)


FUNCTIONS = dict(erfinv=erfinv, lgamma=lgamma, digamma=digamma, polygamma=polygamma, cross=cross, lerp=lerp,
                 meshgrid=meshgrid, renorm=renorm)
METHODS = dict(erfinv=erfinv, lgamma=lgamma, digamma=digamma, polygamma=_polygamma_method, cross=cross,
               lerp=lerp, renorm=renorm, polygamma_=_polygamma_inplace,
               **{op.__name__ + "_": _inplace(op) for op in (erfinv, lgamma, digamma, lerp, renorm)})
