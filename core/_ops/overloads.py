"""PyTorch 1.0's forms that pass scale factors positionally, before the tensors:
``x.add_(alpha, other)``, ``addcmul(input, value, tensor1, tensor2)``,
``addmm(beta, input, alpha, mat1, mat2)``, ``x.addmm_(beta, mat1, mat2)``, ...

torch 2 still takes them with a ``UserWarning`` that the overload is deprecated;
so does ember. ``modern(name, args)`` turns such a call's positional arguments (the
tensor operated on first, or ``beta`` first in the function forms of the ``add*``
products) into the tensors and the keyword scale factors of today's form, and warns.
"""

import functools
import numbers
import warnings

from .._tensor import Tensor

_PRODUCT_OPERANDS = {"addmm": ("mat1", "mat2"), "addmv": ("mat", "vec"), "addr": ("vec1", "vec2"),
                     "addbmm": ("batch1", "batch2"), "baddbmm": ("batch1", "batch2")}


def _is_number(x):
    return isinstance(x, numbers.Number) or (isinstance(x, Tensor) and x._data.ndim == 0)


def _number(name, what, x):
    """``x`` as a Python number for the scale ``what`` (a 0-d tensor counts, as in torch)."""
    if not _is_number(x):
        raise TypeError(f"{name}(): in the deprecated form the {what} comes first and must be a number, "
                        f"not {type(x).__name__}")
    return x.item() if isinstance(x, Tensor) else x


def _arity(name, args, allowed):
    if len(args) not in allowed:
        raise TypeError(f"{name}() got {len(args)} positional arguments; its forms take "
                        + " or ".join(str(n) for n in sorted(allowed)))


def _alpha_first(name, args):
    """``(input, alpha, other)`` of ``add``/``sub``."""
    _arity(name, args, (3,))
    input, alpha, other = args
    return (input, other), {"alpha": _number(name, "alpha", alpha)}, "Number alpha, Tensor other", \
        "Tensor other, *, Number alpha=1"


def _value_first(name, args):
    """``(input, value, tensor1, tensor2)`` of ``addcmul``/``addcdiv``."""
    _arity(name, args, (4,))
    input, value, tensor1, tensor2 = args
    return (input, tensor1, tensor2), {"value": _number(name, "value", value)}, \
        "Number value, Tensor tensor1, Tensor tensor2", "Tensor tensor1, Tensor tensor2, *, Number value=1"


def _scales_first(name, args):
    """``(beta, input, [alpha,] a, b)`` (the function form) or ``(input, beta, [alpha,] a, b)``
    (the method form) of the ``add*`` products."""
    _arity(name, args, (4, 5))
    a, b = _PRODUCT_OPERANDS[name.rstrip("_")]
    function_form = _is_number(args[0])
    if function_form:
        beta, input, *rest = args
    else:
        input, beta, *rest = args
    scales = {"beta": _number(name, "beta", beta)}
    old = ["Number beta", "Tensor input"] if function_form else ["Number beta"]
    if len(rest) == 3:
        scales["alpha"] = _number(name, "alpha", rest.pop(0))
        old.append("Number alpha")
    old += [f"Tensor {a}", f"Tensor {b}"]
    new = ("Tensor input, " if function_form else "") + f"Tensor {a}, Tensor {b}, *, Number beta=1, Number alpha=1"
    return (input, *rest), scales, ", ".join(old), new


_FORMS = {"add": _alpha_first, "sub": _alpha_first, "addcmul": _value_first, "addcdiv": _value_first,
          **{name: _scales_first for name in _PRODUCT_OPERANDS}}


def modern(name, args, keywords=None):
    """``(tensors, scales)``: the positional tensors (the one operated on first) and the
    keyword scale factors of the call ``name(*args)`` written in PyTorch 1.0's form.
    ``name`` is the op called (``add_`` for the in-place one); warns as torch does.
    ``keywords`` (the call's keyword arguments) must be empty, as torch requires."""
    if keywords:
        raise TypeError(f"{name}(): the deprecated form with the scale factors first takes no keyword "
                        f"arguments, got {', '.join(sorted(keywords))}")
    tensors, scales, old, new = _FORMS[name.rstrip("_")](name, args)
    warnings.warn(f"This overload of {name} is deprecated:\n\t{name}({old})\n"
                  f"Use this one instead:\n\t{name}({new})", UserWarning, stacklevel=3)
    return tensors, scales


def taking_deprecated_forms(fn):
    """``fn`` (an op of three tensors with keyword scale factors) also taking PyTorch
    1.0's forms, which pass four or five positional arguments."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if len(args) > 3:
            args, kwargs = modern(fn.__name__, args, kwargs)
        return fn(*args, **kwargs)

    return op
