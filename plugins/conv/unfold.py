"""Sliding blocks: ``im2col`` (image -> columns) and its adjoint ``col2im``.

One N-d linear pair serves unfold, fold and every convolution. Geometry
``(in_sp, out_sp, k, d, p, s)``: image size, block positions, kernel size,
dilation, padding before the first element and stride, one entry per spatial
dim. Image ``(N, C, *in_sp)`` <-> columns ``(N, C*prod(k), prod(out_sp))``,
row ``c*prod(k) + tap``. Taps outside the image read zero / are dropped, so
asymmetric padding (``'same'`` with an even kernel) is just a longer
``out_sp``. The kernels (``kernels.py``) are generic ones, which use only slicing so
CuPy runs them, and a Cython/OpenMP pair for the CPU (``_im2col.pyx``).
"""


from ember.autograd import linear_map
from ember.backend import FLOATING, check_dtype
from ember.nn._tuples import pair

from .._checks import tensor_arg

__all__ = ["im2col", "col2im", "unfold", "fold"]


def im2col(x, geometry, name="Im2ColBackward0"):
    """Columns ``(N, C*prod(k), prod(out_sp))`` of image tensor ``x`` ``(N, C, *in_sp)``;
    differentiable to any order (its gradient is :func:`col2im`)."""
    return linear_map(x, "conv.im2col", "conv.col2im", geometry, name, "Col2ImBackward0")


def col2im(cols, geometry, name="Col2ImBackward0"):
    """Image ``(N, C, *in_sp)`` summing the taps of ``cols``; the adjoint of :func:`im2col`."""
    return linear_map(cols, "conv.col2im", "conv.im2col", geometry, name, "Im2ColBackward0")


# ------------------------------------------------------------------ public unfold / fold
def _check_block_args(kernel_size, dilation, padding, stride):
    k, d, p, s = pair(kernel_size), pair(dilation), pair(padding), pair(stride)
    for name, v in (("kernel_size", k), ("dilation", d), ("padding", p), ("stride", s)):
        if len(v) != 2:
            raise RuntimeError(f"{name} must be a single int or a tuple of two ints, got {v}")
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} "
                           f"kernel_width: {k[1]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {d[0]} "
                           f"dilation_width: {d[1]}")
    if min(p) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")
    return k, d, p, s


def _blocks(size, k, d, p, s):
    return tuple((i + 2 * pi - di * (ki - 1) - 1) // si + 1 for i, ki, di, pi, si in zip(size, k, d, p, s))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks of a batched image (im2col).

    Each block of ``kernel_size`` elements (spaced by ``dilation``, moved by
    ``stride`` over the input zero-padded by ``padding`` on both sides) of all
    channels becomes one column.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size, dilation, padding, stride: int or pair of ints.

    Shape:
        - Output: ``(N, C * kh * kw, L)`` (or ``(C * kh * kw, L)``), ``L`` the
          number of block positions.

    Examples::

        >>> F.unfold(ember.randn(2, 5, 3, 4), (2, 3)).shape
        ember.Size([2, 30, 4])
    """
    tensor_arg(input, "unfold", "input")
    if input.dim() not in (3, 4) or any(s == 0 for s in input.shape[1 if input.dim() == 4 else 0:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    k, d, p, s = _check_block_args(kernel_size, dilation, padding, stride)
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    size = tuple(x.shape[2:])
    blocks = _blocks(size, k, d, p, s)
    if min(blocks) < 1:
        raise RuntimeError(
            f"Given input with spatial size {size}, kernel_size={k}, dilation={d}, padding={p}, "
            f"calculated shape of the array of sliding blocks as {blocks}, but its components must "
            "be at least one.")
    check_dtype(x, "im2col_out_cpu", FLOATING + ("bool",))
    out = im2col(x, (size, blocks, k, d, p, s))
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into an image, summing overlaps (col2im), the
    adjoint of :func:`unfold`.

    Args:
        input: ``(N, C * kh * kw, L)`` or unbatched ``(C * kh * kw, L)``.
        output_size: ``(H, W)`` of the image (int or pair).
        kernel_size, dilation, padding, stride: int or pair of ints, as for unfold.

    Shape:
        - Output: ``(N, C, H, W)`` (or ``(C, H, W)``).

    Examples::

        >>> F.fold(ember.randn(1, 3 * 2 * 2, 12), (4, 5), 2).shape
        ember.Size([1, 3, 4, 5])
    """
    tensor_arg(input, "fold", "input")
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[1 if input.dim() == 3 else 0:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size "
                           f"and non-zero dimensions for input, but got: {list(input.shape)}")
    size = pair(output_size)
    if len(size) != 2:
        raise RuntimeError(f"output_size must be a single int or a tuple of two ints, got {size}")
    k, d, p, s = _check_block_args(kernel_size, dilation, padding, stride)
    if min(size) <= 0:
        raise RuntimeError(f"output should be greater than zero, but got output_height: {size[0]} "
                           f"output_width: {size[1]}")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    kk = k[0] * k[1]
    if x.shape[1] % kk:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
            f"got input.size(1)={x.shape[1]} and kernel_size={k}.")
    blocks = _blocks(size, k, d, p, s)
    if min(blocks) < 1 or blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
            f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
            f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}.")
    check_dtype(x, "col2im_out_cpu", FLOATING + ("bool",))
    out = col2im(x, (size, blocks, k, d, p, s))
    return out if batched else out.squeeze(0)
