"""The ``normalization`` layer family: BatchNorm1d/2d/3d, GroupNorm,
InstanceNorm1d/2d/3d, LayerNorm, LocalResponseNorm and their functional forms."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
