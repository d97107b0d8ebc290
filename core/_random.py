"""Random tensors and seeding; each backend keeps the generator of each of its devices."""

import operator
import warnings

import numpy as np

from . import _dtype
from ._creation import _require_grad, _backend, _sizes, factory_size
from ._generator import default_generator, fresh_seed, numpy_source
from ._ops.common import needs_grad, record
from ._ops.overlap import refuse_internal_overlap
from ._tensor import Tensor
from .autograd.graph import Node
from .backend import REGISTRY, refuse_on_device


def manual_seed(seed):
    """Seed the generators of every backend, making random functions reproducible;
    returns ``ember.default_generator``. ``seed`` is converted with ``int`` (negative
    seeds count modulo 2**64)."""
    seed = int(seed)
    default_generator.manual_seed(seed)  # checks the range before any backend is touched
    for be in REGISTRY.backends.values():
        if be.name != "cpu":
            be.manual_seed(default_generator.initial_seed())
    return default_generator


def seed():
    """Seed every generator from a non-deterministic source; returns the seed."""
    value = fresh_seed()
    manual_seed(value)
    return value


def initial_seed():
    """The seed last given to ``manual_seed`` (or ``seed``)."""
    return default_generator.initial_seed()


def get_rng_state():
    """The state of the CPU generator as a uint8 tensor (``default_generator.get_state()``)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the CPU generator to a state from ``get_rng_state``."""
    default_generator.set_state(new_state)


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}


def _floating(dtype, kernel):
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if dt.category != 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR_NAMES[dt.name]}'")
    return dt


def _sample(kind, shape, dt, device, requires_grad, generator, *args):
    be, index = _backend(device)
    gen = numpy_source(generator, be, index)
    work = dt.np if dt.np in (np.float32, np.float64) else np.float32
    if kind == "uniform":
        data = gen.random(shape, dtype=work)
    elif kind == "normal":
        data = gen.standard_normal(shape, dtype=work)
    else:
        data = gen.integers(args[0], args[1], size=shape, dtype=np.int64)
        work = np.int64
    if data.dtype != dt.np:
        data = data.astype(dt.np)
    t = Tensor._make(data, be)
    if requires_grad:
        _require_grad(t)
    return t


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Uniform samples from ``[0, 1)`` with shape ``size`` (given as ints, one sequence, or ``size=``)."""
    shape = _sizes(factory_size("rand", sizes, size))
    return _sample("uniform", shape, _floating(dtype, "check_uniform_bounds"), device, requires_grad, generator)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Standard normal samples with shape ``size`` (given as ints, one sequence, or ``size=``)."""
    shape = _sizes(factory_size("randn", sizes, size))
    return _sample("normal", shape, _floating(dtype, "normal_kernel_cpu"), device, requires_grad, generator)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False, out=None, layout=None):
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)`` (``low`` defaults to 0; any argument may be a keyword)."""
    args = list(args)
    if size is None and args:
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError("randint() takes at most 3 positional arguments (low, high, size)")
    if low is None:
        low = 0
    if high is None or size is None:
        raise TypeError("randint() missing required arguments 'high' and 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    if dt is _dtype.bool and (low < 0 or high > 2):
        raise RuntimeError(f"{'from' if low < 0 else 'to - 1'} is out of bounds for bool")
    return _sample("int", _sizes((tuple(size),)), dt, device, requires_grad, generator, int(low), int(high))


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    """Uniform ``[0, 1)`` samples shaped like ``input``."""
    return rand(tuple(input.shape), generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None):
    """Standard normal samples shaped like ``input``."""
    return randn(tuple(input.shape), generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False,
                 layout=None, memory_format=None):
    """Integers from ``[low, high)`` shaped like ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    be, index = _backend(device)
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    gen, n = numpy_source(generator, be, index), int(n)
    # CuPy's generator has no permutation: the order of n uniform draws is one
    order = gen.permutation(n) if hasattr(gen, "permutation") else be.xp.argsort(gen.random(n))
    return Tensor._make(order.astype(dt.np), be)


# --------------------------------------------------------------------------
# Distributions drawn into existing tensors (the ``Tensor.*_`` methods) and from
# probability tensors. Every argument is checked before anything is drawn or written.

