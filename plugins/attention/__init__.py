"""The ``attention`` layer family (beyond torch 1.0): MultiheadAttention, the
Transformer modules and their functional forms (``scaled_dot_product_attention``,
``multi_head_attention_forward``), with a fused flash-style kernel for the cpu
backend."""

from ember.plugins import exports, family_hooks

#: The families this one calls into; disabling one of them disables this one too.
REQUIRES = ("linear", "activation", "dropout", "normalization")

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
