"""The ``linear`` layer family: Identity, Linear, Bilinear."""

from ember.plugins import exports, family_hooks

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
