"""LayerNorm and GroupNorm workloads, written once for ember and torch like the
builders of ``workloads`` (forward + backward, float32, 1M elements at batch 16)."""

from .spatial_workloads import layer_forward_backward

#: LayerNorm's normalised width and the sequence length of its input.
NORMALIZED, TOKENS = 512, 128


def layer_norm(lib, device, batch):
    """LayerNorm(512) on (batch, 128, 512): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.LayerNorm(NORMALIZED),
                                  shape=(batch, TOKENS, NORMALIZED))


def group_norm(lib, device, batch):
    """GroupNorm(8, 64) on (batch, 64, 32, 32): forward + backward."""
    return layer_forward_backward(lib, device, batch, lambda nn: nn.GroupNorm(8, 64))
