"""``softmax`` and ``log_softmax`` along a dim: core ops, since activations and losses
both build on them."""

from .. import _dtype
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import cast, check_tensor, normalize_dim, record, wrap


class _SoftmaxBackward(Node):
    """The gradient of softmax or log-softmax from the saved output: one kernel call,
    or differentiable tensor ops (``formula``) when the backward is itself recorded."""

    def backward(self, g):
        y = self.saved_output()
        if MODE.enabled:
            return (self.formula(g, y, self.dim),)
        data = g._be.kernels[self.kernel](g._data, y._data, self.dim)
        return (wrap(data, g._be),)


class SoftmaxBackward0(_SoftmaxBackward):
    kernel = "softmax_backward"

    @staticmethod
    def formula(g, y, dim):
        return y * (g - (g * y).sum(dim, keepdim=True))


class LogSoftmaxBackward0(_SoftmaxBackward):
    kernel = "log_softmax_backward"

    @staticmethod
    def formula(g, y, dim):
        return g - y.exp() * g.sum(dim, keepdim=True)


def _run(kernel, node_cls, input, dim, dtype):
    check_tensor(input)
    x = input
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    elif x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}_lastdim_kernel_impl" not implemented for \'{x.dtype.scalar_name}\'')
    d = normalize_dim(dim, x._data.ndim)
    data = x._be.kernels[kernel](x._data, d)
    if MODE.enabled and x._rg:
        node = node_cls()
        node.dim = d
        out = record(node, data, x._be, (x,))
        node.save_output(out)
        return out
    return wrap(data, x._be)


def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``: each slice becomes a probability vector."""
    return _run("softmax", SoftmaxBackward0, input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed without overflow or underflow."""
    return _run("log_softmax", LogSoftmaxBackward0, input, dim, dtype)


def _softmax_kernel(xp):
    def run(x, dim):
        if x.ndim == 0:
            return xp.ones_like(x)
        shifted = x - x.max(axis=dim, keepdims=True) if x.size else x
        e = xp.exp(shifted)
        return e / e.sum(axis=dim, keepdims=True)

    return run


def _log_softmax_kernel(xp):
    def run(x, dim):
        if x.ndim == 0:
            return xp.zeros_like(x)
        if not x.size:
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))

    return run


GENERIC_KERNELS = {
    "softmax": _softmax_kernel,
    "log_softmax": _log_softmax_kernel,
    "softmax_backward": lambda xp: lambda g, y, dim: y * (g - (g * y).sum(axis=dim, keepdims=True)),
    "log_softmax_backward": lambda xp: lambda g, y, dim: g - xp.exp(y) * g.sum(axis=dim, keepdims=True),
}
