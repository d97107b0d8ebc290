"""``ember.Size``: the shape of a tensor."""

from operator import index as _index


class Size(tuple):
    """A tuple of dimension sizes, as returned by ``Tensor.size()`` and ``Tensor.shape``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        try:
            return tuple.__new__(cls, [s if s.__class__ is int else _index(s) for s in sizes])
        except TypeError:
            pass
        for i, s in enumerate(sizes):
            try:
                _index(s)
            except TypeError:
                raise TypeError(
                    f"ember.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')"
                ) from None
        raise TypeError(f"ember.Size() takes an iterable of 'int', got {type(sizes).__name__}")

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))

    def __repr__(self):
        return "ember.Size([" + ", ".join(str(s) for s in self) + "])"
