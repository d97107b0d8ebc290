"""The Transformer of "Attention Is All You Need" (Vaswani et al., 2017), laid out as
torch.nn lays it out: encoder and decoder layers, stacks of them, and the whole model.

ember has no nested tensors, so these modules always take the path that torch takes
without its inference fast path; the results are the same. ``enable_nested_tensor``
and ``mask_check`` are accepted and kept as attributes.
"""

import copy

import ember
from ember.backend import data_of, on_host
from ember import nn
from ember.nn import Module, ModuleList, init

from .._checks import integer, tensor_arg
from .multihead import canonical_mask

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _activation(activation):
    """``activation`` as a callable: ``"relu"`` and ``"gelu"`` name ember's functionals,
    a callable (a function or a Module) is kept as given."""
    if isinstance(activation, str):
        if activation in ("relu", "gelu"):
            return getattr(nn.functional, activation)
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, not {type(activation).__name__}")
    return activation


def _seq_len(x, batch_first):
    """The sequence length of an unbatched ``(S, E)`` or batched input."""
    return x.shape[0] if x.dim() == 2 else x.shape[1 if batch_first else 0]


def _is_causal(mask, is_causal, size):
    """The ``is_causal`` hint when given; else whether ``mask`` is exactly the causal
    mask of ``size`` (of the mask's own dtype). On a GPU, where the comparison would
    wait for the device, a mask is taken as it is: the hint only picks a faster path."""
    if is_causal is not None or mask is None or not on_host(mask):
        return is_causal is True
    causal = Transformer.generate_square_subsequent_mask(size, device=mask.device, dtype=mask.dtype)
    return tuple(mask.shape) == tuple(causal.shape) and bool(data_of(mask == causal).all())


def _attend(attention, x, memory, mask, key_padding_mask, is_causal):
    """The output of ``attention`` with queries ``x`` and keys and values ``memory``."""
    return attention(x, memory, memory, attn_mask=mask, key_padding_mask=key_padding_mask,
                     need_weights=False, is_causal=is_causal)[0]


class _Layer(Module):
    """What the encoder and decoder layers share: the feed-forward block, one LayerNorm
    and one Dropout per residual sub-layer, and the wiring of a sub-layer."""

    def _add_feed_forward(self, sublayers, d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                          norm_first, bias, factory):
        """Create ``linear1``, ``dropout``, ``linear2``, ``norm1..N``, ``dropout1..N`` (in
        torch's order, which is the state_dict's) for ``N = sublayers``."""
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        for i in range(1, sublayers + 1):
            setattr(self, f"norm{i}", nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for i in range(1, sublayers + 1):
            setattr(self, f"dropout{i}", nn.Dropout(dropout))
        self.activation = _activation(activation)

    def _sublayer(self, x, norm, dropout, block):
        """``x`` plus the dropped-out ``block`` output: normalised before the block
        (``norm_first``) or after the sum (Fig. 1 of arXiv:2002.04745 shows both)."""
        if self.norm_first:
            return x + dropout(block(norm(x)))
        return norm(x + dropout(block(x)))

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerEncoderLayer(_Layer):
    """One encoder layer: self-attention, then a two-layer feed-forward network, each
    inside a residual connection with dropout and layer normalisation.

    Args:
        d_model: number of features of the input.
        nhead: number of attention heads (must divide ``d_model``).
        dim_feedforward: width of the feed-forward network's hidden layer. Default: 2048.
        dropout: dropout probability everywhere in the layer. Default: 0.1.
        activation: the feed-forward network's activation: ``"relu"``, ``"gelu"`` or a
            unary callable (a function or a Module). Default: ``"relu"`` (ember's ``F.relu``).
        layer_norm_eps: ``eps`` of the LayerNorms. Default: 1e-5.
        batch_first: inputs and outputs are ``(N, S, E)`` rather than ``(S, N, E)``.
            Default: ``False``.
        norm_first: normalise before each sub-layer (pre-norm) rather than after the
            residual sum (post-norm). Default: ``False``.
        bias: the Linear and LayerNorm layers (and the attention's projections) learn
            additive biases. Default: ``True``.
        device, dtype: where and of what type the parameters are created.

    Shape:
        - src: ``(S, E)`` unbatched, ``(S, N, E)``, or ``(N, S, E)`` when ``batch_first``.
        - Output: the shape of ``src``.

    Examples::

        >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> layer(ember.rand(5, 3, 8)).shape
        ember.Size([5, 3, 8])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                               **factory)
        self._add_feed_forward(2, d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias,
                               factory)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Pass ``src`` through the layer.

        Args:
            src: the input sequence.
            src_mask: ``(S, S)`` or ``(N * nhead, S, S)`` mask of the attention: a float
                mask is added to the scores, a bool mask's True positions may not attend.
            src_key_padding_mask: ``(S)`` unbatched or ``(N, S)``: True (or -inf) marks
                keys to ignore.
            is_causal: a hint that ``src_mask`` is the causal mask.
        """
        tensor_arg(src, "TransformerEncoderLayer.forward", "src")
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask",
                                              src.dtype)
        src_mask = canonical_mask(src_mask, "src_mask", None, "", src.dtype)
        x = self._sublayer(src, self.norm1, self.dropout1,
                           lambda y: _attend(self.self_attn, y, y, src_mask, src_key_padding_mask, is_causal))
        return self._sublayer(x, self.norm2, self.dropout2, self._feed_forward)


