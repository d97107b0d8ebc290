"""Multi-head attention: ``multi_head_attention_forward`` and ``MultiheadAttention``.

Queries, keys and values are projected, split into ``num_heads`` heads, attended
per head and the heads' outputs projected back. With ``need_weights`` the weights
are computed here (they are returned); otherwise the attention goes through
``scaled_dot_product_attention`` (the fast path).

The inputs are sequence-first, ``(L, N, E)`` (or unbatched ``(L, E)``); in this
function's masks True (or ``-inf``) marks a position to leave out, the opposite of
a bool mask of ``scaled_dot_product_attention``.
"""

import math
import warnings

import ember
from ember.nn import Module, Parameter, init
from ember.plugins.linear import Linear

from .._checks import integer, tensor_arg
from .sdpa import scaled_dot_product_attention

__all__ = ["multi_head_attention_forward", "MultiheadAttention"]


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                                 out_proj_bias, training=True, key_padding_mask=None, need_weights=True,
                                 attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
                                 average_attn_weights=True, is_causal=False):
    """Multi-head attention with the given weights (see :class:`MultiheadAttention`).

    Args:
        query, key, value: ``(L, N, E)``, ``(S, N, Ek)``, ``(S, N, Ev)``, or
            unbatched ``(L, E)``, ``(S, Ek)``, ``(S, Ev)``.
        embed_dim_to_check: the ``E`` the query must have.
        num_heads: number of heads; must divide ``E``.
        in_proj_weight, in_proj_bias: the packed ``(3E, E)`` projection of query, key
            and value (in that order) and its ``(3E,)`` bias (or None).
        bias_k, bias_v: ``(1, 1, E)`` key and value rows appended to the sequence (or None).
        add_zero_attn: append a zero key and value to every head's sequence.
        dropout_p: dropout probability on the attention weights (while training).
        out_proj_weight, out_proj_bias: the output projection ``(E, E)``, ``(E,)``.
        training: apply dropout. Default: ``True``.
        key_padding_mask: ``(N, S)`` (unbatched: ``(S,)``): True, or a float added to
            the scores, for keys to leave out.
        need_weights: also return the attention weights. Default: ``True``.
        attn_mask: ``(L, S)`` or ``(N * num_heads, L, S)``: True, or a float added to
            the scores, where a query must not attend to a key.
        use_separate_proj_weight: project with ``q_proj_weight`` ``(E, E)``,
            ``k_proj_weight`` ``(E, Ek)``, ``v_proj_weight`` ``(E, Ev)`` instead of the
            packed weight (then key and value may have other sizes than ``E``).
        static_k, static_v: ``(N * num_heads, S, E / num_heads)`` keys and values used
            as they are, in place of the projected ones.
        average_attn_weights: average the returned weights over the heads. Default: ``True``.
        is_causal: a hint that ``attn_mask`` is the causal mask (it must be given).

    Returns:
        ``(output, weights)``: output ``(L, N, E)`` (``(L, E)``); weights
        ``(N, L, S)`` averaged or ``(N, num_heads, L, S)`` per head (unbatched without
        the ``N``), or None without ``need_weights``.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        tensor_arg(t, "multi_head_attention_forward", name)
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                           "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention makes the causal mask itself
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer the causal one
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    attn_mask = _batched_attn_mask(attn_mask, tgt_len, key.shape[0], bsz * num_heads)

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = ember.cat([k, bias_k.repeat(1, bsz, 1)])
        v = ember.cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None
                             else "bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        zeros = ember.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = ember.cat([k, zeros], dim=1), ember.cat([v, zeros], dim=1)
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        per_head = (key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
                    .reshape(bsz * num_heads, 1, src_len))
        attn_mask = per_head if attn_mask is None else attn_mask + per_head
    if not training:
        dropout_p = 0.0

    if need_weights:
        out, weights = _attention_with_weights(q, k, v, attn_mask, dropout_p, is_causal)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
    else:
        out, weights = _attention_fast(q, k, v, attn_mask, dropout_p, is_causal, bsz, num_heads), None
    out = out.reshape(tgt_len * bsz, embed_dim)
    out = ember.nn.functional.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-D query) or not (2-D); their masks must fit."""
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.dim()}-D query tensor")
    batched = query.dim() == 3
    kind, mask_dim = ("batched (3-D)", 2) if batched else ("unbatched (2-D)", 1)
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {query.dim()}-D but "
                             f"found {key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != mask_dim:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{mask_dim}-D but found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return batched


