"""In-place methods that PyTorch 1.0 programs use: ``fill_diagonal_``, and ``apply_``/``map_``,
which run a Python function on every element (CPU tensors only, slow by nature)."""

import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import MODE
from .common import _make, check_tensor, python_scalar
from .inplace import apply_inplace
from .select import where


def _diagonal_positions(shape, wrap):
    """Row-major flat positions of the main diagonal of an array of ``shape``; with
    ``wrap`` a tall matrix restarts it every ``cols + 1`` rows, as torch's does."""
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    size = int(np.prod(shape))
    step = sum(int(np.prod(shape[i + 1:])) for i in range(len(shape)))  # 1 + cols (+ ...) per diagonal step
    count = min(shape)
    if wrap and len(shape) == 2 and shape[0] > shape[1]:
        count = -(-size // step)
    return np.arange(count, dtype=np.int64) * step


def fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal in place: of a matrix, or of a tensor whose
    dims all have one length (the elements ``[i, i, ..., i]``). With ``wrap``, the diagonal
    of a tall matrix starts again after every ``cols + 1`` rows. The filled elements get
    zero gradient; the others pass theirs on."""
    check_tensor(self, "self")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (numbers.Number, np.bool_)):
        raise TypeError(f"fill_diagonal_(): argument 'fill_value' (position 1) must be Number, "
                        f"not {type(fill_value).__name__}")
    shape = tuple(self._data.shape)
    positions = _diagonal_positions(shape, wrap)
    value = python_scalar(fill_value, _dtype.from_numpy_dtype(self._data.dtype))
    if not (MODE.enabled and self._rg):
        self._data[np.unravel_index(positions, shape)] = value
        self._bump_version()
        return self
    mask = np.zeros(shape, dtype=bool)
    mask[np.unravel_index(positions, shape)] = True
    on_diagonal = _make(self._be.from_host(mask, self._be.device_index(self._data)), self._be)
    return apply_inplace(self, lambda x: where(on_diagonal, value, x))


def _check_python_callable_target(name, *tensors):
    for t in tensors:
        if t._be.name != "cpu":
            raise TypeError(f"{name} is only implemented on CPU tensors, got a tensor on {t.device}")
        if t._rg:
            raise RuntimeError(f"Can't call {name}() on a tensor that requires grad. "
                               f"Use tensor.detach().{name}() instead.")


def _as_element(result, kind):
    """The value ``fn`` returned, as an element of an array of kind ``kind``."""
    if not isinstance(result, (numbers.Real, np.bool_)):
        raise TypeError(f"must be real number, not {type(result).__name__}")
    return bool(result) if kind == "b" else int(result) if kind in "iu" else float(result)


def _write_elements(self, values):
    kind = self._data.dtype.kind
    self._data[...] = np.array([_as_element(v, kind) for v in values],
                               dtype=self._data.dtype).reshape(self._data.shape)
    self._bump_version()
    return self


def apply_(self, callable):
    """Replace every element ``x`` by ``callable(x)`` (a Python number in, a number out),
    in place. CPU tensors that do not require grad only."""
    check_tensor(self, "self")
    _check_python_callable_target("apply_", self)
    return _write_elements(self, [callable(x) for x in self._data.reshape(-1).tolist()])


def map_(self, tensor, callable):
    """Replace every element ``x`` by ``callable(x, y)``, ``y`` the matching element of
    ``tensor`` (same dtype, broadcast to this tensor's shape), in place. CPU tensors that
    do not require grad only."""
    check_tensor(self, "self")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'other' (position 1) must be Tensor, not {type(tensor).__name__}")
    _check_python_callable_target("map_", self, tensor)
    if tensor._data.dtype != self._data.dtype:
        raise TypeError(f"map_: expected {self.dtype} for 'other' (got {tensor.dtype})")
    try:
        others = np.broadcast_to(tensor._data, self._data.shape)
    except ValueError:
        raise RuntimeError(f"map_: 'other' of shape {list(tensor.shape)} cannot be broadcast to the shape "
                           f"{list(self.shape)} of the tensor written") from None
    pairs = zip(self._data.reshape(-1).tolist(), others.reshape(-1).tolist())
    return _write_elements(self, [callable(x, y) for x, y in pairs])
