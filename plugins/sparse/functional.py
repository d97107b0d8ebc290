"""Lookup tables: ``embedding`` (rows of a weight picked by index) and
``embedding_bag`` (sums, means or maxima of bags of such rows, without building
the per-index rows).

Every path is a linear map of the weight computed by a kernel pair (see
:mod:`ember.autograd.linear_map`; the kernels are in ``kernels.py``): a gather of rows into bags and its adjoint, a
scatter-add of bag gradients into a dense weight gradient. Max bags first pick,
without gradient, the row that wins each column, then gather by those rows.

With ``sparse=True`` the weight's gradient is instead a sparse COO tensor holding,
for every index looked up (padding left out), that row's share of the gradient, as
torch gives it; ``SparseAdam``, ``SGD`` and ``Adagrad`` take such gradients.
"""

import math

import ember
from ember.autograd import Function, linear_map
from ember.backend import (assert_in_range, check_allocation, check_same_device, data_of, kernel_for,
                           refuse_on_device, tensor_like, xp_of)

from .._checks import integer, real, tensor_arg
from .kernels import bag_positions, bag_weights

__all__ = ["embedding", "embedding_bag", "one_hot"]

_LEGACY = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
           "bfloat16": "BFloat16Tensor", "int16": "ShortTensor", "int8": "CharTensor",
           "uint8": "ByteTensor", "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
           "complex128": "ComplexDoubleTensor"}


# ---------------------------------------------------------------- autograd
class _Lookup(Function):
    """A gather whose gradient is a scatter with other factors than the forward
    (padding rows get no gradient; ``scale_grad_by_freq`` divides by counts).

    The gradient itself goes through ``linear_map``, so double backward works.
    """

    backward_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, gather, scatter, fwd_args, bwd_args, dbl_name):
        ctx.spec = (gather, scatter, bwd_args, dbl_name)
        return tensor_like(kernel_for(gather, weight)(data_of(weight), *fwd_args), weight)

    @staticmethod
    def backward(ctx, grad):
        gather, scatter, bwd_args, dbl_name = ctx.spec
        return linear_map(grad, scatter, gather, bwd_args, dbl_name), None, None, None, None, None


class _LookupBag(_Lookup):
    backward_name = "EmbeddingBagBackward0"


class _SparseLookup(Function):
    """A gather whose weight gradient is sparse: entry ``k`` is row ``rows[k]`` of the
    weight with gradient ``coef[k] * grad_rows[source[k]]`` (``grad_rows``, the output
    gradient as one row per lookup or bag), in lookup order, repeats kept."""

    backward_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, gather, fwd_args, rows, source, coef, scale_grad_by_freq):
        ctx.spec = (rows, source, coef, scale_grad_by_freq, tuple(weight.shape))
        return tensor_like(kernel_for(gather, weight)(data_of(weight), *fwd_args), weight)

    @staticmethod
    def backward(ctx, grad):
        rows, source, coef, scale_grad_by_freq, shape = ctx.spec
        if scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse "
                               "gradients")
        if grad.requires_grad:
            raise NotImplementedError("embedding: ember cannot differentiate a sparse weight "
                                      "gradient again; use sparse=False for double backward")
        G = data_of(grad).reshape(-1, shape[1])
        values = G[source] if coef is None else G[source] * coef[:, None]
        weight_grad = ember.sparse_coo_tensor(tensor_like(rows.reshape(1, -1), grad),
                                              tensor_like(values, grad), shape,
                                              check_invariants=False)
        return weight_grad, None, None, None, None, None, None


class _SparseLookupBag(_SparseLookup):
    backward_name = "EmbeddingBagBackward0"


# ---------------------------------------------------------------- checks
def _index_array(input, op):
    """The int64 array of ``input`` (an int32/int64 tensor), else torch's error."""
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"{op}(): argument 'indices' must be Tensor, not {type(input).__name__}")
    name = input.dtype.name
    if name not in ("int64", "int32"):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got ember.{_LEGACY.get(name, name)} instead (while checking arguments "
            f"for {op})")
    arr = data_of(input)
    return arr.astype(xp_of(input).int64, copy=False)


def _check_renorm(op, max_norm, norm_type):
    """``max_norm`` (None, or a number at least 0) and ``norm_type`` (a number; inf
    allowed) as floats: a NaN would turn every row it touches into NaN."""
    if max_norm is None:
        return None, real(norm_type, op, "norm_type", finite=False)
    return (real(max_norm, op, "max_norm", low=0, finite=False),
            real(norm_type, op, "norm_type", finite=False))


