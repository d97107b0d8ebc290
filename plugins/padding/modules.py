"""Padding modules: reflection, replication, zero, constant and circular padding
of the last 1, 2 or 3 dimensions. Each stores ``padding`` as a tuple (one
number becomes the same size on every side) and calls :func:`F.pad <.functional.pad>`."""

from ember.nn import Module
from ember.nn._tuples import ntuple, pair

from .functional import pad
from .._checks import tensor_arg

__all__ = ["ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
           "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "CircularPad1d", "CircularPad2d",
           "CircularPad3d"]

_quadruple = ntuple(4, "quadruple")
_sextuple = ntuple(6, "sextuple")
_EXPAND = {1: pair, 2: _quadruple, 3: _sextuple}

_ARGS = {
    1: """padding (int or tuple): the padding size; one int pads both sides, a
            2-tuple is ``(left, right)``.""",
    2: """padding (int or tuple): the padding size; one int pads every side, a
            4-tuple is ``(left, right, top, bottom)``.""",
    3: """padding (int or tuple): the padding size; one int pads every side, a
            6-tuple is ``(left, right, top, bottom, front, back)``.""",
}
_SHAPE = {
    1: """- Input: ``(C, W_in)`` or ``(N, C, W_in)``.
        - Output: ``(C, W_out)`` or ``(N, C, W_out)``, ``W_out = W_in + left + right``.""",
    2: """- Input: ``(C, H_in, W_in)`` or ``(N, C, H_in, W_in)``.
        - Output: ``(C, H_out, W_out)`` or ``(N, C, H_out, W_out)``,
          ``H_out = H_in + top + bottom``, ``W_out = W_in + left + right``.""",
    3: """- Input: ``(C, D_in, H_in, W_in)`` or ``(N, C, D_in, H_in, W_in)``.
        - Output: ``(C, D_out, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``,
          ``D_out = D_in + front + back``, ``H_out = H_in + top + bottom``,
          ``W_out = W_in + left + right``.""",
}


class _PadNd(Module):
    """Common part: ``padding`` kept as torch keeps it, ``forward`` one ``F.pad`` call."""

    __constants__ = ["padding"]
    mode = "constant"
    dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _EXPAND[self.dims](padding)

    def forward(self, input):
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):
        tensor_arg(input, type(self).__name__)
        if input.dim() not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.dim()}D input)")
        return pad(input, self.padding, "circular")


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


def _doc(summary, dims, example, value=False):
    args = _ARGS[dims]
    if value:
        args += "\n        value (float): the fill value."
    return f"""{summary}

    For other numbers of dimensions use :func:`ember.nn.functional.pad`.

    Args:
        {args}

    Shape:
        {_SHAPE[dims]}

    Examples::

{example}
    """


class ReflectionPad1d(_ReflectionPadNd):
    dims = 1
    __doc__ = _doc("Pad the last dimension with its mirror image about the edge element "
                   "(the edge is not repeated); each pad must be smaller than the dimension.", 1, """\
        >>> m = nn.ReflectionPad1d((3, 1))
        >>> m(ember.arange(4.0).reshape(1, 1, 4)).tolist()
        [[[3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0]]]""")


class ReflectionPad2d(_ReflectionPadNd):
    dims = 2
    __doc__ = _doc("Pad the last two dimensions with their mirror image about the edge "
                   "elements; each pad must be smaller than its dimension.", 2, """\
        >>> m = nn.ReflectionPad2d(1)
        >>> m(ember.arange(4.0).reshape(1, 1, 2, 2)).tolist()[0][0][0]
        [3.0, 2.0, 3.0, 2.0]""")


class ReflectionPad3d(_ReflectionPadNd):
    dims = 3
    __doc__ = _doc("Pad the last three dimensions with their mirror image about the edge "
                   "elements; each pad must be smaller than its dimension.", 3, """\
        >>> m = nn.ReflectionPad3d(1)
        >>> m(ember.zeros(1, 1, 2, 2, 2)).shape
        ember.Size([1, 1, 4, 4, 4])""")


