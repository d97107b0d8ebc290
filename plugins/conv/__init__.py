"""The ``conv`` layer family: Conv1d/2d/3d, ConvTranspose1d/2d/3d, Unfold, Fold
and their functional forms."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
