"""Convolutions and transposed convolutions of 1, 2 and 3 spatial dims.

Everything is one GEMM around one linear pair. With ``W`` viewed as
``(G, Cb/G, Ci/G * K)`` (``Ci`` the image-side channels, ``Cb`` the
block-side ones, ``K = prod(kernel_size)``):

- ``forward(img)  = W @ im2col(img)``           (a convolution)
- ``adjoint(blk)  = col2im(W^T @ blk)``         (a transposed convolution)
- ``dW(img, blk)  = sum_n blk @ im2col(img)^T``

A convolution maps image -> blocks; a transposed one maps blocks -> image with
the same weight layout (``(in, out/G, *k)`` is ``(Cb, Ci/G, *k)``), so one
:class:`_Convolution` Function serves both: each one's input gradient is the
other's forward. The backward is written with differentiable ember ops, so
double backward works; ``grad_fn`` is called ``ConvolutionBackward0`` as in torch.

A 2-d 3x3 kernel with stride 1, dilation 1, one group and padding ``p <= 2``
makes both directions stride-1 3x3 convolutions (``adjoint`` is the one with
the kernel flipped in both dims, its two channel dims swapped, padding
``2 - p``). The array path hands them and the weight gradient to the backend's
``conv.winograd`` and ``conv.winograd_weight_grad`` kernels first (on the CPU,
Winograd F(2x2, 3x3): 2.25x fewer multiplies). Any other stride-1 1-d or 2-d
convolution of one group goes to ``conv.direct`` and ``conv.direct_weight_grad``
(on the CPU, a direct convolution for few channels, where im2col copies each
input element once per tap for products too thin for BLAS).
"""

import functools
import math

import ember
from ember.autograd import Function
from ember.backend import FLOATING, check_dtype, data_of, kernel_for, on_host, tensor_like, tf32_products, xp_of
from ember.backends import cudnn

from .unfold import col2im, im2col
from .._checks import tensor_arg
from .unfold import fold, unfold

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]


class _Geometry:
    """Everything about one convolution except the tensors."""

    __slots__ = ("transposed", "groups", "img_sp", "blk_sp", "k", "d", "p", "s", "shortcut", "winograd",
                 "direct")

    def __init__(self, transposed, groups, img_sp, blk_sp, k, d, p, s):
        self.transposed = transposed
        self.groups = groups
        self.img_sp, self.blk_sp = tuple(img_sp), tuple(blk_sp)
        self.k, self.d, self.p, self.s = k, d, p, s
        # 1x1 kernel, stride 1, no padding: columns are the image itself
        self.shortcut = all(v == 1 for v in k + s) and not any(p) and self.img_sp == self.blk_sp
        # both directions are stride-1 3x3 convolutions (see the module docstring)
        self.winograd = k == (3, 3) and s == (1, 1) and d == (1, 1) and groups == 1 and max(p) <= 2
        self.direct = len(k) <= 2 and max(s) == 1 and groups == 1 and not self.shortcut

    @property
    def im2col_args(self):
        return (self.img_sp, self.blk_sp, self.k, self.d, self.p, self.s)


