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

The mean reduction (``losses.class_index_mean``) is one reduction launch, summing
the losses and the weights and asking whether any target is kept at once, its
post-map writing the mean and the gradient's scale.

CTC's forward and backward (``losses.ctc_forward``/``losses.ctc_backward``) are
one launch each too, one thread per batch item running the Cython kernel's
recursions (``_ctc.pyx``) over its own rows of ``log_alpha``, ``beta`` and the
gradient, so no two threads write one element.
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
extern "C" __global__ void ember_class_index_loss_backward({_PARAMS}, const T* scale, long long scale_step,
        T* grad) {{
    {GRID_STRIDE_LOOP} {{
        {_SAMPLE}
        T* out = grad + (row - x);
        if (!counted) {{ for (long long c = 0; c < C; ++c) out[c * S] = T(0); continue; }}
        T a = scale[i * scale_step] * (T(1) - smoothing) * (weighted ? w[k] : T(1));
        T b2 = scale[i * scale_step] * (smoothing / T(C));
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
    _, n_classes, spatial = x.shape
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
        step = xp.int64(1 if scale.ndim else 0)  # a 0-d scale serves every sample
        run(x.dtype, t.size, (x, t, *args, xp.ascontiguousarray(scale), step, grad))
        return grad

    return class_index_loss_backward


# the mean reduction's accumulator: the sums of the losses and of the weights, and
# whether any target is kept
_MEAN_PARTS = r"""
struct ember_mean_parts {
  T loss, weight;
  bool kept;
  __device__ ember_mean_parts() : loss(0), weight(0), kept(false) {}
  __device__ ember_mean_parts(T l, T w, bool k) : loss(l), weight(w), kept(k) {}
};
__device__ ember_mean_parts ember_mean_add(const ember_mean_parts& a, const ember_mean_parts& b) {
  return ember_mean_parts(a.loss + b.loss, a.weight + b.weight, a.kept || b.kept);
}
"""


def _class_index_mean(xp):
    run = xp.ReductionKernel(
        "T loss, T target_weight, int64 t, int64 ignore_index, T nan", "T mean, T scale",
        "ember_mean_parts(loss, target_weight, t != ignore_index)", "ember_mean_add(a, b)",
        "mean = a.kept ? a.loss / a.weight : nan, scale = T(1) / (a.kept ? a.weight : T(1))",
        "ember_mean_parts()", "ember_class_index_mean", reduce_type="ember_mean_parts", preamble=_MEAN_PARTS)

    def class_index_mean(loss, target_weight, t, ignore_index):
        mean, scale = xp.empty((), loss.dtype), xp.empty((), loss.dtype)
        run(loss, target_weight, t, ignore_index, float("nan"), mean, scale)
        return mean, scale

    return class_index_mean


def _class_index_mean_call(loss, target_weight, t, ignore_index):
    """Losses and weights of one float dtype, int64 targets."""
    return same_floats(loss, target_weight) and t.dtype == "int64"


# CTC: one thread per batch item runs its dynamic programme over the extended label
# sequence blank, l1, blank, ..., lS, blank in log space, as ``_ctc.pyx`` does (its
# docstring has the formulas); ``lp`` (T, N, C), ``log_alpha`` (N, T, L), ``beta``
# two alternating rows (N, 2, L). Item ``b``'s labels are
# ``targets[offsets[b] : offsets[b] + target_lengths[b]]``, checked on the host.
_CTC_COMMON = """
// no INFINITY/NAN macros under NVRTC: infinity by overflow, NaN as inf - inf
__device__ __forceinline__ T ctc_inf() { return T(1e308) * T(10); }
__device__ __forceinline__ T ctc_exp0(T x) { return x == -ctc_inf() ? T(0) : exp(x); }
__device__ __forceinline__ T ctc_lse2(T a, T b) {
    if (a >= b) return a == -ctc_inf() ? a : a + log(T(1) + ctc_exp0(b - a));
    return b + log(T(1) + ctc_exp0(a - b));
}
__device__ __forceinline__ T ctc_lse3(T a, T b, T c) {
    if (a >= b && a >= c) return a == -ctc_inf() ? a : a + log(T(1) + ctc_exp0(b - a) + ctc_exp0(c - a));
    if (b >= c) return b + log(T(1) + ctc_exp0(a - b) + ctc_exp0(c - b));
    return c + log(T(1) + ctc_exp0(a - c) + ctc_exp0(b - c));
}
__device__ __forceinline__ long long ctc_label(const long long* tgt, long long s, long long blank) {
    return s % 2 == 0 ? blank : tgt[s / 2];
}
"""

_CTC_FORWARD = _CTC_COMMON + f"""
extern "C" __global__ void ember_ctc_forward(const T* lp, const long long* targets, const long long* offsets,
        const long long* input_lengths, const long long* target_lengths, long long blank, long long n,
        long long T_, long long C, long long L, T* log_alpha, T* nll) {{
    {GRID_STRIDE_LOOP} {{
        const T* p0 = lp + i * C;
        long long row = n * C, il = input_lengths[i], tl = target_lengths[i], S2 = 2 * tl + 1;
        const long long* tgt = targets + offsets[i];
        T* la = log_alpha + i * T_ * L;
        if (il == 0) {{ nll[i] = tl == 0 ? T(0) : ctc_inf(); continue; }}
        for (long long s = 0; s < S2; ++s) la[s] = -ctc_inf();
        la[0] = p0[blank];
        if (tl > 0) la[1] = p0[tgt[0]];
        for (long long t = 1; t < il; ++t) {{
            const T* prev = la + (t - 1) * L;
            T* cur = la + t * L;
            const T* p = p0 + t * row;
            for (long long s = 0; s < S2; ++s) {{
                long long c = ctc_label(tgt, s, blank);
                T a2 = s > 0 ? prev[s - 1] : -ctc_inf();
                T a3 = (s > 1 && (s & 1) && tgt[s / 2 - 1] != c) ? prev[s - 2] : -ctc_inf();
                cur[s] = ctc_lse3(prev[s], a2, a3) + p[c];
            }}
        }}
        const T* last = la + (il - 1) * L;
        nll[i] = -ctc_lse2(last[2 * tl], tl > 0 ? last[2 * tl - 1] : -ctc_inf());
    }}
}}
"""

_CTC_BACKWARD = _CTC_COMMON + f"""
extern "C" __global__ void ember_ctc_backward(const T* grad_out, const T* lp, const long long* targets,
        const long long* offsets, const long long* input_lengths, const long long* target_lengths,
        long long blank, long long n, long long T_, long long C, long long L, const T* log_alpha,
        const T* nll, int zero_infinity, T* beta, T* grad) {{
    {GRID_STRIDE_LOOP} {{
        const T* p0 = lp + i * C;
        T* g0 = grad + i * C;
        long long row = n * C, il = input_lengths[i], tl = target_lengths[i], S2 = 2 * tl + 1;
        const long long* tgt = targets + offsets[i];
        const T* la = log_alpha + i * T_ * L;
        T* bt = beta + i * 2 * L;
        T loss = nll[i], gr = grad_out[i];
        if (zero_infinity && loss == ctc_inf()) il = 0;  // the whole item gets a zero gradient
        if (il > 0 && !(loss < ctc_inf())) {{
            // no alignment (or NaN input): torch's formula yields NaN everywhere
            for (long long t = 0; t < il; ++t) for (long long k = 0; k < C; ++k) g0[t * row + k] = (ctc_inf() - ctc_inf());
        }} else if (il > 0) {{
            for (long long t = 0; t < il; ++t) for (long long k = 0; k < C; ++k) g0[t * row + k] = T(0);
            long long t = il - 1;
            T* cur = bt + (t % 2) * L;
            const T* p = p0 + t * row;
            T* gt = g0 + t * row;
            const T* at = la + t * L;
            for (long long s = 0; s < S2; ++s) cur[s] = -ctc_inf();
            cur[2 * tl] = p[blank];
            gt[blank] = ctc_exp0(at[2 * tl] + cur[2 * tl] + loss - p[blank]);
            if (tl > 0) {{
                long long c = tgt[tl - 1];
                cur[2 * tl - 1] = p[c];
                gt[c] = ctc_exp0(at[2 * tl - 1] + cur[2 * tl - 1] + loss - p[c]);
            }}
            for (t = il - 2; t >= 0; --t) {{
                const T* nxt = bt + ((t + 1) % 2) * L;
                cur = bt + (t % 2) * L;
                p = p0 + t * row;
                gt = g0 + t * row;
                at = la + t * L;
                for (long long s = S2 - 1; s >= 0; --s) {{
                    long long c = ctc_label(tgt, s, blank);
                    T b2 = s < 2 * tl ? nxt[s + 1] : -ctc_inf();
                    T b3 = (s < 2 * tl - 1 && (s & 1) && tgt[s / 2 + 1] != c) ? nxt[s + 2] : -ctc_inf();
                    cur[s] = ctc_lse3(nxt[s], b2, b3) + p[c];
                    gt[c] += ctc_exp0(at[s] + cur[s] + loss - p[c]);
                }}
            }}
            for (t = 0; t < il; ++t)
                for (long long k = 0; k < C; ++k) g0[t * row + k] = (exp(p0[t * row + k]) - g0[t * row + k]) * gr;
        }}
        for (long long t = il; t < T_; ++t) for (long long k = 0; k < C; ++k) g0[t * row + k] = T(0);
    }}
}}
"""


def _ctc_shape(xp, log_probs, width):
    """``(lp contiguous, its (T, N, C) and width L as kernel arguments)``."""
    lp = xp.ascontiguousarray(log_probs)
    steps, n, n_classes = lp.shape
    return lp, (xp.int64(n), xp.int64(steps), xp.int64(n_classes), xp.int64(width))


def _ctc_forward(xp):
    run = FloatKernels(xp, _CTC_FORWARD, "ember_ctc_forward")

    def ctc_forward(log_probs, targets, offsets, input_lengths, target_lengths, blank, width):
        lp, shape = _ctc_shape(xp, log_probs, width)
        steps, n = lp.shape[:2]
        log_alpha = xp.empty((n, steps, width), dtype=lp.dtype)
        nll = xp.empty(n, dtype=lp.dtype)
        run(lp.dtype, n, (lp, targets, offsets, input_lengths, target_lengths, xp.int64(blank), *shape,
                          log_alpha, nll))
        return log_alpha, nll

    return ctc_forward


def _ctc_backward(xp):
    run = FloatKernels(xp, _CTC_BACKWARD, "ember_ctc_backward")

    def ctc_backward(grad_out, log_probs, targets, offsets, input_lengths, target_lengths, blank,
                     log_alpha, nll, zero_infinity):
        lp, shape = _ctc_shape(xp, log_probs, log_alpha.shape[2])
        beta = xp.empty((lp.shape[1], 2, log_alpha.shape[2]), dtype=lp.dtype)
        grad = xp.empty(lp.shape, dtype=lp.dtype)
        run(lp.dtype, lp.shape[1], (xp.ascontiguousarray(grad_out), lp, targets, offsets, input_lengths,
                                    target_lengths, xp.int64(blank), *shape, log_alpha, nll,
                                    xp.int32(bool(zero_infinity)), beta, grad))
        return grad

    return ctc_backward


#: Most classes the one-thread-per-sample kernels take: a thread reads its sample's
#: scores two or three times over, one after another, so with many classes (a
#: language model's vocabulary) the generic kernels' reductions, which spread the
#: classes over threads, are the faster ones.
MOST_CLASSES = 256


def _class_index_call(x, t, weight, *rest):
    """Float32/float64 scores ``(N, C, S)`` with at most :data:`MOST_CLASSES` classes,
    int64 targets ``(N, S)``, weights (when given) of ``C`` and of the scores'
    dtype; a backward's ``scale`` too."""
    if x.ndim != 3 or x.shape[1] > MOST_CLASSES:
        return False
    if weight is not None and (not same_floats(x, weight) or weight.shape != (x.shape[1],)):
        return False
    scale = rest[3] if len(rest) == 4 else None
    if scale is not None and (scale.dtype != x.dtype or scale.shape not in (t.shape, ())):
        return False
    return (same_floats(x) and x.ndim == 3 and t.dtype == "int64"
            and t.shape == (x.shape[0], x.shape[2]))


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "losses.class_index_loss": on_device(_class_index_loss, _class_index_call),
    "losses.class_index_loss_backward": on_device(_class_index_loss_backward, _class_index_call),
    "losses.class_index_mean": on_device(_class_index_mean, _class_index_mean_call),
    "losses.ctc_forward": on_device(_ctc_forward),
    "losses.ctc_backward": on_device(_ctc_backward),
}
