"""``flash_attention``: ``softmax(q k^T * scale) v`` through the fused kernels
``attention.flash_forward`` / ``attention.flash_backward`` (see kernels.py), which
never hold the ``L x S`` scores whole; None where they do not serve the call, so the
caller takes the math path.

Forward and first-order backward run on the arrays; the node keeps ``q, k, v``, the
output, the rows' log-sum-exp and, for short key sequences, the attention weights.
When a backward itself is being recorded (``create_graph=True``) the gradients come
instead from the attention rebuilt with differentiable ember ops, so double backward
works.
"""

import ember
from ember.autograd import Function
from ember.backend import data_of, kernel_for, tensor_like

from . import unfused

__all__ = []

#: Below this many scores per problem (``L * S``) the math path is faster on the CPU:
#: the kernels' fixed costs per call outweigh the passes over the scores they save
#: (measured on 2 cores, float32, E = 64, fwd + bwd: 4 x 4 scores 1.4x slower than the
#: math path, 8 x 8 up to 512 x 512 0.6-0.99x of its time, 1024 x 1024 0.83x).
MIN_SCORES = 64


def _problems(t):
    """``t (..., n, d)``'s array with one or two leading dims, the kernels' layout: a
    view where one serves (the kernels take rows that are not adjacent, such as a
    head's part of each row), so heads split off by ``transpose`` are not copied."""
    a = data_of(t)
    if a.ndim == 2:
        return a[None]
    return a if a.ndim <= 4 else a.reshape((-1,) + a.shape[-3:])


class _FlashAttention(Function):
    """Fused attention of ``(..., L, E)`` queries over ``(..., S, E)`` keys and
    ``(..., S, Ev)`` values with the same leading dims; ``result`` is the forward
    kernel's ``(out, lse, probs)``, computed before the node is made (the kernel may
    decline)."""

    backward_name = "ScaledDotProductFlashAttentionForCpuBackward0"

    @staticmethod
    def forward(ctx, query, key, value, result, scale, causal):
        out, lse, probs = result
        output = tensor_like(out.reshape(tuple(query.shape[:-1]) + (value.shape[-1],)), query)
        # the output shares its version counter with what the caller gets: changing that
        # in place makes backward refuse, as torch's does
        ctx.save_for_backward(query, key, value, output)
        ctx.lse, ctx.probs, ctx.scale, ctx.causal = lse, probs, scale, causal
        return output

    @staticmethod
    def backward(ctx, grad):
        query, key, value, output = ctx.saved_tensors
        if ember.is_grad_enabled():
            return _recorded_grads(ctx, query, key, value, grad) + (None, None, None)
        run = kernel_for("attention.flash_backward", query)
        # the weights go with the first backward, as saved tensors do; another one
        # (retain_graph) rebuilds them from lse
        probs, ctx.probs = ctx.probs, None
        grads = run(_problems(grad), _problems(query), _problems(key), _problems(value),
                    _problems(output), ctx.lse, probs, ctx.scale, ctx.causal)
        grads = tuple(tensor_like(g.reshape(t.shape), t) if need else None
                      for g, t, need in zip(grads, (query, key, value), ctx.needs_input_grad))
        return grads + (None, None, None)


def _recorded_grads(ctx, query, key, value, grad):
    """The gradients of ``query, key, value`` with their own graph (``create_graph``)."""
    inputs = (query, key, value)
    need = ctx.needs_input_grad[:3]
    bias = unfused.causal_bias(query.shape[-2], key.shape[-2], query) if ctx.causal else None
    out = unfused.attention(query, key, value, bias, 0.0, ctx.scale)
    found = iter(ember.autograd.grad(out, [t for t, n in zip(inputs, need) if n], grad,
                                     create_graph=True, allow_unused=True))
    return tuple(next(found) if n else None for n in need)


def flash_attention(query, key, value, scale, is_causal):
    """Attention of each query over the keys, ``softmax(q k^T * scale) v`` (with
    ``is_causal``, query ``i`` over keys ``0..i``), by the fused kernel of the tensors'
    backend.

    Args:
        query: ``(*, L, E)``.
        key: ``(*, S, E)``, the same leading dims ``*``.
        value: ``(*, S, Ev)``, the same leading dims.
        scale (float): factor of the scores.
        is_causal (bool): mask as torch's ``is_causal`` (aligned to the upper left).

    Returns:
        ``(*, L, Ev)`` with autograd, or None where the kernel does not serve the call
        (no kernel for the backend or dtype, mixed dtypes, unequal leading dims, empty
        dims, or problems small enough for the math path to be faster).
    """
    if query.dim() < 2 or not (query.dim() == key.dim() == value.dim()):
        return None
    lead = tuple(query.shape[:-2])
    if tuple(key.shape[:-2]) != lead or tuple(value.shape[:-2]) != lead:
        return None
    if not (query.dtype is key.dtype is value.dtype) or not (query.device == key.device == value.device):
        return None
    (L, E), (S, Ek), (Sv, Ev) = query.shape[-2:], key.shape[-2:], value.shape[-2:]
    if E != Ek or S != Sv or 0 in (L, E, S, Ev) or 0 in lead or L * S < MIN_SCORES:
        return None
    scale, causal = float(scale), bool(is_causal)
    recording = ember.is_grad_enabled() and (query.requires_grad or key.requires_grad or value.requires_grad)
    result = kernel_for("attention.flash_forward", query)(
        _problems(query), _problems(key), _problems(value), scale, causal, recording)
    if result is None:
        return None
    return _FlashAttention.apply(query, key, value, result, scale, causal)
