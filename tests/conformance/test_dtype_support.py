"""Which dtypes each spatial/normalization/sparse op accepts: ember's answer is
torch's (the same exception type, or a result of the same dtype, shape and
values), for float16 and every integer and bool dtype.

uint8 bilinear/bicubic resizing may differ from torch by one unit: torch's uint8
kernels use fixed-point weights, ember rounds float32 per axis.
"""

import numpy as np
import pytest

from tests.oracle import same_outcome

DTYPES = ["float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _x(lib, dt, shape=(1, 2, 6, 6)):
    return (lib.arange(int(np.prod(shape))).reshape(*shape) % 7).to(dt)


def _cases():
    cases = {}
    for nd in (1, 2, 3):
        sh = (1, 2) + (6,) * nd
        f = f"{nd}d"
        cases["conv" + f] = lambda L, dt, nd=nd, sh=sh: getattr(L.nn.functional, f"conv{nd}d")(
            _x(L, dt, sh), _x(L, dt, (3, 2) + (2,) * nd))
        cases["conv_transpose" + f] = lambda L, dt, nd=nd, sh=sh: getattr(
            L.nn.functional, f"conv_transpose{nd}d")(_x(L, dt, sh), _x(L, dt, (2, 3) + (2,) * nd))
        cases["max_pool" + f] = lambda L, dt, nd=nd, sh=sh: getattr(L.nn.functional, f"max_pool{nd}d")(
            _x(L, dt, sh), 2)
        cases["max_pool_indices" + f] = lambda L, dt, nd=nd, sh=sh: getattr(
            L.nn.functional, f"max_pool{nd}d")(_x(L, dt, sh), 2, return_indices=True)[0]
        cases["avg_pool" + f] = lambda L, dt, nd=nd, sh=sh: getattr(L.nn.functional, f"avg_pool{nd}d")(
            _x(L, dt, sh), 2)
        cases["lp_pool" + f] = lambda L, dt, nd=nd, sh=sh: getattr(L.nn.functional, f"lp_pool{nd}d")(
            _x(L, dt, sh), 2, 2)
        cases["max_unpool" + f] = lambda L, dt, nd=nd, sh=sh: getattr(L.nn.functional, f"max_unpool{nd}d")(
            _x(L, dt, sh), L.zeros(sh, dtype=L.long), 2)
        cases["adaptive_max_pool" + f] = lambda L, dt, nd=nd, sh=sh: getattr(
            L.nn.functional, f"adaptive_max_pool{nd}d")(_x(L, dt, sh), 4)
        cases["adaptive_avg_pool" + f] = lambda L, dt, nd=nd, sh=sh: getattr(
            L.nn.functional, f"adaptive_avg_pool{nd}d")(_x(L, dt, sh), 4)
        for mode in ("reflect", "replicate", "circular", "constant"):
            cases[f"pad_{mode}" + f] = lambda L, dt, nd=nd, sh=sh, m=mode: L.nn.functional.pad(
                _x(L, dt, sh), (1, 1) * nd, m)
        modes = {1: ["nearest", "nearest-exact", "linear", "area"],
                 2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
                 3: ["nearest", "nearest-exact", "trilinear", "area"]}[nd]
        for mode in modes:
            cases[f"interpolate_{mode}" + f] = lambda L, dt, sh=sh, m=mode: L.nn.functional.interpolate(
                _x(L, dt, sh), scale_factor=2, mode=m)
    cases.update({
        "unfold": lambda L, dt: L.nn.functional.unfold(_x(L, dt), 2),
        "fold": lambda L, dt: L.nn.functional.fold(_x(L, dt, (1, 8, 4)), (3, 3), 2),
        "pixel_shuffle": lambda L, dt: L.nn.functional.pixel_shuffle(_x(L, dt, (1, 4, 2, 2)), 2),
        "batch_norm": lambda L, dt: L.nn.functional.batch_norm(_x(L, dt), None, None, training=True),
        "batch_norm_eval": lambda L, dt: L.nn.functional.batch_norm(
            _x(L, dt), L.zeros(2, dtype=dt), L.ones(2, dtype=dt)),
        "instance_norm": lambda L, dt: L.nn.functional.instance_norm(_x(L, dt)),
        "layer_norm": lambda L, dt: L.nn.functional.layer_norm(_x(L, dt), (6,)),
        "group_norm": lambda L, dt: L.nn.functional.group_norm(_x(L, dt), 2),
        "local_response_norm": lambda L, dt: L.nn.functional.local_response_norm(_x(L, dt), 2),
        "embedding": lambda L, dt: L.nn.functional.embedding(L.tensor([1, 2]), _x(L, dt, (4, 3))),
        "normalize": lambda L, dt: L.nn.functional.normalize(_x(L, dt, (2, 3))),
    })
    for mode in ("sum", "mean", "max"):
        cases["embedding_bag_" + mode] = lambda L, dt, m=mode: L.nn.functional.embedding_bag(
            L.tensor([[1, 2]]), _x(L, dt, (4, 3)), mode=m)
    return cases


CASES = _cases()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_dtype_support_like_torch(name, dtype):
    one_unit = dtype == "uint8" and name.startswith(("interpolate_bilinear", "interpolate_bicubic"))
    atol = 1.0 if one_unit else (2e-2 if dtype == "float16" else 1e-6)

    def result(L):
        """The result's dtype and shape, and its values in float64 (compared to the tolerance)."""
        out = CASES[name](L, getattr(L, dtype))
        return out.dtype, out.shape, out.double()
    same_outcome(result, exact_type=True, tol=dict(rtol=1e-2 if dtype == "float16" else 1e-6, atol=atol))