def canonical_mask(mask, mask_name, other, other_name, dtype):
    """A bool or float mask as a float mask of ``dtype`` (True becomes ``-inf``);
    warns when ``other`` (the mask it will be merged with) has another dtype."""
    if mask is None:
        return None
    tensor_arg(mask, "multi_head_attention_forward", mask_name)
    if mask.dtype is not ember.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type "
                      f"for both instead.", stacklevel=2)
    if mask.dtype is ember.bool:
        return ember.zeros(tuple(mask.shape), dtype=dtype, device=mask.device).masked_fill(mask, -math.inf)
    return mask


def _in_projection_packed(query, key, value, weight, bias):
    """Query, key and value projected by the thirds of ``weight``; one product
    serves those of them that are the same tensor."""
    linear = ember.nn.functional.linear
    E = query.shape[-1]
    if key is value and query is key:
        return linear(query, weight, bias).chunk(3, dim=-1)
    w_q, w_kv = weight.split([E, 2 * E])
    b_q, b_kv = (None, None) if bias is None else bias.split([E, 2 * E])
    if key is value:
        return (linear(query, w_q, b_q), *linear(key, w_kv, b_kv).chunk(2, dim=-1))
    w_k, w_v = w_kv.chunk(2)
    b_k, b_v = (None, None) if bias is None else b_kv.chunk(2)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _in_projection(query, key, value, w_q, w_k, w_v, bias):
    """Query, key and value projected by their own weights (and the thirds of ``bias``)."""
    for name, w in (("q_proj_weight", w_q), ("k_proj_weight", w_k), ("v_proj_weight", w_v)):
        if w is None:
            raise AssertionError(f"use_separate_proj_weight is True but {name} is None")
    biases = (None, None, None) if bias is None else bias.chunk(3)
    E = query.shape[-1]
    out = []
    for what, x, w, b in zip(("query", "key", "value"), (query, key, value), (w_q, w_k, w_v), biases):
        if tuple(w.shape) != (E, x.shape[-1]):
            raise AssertionError(f"expecting {what} weights shape of {(E, x.shape[-1])}, but got {w.shape}")
        if b is not None and tuple(b.shape) != (E,):
            raise AssertionError(f"expecting {what} bias shape of {(E,)}, but got {b.shape}")
        out.append(ember.nn.functional.linear(x, w, b))
    return out


def _batched_attn_mask(attn_mask, tgt_len, src_len, batch_heads):
    """``attn_mask`` checked and made 3-D: ``(1, L, S)`` or ``(N * num_heads, L, S)``."""
    if attn_mask is None:
        return None
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                               f"{(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (batch_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(batch_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _pad_key(mask):
    """``mask`` with a zero (attend) column for one more key, or None."""
    if mask is None:
        return None
    zeros = ember.zeros((*mask.shape[:-1], 1), dtype=mask.dtype, device=mask.device)
    return ember.cat([mask, zeros], dim=-1)


