"""Text form of tensors, laid out exactly as PyTorch 2.x lays out ``repr``/``str``.

Everything here works on plain NumPy arrays so that any backend can render its
tensors after copying them to the host; the tensor class supplies the dtype name,
the device and the autograd suffixes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "PrintOptions",
    "PRINT_OPTS",
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "format_tensor",
]


@dataclasses.dataclass
class PrintOptions:
    """Settings that control how tensors are printed.

    ``precision`` digits after the decimal point for floats; ``threshold`` the
    element count above which a tensor is summarized with ``...``; ``edgeitems``
    how many items a summarized dimension keeps at each end; ``linewidth`` the
    line width used to wrap long rows; ``sci_mode`` forces (True) or forbids
    (False) scientific notation, or lets it be chosen from the data (None).
    """

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()
"""The process-wide print options that :func:`format_tensor` uses by default."""

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set the global print options, with the semantics of ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") first resets precision, threshold,
    edgeitems and linewidth to a preset; any other argument that is not None then
    overrides its option. ``sci_mode`` is always assigned, so leaving it out
    restores automatic choice of scientific notation.
    """
    # An unknown profile is ignored rather than rejected, as torch does.
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the global print options as a dict accepted by :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Context manager that applies :func:`set_printoptions` and restores the old options."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def _resolve_options(options) -> PrintOptions:
    """A snapshot of ``options`` (None, a mapping or an attribute object); gaps come from PRINT_OPTS."""
    if options is None:
        return dataclasses.replace(PRINT_OPTS)
    values = {}
    for field in dataclasses.fields(PrintOptions):
        current = getattr(PRINT_OPTS, field.name)
        if isinstance(options, Mapping):
            values[field.name] = options.get(field.name, current)
        else:
            values[field.name] = getattr(options, field.name, current)
    return PrintOptions(**values)


