"""The ``dropout`` layer family: Dropout, Dropout2d, Dropout3d, AlphaDropout,
FeatureAlphaDropout."""

from ember.plugins import exports, family_hooks

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
