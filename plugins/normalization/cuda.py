"""The cuda backend's kernels for the normalization family: CuPy reduction kernels
for the statistics and one element-wise kernel for the normalizing, computing what
the generic kernels of ``kernels.py`` compute (see its docstring for the ops).

Batch, group, layer and RMS norm share three reductions, each accumulating in
float64 the mapped values times a scale it is given (``1 / n`` gives the mean of
``n`` values, 1 the plain sum):

* ``weighted_mean``: the mean of ``x * w`` (the statistics' mean, and the
  gradient's sums ``sum(g)`` and ``mean(g * w)``);
* ``centred_mean_square``: the mean of ``(x - m)**2`` (the variance; RMS norm's
  mean square is the case ``m = 0``);
* ``weighted_xhat_mean``: the mean of ``g * w * xhat``, ``xhat = (x - m) * inv``
  (the weight's gradient and the input gradient's projection).

Each op then does its element-wise work in one launch: ``normalize`` (the output,
affine included) forward, ``normalize_grad`` (group, layer and RMS norm) or
``batch_norm_grad`` (which also writes the channel's weight and bias gradients)
backward. An absent weight is the scalar 1 and an absent bias the scalar 0 (exact
in float64), and RMS norm is the case ``m = 0``, so one kernel serves every op.
``1 / sqrt(var + eps)`` is computed once per statistic by ``inv_std``, a launch
over the statistics alone, so that no kernel takes a float64 square root and
division per element. Launches per call (the generic kernels take 10-25):

=================  =======  ===============  ===================
op                 forward  backward (+ dx)  backward (no dx)
=================  =======  ===============  ===================
batch norm         4        4                3
group/layer norm   4        6                3
RMS norm           3        4                2
=================  =======  ===============  ===================

The running statistics of batch (and instance) norm are updated, both buffers, in
one more launch (``running_stats``).

Calls with float16, integer or mixed dtypes, other ranks, empty arrays, or
statistics that are not float64 go to the generic kernels through ``accepts``.
"""

import functools

import numpy as np

from ember.backends.cuda.kernels import on_device, same_floats

_F64 = np.dtype(np.float64)

_MAP_WEIGHTED = "(double)x * (double)w"
_MAP_CENTRED_SQUARE = "((double)x - m) * ((double)x - m)"
_MAP_WEIGHTED_XHAT = "((double)g * (double)w) * (((double)x - m) * inv)"


def _scaled_sum(xp, params, map_expr, name, out):
    """A reduction kernel: the sum of ``map_expr * scale`` (``scale`` its last
    argument: ``1 / n`` for a mean of ``n`` values, 1 for a sum) accumulated in
    float64, its output of type ``out`` ("float64", or the inputs' "T")."""
    cast = "" if out == "float64" else out
    return xp.ReductionKernel(params + ", float64 scale", f"{out} s", f"({map_expr}) * scale",
                              "a + b", f"s = {cast}(a)", "0", f"ember_norm_{name}_{out}",
                              reduce_type="double")


def _inv_std(xp):
    return xp.ElementwiseKernel("float64 v, float64 eps", "float64 inv",
                                "inv = 1.0 / sqrt(v + eps)", "ember_norm_inv_std")


def _normalize(xp):
    return xp.ElementwiseKernel("T x, float64 m, float64 inv, T w, T b", "T y",
                                "y = T(((double)x - m) * inv * (double)w + (double)b)",
                                "ember_norm_normalize")


def _normalize_grad(xp):
    # inv * (gw - mean(gw) - xhat * mean(gw * xhat)), as the generic group norm
    return xp.ElementwiseKernel(
        "T g, T x, float64 m, float64 inv, T w, float64 mgw, float64 mgwx", "T dx",
        "dx = T(inv * (((double)g * (double)w - mgw) - ((double)x - m) * inv * mgwx))",
        "ember_norm_normalize_grad")


def _batch_norm_grad(xp):
    # sg = sum(g), sgx = sum(g * xhat) per channel; element c * inner of the first
    # sample (i < plane) writes channel c's weight and bias gradients
    return xp.ElementwiseKernel(
        "T g, T x, float64 m, float64 inv, T w, float64 sg, float64 sgx, float64 inv_n,"
        " int64 plane, int64 inner", "T dx, raw T dw, raw T db",
        "double xhat = ((double)x - m) * inv;"
        " dx = T(inv * (double)w * (((double)g - sg * inv_n) - xhat * (sgx * inv_n)));"
        " if (i < plane && i % inner == 0) { dw[i / inner] = T(sgx); db[i / inner] = T(sg); }",
        "ember_norm_batch_norm_grad")


def _running_stats(xp):
    run = xp.ElementwiseKernel(
        "float64 mean, float64 var, float64 momentum, float64 unbias", "T rm, T rv",
        "rm = T((double)rm * (1.0 - momentum) + mean * momentum);"
        " rv = T((double)rv * (1.0 - momentum) + (var * unbias) * momentum)",
        "ember_norm_running_stats")

    def running_stats_update(running_mean, running_var, mean, var, momentum, unbias):
        run(mean, var, momentum, unbias, running_mean, running_var)

    return running_stats_update


