"""The ``padding`` layer family: reflection, replication, zero and constant
padding modules and ``F.pad``."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