def _renorm_(weight, idx, max_norm, norm_type):
    """Rescale in place, without gradient, each row of ``weight`` named in ``idx``
    whose ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm``."""
    xp = xp_of(weight)
    W = data_of(weight)
    # every position, repeats included (they write the same values): no unique rows
    # and no look at which exceed, each of which would wait for a GPU
    rows = idx.reshape(-1)
    if rows.shape[0] == 0:
        return
    sel = W[rows]
    mag = xp.abs(sel)
    p = float(norm_type)
    if p == 2:
        norms = xp.sqrt((sel * sel).sum(axis=1))
    elif p == 1:
        norms = mag.sum(axis=1)
    elif p == math.inf:
        norms = mag.max(axis=1)
    elif p == -math.inf:
        norms = mag.min(axis=1)
    elif p == 0:
        norms = (mag != 0).sum(axis=1)
    else:
        norms = (mag ** p).sum(axis=1) ** (1.0 / p)
    norms = norms.astype(xp.float64)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(W.dtype)
    with ember.no_grad():
        weight[tensor_like(rows, weight)] = tensor_like(sel * scale[:, None], weight)


def _freq_coef(xp, idx, num, dtype):
    """1 / (how often each position's row occurs in ``idx``)."""
    counts = xp.zeros(num, dtype=xp.int64)
    xp.add.at(counts, idx, 1)
    return (1.0 / counts[idx]).astype(dtype)


# ---------------------------------------------------------------- embedding
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the indices in ``input``.

    Args:
        input: integer tensor (int64 or int32) of any shape, values in ``[0, num_embeddings)``.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: a row that receives no gradient (negative counts from the end);
            its value is returned as it is. Default: None.
        max_norm: if given, every row named in ``input`` whose ``norm_type``-norm
            exceeds ``max_norm`` is scaled down to that norm first, in place in
            ``weight`` and without gradient. Default: None.
        norm_type: the p of that norm. Default: 2.
        scale_grad_by_freq: divide each row's gradient by how often its index occurs
            in ``input``. Default: ``False``.
        sparse: make the weight's gradient a sparse COO tensor (the rows looked up,
            with their gradients). Default: ``False``.

    Shape:
        - Input: ``(*)``. Weight: ``(V, D)``. Output: ``(*, D)``.

    Examples::

        >>> w = ember.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
        >>> F.embedding(ember.tensor([[2, 0]]), w)
        tensor([[[4., 5.],
                 [0., 1.]]])
    """
    tensor_arg(weight, "embedding", "weight")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    max_norm, norm_type = _check_renorm("embedding", max_norm, norm_type)
    check_same_device(weight, tensor_arg(input, "embedding", "input"))
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx += num
    pad = -1 if padding_idx is None else int(padding_idx)
    idx = _index_array(input, "embedding")
    # at once on the CPU; on a GPU at its next synchronisation, so a step never waits
    assert_in_range(input, "embedding index", idx, 0, num, lambda _: IndexError("index out of range in self"))
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    xp = xp_of(weight)
    flat = idx.reshape(-1)
    if sparse:
        kept = xp.arange(flat.shape[0]) if pad < 0 else xp.flatnonzero(flat != pad)
        return _SparseLookup.apply(weight, "sparse.row_gather", (idx, None, num), flat[kept], kept,
                                   None, scale_grad_by_freq)
    coef = None
    if pad >= 0 or scale_grad_by_freq:
        dtype = data_of(weight).dtype
        coef = xp.ones(flat.shape[0], dtype=dtype)
        if pad >= 0:
            coef = coef * (flat != pad)
        if scale_grad_by_freq:
            coef = coef * _freq_coef(xp, flat, num, dtype)
    return _Lookup.apply(weight, "sparse.row_gather", "sparse.row_scatter", (idx, None, num),
                         (idx, coef, num), "EmbeddingDenseBackwardBackward0")


# ---------------------------------------------------------------- embedding_bag
def _bags(input, offsets, include_last_offset, xp):
    """Flat indices and the [start, end) of every bag, with torch's checks."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                f"fixed length sequences. However, found offsets of type {type(offsets)}")
        n_bags, length = input.shape
        if length == 0 and n_bags > 0:
            raise RuntimeError("embedding_bag: a 2-D input needs at least one index per bag (step must be nonzero)")
        idx = _index_array(input, "embedding_bag").reshape(-1)
        starts = xp.arange(n_bags, dtype=xp.int64) * length
        return idx, starts, starts + length
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    idx = _index_array(input, "embedding_bag")
    off = _index_array(offsets, "embedding_bag")
    n = idx.shape[0]
    if include_last_offset:
        if off.shape[0] < 1:
            raise RuntimeError("include_last_offset: number of offset should be at least 1")
        starts, ends = off[:-1], off[1:]
    else:
        starts = off
        ends = xp.concatenate([off[1:], xp.full(1, n, dtype=xp.int64)]) if off.shape[0] else off
    if off.shape[0]:  # at once on the CPU; on a GPU at its next synchronisation, never a wait
        _check_offsets(offsets, off, n)
    return idx, starts, ends