class _Kernels:
    """The family's CuPy kernels for one namespace ``xp`` (CuPy compiles each on its
    first call with a dtype)."""

    def __init__(self, xp):
        self.mean = _scaled_sum(xp, "T x, T w", _MAP_WEIGHTED, "weighted_mean", "float64")
        self.sum = _scaled_sum(xp, "T x, T w", _MAP_WEIGHTED, "weighted_mean", "T")
        self.var = _scaled_sum(xp, "T x, float64 m", _MAP_CENTRED_SQUARE, "centred_mean_square", "float64")
        params = "T g, T w, T x, float64 m, float64 inv"
        self.xhat_mean = _scaled_sum(xp, params, _MAP_WEIGHTED_XHAT, "weighted_xhat_mean", "float64")
        self.xhat_sum = _scaled_sum(xp, params, _MAP_WEIGHTED_XHAT, "weighted_xhat_mean", "T")
        self.inv_std = _inv_std(xp)
        self.normalize = _normalize(xp)
        self.normalize_grad = _normalize_grad(xp)
        self.batch_norm_grad = _batch_norm_grad(xp)

    def moments(self, x, axis, n):
        """Float64 mean and biased variance of ``x`` over ``axis`` (``n`` values each),
        and the mean with the reduced axes kept."""
        mean = self.mean(x, 1.0, 1.0 / n, axis=axis)
        kept = _kept(mean, x.ndim, axis)
        return mean, self.var(x, kept, 1.0 / n, axis=axis), kept

    def backward_sums(self, g, x, m, inv, axis):
        """``dw = sum(g * xhat)`` and ``db = sum(g)`` over ``axis``, in ``x``'s dtype."""
        return self.xhat_sum(g, 1.0, x, m, inv, 1.0, axis=axis), self.sum(g, 1.0, 1.0, axis=axis)


@functools.cache
def _kernels(xp):
    """The :class:`_Kernels` of ``xp``, shared by the family's ops."""
    return _Kernels(xp)


def _kept(stat, ndim, axis):
    """``stat``, a reduction over ``axis`` of an ``ndim``-d array, with those axes
    back as size 1, to broadcast against the array."""
    shape = list(stat.shape)
    for a in sorted(axis):
        shape.insert(a, 1)
    return stat.reshape(shape)


def _one(a):
    """``a``, or the scalar 1 where a weight is absent."""
    return 1.0 if a is None else a


def _zero(a):
    """``a``, or the scalar 0 where a bias is absent."""
    return 0.0 if a is None else a


def _per_channel(a):
    """Per-channel vector ``a`` (or None) viewed as ``(1, C, 1)``."""
    return None if a is None else a.reshape(1, -1, 1)


def _batch_norm_forward(xp):
    k = _kernels(xp)

    def batch_norm_forward(x, weight, bias, eps):
        axis = (0, 2)
        mean, var, kept = k.moments(x, axis, x.shape[0] * x.shape[2])
        inv = k.inv_std(_kept(var, 3, axis), eps)
        y = k.normalize(x, kept, inv, _one(_per_channel(weight)), _zero(_per_channel(bias)))
        return y, mean, var

    return batch_norm_forward


def _batch_norm_backward(xp):
    k = _kernels(xp)

    def batch_norm_backward(g, x, mean, var, eps, weight, want_dx=True):
        axis = (0, 2)
        m = _kept(mean, 3, axis)
        inv = k.inv_std(_kept(var, 3, axis), eps)
        if not want_dx:
            dw, db = k.backward_sums(g, x, m, inv, axis)
            return None, dw, db
        sg = k.mean(g, 1.0, 1.0, axis=axis)
        sgx = k.xhat_mean(g, 1.0, x, m, inv, 1.0, axis=axis)
        c, inner = x.shape[1], x.shape[2]
        dx = xp.empty(x.shape, x.dtype)
        dw, db = xp.empty(c, x.dtype), xp.empty(c, x.dtype)
        k.batch_norm_grad(g, x, m, inv, _one(_per_channel(weight)), _kept(sg, 3, axis),
                          _kept(sgx, 3, axis), 1.0 / (x.shape[0] * inner), c * inner, inner,
                          dx, dw, db)
        return dx, dw, db

    return batch_norm_backward


