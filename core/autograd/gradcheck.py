"""Finite-difference checks of analytical gradients (``gradcheck``, ``gradgradcheck``)."""

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical Jacobians differ."""


def _tensors(inputs):
    from .._tensor import Tensor

    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]


def _outputs(func, inputs):
    from .._tensor import Tensor

    out = func(*inputs)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in out if isinstance(o, Tensor)]


def _evaluate(func, inputs, out_index):
    out = _outputs(func, inputs)[out_index]
    return out._be.to_host(out._data).astype(np.float64).reshape(-1)


def _numerical(func, inputs, wrt, out_index, eps):
    # Gradients stay enabled: for gradgradcheck, ``func`` itself calls autograd.grad.
    # The perturbations write the raw data (any strides), so no version counter moves.
    data = wrt._data
    size = _evaluate(func, inputs, out_index).size
    jac = np.zeros((data.size, size))
    for i, idx in enumerate(np.ndindex(*data.shape)):
        orig = data[idx].item()
        data[idx] = orig + eps
        plus = _evaluate(func, inputs, out_index)
        data[idx] = orig - eps
        minus = _evaluate(func, inputs, out_index)
        data[idx] = orig
        jac[i] = (plus - minus) / (2 * eps)
    return jac


def _analytical(outputs, wrt, out_index):
    from . import grad as autograd_grad
    from .._creation import zeros_like

    out = outputs[out_index]
    jacs = [np.zeros((w._data.size, out._data.size)) for w in wrt]
    for j in range(out._data.size):
        g = zeros_like(out)
        g._data.reshape(-1)[j] = 1
        grads = autograd_grad(out, wrt, g, retain_graph=True, allow_unused=True)
        for k, gr in enumerate(grads):
            if gr is not None:
                jacs[k][:, j] = gr._be.to_host(gr._data).reshape(-1)
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, fast_mode=False, masked=None):
    """Compare the analytical Jacobian of ``func`` at ``inputs`` with central differences.

    Inputs that require grad should be float64. Returns True, or raises (or returns
    False when ``raise_exception=False``) naming the mismatching input and output.
    """
    from .._tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = _tensors(inputs)
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    outputs = _outputs(func, inputs)
    for o_idx, out in enumerate(outputs):
        if not out.is_floating_point():
            continue
        analytical = _analytical(outputs, wrt, o_idx) if out.requires_grad else [
            np.zeros((w._data.size, out._data.size)) for w in wrt]
        for k, w in enumerate(wrt):
            numerical = _numerical(func, inputs, w, o_idx, eps)
            if not np.allclose(analytical[k], numerical, rtol=rtol, atol=atol, equal_nan=True):
                if raise_exception:
                    raise GradcheckError(
                        f"Jacobian mismatch for output {o_idx} with respect to input {k},\n"
                        f"numerical:{numerical}\nanalytical:{analytical[k]}\n"
                    )
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  fast_mode=False, masked=False):
    """Check second derivatives: ``gradcheck`` applied to the gradient of ``func``."""
    from . import grad as autograd_grad
    from .._creation import tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device,
                               requires_grad=True) for o in outputs]
    grad_outputs = list(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        ins, gos = args[:n], args[n:]
        outs = _outputs(func, ins)
        wrt = _tensors(ins)
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        grads = autograd_grad([o for o, _ in pairs], wrt, [g for _, g in pairs],
                              create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
