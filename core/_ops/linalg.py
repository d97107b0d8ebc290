"""Matrix products: ``matmul`` (with torch's broadcasting rules), ``mm``, ``bmm``, ``dot``."""

from .. import _dtype
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from ..backend import REGISTRY
from .common import _make, check_tensor, record, same_backend, sum_to


class MmBackward0(Node):
    """Gradient of a (batched, broadcast) matrix product of operands with >= 2 dims."""

    def backward(self, g):
        a, b = self.saved()
        ga = gb = None
        if self.needs[0]:
            ga = sum_to(matmul(g, b.transpose(-1, -2)), a.shape)
        if self.needs[1]:
            gb = sum_to(matmul(a.transpose(-1, -2), g), b.shape)
        return ga, gb


def _check_pair(a, b, name):
    check_tensor(a)
    check_tensor(b, "other")
    be = same_backend(a, b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != {b.dtype.name}"
            if name != "matmul" else
            f"expected both operands of matmul to have the same dtype, but got {a.dtype.name} and {b.dtype.name}"
        )
    if a._data.dtype.kind == "b":
        raise RuntimeError(f"\"{name}\" not implemented for 'Bool'")
    return be


def matmul(input, other):
    """Matrix product with torch's rules: 1-D operands are vectors, leading dims broadcast."""
    be = _check_pair(input, other, "matmul")
    a, b = input, other
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a._data.ndim}D and {b._data.ndim}D"
        )
    squeeze_a = a._data.ndim == 1
    squeeze_b = b._data.ndim == 1
    if squeeze_a:
        a = a.unsqueeze(0)
    if squeeze_b:
        b = b.unsqueeze(-1)
    if a._data.shape[-1] != b._data.shape[-2]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_rows(input)} and {_rows(other, True)})"
        )
    data = be.kernels["matmul"](a._data, b._data)
    if MODE.enabled and (a._rg or b._rg):
        node = MmBackward0()
        node.needs = (a._rg, b._rg)
        node.save(a, b)
        out = record(node, data, be, (a, b))
    else:
        out = _make(data, be)
    if squeeze_a:
        out = out.squeeze(-2)
    if squeeze_b:
        out = out.squeeze(-1)
    return out


def _rows(t, second=False):
    shape = t._data.shape
    if len(shape) == 1:
        return f"{shape[0]}x1" if second else f"1x{shape[0]}"
    return f"{shape[-2] if len(shape) == 2 else int(t._data.size // shape[-1])}x{shape[-1]}"


def mm(input, mat2):
    """Product of two 2-D matrices."""
    _check_pair(input, mat2, "mm")
    if input._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of two 3-D tensors with the same batch size."""
    _check_pair(input, mat2, "bmm")
    if input._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(
            f"batch1 and batch2 must have same number of batches, got {input._data.shape[0]} and {mat2._data.shape[0]}"
        )
    return matmul(input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of equal length."""
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors"
        )
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
            "to have the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    return matmul(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    return input.unsqueeze(1) * vec2.unsqueeze(0)


REGISTRY.add_generic({"matmul": lambda xp: xp.matmul})
