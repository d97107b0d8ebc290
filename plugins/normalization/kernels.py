"""The normalization family's kernels: generic (array-namespace) ones, which define
what the Cython kernels in ``_norm.pyx`` (CPU) and the CuPy kernels in ``cuda.py``
(cuda backend) compute, and those.

``normalization.batch_norm_forward(x, weight, bias, eps) -> (y, mean, var)``
    ``x`` is ``(A, C, B)``; per channel ``c`` the mean and the biased variance of
    ``x[:, c, :]`` (float64), and ``y = (x - mean) / sqrt(var + eps) * weight + bias``
    (``weight``/``bias`` may be None).
``normalization.batch_norm_backward(g, x, mean, var, eps, weight, want_dx) -> (dx, dw, db)``
    the gradients of that map given the output gradient ``g`` (``dx`` None unless
    ``want_dx``).
``normalization.group_norm_forward(x, groups, weight, bias, eps) -> (y, mean, var)``
    ``x`` is ``(N, C, S)``; statistics per sample and group of ``C // groups``
    channels (float64, ``(N * groups,)``), then ``y * weight[c] + bias[c]``. Layer
    norm is the case ``(rows, K, 1)`` with one group.
``normalization.group_norm_backward(g, x, mean, var, eps, groups, weight, want_dx) -> (dx, dw, db)``
    its gradients.
``normalization.rms_norm_forward(x, weight, eps) -> (y, ms)``
    ``x`` is ``(R, K)``; each row's mean square (float64 ``(R,)``), and
    ``y = x / sqrt(ms + eps) * weight`` (``weight`` ``(K,)`` or None).
``normalization.rms_norm_backward(g, x, ms, eps, weight, want_dx) -> (dx, dw)``
    its gradients (``dx`` None unless ``want_dx``).
``normalization.running_stats_update(running_mean, running_var, mean, var, momentum, unbias)``
    in place, ``running = (1 - momentum) * running + momentum * stat``, the
    variance's statistic being ``var * unbias`` (either buffer may be None).
"""

from ember import kernels


def _forward_factory(xp):
    def batch_norm_forward(x, weight, bias, eps):
        f64 = xp.float64
        mean = x.mean(axis=(0, 2), dtype=f64)
        xc = x.astype(f64) - mean[None, :, None]
        var = (xc * xc).mean(axis=(0, 2))
        scale = 1.0 / xp.sqrt(var + eps)
        if weight is not None:
            scale = scale * weight.astype(f64)
        y = xc * scale[None, :, None]
        if bias is not None:
            y += bias.astype(f64)[None, :, None]
        return y.astype(x.dtype), mean, var

    return batch_norm_forward


def _backward_factory(xp):
    def batch_norm_backward(g, x, mean, var, eps, weight, want_dx=True):
        f64 = xp.float64
        n = x.shape[0] * x.shape[2]
        xc = x.astype(f64) - mean[None, :, None]
        g64 = g.astype(f64)
        sg = g64.sum(axis=(0, 2))
        sgx = (g64 * xc).sum(axis=(0, 2))
        inv = 1.0 / xp.sqrt(var + eps)
        dw = (sgx * inv).astype(x.dtype)
        db = sg.astype(x.dtype)
        dx = None
        if want_dx:
            k1 = inv if weight is None else inv * weight.astype(f64)
            k2 = -k1 * inv * inv * sgx / n
            dx = (g64 - (sg / n)[None, :, None]) * k1[None, :, None] + xc * k2[None, :, None]
            dx = dx.astype(x.dtype)
        return dx, dw, db

    return batch_norm_backward


