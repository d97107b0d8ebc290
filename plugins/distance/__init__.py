"""The ``distance`` layer family."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
