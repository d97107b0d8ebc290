"""Lookup-table modules: Embedding and EmbeddingBag."""

import ember
from ember.nn import Module, Parameter

from . import functional as F
from .._checks import choice, integer, real

__all__ = ["Embedding", "EmbeddingBag"]


def _check_sizes(owner, num_embeddings, embedding_dim, max_norm, norm_type):
    """Integer sizes; a ``max_norm`` (when given) and ``norm_type`` that are positive
    numbers (torch takes a negative or NaN ``max_norm`` and rescales rows to it)."""
    integer(num_embeddings, owner, "num_embeddings")
    integer(embedding_dim, owner, "embedding_dim")
    if max_norm is not None:
        real(max_norm, owner, "max_norm", low=0.0, low_open=True)
    real(norm_type, owner, "norm_type", low=0.0, low_open=True)


def _wrap_padding(padding_idx, num_embeddings, message):
    if padding_idx is None:
        return None
    integer(padding_idx, "Embedding", "padding_idx")
    if padding_idx >= num_embeddings or padding_idx < -num_embeddings:
        raise AssertionError(message)
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _reset(module):
    with ember.no_grad():
        module.weight.normal_()
        if module.padding_idx is not None:
            module.weight[module.padding_idx].fill_(0)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by
    index: the output holds one row of the weight per index of the input.

    Args:
        num_embeddings: number of rows (the dictionary size).
        embedding_dim: size of each row.
        padding_idx: a row initialised to zeros that never receives a gradient, so
            it stays a fixed "padding" vector; negative counts from the end. Default: None.
        max_norm: rows looked up whose norm exceeds this are rescaled in place to
            this norm at every forward. Default: None.
        norm_type: the p of that norm. Default: 2.
        scale_grad_by_freq: divide gradients by the frequency of each index in the
            mini-batch. Default: ``False``.
        sparse: the weight's gradient is a sparse COO tensor. Default: ``False``.
        _weight: use this ``(num_embeddings, embedding_dim)`` tensor as the weight
            (not re-initialised). ``_freeze``: then do not train it.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, drawn from ``N(0, 1)``.

    Shape:
        - Input: integer tensor of any shape ``(*)``. Output: ``(*, embedding_dim)``.

    Examples::

        >>> embedding = nn.Embedding(10, 3)
        >>> embedding(ember.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
        ember.Size([2, 4, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
                 dtype=None):
        super().__init__()
        _check_sizes("Embedding", num_embeddings, embedding_dim, max_norm, norm_type)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _wrap_padding(padding_idx, num_embeddings, "Padding_idx must be within num_embeddings")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            self.weight = Parameter(ember.empty((num_embeddings, embedding_dim), device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self):
        """Draw the weight from ``N(0, 1)`` and zero the padding row."""
        _reset(self)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is the 2-D tensor ``embeddings`` (shared, not
        copied), trained only when ``freeze=False``.

        Examples::

            >>> weight = ember.tensor([[1, 2.3, 3], [4, 5.1, 6.3]])
            >>> nn.Embedding.from_pretrained(weight)(ember.tensor([1]))
            tensor([[4.0000, 5.1000, 6.3000]])
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embedding rows, computed without building
    the rows of each index (Embedding followed by a reduction over each bag).

    Args:
        num_embeddings, embedding_dim: the table's shape.
        max_norm, norm_type, scale_grad_by_freq: as in :class:`Embedding`.
        mode: ``'sum'``, ``'mean'`` or ``'max'``. Default: ``'mean'``.
        sparse: the weight's gradient is a sparse COO tensor (not with ``mode='max'``).
            Default: ``False``.
        _weight: use this tensor as the weight.
        include_last_offset: ``offsets`` carries one more entry, the end of the
            last bag (CSR layout). Default: ``False``.
        padding_idx: a row left out of every bag, initialised to zeros. Default: None.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, drawn from ``N(0, 1)``.

    Shape:
        - ``input``: ``(B, N)`` (fixed-size bags) or ``(N,)`` with ``offsets`` ``(B,)``;
          ``per_sample_weights`` like ``input`` (``'sum'`` only). Output: ``(B, embedding_dim)``.

    Examples::

        >>> bag = nn.EmbeddingBag(10, 3, mode='sum')
        >>> bag(ember.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ember.tensor([0, 4])).shape
        ember.Size([2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 device=None, dtype=None):
        super().__init__()
        _check_sizes("EmbeddingBag", num_embeddings, embedding_dim, max_norm, norm_type)
        choice(mode, "EmbeddingBag", "mode", ("sum", "mean", "max"))
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _wrap_padding(padding_idx, num_embeddings, "padding_idx must be within num_embeddings")
        if _weight is None:
            self.weight = Parameter(ember.empty((num_embeddings, embedding_dim), device=device, dtype=dtype))
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self):
        """Draw the weight from ``N(0, 1)`` and zero the padding row."""
        _reset(self)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is the 2-D tensor ``embeddings``, trained only
        when ``freeze=False``.

        Examples::

            >>> weight = ember.tensor([[1, 2.3, 3], [4, 5.1, 6.3]])
            >>> nn.EmbeddingBag.from_pretrained(weight)(ember.tensor([[1, 0]]))
            tensor([[2.5000, 3.7000, 4.6500]])
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
