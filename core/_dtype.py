"""Data types, torch's type-promotion rules and the default floating dtype."""

import builtins as _builtins

import numpy as np

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type (``ember.float32``, ``ember.int64``, ...).

    Each dtype wraps the NumPy dtype that stores it; CuPy uses the same dtypes.
    """

    __slots__ = ("name", "np", "category", "itemsize", "scalar_name")

    def __init__(self, name, np_dtype, category, scalar_name):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.scalar_name = scalar_name  # torch's name in error messages ("Float", "Long")

    @property
    def is_floating_point(self):
        """True for float16, float32 and float64."""
        return self.category == _FLOAT

    @property
    def is_signed(self):
        """True unless the dtype is bool or uint8."""
        return self.name not in ("bool", "uint8")

    def __repr__(self):
        return "ember." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16, _FLOAT, "Half")
float32 = float = dtype("float32", np.float32, _FLOAT, "Float")
float64 = double = dtype("float64", np.float64, _FLOAT, "Double")
uint8 = dtype("uint8", np.uint8, _INT, "Byte")
int8 = dtype("int8", np.int8, _INT, "Char")
int16 = short = dtype("int16", np.int16, _INT, "Short")
int32 = int = dtype("int32", np.int32, _INT, "Int")
int64 = long = dtype("int64", np.int64, _INT, "Long")
bool = dtype("bool", np.bool_, _BOOL, "Bool")

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_default_float = [float32]


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The ember dtype stored as ``np_dtype``; TypeError for unsupported kinds."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert a NumPy array of dtype {np_dtype}; supported dtypes are "
            "float64, float32, float16, int64, int32, int16, int8, uint8 and bool"
        ) from None


def to_dtype(d):
    """Normalise an ember dtype, NumPy dtype, Python type or name to an ember dtype."""
    if d.__class__ is dtype:
        return d
    if d is _builtins.float:
        return _default_float[0]
    if d is _builtins.int:
        return int64
    if d is _builtins.bool:
        return bool
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    return from_numpy_dtype(d)


def get_default_dtype():
    """The dtype of floating tensors created from Python floats (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(d):
    """Set the dtype given to tensors made from Python floats (a floating dtype)."""
    d = to_dtype(d)
    if d.category != _FLOAT:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def promote_types(a, b):
    """The smallest dtype both ``a`` and ``b`` convert to without losing category.

    torch's lattice: bool < integers < floats; between integers NumPy's rules
    (uint8 + int8 -> int16); any float beats any integer (int64 + float16 -> float16).
    """
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == _FLOAT:
        return a if a.itemsize >= b.itemsize else b
    return _FROM_NP[np.promote_types(a.np, b.np)]


def _combine_categories(higher, lower):
    """Merge the result of a higher-priority group with that of a lower one (torch's rule)."""
    if higher is None:
        return lower
    if lower is None or higher.category == _FLOAT:
        return higher
    if higher.category == _BOOL or lower.category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype torch gives a Python number taking part in an operation."""
    if isinstance(value, _builtins.bool) or isinstance(value, np.bool_):
        return bool
    if isinstance(value, (_builtins.int, np.integer)):
        return int64
    return _default_float[0]


def result_type(*operands):
    """torch.result_type over tensors and Python scalars.

    Tensors with dimensions decide first; zero-dimensional tensors and then Python
    scalars only matter when they belong to a higher category (bool < int < float).
    """
    dim_result = zero_result = scalar_result = None
    for x in operands:
        data = getattr(x, "_data", None)
        if data is None:
            d = scalar_dtype(x)
            scalar_result = d if scalar_result is None else promote_types(scalar_result, d)
        else:
            d = _FROM_NP[data.dtype]
            if data.ndim:
                dim_result = d if dim_result is None else promote_types(dim_result, d)
            else:
                zero_result = d if zero_result is None else promote_types(zero_result, d)
    return _combine_categories(dim_result, _combine_categories(zero_result, scalar_result))


def can_cast(from_, to):
    """torch.can_cast: False only where a cast would drop to a lower category."""
    return from_.category <= to.category


class finfo:
    """Machine limits of a floating dtype (``ember.finfo(ember.float32).eps``); with no
    argument, those of the default dtype."""

    def __init__(self, type=None):
        type = get_default_dtype() if type is None else type
        if not isinstance(type, dtype) or not type.is_floating_point:
            raise TypeError(f"ember.finfo() requires a floating point input type, got {type!r}; "
                            "use ember.iinfo for integer types")
        info = np.finfo(type.np)
        self.dtype = type.name
        self.bits = info.bits
        self.eps = _builtins.float(info.eps)
        self.max = _builtins.float(info.max)
        self.min = _builtins.float(info.min)
        self.tiny = self.smallest_normal = _builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``ember.iinfo(ember.int64).max``)."""

    def __init__(self, type):
        if not isinstance(type, dtype) or type.category != _INT:
            raise TypeError(f"ember.iinfo() requires an integer input type, got {type!r}; "
                            "use ember.finfo for floating types")
        info = np.iinfo(type.np)
        self.dtype = type.name
        self.bits = info.bits
        self.max = _builtins.int(info.max)
        self.min = _builtins.int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
