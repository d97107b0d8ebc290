"""Torch's refusal of in-place writes that read memory they write.

An in-place op whose input shares memory with the written tensor would read elements
it has already overwritten, in an order each device chooses: NumPy buffers such an
input, a GPU kernel races with it. Torch refuses these writes, and so does ember,
with torch's rule (``MemOverlapStatus``): two arrays that each fill a span of memory
exactly, once per element ("non-overlapping and dense"), overlap *fully* when the
spans and strides are the same, *partially* when the spans meet otherwise; for any
other array the question is too hard and the write goes ahead.

* element-wise in-place ops and ``copy_`` refuse a partial overlap: ``a.add_(a)`` is
  fine, ``a[1:].add_(a[:-1])`` not;
* index writes (``index_add_``, ``index_copy_``, ``scatter_``, ``put_``, and
  ``x[index] = value`` with tensor indices) refuse any overlap of the written tensor
  with the index or the source.

A written tensor whose elements share memory (an ``expand``'s broadcast view) is
refused as well, as torch refuses it (:func:`refuse_internal_overlap`).

A number-like operand torch reads as a number first (``masked_fill_``'s and
``index_fill_``'s value, a one-element value put through a boolean mask) is not
checked, as in torch. Products (``addmm_``, ``baddbmm_``...) compute into new memory
first and are not checked either, as in torch.
"""

from .._tensor import Tensor

_MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor "
            "refer to a single memory location. Please clone() the tensor before performing the "
            "operation.")
_INTERNAL = ("unsupported operation: more than one element of the written-to tensor refers to a "
             "single memory location. Please clone() the tensor before performing the operation.")


def repeats_elements(a):
    """Whether non-empty array ``a`` has a zero (broadcast) stride over more than one
    element: its strides show one memory location as several elements."""
    return a.size > 0 and 0 in a.strides and any(n > 1 and s == 0 for n, s in zip(a.shape, a.strides))


def has_internal_overlap(a):
    """Whether array ``a`` shows one memory location as several of its elements
    (:func:`repeats_elements`), or carries NumPy's read-only flag, as its broadcast
    views do (CuPy's arrays have no such flag); an empty one writes nothing."""
    return a.size > 0 and (not getattr(a.flags, "writeable", True) or repeats_elements(a))


def refuse_internal_overlap(a):
    """Raise torch's RuntimeError when array ``a``, about to be written in place,
    has an internal overlap (:func:`has_internal_overlap`): its elements would race,
    and torch refuses the write."""
    if has_internal_overlap(a):
        raise RuntimeError(_INTERNAL)


def address(a):
    """The address of array ``a``'s first element (a NumPy or CuPy array)."""
    return a.__array_interface__["data"][0] if hasattr(a, "__array_interface__") else a.data.ptr


def _dense_span(a):
    """``(begin, end)``, the byte addresses ``a``'s elements fill exactly, once each;
    None when they do not (strides with gaps, repeats or a negative step)."""
    need = a.itemsize
    for stride, n in sorted((s, n) for n, s in zip(a.shape, a.strides) if n > 1):
        if stride != need:
            return None
        need *= n
    begin = address(a)
    return begin, begin + a.size * a.itemsize


def _owner(a):
    """The array owning ``a``'s memory (NumPy's and CuPy's views point at it)."""
    base = a.base
    return a if base is None else base


def _overlap(written, read):
    """"full", "partial", or None (no overlap, or too hard to tell) for two arrays."""
    if written is read:
        return "full"
    if written.size == 0 or read.size == 0:
        return None
    a, b = _dense_span(written), _dense_span(read)
    if a is None or b is None:
        return None
    if a == b:
        return "full" if written.strides == read.strides else "partial"
    return "partial" if a[0] < b[1] and b[0] < a[1] else None


def refuse_overlap(written, reads, index_write=False):
    """Raise torch's RuntimeError when one of the arrays ``reads`` overlaps array
    ``written``: partially for an element-wise op, at all for an ``index_write``.
    Entries of ``reads`` that are no array of ``written``'s kind are skipped."""
    refused = ("partial", "full") if index_write else ("partial",)
    owner = _owner(written)
    for read in reads:
        # arrays of other owners share no memory: most calls end here, cheaply
        if type(read) is type(written) and _owner(read) is owner and _overlap(written, read) in refused:
            raise RuntimeError(_MESSAGE)


def refuse_overlapping_operands(x, operands, index_write=False):
    """:func:`refuse_overlap` for dense tensor ``x`` and the dense tensors among
    ``operands`` on its backend (one on another device shares no memory with it)."""
    if x.is_sparse:
        return
    refuse_overlap(x._data, [t._data for t in operands if isinstance(t, Tensor) and not t.is_sparse
                             and t._be is x._be], index_write)
