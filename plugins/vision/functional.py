"""The vision family's functional forms (``ember.nn.functional``), gathered from
the files that define them."""

from .grid import affine_grid
from .grid_sample import grid_sample
from .interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest
from .pixel_shuffle import pixel_shuffle, pixel_unshuffle

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "affine_grid", "grid_sample"]
