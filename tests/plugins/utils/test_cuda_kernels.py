"""The cuda backend's gradient clipping (``utils.total_norm``, ``utils.clip_gradients``),
emulated on the CPU (tests/cuda_emulator.py) and put in the cpu backend's kernel
table, so that ``clip_grad_norm_`` runs through them: two launches for the norm
of all gradients and one for their scaling, torch's numbers, nothing read back."""

import math

import numpy as np
import pytest
torch = pytest.importorskip("torch")

import ember
from ember.backend import REGISTRY

from ... import cuda_emulator
from ...cuda_emulator import on_device

CPU = REGISTRY.get("cpu")
SHAPES = [(7, 5), (0,), (1,), (3000,), (2, 3, 4)]
NORMS = [2.0, 1.0, math.inf, 3.0, 0.5]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


@pytest.fixture
def launches(monkeypatch):
    """The cpu backend with the cuda clipping kernels (emulated); the names of the
    kernels launched."""
    if not cuda_emulator.EMULATED:
        pytest.skip("counts the emulator's launches")
    names = []
    for cls in (cuda_emulator.RawKernel, cuda_emulator.ReductionKernel):
        plain = cls.__call__

        def counted(self, *args, plain=plain, **kwargs):
            names.append(self.name)
            return plain(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", counted)
    for op in ("utils.total_norm", "utils.clip_gradients"):
        monkeypatch.setitem(CPU.kernels, op, on_device(op))
    return names


def _grads(dtype, scale=1.0):
    rng = np.random.default_rng(4)
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]


def _parameters(lib, grads):
    params = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(g.shape, dtype=getattr(lib, g.dtype.name)))
        p.grad = lib.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch_in_three_launches(dtype, norm_type, max_norm, launches):
    # torch refuses an inf norm of an empty gradient
    grads = [g for g in _grads(dtype) if g.size or norm_type != math.inf]
    e_params, t_params = _parameters(ember, grads), _parameters(torch, grads)
    e_total = ember.nn.utils.clip_grad_norm_(e_params, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type, foreach=False)
    assert launches == ["ember_norm_partials", f"ember_norm_fold_{_kind(norm_type)}", "ember_clip_gradients"]
    assert e_total.dtype == getattr(ember, np.dtype(dtype).name) and e_total.shape == ()
    np.testing.assert_allclose(e_total.numpy(), t_total.numpy(), **TOL[dtype])
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **TOL[dtype])


def _kind(norm_type):
    return {math.inf: 3, 1.0: 1, 2.0: 2}.get(norm_type, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_gradients_give_torch_s_norm(dtype, norm_type, bad, launches):
    grads = [g for g in _grads(dtype) if g.size]
    grads[2][17] = bad
    e_params, t_params = _parameters(ember, grads), _parameters(torch, grads)
    e_total = ember.nn.utils.clip_grad_norm_(e_params, 1.0, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, 1.0, norm_type, foreach=False)
    np.testing.assert_array_equal(e_total.numpy(), t_total.numpy())
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **TOL[dtype])
    with pytest.raises(RuntimeError, match="non-finite"):
        ember.nn.utils.clip_grad_norm_(e_params, 1.0, norm_type, error_if_nonfinite=True)


def test_a_float32_sum_beyond_float32_s_range_is_inf_as_in_torch(launches):
    grads = _grads(np.float32, scale=1e19)
    e_total = ember.nn.utils.get_total_norm([ember.tensor(g) for g in grads])
    t_total = torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], foreach=False)
    assert math.isinf(t_total.item()) and math.isinf(e_total.item())


@pytest.mark.parametrize("case", ["inf norm of an empty gradient", "norm type 0", "mixed dtypes",
                                  "strided gradient"])
def test_calls_the_kernels_do_not_take_go_tensor_by_tensor(case, launches):
    grads = [ember.tensor(g) for g in _grads(np.float64)]
    norm_type = {"inf norm of an empty gradient": math.inf, "norm type 0": 0.0}.get(case, 2.0)
    if case == "mixed dtypes":
        grads[0] = grads[0].float()
    if case == "strided gradient":
        grads[3] = grads[3][::2]
    t_grads = [torch.tensor(g.numpy()) for g in grads]
    if case == "inf norm of an empty gradient":
        with pytest.raises(RuntimeError, match="empty"):
            ember.nn.utils.get_total_norm(grads, norm_type)
    else:
        e_total = ember.nn.utils.get_total_norm(grads, norm_type)
        np.testing.assert_allclose(e_total.numpy(), torch.nn.utils.get_total_norm(t_grads, norm_type).numpy(),
                                   rtol=1e-6)
    assert launches == []


def test_clipping_by_a_total_of_another_dtype_or_twice_the_same_gradient_goes_tensor_by_tensor(launches):
    p = ember.nn.Parameter(ember.zeros(4, dtype=ember.float64))
    p.grad = ember.full((4,), 2.0, dtype=ember.float64)
    ember.nn.utils.clip_grads_with_norm_([p], 1.0, ember.tensor(4.0))  # a float32 total
    ember.nn.utils.clip_grads_with_norm_([p, p], 1.0, ember.tensor(4.0, dtype=ember.float64))
    assert launches == []
    np.testing.assert_allclose(p.grad.numpy(), 2.0 * (1.0 / (4.0 + 1e-6)) ** 3, rtol=1e-6)  # scaled once, then twice


def test_total_norm_of_no_elements_is_zero(launches):
    total = ember.nn.utils.get_total_norm([ember.zeros(0), ember.zeros(0, 3)])
    assert total.item() == 0.0 and launches[0] == "ember_norm_partials"