_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _check_offsets(offsets, off, n):
    """Torch's checks of the offsets ``off`` of ``n`` indices, in its order: the first
    is 0, the last at most ``n`` (a RuntimeError naming it), every one in ``[0, n]``
    (an IndexError, as torch's lookup gives), then non-decreasing. Range checks, two
    launches each on a GPU."""
    assert_in_range(offsets, "embedding_bag offsets[0]", off[:1], 0, 1, lambda first: RuntimeError(
        "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
        f"position 0. However, got {first}"))
    assert_in_range(offsets, f"embedding_bag offsets[-1] past {n}", off[-1:], _INT64[0], n + 1,
                    lambda last: RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                                              f"offsets[-1] of {last}"))
    assert_in_range(offsets, f"embedding_bag offsets in [0, {n}]", off, 0, n + 1,
                    lambda _: IndexError("index out of range in self"))
    assert_in_range(offsets, "embedding_bag offsets order", off[1:] - off[:-1], 0, _INT64[1],
                    lambda _: RuntimeError("embedding_bag: offsets must be non-decreasing "
                                           "(bag b is input[offsets[b]:offsets[b + 1]])"))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of rows of ``weight``, without building the
    rows of each index.

    A 2-D ``input`` ``(B, N)`` is ``B`` bags of ``N`` indices (``offsets`` must be
    None). A 1-D ``input`` is the concatenation of the bags, and ``offsets`` holds
    where each bag starts: bag ``b`` is ``input[offsets[b]:offsets[b + 1]]``, the
    last one runs to the end (or, with ``include_last_offset``, ``offsets`` has one
    more entry that closes the last bag). An empty bag gives zeros.

    Args:
        input: int64/int32 indices, ``(B, N)`` or ``(N,)``.
        weight: ``(num_embeddings, embedding_dim)``.
        offsets: int64/int32 ``(B,)`` (``(B + 1,)`` with ``include_last_offset``),
            starting at 0, non-decreasing. Default: None.
        max_norm: rescale in place (without gradient) the rows used whose
            ``norm_type``-norm exceeds ``max_norm``. Default: None.
        norm_type: the p of that norm. Default: 2.
        scale_grad_by_freq: divide each row's gradient by how often its index occurs
            in ``input`` (not with ``mode='max'``). Default: ``False``.
        mode: ``'sum'``, ``'mean'`` or ``'max'`` (per column, the first maximal row
            gets the gradient). Default: ``'mean'``.
        sparse: make the weight's gradient a sparse COO tensor (every index of every
            bag, with its share of the bag's gradient); not with ``mode='max'``, as in
            torch. Default: ``False``.
        per_sample_weights: floating, same shape as ``input``: each row is scaled by
            its weight before summing (``mode='sum'`` only). Default: None.
        include_last_offset: ``offsets`` ends with the end of the last bag. Default: ``False``.
        padding_idx: a row left out of every bag (so not counted by ``'mean'``);
            negative counts from the end. Default: None.

    Shape:
        - Output: ``(B, embedding_dim)``.

    Examples::

        >>> w = ember.tensor([[1.0, 1.0], [2.0, 4.0], [3.0, 0.0]])
        >>> F.embedding_bag(ember.tensor([0, 1, 2, 2]), w, ember.tensor([0, 2]), mode='sum')
        tensor([[3., 5.],
                [6., 0.]])
    """
    tensor_arg(input, "embedding_bag", "input")
    tensor_arg(weight, "embedding_bag", "weight")
    tensor_arg(offsets, "embedding_bag", "offsets", optional=True)
    tensor_arg(per_sample_weights, "embedding_bag", "per_sample_weights", optional=True)
    max_norm, norm_type = _check_renorm("embedding_bag", max_norm, norm_type)
    check_same_device(weight, input, offsets, per_sample_weights)
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
            f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if not weight.is_floating_point():
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, "
            f"BFloat16, Float, Double; but got {weight.type()} instead (while checking arguments for "
            "embedding_bag)")
    xp = xp_of(weight)
    idx, starts, ends = _bags(input, offsets, include_last_offset, xp)
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    num = weight.shape[0]
    assert_in_range(input, f"embedding_bag index (num_embeddings {num})", idx, 0, num, lambda at, bad: RuntimeError(
        f"Index {at} of input takes value {bad} which is not in the valid range [0, {num})"), position=True)
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} through "
                               f"{num - 1}, but got {padding_idx}")
        if padding_idx < 0:
            padding_idx += num
    pad = -1 if padding_idx is None else int(padding_idx)
    dtype = data_of(weight).dtype

    if mode == "max":
        rows = kernel_for("sparse.bag_argmax", weight)(data_of(weight), idx, starts, ends, pad)
        return linear_map(weight, "sparse.col_gather", "sparse.col_scatter", (rows, num),
                          "EmbeddingBagBackward0", "EmbeddingBagBackwardBackward0")

    freq = _freq_coef(xp, idx, num, dtype) if scale_grad_by_freq else None
    if per_sample_weights is not None:
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(
                f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument "
                f"#1 'per_sample_weights'; but type {weight.dtype} does not equal {per_sample_weights.dtype} "
                f"(while checking arguments for embedding_bag)")
        # rows (padding rows zeroed), scaled by their weights, summed by bags
        keep = None if pad < 0 else (idx != pad).astype(dtype)
        if sparse:
            kept = xp.arange(idx.shape[0]) if pad < 0 else xp.flatnonzero(idx != pad)
            rows = _SparseLookupBag.apply(weight, "sparse.row_gather", (idx, keep, num), idx[kept],
                                          kept, None, scale_grad_by_freq)
        else:
            bwd = keep if freq is None else (freq if keep is None else keep * freq)
            rows = _LookupBag.apply(weight, "sparse.row_gather", "sparse.row_scatter",
                                    (idx, keep, num), (idx, bwd, num),
                                    "EmbeddingBagBackwardBackward0")
        scaled = rows * per_sample_weights.reshape(-1, 1)
        n = idx.shape[0]
        every = xp.arange(n, dtype=xp.int64)
        return linear_map(scaled, "sparse.bag_gather", "sparse.bag_scatter",
                          (every, starts, ends, None, None, -1, n), "EmbeddingBagBackward0",
                          "EmbeddingBagBackwardBackward0")

    div = None
    if mode == "mean":
        if pad < 0:
            div = (ends - starts).astype(dtype)
        else:
            kept = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(idx != pad)])
            div = (kept[ends] - kept[starts]).astype(dtype)
    args = (idx, starts, ends, None, div, pad, num)
    if sparse:
        pos, bag, _ = bag_positions(xp, starts, ends)
        rows = idx[pos]
        share = None if div is None else bag_weights(xp, rows, pos, bag, None, div, pad, dtype)
        if pad >= 0:
            kept = rows != pad
            rows, bag, share = rows[kept], bag[kept], (None if share is None else share[kept])
        return _SparseLookupBag.apply(weight, "sparse.bag_gather", args, rows, bag, share,
                                      scale_grad_by_freq)
    if freq is None:
        return linear_map(weight, "sparse.bag_gather", "sparse.bag_scatter", args,
                          "EmbeddingBagBackward0", "EmbeddingBagBackwardBackward0")
    return _LookupBag.apply(weight, "sparse.bag_gather", "sparse.bag_scatter", args,
                            (idx, starts, ends, freq, div, pad, num), "EmbeddingBagBackwardBackward0")


def one_hot(tensor, num_classes=-1):
    """One-hot encoding: an int64 tensor of shape ``(*tensor.shape, num_classes)``
    with a 1 at each index of ``tensor`` and 0 elsewhere.

    Args:
        tensor: int64 class indices, each in ``[0, num_classes)``.
        num_classes: the number of classes; -1 (default) means ``tensor.max() + 1``.

    Examples::

        >>> F.one_hot(ember.tensor([0, 2, 1]), 3).tolist()
        [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    """
    tensor_arg(tensor, "one_hot", "tensor")
    num_classes = integer(num_classes, "one_hot", "num_classes")
    if tensor.dtype != ember.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(tensor.max()) + 1
    if tensor.numel():
        values = data_of(tensor)
        checks = (("one_hot negative class", values.min() < 0, "Class values must be non-negative."),
                  ("one_hot class too large", values.max() >= num_classes,
                   "Class values must be smaller than num_classes."))
        for site, failed, message in checks:
            if num_classes < 0:  # the call fails whatever the values: say why now, not at a GPU's next sync
                if failed:
                    raise RuntimeError(message)
            else:
                refuse_on_device(tensor, site, failed, RuntimeError(message))
    check_allocation(tuple(tensor.shape) + (num_classes,), 8, "one_hot")
    classes = ember.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()
