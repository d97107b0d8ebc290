"""The ``padding`` layer family: reflection, replication, zero, constant and
circular padding modules and ``F.pad``."""

from ember.hookspecs import hookimpl
from ember.plugins import exports

_MODULES = (
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
)


@hookimpl
def ember_register_modules():
    from . import modules

    return {name: getattr(modules, name) for name in _MODULES}


@hookimpl
def ember_register_functions():
    from .functional import pad

    return {"pad": pad}


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