def _grouped(xp, x, groups):
    """``(N, C, S)`` as float64 ``(N, groups, C // groups, S)``."""
    n, c, s = x.shape
    return x.astype(xp.float64).reshape(n, groups, c // groups, s)


def _group_forward_factory(xp):
    def group_norm_forward(x, groups, weight, bias, eps):
        x4 = _grouped(xp, x, groups)
        mean = x4.mean(axis=(2, 3))
        xc = x4 - mean[:, :, None, None]
        var = (xc * xc).mean(axis=(2, 3))
        y = (xc / xp.sqrt(var + eps)[:, :, None, None]).reshape(x.shape)
        if weight is not None:
            y = y * weight.astype(xp.float64)[None, :, None]
        if bias is not None:
            y = y + bias.astype(xp.float64)[None, :, None]
        return y.astype(x.dtype), mean.reshape(-1), var.reshape(-1)

    return group_norm_forward


def _group_backward_factory(xp):
    def group_norm_backward(g, x, mean, var, eps, groups, weight, want_dx=True):
        n, c, s = x.shape
        inv = (1.0 / xp.sqrt(var + eps)).reshape(n, groups, 1, 1)
        xhat = ((_grouped(xp, x, groups) - mean.reshape(n, groups, 1, 1)) * inv).reshape(x.shape)
        g64 = g.astype(xp.float64)
        dw = (g64 * xhat).sum(axis=(0, 2)).astype(x.dtype)
        db = g64.sum(axis=(0, 2)).astype(x.dtype)
        dx = None
        if want_dx:
            gw = g64 if weight is None else g64 * weight.astype(xp.float64)[None, :, None]
            gw4 = gw.reshape(n, groups, c // groups, s)
            xhat4 = xhat.reshape(gw4.shape)
            dx = inv * (gw4 - gw4.mean(axis=(2, 3), keepdims=True)
                        - xhat4 * (gw4 * xhat4).mean(axis=(2, 3), keepdims=True))
            dx = dx.reshape(x.shape).astype(x.dtype)
        return dx, dw, db

    return group_norm_backward


def _rms_forward_factory(xp):
    def rms_norm_forward(x, weight, eps):
        x64 = x.astype(xp.float64)
        ms = (x64 * x64).mean(axis=1)
        y = x64 / xp.sqrt(ms + eps)[:, None]
        if weight is not None:
            y *= weight.astype(xp.float64)
        return y.astype(x.dtype), ms

    return rms_norm_forward


def _rms_backward_factory(xp):
    def rms_norm_backward(g, x, ms, eps, weight, want_dx=True):
        inv = (1.0 / xp.sqrt(ms + eps))[:, None]
        xhat = x.astype(xp.float64) * inv
        g64 = g.astype(xp.float64)
        dw = (g64 * xhat).sum(axis=0).astype(x.dtype)
        dx = None
        if want_dx:
            gw = g64 if weight is None else g64 * weight.astype(xp.float64)
            dx = (inv * (gw - xhat * (gw * xhat).mean(axis=1, keepdims=True))).astype(x.dtype)
        return dx, dw

    return rms_norm_backward


def _running_stats_factory(xp):
    def running_stats_update(running_mean, running_var, mean, var, momentum, unbias):
        for buffer, stat in ((running_mean, mean), (running_var, var * unbias)):
            if buffer is not None:
                xp.copyto(buffer, buffer * (1.0 - momentum) + stat * momentum, casting="unsafe")

    return running_stats_update


GENERIC_KERNELS = {
    "normalization.group_norm_forward": _group_forward_factory,
    "normalization.group_norm_backward": _group_backward_factory,
    "normalization.batch_norm_forward": _forward_factory,
    "normalization.batch_norm_backward": _backward_factory,
    "normalization.rms_norm_forward": _rms_forward_factory,
    "normalization.rms_norm_backward": _rms_backward_factory,
    "normalization.running_stats_update": _running_stats_factory,
}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from .cuda import KERNELS as cuda

    try:
        from . import _norm
    except ImportError:  # not built: the generic kernels serve the CPU too
        return kernels.table(GENERIC_KERNELS, cuda=cuda)
    return kernels.table(GENERIC_KERNELS, cuda=cuda, cpu={
        "normalization.batch_norm_forward": _norm.batch_norm_forward,
        "normalization.batch_norm_backward": _norm.batch_norm_backward,
        "normalization.group_norm_forward": _norm.group_norm_forward,
        "normalization.group_norm_backward": _norm.group_norm_backward,
        "normalization.rms_norm_forward": _norm.rms_norm_forward,
        "normalization.rms_norm_backward": _norm.rms_norm_backward,
    })
