"""Attach the ops to ``Tensor`` as methods, operators and in-place ``*_`` variants."""

import numbers

import numpy as np

from . import _memory, _random
from ._ops import binary, convert, index, join, legacy_inplace, linalg, reduce, select, shape, softmax, unary
from ._ops.common import as_tensor_on, wrap
from ._ops.inplace import apply_inplace, arithmetic_into, check_inplace
from ._ops.overlap import refuse_internal_overlap, refuse_overlapping_operands
from ._ops.overloads import modern
from ._tensor import Tensor
from .autograd.grad_mode import MODE
from .autograd.graph import Node, edge_of

UNARY = unary.UNARY_OPS

# name -> function(self, ...): the ordinary methods
METHODS = dict(UNARY)
METHODS.update(
    add=binary.add, sub=binary.sub, subtract=binary.sub, mul=binary.mul, multiply=binary.mul,
    div=binary.div, divide=binary.div, true_divide=binary.div, floor_divide=binary.floor_divide,
    pow=binary.pow, remainder=binary.remainder, fmod=binary.fmod, atan2=binary.atan2,
    maximum=binary.maximum, minimum=binary.minimum,
    eq=binary.eq, ne=binary.ne, lt=binary.lt, le=binary.le, gt=binary.gt, ge=binary.ge,
    logical_and=binary.logical_and, logical_or=binary.logical_or, logical_xor=binary.logical_xor,
    bitwise_and=binary.bitwise_and, bitwise_or=binary.bitwise_or, bitwise_xor=binary.bitwise_xor,
    clamp=select.clamp, clip=select.clamp, masked_fill=select.masked_fill,
    sum=reduce.sum, mean=reduce.mean, prod=reduce.prod, max=reduce.max, min=reduce.min,
    amax=reduce.amax, amin=reduce.amin, argmax=reduce.argmax, argmin=reduce.argmin,
    var=reduce.var, std=reduce.std, norm=reduce.norm, logsumexp=reduce.logsumexp,
    all=reduce.all, any=reduce.any, cumsum=reduce.cumsum,
    view=shape.view, reshape=shape.reshape, flatten=shape.flatten, unflatten=shape.unflatten,
    permute=shape.permute, transpose=shape.transpose, t=shape.t, squeeze=shape.squeeze,
    unsqueeze=shape.unsqueeze, expand=shape.expand, expand_as=shape.expand_as,
    broadcast_to=shape.broadcast_to, contiguous=shape.contiguous, clone=shape.clone,
    repeat=shape.repeat, flip=shape.flip, movedim=shape.movedim,
    index_select=index.index_select, gather=index.gather, narrow=index.narrow,
    scatter=index.scatter, scatter_add=index.scatter_add,
    select=index.select, unbind=index.unbind, nonzero=index.nonzero,
    masked_select=index.masked_select,
    split=join.split, chunk=join.chunk,
    matmul=linalg.matmul, mm=linalg.mm, bmm=linalg.bmm, dot=linalg.dot, outer=linalg.outer,
    softmax=softmax.softmax, log_softmax=softmax.log_softmax,
    to=convert.to, type=convert.type_, cpu=convert.cpu, cuda=convert.cuda,
    pin_memory=_memory.pin_memory, is_pinned=_memory.is_pinned,
    share_memory_=_memory.share_memory_, is_shared=_memory.is_shared,
)
METHODS.update(binary.ALIASES)  # greater, not_equal, arctan2, bitwise_not, ...


def _view_as(self, other):
    """``self.view(other.size())``."""
    return shape.view(self, other._data.shape)


def _reshape_as(self, other):
    """``self.reshape(other.size())``."""
    return shape.reshape(self, other._data.shape)


def _type_as(self, other):
    """``self`` cast to the dtype of ``other``."""
    return convert.to_dtype(self, other.dtype)


def _caster(dt_name):
    def cast(self, memory_format=None):
        from . import _dtype

        return convert.to_dtype(self, getattr(_dtype, dt_name))

    cast.__name__ = dt_name
    cast.__doc__ = f"``self.to(ember.{dt_name})``."
    return cast