class _Formatter:
    """Formats the elements of one real-valued array to a common width."""

    def __init__(self, values: np.ndarray, opts: PrintOptions):
        self.precision = opts.precision
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.reshape(-1)
        if not self.floating:
            if flat.size:
                if flat.dtype.kind == "b":
                    texts = [str(v) for v in np.unique(flat).tolist()]
                else:
                    # The longest decimal text of an integer set is at one of its extremes.
                    texts = [str(flat.min().item()), str(flat.max().item())]
                self.width = max(self.width, *(len(t) for t in texts))
            return

        nonzero_finite = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite.size == 0:
            return
        magnitudes = np.abs(nonzero_finite).astype(np.float64)
        smallest = float(magnitudes.min())
        largest = float(magnitudes.max())
        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))
        if opts.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = bool(opts.sci_mode)

        # Widths only depend on distinct values, so large tensors format far fewer strings.
        distinct = np.unique(nonzero_finite).tolist()
        if self.sci_mode:
            widths = (len(f"{v:.{self.precision}e}") for v in distinct)
        elif self.int_mode:
            # Room for the trailing "." that marks an integral value as floating point.
            widths = (len(f"{v:.0f}") + 1 for v in distinct)
        else:
            widths = (len(f"{v:.{self.precision}f}") for v in distinct)
        self.width = max(self.width, max(widths))

    def format(self, value) -> str:
        """The text of one Python scalar, right-aligned to the common width."""
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.width}.{self.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if math.isfinite(value):
                    text += "."
            else:
                text = f"{value:.{self.precision}f}"
        else:
            text = f"{value}"
        return text.rjust(self.width)


class _ElementFormatter:
    """Formats elements of a real or complex array; complex values use two formatters."""

    def __init__(self, summary: np.ndarray, opts: PrintOptions):
        self.complex = summary.dtype.kind == "c"
        if self.complex:
            self.real = _Formatter(summary.real, opts)
            self.imag = _Formatter(summary.imag, opts)
            # Both parts, the separating ", " and the trailing "j".
            self.element_length = self.real.width + 2 + self.imag.width + 1
        else:
            self.real = _Formatter(summary, opts)
            self.imag = None
            self.element_length = self.real.width + 2

    def __call__(self, value) -> str:
        if not self.complex:
            return self.real.format(value)
        real_text = self.real.format(value.real)
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        if imag_text[0] in "+-":
            return real_text + imag_text
        return real_text + "+" + imag_text


def _summarized(array: np.ndarray, edgeitems: int) -> np.ndarray:
    """The elements a summarized print shows: ``edgeitems`` at both ends of every long axis."""
    if array.ndim == 0:
        return array
    if array.ndim == 1:
        if array.shape[0] > 2 * edgeitems:
            # With edgeitems == 0, ``[-0:]`` keeps the whole vector; torch does the same.
            return np.concatenate((array[:edgeitems], array[-edgeitems:]))
        return array
    if not edgeitems:
        return array[(slice(0, 0),) * array.ndim]
    index = []
    for size in array.shape:
        if size > 2 * edgeitems:
            index.append(np.r_[0:edgeitems, size - edgeitems : size])
        else:
            index.append(np.arange(size))
    # One gather of the final elements, so a huge tensor is never copied whole.
    return array[np.ix_(*index)]


def _vector_str(array, indent, summarize, fmt: _ElementFormatter, opts: PrintOptions) -> str:
    per_line = max(1, math.floor((opts.linewidth - indent) / fmt.element_length))
    edge = opts.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and array.shape[0] > 2 * edge:
        items = (
            [fmt(v) for v in array[:edge].tolist()]
            + [" ..."]
            + [fmt(v) for v in array[-edge:].tolist()]
        )
    else:
        items = [fmt(v) for v in array.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(array, indent, summarize, fmt: _ElementFormatter, opts: PrintOptions) -> str:
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarize, fmt, opts)
    size = array.shape[0]
    edge = opts.edgeitems
    if summarize and size > 2 * edge:
        rows = (
            [_nested_str(array[i], indent + 1, summarize, fmt, opts) for i in range(edge)]
            + ["..."]
            + [_nested_str(array[i], indent + 1, summarize, fmt, opts) for i in range(size - edge, size)]
        )
    else:
        rows = [_nested_str(array[i], indent + 1, summarize, fmt, opts) for i in range(size)]
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def _body_str(array: np.ndarray, indent: int, opts: PrintOptions) -> str:
    summarize = array.size > opts.threshold
    summary = _summarized(array, opts.edgeitems) if summarize else array
    return _nested_str(array, indent, summarize, _ElementFormatter(summary, opts), opts)


def _join_suffixes(text: str, suffixes: Sequence[str], indent: int, linewidth) -> str:
    parts = [text]
    # This over-counts the last line by two; torch measures it the same way.
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(
    array,
    *,
    dtype_name: str,
    is_default_dtype: bool,
    prefix: str = "tensor",
    suffixes: Sequence[str] = (),
    printoptions=None,
    device: str | None = None,
) -> str:
    """Render ``array`` the way ``repr(torch.tensor(...))`` renders the same data.

    ``array`` is a NumPy array of any shape (0-d and empty included) holding the
    tensor's values. ``dtype_name`` is printed as ``dtype=<dtype_name>`` when torch
    would print the dtype. ``is_default_dtype`` says whether a floating dtype is
    the current default one (for complex dtypes: the complex counterpart of that
    default); it is ignored for other kinds, where int64 and bool are the ones
    left unprinted. ``prefix`` is the name before the opening parenthesis.
    ``device``, when given, is printed first as ``device='<device>'``; the caller
    passes it only when torch would show it (a non-default device). ``suffixes``
    are already formatted items such as ``"requires_grad=True"`` or
    ``"grad_fn=<AddBackward0>"`` that follow the dtype in order. ``printoptions``
    is a :class:`PrintOptions`, a dict or any object with those attributes;
    missing settings, or all of them when it is None, come from the global options.
    """
    opts = _resolve_options(printoptions)
    array = np.asarray(array)
    head = prefix if prefix.endswith("(") else prefix + "("
    indent = len(head)
    kind = array.dtype.kind
    short_name = dtype_name.rsplit(".", 1)[-1]

    items = []
    if device is not None:
        items.append(f"device='{device}'")
    if array.size == 0:
        # Shape (0,) is what "[]" already says; any other shape has to be spelled out.
        if array.ndim != 1:
            items.append(f"size={tuple(array.shape)}")
        # With no elements to hint at the kind, only the default float dtype goes unsaid.
        if not (kind == "f" and is_default_dtype):
            items.append(f"dtype={dtype_name}")
        body = "[]"
    else:
        if not opts.edgeitems:
            items.append(f"size={tuple(array.shape)}")
        hidden = (kind in "fc" and is_default_dtype) or short_name in ("int64", "bool")
        if not hidden:
            items.append(f"dtype={dtype_name}")
        body = _body_str(array, indent, opts)
    items.extend(suffixes)
    return _join_suffixes(head + body, items, indent, opts.linewidth)
