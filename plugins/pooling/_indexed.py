"""Gathering values by flat per-plane indices, and its adjoint, scattering them back.

Max pooling of every kind (plain, adaptive, fractional) picks one input
element per output element of each (batch, channel) plane. Given the indices,
that is a linear map, so it goes through ``linear_map`` and is differentiable
to any order: the gradient of a gather is a scatter-add, whose gradient is the
gather again.

Shapes: the large side is ``(*lead, *in_spatial)``, the small side
``(*lead, *out_spatial)``; int64 ``indices`` has the small side's shape and
holds flat offsets into one ``in_spatial`` plane (torch's ``return_indices``
convention). Both kernels (``kernels.py``) take ``(array, indices, in_spatial,
out_spatial)``.
"""

import math

from ember.autograd import linear_map
from ember.backend import data_of

__all__ = ["gather_planes"]


def gather_planes(x, indices, out_spatial, name="MaxPool2DWithIndicesBackward0", values=None):
    """``out[p, j] = x[p, indices[p, j]]`` for each plane ``p``; differentiable in ``x``.

    ``indices`` (int64 tensor of shape ``(*lead, *out_spatial)``) must hold valid
    offsets, as computed by a pooling kernel; ``values``, when that kernel gave them
    too, is taken as the result instead of gathering again.
    """
    in_spatial = tuple(x.shape[indices.dim() - len(out_spatial):])
    return linear_map(x, "pooling.gather_planes", "pooling.scatter_planes",
                      (data_of(indices), in_spatial, tuple(out_spatial)), name, result=values)
