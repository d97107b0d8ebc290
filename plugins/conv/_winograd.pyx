"""Winograd F(2x2, 3x3) transforms on the CPU: a stride-1 3x3 convolution as 16
matrix products over 4x4 input tiles, with 2.25x fewer multiplies than im2col.

Each 2x2 block of the output comes from a 4x4 tile of the padded input (tiles
overlap by 2). With ``B``, ``G``, ``A`` the transform matrices of Lavin and
Gray (2015), a tile ``d`` and a 3x3 kernel ``g``::

    y = A^T [(G g G^T) * (B^T d B)] A        (* elementwise, 4x4)

so over channels the elementwise products become, for each of the 16 positions
``xi`` of the 4x4, one matrix product ``M[xi] = U[xi] @ V[xi]``.

Layouts (``T = N * TH * TW`` tiles, ``TH = ceil(OH / 2)``, ``TW = ceil(OW / 2)``,
tile ``t = (n * TH + ty) * TW + tx``):

- image ``(N, C, H, W)`` -> ``V (16, C, T)``    (:func:`transform_input`)
- weight ``(Co, Ci, 3, 3)`` -> ``U (16, Co, Ci)`` (:func:`transform_weight`)
- products ``M (16, Co, T)`` -> ``(N, Co, OH, OW)`` (:func:`transform_output`)

Channel-major ``V`` keeps every transform loop unit-stride along a row of
tiles. Tiles that reach past the padded image read zeros; the outputs they
would add beyond ``OH x OW`` are dropped. The weight gradient runs the same
products the other way: ``dU[xi] = (A dy A^T)[xi] @ V[xi]^T`` summed over the
tiles, then ``G^T dU G`` (:func:`conv2d_weight_grad`).

:func:`conv2d` and :func:`conv2d_weight_grad` go through the samples in chunks
small enough for a chunk's ``V`` and ``M`` to stay in a core's cache, one thread
per chunk with the BLAS on that thread alone: NumPy's BLAS threads, still
spinning after a product, would otherwise compete with the transforms' threads
for the cores.
"""

from cython.parallel cimport prange, threadid

from ember_cython cimport floating, num_threads_for

import numpy as np

from ember._threads import one_blas_thread