class ReplicationPad1d(_ReplicationPadNd):
    dims = 1
    __doc__ = _doc("Pad the last dimension by repeating its edge elements.", 1, """\
        >>> m = nn.ReplicationPad1d((3, 1))
        >>> m(ember.arange(4.0).reshape(1, 1, 4)).tolist()
        [[[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0]]]""")


class ReplicationPad2d(_ReplicationPadNd):
    dims = 2
    __doc__ = _doc("Pad the last two dimensions by repeating their edge elements.", 2, """\
        >>> m = nn.ReplicationPad2d((1, 1, 2, 0))
        >>> m(ember.arange(9.0).reshape(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])""")


class ReplicationPad3d(_ReplicationPadNd):
    dims = 3
    __doc__ = _doc("Pad the last three dimensions by repeating their edge elements.", 3, """\
        >>> m = nn.ReplicationPad3d((1, 1, 0, 0, 2, 0))
        >>> m(ember.zeros(2, 3, 4, 5, 6)).shape
        ember.Size([2, 3, 6, 5, 8])""")


class CircularPad1d(_CircularPadNd):
    dims = 1
    __doc__ = _doc("Pad the last dimension by wrapping around: the left pad repeats the "
                   "last elements, the right pad the first ones.", 1, """\
        >>> m = nn.CircularPad1d((3, 1))
        >>> m(ember.arange(4.0).reshape(1, 1, 4)).tolist()
        [[[1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0]]]""")


class CircularPad2d(_CircularPadNd):
    dims = 2
    __doc__ = _doc("Pad the last two dimensions by wrapping around.", 2, """\
        >>> m = nn.CircularPad2d(1)
        >>> m(ember.arange(4.0).reshape(1, 1, 2, 2)).tolist()[0][0][0]
        [3.0, 2.0, 3.0, 2.0]""")


class CircularPad3d(_CircularPadNd):
    dims = 3
    __doc__ = _doc("Pad the last three dimensions by wrapping around.", 3, """\
        >>> m = nn.CircularPad3d((1, 1, 0, 0, 0, 1))
        >>> m(ember.zeros(1, 2, 3, 3, 3)).shape
        ember.Size([1, 2, 4, 3, 5])""")


class ConstantPad1d(_ConstantPadNd):
    dims = 1
    __doc__ = _doc("Pad the last dimension with a constant value.", 1, """\
        >>> m = nn.ConstantPad1d((3, 1), 3.5)
        >>> m(ember.zeros(1, 2)).tolist()
        [[3.5, 3.5, 3.5, 0.0, 0.0, 3.5]]""", value=True)


class ConstantPad2d(_ConstantPadNd):
    dims = 2
    __doc__ = _doc("Pad the last two dimensions with a constant value.", 2, """\
        >>> m = nn.ConstantPad2d((3, 0, 2, 1), 3.5)
        >>> m(ember.zeros(1, 2, 2)).shape
        ember.Size([1, 5, 5])""", value=True)


class ConstantPad3d(_ConstantPadNd):
    dims = 3
    __doc__ = _doc("Pad the last three dimensions with a constant value.", 3, """\
        >>> m = nn.ConstantPad3d((3, 3, 6, 6, 0, 1), 3.5)
        >>> m(ember.zeros(16, 3, 10, 20, 30)).shape
        ember.Size([16, 3, 11, 32, 36])""", value=True)


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    dims = 1
    __doc__ = _doc("Pad the last dimension with zeros.", 1, """\
        >>> m = nn.ZeroPad1d((3, 1))
        >>> m(ember.ones(1, 2)).tolist()
        [[0.0, 0.0, 0.0, 1.0, 1.0, 0.0]]""")


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    dims = 2
    __doc__ = _doc("Pad the last two dimensions with zeros.", 2, """\
        >>> m = nn.ZeroPad2d((1, 1, 2, 0))
        >>> m(ember.ones(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])""")


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    dims = 3
    __doc__ = _doc("Pad the last three dimensions with zeros.", 3, """\
        >>> m = nn.ZeroPad3d((3, 3, 6, 6, 0, 1))
        >>> m(ember.ones(16, 3, 10, 20, 30)).shape
        ember.Size([16, 3, 11, 32, 36])""")
