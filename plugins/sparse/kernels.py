"""The sparse family's kernels: bags of rows (``embedding_bag``) and plain row
lookups (``embedding``) with their adjoints, written against the array namespace,
the Cython ones of ``_embedding_bag.pyx`` for the CPU and the CuPy ones of
``cuda.py`` for the cuda backend; and the family's table.
"""

from ember import kernels

__all__ = ["bag_positions", "bag_weights", "table"]

# Bag ``b`` covers positions [starts[b], ends[b]) of the flat index array ``idx``;
# positions whose row is ``pad`` are skipped; ``coef`` (per position) multiplies
# and ``div`` (per bag) divides when given.

def bag_positions(xp, starts, ends):
    """Every covered position, the bag it belongs to, and its rank inside the bag."""
    lengths = ends - starts
    first = xp.cumsum(lengths) - lengths          # exclusive prefix sums
    total = int(lengths.sum()) if lengths.shape[0] else 0
    j = xp.arange(total, dtype=xp.int64)
    bag = xp.searchsorted(first, j, side="right") - 1 if total else j
    rank = j - first[bag] if total else j
    return starts[bag] + rank if total else j, bag, rank


def bag_weights(xp, rows, pos, bag, coef, div, pad, dtype):
    w = xp.ones(rows.shape[0], dtype=dtype) if coef is None else coef[pos].astype(dtype, copy=True)
    if pad >= 0:
        w = w * (rows != pad)
    if div is not None:
        d = div[bag]
        w = w / xp.where(d != 0, d, 1).astype(dtype)
    return w.astype(dtype, copy=False)


def _bag_gather(xp):
    def bag_gather(W, idx, starts, ends, coef, div, pad, num):
        pos, bag, _ = bag_positions(xp, starts, ends)
        rows = idx[pos]
        out = xp.zeros((starts.shape[0], W.shape[1]), dtype=W.dtype)
        w = bag_weights(xp, rows, pos, bag, coef, div, pad, W.dtype)
        xp.add.at(out, bag, W[rows] * w[:, None])
        return out
    return bag_gather


def _bag_scatter(xp):
    def bag_scatter(G, idx, starts, ends, coef, div, pad, num):
        pos, bag, _ = bag_positions(xp, starts, ends)
        rows = idx[pos]
        out = xp.zeros((num, G.shape[1]), dtype=G.dtype)
        w = bag_weights(xp, rows, pos, bag, coef, div, pad, G.dtype)
        xp.add.at(out, rows, G[bag] * w[:, None])
        return out
    return bag_scatter


def _bag_argmax(xp):
    def bag_argmax(W, idx, starts, ends, pad):
        B, D = starts.shape[0], W.shape[1]
        pos, bag, rank = bag_positions(xp, starts, ends)
        rows = idx[pos]
        keep = rows != pad
        bag, rank, rows = bag[keep], rank[keep], rows[keep]
        longest = int((ends - starts).max()) if B else 0
        dense = xp.full((B, max(longest, 1), D), -xp.inf, dtype=W.dtype)
        dense[bag, rank] = W[rows]
        owner = xp.full((B, max(longest, 1)), -1, dtype=xp.int64)
        owner[bag, rank] = rows
        # torch keeps the first value of a bag and replaces it only by a strictly
        # greater one: a NaN wins only as a bag's first value, and where nothing
        # beats -inf the first row stays (argmax would name slot 0, padding maybe)
        nan = xp.isnan(dense)
        ordered = xp.where(nan, -xp.inf, dense)
        best_rank = ordered.argmax(axis=1)
        first = xp.full(B, dense.shape[1] - 1, dtype=xp.int64)
        xp.minimum.at(first, bag, rank)
        top = xp.take_along_axis(ordered, best_rank[:, None], axis=1)[:, 0]
        stays = nan[xp.arange(B), first] | (top == -xp.inf)
        best_rank = xp.where(stays, first[:, None], best_rank)
        best = xp.take_along_axis(owner, best_rank, axis=1)
        counts = xp.zeros(B, dtype=xp.int64)
        xp.add.at(counts, bag, 1)
        return xp.where(counts[:, None] > 0, best, -1)
    return bag_argmax


def _col_gather(xp):
    def col_gather(W, rows, num):
        picked = xp.take_along_axis(W, xp.where(rows < 0, 0, rows), axis=0)
        return xp.where(rows < 0, xp.zeros((), dtype=W.dtype), picked)
    return col_gather


def _col_scatter(xp):
    def col_scatter(G, rows, num):
        out = xp.zeros((num + 1, G.shape[1]), dtype=G.dtype)   # row ``num`` takes empty bags
        cols = xp.broadcast_to(xp.arange(G.shape[1]), rows.shape)
        xp.add.at(out, (xp.where(rows < 0, num, rows), cols), G)
        return out[:num]
    return col_scatter


def _row_gather(xp):
    def row_gather(W, idx, coef, num):
        out = xp.take(W, idx.reshape(-1), axis=0)
        if coef is not None:
            out = out * coef[:, None]
        return out.reshape(tuple(idx.shape) + (W.shape[1],))
    return row_gather


def _row_scatter(xp):
    def row_scatter(G, idx, coef, num):
        G2 = G.reshape(-1, G.shape[-1])
        if coef is not None:
            G2 = G2 * coef[:, None]
        out = xp.zeros((num, G2.shape[1]), dtype=G.dtype)
        xp.add.at(out, idx.reshape(-1), G2)
        return out
    return row_scatter


GENERIC_KERNELS = {
    "sparse.bag_gather": _bag_gather, "sparse.bag_scatter": _bag_scatter,
    "sparse.bag_argmax": _bag_argmax, "sparse.col_gather": _col_gather,
    "sparse.col_scatter": _col_scatter, "sparse.row_gather": _row_gather,
    "sparse.row_scatter": _row_scatter,
}


def _cpu_kernels():
    """The Cython kernels for the ``cpu`` backend (empty when not built)."""
    try:
        from . import _embedding_bag as k
    except ImportError:  # not built: the generic kernels above serve the CPU
        return {}

    def row_scatter(G, idx, coef, num):
        return k.row_scatter(G.reshape(-1, G.shape[-1]), idx.reshape(-1), coef, num)

    return {"sparse.bag_gather": k.bag_gather, "sparse.bag_scatter": k.bag_scatter,
            "sparse.bag_argmax": k.bag_argmax, "sparse.row_scatter": row_scatter}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table(GENERIC_KERNELS, cpu=_cpu_kernels(), cuda=cuda.KERNELS)
