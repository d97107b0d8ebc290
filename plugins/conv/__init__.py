"""The ``conv`` layer family: Conv1d/2d/3d, ConvTranspose1d/2d/3d, Unfold, Fold
and their functional forms."""

from ember.hookspecs import hookimpl
from ember.plugins import exports

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("padding",)

_MODULES = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
            "Unfold", "Fold")
_FUNCTIONS = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d")


@hookimpl
def ember_register_modules():
    from . import modules

    return {name: getattr(modules, name) for name in _MODULES}


@hookimpl
def ember_register_functions():
    from . import functional, unfold

    table = {name: getattr(functional, name) for name in _FUNCTIONS}
    table.update(unfold=unfold.unfold, fold=unfold.fold)
    return table


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