def _columns(img, geo):
    """``(N, G, Ci/G*K, L)`` columns of the image tensor."""
    n, c = img.shape[0], img.shape[1]
    g = geo.groups
    if geo.shortcut:
        cols = img.reshape(n, c, math.prod(geo.img_sp))
    else:
        cols = im2col(img, geo.im2col_args)
    return cols.view(n, g, cols.shape[1] // g, cols.shape[2])


def _forward(img, weight, geo):
    """``W @ im2col(img)``: the blocks side ``(N, Cb, *blk_sp)``."""
    g = geo.groups
    w = weight.reshape(g, weight.shape[0] // g, math.prod(weight.shape[1:]))
    out = w.matmul(_columns(img, geo))
    return out.view((img.shape[0], weight.shape[0]) + geo.blk_sp)


def _adjoint(blk, weight, geo):
    """``col2im(W^T @ blk)``: the image side ``(N, Ci, *img_sp)``."""
    g = geo.groups
    n, cb = blk.shape[0], blk.shape[1]
    w = weight.reshape(g, cb // g, math.prod(weight.shape[1:])).transpose(-1, -2)
    cols = w.matmul(blk.reshape(n, g, cb // g, math.prod(geo.blk_sp)))
    ci = weight.shape[1] * g
    if geo.shortcut:
        return cols.reshape((n, ci) + geo.img_sp)
    return col2im(cols.reshape(n, cols.shape[1] * cols.shape[2], cols.shape[3]), geo.im2col_args)


def _weight_grad(img, blk, weight_shape, geo):
    """``sum_n blk @ im2col(img)^T``, shaped like the weight."""
    g = geo.groups
    n, cb = blk.shape[0], blk.shape[1]
    b = blk.reshape(n, g, cb // g, math.prod(geo.blk_sp))
    return b.matmul(_columns(img, geo).transpose(-1, -2)).sum(0).view(weight_shape)


# ------------------------------------------------------------------ array fast path
# Forward, and backward without create_graph, work on the arrays directly, a few
# samples at a time: the columns of a chunk stay in cache and the full
# (N, C*K, L) matrix (9x the input for a 3x3 kernel) is never allocated.
_CHUNK_BYTES = 1 << 22

# The forward keeps the columns for the weight gradient when they take at most this
# (then it runs in one chunk): the backward saves an im2col, memory holds them meanwhile.
_KEEP_BYTES = 1 << 24

# On a GPU (no cache to stay in) a chunk costs a launch per kernel and GEMM: its
# columns take up to 256 MiB (the whole batch of most layers, one batched GEMM), and
# an im2col is cheap to do again, so the forward keeps less than a chunk.
_DEVICE_CHUNK_BYTES, _DEVICE_KEEP_BYTES = 1 << 28, 1 << 26


_BUFFERED = ("float32", "float64")  # dtypes the kernels write in place


class _Arrays:
    """The kernels, namespace and reshaped weight of one convolution on one backend."""

    def __init__(self, like, weight, geo):
        self.xp = xp_of(like)
        self.geo = geo
        self.im2col = kernel_for("conv.im2col", like)
        self.col2im = kernel_for("conv.col2im", like)
        self.winograd = kernel_for("conv.winograd", like) if geo.winograd else None
        self.winograd_wgrad = kernel_for("conv.winograd_weight_grad", like) if geo.winograd else None
        self.direct = kernel_for("conv.direct", like) if geo.direct else None
        self.direct_wgrad = kernel_for("conv.direct_weight_grad", like) if geo.direct else None
        wa = self.weight = data_of(weight)
        g = geo.groups
        self.w = wa.reshape(g, wa.shape[0] // g, -1)       # (G, Cb/G, Ci/G*K)
        self.ci = wa.shape[1] * g
        self.cb = wa.shape[0]
        self.K = math.prod(geo.k)
        self.L = math.prod(geo.blk_sp)
        self._buffers = {}
        host = on_host(like)
        self.chunk_bytes = _CHUNK_BYTES if host else _DEVICE_CHUNK_BYTES
        self.keep_bytes = _KEEP_BYTES if host else _DEVICE_KEEP_BYTES

    def workspace(self, role, shape, dtype):
        """An array of ``shape`` reused by every chunk of this call for one ``role``:
        allocating the chunk-sized temporaries afresh each time costs a page fault
        per page when the allocator hands such blocks back to the system (it made a
        whole convolution step twice as slow)."""
        count = math.prod(shape)
        buf = self._buffers.get(role)
        if buf is None or buf.size < count or buf.dtype != dtype:
            buf = self._buffers[role] = self.xp.empty(count, dtype=dtype)
        return buf[:count].reshape(shape)

    def columns(self, img):
        """``(m, G, Ci/G*K, L)`` columns of an image chunk."""
        geo = self.geo
        m = img.shape[0]
        if geo.shortcut:
            cols = img.reshape(m, self.ci, self.L)
        elif img.dtype in _BUFFERED:
            out = self.workspace("columns", (m, self.ci * self.K, self.L), img.dtype)
            cols = self.im2col(img, *geo.im2col_args, out=out)
        else:
            cols = self.im2col(img, *geo.im2col_args)
        return cols.reshape(m, geo.groups, -1, self.L)

    def cols_bytes(self):
        return self.ci * self.K * self.L * self.w.itemsize

    def chunk(self, n):
        """How many of ``n`` samples one chunk takes (at least one)."""
        return max(1, min(n, self.chunk_bytes // max(1, self.cols_bytes())))

    def whole_forward(self, img, bias):
        """``forward`` by the ``conv.winograd`` kernel, else ``conv.direct``, or None
        where neither serves."""
        geo, out = self.geo, None
        if self.winograd is not None:
            out = self.winograd(img, self.weight, geo.p, bias)
        if out is None and self.direct is not None:
            out = self.direct(img, self.weight, geo.blk_sp, geo.p, geo.d, bias)
        return out

    def whole_adjoint(self, blk, bias):
        """``adjoint`` by the ``conv.winograd`` kernel, else ``conv.direct``, or None."""
        geo, out = self.geo, None
        if self.winograd is not None:
            out = self.winograd(blk, self.weight, geo.p, bias, True)
        if out is None and self.direct is not None:
            out = self.direct(blk, self.weight, geo.img_sp, geo.p, geo.d, bias, True)
        return out

    def whole_weight_grad(self, img, blk):
        """``dW(img, blk)`` by ``conv.winograd_weight_grad``, else ``conv.direct_weight_grad``, or None."""
        geo, gw = self.geo, None
        if self.winograd_wgrad is not None:
            gw = self.winograd_wgrad(img, blk, geo.p)
        if gw is None and self.direct_wgrad is not None:
            gw = self.direct_wgrad(img, blk, geo.k, geo.p, geo.d)
        return gw

    def forward(self, img, bias, keep=False):
        """``W @ im2col(img) (+ bias)`` -> ``(N, Cb, *blk_sp)``, and with ``keep`` the
        columns of the whole batch when they take at most ``_KEEP_BYTES`` (for the
        weight gradient), else None."""
        out = self.whole_forward(img, bias)
        if out is not None:
            return out, None
        xp, geo = self.xp, self.geo
        n = img.shape[0]
        out = xp.empty((n, geo.groups, self.cb // geo.groups, self.L), dtype=img.dtype)
        keep = keep and 0 < n and not geo.shortcut and n * self.cols_bytes() <= self.keep_bytes
        step = n if keep else self.chunk(n)
        for s in range(0, n, step):
            cols = self.columns(img[s:s + step])
            xp.matmul(self.w, cols, out=out[s:s + step])
        out = out.reshape((n, self.cb) + geo.blk_sp)
        if bias is not None:
            out += bias.reshape((-1,) + (1,) * len(geo.k))
        return out, (cols if keep else None)

    def adjoint_chunk(self, blk):
        """``col2im(W^T @ blk)`` of a chunk -> ``(m, Ci, *img_sp)``."""
        geo = self.geo
        m = blk.shape[0]
        w_t, blocks = self.w.transpose(0, 2, 1), blk.reshape(m, geo.groups, -1, self.L)
        out = None
        if blk.dtype == self.w.dtype and blk.dtype in _BUFFERED:
            out = self.workspace("image columns", (m,) + w_t.shape[:2] + (self.L,), blk.dtype)
        cols = self.xp.matmul(w_t, blocks, out=out)
        if geo.shortcut:
            return cols.reshape((m, self.ci) + geo.img_sp)
        return self.col2im(cols.reshape(m, self.ci * self.K, self.L), *geo.im2col_args)

    def adjoint(self, blk, bias):
        """``col2im(W^T @ blk) (+ bias)`` -> ``(N, Ci, *img_sp)``."""
        out = self.whole_adjoint(blk, bias)
        if out is not None:
            return out
        xp, geo = self.xp, self.geo
        n = blk.shape[0]
        out = xp.empty((n, self.ci) + geo.img_sp, dtype=blk.dtype)
        step = self.chunk(n)
        for s in range(0, n, step):
            out[s:s + step] = self.adjoint_chunk(blk[s:s + step])
        if bias is not None:
            out += bias.reshape((-1,) + (1,) * len(geo.k))
        return out

    def backward(self, img, blk, need_img, need_w, img_is_input, columns=None):
        """Gradients of a product ``blk = W @ im2col(img)`` in one pass over chunks.

        ``img_is_input`` (a convolution): the image gradient is ``col2im(W^T @ blk)``.
        Otherwise (a transposed convolution, ``blk`` is its input and ``img`` the
        incoming gradient) the input gradient is ``W @ im2col(img)``, from the same
        columns as the weight gradient. ``columns``: those of the whole ``img``, kept
        by the forward (one chunk), else they are computed again.
        """
        xp, geo = self.xp, self.geo
        n = img.shape[0]
        g_in = gw = None
        if need_img:
            g_in = self.whole_adjoint(blk, None) if img_is_input else self.whole_forward(img, None)
        if need_w:
            gw = self.whole_weight_grad(img, blk)
        in_chunks = need_img and g_in is None
        need_w = need_w and gw is None
        # the weight gradient is accumulated transposed, (G, Ci/G*K, Cb/G): BLAS runs
        # ``cols @ blk^T`` (tall result) faster than ``blk @ cols^T`` (wide one)
        step = n if columns is not None else self.chunk(n)
        # one chunk: its product's sum is the gradient (no zeroed buffer to add it into)
        gw_shape = self.w.shape[:1] + self.w.shape[:0:-1]
        gw_t = xp.zeros(gw_shape, dtype=self.w.dtype) if need_w and not 0 < n <= step else None
        # one chunk of a convolution's image gradient: col2im's result is the gradient (a
        # shortcut's is the workspace of the product: copied out)
        whole = img_is_input and not geo.shortcut and 0 < n <= step
        if in_chunks and not whole:
            g_shape = (n, self.ci) + geo.img_sp if img_is_input else \
                (n, geo.groups, self.cb // geo.groups, self.L)
            g_in = xp.empty(g_shape, dtype=img.dtype)
        for s in range(0, n, step):
            b = blk[s:s + step]
            m = b.shape[0]
            cols = None
            if in_chunks:
                if whole:
                    g_in = self.adjoint_chunk(b)
                elif img_is_input:
                    g_in[s:s + step] = self.adjoint_chunk(b)
                else:
                    cols = self.columns(img[s:s + step])
                    xp.matmul(self.w, cols, out=g_in[s:s + step])
            if need_w:
                if cols is None:
                    cols = self.columns(img[s:s + step]) if columns is None else columns
                prod = xp.matmul(cols, b.reshape(m, geo.groups, -1, self.L).transpose(0, 1, 3, 2))
                if gw_t is not None:
                    gw_t += prod[0] if m == 1 else prod.sum(0)
                elif m == 1:
                    gw_t = prod[0]
                else:  # one chunk: summed straight into the weight's layout
                    gw = xp.empty(self.w.shape, dtype=self.w.dtype)
                    prod.sum(0, out=gw.transpose(0, 2, 1))
        if g_in is not None and not img_is_input:
            g_in = g_in.reshape((n, self.cb) + geo.blk_sp)
        if gw_t is not None:
            gw = xp.ascontiguousarray(gw_t.transpose(0, 2, 1))
        return g_in, gw


def _in_tf32(method):
    """``method(ctx, tensor, ...)`` with its float32 products on TF32 units where the
    tensor's backend has them and ``ember.backends.cudnn.allow_tf32`` (torch's default)."""

    @functools.wraps(method)
    def run(ctx, tensor, *args):
        with tf32_products(tensor, cudnn.allow_tf32):
            return method(ctx, tensor, *args)
    return run


class _Convolution(Function):
    """Convolution (``geo.transposed`` False) or transposed convolution of a batched
    input. Forward and first-order backward run on arrays (see :class:`_Arrays`);
    with ``create_graph`` the backward is built from differentiable ember ops
    (im2col/col2im linear maps and matmul), so it can be differentiated again."""

    backward_name = "ConvolutionBackward0"

    @staticmethod
    @_in_tf32
    def forward(ctx, input, weight, bias, geo):
        ctx.geo = geo
        ctx.has_bias = bias is not None
        ctx.save_for_backward(input, weight)
        arrays = _Arrays(input, weight, geo)
        b = None if bias is None else data_of(bias)
        x = data_of(input)
        if geo.transposed:
            out = arrays.adjoint(x, b)
        else:
            # the columns are released by the first backward
            out, ctx.columns = arrays.forward(x, b, keep=ctx.needs_input_grad[1])
        return tensor_like(out, input)

    @staticmethod
    @_in_tf32
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        geo = ctx.geo
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_b and ctx.has_bias:
            gb = grad.sum((0,) + tuple(range(2, grad.dim())))
        if not ember.is_grad_enabled():
            arrays = _Arrays(input, weight, geo)
            g, x = data_of(grad), data_of(input)
            if geo.transposed:
                gx, gw = arrays.backward(g, x, need_x, need_w, False)
            else:
                columns, ctx.columns = ctx.columns, None
                gx, gw = arrays.backward(x, g, need_x, need_w, True, columns)
            gx = None if gx is None else tensor_like(gx, input)
            gw = None if gw is None else tensor_like(gw.reshape(weight.shape), weight)
            return gx, gw, gb, None
        if geo.transposed:
            if need_x:
                gx = _forward(grad, weight, geo)
            if need_w:
                gw = _weight_grad(grad, input, weight.shape, geo)
        else:
            if need_x:
                gx = _adjoint(grad, weight, geo)
            if need_w:
                gw = _weight_grad(input, grad, weight.shape, geo)
        return gx, gw, gb, None



# ------------------------------------------------------------------ argument checks
def _expand(value, nd, name):
    """An int or a sequence of ``nd`` ints (or of one) as an ``nd``-tuple, torch's error otherwise."""
    if isinstance(value, (list, tuple)):
        vals = tuple(value)
        if len(vals) == 1:
            vals = vals * nd
    else:
        vals = (value,) * nd
    if len(vals) != nd:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {nd} values to match the "
            f"convolution dimensions, but got {name}={list(value)}")
    return tuple(int(v) for v in vals)


def _fmt(t):
    # torch runs 1-d convolutions as 2-d ones of height 1 and reports them so
    return " x ".join(str(v) for v in ((1,) + tuple(t) if len(t) == 1 else t))


def _check_common(input, weight, bias, nd, name, transposed):
    """Dims, dtypes, weight/bias shapes; returns the batched input and whether it was."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but "
                           f"got input of size: {list(input.shape)}")
    if weight.dim() != nd + 2:
        raise RuntimeError("weight should have at least three dimensions" if weight.dim() < 3 else
                           f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight "
                           f"{list(weight.shape)}, but got {weight.dim()}-dimensional weight")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        other = weight if input.dtype != weight.dtype else bias
        raise RuntimeError(
            f"Input type ({_type_name(input)}) and {'weight' if other is weight else 'bias'} type "
            f"({_type_name(other)}) should be the same or input should be a MKLDNN tensor and weight "
            "is a dense tensor")
    batched = input.dim() == nd + 2
    return (input if batched else input.unsqueeze(0)), batched


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor"}


def _type_name(t):
    return "torch." + _TYPE_NAMES.get(t.dtype.name, t.dtype.name)


def _check_hyper(stride, padding, dilation, groups):
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _check_weight(x, weight, bias, groups, transposed):
    out0 = weight.shape[0]
    if out0 == 0 and not transposed:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                           f"but got weight of size {list(weight.shape)} instead")
    if out0 % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{list(weight.shape)}] instead")
    if transposed:
        if x.shape[1] != out0:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                               f"input{list(x.shape)} to have {out0} channels, but got {x.shape[1]} "
                               "channels instead")
        n_out = weight.shape[1] * groups
        label = f"transposed=1, weight of size {list(weight.shape)}"
    else:
        if x.shape[1] != weight.shape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                               f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
                               f"{x.shape[1]} channels instead")
        n_out = out0
        label = f"weight of size {list(weight.shape)}"
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != n_out):
        raise RuntimeError(f"Given {label}, expected bias to be 1-dimensional with {n_out} elements, but "
                           f"got bias of size {list(bias.shape)} instead")


# the dtypes torch's CPU kernels take, and the kernel named in its error
_INTEGER = ("uint8", "int8", "int16", "int32", "int64")
_KERNELS = {  # (transposed, 3-d) -> (kernel name, dtypes)
    (False, False): ("slow_conv2d_cpu", FLOATING + _INTEGER),
    (False, True): ("compute_columns3d", FLOATING + _INTEGER),
    (True, False): ("slow_conv_transpose2d_out_cpu", FLOATING + ("int64",)),
    (True, True): ("slow_conv_transpose3d_out_cpu", FLOATING + ("int64",)),
}


def _run(x, weight, bias, geo, batched):
    check_dtype(x, *_KERNELS[geo.transposed, len(geo.k) == 3])
    out = _Convolution.apply(x, weight, bias, geo)
    return out if batched else out.squeeze(0)


def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    name = f"conv{nd}d"
    x, batched = _check_common(input, weight, bias, nd, name, False)
    k = tuple(int(v) for v in weight.shape[2:])
    stride = _expand(stride, nd, "stride")
    dilation = _expand(dilation, nd, "dilation")
    img = tuple(int(v) for v in x.shape[2:])
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "valid":
            padding = (0,) * nd
        else:
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # the odd unit of an even total goes after the input, as in torch
            padding = tuple(di * (ki - 1) // 2 for ki, di in zip(k, dilation))
            _check_hyper(stride, padding, dilation, groups)
            _check_weight(x, weight, bias, groups, False)
            return _run(x, weight, bias, _Geometry(False, groups, img, img, k, dilation, padding, stride),
                        batched)
    padding = _expand(padding, nd, "padding")
    _check_hyper(stride, padding, dilation, groups)
    _check_weight(x, weight, bias, groups, False)
    padded = tuple(i + 2 * p for i, p in zip(img, padding))
    reach = tuple(di * (ki - 1) + 1 for ki, di in zip(k, dilation))
    if any(r > q for r, q in zip(reach, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_fmt(padded)}). Kernel size: "
                           f"({_fmt(reach)}). Kernel size can't be greater than actual input size")
    blk = tuple((q - r) // s + 1 for q, r, s in zip(padded, reach, stride))
    return _run(x, weight, bias, _Geometry(False, groups, img, blk, k, dilation, padding, stride), batched)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    name = f"conv_transpose{nd}d"
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    if isinstance(input, ember.Tensor) and input.dtype == ember.bool:
        check_dtype(input, f"slow_conv_transpose{max(nd, 2)}d_out_cpu", FLOATING)
    x, batched = _check_common(input, weight, bias, nd, name, True)
    if 0 in tuple(x.shape[2:]):
        raise RuntimeError("Only zero batch or zero channel inputs are supported, but got input shape: "
                           f"{list(x.shape) if nd > 1 else [x.shape[0], x.shape[1], 1, x.shape[2]]}")
    k = tuple(int(v) for v in weight.shape[2:])
    stride = _expand(stride, nd, "stride")
    padding = _expand(padding, nd, "padding")
    output_padding = _expand(output_padding, nd, "output_padding")
    dilation = _expand(dilation, nd, "dilation")
    _check_hyper(stride, padding, dilation, groups)
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        axes = ("depth", "height", "width")[3 - max(nd, 2):]
        lift = (lambda t, v: (v,) + t) if nd == 1 else (lambda t, v: t)  # 1-d reads as 2-d
        parts = [f"output_padding_{a}: {v}" for a, v in zip(axes, lift(output_padding, 0))]
        parts += [f"stride_{a}: {v}" for a, v in zip(axes, lift(stride, 1))]
        parts += [f"dilation_{a}: {v}" for a, v in zip(axes, lift(dilation, 1))]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))
    _check_weight(x, weight, bias, groups, True)
    blk = tuple(int(v) for v in x.shape[2:])
    img = tuple((i - 1) * s - 2 * p + d * (kk - 1) + op + 1
                for i, s, p, d, kk, op in zip(blk, stride, padding, dilation, k, output_padding))
    if any(v <= 0 for v in img):
        raise RuntimeError(f"Given input size per channel: ({_fmt(blk)}). Calculated output size per "
                           f"channel: ({_fmt(img)}). Output size is too small")
    return _run(x, weight, bias, _Geometry(True, groups, img, blk, k, dilation, padding, stride), batched)


# ------------------------------------------------------------------ public functions
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) over an input of several channels.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_out, C_in / groups, kW)``.
        bias: ``(C_out,)`` or None.
        stride: step between blocks (int or 1-tuple). Default: 1.
        padding: zeros added on both sides (int or 1-tuple), or ``'valid'`` (none) or
            ``'same'`` (output as long as the input; stride 1 only). Default: 0.
        dilation: spacing between kernel taps. Default: 1.
        groups: split the channels into this many independent convolutions. Default: 1.

    Shape:
        - Output: ``(N, C_out, L_out)``,
          ``L_out = (L + 2 * padding - dilation * (kW - 1) - 1) // stride + 1``.

    Examples::

        >>> F.conv1d(ember.randn(20, 16, 50), ember.randn(33, 16, 3)).shape
        ember.Size([20, 33, 48])
    """
    tensor_arg(input, "conv1d", "input")
    tensor_arg(weight, "conv1d", "weight")
    tensor_arg(bias, "conv1d", "bias", optional=True)
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) over an input of several channels.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or pair; padding may be ``'valid'`` or
            ``'same'`` (stride 1 only). Defaults: 1, 0, 1.
        groups: number of independent channel groups. Default: 1.

    Shape:
        - Output: ``(N, C_out, H_out, W_out)``, each size
          ``(size + 2 * padding - dilation * (k - 1) - 1) // stride + 1``.

    Examples::

        >>> F.conv2d(ember.randn(1, 4, 5, 5), ember.randn(8, 4, 3, 3), padding=1).shape
        ember.Size([1, 8, 5, 5])
    """
    tensor_arg(input, "conv2d", "input")
    tensor_arg(weight, "conv2d", "weight")
    tensor_arg(bias, "conv2d", "bias", optional=True)
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution (cross-correlation) over an input of several channels.

    Args:
        input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
        weight: ``(C_out, C_in / groups, kD, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: int or triple; padding may be ``'valid'`` or
            ``'same'`` (stride 1 only). Defaults: 1, 0, 1.
        groups: number of independent channel groups. Default: 1.

    Shape:
        - Output: ``(N, C_out, D_out, H_out, W_out)``, sizes as for :func:`conv2d`.

    Examples::

        >>> F.conv3d(ember.randn(2, 3, 6, 6, 6), ember.randn(4, 3, 3, 3, 3)).shape
        ember.Size([2, 4, 4, 4, 4])
    """
    tensor_arg(input, "conv3d", "input")
    tensor_arg(weight, "conv3d", "weight")
    tensor_arg(bias, "conv3d", "bias", optional=True)
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution (the gradient of :func:`conv1d` w.r.t. its input),
    sometimes called deconvolution.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_in, C_out / groups, kW)``.
        bias: ``(C_out,)`` or None.
        stride: stride of the matching convolution. Default: 1.
        padding: ``dilation * (kW - 1) - padding`` zeros are added to both sides of
            the input (the matching convolution's padding). Default: 0.
        output_padding: extra size added to one side of the output. Default: 0.
        groups: number of independent channel groups. Default: 1.
        dilation: spacing between kernel taps. Default: 1.

    Shape:
        - Output: ``(N, C_out, L_out)``, ``L_out = (L - 1) * stride - 2 * padding +
          dilation * (kW - 1) + output_padding + 1``.

    Examples::

        >>> F.conv_transpose1d(ember.randn(20, 16, 50), ember.randn(16, 33, 5)).shape
        ember.Size([20, 33, 54])
    """
    tensor_arg(input, "conv_transpose1d", "input")
    tensor_arg(weight, "conv_transpose1d", "weight")
    tensor_arg(bias, "conv_transpose1d", "bias", optional=True)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution (the gradient of :func:`conv2d` w.r.t. its input).

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: int or pair, as for
            :func:`conv_transpose1d`. groups: channel groups. Default: 1.

    Shape:
        - Output: ``(N, C_out, H_out, W_out)``, each ``(size - 1) * stride - 2 * padding
          + dilation * (k - 1) + output_padding + 1``.

    Examples::

        >>> F.conv_transpose2d(ember.randn(1, 4, 5, 5), ember.randn(4, 8, 3, 3), stride=2).shape
        ember.Size([1, 8, 11, 11])
    """
    tensor_arg(input, "conv_transpose2d", "input")
    tensor_arg(weight, "conv_transpose2d", "weight")
    tensor_arg(bias, "conv_transpose2d", "bias", optional=True)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-d transposed convolution (the gradient of :func:`conv3d` w.r.t. its input).

    Args:
        input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
        weight: ``(C_in, C_out / groups, kD, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: int or triple. groups: channel groups.

    Shape:
        - Output: ``(N, C_out, D_out, H_out, W_out)``, sizes as for :func:`conv_transpose2d`.

    Examples::

        >>> F.conv_transpose3d(ember.randn(1, 2, 3, 3, 3), ember.randn(2, 4, 2, 2, 2)).shape
        ember.Size([1, 4, 4, 4, 4])
    """
    tensor_arg(input, "conv_transpose3d", "input")
    tensor_arg(weight, "conv_transpose3d", "weight")
    tensor_arg(bias, "conv_transpose3d", "bias", optional=True)
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
