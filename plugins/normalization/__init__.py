"""The ``normalization`` layer family: BatchNorm1d/2d/3d, GroupNorm,
InstanceNorm1d/2d/3d, LayerNorm, LocalResponseNorm and their functional forms."""

from ember.hookspecs import hookimpl
from ember.plugins import exports


@hookimpl
def ember_register_modules():
    from . import modules as m

    return {
        "BatchNorm1d": m.BatchNorm1d,
        "BatchNorm2d": m.BatchNorm2d,
        "BatchNorm3d": m.BatchNorm3d,
        "InstanceNorm1d": m.InstanceNorm1d,
        "InstanceNorm2d": m.InstanceNorm2d,
        "InstanceNorm3d": m.InstanceNorm3d,
        "LayerNorm": m.LayerNorm,
        "GroupNorm": m.GroupNorm,
        "LocalResponseNorm": m.LocalResponseNorm,
    }


@hookimpl
def ember_register_functions():
    from . import functional as f

    return {
        "batch_norm": f.batch_norm,
        "instance_norm": f.instance_norm,
        "layer_norm": f.layer_norm,
        "group_norm": f.group_norm,
        "local_response_norm": f.local_response_norm,
    }


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
