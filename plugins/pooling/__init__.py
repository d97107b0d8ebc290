"""The ``pooling`` layer family: max, average, power-average, fractional and
adaptive pooling, max unpooling, and their functional forms.

Each topic file (``modules``/``functional`` for the windowed poolings,
``adaptive``, ``fractional``) exports its public names in ``MODULES`` and
``FUNCTIONS`` tables; the hooks merge them. ``kernels.py`` holds every kernel.
"""

from ember.hookspecs import hookimpl
from ember.plugins import exports

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("activation",)


def _topics():
    from . import adaptive, fractional, functional, modules

    return modules, functional, adaptive, fractional


def _merged(table):
    from ember.plugins import merge_tables

    return merge_tables(_topics(), table)


@hookimpl
def ember_register_modules():
    return _merged("MODULES")


@hookimpl
def ember_register_functions():
    return _merged("FUNCTIONS")


@hookimpl
def ember_register_kernels():
    from .kernels import table

    return table()


__getattr__, __dir__ = exports(__name__)
