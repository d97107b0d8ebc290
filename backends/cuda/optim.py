"""The cuda backend's optimizer steps: one launch updates a parameter and its state
(``optim.sgd_step``, ``optim.adam_step``: the CPU backend's arguments, see
ember/backends/cpu/optim.py), or every parameter of a group at once.

The multi-tensor steps take lists, one entry per parameter (``columns``: the
parameters, their gradients, then each state, None for a state the options do
not use), and return True once launched, or False, touching nothing, when an
array is not what they take: float32/float64 of one dtype, C-contiguous, each of
its parameter's shape, no two sharing memory. The optimizer then runs its
per-parameter steps. Gradients are read as given and negated in the kernel when
``maximize``; the formulas are those of the per-parameter kernels and of the
optimizers' tensor ops, in the same rounding order.

``optim.sgd_steps(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, maximize, first)``
    ``first``: the buffers are new (every one: the optimizer does not mix).
``optim.adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, device_steps, lr, beta1, beta2, eps, weight_decay, decoupled, maximize, steps)``
    ``steps``: the step count of each parameter (already counted) when the
    counters live on the host; with ``capturable``, ``device_steps`` are the
    counters themselves, 0-d float32 device arrays that a first small launch
    increments and turns into each tensor's bias corrections (``steps`` is None):
    nothing is read or written by the host, so the step replays in a CUDA graph.
``optim.rmsprop_steps(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps, weight_decay, momentum, maximize)``
``optim.adagrad_steps(params, grads, state_sums, clrs, eps, weight_decay, maximize)``
    ``clrs``: each parameter's decayed learning rate ``lr / (1 + (t - 1) * lr_decay)``.

Per-tensor numbers that differ between tensors (bias corrections from step counts
that differ, Adagrad's decayed rates) go to the device as a small table; equal
ones, the usual case, go as kernel arguments, so a steady-state step uploads
nothing (the address tables are cached, see :class:`.raw.TensorTables`).
"""

import numpy as np

from ember.kernels import floating

from .kernels import elementwise, on_device, same_floats
from .raw import GRID_STRIDE_LOOP, TENSOR_OF, FloatKernels, TensorTables, disjoint


def _updatable(xp, param, *others):
    """True when the fused step may update ``param`` and its state in place: one float
    dtype and shape, the parameter contiguous, no two arrays sharing memory."""
    arrays = [param, *(a for a in others if a is not None)]
    if not same_floats(*arrays) or not param.flags.c_contiguous:
        return False
    if any(a.shape != param.shape for a in arrays):
        return False
    return not any(xp.may_share_memory(a, b) for k, a in enumerate(arrays) for b in arrays[k + 1:])


# SGD: d = g (+ weight_decay * p); with momentum the buffer becomes d on the first step,
# else momentum * buf + keep * d, and d becomes buf (nesterov: d + momentum * buf);
# then p += lr * d with lr already negated, as torch's p.add_(d, alpha=-lr) rounds.
_SGD_PLAIN = "T d = decays ? g + p * weight_decay : g; p = p + d * lr"
_SGD_MOMENTUM = ("T d = decays ? g + p * weight_decay : g;"
                 " T b = first ? d : buf * momentum + d * keep; buf = b;"
                 " d = nesterov ? d + b * momentum : b; p = p + d * lr")


def _sgd_step(xp):
    plain = elementwise(xp, ("T g, T lr, T weight_decay, bool decays", "T p"), _SGD_PLAIN, "sgd")
    momentum_step = elementwise(
        xp, ("T g, T lr, T momentum, T keep, T weight_decay, bool decays, bool nesterov, bool first",
             "T p, T buf"), _SGD_MOMENTUM, "sgd_momentum")

    def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, first):
        if not _updatable(xp, param, grad, momentum_buffer):
            return False
        decays = weight_decay != 0
        if momentum_buffer is None:
            plain(grad, -lr, weight_decay, decays, param)
        else:
            momentum_step(grad, -lr, momentum, 1 - dampening, weight_decay, decays, bool(nesterov),
                          bool(first), param, momentum_buffer)
        return True

    return sgd_step


# Adam(W), as the CPU loops compute it: AdamW scales p by decay = 1 - lr * weight_decay,
# Adam adds weight_decay * p to the gradient; AMSGrad keeps the running maximum of v
# (a NaN on either side wins, as torch.maximum); step_scale = -lr / (1 - beta1**t).
_ADAM_MOMENTS = ("T x = decoupled ? p * decay : p; T d = coupled ? g + x * weight_decay : g;"
                 " T a = m * beta1 + d * keep1; T s = v * beta2 + (d * d) * keep2; m = a; v = s;"
                 " T second = s;"
                 " if (amsgrad) { second = vmax[i]; second = (second >= s || second != second) ? second : s;"
                 " vmax[i] = second; }")
