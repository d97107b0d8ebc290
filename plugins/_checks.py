"""Argument checks shared by the layer families: each raises with a message that
names the function, the argument, what it takes and what it got.

torch's C++ argument parser refuses a non-tensor input with a TypeError; its
Python layers often let nonsense hyper-parameters through (a NaN ``eps``, a
negative ``momentum``, a ``kernel_size`` of 2.5). ember refuses them up front.
"""

import functools
import inspect
import math
import numbers

from ember import Tensor

_MISSING = object()


def _type_name(value):
    cls = type(value)
    return cls.__name__ if cls.__module__ in ("builtins", "numpy") else f"{cls.__module__}.{cls.__name__}"


def tensor_arg(value, fn, name="input", optional=False):
    """Raise TypeError unless ``value`` is a Tensor (or None when ``optional``)."""
    if isinstance(value, Tensor) or (optional and value is None):
        return value
    raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {_type_name(value)}")


def tensor_args(*names, optional=()):
    """Decorate a functional so that each argument in ``names`` (and in ``optional``,
    which may also be None) must be a Tensor: a TypeError names the function, the
    argument and the type received."""
    def decorate(fn):
        params = list(inspect.signature(fn).parameters)
        slots = tuple((params.index(n), n, n in optional) for n in names + tuple(optional))
        first = params[0] if names and params.index(names[0]) == 0 else None

        def refuse(name, value):
            raise TypeError(f"{fn.__name__}(): argument '{name}' must be Tensor, not {_type_name(value)}")

        def check_all(args, kwargs):
            for pos, name, may_be_none in slots:
                value = args[pos] if pos < len(args) else kwargs.get(name, _MISSING)
                if not (isinstance(value, Tensor) or value is _MISSING or (may_be_none and value is None)):
                    refuse(name, value)

        if first is not None and len(slots) == 1:
            @functools.wraps(fn)
            def checked(*args, **kwargs):   # the common case, kept cheap
                if not (args and isinstance(args[0], Tensor)):
                    check_all(args, kwargs)
                return fn(*args, **kwargs)
        else:
            @functools.wraps(fn)
            def checked(*args, **kwargs):
                check_all(args, kwargs)
                return fn(*args, **kwargs)
        return checked
    return decorate


def integer(value, fn, name, minimum=None):
    """``value`` as an int (bools and floats refused), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, but got {value!r} ({_type_name(value)})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{fn}: {name} must be at least {minimum}, but got {value}")
    return int(value)


def int_tuple(value, fn, name, n, minimum=None):
    """An int or a sequence of ``n`` ints (each at least ``minimum``) as an n-tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{fn}: {name} must be an int or a tuple of {n} ints, but got {tuple(value)!r}")
        return tuple(integer(v, fn, name, minimum) for v in value)
    return (integer(value, fn, name, minimum),) * n


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


def flag(value, fn, name):
    """Raise TypeError unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{fn}: {name} must be a bool, but got {value!r} ({_type_name(value)})")
    return value


def choice(value, fn, name, options):
    """Raise ValueError unless ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{fn}: {name} must be one of {listed}, but got {value!r}")
    return value
