"""The ``pooling`` layer family: max, average, power-average, fractional and
adaptive pooling, max unpooling, and their functional forms.

Each topic file (``modules``/``functional`` for the windowed poolings,
``adaptive``, ``fractional``) exports its public names in ``MODULES`` and
``FUNCTIONS`` tables; the hooks merge them. ``kernels.py`` holds every kernel.
"""

from ember.plugins import exports, family_hooks

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("activation",)

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
