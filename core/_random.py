"""Random tensors and seeding; each backend keeps the generator of each of its devices."""

import numpy as np

from . import _dtype
from ._creation import _require_grad, _backend, _sizes
from ._tensor import Tensor
from .backend import REGISTRY

_initial_seed = [67280421310721]


def manual_seed(seed):
    """Seed the generators of every backend, making random functions reproducible."""
    seed = int(seed)
    if seed < 0:
        seed &= 0xFFFF_FFFF_FFFF_FFFF
    _initial_seed[0] = seed
    for be in REGISTRY.backends.values():
        be.manual_seed(seed)
    return seed


def seed():
    """Seed every generator from a non-deterministic source; returns the seed."""
    return manual_seed(np.random.SeedSequence().entropy & 0xFFFF_FFFF_FFFF_FFFF)


def initial_seed():
    """The seed last given to ``manual_seed``."""
    return _initial_seed[0]


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}


def _floating(dtype, kernel):
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if dt.category != 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR_NAMES[dt.name]}'")
    return dt


def _sample(kind, shape, dt, device, requires_grad, *args):
    be, index = _backend(device)
    gen = be.generator(index)
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


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Uniform samples from ``[0, 1)`` with shape ``size``."""
    return _sample("uniform", _sizes(size), _floating(dtype, "check_uniform_bounds"), device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Standard normal samples with shape ``size``."""
    return _sample("normal", _sizes(size), _floating(dtype, "normal_kernel_cpu"), device, requires_grad)


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
    return _sample("int", _sizes((tuple(size),)), dt, device, requires_grad, int(low), int(high))


def rand_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """Uniform ``[0, 1)`` samples shaped like ``input``."""
    return rand(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """Standard normal samples shaped like ``input``."""
    return randn(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """Integers from ``[low, high)`` shaped like ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    be, index = _backend(device)
    data = be.generator(index).permutation(int(n)).astype(_dtype.int64.np if dtype is None else _dtype.to_dtype(dtype).np)
    return Tensor._make(data, be)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with probabilities ``input`` (or the number ``p``)."""
    prob = input._data if p is None else p
    be = input._be
    draws = be.generator(be.device_index(input._data)).random(input._data.shape)
    return Tensor._make((draws < prob).astype(input._data.dtype), be)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices sampled from the rows of ``input`` taken as unnormalised probabilities."""
    be = input._be
    probs = be.to_host(input._data).astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    gen = be.generator(be.device_index(input._data))
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, r in enumerate(rows):
        total = r.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        out[i] = gen.choice(r.size, size=num_samples, replace=replacement, p=r / total)
    out = out.reshape(probs.shape[:-1] + (num_samples,))
    return Tensor._make(out if be.name == "cpu" else be.from_host(out, None), be)


def uniform_(t, a=0.0, b=1.0):
    """Fill ``t`` in place with samples from ``[a, b)``."""
    be = t._be
    gen = be.generator(be.device_index(t._data))
    draws = gen.random(t._data.shape)
    t._data[...] = draws * (b - a) + a
    t._bump_version()
    return t


def normal_(t, mean=0.0, std=1.0):
    """Fill ``t`` in place with samples from N(mean, std²)."""
    be = t._be
    gen = be.generator(be.device_index(t._data))
    t._data[...] = gen.standard_normal(t._data.shape) * std + mean
    t._bump_version()
    return t


def random_(t, low=0, high=None):
    """Fill ``t`` in place with integers from ``[low, high)``."""
    if high is None:
        low, high = 0, low if low else 2 ** 24
    be = t._be
    t._data[...] = be.generator(be.device_index(t._data)).integers(low, high, size=t._data.shape)
    t._bump_version()
    return t


def normal(mean, std, size=None, *, generator=None, out=None):
    """Samples from N(mean, std²): tensors of means/stds, or numbers with ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        return randn(shape, dtype=ref.dtype, device=ref.device) * std + mean
    return randn(size, dtype=None) * std + mean
