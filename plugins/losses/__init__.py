"""The ``losses`` layer family: loss modules (``ember.nn.CrossEntropyLoss``...) and
their functional forms (``ember.nn.functional.cross_entropy``...)."""

from ember.plugins import exports, family_hooks

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("linear",)

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
