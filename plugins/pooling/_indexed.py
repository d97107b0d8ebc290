"""Gathering values by flat per-plane indices, and its adjoint, scattering them back.

Max pooling of every kind (plain, adaptive, fractional) picks one input
element per output element of each (batch, channel) plane; MaxUnpool puts
values back at such indices. Given the indices, both are linear maps, so they
go through ``linear_map`` and are differentiable to any order: the gradient of
a gather is a scatter-add, and the gradient of a scatter is a gather.

Shapes: the large side is ``(*lead, *in_spatial)``, the small side
``(*lead, *out_spatial)``; int64 ``indices`` has the small side's shape and
holds flat offsets into one ``in_spatial`` plane (torch's ``return_indices``
convention). Both kernels take ``(array, indices, in_spatial, out_spatial)``.
"""

from ember.autograd import linear_map
from ember.backend import REGISTRY, data_of

__all__ = ["gather_planes", "scatter_planes", "check_plane_indices"]


def _size(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _gather(xp):
    def gather(x, indices, in_spatial, out_spatial):
        lead = x.shape[:x.ndim - len(in_spatial)]
        planes = x.reshape(_size(lead), _size(in_spatial))
        picked = xp.take_along_axis(planes, indices.reshape(planes.shape[0], -1), axis=1)
        return picked.reshape(tuple(lead) + tuple(out_spatial))
    return gather


def _scatter(xp):
    def scatter(g, indices, in_spatial, out_spatial):
        lead = g.shape[:g.ndim - len(out_spatial)]
        n_planes, plane = _size(lead), _size(in_spatial)
        starts = xp.arange(n_planes, dtype=xp.int64)[:, None] * plane
        flat = (indices.reshape(n_planes, -1) + starts).reshape(-1)
        # bincount sums in float64 whatever g's dtype: exact for float32 inputs
        summed = xp.bincount(flat, weights=g.reshape(-1), minlength=n_planes * plane)
        return summed.astype(g.dtype, copy=False).reshape(tuple(lead) + tuple(in_spatial))
    return scatter


REGISTRY.add_generic({"pooling.gather_planes": _gather, "pooling.scatter_planes": _scatter})


def gather_planes(x, indices, out_spatial, name="MaxPool2DWithIndicesBackward0"):
    """``out[p, j] = x[p, indices[p, j]]`` for each plane ``p``; differentiable in ``x``.

    ``indices`` (int64 tensor of shape ``(*lead, *out_spatial)``) must hold valid
    offsets: computed by a pooling kernel, or checked by :func:`check_plane_indices`.
    """
    in_spatial = tuple(x.shape[indices.dim() - len(out_spatial):])
    return linear_map(x, "pooling.gather_planes", "pooling.scatter_planes",
                      (data_of(indices), in_spatial, tuple(out_spatial)), name)


def scatter_planes(values, indices, in_spatial, name="MaxUnpool2DBackward0"):
    """Per plane, zeros of shape ``in_spatial`` with ``values`` added at ``indices``
    (MaxUnpool's forward, the adjoint of :func:`gather_planes`); differentiable."""
    out_spatial = tuple(values.shape[values.dim() - len(in_spatial):])
    return linear_map(values, "pooling.scatter_planes", "pooling.gather_planes",
                      (data_of(indices), tuple(in_spatial), out_spatial), name)


def check_plane_indices(indices, plane_size):
    """Raise RuntimeError when an index falls outside ``[0, plane_size)``
    (user-given MaxUnpool indices are checked before any kernel reads them)."""
    if indices.numel() == 0:
        return
    lo, hi = int(indices.min()), int(indices.max())
    if lo < 0 or hi >= plane_size:
        bad = lo if lo < 0 else hi
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{plane_size})")
