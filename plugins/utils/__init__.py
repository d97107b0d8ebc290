"""The ``utils`` family: ``ember.nn.utils`` helpers and the Flatten/Unflatten modules."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_utils():
    return {}
