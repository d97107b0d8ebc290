"""asv benchmarks of LayerNorm and GroupNorm (forward + backward, float32)."""

from . import normalization_workloads as nw
from .bench_core import BACKENDS, _Workloads


class TimeLayerGroupNorm(_Workloads):
    """LayerNorm(512) on (size, 128, 512) and GroupNorm(8, 64) on (size, 64, 32, 32)."""

    builders = {"layer_norm": nw.layer_norm, "group_norm": nw.group_norm}
    params = (BACKENDS, [16], list(builders))
