"""The attention family's functional forms."""

from .multihead import multi_head_attention_forward
from .sdpa import scaled_dot_product_attention

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]
