"""The ``vision`` layer family: PixelShuffle/PixelUnshuffle, Upsample and its
fixed-mode variants, ``F.interpolate`` (and the deprecated ``F.upsample*``),
``F.pixel_shuffle``/``F.pixel_unshuffle``, ``F.affine_grid``, ``F.grid_sample``.

Each topic file (``interpolate``, ``pixel_shuffle``, ``grid``, ``modules``) exports its
public names in ``MODULES``/``FUNCTIONS`` tables; the hooks merge them.
"""

from ember.hookspecs import hookimpl
from ember.plugins import exports


def _topics():
    from . import grid, grid_sample, interpolate, modules, pixel_shuffle

    return interpolate, pixel_shuffle, grid, grid_sample, modules


def _merged(table):
    from ember.plugins import merge_tables

    return merge_tables(_topics(), table)


@hookimpl
def ember_register_modules():
    return _merged("MODULES")


@hookimpl
def ember_register_functions():
    return _merged("FUNCTIONS")


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
