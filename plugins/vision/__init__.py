"""The ``vision`` layer family: PixelShuffle/PixelUnshuffle, Upsample and its
fixed-mode variants, ``F.interpolate`` (and the deprecated ``F.upsample*``),
``F.pixel_shuffle``/``F.pixel_unshuffle``, ``F.affine_grid``, ``F.grid_sample``.

Each topic file (``interpolate``, ``pixel_shuffle``, ``grid``, ``modules``) exports its
public names in ``MODULES``/``FUNCTIONS`` tables; the hooks merge them.
"""

from ember.plugins import exports, family_hooks

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
