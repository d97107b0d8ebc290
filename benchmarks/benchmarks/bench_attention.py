"""asv benchmarks of the attention family (float32)."""

from . import attention_workloads as aw
from .bench_core import BACKENDS, _Workloads


class TimeTransformerEncoderLayer(_Workloads):
    """One SGD step of TransformerEncoderLayer(256, 4, 1024) on a (``size``, 128, 256) batch."""

    builders = {"sgd_step": aw.encoder_layer_training_step}
    params = (BACKENDS, [32], list(builders))


class TimeScaledDotProductAttention(_Workloads):
    """Causal scaled_dot_product_attention forward + backward, (4, 8, ``size``, 64) inputs."""

    builders = {"causal": aw.sdpa_causal}
    params = (BACKENDS, [128, 1024], list(builders))