_C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "uint8": "unsigned char",
            "int8": "signed char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def _source(t, generator):
    """The NumPy-API generator to draw from for ``t``: ``generator``'s (an
    ``ember.Generator``, or one with NumPy's ``Generator`` API such as
    ``numpy.random.default_rng(0)``), else ember's generator of ``t``'s device."""
    return numpy_source(generator, t._be, t._be.device_index(t._data))


def _work_dtype(t):
    """The dtype draws are made in for a floating tensor (float16 draws in float32)."""
    return np.float64 if t._data.dtype == np.float64 else np.float32


def _store(t, values):
    """Write ``values`` (any float/int array of t's shape) into t and move its version on."""
    refuse_internal_overlap(t._data)
    t._data[...] = values
    t._bump_version()
    return t


def _require_floating(t, message):
    if t._data.dtype.kind != "f":
        raise message(t)


def _not_implemented(kernel):
    return lambda t: NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.scalar_name}'")


def _continuous_only(name):
    return lambda t: RuntimeError(f"{name} distribution is a continuous probability distribution. dtype must be "
                                  f"a floating point but you specified {t.dtype.scalar_name}")


def _number(x, op, name):
    if not _is_number(x):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(x).__name__}")
    return float(x)


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _from_to(op, bounds, named, defaults):
    """``(from, to)`` given positionally and/or as the keywords ``from`` and ``to``."""
    unknown = set(named) - {"from", "to"}
    if unknown or len(bounds) > 2:
        got = f"unexpected keyword argument '{sorted(unknown)[0]}'" if unknown else f"{len(bounds)} bounds"
        raise TypeError(f"{op}() takes 'from' and 'to' (and the keyword 'generator'), got {got}")
    values = list(bounds) + list(defaults[len(bounds):])
    for position, key in enumerate(("from", "to")):
        if key in named:
            if position < len(bounds):
                raise TypeError(f"{op}() got multiple values for argument '{key}'")
            values[position] = named[key]
    return values


def uniform_(t, *bounds, generator=None, **named):
    """Fill ``t`` in place with samples from the uniform distribution on ``[from, to)``
    (defaults 0 and 1): ``t.uniform_(-0.1, 0.1)``. Floating tensors only."""
    low, high = (_number(v, "uniform_", k) for v, k in zip(_from_to("uniform_", bounds, named, (0.0, 1.0)),
                                                              ("from", "to")))
    _require_floating(t, _not_implemented("check_uniform_bounds"))  # before the bounds, as torch
    limit = float(np.finfo(t._data.dtype).max)
    c_type = _C_TYPES[t.dtype.name]
    for name, value in (("from", low), ("to", high)):
        if not -limit <= value <= limit:
            raise RuntimeError(f"{name} is out of bounds for {c_type}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low:g} > to={high:g}")
    if high - low > limit:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{t.dtype.scalar_name}>::max(), but "
                           f"found to={high:g} and from={low:g} which result in to-from to exceed the limit")
    draws = _source(t, generator).random(t._data.shape, dtype=_work_dtype(t))
    return _store(t, draws * (high - low) + low)


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    """Fill ``t`` in place with samples from the normal distribution N(mean, std²)."""
    mean, std = _number(mean, "normal_", "mean"), _number(std, "normal_", "std")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    _require_floating(t, _not_implemented("normal_kernel_cpu"))
    draws = _source(t, generator).standard_normal(t._data.shape, dtype=_work_dtype(t))
    return _store(t, draws * std + mean)


def log_normal_(t, mean=1.0, std=2.0, *, generator=None):
    """Fill ``t`` in place with samples whose logarithm is N(mean, std²) distributed."""
    mean, std = _number(mean, "log_normal_", "mean"), _number(std, "log_normal_", "std")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    _require_floating(t, _not_implemented("log_normal_cpu"))
    draws = _source(t, generator).standard_normal(t._data.shape, dtype=_work_dtype(t))
    return _store(t, t._be.xp.exp(draws * std + mean))


def exponential_(t, lambd=1.0, *, generator=None):
    """Fill ``t`` in place with samples from the exponential distribution of rate
    ``lambd`` (density ``lambd * exp(-lambd * x)``, mean ``1 / lambd``)."""
    lambd = _number(lambd, "exponential_", "lambd")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    _require_floating(t, _continuous_only("Exponential"))
    draws = _source(t, generator).standard_exponential(t._data.shape, dtype=_work_dtype(t))
    return _store(t, draws / lambd)


