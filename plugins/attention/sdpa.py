"""``scaled_dot_product_attention``: ``softmax(q k^T * scale + mask) v``.

The public function checks its arguments, turns the masks into one additive float
mask and repeats key/value heads for grouped-query attention. Without a mask or
dropout, the fused kernel of ``flash.py`` serves the call where it can; otherwise
``unfused.attention`` does the arithmetic with differentiable ember ops.
"""

import math

import ember

from .._checks import real, tensor_arg
from . import unfused
from .flash import flash_attention

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """Attention of each query over the keys: ``softmax(q k^T * scale + bias) v``.

    Args:
        query: ``(*, L, E)``.
        key: ``(*, S, E)``; its batch dimensions broadcast with the query's.
        value: ``(*, S, Ev)``.
        attn_mask: broadcastable to ``(*, L, S)``: a bool mask says which keys each
            query may attend to (True = attend), a float mask is added to the scores.
        dropout_p: probability of dropping an attention weight (always applied when
            positive: pass 0.0 when evaluating). Default: 0.0.
        is_causal: query ``i`` attends to keys ``0..i`` only (the mask is aligned to
            the upper left corner when ``L != S``); not together with ``attn_mask``.
        scale: factor of the scores. Default: ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: key and value may have fewer heads
            (dim -3) than the query, each of their heads then serves a group of
            consecutive query heads.

    Returns:
        ``(*, L, Ev)``. A query that may attend to no key gets zeros.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        tensor_arg(t, "scaled_dot_product_attention", name)
    tensor_arg(attn_mask, "scaled_dot_product_attention", "attn_mask", optional=True)
    _check_inputs(query, key, value)
    dropout_p = real(dropout_p, "scaled_dot_product_attention", "dropout_p", low=0.0, high=1.0,
                     error=RuntimeError)
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    if enable_gqa:
        key, value = _repeat_heads(query, key, value)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else math.inf
    else:
        scale = real(scale, "scaled_dot_product_attention", "scale", finite=False)
    batch = _broadcast(tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2]))
    if batch is None:
        raise RuntimeError(f"scaled_dot_product_attention: the batch dimensions of query "
                           f"{list(query.shape[:-2])}, key {list(key.shape[:-2])} and value "
                           f"{list(value.shape[:-2])} do not broadcast")
    if attn_mask is None and dropout_p == 0.0:
        fused = flash_attention(query, key, value, scale, is_causal)
        if fused is not None:
            return fused
    bias = _additive_mask(attn_mask, is_causal, batch + (query.shape[-2], key.shape[-2]), query)
    return unfused.attention(query, key, value, bias, dropout_p, scale, rows_may_be_empty=attn_mask is not None)


def _check_inputs(query, key, value):
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value to be at "
                           f"least 2-D, but got {query.dim()}-D, {key.dim()}-D and {value.dim()}-D")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"scaled_dot_product_attention: expected query, key and value to have the "
                           f"same dtype, but got {query.dtype}, {key.dtype} and {value.dtype}")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention: expected floating-point query, key and "
                           f"value, but got {query.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same embedding "
                           f"size, but got {query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same sequence "
                           f"length, but got {key.shape[-2]} and {value.shape[-2]}")


def _repeat_heads(query, key, value):
    """Key and value with each head repeated to match the query's number of heads."""
    if query.dim() < 3 or key.dim() < 3 or value.dim() < 3:
        raise IndexError("scaled_dot_product_attention: enable_gqa needs a heads dimension (-3) in "
                         "query, key and value")
    heads = query.shape[-3]
    if heads % key.shape[-3] or heads % value.shape[-3]:
        raise RuntimeError(f"scaled_dot_product_attention: the number of heads in key "
                           f"({key.shape[-3]}) and value ({value.shape[-3]}) must divide the number "
                           f"of heads in query ({heads})")
    return _repeat_interleave_heads(key, heads), _repeat_interleave_heads(value, heads)


def _repeat_interleave_heads(x, heads):
    group = heads // x.shape[-3]
    if group == 1:
        return x
    lead, (h, s, e) = tuple(x.shape[:-3]), tuple(x.shape[-3:])
    return x.unsqueeze(-3).expand(*lead, h, group, s, e).reshape(*lead, heads, s, e)


def _additive_mask(attn_mask, is_causal, scores_shape, query):
    """The mask as a float tensor added to the scores (``-inf`` where a bool mask
    forbids), checked against the scores' shape; None without a mask."""
    if is_causal:
        return unfused.causal_bias(*scores_shape[-2:], query)
    if attn_mask is None:
        return None
    dtype = attn_mask.dtype
    if dtype is not ember.bool and dtype is not ember.float32 and dtype is not query.dtype:
        raise RuntimeError(f"scaled_dot_product_attention: expected attn_mask to be bool, float32 or "
                           f"of the query's dtype ({query.dtype}), but got {dtype}")
    if _broadcast(scores_shape, tuple(attn_mask.shape)) != scores_shape:
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape {list(attn_mask.shape)} "
                           f"does not broadcast to the attention scores' shape {list(scores_shape)}")
    if dtype is ember.bool:
        zeros = ember.zeros(tuple(attn_mask.shape), dtype=query.dtype, device=query.device)
        return zeros.masked_fill(attn_mask.logical_not(), -math.inf)
    return attn_mask


def _broadcast(*shapes):
    """The broadcast of the shapes, or None if they do not broadcast."""
    n = max(len(s) for s in shapes)
    out = [1] * n
    for shape in shapes:
        for i, size in enumerate((1,) * (n - len(shape)) + shape):
            if size != 1:
                if out[i] not in (1, size):
                    return None
                out[i] = size
    return tuple(out)
