"""``ember.Size``: the shape of a tensor."""


class Size(tuple):
    """A tuple of dimension sizes, as returned by ``Tensor.size()`` and ``Tensor.shape``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        return tuple.__new__(cls, (int(s) for s in sizes))

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
        return Size(tuple.__add__(self, tuple(other)))

    def __repr__(self):
        return "ember.Size([" + ", ".join(str(s) for s in self) + "])"