def cauchy_(t, median=0.0, sigma=1.0, *, generator=None):
    """Fill ``t`` in place with samples from the Cauchy distribution centred on ``median``
    with half width ``sigma`` (density ``1 / (pi * sigma * (1 + ((x - median) / sigma)**2))``)."""
    median, sigma = _number(median, "cauchy_", "median"), _number(sigma, "cauchy_", "sigma")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    if t._data.dtype.kind != "f":
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_C_TYPES[t.dtype.name]}")
    u = _source(t, generator).random(t._data.shape, dtype=_work_dtype(t))
    return _store(t, median + sigma * t._be.xp.tan(np.pi * (u - 0.5)))


def geometric_(t, p, *, generator=None):
    """Fill ``t`` in place with the number of Bernoulli(``p``) trials up to and including
    the first success (values 1, 2, ...; mean ``1 / p``). Integer tensors are allowed."""
    p = _number(p, "geometric_", "p")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    if t._data.dtype == np.bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    return _store(t, _source(t, generator).geometric(p, size=t._data.shape))


def _int_bound(x, op, name):
    try:
        x = operator.index(x)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(x).__name__}") from None
    if not -(1 << 63) <= x < (1 << 63):
        raise ValueError(f"{op}(): argument '{name}' overflows a 64-bit integer: {x}")
    return x


def _random_range(t, low, high):
    """The inclusive range ``[low, top]`` that ``random_(low, high)`` draws from on t's dtype."""
    dt = t._data.dtype
    if high is not None:
        if not low < high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        return low, high - 1
    if low == -(1 << 63):
        return low, (1 << 63) - 1
    if dt.kind == "f":
        top = 1 << np.finfo(dt).nmant + 1
    elif dt == np.bool_:
        top = 1
    else:
        top = int(np.iinfo(dt).max)
    if dt.kind == "f" and not low < top:
        raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted "
                           f"to dtype, but got from={low} > to_inc={top}")
    return low, top


def _check_random_range(t, low, top):
    dt = t._data.dtype
    if dt.kind == "f":
        lo_limit, hi_limit = -float(np.finfo(dt).max), float(np.finfo(dt).max)
    elif dt == np.bool_:
        lo_limit, hi_limit = 0, 1
    else:
        lo_limit, hi_limit = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    for name, value in (("from", low), ("to - 1", top)):
        if not lo_limit <= value <= hi_limit:
            raise RuntimeError(f"{name} is out of bounds for {_C_TYPES[t.dtype.name]}")
    if dt.kind == "f":
        exact = 1 << np.finfo(dt).nmant + 1
        for name, value in (("from", low), ("to - 1", top)):
            if not -exact <= value <= exact:
                warnings.warn(f"random_: {name} = {value} lies outside [-2^{np.finfo(dt).nmant + 1}, "
                              f"2^{np.finfo(dt).nmant + 1}], where {t.dtype.name} holds every integer: "
                              "the drawn integers are rounded to the nearest representable values", UserWarning,
                              stacklevel=4)


def random_(t, *bounds, generator=None, **named):
    """Fill ``t`` in place with integers drawn uniformly: ``random_(to)`` from ``[0, to)``,
    ``random_(from, to)`` from ``[from, to)``, ``random_(from, None)`` and ``random_()``
    from ``from`` (0) up to the largest integer the dtype holds exactly (``2**24`` for
    float32, ``2**53`` for float64, the maximum for integer dtypes, 1 for bool)."""
    if len(bounds) == 1 and "to" not in named and "from" not in named:
        bounds = (0, bounds[0])
    low, high = _from_to("random_", bounds, named, (0, None))
    low = _int_bound(low, "random_", "from")
    high = None if high is None else _int_bound(high, "random_", "to")
    low, top = _random_range(t, low, high)
    _check_random_range(t, low, top)
    draws = _source(t, generator).integers(low, top, size=t._data.shape, dtype=np.int64, endpoint=True)
    dt = t._data.dtype
    if dt.kind == "f":  # keep rounded draws inside [from, to): the nearest representable bounds
        draws = t._be.xp.clip(draws.astype(dt), _representable(low, dt, up=True), _representable(top, dt, up=False))
    return _store(t, draws)