# The tile loops are C: GCC/Clang vector types hold a run of tiles along a row
# (8 floats or 4 doubles, whatever the instruction set), so each of the 16
# transformed values of those tiles is one vector op and one store, and there is
# no aliasing between the 16 output streams for a compiler to prove away.  On
# x86-64 Linux GCC compiles them for AVX-512, AVX2 and SSE2 and the CPU's best is
# picked when the module loads (EMBER_SIMD_CLONES, from ember_cython.pxd); the rest
# of the build stays portable.
cdef extern from *:
    """
    #include <string.h>
    #define EMBER_WINO_BYTES 32
    typedef float ember_wino_vf __attribute__((vector_size(EMBER_WINO_BYTES)));
    typedef double ember_wino_vd __attribute__((vector_size(EMBER_WINO_BYTES)));

    typedef struct {
        Py_ssize_t H, W;      /* image */
        Py_ssize_t pH, pW;    /* zeros before the image */
        Py_ssize_t OH, OW;    /* output */
        Py_ssize_t TH, TW;    /* tiles */
    } ember_wino_tiling;

    /* The padded image, each row as its even columns then its odd ones, S of each:
       tile tx reads padded columns 2tx..2tx+3, i.e. even and odd at tx and tx + 1,
       so a run of tiles is a run of consecutive elements.  S leaves room for the
       vector that starts at the last tile (at most 8 lanes) and its neighbour.  The
       buffer starts zeroed: every plane writes the image's elements to the same
       places, so the padding stays zero from plane to plane. */
    static inline Py_ssize_t ember_wino_half_row(Py_ssize_t TW) {
        return (TW + 7) / 8 * 8 + 8;
    }
    static inline Py_ssize_t ember_wino_split_size(Py_ssize_t TH, Py_ssize_t TW) {
        return (2 * TH + 2) * 2 * ember_wino_half_row(TW);
    }
    /* two rows split like that, and a row of zeros */
    static inline Py_ssize_t ember_wino_gather_size(Py_ssize_t TW) {
        return 6 * ember_wino_half_row(TW);
    }

    /* the output transform's scratch: 4 rows of a plane's tiles, whole vectors long */
    static inline Py_ssize_t ember_wino_rows_size(Py_ssize_t TH, Py_ssize_t TW) {
        return 4 * ((TH * TW + 7) / 8 * 8);
    }

    #define EMBER_WINO_PLANES(T, V, S)                                                  \\
    /* n of a vector's L lanes (0 < n <= L): one move when full, else at most three     \\
       moves of fixed size (a copy loop would become a call to memcpy) */              \\
    static inline void ember_wino_load_##S(V* v, const T* p, Py_ssize_t n) {           \\
        const Py_ssize_t L = sizeof(V) / sizeof(T);                                     \\
        T* e = (T*)v;                                                                   \\
        Py_ssize_t k = 0;                                                               \\
        if (n == L) {                                                                   \\
            memcpy(v, p, sizeof *v);                                                    \\
            return;                                                                     \\
        }                                                                               \\
        memset(v, 0, sizeof *v);                                                        \\
        if (L > 4 && (n & 4)) { memcpy(e, p, 4 * sizeof(T)); k = 4; }                   \\
        if (n & 2) { memcpy(e + k, p + k, 2 * sizeof(T)); k += 2; }                     \\
        if (n & 1) e[k] = p[k];                                                         \\
    }                                                                                   \\
    static inline void ember_wino_store_##S(T* p, const V* v, Py_ssize_t n) {          \\
        const Py_ssize_t L = sizeof(V) / sizeof(T);                                     \\
        const T* e = (const T*)v;                                                       \\
        Py_ssize_t k = 0;                                                               \\
        if (n == L) {                                                                   \\
            memcpy(p, v, sizeof *v);                                                    \\
            return;                                                                     \\
        }                                                                               \\
        if (L > 4 && (n & 4)) { memcpy(p, e, 4 * sizeof(T)); k = 4; }                   \\
        if (n & 2) { memcpy(p + k, e + k, 2 * sizeof(T)); k += 2; }                     \\
        if (n & 1) p[k] = e[k];                                                         \\
    }                                                                                   \\
    /* V[:, c, tiles of one image] = B^T d B of every tile d of the plane src; B^T's    \\
       rows are (1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1).  A run of     \\
       tiles is stored whole while it stays inside the plane's tiles: what spills into  \\
       the next tile row is written again with that row. */                            \\
    EMBER_SIMD_CLONES static void ember_wino_input_plane_##S(                             \\
            const T* src, T* dst, Py_ssize_t xs, T* split, ember_wino_tiling t) {       \\
        const Py_ssize_t L = sizeof(V) / sizeof(T), half = ember_wino_half_row(t.TW);   \\
        const Py_ssize_t tiles = t.TH * t.TW;                                           \\
        Py_ssize_t j, ih, ty, tx, k, n;                                                 \\
        /* image column c is padded column c + pW: columns 2i go to `from_even`, 2i + 1 \\
           to `from_odd` */                                                              \\
        const Py_ssize_t lo = t.pW / 2, hi = (t.pW + 1) / 2;                            \\
        for (ih = 0; ih < t.H && ih + t.pH < 2 * t.TH + 2; ih++) {                      \\
            T* even = split + (ih + t.pH) * 2 * half;                                   \\
            T* from_even = t.pW % 2 ? even + half + lo : even + lo;                     \\
            T* from_odd = t.pW % 2 ? even + hi : even + half + lo;                      \\
            const T* row = src + ih * t.W;                                              \\
            for (j = 0; j < t.W / 2; j++) {                                             \\
                from_even[j] = row[2 * j];                                              \\
                from_odd[j] = row[2 * j + 1];                                           \\
            }                                                                           \\
            if (t.W % 2) from_even[t.W / 2] = row[t.W - 1];                             \\
        }                                                                               \\
        for (ty = 0; ty < t.TH; ty++) {                                                 \\
            for (tx = 0; tx < t.TW; tx += L) {                                          \\
                const Py_ssize_t at = ty * t.TW + tx;                                   \\
                V a[4][4], v[4];                                                        \\
                n = at + L <= tiles ? L : t.TW - tx;                                    \\
                for (k = 0; k < 4; k++) {  /* d B along tile row k */                   \\
                    const T* e = split + (2 * ty + k) * 2 * half + tx;                  \\
                    V d0, d1, d2, d3;                                                   \\
                    memcpy(&d0, e, sizeof d0);                                          \\
                    memcpy(&d1, e + half, sizeof d1);                                   \\
                    memcpy(&d2, e + 1, sizeof d2);                                      \\
                    memcpy(&d3, e + half + 1, sizeof d3);                               \\
                    a[k][0] = d0 - d2;                                                  \\
                    a[k][1] = d1 + d2;                                                  \\
                    a[k][2] = d2 - d1;                                                  \\
                    a[k][3] = d1 - d3;                                                  \\
                }                                                                       \\
                for (j = 0; j < 4; j++) {  /* B^T down column j */                      \\
                    v[0] = a[0][j] - a[2][j];                                           \\
                    v[1] = a[1][j] + a[2][j];                                           \\
                    v[2] = a[2][j] - a[1][j];                                           \\
                    v[3] = a[1][j] - a[3][j];                                           \\
                    for (k = 0; k < 4; k++)                                             \\
                        ember_wino_store_##S(dst + (4 * k + j) * xs + at, &v[k], n);     \\
                }                                                                       \\
            }                                                                           \\
        }                                                                               \\
    }                                                                                   \\
    /* One output plane (OH, OW) = A^T m A + bias of its tiles, cropped; A^T's rows    \\
       are (1, 1, 1, 0) and (0, 1, -1, -1).  The tiles of a plane are consecutive in m, \\
       so they go in whole vectors across tile rows; rows (scratch of                   \\
       ember_wino_rows_size) holds output row r, column k of every tile at row 2r + k. */ \\
    EMBER_SIMD_CLONES static void ember_wino_output_plane_##S(                            \\
            const T* src, Py_ssize_t xs, T* dst, T bias, T* rows, ember_wino_tiling t) { \\
        const Py_ssize_t L = sizeof(V) / sizeof(T), tiles = t.TH * t.TW;                \\
        const Py_ssize_t stride = ember_wino_rows_size(t.TH, t.TW) / 4;                 \\
        Py_ssize_t at, ty, tx, i, k, r;                                                 \\
        for (at = 0; at < tiles; at += L) {                                             \\
            V m[16], s[4][2], y;                                                        \\
            const Py_ssize_t n = tiles - at < L ? tiles - at : L;                       \\
            for (i = 0; i < 16; i++)                                                    \\
                ember_wino_load_##S(&m[i], src + i * xs + at, n);                       \\
            for (i = 0; i < 4; i++) {  /* m A along tile row i */                       \\
                s[i][0] = m[4 * i] + m[4 * i + 1] + m[4 * i + 2];                       \\
                s[i][1] = m[4 * i + 1] - m[4 * i + 2] - m[4 * i + 3];                   \\
            }                                                                           \\
            for (k = 0; k < 2; k++) {  /* A^T down column k */                          \\
                y = s[0][k] + s[1][k] + s[2][k] + bias;                                 \\
                memcpy(rows + k * stride + at, &y, sizeof y);                           \\
                y = s[1][k] - s[2][k] - s[3][k] + bias;                                 \\
                memcpy(rows + (2 + k) * stride + at, &y, sizeof y);                     \\
            }                                                                           \\
        }                                                                               \\
        for (ty = 0; ty < t.TH; ty++) {                                                 \\
            for (r = 0; r < 2 && 2 * ty + r < t.OH; r++) {                              \\
                T* out = dst + (2 * ty + r) * t.OW;                                     \\
                const T* even = rows + 2 * r * stride + ty * t.TW;                      \\
                const T* odd = even + stride;                                           \\
                for (tx = 0; tx < t.OW / 2; tx++) {                                     \\
                    out[2 * tx] = even[tx];                                             \\
                    out[2 * tx + 1] = odd[tx];                                          \\
                }                                                                       \\
                if (t.OW % 2) out[t.OW - 1] = even[t.OW / 2];                           \\
            }                                                                           \\
        }                                                                               \\
    }                                                                                   \\
    /* The adjoint of the output transform (for the weight gradient): the tiles of     \\
       one output-gradient plane (OH, OW) as A dy A^T, dy the tile's 2x2 block (zeros   \\
       past the plane); A's rows are (1, 0), (1, 1), (1, -1), (0, -1).  split: zeroed    \\
       scratch of ember_wino_gather_size(TW), kept for planes of one tiling. */         \\
    EMBER_SIMD_CLONES static void ember_wino_gather_plane_##S(                            \\
            const T* src, T* dst, Py_ssize_t xs, T* split, ember_wino_tiling t) {       \\
        const Py_ssize_t L = sizeof(V) / sizeof(T), half = ember_wino_half_row(t.TW);   \\
        const Py_ssize_t tiles = t.TH * t.TW;                                           \\
        const T* zeros = split + 4 * half;                                              \\
        Py_ssize_t j, r, oh, ty, tx, i, n;                                              \\
        for (ty = 0; ty < t.TH; ty++) {                                                 \\
            const T* rows[2];                                                           \\
            for (r = 0; r < 2; r++) {  /* row 2ty + r as even columns, then odd ones */ \\
                T* even = split + r * 2 * half;                                         \\
                const T* row;                                                           \\
                oh = 2 * ty + r;                                                        \\
                rows[r] = oh < t.OH ? even : zeros;                                     \\
                if (oh >= t.OH) continue;                                               \\
                row = src + oh * t.OW;                                                  \\
                for (j = 0; j < t.OW / 2; j++) {                                        \\
                    even[j] = row[2 * j];                                               \\
                    even[half + j] = row[2 * j + 1];                                    \\
                }                                                                       \\
                if (t.OW % 2) even[t.OW / 2] = row[t.OW - 1];                           \\
            }                                                                           \\
            for (tx = 0; tx < t.TW; tx += L) {                                          \\
                const Py_ssize_t at = ty * t.TW + tx;                                   \\
                V h[2][4];                                                              \\
                n = at + L <= tiles ? L : t.TW - tx;                                    \\
                for (r = 0; r < 2; r++) {  /* dy A^T along tile row r */                \\
                    V e, o;                                                             \\
                    memcpy(&e, rows[r] + tx, sizeof e);                                 \\
                    memcpy(&o, rows[r] + half + tx, sizeof o);                          \\
                    h[r][0] = e;                                                        \\
                    h[r][1] = e + o;                                                    \\
                    h[r][2] = e - o;                                                    \\
                    h[r][3] = -o;                                                       \\
                }                                                                       \\
                for (j = 0; j < 4; j++) {  /* A down column j */                        \\
                    V v[4] = {h[0][j], h[0][j] + h[1][j], h[0][j] - h[1][j], -h[1][j]};  \\
                    for (i = 0; i < 4; i++)                                             \\
                        ember_wino_store_##S(dst + (4 * i + j) * xs + at, &v[i], n);     \\
                }                                                                       \\
            }                                                                           \\
        }                                                                               \\
    }
    EMBER_WINO_PLANES(float, ember_wino_vf, f)
    EMBER_WINO_PLANES(double, ember_wino_vd, d)
    """
    ctypedef struct ember_wino_tiling:
        Py_ssize_t H, W, pH, pW, OH, OW, TH, TW
    Py_ssize_t ember_wino_split_size(Py_ssize_t TH, Py_ssize_t TW) noexcept nogil
    void ember_wino_input_plane_f(const float* src, float* dst, Py_ssize_t xs, float* split,
                                  ember_wino_tiling t) noexcept nogil
    void ember_wino_input_plane_d(const double* src, double* dst, Py_ssize_t xs, double* split,
                                  ember_wino_tiling t) noexcept nogil
    Py_ssize_t ember_wino_rows_size(Py_ssize_t TH, Py_ssize_t TW) noexcept nogil
    void ember_wino_output_plane_f(const float* src, Py_ssize_t xs, float* dst, float bias,
                                   float* rows, ember_wino_tiling t) noexcept nogil
    void ember_wino_output_plane_d(const double* src, Py_ssize_t xs, double* dst, double bias,
                                   double* rows, ember_wino_tiling t) noexcept nogil
    Py_ssize_t ember_wino_gather_size(Py_ssize_t TW) noexcept nogil
    void ember_wino_gather_plane_f(const float* src, float* dst, Py_ssize_t xs, float* split,
                                   ember_wino_tiling t) noexcept nogil
    void ember_wino_gather_plane_d(const double* src, double* dst, Py_ssize_t xs, double* split,
                                   ember_wino_tiling t) noexcept nogil


