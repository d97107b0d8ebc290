"""The generic kernels of ``F.grid_sample`` (``grid_sample.py``), written once for
NumPy and CuPy:

* ``vision.grid_sample(x, grid, mode, padding_mode, align_corners)``: ``x`` of
  ``(N, C, *spatial)``, ``grid`` of ``(N, *out, nd)``; returns ``(N, C, *out)``;
* ``vision.grid_sample_backward(grad, x, grid, mode, padding_mode, align_corners,
  need_input)``: the gradients ``(of x or None, of grid)``.

Every point reads a few *taps* of the image: the corners around it (bilinear,
trilinear), the nearest pixel, or a 4x4 block (bicubic), each a flat offset, an
inside-the-image mask (a tap outside reads 0) and a weight. The sums follow
torch's CPU kernel (bicubic: each row over x, then the rows), so the float32
results round as torch's do.
"""

import math

from .grid_sample import cubic_slopes, cubic_weights, pad, scale, source, unnormalize
from .kernels import _opmath


def _tap(xp, positions, spatial):
    """Flat offset and inside mask of one tap from its (float) position on every axis."""
    inside = None
    for p, size in zip(positions, spatial):
        ok = (p > -1) & (p < size)
        inside = ok if inside is None else inside & ok
    offset = 0
    for p, size in zip(positions, spatial):  # only positions inside are cast
        offset = offset * size + xp.where(inside, p, 0).astype(xp.int64)
    return offset, inside


def _values(xp, flat, offset, inside):
    """``flat`` ``(N, C, P)`` at the taps ``(N, Q)``: ``(N, C, Q)``, 0 outside."""
    found = xp.take_along_axis(flat, offset[:, None, :], axis=2)
    return xp.where(inside[:, None, :], found, 0)


def _axes(xp, grid, spatial, padding_mode, align_corners):
    """Per image axis (slowest first): the padded pixel coordinates of the points and
    their slopes. ``grid``'s last axis runs the other way (x first)."""
    nd = len(spatial)
    return [source(xp, grid[..., nd - 1 - a], size, padding_mode, align_corners)
            for a, size in enumerate(spatial)]


def _corners(xp, coords, spatial):
    """The 2**nd corners around the points: ``(offset, inside, weight, slopes)``,
    ``slopes[a]`` the weight's derivative along axis ``a``."""
    lows = [xp.floor(c) for c in coords]
    fracs = [c - lo for c, lo in zip(coords, lows)]
    nd = len(spatial)
    for corner in range(1 << nd):
        highs = [(corner >> (nd - 1 - a)) & 1 for a in range(nd)]
        factors = [f if h else 1 - f for f, h in zip(fracs, highs)]
        weight = factors[0]
        for f in factors[1:]:
            weight = weight * f
        slopes = []
        for a in range(nd):
            s = 1 if highs[a] else -1
            for b in range(nd):
                if b != a:
                    s = s * factors[b]
            slopes.append(s)
        offset, inside = _tap(xp, [lo + h for lo, h in zip(lows, highs)], spatial)
        yield offset, inside, weight, slopes


def _bicubic_taps(xp, grid, spatial, padding_mode, align_corners):
    """The 4x4 taps of bicubic sampling, row by row: ``(offset, inside)`` per tap,
    and the weights and weight slopes of the rows (y) and columns (x)."""
    y, x = (unnormalize(grid[..., 1 - a], size, align_corners) for a, size in enumerate(spatial))
    y0, x0 = xp.floor(y), xp.floor(x)
    rows = [pad(xp, y0 + (i - 1), spatial[0], padding_mode, align_corners) for i in range(4)]
    cols = [pad(xp, x0 + (j - 1), spatial[1], padding_mode, align_corners) for j in range(4)]
    taps = [[_tap(xp, (r, c), spatial) for c in cols] for r in rows]
    return taps, (cubic_weights(y - y0), cubic_weights(x - x0)), (cubic_slopes(y - y0), cubic_slopes(x - x0))


def _prepare(x, grid):
    """Arrays in the dtype the sums run in: ``(N, C, P)`` image, ``(N, Q, nd)`` grid."""
    t = _opmath(x.dtype)
    n, c = x.shape[:2]
    points = math.prod(grid.shape[1:-1])
    return (x.astype(t, copy=False).reshape(n, c, math.prod(x.shape[2:])),
            grid.astype(t, copy=False).reshape(n, points, grid.shape[-1]))


