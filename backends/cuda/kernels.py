"""The cuda backend's own kernels for the core's hot ops: CuPy element-wise and
reduction kernels that do in one or two launches what the generic array-namespace
kernels do in four or five, with no temporaries between the steps.

Each entry is a factory of the array namespace (``kernel(..., factory=True)``), so
its CuPy kernel objects are built on the op's first use; the tests build the same
factories with a CPU stand-in for ``cupy`` (tests/cuda_emulator.py) and compare
them with the generic kernels. Arrays of other dtypes, or of mixed dtypes, go to
the generic kernels through ``accepts``.

The optimizers' fused steps are in ``optim.py``, the RawKernels' shared launch
helpers in ``raw.py``.
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


def elementwise(xp, params, operation, name):
    """A CuPy element-wise kernel named ``ember_<name>`` of ``params`` (inputs, outputs)."""
    ins, outs = params
    return xp.ElementwiseKernel(ins, outs, operation, "ember_" + name)


def _relu(xp):
    # x < 0, not x > 0: a NaN passes through, as in torch
    return elementwise(xp, ("T x", "T y"), "y = x < T(0) ? T(0) : x", "relu")


def _erf(xp):
    return elementwise(xp, ("T x", "T y"), "y = erf(x)", "erf")


def _sigmoid(xp):
    return elementwise(xp, ("T x", "T y"),
                        "T e = exp(-fabs(x)); y = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e)",
                        "sigmoid")


def _sigmoid_backward(xp):
    return elementwise(xp, ("T g, T y", "T d"), "d = g * y * (T(1) - y)", "sigmoid_backward")


def _tanh_backward(xp):
    return elementwise(xp, ("T g, T y", "T d"), "d = g * (T(1) - y * y)", "tanh_backward")


def _threshold_backward(xp):
    run = elementwise(xp, ("T g, T x, T t", "T d"), "d = x <= t ? T(0) : g", "threshold_backward")
    return lambda g, x, threshold: run(g, x, threshold)


def _sum_over(xp, map_expr, params, name):
    """A reduction kernel summing ``map_expr`` of the inputs (in their own type)."""
    return xp.ReductionKernel(params, "T s", map_expr, "a + b", "s = a", "0", "ember_" + name)


def _shifted(xp, operation, name):
    """A softmax-like op of ``x`` along ``dim``: ``operation`` of ``x``, its maximum
    ``m`` and ``s = sum(exp(x - m))``, in a max, a reduction and an element-wise launch."""
    sum_exp = _sum_over(xp, "exp(x - m)", "T x, T m", "sum_exp")
    finish = elementwise(xp, ("T x, T m, T s", "T y"), operation, name)

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
    grad = elementwise(xp, ("T g, T y, T s", "T d"), "d = y * (g - s)", "softmax_backward")
    return lambda g, y, dim: grad(g, y, dot(g, y, axis=dim, keepdims=True))


def _log_softmax_backward(xp):
    grad = elementwise(xp, ("T g, T y, T s", "T d"), "d = g - exp(y) * s", "log_softmax_backward")
    return lambda g, y, dim: grad(g, y, g.sum(axis=dim, keepdims=True))


def _softmax_args(x, dim):
    return floating(x) and x.ndim > 0 and x.size > 0


def _softmax_backward_args(g, y, dim):
    return same_floats(g, y) and g.shape == y.shape and g.ndim > 0 and g.size > 0


def on_device(factory, accepts=None):
    """A cuda kernel entry: ``factory`` builds it from the ``cupy`` namespace on the
    op's first use; ``accepts`` sends the calls it does not take to the generic kernel."""
    return kernel(factory, accepts=accepts, factory=True)


# the optimizer steps use the helpers above: imported once they exist
from .optim import KERNELS as _OPTIM_KERNELS  # noqa: E402
from .precision import tf32_matmul  # noqa: E402

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
    "matmul": on_device(tf32_matmul),
    **_OPTIM_KERNELS,
}
