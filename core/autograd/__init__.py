"""Automatic differentiation: ``backward``, ``grad``, ``Function``, grad modes, checks."""

from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .graph import Node
from .gradcheck import gradcheck, gradgradcheck
from .linear_map import linear_map
from .variable import Variable


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into the ``.grad`` of graph leaves the gradient of ``tensors``.

    Args:
        tensors: tensors to differentiate (scalars, or given ``grad_tensors``).
        grad_tensors: the gradient w.r.t. each of ``tensors`` (None for scalars).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass for higher-order derivatives.
        inputs: only accumulate into these leaves.
    """
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        grads = run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=inputs,
                             allow_unused=True)
        for t, g in zip(inputs, grads):
            if g is not None:
                t._accumulator().accumulate(g, create_graph)
        return
    run_backward(tensors, grad_tensors, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated).

    Args:
        outputs: tensors to differentiate.
        inputs: tensors to differentiate with respect to.
        grad_outputs: the gradient w.r.t. each output (None for scalar outputs).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass, so the result can be differentiated again.
        allow_unused: return None (instead of raising) for inputs the outputs don't use.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns a tuple with one gradient per input.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if is_grads_batched:
        raise NotImplementedError("ember.autograd.grad does not support is_grads_batched=True")
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = run_backward(outputs, _as_tuple(grad_outputs), retain_graph, create_graph,
                         inputs=inputs, allow_unused=bool(allow_unused) or materialize_grads)
    if materialize_grads:
        from .._creation import zeros_like

        grads = tuple(zeros_like(i) if g is None else g for g, i in zip(grads, inputs))
    return grads


__all__ = ["Function", "FunctionCtx", "Node", "backward", "enable_grad", "grad", "gradcheck",
           "gradgradcheck", "is_grad_enabled", "no_grad", "once_differentiable", "set_grad_enabled",
           "Variable"]