def _forward(xp):
    def grid_sample(x, grid, mode, padding_mode, align_corners):
        spatial = tuple(x.shape[2:])
        flat, g = _prepare(x, grid)
        if mode == "bicubic":
            taps, (wy, wx), _ = _bicubic_taps(xp, g, spatial, padding_mode, align_corners)
            out = 0
            for i, row in enumerate(taps):
                across = 0
                for j, (offset, inside) in enumerate(row):
                    across = across + wx[j][:, None] * _values(xp, flat, offset, inside)
                out = out + wy[i][:, None] * across
        else:
            coords = [c for c, _ in _axes(xp, g, spatial, padding_mode, align_corners)]
            if mode == "nearest":
                out = _values(xp, flat, *_tap(xp, [xp.rint(c) for c in coords], spatial))
            else:
                out = 0
                for offset, inside, weight, _ in _corners(xp, coords, spatial):
                    out = out + _values(xp, flat, offset, inside) * weight[:, None]
        shape = tuple(x.shape[:2]) + tuple(grid.shape[1:-1])
        return xp.asarray(out, dtype=x.dtype).reshape(shape)
    return grid_sample


def _scatter(xp, target, offset, inside, values):
    """``target[n, offset[n, q], c] += values[n, c, q]`` where ``inside``: the input's
    gradient (``target`` is ``(N, P, C)``, C last, so a tap adds a row). A weighted
    ``bincount`` over the flat positions: one pass, where ``add.at`` over rows took
    several times longer."""
    batch, point = xp.nonzero(inside)
    _, positions, channels = target.shape
    rows = (batch * positions + offset[batch, point]) * channels
    flat = (rows[:, None] + xp.arange(channels)).reshape(-1)
    target += xp.bincount(flat, weights=values[batch, :, point].reshape(-1),
                          minlength=target.size).reshape(target.shape).astype(target.dtype, copy=False)


def _backward(xp):
    def grid_sample_backward(grad, x, grid, mode, padding_mode, align_corners, need_input):
        spatial, nd = tuple(x.shape[2:]), len(x.shape) - 2
        flat, g = _prepare(x, grid)
        go = grad.astype(flat.dtype, copy=False).reshape(flat.shape[:2] + g.shape[1:2])
        gin = xp.zeros((flat.shape[0], flat.shape[2], flat.shape[1]), dtype=flat.dtype) if need_input else None
        sums = [0] * nd  # per axis: the output's slope along it, per channel
        if mode == "bicubic":
            taps, (wy, wx), (sy, sx) = _bicubic_taps(xp, g, spatial, padding_mode, align_corners)
            slopes = [scale(size, align_corners) for size in spatial]
            for i, row in enumerate(taps):
                for j, (offset, inside) in enumerate(row):
                    if need_input:
                        _scatter(xp, gin, offset, inside, go * (wx[j] * wy[i])[:, None])
                    v = _values(xp, flat, offset, inside)
                    sums[0] = sums[0] + v * (sy[i] * wx[j])[:, None]
                    sums[1] = sums[1] + v * (wy[i] * sx[j])[:, None]
        else:
            axes = _axes(xp, g, spatial, padding_mode, align_corners)
            coords, slopes = [c for c, _ in axes], [s for _, s in axes]
            if mode == "nearest":
                offset, inside = _tap(xp, [xp.rint(c) for c in coords], spatial)
                if need_input:
                    _scatter(xp, gin, offset, inside, go)
            else:
                for offset, inside, weight, dw in _corners(xp, coords, spatial):
                    if need_input:
                        _scatter(xp, gin, offset, inside, go * weight[:, None])
                    v = _values(xp, flat, offset, inside)
                    sums = [s + v * d[:, None] for s, d in zip(sums, dw)]
        ggrid = xp.zeros(g.shape, dtype=g.dtype)
        if mode != "nearest":
            for a in range(nd):
                ggrid[..., nd - 1 - a] = (sums[a] * go).sum(axis=1) * slopes[a]
        gin = None if gin is None else xp.asarray(gin.transpose(0, 2, 1), dtype=x.dtype).reshape(x.shape)
        return gin, xp.asarray(ggrid, dtype=grid.dtype).reshape(grid.shape)
    return grid_sample_backward


#: op -> generic kernel factory.
GENERIC_KERNELS = {
    "vision.grid_sample": _forward,
    "vision.grid_sample_backward": _backward,
}
