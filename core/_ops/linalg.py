"""Matrix products: ``matmul`` (with torch's broadcasting rules), ``mm``, ``bmm``, ``dot``."""

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


# torch's C++ names of the scalar types, as its dtype errors spell them
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check_pair(a, b, name):
    check_tensor(a)
    check_tensor(b, "other")
    be = same_backend(a, b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_C_NAMES[a.dtype.name]} != "
            f"{_C_NAMES[b.dtype.name]}")
    if a._data.dtype.kind == "b":
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    return be


def _broadcast_batch(a, b):
    """The broadcast of two batch shapes, with torch's error naming the mismatching dim."""
    n = len(a) if len(a) > len(b) else len(b)
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(
                f"The size of tensor a ({p}) must match the size of tensor b ({q}) at "
                f"non-singleton dimension {i}")


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
    if squeeze_a and squeeze_b:
        _check_dot_sizes(a, b)
    if squeeze_a:
        a = a.unsqueeze(0)
    if squeeze_b:
        b = b.unsqueeze(-1)
    if a._data.shape[-1] != b._data.shape[-2]:
        if squeeze_b and not squeeze_a and input._data.ndim == 2:
            raise RuntimeError(
                f"size mismatch, got input ({input._data.shape[0]}), mat "
                f"({input._data.shape[0]}x{input._data.shape[1]}), vec ({other._data.shape[0]})")
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_rows(input)} and {_rows(other, True)})"
        )
    if a._data.ndim > 2 or b._data.ndim > 2:
        _broadcast_batch(a._data.shape[:-2], b._data.shape[:-2])
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
    (n, _, k), (n2, k2, _) = input._data.shape, mat2._data.shape
    if (n2, k2) != (n, k):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {k}] but got: [{n2}, {k2}].")
    return matmul(input, mat2)


def _check_dot_sizes(a, b):
    n, m = a._data.shape[0], b._data.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
            f"of elements, but got {n} and {m} elements respectively")


def dot(input, other):
    """Inner product of two 1-D tensors of equal length."""
    check_tensor(input)
    check_tensor(other, "other")
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors"
        )
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{_SCALAR_NAMES[input.dtype.name]} and {_SCALAR_NAMES[other.dtype.name]}")
    _check_dot_sizes(input, other)
    return matmul(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    check_tensor(input)
    check_tensor(vec2, "vec2")
    for name, v in (("self", input), ("vec2", vec2)):
        if v._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v._data.ndim}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


REGISTRY.add_generic({"matmul": lambda xp: xp.matmul})
