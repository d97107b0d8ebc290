"""Shape ops: views (view, permute, transpose, squeeze, expand, ...) and copies (repeat, flip).

Views share data and the version counter with their input, as in torch.
"""

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import _make, check_tensor, normalize_dim, normalize_dims, record, sum_to

_MAX_NUMEL = 2 ** 63 - 1


def _view_of(x, data, node=None):
    """Wrap ``data`` (a view of x's data): it shares x's version counter and remembers
    the base tensor, so an in-place change of the view can rewrite the base's history."""
    if node is not None and MODE.enabled and x._rg:
        out = record(node, data, x._be, (x,))
    else:
        out = _make(data, x._be)
    extra = x._extra
    base = extra.get("base") if extra is not None else None
    out._extra = {"base": x if base is None else base}
    out._vc = x._version_box()
    return out


def sizes_arg(sizes):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(ember.Size(...))``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    out = []
    for s in sizes:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"sizes must be ints, got {type(s).__name__}")
        out.append(int(s))
    return tuple(out)


def infer_shape(shape, numel):
    """Resolve one ``-1`` entry and check the element count, with torch's errors."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = list(shape)
        shape[unknown[0]] = numel // known
        return tuple(shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class ViewBackward0(Node):
    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    pass


class TBackward0(Node):
    def backward(self, g):
        return (t(g),)


class SqueezeBackward0(ViewBackward0):
    pass


class SqueezeBackward1(ViewBackward0):
    pass


class SqueezeBackward2(ViewBackward0):
    pass


class UnsqueezeBackward0(ViewBackward0):
    pass


def view(input, *shape):
    """The same data seen with another shape; fails when the strides don't allow it."""
    check_tensor(input)
    shape = infer_shape(sizes_arg(shape), input._data.size)
    data = input._be.kernels["view"](input._data, shape)
    if data is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    node = ViewBackward0() if input._rg else None
    if node is not None:
        node.shape = tuple(input.shape)
    return _view_of(input, data, node)


def reshape(input, *shape):
    """``input`` with a new shape: a view when possible, else a copy."""
    check_tensor(input)
    shape = infer_shape(sizes_arg(shape), input._data.size)
    if shape == input._data.shape:
        return _view_of(input, input._data, _shape_node(input, ViewBackward0))
    data = input._be.kernels["view"](input._data, shape)
    if data is not None:
        return _view_of(input, data, _shape_node(input, ViewBackward0))
    data = input._be.xp.reshape(input._data, shape)
    if MODE.enabled and input._rg:
        return record(_shape_node(input, UnsafeViewBackward0), data, input._be, (input,))
    return _make(data, input._be)


def _shape_node(x, cls):
    if not x._rg:
        return None
    node = cls()
    node.shape = tuple(x.shape)
    return node


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one."""
    check_tensor(input)
    n = input._data.ndim
    if n == 0:
        normalize_dim(start_dim, 0), normalize_dim(end_dim, 0)   # range checks, as for a 1-d tensor
        return reshape(input, 1)
    s, e = normalize_dim(start_dim, n), normalize_dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one of them may be -1)."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    shape = input._data.shape
    sizes = sizes_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        inner = infer_shape(sizes, shape[d])
    except RuntimeError as e:
        if -1 in sizes:
            raise
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
            f"({shape[d]}) in the input tensor") from e
    return view(input, shape[:d] + inner + shape[d + 1:])


class PermuteBackward0(Node):
    def backward(self, g):
        return (g.permute(self.inverse),)


def permute(input, *dims):
    """Reorder dimensions."""
    check_tensor(input)
    dims = sizes_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    dims = tuple(normalize_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    node = None
    if input._rg:
        node = PermuteBackward0()
        node.inverse = tuple(int(i) for i in np.argsort(dims))
    return _view_of(input, input._be.xp.transpose(input._data, dims), node)


class TransposeBackward0(Node):
    def backward(self, g):
        return (g.transpose(self.d0, self.d1),)


def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    check_tensor(input)
    n = input._data.ndim
    d0, d1 = normalize_dim(dim0, n), normalize_dim(dim1, n)
    node = None
    if input._rg:
        node = TransposeBackward0()
        node.d0, node.d1 = d0, d1
    return _view_of(input, input._be.xp.swapaxes(input._data, d0, d1) if n else input._data, node)


def t(input):
    """Transpose of a tensor with at most 2 dims."""
    check_tensor(input)
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return _view_of(input, input._data.T, TBackward0() if input._rg else None)


def squeeze(input, dim=None):
    """Remove dims of size 1 (all, or those in ``dim``)."""
    check_tensor(input)
    shape = input._data.shape
    if dim is None:
        new, cls = tuple(s for s in shape if s != 1), SqueezeBackward0
    else:
        cls = SqueezeBackward1 if isinstance(dim, (int, np.integer)) else SqueezeBackward2
        dims = normalize_dims(dim, input._data.ndim)
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return _view_of(input, input._data.reshape(new), _shape_node(input, cls))


def unsqueeze(input, dim):
    """Insert a dim of size 1 at ``dim``."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim + 1)
    shape = input._data.shape
    return _view_of(input, input._data.reshape(shape[:d] + (1,) + shape[d:]), _shape_node(input, UnsqueezeBackward0))