def _where(self, condition, other):
    """``ember.where(condition, self, other)``."""
    return select.where(condition, self, other)


def _is_nan(self):
    """True where an element is NaN."""
    return wrap(self._be.xp.isnan(self._data), self._be)


def _is_inf(self):
    """True where an element is +inf or -inf."""
    return wrap(self._be.xp.isinf(self._data), self._be)


def _is_finite(self):
    """True where an element is neither inf nor NaN."""
    return wrap(self._be.xp.isfinite(self._data), self._be)


def _logical_not(self):
    """Elementwise logical negation (bool result)."""
    return wrap(self._be.xp.logical_not(self._data), self._be)


def _invert(self):
    if self._data.dtype.kind == "f":
        raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
    return wrap(self._be.xp.invert(self._data), self._be)


def _square(self):
    """``self * self``."""
    return binary.mul(self, self)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor from ``data``, with this tensor's dtype and device by default."""
    from ._creation import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_filler(name):
    def make(self, *size, dtype=None, device=None, requires_grad=False):
        from . import _creation

        fn = getattr(_creation, name)
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    make.__doc__ = f"``ember.{name}`` with this tensor's dtype and device by default."
    return make


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``ember.full`` with this tensor's dtype and device by default."""
    from ._creation import full

    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


class _OverwrittenBackward(Node):
    """History of a tensor whose every element an in-place op replaced with values that
    don't depend on the old ones (fill_, zero_, uniform_, ...): zero gradient flows back."""

    def backward(self, g):
        from ._creation import zeros_like

        return (zeros_like(g),)


def _overwritten_node(name):
    return type(name, (_OverwrittenBackward,), {"__module__": __name__})


_FILL_NODE = _overwritten_node("FillBackward2")
_ZERO_NODE = _overwritten_node("ZeroBackward0")


def _rebase_overwritten(self, node_cls):
    node = node_cls()
    node.next_edges = (edge_of(self),)
    self.grad_fn = node
    self._out_idx = 0


def _zero_(self):
    """Fill with zeros in place."""
    return _fill_(self, 0, _ZERO_NODE)


def _fill_(self, value, _node=_FILL_NODE):
    """Fill with ``value`` in place."""
    if hasattr(value, "_data"):
        value = value.item()
    recording = MODE.enabled and self._rg
    if recording:
        check_inplace(self)
    self._data[...] = value
    self._bump_version()
    if recording:
        _rebase_overwritten(self, _node)
    return self


def _copy_(self, src, non_blocking=False):
    """Copy the values of ``src`` (broadcast, cast, possibly from another device) into self."""
    src = as_tensor_on(src, self._be) if not hasattr(src, "_data") else src
    if src._be is not self._be:
        src = convert.to_device(src, self._be, self._be.device_index(self._data))
    refuse_internal_overlap(self._data)
    refuse_overlapping_operands(self, (src,))

    def copied(x, s):
        return shape.expand(convert.to_dtype(s, x.dtype), tuple(x.shape)) + x * 0

    if MODE.enabled and (self._rg or src._rg):
        return apply_inplace(self, copied, src)
    self._data[...] = src._data
    self._bump_version()
    return self


def _random_inplace(fn):
    node_cls = _overwritten_node("".join(w.capitalize() for w in fn.__name__.split("_")) + "Backward0")

    def method(self, *args, **kwargs):
        recording = MODE.enabled and self._rg
        if recording:
            check_inplace(self)
        out = fn(self, *args, **kwargs)
        if recording:
            _rebase_overwritten(self, node_cls)
        return out

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


_INTO_KERNELS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}
# in-place methods whose tensor operands torch checks for any overlap with self (an
# index write), and those that take their value as a number (only the mask checked)
_INDEX_WRITES = ("scatter", "scatter_add")
_VALUE_AS_NUMBER = ("masked_fill",)