def _grouped(a, groups):
    """``(N, C, S)`` array ``a`` viewed as ``(N, groups, C // groups, S)``."""
    n, c, s = a.shape
    return a.reshape(n, groups, c // groups, s)


def _group_weight(a, groups):
    """Per-channel vector ``a`` (or None) viewed as ``(1, groups, C // groups, 1)``."""
    return None if a is None else a.reshape(1, groups, -1, 1)


def _group_norm_forward(xp):
    k = _kernels(xp)

    def group_norm_forward(x, groups, weight, bias, eps):
        x4, axis = _grouped(x, groups), (2, 3)
        mean, var, kept = k.moments(x4, axis, x4.shape[2] * x4.shape[3])
        inv = k.inv_std(_kept(var, 4, axis), eps)
        y = k.normalize(x4, kept, inv, _one(_group_weight(weight, groups)),
                        _zero(_group_weight(bias, groups)))
        return y.reshape(x.shape), mean.reshape(-1), var.reshape(-1)

    return group_norm_forward


def _group_norm_backward(xp):
    k = _kernels(xp)

    def group_norm_backward(g, x, mean, var, eps, groups, weight, want_dx=True):
        n, c, s = x.shape
        x4, g4 = _grouped(x, groups), _grouped(g, groups)
        m = mean.reshape(n, groups, 1, 1)
        inv = k.inv_std(var.reshape(n, groups, 1, 1), eps)
        dw, db = k.backward_sums(g4, x4, m, inv, (0, 3))
        dx = None
        if want_dx:
            w, axis, scale = _one(_group_weight(weight, groups)), (2, 3), 1.0 / (c // groups * s)
            mgw = _kept(k.mean(g4, w, scale, axis=axis), 4, axis)
            mgwx = _kept(k.xhat_mean(g4, w, x4, m, inv, scale, axis=axis), 4, axis)
            dx = k.normalize_grad(g4, x4, m, inv, w, mgw, mgwx).reshape(x.shape)
        return dx, dw.reshape(-1), db.reshape(-1)

    return group_norm_backward


def _rms_norm_forward(xp):
    k = _kernels(xp)

    def rms_norm_forward(x, weight, eps):
        ms = k.var(x, 0.0, 1.0 / x.shape[1], axis=1)
        inv = k.inv_std(ms[:, None], eps)
        return k.normalize(x, 0.0, inv, _one(weight), 0.0), ms

    return rms_norm_forward


def _rms_norm_backward(xp):
    k = _kernels(xp)

    def rms_norm_backward(g, x, ms, eps, weight, want_dx=True):
        inv = k.inv_std(ms[:, None], eps)
        dw = k.xhat_sum(g, 1.0, x, 0.0, inv, 1.0, axis=0)
        dx = None
        if want_dx:
            w = _one(weight)
            mgwx = k.xhat_mean(g, w, x, 0.0, inv, 1.0 / x.shape[1], axis=1)
            dx = k.normalize_grad(g, x, 0.0, inv, w, 0.0, mgwx[:, None])
        return dx, dw

    return rms_norm_backward


def _stats(*arrays):
    """True when the statistics handed back to a backward are float64."""
    return all(a.dtype == _F64 for a in arrays)


def _forward_args(x, *params):
    """Forward calls the kernels take: one float dtype for ``x`` and its parameters,
    ``x`` non-empty."""
    return same_floats(x, *params) and x.size > 0


def batch_norm_forward_args(x, weight, bias, eps):
    """The batch norm forward calls the cuda kernel takes (``x`` 3-d)."""
    return x.ndim == 3 and _forward_args(x, weight, bias)


def batch_norm_backward_args(g, x, mean, var, eps, weight, want_dx=True):
    """The batch norm backward calls the cuda kernel takes."""
    return (x.ndim == 3 and g.shape == x.shape and _forward_args(x, g, weight)
            and _stats(mean, var))


def group_norm_forward_args(x, groups, weight, bias, eps):
    """The group (and layer) norm forward calls the cuda kernel takes (``x`` 3-d)."""
    return x.ndim == 3 and _forward_args(x, weight, bias)


def group_norm_backward_args(g, x, mean, var, eps, groups, weight, want_dx=True):
    """The group (and layer) norm backward calls the cuda kernel takes."""
    return (x.ndim == 3 and g.shape == x.shape and _forward_args(x, g, weight)
            and _stats(mean, var))


def rms_norm_forward_args(x, weight, eps):
    """The RMS norm forward calls the cuda kernel takes (``x`` 2-d)."""
    return x.ndim == 2 and _forward_args(x, weight)


def rms_norm_backward_args(g, x, ms, eps, weight, want_dx=True):
    """The RMS norm backward calls the cuda kernel takes."""
    return x.ndim == 2 and g.shape == x.shape and _forward_args(x, g, weight) and _stats(ms)



def running_stats_args(running_mean, running_var, mean, var, momentum, unbias):
    """The running-statistics updates the cuda kernel takes: both buffers, of one
    float dtype and the statistics' shape, and float64 statistics."""
    return (running_mean is not None and running_var is not None and same_floats(running_mean, running_var)
            and _stats(mean, var) and running_mean.shape == running_var.shape == mean.shape == var.shape)


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "normalization.batch_norm_forward": on_device(_batch_norm_forward, batch_norm_forward_args),
    "normalization.batch_norm_backward": on_device(_batch_norm_backward, batch_norm_backward_args),
    "normalization.group_norm_forward": on_device(_group_norm_forward, group_norm_forward_args),
    "normalization.group_norm_backward": on_device(_group_norm_backward, group_norm_backward_args),
    "normalization.rms_norm_forward": on_device(_rms_norm_forward, rms_norm_forward_args),
    "normalization.rms_norm_backward": on_device(_rms_norm_backward, rms_norm_backward_args),
    "normalization.running_stats_update": on_device(_running_stats, running_stats_args),
}