class ExpandBackward0(Node):
    def backward(self, g):
        return (sum_to(g, self.shape),)


def expand(input, *sizes):
    """A broadcast view with ``sizes`` (``-1`` keeps a dim); no data is copied."""
    check_tensor(input)
    sizes = sizes_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}"
                )
            target.append(s)
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        elif s < 0:
            raise RuntimeError(f"expand: the size {s} at dimension {i} is negative; only -1 (keep the size) is allowed")
        elif have != 1 and have != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
        target.append(s)
    target = tuple(target)
    if math.prod(target) > _MAX_NUMEL:
        raise RuntimeError(f"expand: {list(target)} has more elements than a tensor can index "
                           "(numel: integer multiplication overflow)")
    if target == shape:
        return _view_of(input, input._data, _shape_node(input, ViewBackward0))
    return _view_of(input, input._be.kernels["broadcast_to"](input._data, target),
                    _shape_node(input, ExpandBackward0))


def expand_as(input, other):
    """``input.expand(other.size())``."""
    return expand(input, other._data.shape)


def broadcast_to(input, shape):
    """``input.expand(shape)``."""
    return expand(input, tuple(shape))


class CloneBackward0(Node):
    def backward(self, g):
        return (g,)


def contiguous(input):
    """``input`` itself when row-major contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


def clone(input):
    """A copy of ``input`` with its own data (differentiable)."""
    check_tensor(input)
    data = input._be.xp.array(input._data, copy=True, order="C")
    if MODE.enabled and input._rg:
        return record(CloneBackward0(), data, input._be, (input,))
    return _make(data, input._be)


class RepeatBackward0(Node):
    def backward(self, g):
        split = []
        for r, s in zip(self.repeats, self.padded):
            split += [r, s]
        gs = g.reshape(split).sum(tuple(range(0, len(split), 2)))
        return (gs.reshape(self.shape),)


def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along each dim (extra leading dims allowed)."""
    check_tensor(input)
    sizes = sizes_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    for r, s in zip(sizes, padded):
        if r < 0:
            out = [a * b for a, b in zip(sizes, padded)]
            raise RuntimeError(f"Trying to create tensor with negative dimension {r * s}: {out}")
    data = input._be.xp.tile(input._data.reshape(padded), sizes)
    if MODE.enabled and input._rg:
        node = RepeatBackward0()
        node.repeats, node.padded, node.shape = sizes, padded, tuple(shape)
        return record(node, data, input._be, (input,))
    return _make(data, input._be)


class FlipBackward0(Node):
    def backward(self, g):
        return (g.flip(self.dims),)


def flip(input, *dims_args, dims=None):
    """Reverse the order of elements along ``dims`` (a copy, as in torch): ``flip(x, (0, 1))``,
    ``x.flip(0, 1)`` or ``flip(x, dims=(0, 1))``."""
    check_tensor(input)
    if dims is not None and dims_args:
        raise TypeError("flip(): 'dims' given both by position and by keyword")
    dims = normalize_dims(sizes_arg(dims_args if dims is None else (dims,)), input._data.ndim)
    if not input._data.ndim:  # a 0-d tensor accepts dim 0 and has nothing to reverse
        dims = ()
    data = input._be.xp.flip(input._data, dims).copy() if dims else input._data.copy()
    if MODE.enabled and input._rg:
        node = FlipBackward0()
        node.dims = dims
        return record(node, data, input._be, (input,))
    return _make(data, input._be)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (a view)."""
    check_tensor(input)
    n = input._data.ndim
    src = _dim_list(source, n)
    dst = _dim_list(destination, n)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
            f"the same number of dims as destination ({list(dst)} dims)")
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


def _dim_list(dims, ndim):
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    return tuple(normalize_dim(d, ndim) for d in dims)


def _view_kernel(xp):
    def view(a, shape):
        try:
            return xp.reshape(a, shape, copy=False)
        except ValueError:
            return None
        except TypeError:
            out = a.view()
            try:
                out.shape = shape
            except AttributeError:
                return None
            return out

    return view


GENERIC_KERNELS = {"view": _view_kernel, "broadcast_to": lambda xp: xp.broadcast_to}
