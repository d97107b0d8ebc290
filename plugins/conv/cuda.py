"""The cuda backend's kernels of the conv family: ``conv.im2col`` and its adjoint
``conv.col2im`` as one CuPy RawKernel launch each, where the generic kernels
(``kernels.py``) launch a zero fill, a padded copy and one sliced copy or add per
kernel tap. The GEMMs around them stay ``cupy.matmul``; the whole-convolution ops
(``conv.winograd``, ``conv.direct``) keep their generic entries, which decline, so
the cuda backend takes the im2col path.

Geometry as in ``unfold.py``, padded to 3 spatial dims with leading unit dims:
image ``(N, C, D, H, W)`` <-> columns ``(N, C*K, L)``, row ``c*K + tap``. Both
kernels gather: one thread per output element, so col2im needs no atomics, and it
adds the taps of an image element in tap order from zero, as the generic kernel's
sliced adds do (same float32 rounding). im2col only moves elements, so it takes
every dtype of 1 to 8 bytes (bool images for unfold, integers, float16); col2im
sums, in float32 or float64.
"""

import math

from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels, WidthKernels
from ember.kernels import floating, kernel

from .kernels import GENERIC_KERNELS

# the geometry, as the kernels' parameters: image, blocks, kernel, dilation,
# padding, stride, each (depth, height, width). Sizes along one dimension, and of
# one plane, fit an int: the index arithmetic inside a plane runs in 32 bits (a
# 64-bit division costs a GPU several times more), offsets of planes in 64.
_GEOMETRY = ", ".join(f"int {v}" for v in (
    "D", "H", "W", "OD", "OH", "OW", "KD", "KH", "KW", "dD", "dH", "dW",
    "pD", "pH", "pW", "sD", "sH", "sW"))

_IM2COL = f"""
extern "C" __global__ void ember_im2col(const T* x, T* cols, long long n, {_GEOMETRY}) {{
    const int L = OD * OH * OW, K = KD * KH * KW;
    {GRID_STRIDE_LOOP} {{
        long long row = i / L, plane = row / K;
        int l = (int)(i - row * L), tap = (int)(row - plane * K);
        int ow = l % OW, oh = (l / OW) % OH, od = l / (OW * OH);
        int kw = tap % KW, kh = (tap / KW) % KH, kd = tap / (KW * KH);
        int id = od * sD - pD + kd * dD, ih = oh * sH - pH + kh * dH, iw = ow * sW - pW + kw * dW;
        bool inside = id >= 0 && id < D && ih >= 0 && ih < H && iw >= 0 && iw < W;
        cols[i] = inside ? x[plane * D * H * W + (id * H + ih) * W + iw] : T(0);
    }}
}}
"""

# Image element (id, ih, iw) takes tap (kd, kh, kw) of block (od, oh, ow) where
# id + pD - kd*dD = od*sD, and likewise in the other dims.
_COL2IM = f"""
extern "C" __global__ void ember_col2im(const T* cols, T* x, long long n, {_GEOMETRY}) {{
    const int L = OD * OH * OW, K = KD * KH * KW, HW = H * W;
    {GRID_STRIDE_LOOP} {{
        long long plane = i / (HW * D);
        int r = (int)(i - plane * HW * D);
        int iw = r % W, ih = (r / W) % H, id = r / HW;
        const T* src = cols + plane * K * L;
        T acc = T(0);
        for (int kd = 0; kd < KD; ++kd) {{
            int td = id + pD - kd * dD;
            if (td < 0) break;
            if (td % sD != 0 || td / sD >= OD) continue;
            for (int kh = 0; kh < KH; ++kh) {{
                int th = ih + pH - kh * dH;
                if (th < 0) break;
                if (th % sH != 0 || th / sH >= OH) continue;
                for (int kw = 0; kw < KW; ++kw) {{
                    int tw = iw + pW - kw * dW;
                    if (tw < 0) break;
                    if (tw % sW != 0 || tw / sW >= OW) continue;
                    int tap = (kd * KH + kh) * KW + kw;
                    acc += src[(long long)tap * L + ((td / sD) * OH + th / sH) * OW + tw / sW];
                }}
            }}
        }}
        x[i] = acc;
    }}
}}
"""


def _geometry(xp, in_sp, out_sp, k, d, p, s):
    """The kernels' geometry arguments: each tuple padded to 3 dims, as int32 scalars."""
    lead = 3 - len(in_sp)
    ones, zeros = (1,) * lead, (0,) * lead
    dims = (ones + tuple(in_sp), ones + tuple(out_sp), ones + tuple(k), ones + tuple(d),
            zeros + tuple(p), ones + tuple(s))
    return tuple(xp.int32(v) for t in dims for v in t)


def _im2col(xp):
    """``conv.im2col``: one gather launch writing every column element (into ``out``
    when given). It only moves elements, so one build per item size serves every
    dtype of that size (bool for unfold, integers, float16). Registered without
    ``accepts``, since the convolution passes ``out`` by keyword and the table's
    dispatch takes positional arguments only: other dtypes (complex128), and an
    ``out`` this kernel cannot write, go to the generic kernel here."""
    run = WidthKernels(xp, _IM2COL, "ember_im2col")
    generic = GENERIC_KERNELS["conv.im2col"](xp)

    def im2col(x, in_sp, out_sp, k, d, p, s, out=None):
        writable = out is None or (out.dtype == x.dtype and out.flags.c_contiguous)
        if not (writable and WidthKernels.takes(x.dtype)):
            return generic(x, in_sp, out_sp, k, d, p, s, out=out)
        n, c = x.shape[:2]
        shape = (n, c * math.prod(k), math.prod(out_sp))
        cols = xp.empty(shape, dtype=x.dtype) if out is None else out.reshape(shape)
        x = xp.ascontiguousarray(x)
        run(x.dtype, cols.size, (x, cols, xp.int64(cols.size)) + _geometry(xp, in_sp, out_sp, k, d, p, s))
        return cols

    return im2col


def _col2im(xp):
    """``conv.col2im``: one gather launch, each image element summing its taps."""
    run = FloatKernels(xp, _COL2IM, "ember_col2im")

    def col2im(cols, in_sp, out_sp, k, d, p, s):
        n, ck, _ = cols.shape
        x = xp.empty((n, ck // math.prod(k)) + tuple(in_sp), dtype=cols.dtype)
        cols = xp.ascontiguousarray(cols)
        run(x.dtype, x.size, (cols, x, xp.int64(x.size)) + _geometry(xp, in_sp, out_sp, k, d, p, s))
        return x

    return col2im


def _float_columns(cols, *geometry):
    """What the col2im kernel takes: float32 or float64 columns."""
    return floating(cols)


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "conv.im2col": kernel(_im2col, factory=True),
    "conv.col2im": kernel(_col2im, factory=True, accepts=_float_columns),
}
