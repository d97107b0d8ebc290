"""The cuda backend's kernels for the normalization family: CuPy reduction kernels
for the statistics and one element-wise kernel for the normalizing, computing what
the generic kernels of ``kernels.py`` compute (see its docstring for the ops).

Each statistic comes from one reduction launch that folds its values in float64 and
writes every output it yields at once (CuPy's reduction kernels take several
outputs; the post-map may read an output given in, as it is a reference):

* ``stats``: a group's (or channel's) mean, biased variance and ``1 / sqrt(var + eps)``,
  from one pass of Chan's pairwise update of count, sum, mean and squared deviations
  (as stable as the two-pass variance; the mean is the plain sum over the count, as
  the generic kernel's, so an infinity stays one);
* ``mean_square``: RMS norm's mean square and its ``1 / sqrt(ms + eps)``;
* ``grad_sums``: the gradient's sums ``sum(g * w)`` and ``sum(g * w * (x - m))``
  (times a scale: ``1 / n`` for means), with ``inv`` from the variance given in;
* ``param_grads``: the weight's and bias's gradients ``sum(g * xhat)`` and ``sum(g)``.

Each op then does its element-wise work in one launch: ``normalize`` (the output,
affine included) forward, ``normalize_grad`` (group, layer and RMS norm) or
``batch_norm_grad`` (which also writes the channel's weight and bias gradients)
backward. An absent weight is the scalar 1 and an absent bias the scalar 0 (exact
in float64), and RMS norm is the case ``m = 0``, so one kernel serves every op.
Launches per call (the generic kernels take 10-25):

=================  =======  ===============  ===================
op                 forward  backward (+ dx)  backward (no dx)
=================  =======  ===============  ===================
batch norm         2        2                2
group/layer norm   2        3                2
RMS norm           2        3                2
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

# the reductions' accumulators: Chan's moments, and a pair of sums
_PREAMBLE = r"""
struct ember_moments {
  double n, sum, mean, m2;
  __device__ ember_moments() : n(0), sum(0), mean(0), m2(0) {}
  __device__ explicit ember_moments(double x) : n(1), sum(x), mean(x), m2(0) {}
};
__device__ ember_moments ember_merge(const ember_moments& a, const ember_moments& b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  ember_moments r;
  r.n = a.n + b.n;
  r.sum = a.sum + b.sum;
  double d = b.mean - a.mean, f = b.n / r.n;
  r.mean = a.mean + d * f;
  r.m2 = a.m2 + b.m2 + d * d * a.n * f;
  return r;
}
struct ember_pair {
  double x, y;
  __device__ ember_pair() : x(0), y(0) {}
  __device__ ember_pair(double x_, double y_) : x(x_), y(y_) {}
};
__device__ ember_pair ember_add(const ember_pair& a, const ember_pair& b) {
  return ember_pair(a.x + b.x, a.y + b.y);
}
"""


# accumulator -> how two of them combine
_COMBINE = {"ember_moments": "ember_merge(a, b)", "ember_pair": "ember_add(a, b)"}


def _reduction(xp, accumulator, params, outs, map_expr, post_map_expr, name):
    """A reduction kernel folding ``map_expr`` into the preamble's struct
    ``accumulator`` (empty at first)."""
    return xp.ReductionKernel(params, outs, map_expr, _COMBINE[accumulator], post_map_expr,
                              f"{accumulator}()", name, reduce_type=accumulator, preamble=_PREAMBLE)


def _stats(xp):
    return _reduction(
        xp, "ember_moments", "T x, float64 eps", "float64 mean, float64 var, float64 inv",
        "ember_moments((double)x)", "mean = a.sum / a.n, var = a.m2 / a.n, inv = 1.0 / sqrt(var + eps)", "ember_norm_stats")


def _mean_square(xp):
    return xp.ReductionKernel("T x, float64 scale, float64 eps", "float64 ms, float64 inv",
                              "(double)x * (double)x", "a + b", "ms = a * scale, inv = 1.0 / sqrt(ms + eps)",
                              "0", "ember_norm_mean_square", reduce_type="double")


def _grad_sums(xp):
    # var is given in as an output and only read
    return _reduction(
        xp, "ember_pair", "T g, T w, T x, float64 m, float64 scale, float64 eps",
        "float64 var, float64 inv, float64 sgw, float64 sgwx",
        "ember_pair((double)g * (double)w, (double)g * (double)w * ((double)x - m))",
        "inv = 1.0 / sqrt(var + eps), sgw = a.x * scale, sgwx = a.y * scale * inv", "ember_norm_grad_sums")


def _param_grads(xp):
    return _reduction(
        xp, "ember_pair", "T g, T x, float64 m, float64 inv", "T dw, T db",
        "ember_pair((double)g * (((double)x - m) * inv), (double)g)", "dw = T(a.x), db = T(a.y)",
        "ember_norm_param_grads")


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
        self.xp = xp
        self.stats_kernel = _stats(xp)
        self.mean_square_kernel = _mean_square(xp)
        self.grad_sums_kernel = _grad_sums(xp)
        self.param_grads_kernel = _param_grads(xp)
        self.inv_std = _inv_std(xp)
        self.normalize = _normalize(xp)
        self.normalize_grad = _normalize_grad(xp)
        self.batch_norm_grad = _batch_norm_grad(xp)

    def _outputs(self, shape, count, dtype=_F64):
        return [self.xp.empty(shape, dtype) for _ in range(count)]

    def stats(self, x, axis, eps):
        """Float64 mean, biased variance and ``1 / sqrt(var + eps)`` of ``x`` over
        ``axis``, in the reduced shape."""
        mean, var, inv = self._outputs(_reduced(x.shape, axis), 3)
        self.stats_kernel(x, eps, mean, var, inv, axis=axis)
        return mean, var, inv

    def mean_square(self, x, eps):
        """Float64 mean square of each row of 2-d ``x`` and its ``1 / sqrt(ms + eps)``."""
        ms, inv = self._outputs(x.shape[:1], 2)
        self.mean_square_kernel(x, 1.0 / x.shape[1], eps, ms, inv, axis=1)
        return ms, inv

    def grad_sums(self, g, w, x, m, var, eps, scale, axis):
        """``inv`` from ``var`` (the statistics in the reduced shape) and the sums
        ``sum(g * w) * scale`` and ``sum(g * w * xhat) * scale`` over ``axis``."""
        inv, sgw, sgwx = self._outputs(var.shape, 3)
        self.grad_sums_kernel(g, w, x, m, scale, eps, var, inv, sgw, sgwx, axis=axis)
        return inv, sgw, sgwx

    def param_grads(self, g, x, m, inv, axis):
        """``dw = sum(g * xhat)`` and ``db = sum(g)`` over ``axis``, in ``x``'s dtype."""
        dw, db = self._outputs(_reduced(x.shape, axis), 2, x.dtype)
        self.param_grads_kernel(g, x, m, inv, dw, db, axis=axis)
        return dw, db