_ADAM_UPDATE = "p = x + (a / (sqrt(second) / bias2_sqrt + eps)) * step_scale"
# torch's capturable form: the corrections come from the device's float32 step count
# (see _ADAM_CORRECTIONS) and are folded into the denominator.
_ADAM_CAPTURED = "p = x + a / (sqrt(second) / scaled_bias2_sqrt + scaled_eps)"


def _adam_step(xp):
    run = elementwise(
        xp, ("T g, raw T vmax, T beta1, T keep1, T beta2, T keep2, T weight_decay, T decay,"
             " T bias2_sqrt, T eps, T step_scale, bool decoupled, bool coupled, bool amsgrad",
             "T p, T m, T v"), f"{_ADAM_MOMENTS} {_ADAM_UPDATE}", "adam")

    def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                  weight_decay, decoupled, step):
        if not _updatable(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            return False
        for state in (exp_avg, exp_avg_sq, max_exp_avg_sq):
            if state is not None and not state.flags.c_contiguous:
                return False
        decay, coupled_decay = _adam_decays(lr, weight_decay, decoupled)
        amsgrad = max_exp_avg_sq is not None
        bias2_sqrt, step_scale = _adam_corrections(lr, beta1, beta2, step)
        run(grad, max_exp_avg_sq if amsgrad else param, beta1, 1 - beta1, beta2, 1 - beta2,
            coupled_decay, decay, bias2_sqrt, eps, step_scale, decay != 1, coupled_decay != 0, amsgrad,
            param, exp_avg, exp_avg_sq)
        return True

    return adam_step


def _adam_decays(lr, weight_decay, decoupled):
    """``(decay, coupled_decay)``: AdamW's factor on p (1 when it has none) and Adam's
    L2 coefficient added to the gradient (0 for AdamW)."""
    decay = 1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0
    return decay, 0.0 if decoupled else weight_decay


def _adam_corrections(lr, beta1, beta2, step):
    """``(sqrt(1 - beta2**t), -lr / (1 - beta1**t))`` in double, as torch's Python does."""
    return (1 - beta2 ** step) ** 0.5, -lr / (1 - beta1 ** step)


def _multi_source(name, params, scalars, roles, body):
    """CUDA C of multi-tensor kernel ``name``: its arguments after the table are
    ``params``, then the ``scalars`` (names), given as double and used as ``T``; in
    the loop, ``j`` is item ``i``'s tensor, ``k`` its offset there, and each of
    ``roles`` (C names, in the table's column order) points at tensor ``j``'s array
    of that role; ``body`` updates element ``k``."""
    doubles = ", ".join(f"double {s}_" for s in scalars)
    typed = "".join(f"    const T {s} = T({s}_);\n" for s in scalars)
    pointers = "".join(f"        T* {role} = (T*)table[{c + 1} * count + j];\n"
                       for c, role in enumerate(roles))
    return TENSOR_OF + f"""
extern "C" __global__ void {name}(const long long* table, long long count, long long n,
                                  {params}, {doubles}) {{
{typed}    {GRID_STRIDE_LOOP} {{
        const long long j = ember_tensor_of(table, count, i);
        const long long k = ember_offset_in(table, j, i);
{pointers}        {body};
    }}
}}
"""


def _takes(columns, counters=()):
    """True when a multi-tensor kernel may update the arrays of ``columns`` (lists, one
    per role, None for an unused role; the first is the parameters) in place, and the
    0-d float32 ``counters`` with them."""
    params = columns[0]
    if not params or not floating(params[0]):
        return False
    dtype = params[0].dtype
    arrays = []
    for column in columns:
        if column is None:
            continue
        if len(column) != len(params):
            return False
        for a, p in zip(column, params):
            if a.dtype != dtype or a.shape != p.shape or not a.flags.c_contiguous:
                return False
        arrays.extend(column)
    for c in counters:
        if c.dtype != np.float32 or c.shape != () or not c.flags.c_contiguous:
            return False
    return disjoint(arrays + list(counters))


class _MultiTensor:
    """One multi-tensor kernel (see :func:`_multi_source` for the arguments): its
    float32/float64 builds, its cached address tables, and the per-tensor numbers
    given to it (see :meth:`per_tensor`)."""

    def __init__(self, xp, name, params, scalars, roles, body):
        self.kernels = FloatKernels(xp, _multi_source(name, params, scalars, roles, body), name)
        self.tables = TensorTables(xp)

    def per_tensor(self, rows, dtype):
        """``(table, flag, row)`` for per-tensor numbers ``rows`` (equal-length tuples):
        when all rows are equal, a placeholder table, 0 and the row, to go as kernel
        arguments; else the rows' device table, 1 and a row of zeros."""
        if all(row == rows[0] for row in rows):
            return self.tables.values((0,), dtype), 0, rows[0]
        flat = [x for row in rows for x in row]
        return self.tables.values(flat, dtype), 1, (0,) * len(rows[0])

    def __call__(self, columns, params, scalars):
        """Launch over every element of the parameters (``columns[0]``) with ``params``
        (arrays, and numbers for ``int`` flags) and ``scalars``; an unused role's
        column reads the parameters (never used)."""
        arrays = columns[0]
        n = sum(a.size for a in arrays)
        if n:
            table = self.tables.addresses([arrays if c is None else c for c in columns])
            params = tuple(np.int32(x) if isinstance(x, (bool, int)) else x for x in params)
            self.kernels(arrays[0].dtype, n, (table, np.int64(len(arrays)), np.int64(n), *params,
                                              *(np.float64(x) for x in scalars)))


_ELEMENT = "const T g = maximize ? -G[k] : G[k]; T& p = P[k];"


def _sgd_steps(xp):
    run = _MultiTensor(
        xp, "ember_sgd_steps", "int decays, int nesterov, int first, int maximize, int momentum_on",
        ("lr", "momentum", "keep", "weight_decay"), ("P", "G", "B"),
        f"{_ELEMENT} T& buf = B[k]; if (momentum_on) {{ {_SGD_MOMENTUM}; }} else {{ {_SGD_PLAIN}; }}")

    def sgd_steps(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov,
                  maximize, first):
        columns = [params, grads, momentum_buffers]
        if not _takes(columns):
            return False
        run(columns, (weight_decay != 0, bool(nesterov), bool(first), bool(maximize),
                      momentum_buffers is not None), (-lr, momentum, 1 - dampening, weight_decay))
        return True

    return sgd_steps


# The capturable step's first launch, one thread per tensor: count the step on the
# device, then torch's float32 corrections of the count: with size = lr / (1 - beta1**t),
# the denominator's divisor sqrt(1 - beta2**t) * -size and addend eps / -size (torch
# divides a number by a tensor as the tensor's reciprocal times the number).
_ADAM_CORRECTIONS = f"""
extern "C" __global__ void ember_adam_corrections(const long long* steps, long long n, T* corr,
                                                  float beta1, float beta2, float lr, float eps) {{
    {GRID_STRIDE_LOOP} {{
        float* step = (float*)steps[i];
        const float t = *step + 1.0f;
        *step = t;
        const float size_neg = -((1.0f / (1.0f - powf(beta1, t))) * lr);
        corr[2 * i] = T(sqrtf(1.0f - powf(beta2, t)) * size_neg);
        corr[2 * i + 1] = T((1.0f / size_neg) * eps);
    }}
}}
"""


def _adam_steps(xp):
    run = _MultiTensor(
        xp, "ember_adam_steps",
        "const T* corr, int per_tensor, int decoupled, int coupled, int amsgrad, int maximize,"
        " int capturable",
        ("c0", "c1", "beta1", "keep1", "beta2", "keep2", "weight_decay", "decay", "eps"),
        ("P", "G", "M", "V", "VMAX"),
        # i becomes the element's offset in its tensor: the moments' formula indexes vmax by it
        f"{{ const long long i = k; {_ELEMENT} T& m = M[k]; T& v = V[k]; T* vmax = VMAX;"
        " const T corr0 = per_tensor ? corr[2 * j] : c0, corr1 = per_tensor ? corr[2 * j + 1] : c1;"
        f" {_ADAM_MOMENTS}"
        f" if (capturable) {{ const T scaled_bias2_sqrt = corr0, scaled_eps = corr1; {_ADAM_CAPTURED}; }}"
        f" else {{ const T step_scale = corr0, bias2_sqrt = corr1; {_ADAM_UPDATE}; }} }}")
    count_steps = FloatKernels(xp, _ADAM_CORRECTIONS, "ember_adam_corrections")

    def adam_steps(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, device_steps, lr, beta1,
                   beta2, eps, weight_decay, decoupled, maximize, steps):
        columns = [params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs]
        capturable = device_steps is not None
        if not _takes(columns, device_steps or ()):
            return False
        dtype = params[0].dtype
        decay, coupled_decay = _adam_decays(lr, weight_decay, decoupled)
        if capturable:
            corr, per_tensor, pair = run.tables.workspace(2 * len(params), dtype), 1, (0, 0)
            table = run.tables.addresses([device_steps])[len(params):]
            count_steps(dtype, len(params), (table, np.int64(len(params)), corr, *(
                np.float32(x) for x in (beta1, beta2, lr, eps))))
        else:
            rows = [_adam_corrections(lr, beta1, beta2, step)[::-1] for step in steps]
            corr, per_tensor, pair = run.per_tensor(rows, dtype)
        run(columns, (corr, per_tensor, decay != 1, coupled_decay != 0, max_exp_avg_sqs is not None,
                      bool(maximize), capturable),
            (*pair, beta1, 1 - beta1, beta2, 1 - beta2, coupled_decay, decay, eps))
        return True

    return adam_steps


# RMSprop as its tensor ops round: v = alpha * v + keep * d * d (keep = 1 - alpha); the
# denominator sqrt(v) + eps, centered sqrt(v - ga * ga) + eps with ga the running mean of
# d; then p += lr * d / denominator (lr negated), through the momentum buffer if any.
_RMSPROP = ("T d = decays ? g + p * weight_decay : g;"
            " T s = sq * alpha + (d * d) * keep; sq = s; T avg;"
            " if (centered) { T ga = gavg * alpha + d * keep; gavg = ga; avg = sqrt(s - ga * ga); }"
            " else { avg = sqrt(s); }"
            " avg = avg + eps;"
            " if (momentum_on) { T b = buf * momentum + d / avg; buf = b; p = p + b * lr; }"
            " else { p = p + (d / avg) * lr; }")


def _rmsprop_steps(xp):
    run = _MultiTensor(
        xp, "ember_rmsprop_steps", "int decays, int centered, int momentum_on, int maximize",
        ("lr", "alpha", "keep", "eps", "weight_decay", "momentum"), ("P", "G", "SQ", "GA", "B"),
        f"{_ELEMENT} T& sq = SQ[k]; T& gavg = GA[k]; T& buf = B[k]; {_RMSPROP}")

    def rmsprop_steps(params, grads, square_avgs, grad_avgs, momentum_buffers, lr, alpha, eps,
                      weight_decay, momentum, maximize):
        columns = [params, grads, square_avgs, grad_avgs, momentum_buffers]
        if not _takes(columns):
            return False
        run(columns, (weight_decay != 0, grad_avgs is not None, momentum_buffers is not None,
                      bool(maximize)), (-lr, alpha, 1 - alpha, eps, weight_decay, momentum))
        return True

    return rmsprop_steps


# Adagrad as its tensor ops round: s += d * d; p += lr * d / (sqrt(s) + eps), lr the
# negated decayed rate of the tensor.
_ADAGRAD = ("T d = decays ? g + p * weight_decay : g; T s = sum + d * d; sum = s;"
            " p = p + (d / (sqrt(s) + eps)) * lr")


def _adagrad_steps(xp):
    run = _MultiTensor(
        xp, "ember_adagrad_steps", "const T* clrs, int per_tensor, int decays, int maximize",
        ("clr", "eps", "weight_decay"), ("P", "G", "S"),
        f"{_ELEMENT} T& sum = S[k]; const T lr = per_tensor ? clrs[j] : clr; {_ADAGRAD}")

    def adagrad_steps(params, grads, state_sums, clrs, eps, weight_decay, maximize):
        columns = [params, grads, state_sums]
        if not _takes(columns):
            return False
        table, per_tensor, (clr,) = run.per_tensor([(-c,) for c in clrs], params[0].dtype)
        run(columns, (table, per_tensor, weight_decay != 0, bool(maximize)), (clr, eps, weight_decay))
        return True

    return adagrad_steps


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "optim.sgd_step": on_device(_sgd_step),
    "optim.adam_step": on_device(_adam_step),
    "optim.sgd_steps": on_device(_sgd_steps),
    "optim.adam_steps": on_device(_adam_steps),
    "optim.rmsprop_steps": on_device(_rmsprop_steps),
    "optim.adagrad_steps": on_device(_adagrad_steps),
}
