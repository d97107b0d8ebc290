"""``Flatten`` and ``Unflatten``: reshape modules to place between layers."""

import ember

from .._checks import tensor_arg

__all__ = ["Flatten", "Unflatten"]


class Flatten(ember.nn.Module):
    r"""Flatten the dimensions ``start_dim`` to ``end_dim`` into one.

    By default all dimensions but the batch dimension are merged, e.g. to feed
    convolutional features into a Linear layer.

    Args:
        start_dim (int): first dimension to flatten (default: 1).
        end_dim (int): last dimension to flatten (default: -1).

    Shape:
        - Input: :math:`(*, S_{start}, ..., S_{end}, *)`.
        - Output: :math:`(*, \prod_{i=start}^{end} S_i, *)`.

    Examples:
        >>> ember.nn.Flatten()(ember.randn(32, 1, 5, 5)).shape
        ember.Size([32, 25])
        >>> ember.nn.Flatten(0, 2)(ember.randn(32, 1, 5, 5)).shape
        ember.Size([160, 5])
    """

    __constants__ = ["start_dim", "end_dim"]

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return tensor_arg(input, "Flatten").flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(ember.nn.Module):
    r"""Split dimension ``dim`` into the shape ``unflattened_size``: the inverse of Flatten.

    Args:
        dim (int): the dimension to split.
        unflattened_size (tuple of int or ember.Size): the new dimensions; their
            product must equal the size of ``dim`` (one entry may be -1).

    Shape:
        - Input: :math:`(*, S_{dim}, *)`.
        - Output: :math:`(*, U_1, ..., U_n, *)` with :math:`\prod U_i = S_{dim}`.

    Examples:
        >>> ember.nn.Unflatten(1, (2, 5, 5))(ember.randn(2, 50)).shape
        ember.Size([2, 2, 5, 5])
    """

    __constants__ = ["dim", "unflattened_size"]

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if not isinstance(size, int):
                raise TypeError("unflattened_size must be tuple of ints, but found element of "
                                f"type {type(size).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return tensor_arg(input, "Unflatten").unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