@functools.cache
def _kernels(xp):
    """The :class:`_Kernels` of ``xp``, shared by the family's ops."""
    return _Kernels(xp)


def _reduced(shape, axis):
    """``shape`` without the dims of ``axis``."""
    return tuple(n for d, n in enumerate(shape) if d not in axis)


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
        mean, var, inv = k.stats(x, axis, eps)
        y = k.normalize(x, _kept(mean, 3, axis), _kept(inv, 3, axis), _one(_per_channel(weight)),
                        _zero(_per_channel(bias)))
        return y, mean, var

    return batch_norm_forward


def _batch_norm_backward(xp):
    k = _kernels(xp)

    def batch_norm_backward(g, x, mean, var, eps, weight, want_dx=True):
        axis = (0, 2)
        m = _kept(mean, 3, axis)
        if not want_dx:
            dw, db = k.param_grads(g, x, m, k.inv_std(_kept(var, 3, axis), eps), axis)
            return None, dw, db
        inv, sg, sgx = k.grad_sums(g, 1.0, x, m, var, eps, 1.0, axis)
        c, inner = x.shape[1], x.shape[2]
        dx = xp.empty(x.shape, x.dtype)
        dw, db = xp.empty(c, x.dtype), xp.empty(c, x.dtype)
        k.batch_norm_grad(g, x, m, _kept(inv, 3, axis), _one(_per_channel(weight)), _kept(sg, 3, axis),
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
        mean, var, inv = k.stats(x4, axis, eps)
        y = k.normalize(x4, _kept(mean, 4, axis), _kept(inv, 4, axis), _one(_group_weight(weight, groups)),
                        _zero(_group_weight(bias, groups)))
        return y.reshape(x.shape), mean.reshape(-1), var.reshape(-1)

    return group_norm_forward


def _group_norm_backward(xp):
    k = _kernels(xp)

    def group_norm_backward(g, x, mean, var, eps, groups, weight, want_dx=True):
        n, c, s = x.shape
        x4, g4 = _grouped(x, groups), _grouped(g, groups)
        m = mean.reshape(n, groups, 1, 1)
        dx = None
        if want_dx:
            w, scale = _one(_group_weight(weight, groups)), 1.0 / (c // groups * s)
            inv, mgw, mgwx = k.grad_sums(g4, w, x4, m, var.reshape(n, groups), eps, scale, (2, 3))
            inv = inv.reshape(n, groups, 1, 1)
            dx = k.normalize_grad(g4, x4, m, inv, w, mgw.reshape(n, groups, 1, 1),
                                  mgwx.reshape(n, groups, 1, 1)).reshape(x.shape)
        else:
            inv = k.inv_std(var.reshape(n, groups, 1, 1), eps)
        dw, db = k.param_grads(g4, x4, m, inv, (0, 3))
        return dx, dw.reshape(-1), db.reshape(-1)

    return group_norm_backward


def _rms_norm_forward(xp):
    k = _kernels(xp)

    def rms_norm_forward(x, weight, eps):
        ms, inv = k.mean_square(x, eps)
        return k.normalize(x, 0.0, inv[:, None], _one(weight), 0.0), ms

    return rms_norm_forward


def _rms_norm_backward(xp):
    k = _kernels(xp)

    def rms_norm_backward(g, x, ms, eps, weight, want_dx=True):
        dx = None
        if want_dx:
            w = _one(weight)
            inv, _, mgwx = k.grad_sums(g, w, x, 0.0, ms, eps, 1.0 / x.shape[1], (1,))
            inv = inv[:, None]
            dx = k.normalize_grad(g, x, 0.0, inv, w, 0.0, mgwx[:, None])
        else:
            inv = k.inv_std(ms[:, None], eps)
        dw, _ = k.param_grads(g, x, 0.0, inv, (0,))
        return dx, dw

    return rms_norm_backward


def _float64(*arrays):
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
            and _float64(mean, var))


def group_norm_forward_args(x, groups, weight, bias, eps):
    """The group (and layer) norm forward calls the cuda kernel takes (``x`` 3-d)."""
    return x.ndim == 3 and _forward_args(x, weight, bias)


def group_norm_backward_args(g, x, mean, var, eps, groups, weight, want_dx=True):
    """The group (and layer) norm backward calls the cuda kernel takes."""
    return (x.ndim == 3 and g.shape == x.shape and _forward_args(x, g, weight)
            and _float64(mean, var))


def rms_norm_forward_args(x, weight, eps):
    """The RMS norm forward calls the cuda kernel takes (``x`` 2-d)."""
    return x.ndim == 2 and _forward_args(x, weight)


def rms_norm_backward_args(g, x, ms, eps, weight, want_dx=True):
    """The RMS norm backward calls the cuda kernel takes."""
    return x.ndim == 2 and g.shape == x.shape and _forward_args(x, g, weight) and _float64(ms)



def running_stats_args(running_mean, running_var, mean, var, momentum, unbias):
    """The running-statistics updates the cuda kernel takes: both buffers, of one
    float dtype and the statistics' shape, and float64 statistics."""
    return (running_mean is not None and running_var is not None and same_floats(running_mean, running_var)
            and _float64(mean, var) and running_mean.shape == running_var.shape == mean.shape == var.shape)


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
