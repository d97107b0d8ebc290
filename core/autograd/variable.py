"""``Variable``: the pre-0.4 wrapper around tensors, kept so that old code runs."""

import warnings


def _tensor_class():
    from .._tensor import Tensor  # late: ember._tensor imports this package

    return Tensor


class _VariableMeta(type):
    # Every tensor counts as a Variable, so ``isinstance(t, Variable)`` holds.
    def __instancecheck__(cls, other):
        return isinstance(other, _tensor_class())


class Variable(metaclass=_VariableMeta):
    """Deprecated: tensors track gradients themselves, so ``Variable(t)`` just
    returns a tensor.

    The result shares ``data``'s memory, is detached from any graph, and
    requires gradients when ``requires_grad`` is set. ``volatile`` no longer
    does anything (use ``ember.no_grad()``); passing ``volatile=True`` warns.

    Args:
        data (Tensor, optional): the tensor to wrap (an empty tensor if omitted).
        requires_grad (bool): whether the result records operations. Default: False.
        volatile (bool): ignored.
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with ember.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, _tensor_class()):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