def _heads(x, static, name, batch_heads, head_dim):
    """``(S, N, E)`` as ``(N * num_heads, S, head_dim)``, or the checked ``static`` tensor."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def _attention_with_weights(q, k, v, attn_mask, dropout_p, is_causal):
    """Per-head attention of ``(N * num_heads, L, head_dim)`` queries: the output as
    ``(L, N * num_heads, head_dim)`` and the weights. A row with every key masked
    gets NaN weights, as torch's."""
    if is_causal and attn_mask is None:
        raise AssertionError("FIXME: is_causal not implemented for need_weights")
    scores = (q * math.sqrt(1.0 / q.shape[-1])).matmul(k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = ember.nn.functional.dropout(weights, p=dropout_p)
    out = weights.matmul(v).transpose(0, 1)
    return out, weights


def _attention_fast(q, k, v, attn_mask, dropout_p, is_causal, bsz, num_heads):
    """The same attention through ``scaled_dot_product_attention`` (no weights),
    its output as ``(L, N, num_heads, head_dim)``."""
    if attn_mask is not None:
        if attn_mask.shape[0] == 1:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, attn_mask.shape[-1])
    q, k, v = (x.reshape(bsz, num_heads, x.shape[1], x.shape[2]) for x in (q, k, v))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    return out.permute(2, 0, 1, 3)


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of :class:`MultiheadAttention`: a plain ``Linear``
    (torch names it apart so that quantization leaves it alone)."""


class MultiheadAttention(Module):
    """Attention of queries over key/value pairs in ``num_heads`` subspaces:
    ``concat(head_1, ..., head_h) W_o`` with ``head_i = attention(q W_q_i, k W_k_i, v W_v_i)``.

    Args:
        embed_dim: size ``E`` of the query (and of the output).
        num_heads: number of heads; each gets ``E // num_heads`` features.
        dropout: dropout probability on the attention weights. Default: 0.0.
        bias: learn biases of the input and output projections. Default: ``True``.
        add_bias_kv: learn a key and a value appended to every sequence. Default: ``False``.
        add_zero_attn: append a zero key and value to every sequence. Default: ``False``.
        kdim, vdim: sizes of the key and value features. Default: ``embed_dim``.
        batch_first: inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.
            Default: ``False``.

    Attributes:
        in_proj_weight: ``(3E, E)`` packed projections of query, key and value, or,
            when ``kdim``/``vdim`` differ from ``E``, ``q_proj_weight`` ``(E, E)``,
            ``k_proj_weight`` ``(E, kdim)`` and ``v_proj_weight`` ``(E, vdim)``
            (Xavier-uniform initialised).
        in_proj_bias: ``(3E,)`` (zeros), or None.
        out_proj: the output projection, a ``Linear(E, E)`` (bias zeros).
        bias_k, bias_v: ``(1, 1, E)`` (Xavier-normal initialised), or None.

    Shape:
        - query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (batch
          first: ``(N, L, E)``...; unbatched: ``(L, E)``...).
        - output ``(L, N, E)``; weights ``(N, L, S)`` or ``(N, num_heads, L, S)``.

    Examples::

        >>> mha = nn.MultiheadAttention(8, 2)
        >>> x = ember.randn(5, 3, 8)
        >>> out, weights = mha(x, x, x)
        >>> out.size(), weights.size()
        (ember.Size([5, 3, 8]), ember.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        integer(embed_dim, "MultiheadAttention", "embed_dim")
        integer(num_heads, "MultiheadAttention", "num_heads")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads} instead")
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ember.empty((3 * embed_dim, embed_dim), **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(ember.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(ember.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(ember.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ember.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(ember.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(ember.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform projections, zero biases, Xavier-normal ``bias_k``/``bias_v``
        (``out_proj.weight`` keeps ``Linear``'s initialisation)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """``(output, weights)`` (weights None without ``need_weights``); masks as in
        :func:`multi_head_attention_forward` (True, or ``-inf``, leaves a position out)."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            tensor_arg(t, "MultiheadAttention", name)
        batched = query.dim() == 3
        key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask",
                                          query.dtype)
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if self.batch_first and batched:
            query, key, value = _sequence_first(query, key, value)
        separate = {} if self._qkv_same_embed_dim else dict(
            use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask, average_attn_weights=average_attn_weights,
            is_causal=is_causal, **separate)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """One mask from ``attn_mask`` ``(L, L)`` or ``(N * num_heads, L, L)`` and
        ``key_padding_mask`` ``(N, L)`` (both in the float form) for a batch-first
        ``query`` ``(N, L, E)``, and its type: 1 for the padding mask alone, 2 for an
        attention mask spread to ``(N, num_heads, L, L)`` (plus the padding mask, if
        any); ``(None, None)`` without masks."""
        if attn_mask is None:
            return key_padding_mask, None if key_padding_mask is None else 1
        batch_size, seq_len, _ = query.shape
        if attn_mask.dim() == 3:
            merged = attn_mask.reshape(batch_size, -1, seq_len, seq_len)
        else:
            merged = attn_mask.reshape(1, 1, seq_len, seq_len).expand(batch_size, self.num_heads, seq_len, seq_len)
        if key_padding_mask is not None:
            merged = merged + key_padding_mask.reshape(batch_size, 1, 1, seq_len).expand(
                batch_size, self.num_heads, 1, seq_len)
        return merged, 2


def _sequence_first(query, key, value):
    """Batch-first inputs swapped to sequence-first, keeping which of them are one tensor."""
    if key is value:
        if query is key:
            query = key = value = query.transpose(1, 0)
        else:
            query, key = query.transpose(1, 0), key.transpose(1, 0)
            value = key
        return query, key, value
    return query.transpose(1, 0), key.transpose(1, 0), value.transpose(1, 0)
