"""The ``Tensor`` class: an array of a backend plus autograd state.

Math lives in ``ember._ops``; the methods that expose it are attached by
``ember._methods``. This module keeps the data model: construction, attributes,
leaf/grad handling, hooks, versions, conversions and printing.
"""

import warnings

import numpy as np

from . import _dtype, autograd
from ._device import device as _device_cls
from ._layout import strided
from ._size import Size
from .autograd.grad_mode import MODE
from .autograd.graph import AccumulateGrad


# NumPy ufuncs return scalars for 0-d operands; a tensor holds a (writable) 0-d array
_NP_SCALARS = frozenset(type(np.zeros((), t)[()]) for t in
                        (np.float16, np.float32, np.float64, np.uint8, np.int8, np.int16, np.int32,
                         np.int64, np.bool_))


def wrap(data, be):
    """A new tensor (no history) holding ``data`` of backend ``be``: an op's result, where
    a NumPy scalar (a ufunc's answer for 0-d operands) becomes a 0-d array."""
    if data.__class__ in _NP_SCALARS:
        data = np.asarray(data)
    return Tensor._make(data, be)


class Tensor:
    """A multi-dimensional array with a dtype, a device and optional gradient tracking.

    Create tensors with ``ember.tensor``, ``ember.zeros``, ``ember.randn`` and
    friends, or ``ember.from_numpy`` to share a NumPy array's memory.
    """

    __module__ = "ember"  # shown as ``ember.Tensor``, as torch shows ``torch.Tensor``

    __slots__ = ("_data", "_be", "_rg", "_grad", "grad_fn", "_out_idx", "_vc", "_extra", "__weakref__")
    __array_priority__ = 1000

    @staticmethod
    def _make(data, be):
        t = _new(Tensor)
        t._data = data
        t._be = be
        t._rg = False
        t._grad = None
        t.grad_fn = None
        t._vc = None
        t._extra = None
        return t

    def __new__(cls, *args, device=None):
        """The legacy constructor: ``Tensor(data)`` copies data into the default float
        dtype, ``Tensor(2, 3)`` or ``Tensor(size)`` makes an uninitialised tensor."""
        from . import _creation

        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                return data.detach()
            if isinstance(data, (list, tuple, np.ndarray)) and not isinstance(data, Size):
                return _creation.tensor(data, dtype=_dtype.get_default_dtype(), device=device)
        if not args:
            args = (0,)
        return _creation.empty(*args, device=device)

    # ----------------------------------------------------------- attributes
    @property
    def dtype(self):
        """The element type (an ``ember.dtype``)."""
        return _dtype._FROM_NP[self._data.dtype]

    @property
    def shape(self):
        """The size of each dimension, as an ``ember.Size``."""
        return _tuple_new(Size, self._data.shape)

    def size(self, dim=None):
        """The shape as ``ember.Size``, or the size of dimension ``dim``."""
        if dim is None:
            return _tuple_new(Size, self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._data.ndim

    def numel(self):
        """The number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self):
        """Bytes taken by the elements (not counting any gaps of a strided view)."""
        return self._data.size * self._data.itemsize

    def storage_offset(self):
        """How many elements into its memory block this tensor's first element is."""
        arr = self._data
        base = arr
        while isinstance(base.base, type(arr)):
            base = base.base
        if base is arr:
            return 0
        return (self.data_ptr() - self._be.data_ptr(base)) // arr.itemsize

    def get_device(self):
        """The CUDA device index, or -1 for CPU tensors."""
        index = self._be.device_index(self._data)
        return -1 if index is None else index

    def is_complex(self):
        """False: ember has no complex dtypes."""
        return False

    is_sparse = False
    layout = strided
    is_quantized = False
    is_meta = False

    @property
    def device(self):
        """The device holding the data."""
        return _device_cls(self._be.name, self._be.device_index(self._data))

    @property
    def is_cuda(self):
        """True when the tensor lives on a CUDA device."""
        return self._be.name == "cuda"

    @property
    def data(self):
        """A tensor sharing this one's data, detached from the graph.

        Unlike ``detach()`` it has its own version counter, so changes made through
        it are invisible to autograd's in-place checks (as in torch).
        """
        return Tensor._make(self._data, self._be)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data
        self._be = value._be

    def is_floating_point(self):
        """True for floating dtypes."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        """True when elements are laid out in row-major order without gaps."""
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dimension."""
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def data_ptr(self):
        """The address of the first element."""
        return self._be.data_ptr(self._data)

    def _wrap_dim(self, dim):
        n = self._data.ndim
        lo, hi = (-1, 0) if n == 0 else (-n, n - 1)
        if not lo <= dim <= hi:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
            )
        return dim % n if n else 0

    # ----------------------------------------------------------- autograd state
    @property
    def grad(self):
        """The accumulated gradient (leaves, or non-leaves after ``retain_grad()``), or None."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._be is not self._be:
                raise RuntimeError(
                    f"attempting to assign a gradient with device type '{value._be.name}' to a "
                    f"tensor with device type '{self._be.name}'. Please ensure that the gradient "
                    f"and the tensor are on the same device"
                )
            if value.shape != self._data.shape:  # a property: sparse gradients have no _data
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                    f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor are "
                    f"the same size"
                )
            if value.dtype.np != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype.name}' to a tensor "
                    f"with dtype '{self.dtype.name}'. Please ensure that the gradient and the "
                    f"tensor have the same dtype"
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for backward."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self._data.dtype.kind != "f" and self.grad_fn is None:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (leaves only) and return self."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (their grad accumulates)."""
        return self.grad_fn is None

    @property
    def retains_grad(self):
        """True when ``retain_grad()`` was called on this non-leaf tensor."""
        return bool(self._extra and self._extra.get("retains_grad"))

    def _extras(self):
        if self._extra is None:
            self._extra = {}
        return self._extra

    def _hooks(self, kind):
        return () if self._extra is None else self._extra.get(kind, ())

    def _accumulator(self):
        acc = self._extra.get("acc") if self._extra is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._extras()["acc"] = acc
            hooks = self._hooks("grad")
            if hooks:
                acc._pre_hooks = {0: hooks}
        return acc

    def _version_box(self):
        box = self._vc
        if box is None:
            box = self._vc = [0]
        return box

    @property
    def _version(self):
        """How many in-place changes the data has seen (shared with views)."""
        return self._version_box()[0]

    def _bump_version(self):
        self._version_box()[0] += 1

    def register_hook(self, hook):
        """Register ``hook(grad) -> grad or None``, called with this tensor's gradient.

        Returns a handle whose ``remove()`` unregisters it.
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self._extras().setdefault("grad", [])
        keep = self._extra.get("retain_hook")
        if keep is not None and keep in hooks:
            # torch runs the retain_grad hook last, so .grad sees every hook's change
            hooks.insert(hooks.index(keep), hook)
        else:
            hooks.append(hook)
        if self.grad_fn is None:
            self._accumulator()._pre_hooks = {0: hooks}
        else:
            pre = self.grad_fn._pre_hooks
            if pre is None:
                pre = self.grad_fn._pre_hooks = {}
            pre[self._out_idx] = hooks
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)``, called after a leaf's ``.grad`` has been accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self._extras().setdefault("post_accumulate", [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
            return
        extra = self._extras()
        extra["retains_grad"] = True
        ref = _weakref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                old = t._grad
                t._grad = grad.detach()._owned_copy(t) if old is None else old + grad.detach()

        extra["retain_hook"] = keep
        self.register_hook(keep)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves and accumulate it in ``.grad``.

        Args:
            gradient: gradient w.r.t. this tensor; required unless it has one element.
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass so higher derivatives can be taken.
            inputs: accumulate only into these leaves.
        """
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """This tensor (already strided); sparse tensors override it."""
        return self if dtype is None else self.to(dtype)

    def detach(self):
        """A tensor sharing this one's data, without gradient history."""
        t = Tensor._make(self._data, self._be)
        t._vc = self._version_box()
        return t

    def detach_(self):
        """Detach this tensor from the graph in place (makes it a leaf)."""
        self.grad_fn = None
        self._rg = False
        return self

    def _owned_copy(self, layout_of=None):
        """A detached tensor whose data no other tensor shares; row-major when
        ``layout_of`` (the tensor it is a gradient for) is, as torch gives every
        gradient its parameter's layout (a transposed product's gradient would
        otherwise make each in-place optimizer update walk memory across strides)."""
        flags = getattr(layout_of._data, "flags", None) if layout_of is not None else None
        order = "C" if flags is not None and flags.c_contiguous else "K"
        return Tensor._make(self._be.xp.array(self._data, copy=True, order=order), self._be)

    def _iadd_data(self, other):
        self._be.xp.add(self._data, other._data, out=self._data, casting="unsafe")

    # ----------------------------------------------------------- conversions
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._be.to_host(self._data).reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        return self._be.to_host(self._data).tolist()

    def numpy(self, *, force=False):
        """The data as a NumPy array (shared memory on CPU)."""
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if self._be.name != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                    "copy the tensor to host memory first."
                )
            return self._be.to_host(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._be.to_host(self._data)
        return arr if dtype is None else arr.astype(dtype)

    def __dlpack__(self, stream=None, **kwargs):
        if self._rg:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        if stream is None:
            return self._data.__dlpack__(**kwargs)
        return self._data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __reversed__(self):
        if self._data.ndim == 0:
            return self
        return self.flip(0)

    def __contains__(self, element):
        if not isinstance(element, (Tensor, int, float, bool, np.number, np.bool_)):
            raise RuntimeError(
                f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                f"{type(element)}."
            )
        return bool((self == element).any().item())

    def __format__(self, spec):
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self.item())

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self._rg:
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                "behavior.\nConsider using tensor.detach() first.", UserWarning, stacklevel=2)
        return float(self.item())

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __repr__(self):
        from ._tensor_str import format_tensor

        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._rg:
            suffixes.append("requires_grad=True")
        dt = self.dtype
        dev = None if self._be.name == "cpu" else str(self.device)
        return format_tensor(
            self._be.to_host(self._data),
            dtype_name=repr(dt),
            is_default_dtype=dt is _dtype.get_default_dtype(),
            device=dev,
            suffixes=suffixes,
        )

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        from ._creation import _rebuild

        return (_rebuild, (self._be.to_host(self._data), self._rg))

    def __copy__(self):
        # as torch: a new leaf sharing the data, keeping requires_grad but not .grad
        t = Tensor._make(self._data, self._be)
        t._rg = self._rg
        return t

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a weight_norm usage."
            )
        t = Tensor._make(_deepcopy_data(self._data, self._be, memo), self._be)
        t._rg = self._rg
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t


