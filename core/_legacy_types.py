"""The legacy typed constructors ``ember.FloatTensor``, ``ember.LongTensor``, ...

PyTorch 1.0 code builds tensors with them (``torch.LongTensor([[1, 2], [3, 4]])``,
``torch.FloatTensor(2, 3)``) and tests types with them
(``isinstance(x, torch.FloatTensor)``). Each is a class whose call makes an
``ember.Tensor`` of its dtype on the CPU and whose ``isinstance`` check asks for
that dtype and device; ``Tensor.type(ember.FloatTensor)`` casts to it.
"""

from . import _dtype
from ._size import Size
from ._tensor import Tensor

__all__ = ["TYPES", "set_default_tensor_type", "tensor_new"]


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'ember.{cls.__name__}'>"


def _new(cls, *args, device=None):
    """``()`` -> empty; ints or a Size -> uninitialised of that shape; a sequence or
    array -> its values; a tensor of this type -> itself."""
    from ._creation import empty, tensor

    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
    if not args:
        return empty(0, dtype=cls.dtype)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return empty(*args, dtype=cls.dtype)
    if len(args) == 1:
        (data,) = args
        if isinstance(data, Size):
            return empty(data, dtype=cls.dtype)
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:
                raise TypeError(f"expected {cls.__name__[:-len('Tensor')]} (got "
                                f"{data.type().split('.')[-1][:-len('Tensor')]})")
            return data
        if not isinstance(data, (str, bytes)):
            return tensor(data, dtype=cls.dtype)
    names = ", ".join(type(a).__name__ for a in args)
    raise TypeError(f"new(): invalid arguments ({names}) for {cls.__name__}: give a sequence "
                    f"of numbers, a Size, or integer sizes")


def _make(name, dtype):
    return _LegacyType(name, (), {
        "__new__": _new, "dtype": dtype, "__module__": "ember",
        "__doc__": f"Legacy constructor of {dtype} CPU tensors (``torch.{name}``); "
                   f"``isinstance(x, ember.{name})`` checks dtype and device."})


#: name -> legacy type, e.g. ``"FloatTensor"`` -> the float32 constructor.
TYPES = {name: _make(name, dt) for name, dt in (
    ("FloatTensor", _dtype.float32), ("DoubleTensor", _dtype.float64),
    ("HalfTensor", _dtype.float16), ("ByteTensor", _dtype.uint8), ("CharTensor", _dtype.int8),
    ("ShortTensor", _dtype.int16), ("IntTensor", _dtype.int32), ("LongTensor", _dtype.int64),
    ("BoolTensor", _dtype.bool))}


def set_default_tensor_type(t):
    """The 1.0 way to set the default floating dtype: a floating legacy type
    (``ember.DoubleTensor``) or its name (``"torch.DoubleTensor"``, ``"ember.DoubleTensor"``)."""
    if isinstance(t, str):
        name = t.rsplit(".", 1)[-1]
        if name not in TYPES:
            raise TypeError(f"invalid type: '{t}'")
        t = TYPES[name]
    if not isinstance(t, _LegacyType):
        raise TypeError(f"set_default_tensor_type expects a tensor type or its name, got {type(t).__name__}")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _dtype.set_default_dtype(t.dtype)


def tensor_new(self, *args, device=None):
    """``Tensor.new``: the legacy constructor of this tensor's dtype (and device): sizes
    give an uninitialised tensor, a sequence its values, nothing an empty tensor."""
    from ._creation import empty, tensor

    device = self.device if device is None else device
    if not args:
        return empty(0, dtype=self.dtype, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0] if args[0].dtype == self.dtype else args[0].to(self.dtype)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(args[0], Size)):
        return empty(*args, dtype=self.dtype, device=device)
    if len(args) == 1 and not isinstance(args[0], (str, bytes)):
        return tensor(args[0], dtype=self.dtype, device=device)
    names = ", ".join(type(a).__name__ for a in args)
    raise TypeError(f"new(): invalid arguments ({names}): give a sequence of numbers, a Size, or integer sizes")
