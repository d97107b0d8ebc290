"""The ``normalization`` layer family: BatchNorm1d/2d/3d, GroupNorm,
InstanceNorm1d/2d/3d, LayerNorm, LocalResponseNorm, RMSNorm and their functional forms."""

from ember.plugins import exports, family_hooks

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