_new = object.__new__
_tuple_new = tuple.__new__  # array shapes are tuples of ints already: no validation needed

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead."
)


def _deepcopy_data(arr, be, memo):
    """A copy of ``arr``; views of one NumPy buffer copied in the same ``deepcopy`` call
    stay views of one new buffer (torch keeps shared storage shared)."""
    base = arr
    while isinstance(base.base, np.ndarray):
        base = base.base
    if be.name != "cpu" or not base.flags.c_contiguous:
        return be.xp.array(arr, copy=True)
    key = ("ember.storage", id(base))
    pair = memo.get(key)
    if pair is None:
        pair = memo[key] = (base, base.copy())  # holding base keeps its id unique
    new_base = pair[1]
    offset = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    out = np.ndarray(arr.shape, arr.dtype, buffer=new_base, offset=offset, strides=arr.strides)
    if not arr.flags.writeable:
        out.flags.writeable = False
    return out


def _weakref(obj):
    import weakref

    return weakref.ref(obj)


class _RemovableHandle:
    """Handle returned by ``register_*hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        """Unregister the hook (no-op when already removed)."""
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def is_tensor(obj):
    """True if ``obj`` is an ember tensor."""
    return isinstance(obj, Tensor)


def grad_recording(*tensors):
    """True when an op on ``tensors`` must be recorded for backward."""
    if not MODE.enabled:
        return False
    for t in tensors:
        if t._rg:
            return True
    return False
