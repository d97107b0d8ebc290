"""The ``linear`` layer family: Identity, Linear, Bilinear."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