ctypedef ember_wino_tiling Tiling


cdef Tiling _tiling(Py_ssize_t H, Py_ssize_t W, Py_ssize_t pH, Py_ssize_t pW,
                    Py_ssize_t OH, Py_ssize_t OW):
    cdef Tiling t
    t.H, t.W, t.pH, t.pW, t.OH, t.OW = H, W, pH, pW, OH, OW
    t.TH = (OH + 1) // 2
    t.TW = (OW + 1) // 2
    return t


cdef inline void _tile_plane(const floating* src, floating* dst, Py_ssize_t xs, floating* split,
                             Tiling t, bint gather) noexcept nogil:
    # an input plane into its transformed tiles, or with ``gather`` an output-gradient plane
    if gather:
        if floating is float:
            ember_wino_gather_plane_f(src, dst, xs, split, t)
        else:
            ember_wino_gather_plane_d(src, dst, xs, split, t)
    elif floating is float:
        ember_wino_input_plane_f(src, dst, xs, split, t)
    else:
        ember_wino_input_plane_d(src, dst, xs, split, t)


cdef inline void _output_plane(const floating* src, Py_ssize_t xs, floating* dst, floating bias,
                               floating* rows, Tiling t) noexcept nogil:
    if floating is float:
        ember_wino_output_plane_f(src, xs, dst, bias, rows, t)
    else:
        ember_wino_output_plane_d(src, xs, dst, bias, rows, t)


