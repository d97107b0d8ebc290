"""The ``linear`` layer family: Identity, Linear, Bilinear."""

from ember.hookspecs import hookimpl
from ember.plugins import exports


@hookimpl
def ember_register_modules():
    from .modules import Bilinear, Identity, Linear

    return {"Identity": Identity, "Linear": Linear, "Bilinear": Bilinear}


@hookimpl
def ember_register_functions():
    from .functional import bilinear, linear

    return {"linear": linear, "bilinear": bilinear}


__getattr__, __dir__ = exports(__name__)
