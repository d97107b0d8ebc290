"""The cuda backend's kernels of the losses family: the class-index losses (NLL,
and cross entropy with its log-softmax fused in) as one CuPy RawKernel launch
forward and one backward, where the generic kernels (``kernels.py``) launch a max,
a subtraction, an exp, a sum, a log, a gather and a select, and the backward a
scatter and as many again.

One thread serves one sample (a batch item at one spatial position): it reads
its ``C`` scores with stride ``S`` and computes the maximum, the log-sum-exp and
the picked log-probability (forward), or writes the ``C`` gradients (backward),
following the formulas of ``kernels.py``. A target that is not counted (ignored,
or outside ``[0, C)``: the family reports that on the device) is never used as an
index. Without class weights the kernels get a dummy pointer and ``weighted = 0``.
"""

from ember.backends.cuda.kernels import on_device, same_floats
from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels

# What both kernels compute first for sample ``i``: its scores ``row`` (stride S),
# its target ``k`` and whether it counts, and with ``normalize`` the maximum ``m``
# and ``lse = log(sum(exp(x - m)))`` (without it both 0: the scores are
# log-probabilities already). A NaN score becomes the maximum, so it spreads as
# in torch's log_softmax.
_SAMPLE = """
    long long b = i / S;
    const T* row = x + (b * C) * S + (i - b * S);
    long long k = t[i];
    T smoothing = T(label_smoothing);
    bool counted = k != ignore_index && k >= 0 && k < C;
    T m = T(0), lse = T(0), total = T(0);
    if (normalize && counted) {
        m = row[0];
        for (long long c = 1; c < C; ++c) { T v = row[c * S]; if (!(v <= m)) m = v; }
        for (long long c = 0; c < C; ++c) total += exp(row[c * S] - m);
        lse = log(total);
    }
"""

_PARAMS = ("const T* x, const long long* t, const T* w, long long n, long long C, long long S, "
           "long long ignore_index, double label_smoothing, int normalize, int weighted")

_FORWARD = f"""
extern "C" __global__ void ember_class_index_loss({_PARAMS}, T* loss, T* target_weight) {{
    {GRID_STRIDE_LOOP} {{
        {_SAMPLE}
        if (!counted) {{ loss[i] = T(0); target_weight[i] = T(0); continue; }}
        T wk = weighted ? w[k] : T(1);
        T out = -((row[k * S] - m) - lse) * wk;
        if (smoothing > T(0)) {{
            T smooth = T(0);
            for (long long c = 0; c < C; ++c) smooth += ((row[c * S] - m) - lse) * (weighted ? w[c] : T(1));
            out = out * (T(1) - smoothing) + (-smooth) * (smoothing / T(C));
        }}
        loss[i] = out;
        target_weight[i] = wk;
    }}
}}
"""

_BACKWARD = f"""
extern "C" __global__ void ember_class_index_loss_backward({_PARAMS}, const T* scale, T* grad) {{
    {GRID_STRIDE_LOOP} {{
        {_SAMPLE}
        T* out = grad + (row - x);
        if (!counted) {{ for (long long c = 0; c < C; ++c) out[c * S] = T(0); continue; }}
        T a = scale[i] * (T(1) - smoothing) * (weighted ? w[k] : T(1));
        T b2 = scale[i] * (smoothing / T(C));
        T weights = T(C);
        if (weighted) {{ weights = T(0); for (long long c = 0; c < C; ++c) weights += w[c]; }}
        T through = a + b2 * weights;
        for (long long c = 0; c < C; ++c) {{
            T g = T(0) - b2 * (weighted ? w[c] : T(1));
            if (c == k) g = g - a;
            if (normalize) g = g + exp(row[c * S] - m) / total * through;
            out[c * S] = g;
        }}
    }}
}}
"""


def _shape_args(xp, x, t, weight, ignore_index, label_smoothing, normalize):
    """The arguments the two kernels share, after ``x``'s and ``t``'s own."""
    n, n_classes, spatial = x.shape
    return (x if weight is None else weight, xp.int64(t.size), xp.int64(n_classes), xp.int64(spatial),
            xp.int64(ignore_index), xp.float64(label_smoothing), xp.int32(bool(normalize)),
            xp.int32(weight is not None))


def _class_index_loss(xp):
    run = FloatKernels(xp, _FORWARD, "ember_class_index_loss")

    def class_index_loss(x, t, weight, ignore_index, label_smoothing, normalize):
        x, t = xp.ascontiguousarray(x), xp.ascontiguousarray(t)
        loss = xp.empty(t.shape, dtype=x.dtype)
        target_weight = xp.empty(t.shape, dtype=x.dtype)
        args = _shape_args(xp, x, t, weight, ignore_index, label_smoothing, normalize)
        run(x.dtype, t.size, (x, t, *args, loss, target_weight))
        return loss, target_weight

    return class_index_loss


def _class_index_loss_backward(xp):
    run = FloatKernels(xp, _BACKWARD, "ember_class_index_loss_backward")

    def class_index_loss_backward(x, t, weight, ignore_index, label_smoothing, normalize, scale):
        x, t = xp.ascontiguousarray(x), xp.ascontiguousarray(t)
        grad = xp.empty(x.shape, dtype=x.dtype)
        args = _shape_args(xp, x, t, weight, ignore_index, label_smoothing, normalize)
        run(x.dtype, t.size, (x, t, *args, xp.ascontiguousarray(scale), grad))
        return grad

    return class_index_loss_backward


def _class_index_call(x, t, weight, *rest):
    """Float32/float64 scores ``(N, C, S)``, int64 targets ``(N, S)``, weights
    (when given) of ``C`` and of the scores' dtype; a backward's ``scale`` too."""
    if weight is not None and (not same_floats(x, weight) or weight.shape != (x.shape[1],)):
        return False
    scale = rest[3] if len(rest) == 4 else None
    if scale is not None and (scale.dtype != x.dtype or scale.shape != t.shape):
        return False
    return (same_floats(x) and x.ndim == 3 and t.dtype == "int64"
            and t.shape == (x.shape[0], x.shape[2]))


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "losses.class_index_loss": on_device(_class_index_loss, _class_index_call),
    "losses.class_index_loss_backward": on_device(_class_index_loss_backward, _class_index_call),
}