class TransformerDecoderLayer(_Layer):
    """One decoder layer: self-attention over the target, attention from the target to
    the encoder's output (``memory``), then a two-layer feed-forward network, each inside
    a residual connection with dropout and layer normalisation.

    Args:
        d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
        batch_first, norm_first, bias, device, dtype: as for
        :class:`TransformerEncoderLayer`.

    Shape:
        - tgt: ``(T, E)`` unbatched, ``(T, N, E)``, or ``(N, T, E)`` when ``batch_first``.
        - memory: ``(S, E)``, ``(S, N, E)`` or ``(N, S, E)`` alike.
        - Output: the shape of ``tgt``.

    Examples::

        >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> layer(ember.rand(4, 3, 8), ember.rand(5, 3, 8)).shape
        ember.Size([4, 3, 8])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                               **factory)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first,
                                                    bias=bias, **factory)
        self._add_feed_forward(3, d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias,
                               factory)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """Pass ``tgt`` through the layer, attending to ``memory``.

        Args:
            tgt: the target sequence.
            memory: the encoder's output sequence.
            tgt_mask: ``(T, T)`` or ``(N * nhead, T, T)`` mask of the self-attention.
            memory_mask: ``(T, S)`` or ``(N * nhead, T, S)`` mask of the attention to memory.
            tgt_key_padding_mask: ``(T)`` or ``(N, T)``: target keys to ignore.
            memory_key_padding_mask: ``(S)`` or ``(N, S)``: memory keys to ignore.
            tgt_is_causal: a hint that ``tgt_mask`` is the causal mask.
            memory_is_causal: a hint that ``memory_mask`` is the causal mask.
        """
        x = self._sublayer(tgt, self.norm1, self.dropout1, lambda y: _attend(
            self.self_attn, y, y, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self._sublayer(x, self.norm2, self.dropout2, lambda y: _attend(
            self.multihead_attn, y, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self._sublayer(x, self.norm3, self.dropout3, self._feed_forward)


def _get_clones(layer, num_layers):
    """A ModuleList of ``num_layers`` independent deep copies of ``layer``."""
    if integer(num_layers, "Transformer", "num_layers") < 0:
        raise ValueError(f"Transformer: num_layers must be at least 0, but got {num_layers}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """A stack of ``num_layers`` encoder layers, each a deep copy of ``encoder_layer``
    (so all start with the same parameters), and an optional final ``norm``.

    Args:
        encoder_layer: the layer to copy, usually a :class:`TransformerEncoderLayer`.
        num_layers: how many copies to stack.
        norm: a module applied to the last layer's output (a LayerNorm). Default: None.
        enable_nested_tensor: accepted for torch's signature; ember has no nested
            tensors. Default: ``True``.
        mask_check: accepted for torch's signature (torch checks that padding masks are
            left-aligned before its nested-tensor path). Default: ``True``.

    Shape:
        as for :class:`TransformerEncoderLayer`.

    Examples::

        >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=3)
        >>> encoder(ember.rand(5, 3, 8)).shape
        ember.Size([5, 3, 8])
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Pass ``src`` through every layer in turn, then the final norm.

        Args:
            src: the input sequence.
            mask: the attention mask of every layer (see :class:`TransformerEncoderLayer`).
            src_key_padding_mask: the keys to ignore in every layer.
            is_causal: a hint that ``mask`` is the causal mask; None: found out by
                comparing ``mask`` with :meth:`Transformer.generate_square_subsequent_mask`.
        """
        tensor_arg(src, "TransformerEncoder.forward", "src")
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype)
        mask = canonical_mask(mask, "mask", None, "", src.dtype)
        is_causal = _is_causal(mask, is_causal, _seq_len(src, self.layers[0].self_attn.batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        return output if self.norm is None else self.norm(output)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` decoder layers, each a deep copy of ``decoder_layer``
    (so all start with the same parameters), and an optional final ``norm``.

    Args:
        decoder_layer: the layer to copy, usually a :class:`TransformerDecoderLayer`.
        num_layers: how many copies to stack.
        norm: a module applied to the last layer's output (a LayerNorm). Default: None.

    Shape:
        as for :class:`TransformerDecoderLayer`.

    Examples::

        >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
        >>> decoder = nn.TransformerDecoder(layer, num_layers=2)
        >>> decoder(ember.rand(4, 3, 8), ember.rand(5, 3, 8)).shape
        ember.Size([4, 3, 8])
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Pass ``tgt`` through every layer in turn, each attending to ``memory``, then
        the final norm. The arguments are those of :class:`TransformerDecoderLayer`,
        except that ``tgt_is_causal=None`` is found out by comparing ``tgt_mask`` with
        :meth:`Transformer.generate_square_subsequent_mask`."""
        tensor_arg(tgt, "TransformerDecoder.forward", "tgt")
        tgt_is_causal = _is_causal(tgt_mask, tgt_is_causal, _seq_len(tgt, self.layers[0].self_attn.batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """The encoder-decoder Transformer: an encoder stack turns ``src`` into a memory
    that every layer of the decoder stack attends to while it transforms ``tgt``. Both
    stacks end with a LayerNorm. Matrices are initialised with Xavier-uniform.

    Args:
        d_model: number of features of the encoder and decoder inputs. Default: 512.
        nhead: number of attention heads. Default: 8.
        num_encoder_layers: encoder layers. Default: 6.
        num_decoder_layers: decoder layers. Default: 6.
        dim_feedforward: width of the feed-forward networks. Default: 2048.
        dropout: dropout probability. Default: 0.1.
        activation: ``"relu"``, ``"gelu"`` or a unary callable. Default: ``"relu"``.
        custom_encoder: a module used as the encoder instead of the default stack.
        custom_decoder: a module used as the decoder instead of the default stack.
        layer_norm_eps: ``eps`` of the LayerNorms. Default: 1e-5.
        batch_first: inputs and outputs are ``(N, S, E)``. Default: ``False`` (``(S, N, E)``).
        norm_first: pre-norm layers instead of post-norm. Default: ``False``.
        bias: Linear and LayerNorm layers learn additive biases. Default: ``True``.
        device, dtype: where and of what type the parameters are created.

    Shape:
        - src: ``(S, E)`` unbatched, ``(S, N, E)``, or ``(N, S, E)`` when ``batch_first``.
        - tgt: ``(T, E)``, ``(T, N, E)`` or ``(N, T, E)`` alike.
        - Output: the shape of ``tgt``.

    Examples::

        >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
        ...                        dim_feedforward=16)
        >>> model(ember.rand(5, 3, 8), ember.rand(4, 3, 8)).shape
        ember.Size([4, 3, 8])
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)

        def stack(custom, stack_cls, layer_cls, num_layers):
            if custom is not None:
                return custom
            norm = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            return stack_cls(layer_cls(*layer_args, **factory), num_layers, norm)

        self.encoder = stack(custom_encoder, TransformerEncoder, TransformerEncoderLayer, num_encoder_layers)
        self.decoder = stack(custom_decoder, TransformerDecoder, TransformerDecoderLayer, num_decoder_layers)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode ``src`` and decode ``tgt`` against it.

        Args:
            src: the encoder's input sequence.
            tgt: the decoder's input sequence.
            src_mask: ``(S, S)`` or ``(N * nhead, S, S)``: the encoder's attention mask.
            tgt_mask: ``(T, T)`` or ``(N * nhead, T, T)``: the decoder's self-attention mask.
            memory_mask: ``(T, S)``: the mask of the decoder's attention to the memory.
            src_key_padding_mask: ``(S)`` or ``(N, S)``: source keys to ignore.
            tgt_key_padding_mask: ``(T)`` or ``(N, T)``: target keys to ignore.
            memory_key_padding_mask: ``(S)`` or ``(N, S)``: memory keys to ignore.
            src_is_causal, tgt_is_causal: hints that ``src_mask`` / ``tgt_mask`` are
                causal; None: found out from the masks.
            memory_is_causal: a hint that ``memory_mask`` is causal. Default: ``False``.

        A float mask is added to the attention scores; a bool mask's True positions
        may not attend (or are ignored, for the key padding masks).
        """
        tensor_arg(src, "Transformer.forward", "src")
        tensor_arg(tgt, "Transformer.forward", "tgt")
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.size(batch_dim) != tgt.size(batch_dim):
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The ``(sz, sz)`` causal mask: -inf above the diagonal (a position may not
        attend to later ones), 0 on and below it.

        Examples::

            >>> nn.Transformer.generate_square_subsequent_mask(3)
            tensor([[0., -inf, -inf],
                    [0., 0., -inf],
                    [0., 0., 0.]])
        """
        return ember.triu(ember.full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)

    def _reset_parameters(self):
        """Xavier-uniform initialisation of every parameter with more than one dimension."""
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
