"""Joining and splitting: ``cat``, ``stack``, ``split``, ``chunk``."""

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import _make, cast, normalize_dim, record, same_backend
from .index import IndexBackward0, getitem


class CatBackward0(Node):
    def backward(self, g):
        out, start = [], 0
        for size in self.sizes:
            if size is None:  # a skipped empty 1-D input
                out.append(_make(g._be.xp.zeros(0, dtype=g._data.dtype), g._be))
                continue
            out.append(g.narrow(self.dim, start, size))
            start += size
        return tuple(out)


class StackBackward0(Node):
    def backward(self, g):
        out = []
        for i, dtype in enumerate(self.dtypes):
            piece = g.select(self.dim, i)
            out.append(piece if dtype is None else piece.to(dtype))
        return tuple(out)


# a piece of ``split``/``chunk`` is a basic index of the input, named as torch names it
class SplitBackward0(IndexBackward0):
    pass


class SplitWithSizesBackward0(IndexBackward0):
    pass


def _check_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        if name == "stack":
            raise RuntimeError("stack expects a non-empty TensorList")
        raise ValueError(f"torch.{name}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    be = tensors[0]._be
    for t in tensors[1:]:
        same_backend(tensors[0], t)
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    return [cast(t, dt) for t in tensors], be


def cat(tensors, dim=0):
    """Concatenate tensors along an existing dim; 1-D empty tensors are skipped as in torch."""
    tensors, be = _check_list(tensors, "cat")
    skipped = [t._data.ndim == 1 and t._data.shape[0] == 0 for t in tensors]
    kept = [t for t, skip in zip(tensors, skipped) if not skip]
    if not kept:
        kept, skipped = tensors, [False] * len(tensors)
    ref = kept[0]
    if ref._data.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dim(dim, ref._data.ndim)
    for i, t in enumerate(tensors):
        if skipped[i]:
            continue
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}"
            )
        for k, (a, b) in enumerate(zip(ref._data.shape, t._data.shape)):
            if k != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but "
                    f"got size {b} for tensor number {i} in the list."
                )
    data = be.xp.concatenate([t._data for t in kept], axis=d)
    if MODE.enabled and any(t._rg for t in tensors):
        node = CatBackward0()
        node.dim = d
        node.sizes = [None if skip else t._data.shape[d] for t, skip in zip(tensors, skipped)]
        return record(node, data, be, tensors)
    return _make(data, be)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join tensors of equal shape along a new dim."""
    given = tensors
    tensors, be = _check_list(tensors, "stack")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, len(shape) + 1)
    data = be.xp.stack([t._data for t in tensors], axis=d)
    if MODE.enabled and any(t._rg for t in given):
        node = StackBackward0()
        node.dim = d
        # the gradient of an input that was promoted goes back in the input's own dtype
        node.dtypes = [None if t._data.dtype == c._data.dtype else t.dtype for t, c in zip(given, tensors)]
        return record(node, data, be, given)
    return _make(data, be)


def split(tensor, split_size_or_sections, dim=0):
    """Views of equal chunks of ``split_size`` (the last may be smaller), or of the given sizes."""
    d = normalize_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        # an empty dim still gives one (empty) piece, as in torch
        sizes = [min(step, size - s) for s in range(0, size, step)] if step and size else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {d}), but got split_sizes={sizes}"
            )
    node_cls = SplitBackward0 if isinstance(split_size_or_sections, int) else SplitWithSizesBackward0
    out, start = [], 0
    for s in sizes:
        out.append(getitem(tensor, (slice(None),) * d + (slice(start, start + s),), node_cls))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` views of size ``ceil(n / chunks)`` (fewer when n is small)."""
    if not isinstance(chunks, int) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    step = -(-size // chunks) if size else 0
    if step == 0:
        return tuple(split(input, [0] * chunks if size == 0 else [size], d))
    return split(input, step, d)
