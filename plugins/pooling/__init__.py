"""The ``pooling`` layer family: max, average, power-average, fractional and
adaptive pooling, max unpooling, and their functional forms."""

from ember.hookspecs import hookimpl


@hookimpl
def ember_register_modules():
    return {}


@hookimpl
def ember_register_functions():
    return {}
