"""The ``conv`` layer family: Conv1d/2d/3d, ConvTranspose1d/2d/3d, Unfold, Fold
and their functional forms."""

from ember.plugins import exports, family_hooks

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("padding",)

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
