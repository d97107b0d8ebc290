"""Attention from differentiable ember ops, ``softmax(q k^T * scale + bias) v``: what
``scaled_dot_product_attention`` runs where the fused kernel does not serve, and what
the fused kernel's node differentiates when a backward is itself recorded. Backward
and double backward need no formulas of their own."""

import math

import ember
from ember.backend import data_of, on_host

__all__ = []


def causal_bias(L, S, like):
    """torch's ``is_causal`` mask as an additive ``(L, S)`` one in ``like``'s dtype and on
    its device: query ``i`` attends to keys ``0..i`` (0), not to the later ones (-inf)."""
    later = ember.ones((L, S), dtype=ember.bool, device=like.device).triu(1)
    return ember.zeros((L, S), dtype=like.dtype, device=like.device).masked_fill(later, -math.inf)


def attention(query, key, value, bias, dropout_p, scale, rows_may_be_empty=True):
    """The attention on checked inputs: ``bias`` is an additive float mask (or None)
    that broadcasts to the scores, ``scale`` a float. ``rows_may_be_empty`` False says
    that the mask leaves every query a key (a causal one does): no query without one
    is looked for or given zero weights."""
    scores = (query * scale).matmul(key.transpose(-2, -1))
    if bias is not None and not rows_may_be_empty:
        weights = (scores + bias).softmax(-1)
    elif bias is not None:
        scores = scores + bias
        # a row with no key to attend to: its softmax would be 0/0; it gets zero weights
        # (and zero gradients), as torch's safe softmax gives. Read off the mask, which
        # is often much smaller than the scores; on a GPU, where the look would wait
        # for the device, every row is treated as if it might be one.
        dead = (bias == -math.inf).all(-1, keepdim=True)
        if not on_host(bias) or data_of(dead).any():
            weights = scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
        else:
            weights = scores.softmax(-1)
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = ember.nn.functional.dropout(weights, dropout_p)
    return weights.matmul(value)