cdef enum:
    # the thread policy counts element operations; a transformed element (a few adds
    # and a store, in a vector's lane) counts as a quarter of one
    _TRANSFORM_ELEMENTS_PER_WORK = 4
    # the 16 matrices of a workspace sit this many elements beyond each other's end:
    # at a distance of a power of two the 16 streams of a transform share cache sets
    _SKEW = 16


cdef void _tiles_all(const floating[:, :, ::1] x, floating[:, :, :] v, floating[:, ::1] split,
                     Tiling t, int threads, bint gather) noexcept:
    # each plane of x into its tiles of v: the input transform, or with ``gather`` that
    # of an output gradient (the input gradient's convolution)
    cdef Py_ssize_t p, n = x.shape[0] * x.shape[1], C = x.shape[1], tiles = t.TH * t.TW
    cdef Py_ssize_t xi_stride = v.strides[0] // sizeof(floating)
    with nogil:
        for p in prange(n, schedule="static", num_threads=threads):
            _tile_plane(&x[p // C, p % C, 0], &v[0, p % C, (p // C) * tiles], xi_stride,
                        &split[threadid(), 0], t, gather)


cdef void _output_all(const floating[:, :, :] m, floating[:, :, ::1] y, const floating[::1] bias,
                      floating[:, ::1] rows, Tiling t, int threads) noexcept:
    cdef Py_ssize_t p, n = y.shape[0] * y.shape[1], C = y.shape[1], tiles = t.TH * t.TW
    cdef Py_ssize_t xi_stride = m.strides[0] // sizeof(floating)
    with nogil:
        for p in prange(n, schedule="static", num_threads=threads):
            _output_plane(&m[0, p % C, (p // C) * tiles], xi_stride, &y[p // C, p % C, 0],
                          bias[p % C], &rows[threadid(), 0], t)


cdef _tiles(x, v, split, Tiling t, int threads, bint gather=False):
    """Checked arrays: ``x (N, C, H*W)`` C-contiguous (with ``gather``, an output
    gradient ``(N, C, OH*OW)``), ``v`` 16 stacked matrices, ``split`` zeroed
    ``(threads, ember_wino_split_size)`` scratch (``ember_wino_gather_size`` with
    ``gather``; kept for planes of one tiling)."""
    if x.dtype == np.float32:
        _tiles_all[float](x, v, split, t, threads, gather)
    else:
        _tiles_all[double](x, v, split, t, threads, gather)


cdef _output(m, y, bias, rows, Tiling t, int threads):
    """Checked arrays: ``m`` 16 stacked matrices, ``y (N, C, OH*OW)``, ``bias (C,)``,
    ``rows`` scratch ``(threads, ember_wino_rows_size)``."""
    if y.dtype == np.float32:
        _output_all[float](m, y, bias, rows, t, threads)
    else:
        _output_all[double](m, y, bias, rows, t, threads)


def _float_array(a, name, ndim):
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64) or a.ndim != ndim:
        raise ValueError(f"winograd: {name} must be a {ndim}-d float32 or float64 array, got "
                         f"{getattr(a, 'dtype', type(a).__name__)} of shape {getattr(a, 'shape', None)}")


def _stacked(a):
    """``a`` as 16 C-contiguous matrices at any distance from each other (a workspace
    may space them so that the 16 streams of a transform do not share cache sets)."""
    if a.shape[0] != 16 or not a[0].flags.c_contiguous or a.strides[0] % a.itemsize:
        return np.ascontiguousarray(a)
    if a.strides[0] < a[0].size * a.itemsize:
        raise ValueError(f"winograd: the 16 matrices of shape {a.shape[1:]} overlap")
    return a


def _matrices(buf, rows, cols):
    """16 C-contiguous matrices ``(rows, cols)`` at the starts of ``buf``'s rows."""
    return buf[:, :rows * cols].reshape(16, rows, cols)


cdef Tiling _image_tiling(x, padding) except *:
    N, C, H, W = x.shape
    pH, pW = int(padding[0]), int(padding[1])
    if pH < 0 or pW < 0 or H + 2 * pH < 3 or W + 2 * pW < 3:
        raise ValueError(f"winograd: padding {tuple(padding)} of a {H}x{W} image leaves no 3x3 block")
    return _tiling(H, W, pH, pW, H + 2 * pH - 2, W + 2 * pW - 2)


def _bias(bias, channels, dtype):
    b = np.zeros(channels, dtype=dtype) if bias is None else np.ascontiguousarray(bias, dtype=dtype)
    if b.shape != (channels,):
        raise ValueError(f"winograd: bias of shape {b.shape} for {channels} channels")
    return b


# G's rows (1, 0, 0), (1, 1, 1)/2, (1, -1, 1)/2, (0, 0, 1): G g G^T of a 3x3 kernel g,
# flattened, is _KRON @ g.ravel() (_KRON[4i + j, 3a + b] = G[i, a] G[j, b])
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_KRON = {np.dtype(t): np.kron(_G, _G).astype(t) for t in (np.float32, np.float64)}


def transform_weight(w, flip=False):
    """``(Co, Ci, 3, 3)`` kernels -> ``U (16, Co, Ci)``, ``U[4i + j] = (G g G^T)[i, j]``;
    with ``flip``, of the kernels flipped in both dims (their 9 taps reversed)."""
    _float_array(w, "weight", 4)
    if w.shape[2:] != (3, 3):
        raise ValueError(f"winograd: the kernel must be 3x3, got {w.shape[2]}x{w.shape[3]}")
    kron = _KRON[w.dtype][:, ::-1] if flip else _KRON[w.dtype]
    return (kron @ w.reshape(-1, 9).T).reshape(16, w.shape[0], w.shape[1])


def transform_input(x, padding, out=None):
    """Image ``(N, C, H, W)`` padded by ``padding = (pH, pW)`` zeros on each side ->
    tiles ``V (16, C, N * TH * TW)`` (into ``out`` when given: 16 C-contiguous matrices)."""
    _float_array(x, "image", 4)
    cdef Tiling t = _image_tiling(x, padding)
    N, C, H, W = x.shape
    shape = (16, C, N * t.TH * t.TW)
    if out is None:
        out = np.empty(shape, dtype=x.dtype)
    elif not isinstance(out, np.ndarray) or out.dtype != x.dtype or out.shape != shape:
        raise ValueError(f"winograd: out must be a {x.dtype} array of shape {shape}")
    elif _stacked(out) is not out:
        raise ValueError("winograd: out must be 16 C-contiguous matrices")
    if out.size:
        threads = num_threads_for(N * C, out.size // _TRANSFORM_ELEMENTS_PER_WORK)
        split = np.zeros((threads, ember_wino_split_size(t.TH, t.TW)), dtype=x.dtype)
        _tiles(np.ascontiguousarray(x).reshape(N, C, H * W), out, split, t, threads)
    return out


def transform_output(m, out, bias=None):
    """Products ``M (16, Co, N * TH * TW)`` -> ``out (N, Co, OH, OW)`` (C-contiguous),
    plus ``bias (Co,)`` when given; returns ``out``."""
    _float_array(m, "products", 3)
    _float_array(out, "out", 4)
    N, C, OH, OW = out.shape
    cdef Tiling t = _tiling(0, 0, 0, 0, OH, OW)
    if m.shape != (16, C, N * t.TH * t.TW) or m.dtype != out.dtype or not out.flags.c_contiguous:
        raise ValueError(f"winograd: products of shape {m.shape} do not make a C-contiguous output "
                         f"of shape {out.shape} ({out.dtype})")
    b = _bias(bias, C, out.dtype)
    if out.size:
        threads = num_threads_for(N * C, m.size // _TRANSFORM_ELEMENTS_PER_WORK)
        rows = np.empty((threads, ember_wino_rows_size(t.TH, t.TW)), dtype=out.dtype)
        _output(_stacked(m), out.reshape(N, C, OH * OW), b, rows, t, threads)
    return out


# ------------------------------------------------------------------ the convolution
#: Bytes of transformed tiles per chunk of samples: a chunk's tiles stay in cache
#: from its input transform through its products to its output transform.
CHUNK_BYTES = 1 << 19


def _each(fn, Py_ssize_t count, int threads):
    """``fn(thread, i)`` for every ``i < count``, on ``threads`` threads of the OpenMP
    team, each taking the next ``i`` when done with one (a core that another process
    holds slows only the items its thread takes). The threads hold the GIL only
    between the kernels and the products, which release it."""
    cdef Py_ssize_t i
    if threads == 1:
        for i in range(count):
            fn(0, i)
        return
    with nogil:
        for i in prange(count, schedule="dynamic", num_threads=threads):
            with gil:
                fn(threadid(), i)


def _products(a, b, out, int threads):
    """``out[xi] = a[xi] @ b[xi]`` for the 16 positions, in groups of 4 shared out
    between ``threads`` threads (with one BLAS thread each) when there are more."""
    if threads == 1:
        return np.matmul(a, b, out=out)
    _each(lambda thread, i: np.matmul(a[4 * i:4 * i + 4], b[4 * i:4 * i + 4], out=out[4 * i:4 * i + 4]),
          4, threads)
    return out


class _Plan:
    """How one call goes: ``chunks`` of samples ``(start, size)``, each done by one of
    ``threads`` threads when there are several chunks (``inner`` = 1), else one after
    the other with each step on ``inner`` threads; ``step`` samples at most per chunk.

    A chunk holds ``CHUNK_BYTES`` of transformed tiles, but at least a quarter as many
    tiles as the widest channel count: each chunk's products read all of ``U``, and
    with fewer tiles reading ``U`` costs more than the multiplies (measured: 256 and
    512 channels on 8x8 and 4x4 images; a whole channel count of tiles was slower)."""

    def __init__(self, n, per_sample, itemsize, tiles, channels):
        work = n * per_sample // _TRANSFORM_ELEMENTS_PER_WORK
        # a single sample still splits (its planes and products), so the work decides
        self.threads = num_threads_for(n * per_sample, work)
        by_bytes = min(-(-n // self.threads), CHUNK_BYTES // max(1, per_sample * itemsize))
        self.step = max(1, min(n, max(by_bytes, -(-channels // max(1, 4 * tiles)))))
        self.chunks = [(s, min(self.step, n - s)) for s in range(0, n, self.step)]
        if len(self.chunks) < 2:
            self.threads, self.inner = 1, self.threads
        else:
            self.inner = 1

    def run(self, fn, make_workspace):
        """``fn(workspace, start, size)`` for every chunk, a workspace (what
        ``make_workspace()`` returns) per thread; returns the workspaces made."""
        workspaces = [None] * self.threads

        def chunk(thread, i):
            if workspaces[thread] is None:
                workspaces[thread] = make_workspace()
            fn(workspaces[thread], *self.chunks[i])

        _each(chunk, len(self.chunks), self.threads)
        return [w for w in workspaces if w is not None]


def conv2d(x, weight, padding, bias=None, transposed=False):
    """Stride-1 3x3 cross-correlation of ``x (N, Ci, H, W)`` with ``weight (Co, Ci, 3, 3)``
    (same float dtype), zero padding ``(pH, pW)``, plus ``bias (Co,)`` when given ->
    ``(N, Co, H + 2 pH - 2, W + 2 pW - 2)``.

    ``transposed``: the stride-1 transposed convolution with ``weight (Ci, Co, 3, 3)``
    instead (padding at most 2) -> ``(N, Co, H - 2 pH + 2, W - 2 pW + 2)``, which is
    the convolution with the kernel flipped in both dims, padded by ``2 - p``.

    The samples go in chunks, each transformed, multiplied (with one BLAS thread) and
    transformed back by one thread while its tiles stay in cache; a single chunk has
    each of these steps split between the threads."""
    _float_array(x, "image", 4)
    _float_array(weight, "weight", 4)
    if weight.dtype != x.dtype or weight.shape[0 if transposed else 1] != x.shape[1]:
        raise ValueError(f"winograd: weight {weight.dtype} {weight.shape} does not fit image "
                         f"{x.dtype} {x.shape}")
    if transposed:
        if max(padding) > 2:
            raise ValueError(f"winograd: a transposed convolution takes padding up to 2, not {tuple(padding)}")
        padding = tuple(2 - int(p) for p in padding)
    with one_blas_thread():
        return _conv2d(x, weight, padding, bias, transposed)


def _conv2d(x, weight, padding, bias, transposed):
    u = transform_weight(weight, flip=transposed)
    if transposed:
        u = u.transpose(0, 2, 1)
    cdef Tiling t = _image_tiling(x, padding)
    N, Ci, H, W = x.shape
    Co = u.shape[1]
    out = np.empty((N, Co, t.OH, t.OW), dtype=x.dtype)
    if out.size == 0:
        return out
    b = _bias(bias, Co, x.dtype)
    tiles = t.TH * t.TW
    plan = _Plan(N, 16 * max(Ci, Co) * tiles, x.itemsize, tiles, max(Ci, Co))
    inner = plan.inner
    xs = np.ascontiguousarray(x).reshape(N, Ci, H * W)
    ys = out.reshape(N, Co, t.OH * t.OW)

    def workspace():
        return (np.empty((16, Ci * plan.step * tiles + _SKEW), dtype=x.dtype),
                np.empty((16, Co * plan.step * tiles + _SKEW), dtype=x.dtype),
                np.zeros((inner, ember_wino_split_size(t.TH, t.TW)), dtype=x.dtype),
                np.empty((inner, ember_wino_rows_size(t.TH, t.TW)), dtype=x.dtype))

    def chunk(buffers, s, k):
        v_buf, m_buf, split, rows = buffers
        v = _matrices(v_buf, Ci, k * tiles)
        _tiles(xs[s:s + k], v, split, t, inner)
        m = _products(u, v, _matrices(m_buf, Co, k * tiles), inner)
        _output(m, ys[s:s + k], b, rows, t, inner)

    plan.run(chunk, workspace)
    return out


def conv2d_weight_grad(x, dy, padding):
    """The gradient of ``conv2d(x, weight, padding)`` with respect to ``weight``,
    given the gradient ``dy (N, Co, OH, OW)`` of its output -> ``(Co, Ci, 3, 3)``:
    ``G^T [sum over tiles of (A dy A^T) (B^T x B)] G``, the sum as 16 products per
    chunk, added up per thread."""
    _float_array(x, "image", 4)
    _float_array(dy, "output gradient", 4)
    cdef Tiling t = _image_tiling(x, padding)
    N, Ci, H, W = x.shape
    Co = dy.shape[1]
    if dy.dtype != x.dtype or dy.shape != (N, Co, t.OH, t.OW):
        raise ValueError(f"winograd: output gradient {dy.dtype} {dy.shape} does not fit image "
                         f"{x.dtype} {x.shape} with padding {tuple(padding)}")
    with one_blas_thread():
        return _weight_grad(x, dy, padding)


def _weight_grad(x, dy, padding):
    cdef Tiling t = _image_tiling(x, padding)
    N, Ci, H, W = x.shape
    Co = dy.shape[1]
    tiles = t.TH * t.TW
    plan = _Plan(N, 16 * (Ci + Co) * tiles, x.itemsize, tiles, max(Ci, Co))
    inner = plan.inner
    xs = np.ascontiguousarray(x).reshape(N, Ci, H * W)
    dys = np.ascontiguousarray(dy).reshape(N, Co, t.OH * t.OW)

    def workspace():
        return (np.empty((16, Ci * plan.step * tiles + _SKEW), dtype=x.dtype),
                np.empty((16, Co * plan.step * tiles + _SKEW), dtype=x.dtype),
                np.zeros((inner, ember_wino_split_size(t.TH, t.TW)), dtype=x.dtype),
                np.zeros((inner, ember_wino_gather_size(t.TW)), dtype=x.dtype),
                np.zeros((16, Co, Ci), dtype=x.dtype),
                np.empty((16, Co, Ci), dtype=x.dtype))

    def chunk(buffers, s, k):
        v_buf, y_buf, split, rows, du, product = buffers
        v = _matrices(v_buf, Ci, k * tiles)
        _tiles(xs[s:s + k], v, split, t, inner)
        y = _matrices(y_buf, Co, k * tiles)
        _tiles(dys[s:s + k], y, rows, t, inner, gather=True)
        du += _products(y, v.transpose(0, 2, 1), product, inner)

    du = sum((w[4] for w in plan.run(chunk, workspace)), np.zeros((16, Co, Ci), dtype=x.dtype))
    return (du.reshape(16, -1).T @ _KRON[x.dtype]).reshape(Co, Ci, 3, 3)
