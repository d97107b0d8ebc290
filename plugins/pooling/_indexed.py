"""Gathering values by flat per-plane indices, and its adjoint, scattering them back.

Max pooling of every kind (plain, adaptive, fractional) picks one input
element per output element of each (batch, channel) plane. Given the indices,
that is a linear map, so it goes through ``linear_map`` and is differentiable
to any order: the gradient of a gather is a scatter-add, whose gradient is the
gather again.

Shapes: the large side is ``(*lead, *in_spatial)``, the small side
``(*lead, *out_spatial)``; int64 ``indices`` has the small side's shape and
holds flat offsets into one ``in_spatial`` plane (torch's ``return_indices``
convention). Both kernels take ``(array, indices, in_spatial, out_spatial)``.
"""

import math

from ember.autograd import linear_map
from ember.backend import REGISTRY, data_of

__all__ = ["gather_planes"]


def _gather(xp):
    def gather(x, indices, in_spatial, out_spatial):
        lead = x.shape[:x.ndim - len(in_spatial)]
        planes = x.reshape(math.prod(lead), math.prod(in_spatial))
        picked = xp.take_along_axis(planes, indices.reshape(planes.shape[0], math.prod(out_spatial)), axis=1)
        return picked.reshape(tuple(lead) + tuple(out_spatial))
    return gather


def _scatter(xp):
    def scatter(g, indices, in_spatial, out_spatial):
        lead = g.shape[:g.ndim - len(out_spatial)]
        n_planes, plane = math.prod(lead), math.prod(in_spatial)
        starts = xp.arange(n_planes, dtype=xp.int64)[:, None] * plane
        flat = (indices.reshape(n_planes, math.prod(out_spatial)) + starts).reshape(-1)
        # bincount sums in float64 whatever g's dtype: exact for float32 inputs
        summed = xp.bincount(flat, weights=g.reshape(-1), minlength=n_planes * plane)
        return summed.astype(g.dtype, copy=False).reshape(tuple(lead) + tuple(in_spatial))
    return scatter


REGISTRY.add_generic({"pooling.gather_planes": _gather, "pooling.scatter_planes": _scatter})


def gather_planes(x, indices, out_spatial, name="MaxPool2DWithIndicesBackward0"):
    """``out[p, j] = x[p, indices[p, j]]`` for each plane ``p``; differentiable in ``x``.

    ``indices`` (int64 tensor of shape ``(*lead, *out_spatial)``) must hold valid
    offsets, as computed by a pooling kernel.
    """
    in_spatial = tuple(x.shape[indices.dim() - len(out_spatial):])
    return linear_map(x, "pooling.gather_planes", "pooling.scatter_planes",
                      (data_of(indices), in_spatial, tuple(out_spatial)), name)
