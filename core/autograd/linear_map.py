"""Linear maps computed by a kernel pair: the map and its adjoint.

Convolution's unfold/fold, pooling's gather/scatter, padding and upsampling
are all linear in their input. Given a kernel for the map and one for its
adjoint (the transposed map), :func:`linear_map` records a node whose gradient
is the adjoint applied to the incoming gradient, itself recorded the same way
with the roles swapped; so these ops are differentiable to any order.
"""

from .. import backend
from .function import Function

__all__ = ["linear_map"]


def _named(name):
    """The Function subclass whose backward node is called ``name`` (made once)."""
    cls = _CLASSES.get(name)
    if cls is None:
        cls = type("LinearMap", (_LinearMap,), {"__module__": __name__, "backward_name": name})
        _CLASSES[name] = cls
    return cls


class _LinearMap(Function):
    @staticmethod
    def forward(ctx, x, op, adjoint, args, adjoint_name, result=None):
        ctx.spec = (adjoint, op, args, adjoint_name, type(ctx).__name__)
        if result is not None:
            return backend.tensor_like(result, x)
        return backend.run_kernel(op, x, *args)

    @staticmethod
    def backward(ctx, grad):
        adjoint, op, args, adjoint_name, name = ctx.spec
        return _named(adjoint_name).apply(grad, adjoint, op, args, name), None, None, None, None, None


_CLASSES = {}


def linear_map(x, op, adjoint, args=(), name="LinearMapBackward", adjoint_name=None, result=None):
    """``op``'s kernel applied to ``x``: a linear map whose gradient is ``adjoint``.

    Both kernels are looked up by op name on ``x``'s backend and called as
    ``kernel(array, *args)``; ``adjoint`` must compute the transposed map with
    the same ``args`` (so it knows both shapes). ``name`` names the node in
    ``grad_fn`` (torch's name, e.g. ``"AvgPool2DBackward0"``); ``adjoint_name``
    names the node of the gradient's own graph (double backward). ``result``, an array
    a kernel already computed, is taken as the map's value instead of running ``op``
    again (max pooling finds its maxima and their positions in one pass).

    Examples::

        >>> from ember.autograd import linear_map
        >>> x = ember.ones(3, requires_grad=True)
        >>> y = linear_map(x, "padding.constant", "padding.constant_adjoint", (((3, 1, 1),),),
        ...                "ConstantPadNdBackward0")
        >>> y
        tensor([0., 1., 1., 1., 0.], grad_fn=<ConstantPadNdBackward0>)
        >>> y.sum().backward()
        >>> x.grad
        tensor([1., 1., 1.])
    """
    return _named(name).apply(x, op, adjoint, tuple(args), adjoint_name or name + "Backward", result)
