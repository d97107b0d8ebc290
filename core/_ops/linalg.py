"""Matrix products: ``matmul`` (with torch's broadcasting rules), ``mm``, ``bmm``, ``dot``."""

from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import _make, check_tensor, record, same_backend, sum_to


class MmBackward0(Node):
    """Gradient of a (batched, broadcast) matrix product; a 1-D operand counts as a
    row (first) or a column (second) vector whose extra dim the output lacks."""

    def backward(self, g):
        a, b = self.saved()
        vec_a, vec_b = self.vectors
        if vec_b:
            g = g.unsqueeze(-1)
            b = b.unsqueeze(-1)
        if vec_a:
            g = g.unsqueeze(-2)
            a = a.unsqueeze(0)
        ga = gb = None
        if self.needs[0]:
            ga = sum_to(matmul(g, b.transpose(-1, -2)), a.shape)
            if vec_a:
                ga = ga.squeeze(0)
        if self.needs[1]:
            gb = sum_to(matmul(a.transpose(-1, -2), g), b.shape)
            if vec_b:
                gb = gb.squeeze(-1)
        return ga, gb


# One node computes every matmul; it carries the name of the node torch's matmul
# leaves outermost for the operands' dims (mm, mv, dot, or the view/copy that
# reshapes a batched or folded product).
def _named(name):
    return type(name, (MmBackward0,), {"__module__": __name__, "__qualname__": name})


DotBackward0 = _named("DotBackward0")
MvBackward0 = _named("MvBackward0")
BmmBackward0 = _named("BmmBackward0")
_MM_SQUEEZE = _named("SqueezeBackward4")
_MM_UNSAFE_VIEW = _named("UnsafeViewBackward0")
_MM_CLONE = _named("CloneBackward0")
_MM_TRANSPOSE = _named("TransposeBackward0")
_SMALL = {(1, 1): DotBackward0, (2, 1): MvBackward0, (1, 2): _MM_SQUEEZE, (2, 2): MmBackward0}


def _node_class(a, b):
    """torch's outermost node for ``matmul(a, b)``: only a 2-D ``a`` (or a 3-D one with
    a batch of 1 against another batch) that requires grad, times an operand with
    batch dims, makes torch fold the product and transpose it back (a copy unless the
    result is a vector or empty); every other batched case ends in a view."""
    na, nb = a._data.ndim, b._data.ndim
    cls = _SMALL.get((na, nb))
    if cls is not None:
        return cls
    sa, sb = a._data.shape, b._data.shape
    if na == 3 and nb == 3 and sa[0] != sb[0] and sa[0] == 1 and a._rg:
        na, sa = 2, sa[1:]
    if na == 2 and nb >= 3 and a._rg:
        n, p = sa[0], sb[-1]
        if n == 1 or p == 1 or n * p == 0 or 0 in sb[:-2]:
            return _MM_TRANSPOSE
        return _MM_CLONE
    return _MM_UNSAFE_VIEW


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
    return _matmul(input, other, None)


def _matmul(input, other, node_cls):
    be = _check_pair(input, other, "matmul")
    sa, sb = input._data.shape, other._data.shape
    if not sa or not sb:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D"
        )
    squeeze_a = len(sa) == 1
    squeeze_b = len(sb) == 1
    if squeeze_a and squeeze_b:
        _check_dot_sizes(input, other)
    if sa[-1] != (sb[0] if squeeze_b else sb[-2]):
        if squeeze_b and len(sa) == 2:
            raise RuntimeError(
                f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), vec ({sb[0]})")
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_rows(input)} and {_rows(other, True)})"
        )
    if len(sa) > 2 or len(sb) > 2:
        _broadcast_batch(sa[:-2], sb[:-2])
    data = be.kernels["matmul"](input._data, other._data)   # 1-D operands as matmul takes them
    if MODE.enabled and (input._rg or other._rg):
        node = (node_cls or _node_class(input, other))()
        node.needs = (input._rg, other._rg)
        node.vectors = (squeeze_a, squeeze_b)
        node.save(input, other)
        return record(node, data, be, (input, other))
    return _make(data, be)


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
    return _matmul(input, mat2, BmmBackward0)


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


GENERIC_KERNELS = {"matmul": lambda xp: xp.matmul}
