"""The cuda backend's own kernels for the core's hot ops: CuPy element-wise and
reduction kernels that do in one or two launches what the generic array-namespace
kernels do in four or five, with no temporaries between the steps.

Each entry is a factory of the array namespace (``kernel(..., factory=True)``), so
its CuPy kernel objects are built on the op's first use; the tests build the same
factories with a CPU stand-in for ``cupy`` (tests/cuda_emulator.py) and compare
them with the generic kernels. Arrays of other dtypes, or of mixed dtypes, go to
the generic kernels through ``accepts``.

``optim.sgd_step`` and ``optim.adam_step`` take the arguments the CPU backend's do
(see ember/backends/cpu/optim.py) and update the parameter and its state in one
launch per parameter.
"""

from ember.kernels import floating, kernel


def same_floats(*args):
    """True when the array arguments (others are not looked at) are all float32, or
    all float64: the element-wise kernels type every array with one placeholder."""
    dtype = None
    for a in args:
        if getattr(a, "dtype", None) is None:
            continue
        if dtype is None:
            if not floating(a):
                return False
            dtype = a.dtype
        elif a.dtype != dtype:
            return False
    return dtype is not None


def _elementwise(xp, params, operation, name):
    ins, outs = params
    return xp.ElementwiseKernel(ins, outs, operation, "ember_" + name)


def _relu(xp):
    # x < 0, not x > 0: a NaN passes through, as in torch
    return _elementwise(xp, ("T x", "T y"), "y = x < T(0) ? T(0) : x", "relu")


def _erf(xp):
    return _elementwise(xp, ("T x", "T y"), "y = erf(x)", "erf")


def _sigmoid(xp):
    return _elementwise(xp, ("T x", "T y"),
                        "T e = exp(-fabs(x)); y = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e)",
                        "sigmoid")


def _sigmoid_backward(xp):
    return _elementwise(xp, ("T g, T y", "T d"), "d = g * y * (T(1) - y)", "sigmoid_backward")


def _tanh_backward(xp):
    return _elementwise(xp, ("T g, T y", "T d"), "d = g * (T(1) - y * y)", "tanh_backward")


def _threshold_backward(xp):
    run = _elementwise(xp, ("T g, T x, T t", "T d"), "d = x <= t ? T(0) : g", "threshold_backward")
    return lambda g, x, threshold: run(g, x, threshold)


def _sum_over(xp, map_expr, params, name):
    """A reduction kernel summing ``map_expr`` of the inputs (in their own type)."""
    return xp.ReductionKernel(params, "T s", map_expr, "a + b", "s = a", "0", "ember_" + name)


def _shifted(xp, operation, name):
    """A softmax-like op of ``x`` along ``dim``: ``operation`` of ``x``, its maximum
    ``m`` and ``s = sum(exp(x - m))``, in a max, a reduction and an element-wise launch."""
    sum_exp = _sum_over(xp, "exp(x - m)", "T x, T m", "sum_exp")
    finish = _elementwise(xp, ("T x, T m, T s", "T y"), operation, name)

    def run(x, dim):
        m = x.max(axis=dim, keepdims=True)
        return finish(x, m, sum_exp(x, m, axis=dim, keepdims=True))

    run.__name__ = name
    return run


def _softmax(xp):
    return _shifted(xp, "y = exp(x - m) / s", "softmax")


def _log_softmax(xp):
    return _shifted(xp, "y = x - m - log(s)", "log_softmax")


def _softmax_backward(xp):
    dot = _sum_over(xp, "g * y", "T g, T y", "grad_dot_output")
    grad = _elementwise(xp, ("T g, T y, T s", "T d"), "d = y * (g - s)", "softmax_backward")
    return lambda g, y, dim: grad(g, y, dot(g, y, axis=dim, keepdims=True))


def _log_softmax_backward(xp):
    grad = _elementwise(xp, ("T g, T y, T s", "T d"), "d = g - exp(y) * s", "log_softmax_backward")
    return lambda g, y, dim: grad(g, y, g.sum(axis=dim, keepdims=True))


def _softmax_args(x, dim):
    return floating(x) and x.ndim > 0 and x.size > 0


def _softmax_backward_args(g, y, dim):
    return same_floats(g, y) and g.shape == y.shape and g.ndim > 0 and g.size > 0


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
    plain = _elementwise(xp, ("T g, T lr, T weight_decay, bool decays", "T p"), _SGD_PLAIN, "sgd")
    momentum_step = _elementwise(
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
_ADAM = ("T x = decoupled ? p * decay : p; T d = coupled ? g + x * weight_decay : g;"
         " T a = m * beta1 + d * keep1; T s = v * beta2 + (d * d) * keep2; m = a; v = s;"
         " T second = s;"
         " if (amsgrad) { second = vmax[i]; second = (second >= s || second != second) ? second : s;"
         " vmax[i] = second; }"
         " p = x + (a / (sqrt(second) / bias2_sqrt + eps)) * step_scale")


def _adam_step(xp):
    run = _elementwise(
        xp, ("T g, raw T vmax, T beta1, T keep1, T beta2, T keep2, T weight_decay, T decay,"
             " T bias2_sqrt, T eps, T step_scale, bool decoupled, bool coupled, bool amsgrad",
             "T p, T m, T v"), _ADAM, "adam")

    def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                  weight_decay, decoupled, step):
        if not _updatable(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
            return False
        for state in (exp_avg, exp_avg_sq, max_exp_avg_sq):
            if state is not None and not state.flags.c_contiguous:
                return False
        decay = 1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0
        coupled_decay = 0.0 if decoupled else weight_decay
        amsgrad = max_exp_avg_sq is not None
        run(grad, max_exp_avg_sq if amsgrad else param, beta1, 1 - beta1, beta2, 1 - beta2,
            coupled_decay, decay, (1 - beta2 ** step) ** 0.5, eps, -lr / (1 - beta1 ** step),
            decay != 1, coupled_decay != 0, amsgrad, param, exp_avg, exp_avg_sq)
        return True

    return adam_step


def on_device(factory, accepts=None):
    """A cuda kernel entry: ``factory`` builds it from the ``cupy`` namespace on the
    op's first use; ``accepts`` sends the calls it does not take to the generic kernel."""
    return kernel(factory, accepts=accepts, factory=True)


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "erf": on_device(_erf, accepts=floating),
    "relu": on_device(_relu, accepts=floating),
    "sigmoid": on_device(_sigmoid, accepts=floating),
    "sigmoid_backward": on_device(_sigmoid_backward, accepts=same_floats),
    "tanh_backward": on_device(_tanh_backward, accepts=same_floats),
    "threshold_backward": on_device(_threshold_backward, accepts=same_floats),
    "softmax": on_device(_softmax, accepts=_softmax_args),
    "log_softmax": on_device(_log_softmax, accepts=_softmax_args),
    "softmax_backward": on_device(_softmax_backward, accepts=_softmax_backward_args),
    "log_softmax_backward": on_device(_log_softmax_backward, accepts=_softmax_backward_args),
    "optim.sgd_step": on_device(_sgd_step),
    "optim.adam_step": on_device(_adam_step),
}