def _inplace(fn):
    kernel = _INTO_KERNELS.get(fn.__name__)
    name = fn.__name__ + "_"
    alpha_first = fn.__name__ in ("add", "sub")  # PyTorch 1.0's add_(alpha, other)

    def method(self, *args, **kwargs):
        if isinstance(self, Tensor):
            operands = args[:1] if fn.__name__ in _VALUE_AS_NUMBER else (*args, *kwargs.values())
            refuse_overlapping_operands(self, operands, fn.__name__ in _INDEX_WRITES)
        if kernel is not None and len(args) == 1 and set(kwargs) <= {"alpha"}:
            if arithmetic_into(self, kernel, args[0], kwargs.get("alpha", 1)):
                return self
        elif alpha_first and len(args) == 2:
            (_, other), scale = modern(name, (self, *args))
            return method(self, other, **scale)
        return apply_inplace(self, fn, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


def _inplace_view(fn, name):
    """``t_``, ``squeeze_``, ...: change this tensor's shape/strides in place (a view of
    its own data), recorded like the out-of-place view."""

    def method(self, *args, **kwargs):
        if MODE.enabled and self._rg:
            check_inplace(self)
        try:
            r = fn(self, *args, **kwargs)
        except RuntimeError as e:
            msg = str(e)
            if msg.startswith(fn.__name__ + "()"):   # name the method the user called
                raise RuntimeError(name + msg[len(fn.__name__):]) from None
            raise
        self._data = r._data
        if r.grad_fn is not None:
            self.grad_fn = r.grad_fn
            self._out_idx = r._out_idx
        self._bump_version()
        return self

    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}`` (changes only the shape and strides)."
    return method


def _operand(other, be):
    """``other`` as an operator operand: tensors and numbers as they are, NumPy arrays
    as tensors; None for anything else (the operator then returns NotImplemented)."""
    if other.__class__ is Tensor or isinstance(other, (Tensor, numbers.Number, np.bool_)):
        return other
    if isinstance(other, (np.ndarray, np.generic)):
        return as_tensor_on(np.asarray(other), be)
    return None


def _operator(fn, reflected=False):
    """A binary dunder method: Python tries the other operand's method on NotImplemented."""
    def method(self, other):
        operand = _operand(other, self._be)
        if operand is None:
            return NotImplemented
        return fn(operand, self) if reflected else fn(self, operand)

    method.__name__ = fn.__name__
    return method


def _clip_(self, min=None, max=None):
    """In-place ``clip`` (alias of ``clamp_``)."""
    return self.clamp_(min, max)


def _T(self):
    n = self._data.ndim
    if n != 2:
        import warnings

        warnings.warn(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
            if n == 0 else
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*ember.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return shape.permute(self, tuple(range(n - 1, -1, -1)))


def _matrix_transpose(self, attr, advice):
    """``.mT`` / ``.mH`` (real tensors): the last two dims swapped; a 0-d tensor
    itself, with torch's deprecation warning (``advice``)."""
    n = self._data.ndim
    if n == 0:
        _warn_0d(attr, advice, stacklevel=4)
        return shape.permute(self, ())
    if n < 2:
        raise RuntimeError(f"tensor.{attr} is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return shape.transpose(self, -2, -1)


def _mT(self):
    return _matrix_transpose(self, "mT", "This function is the identity in these cases.")


def _warn_0d(attr, advice="Consider using x.conj().", stacklevel=3):
    import warnings

    warnings.warn(f"Tensor.{attr} is deprecated on 0-D tensors. {advice}", UserWarning, stacklevel=stacklevel)


def _mH(self):
    return _matrix_transpose(self, "mH", "Consider using x.conj().")


def _H(self):
    if self._data.ndim == 0:
        _warn_0d("H")
    elif self._data.ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if self._data.ndim > 2 else "")
        )
    return shape.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


