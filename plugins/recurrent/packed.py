"""Packed sequences (``ember.nn.utils.rnn``): a batch of variable-length sequences
stored without padding, and the helpers that convert to and from padded tensors.

A :class:`PackedSequence` keeps the rows of all sequences grouped by time step:
step ``t`` holds one row for each of the ``batch_sizes[t]`` sequences still
running, longest sequence first. Conversions are single ``index_select`` calls, so
gradients flow between padded and packed data.
"""

from collections import namedtuple

import numpy as np

import ember

_NOT_SORTED = (
    "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
    "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
    "sidestep this requirement if you do not need ONNX exportability."
)
_NOT_POSITIVE = ("Length of all samples has to be greater than 0, but found an element in "
                 "'lengths' that is <= 0")


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    inv = np.empty(permutation.shape[0], np.int64)
    inv[permutation.cpu().numpy()] = np.arange(permutation.shape[0])
    return ember.tensor(inv, device=permutation.device)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                                   "unsorted_indices"])):
    """A batch of variable-length sequences packed time step by time step.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.
    Every recurrent module accepts one as input and returns one.

    Attributes:
        data: ``(sum of lengths, *)`` the rows of every step, longest sequence first.
        batch_sizes: int64 CPU tensor, the number of sequences running at each step.
        sorted_indices: how the original batch was reordered by decreasing length
            (None when it was already sorted).
        unsorted_indices: the inverse permutation, restoring the original order.

    Examples::

        >>> from ember.nn.utils.rnn import pack_sequence
        >>> p = pack_sequence([ember.tensor([1., 2., 3.]), ember.tensor([4., 5.])])
        >>> p.data.tolist(), p.batch_sizes.tolist()
        ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should "
                    "never be created manually. They should be instantiated by functions like "
                    "pack_sequence and pack_padded_sequences in nn.utils.rnn.")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise AssertionError("Expected data to be a list or tuple of length 2")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with ``data`` converted by ``Tensor.to``; the indices follow
        ``data``'s device, ``batch_sizes`` stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device

        def move(t):
            return None if t is None else t.to(dev)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        """Move ``data`` (and the indices) to a GPU."""
        return self.to(*args, device="cuda", **kwargs) if not args else self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        """Move ``data`` (and the indices) to the CPU."""
        return self.to("cpu")

    def double(self):
        return self.to(dtype=ember.float64)

    def float(self):
        return self.to(dtype=ember.float32)

    def half(self):
        return self.to(dtype=ember.float16)

    def long(self):
        return self.to(dtype=ember.int64)

    def int(self):
        return self.to(dtype=ember.int32)

    def short(self):
        return self.to(dtype=ember.int16)

    def char(self):
        return self.to(dtype=ember.int8)

    def byte(self):
        return self.to(dtype=ember.uint8)

    @property
    def is_cuda(self):
        """Whether ``data`` lives on a GPU."""
        return self.data.is_cuda

    def is_pinned(self):
        """Whether ``data`` is in pinned memory (never, in ember)."""
        return False

    def pin_memory(self):
        """Pinned memory has no meaning here: returns the sequence unchanged."""
        return self


def _lengths_list(lengths):
    if isinstance(lengths, ember.Tensor):
        if lengths.dim() != 1 or lengths.device.type != "cpu":
            raise RuntimeError(
                f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                f"{lengths.device} {lengths.dtype} tensor")
        return [int(v) for v in lengths.cpu().numpy().astype(np.int64)]
    return [int(v) for v in lengths]


def _pack_index(lengths, T, B):
    """Row indices into the (T*B, ...) flattened padded input, step by step, and the batch
    sizes (``lengths`` sorted decreasingly)."""
    L = np.asarray(lengths, np.int64)
    batch_sizes = [int(np.count_nonzero(L > t)) for t in range(int(L[0]))]
    idx = np.concatenate([t * B + np.arange(b) for t, b in enumerate(batch_sizes)])
    return idx, batch_sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of variable-length sequences.

    Args:
        input: ``(T, B, *)`` padded sequences (``(B, T, *)`` with ``batch_first``).
        lengths: list or 1-D CPU int64 tensor of the ``B`` sequence lengths.
        batch_first: whether the batch is the first dimension of ``input``.
        enforce_sorted: if True, ``lengths`` must be in decreasing order; if False the
            batch is sorted here and the permutation kept in the result.

    Returns:
        a :class:`PackedSequence`.

    Examples::

        >>> x = ember.tensor([[1., 2.], [3., 0.]])  # T=2, B=2
        >>> nn.utils.rnn.pack_padded_sequence(x, [2, 1]).data.tolist()
        [1.0, 2.0, 3.0]
    """
    L = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    B = input.shape[batch_dim]
    if len(L) != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(L)} "
                           f"(batch_size={B})")
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-np.asarray(L, np.int64), kind="stable")
        L = [L[i] for i in order]
        sorted_indices = ember.tensor(order.astype(np.int64), device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if B == 0 or L[-1] <= 0:
        raise RuntimeError(_NOT_POSITIVE)
    if any(L[i] < L[i + 1] for i in range(B - 1)):
        raise RuntimeError(_NOT_SORTED)
    if batch_first:
        input = input.transpose(0, 1)
    T = input.shape[0]
    if L[0] > T:
        raise RuntimeError(f"Expected all lengths to be at most the sequence length {T} of the "
                           f"input, but got a length of {L[0]}")
    idx, batch_sizes = _pack_index(L, T, B)
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, ember.tensor(idx, device=input.device))
    return PackedSequence(data, ember.tensor(batch_sizes, dtype=ember.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a :class:`PackedSequence` into a padded batch (the inverse of
    :func:`pack_padded_sequence`).

    Args:
        sequence: the packed batch.
        batch_first: return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: value of the padded positions.
        total_length: pad to this many steps (at least the longest sequence).

    Returns:
        ``(padded, lengths)``: the padded tensor and a CPU int64 tensor of lengths, in
        the original batch order.

    Examples::

        >>> p = nn.utils.rnn.pack_sequence([ember.tensor([1., 2.]), ember.tensor([3.])])
        >>> out, lengths = nn.utils.rnn.pad_packed_sequence(p)
        >>> out.tolist(), lengths.tolist()
        ([[1.0, 3.0], [2.0, 0.0]], [2, 1])
    """
    data, bs_t = sequence.data, sequence.batch_sizes
    batch_sizes = [int(b) for b in bs_t.numpy()]
    T = len(batch_sizes)
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {T}")
        T = total_length
    B = batch_sizes[0] if batch_sizes else 0
    N = data.shape[0]
    # every (t, b) position reads its data row, or row N: the padding row
    where = np.full((T, B), N, np.int64)
    s = 0
    for t, b in enumerate(batch_sizes):
        where[t, :b] = np.arange(s, s + b)
        s += b
    lengths = np.array([int(np.count_nonzero(np.asarray(batch_sizes) > j)) for j in range(B)], np.int64)
    feat = tuple(data.shape[1:])
    pad = ember.full((1,) + feat, padding_value, dtype=data.dtype, device=data.device)
    if batch_first:
        where = where.T
    rows = ember.cat([data, pad]).index_select(0, ember.tensor(where.reshape(-1), device=data.device))
    padded = rows.reshape(where.shape + feat)
    lengths_t = ember.tensor(lengths)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths_t = ember.tensor(lengths[sequence.unsorted_indices.cpu().numpy()])
    return padded, lengths_t


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length sequences into one padded tensor.

    Args:
        sequences: tensors of shape ``(L_i, *)`` with the same trailing dimensions.
        batch_first: return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: value of the padded positions. Default: 0.
        padding_side: ``'right'`` (default) or ``'left'``: where the padding goes.

    Returns:
        ``(T, B, *)`` (or ``(B, T, *)``) with ``T`` the longest length.

    Examples::

        >>> a, b = ember.ones(3, 2), ember.ones(1, 2)
        >>> nn.utils.rnn.pad_sequence([a, b]).size()
        ember.Size([3, 2, 2])
    """
    if isinstance(sequences, ember.Tensor):
        sequences = list(sequences.unbind(0))
    elif not hasattr(sequences, "__iter__"):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for s in sequences:
        if s.dim() == 0:
            raise RuntimeError("pad_sequence: expected every sequence to have at least one "
                               "dimension, got a 0-D tensor")
    T = max(s.shape[0] for s in sequences)
    feat = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        if tuple(s.shape[1:]) != feat:
            raise RuntimeError(f"pad_sequence: every sequence must have trailing dimensions "
                               f"{list(feat)}, got {list(s.shape[1:])}")
    cols = []
    for s in sequences:
        n = T - s.shape[0]
        if n:
            pad = ember.full((n,) + feat, padding_value, dtype=s.dtype, device=s.device)
            s = ember.cat([s, pad] if padding_side == "right" else [pad, s])
        cols.append(s)
    return ember.stack(cols, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of its sequences (the inverse of
    :func:`pad_sequence`).

    Args:
        padded_sequences: ``(T, B, *)`` (or ``(B, T, *)`` with ``batch_first``).
        lengths: the ``B`` lengths (list or tensor).
        batch_first: whether the batch is the first dimension.

    Returns:
        a list of ``B`` tensors ``(L_i, *)``.

    Examples::

        >>> x = nn.utils.rnn.pad_sequence([ember.ones(3), ember.ones(1)])
        >>> [t.shape[0] for t in nn.utils.rnn.unpad_sequence(x, [3, 1])]
        [3, 1]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length sequences ``(L_i, *)`` (pad, then
    :func:`pack_padded_sequence`).

    Args:
        sequences: the tensors, longest first unless ``enforce_sorted`` is False.
        enforce_sorted: require decreasing lengths (else sort them here).

    Returns:
        a :class:`PackedSequence`.

    Examples::

        >>> p = nn.utils.rnn.pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4, 5])])
        >>> p.batch_sizes.tolist()
        [2, 2, 1]
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences held by a :class:`PackedSequence`, in the original order
    (the inverse of :func:`pack_sequence`).

    Examples::

        >>> p = nn.utils.rnn.pack_sequence([ember.tensor([1, 2]), ember.tensor([3])])
        >>> [t.tolist() for t in nn.utils.rnn.unpack_sequence(p)]
        [[1, 2], [3]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