def _representable(value, dt, up):
    """The value of dtype ``dt`` nearest to the integer ``value`` on its side (``up``: >=)."""
    v = dt.type(value)
    if (up and int(v) < value) or (not up and int(v) > value):
        v = np.nextafter(v, dt.type(np.inf if up else -np.inf))
    return v


def _check_probabilities(p):
    """RuntimeError unless every element of the floating tensor ``p`` lies in [0, 1]."""
    xp = p._be.xp
    if p._data.size:  # at once on the CPU; on a GPU at its next synchronisation, never a wait
        refuse_on_device(p, "bernoulli p", ~xp.all((p._data >= 0) & (p._data <= 1)),
                         RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false."))


def _draw_below(t, p, gen):
    """0/1 draws of t's shape, 1 with probability ``p`` (a number or an array broadcasting to t)."""
    work = np.float64 if getattr(p, "dtype", np.float64) == np.float64 else np.float32
    return gen.random(t._data.shape, dtype=work) < p


class BernoulliBackward0(Node):
    """Draws do not depend smoothly on their probabilities: a zero gradient."""

    def backward(self, g):
        return (g * 0,)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples shaped like ``input``: each element is 1 with probability given by the
    matching element of ``input`` (floating, in [0, 1]), or by the number ``p`` for every
    element (then ``input`` only gives shape and dtype).

    Example:
        >>> ember.bernoulli(ember.tensor([0., 1.]))
        tensor([0., 1.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if p is None:
        _require_floating(input, _not_implemented("bernoulli_tensor_cpu_p_"))
        _check_probabilities(input)
        prob = input._data
    else:
        prob = _bernoulli_number(p)
    data = _draw_below(input, prob, _source(input, generator)).astype(input._data.dtype)
    if needs_grad(input) and input._data.dtype.kind == "f":
        return record(BernoulliBackward0(), data, input._be, (input,))
    return Tensor._make(data, input._be)


def _bernoulli_number(p):
    p = _number(p, "bernoulli", "p")
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return p


def bernoulli_(t, p=0.5, *, generator=None):
    """Fill ``t`` in place with 0/1 samples, 1 with probability ``p``: a number, or a
    floating tensor of probabilities broadcasting to ``t``'s shape."""
    if isinstance(p, Tensor):
        _require_floating(p, _not_implemented("bernoulli_tensor_cpu_p_"))
        _check_probabilities(p)
        try:
            prob = p._be.xp.broadcast_to(p._data, t._data.shape)
        except ValueError:
            raise RuntimeError(f"bernoulli_: p of shape {list(p.shape)} cannot be broadcast to the shape "
                               f"{list(t.shape)} of the tensor filled") from None
    else:
        prob = _bernoulli_number(p)
    return _store(t, _draw_below(t, prob, _source(t, generator)))


def _check_multinomial(input, num_samples, replacement):
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, "
                        f"not {type(num_samples).__name__}")
    if input._data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.scalar_name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input._data.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if input._data.shape[-1] > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    xp = input._be.xp
    rows = input._data.reshape(-1, input._data.shape[-1]).astype(np.float64)
    if rows.size:  # at once on the CPU; on a GPU at its next synchronisation, never a wait
        bad_entry = "probability tensor contains either `inf`, `nan` or element < 0"
        drawing_again = replacement and num_samples > 1   # torch's kernel for it words the errors its own way
        totals = rows.sum(axis=1)
        checks = ((~xp.isfinite(rows).all(), "invalid multinomial distribution (encountering probability entry "
                                             "= infinity or NaN)" if drawing_again else bad_entry),
                  ((rows < 0).any(), "invalid multinomial distribution (encountering probability entry < 0)"
                                     if drawing_again else bad_entry),
                  (~xp.isfinite(totals).all(), bad_entry),
                  ((totals <= 0).any(), "invalid multinomial distribution (sum of probabilities <= 0)"))
        for k, (failed, message) in enumerate(checks):
            refuse_on_device(input, f"multinomial check {k}: {message}", failed, RuntimeError(message))
    return rows


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices of categories drawn from each row of ``input`` (1-D or 2-D, non-negative
    weights, not necessarily summing to 1): ``num_samples`` per row, int64.

    Without replacement each row's draws are distinct (a category of weight 0 is drawn
    only once every positive one has been); ``num_samples`` may then not exceed the
    number of categories.

    Example:
        >>> ember.multinomial(ember.tensor([0., 1., 0.]), 2, replacement=True)
        tensor([1, 1])
    """
    rows = _check_multinomial(input, num_samples, replacement)
    xp = input._be.xp
    gen = _source(input, generator)
    n = int(num_samples)
    if not rows.size:
        out = xp.zeros((rows.shape[0], n), dtype=np.int64)
    elif replacement:
        out = _with_replacement(rows, n, gen, xp)
    else:
        # the largest weight / Exp(1) keys are an ordered draw without replacement
        keys = rows / gen.standard_exponential(rows.shape)
        out = xp.argsort(-keys, axis=1, kind="stable")[:, :n].astype(np.int64)
    return Tensor._make(out.reshape(input._data.shape[:-1] + (n,)), input._be)


def _with_replacement(rows, n, gen, xp):
    """``n`` independent draws per row by inverting each row's cumulative distribution."""
    cdf = xp.cumsum(rows, axis=1)
    cdf /= cdf[:, -1:]
    # rounding may leave the top of the last positive category just under 1
    last = rows.shape[1] - 1 - xp.argmax(rows[:, ::-1] > 0, axis=1)
    u = gen.random((rows.shape[0], n))
    out = xp.empty((rows.shape[0], n), dtype=np.int64)
    for r in range(rows.shape[0]):
        out[r] = xp.minimum(xp.searchsorted(cdf[r], u[r], side="right"), last[r])
    return out


class _ZeroGradient(Node):
    """Draws do not depend smoothly on their parameters: zero gradients (torch's convention)."""

    def backward(self, g):
        from ._creation import zeros

        return tuple(None if shape is None else zeros(shape, dtype=g.dtype, device=g.device)
                     for shape in self.shapes)


class NormalBackward1(_ZeroGradient):
    pass


class NormalBackward2(_ZeroGradient):
    pass


class NormalBackward3(_ZeroGradient):
    pass


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Samples from normal distributions N(mean, std²).

    ``mean`` and ``std`` are tensors (broadcast together; the result takes the dtype of
    ``mean``, or of ``std`` when ``mean`` is a number) or numbers; with two numbers,
    ``size`` gives the shape and ``dtype``/``device`` the kind of tensor made. Every
    ``std`` must be >= 0. The draws receive zero gradients, as torch's do.
    """
    if out is not None:
        raise NotImplementedError("normal(..., out=...) is not supported")
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() with a number mean and a number std needs a size")
        std = _number(std, "normal", "std")
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        t = randn(tuple(size), generator=generator, dtype=dtype, device=device, requires_grad=False)
        t._data *= std
        t._data += _number(mean, "normal", "mean")
        if requires_grad:
            _require_grad(t)
        return t
    ref = mean if isinstance(mean, Tensor) else std
    _require_floating(ref, _not_implemented("normal_kernel_cpu"))
    if isinstance(std, Tensor):
        if std._data.size:  # at once on the CPU; on a GPU at its next synchronisation, never a wait
            refuse_on_device(std, "normal std", ~std._be.xp.all(std._data >= 0),
                             RuntimeError("normal expects all elements of std >= 0.0"))
    elif not _number(std, "normal", "std") >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    shapes = [x._data.shape for x in (mean, std) if isinstance(x, Tensor)]
    from ._ops.common import broadcast_error

    err = broadcast_error(*shapes)
    if err is not None:
        raise err
    xp = ref._be.xp
    shape = np.broadcast_shapes(*shapes)
    draws = _source(ref, generator).standard_normal(shape, dtype=_work_dtype(ref))
    values = [x._data if isinstance(x, Tensor) else float(x) for x in (mean, std)]
    data = (draws * values[1] + values[0]).astype(ref._data.dtype)
    if needs_grad(*[x for x in (mean, std) if isinstance(x, Tensor)]):
        both = isinstance(mean, Tensor) and isinstance(std, Tensor)
        node = (NormalBackward3 if both else NormalBackward1 if isinstance(mean, Tensor) else NormalBackward2)()
        node.shapes = tuple(x._data.shape if isinstance(x, Tensor) and x._rg else None for x in (mean, std))
        return record(node, xp.asarray(data), ref._be, (mean, std))
    return Tensor._make(xp.asarray(data), ref._be)
