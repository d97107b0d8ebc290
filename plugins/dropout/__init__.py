"""The ``dropout`` layer family: Dropout, Dropout2d, Dropout3d, AlphaDropout,
FeatureAlphaDropout."""

from ember.hookspecs import hookimpl
from ember.plugins import exports


@hookimpl
def ember_register_modules():
    from . import modules

    names = ("Dropout", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
    return {name: getattr(modules, name) for name in names}


@hookimpl
def ember_register_functions():
    from . import functional

    names = ("dropout", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
    return {name: getattr(functional, name) for name in names}


__getattr__, __dir__ = exports(__name__)