def install():
    """Put every op on ``Tensor``; run once at import."""
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name in list(UNARY) + ["add", "sub", "mul", "div", "pow", "clamp", "masked_fill", "scatter", "scatter_add",
                               "remainder", "fmod", "floor_divide", "atan2", "maximum", "minimum"]:
        setattr(Tensor, name + "_", _inplace(METHODS[name]))
    extras = dict(
        view_as=_view_as, reshape_as=_reshape_as, type_as=_type_as, where=_where,
        float=_caster("float32"), double=_caster("float64"), half=_caster("float16"),
        long=_caster("int64"), int=_caster("int32"), short=_caster("int16"),
        char=_caster("int8"), byte=_caster("uint8"), bool=_caster("bool"),
        isnan=_is_nan, isinf=_is_inf, isfinite=_is_finite, logical_not=_logical_not,
        square=_square, new_tensor=_new_tensor, new_zeros=_new_filler("zeros"),
        new_ones=_new_filler("ones"), new_empty=_new_filler("empty"), new_full=_new_full,
        zero_=_zero_, fill_=_fill_, copy_=_copy_,
        t_=_inplace_view(shape.t, "t_"), transpose_=_inplace_view(shape.transpose, "transpose_"),
        swapdims_=_inplace_view(shape.transpose, "swapdims_"),
        swapaxes_=_inplace_view(shape.transpose, "swapaxes_"),
        squeeze_=_inplace_view(shape.squeeze, "squeeze_"),
        unsqueeze_=_inplace_view(shape.unsqueeze, "unsqueeze_"),
        uniform_=_random_inplace(_random.uniform_), normal_=_random_inplace(_random.normal_),
        random_=_random_inplace(_random.random_), bernoulli=_random.bernoulli,
        bernoulli_=_random_inplace(_random.bernoulli_), exponential_=_random_inplace(_random.exponential_),
        geometric_=_random_inplace(_random.geometric_), log_normal_=_random_inplace(_random.log_normal_),
        cauchy_=_random_inplace(_random.cauchy_), multinomial=_random.multinomial,
        __getitem__=index.getitem, __setitem__=index.setitem,
        __neg__=UNARY["neg"], __pos__=lambda self: self, __abs__=UNARY["abs"],
        __invert__=_invert, clip_=_clip_, fill_diagonal_=legacy_inplace.fill_diagonal_,
        apply_=legacy_inplace.apply_, map_=legacy_inplace.map_,
    )
    for name, fn in (("add", binary.add), ("sub", binary.sub), ("mul", binary.mul),
                     ("truediv", binary.div), ("floordiv", binary.floor_divide),
                     ("mod", binary.remainder), ("pow", binary.pow), ("matmul", linalg.matmul),
                     ("and", binary.bitwise_and), ("or", binary.bitwise_or),
                     ("xor", binary.bitwise_xor)):
        extras[f"__{name}__"] = _operator(fn)
        extras[f"__r{name}__"] = _operator(fn, reflected=True)
    for name, fn in (("eq", binary.eq), ("ne", binary.ne), ("lt", binary.lt), ("le", binary.le),
                     ("gt", binary.gt), ("ge", binary.ge)):
        extras[f"__{name}__"] = _operator(fn)
    for name, fn in extras.items():
        setattr(Tensor, name, fn)
    from ._ops import api_modules

    for module in api_modules():
        for name, fn in module.METHODS.items():
            setattr(Tensor, name, fn)
    for op, name in (("add", "__iadd__"), ("sub", "__isub__"), ("mul", "__imul__"),
                     ("div", "__itruediv__"), ("pow", "__ipow__"), ("remainder", "__imod__"),
                     ("floor_divide", "__ifloordiv__")):
        setattr(Tensor, name, getattr(Tensor, op + "_"))
    Tensor.__hash__ = lambda self: id(self)
    Tensor.T = property(_T, doc="The tensor with its dimensions reversed (a matrix transposed).")
    Tensor.mT = property(_mT, doc="The last two dimensions transposed (batches of matrices).")
    Tensor.H = property(_H, doc="The conjugate transpose of a matrix (the transpose for real dtypes).")
    Tensor.mH = property(_mH, doc="The conjugate transpose of the last two dimensions.")
