"""The ``vision`` layer family: PixelShuffle, Upsample and its fixed-mode
variants, ``F.interpolate`` and ``F.pixel_shuffle``."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
