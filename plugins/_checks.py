"""Argument checks shared by the layer families: each raises with a message that
names the function, the argument, what it takes and what it got.

torch's C++ argument parser refuses a non-tensor input with a TypeError; its
Python layers often let nonsense hyper-parameters through (a NaN ``eps``, a
negative ``momentum``, a ``kernel_size`` of 2.5). ember refuses them up front.
"""

import math
import numbers

from ember import Tensor


def _type_name(value):
    cls = type(value)
    return cls.__name__ if cls.__module__ in ("builtins", "numpy") else f"{cls.__module__}.{cls.__name__}"


def tensor_arg(value, fn, name="input", optional=False):
    """Raise TypeError unless ``value`` is a Tensor (or None when ``optional``)."""
    if isinstance(value, Tensor) or (optional and value is None):
        return value
    raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {_type_name(value)}")


def integer(value, fn, name):
    """``value`` as an int; bools and floats are refused (torch takes ``True`` as 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, but got {value!r} ({_type_name(value)})")
    return int(value)


def real(value, fn, name, low=None, high=None, low_open=False, finite=True, error=ValueError):
    """``value`` as a float: a real number (bools refused), not NaN, finite unless
    ``finite`` is False, within ``[low, high]`` (``(low, high]`` when ``low_open``).
    A bad value raises ``error`` (the type torch raises where it checks at all)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, but got {value!r} ({_type_name(value)})")
    x = float(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise error(f"{fn}: {name} must be {'finite' if finite else 'a number'}, but got {x}")
    if low is not None and (x < low or (low_open and x == low)):
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise error(f"{fn}: {name} must be {bound}, but got {value}")
    if high is not None and x > high:
        raise error(f"{fn}: {name} must be at most {high}, but got {value}")
    return x


def choice(value, fn, name, options):
    """Raise ValueError unless ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{fn}: {name} must be one of {listed}, but got {value!r}")
    return value
