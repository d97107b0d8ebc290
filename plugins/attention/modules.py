"""The attention family's modules."""

from .multihead import MultiheadAttention

__all__ = ["MultiheadAttention"]
