"""The fused CPU optimizer steps (``optim.sgd_step``, ``optim.adam_step``): the same
numbers as torch and as ember's tensor-op path, the same state, and the tensor-op
path wherever the kernel does not apply."""

import numpy as np
import pytest
import torch

import ember
from ember.backend import REGISTRY
from ember.backends.cpu import optim as cpu_optim

CPU = REGISTRY.get("cpu")
STEPS = 20
SHAPES = [(7, 5), (300,), (2, 3, 4)]

SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening+decay": dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
    "nesterov+decay": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "maximize": dict(lr=0.05, momentum=0.5, maximize=True),
    "decay only": dict(lr=0.1, weight_decay=0.2),
}
ADAM_CASES = {
    "Adam": ("Adam", dict(lr=0.01)),
    "Adam decay": ("Adam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99))),
    "Adam amsgrad+maximize": ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, eps=1e-6)),
    "AdamW": ("AdamW", dict(lr=0.01)),
    "AdamW amsgrad": ("AdamW", dict(lr=0.02, weight_decay=0.5, amsgrad=True)),
}
CASES = {**{f"SGD {k}": ("SGD", v) for k, v in SGD_CASES.items()}, **ADAM_CASES}
OPS = {"SGD": "optim.sgd_step", "Adam": "optim.adam_step", "AdamW": "optim.adam_step"}


def _grads(dtype, seed=0):
    """STEPS gradients per shape, varying in sign and size (some zero, for AMSGrad)."""
    rng = np.random.default_rng(seed)
    return [[(rng.standard_normal(s) * rng.choice([0.0, 0.1, 1.0, 10.0], size=s)).astype(dtype)
             for s in SHAPES] for _ in range(STEPS)]


def _start(dtype):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _run_ember(name, kwargs, dtype, steps=STEPS):
    params = [ember.nn.Parameter(ember.tensor(a)) for a in _start(dtype)]
    opt = getattr(ember.optim, name)(params, **kwargs)
    for grads in _grads(dtype)[:steps]:
        for p, g in zip(params, grads):
            p.grad = ember.tensor(g)
        opt.step()
    return opt, params


def _run_torch(name, kwargs, dtype):
    params = [torch.nn.Parameter(torch.tensor(a)) for a in _start(dtype)]
    opt = getattr(torch.optim, name)(params, **kwargs)
    for grads in _grads(dtype):
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
    return opt, params


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of the fused kernels that updated a parameter."""
    counts = {}
    for op in set(OPS.values()):
        fused = CPU.kernels[op]

        def counting(*args, op=op, fused=fused):
            done = fused(*args)
            counts[op] = counts.get(op, 0) + done
            return done

        monkeypatch.setitem(CPU.kernels, op, counting)
    return counts


@pytest.fixture
def generic_only(monkeypatch):
    """The CPU backend as one without fused kernels: the tensor-op path everywhere."""
    for op in set(OPS.values()):
        monkeypatch.setitem(CPU.kernels, op, REGISTRY.generic(op, np))


def _state_arrays(opt, params):
    return [{k: np.asarray(v.numpy()) for k, v in opt.state[p].items()} for p in params]


@pytest.mark.parametrize("case", sorted(CASES))
def test_float64_trajectory_matches_torch(case, calls):
    name, kwargs = CASES[case]
    e_opt, e_params = _run_ember(name, kwargs, np.float64)
    t_opt, t_params = _run_torch(name, kwargs, np.float64)
    assert calls[OPS[name]] == STEPS * len(SHAPES)
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10)
    for e_state, t_param in zip(_state_arrays(e_opt, e_params), t_params):
        t_state = t_opt.state[t_param]
        assert sorted(e_state) == sorted(t_state)
        for key, value in e_state.items():
            np.testing.assert_allclose(value, t_state[key].numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_trajectory_matches_torch(case, calls):
    name, kwargs = CASES[case]
    _, e_params = _run_ember(name, kwargs, np.float32)
    _, t_params = _run_torch(name, kwargs, np.float32)
    assert calls[OPS[name]] == STEPS * len(SHAPES)
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_and_tensor_op_paths_agree_bit_for_bit(case, dtype, monkeypatch):
    name, kwargs = CASES[case]
    fused_opt, fused_params = _run_ember(name, kwargs, dtype)
    for op in set(OPS.values()):
        monkeypatch.setitem(CPU.kernels, op, REGISTRY.generic(op, np))
    plain_opt, plain_params = _run_ember(name, kwargs, dtype)
    for a, b in zip(fused_params, plain_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(_state_arrays(fused_opt, fused_params), _state_arrays(plain_opt, plain_params)):
        assert sorted(a) == sorted(b)
        for key in a:
            assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape
            np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("case", ["SGD momentum", "Adam amsgrad+maximize", "AdamW"])
def test_state_dict_round_trip_continues_the_trajectory(case, calls):
    name, kwargs = CASES[case]
    whole_opt, whole = _run_ember(name, kwargs, np.float64)
    half_opt, half = _run_ember(name, kwargs, np.float64, steps=STEPS // 2)
    params = [ember.nn.Parameter(p.detach().clone()) for p in half]
    resumed = getattr(ember.optim, name)(params, **kwargs)
    resumed.load_state_dict(half_opt.state_dict())
    for grads in _grads(np.float64)[STEPS // 2:]:
        for p, g in zip(params, grads):
            p.grad = ember.tensor(g)
        resumed.step()
    for a, b in zip(params, whole):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # the loaded state is updated in place by the kernel, the saved one is not
    for a, b in zip(_state_arrays(resumed, params), _state_arrays(whole_opt, whole)):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def _kernel_calls(name, kwargs, param, grad, calls):
    opt = getattr(ember.optim, name)([param], **kwargs)
    param.grad = grad
    opt.step()
    opt.step()
    return calls.get(OPS[name], 0), opt


@pytest.mark.parametrize("case", ["SGD momentum", "Adam"])
@pytest.mark.parametrize("kind", ["transposed param", "strided grad", "float16"])
def test_tensors_the_kernel_does_not_take_go_through_tensor_ops(case, kind, calls, monkeypatch):
    name, kwargs = CASES[case]
    rng = np.random.default_rng(3)
    base = rng.standard_normal((6, 4))
    grad = rng.standard_normal((6, 4))

    def make():
        if kind == "transposed param":
            p = ember.nn.Parameter(ember.tensor(base.T.copy()).t())  # a column-major leaf
            return p, ember.tensor(grad)
        if kind == "strided grad":
            return ember.nn.Parameter(ember.tensor(base)), ember.tensor(np.repeat(grad, 2, axis=1))[:, ::2]
        return (ember.nn.Parameter(ember.tensor(base, dtype=ember.float16)),
                ember.tensor(grad, dtype=ember.float16))

    p, g = make()
    n, _ = _kernel_calls(name, kwargs, p, g, calls)
    assert n == 0
    for op in set(OPS.values()):
        monkeypatch.setitem(CPU.kernels, op, REGISTRY.generic(op, np))
    q, h = make()
    _kernel_calls(name, kwargs, q, h, calls)
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_sparse_gradients_keep_the_tensor_op_path(calls):
    emb = ember.nn.Embedding(10, 3, sparse=True)
    opt = ember.optim.SGD(emb.parameters(), lr=0.1, momentum=0.9)
    before = emb.weight.detach().numpy().copy()
    emb(ember.tensor([1, 2, 2])).sum().backward()
    opt.step()
    assert calls.get("optim.sgd_step", 0) == 0
    changed = np.flatnonzero((emb.weight.detach().numpy() != before).any(axis=1))
    assert changed.tolist() == [1, 2]
    assert opt.state[emb.weight]["momentum_buffer"].is_sparse


def test_a_backend_without_the_kernels_gets_the_declining_generic_ones():
    from ember.backend import REGISTRY, kernel_for
    from ember.optim import _fused

    for op in (_fused.SGD_STEP, _fused.ADAM_STEP):
        generic = REGISTRY.generic(op, np)
        assert generic(np.ones(2), np.ones(2), None, 0.1, 0.0, 0.0, 0.0, False, False) is False
        assert kernel_for(op, ember.zeros(1)) is not generic    # the CPU backend's own


def test_the_step_bumps_the_versions_of_what_it_changes():
    p = ember.nn.Parameter(ember.ones(4))
    p.grad = ember.ones(4)
    opt = ember.optim.Adam([p])
    opt.step()
    exp_avg, version = opt.state[p]["exp_avg"], p._version
    before = exp_avg._version
    opt.step()
    assert p._version > version and exp_avg._version > before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_arguments_are_checked_before_the_loop(dtype):
    kernel = cpu_optim._optim
    p, g, b = (np.zeros(5, dtype) for _ in range(3))
    with pytest.raises(ValueError, match="does not match"):
        kernel.sgd_step(p, np.zeros(4, dtype), b, 0.1, 0.9, 0, 0, False, False)
    with pytest.raises(ValueError, match="does not match"):
        kernel.sgd_step(p, g.astype(np.float32 if dtype == np.float64 else np.float64), None,
                        0.1, 0, 0, 0, False, False)
    with pytest.raises(TypeError, match="only native float32 and float64"):
        kernel.sgd_step(p.astype(np.float16), g, None, 0.1, 0, 0, 0, False, False)
    with pytest.raises(ValueError, match="C-contiguous"):
        kernel.sgd_step(np.zeros(10, dtype)[::2], g, None, 0.1, 0, 0, 0, False, False)
    read_only = np.zeros(5, dtype)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernel.sgd_step(read_only, g, None, 0.1, 0, 0, 0, False, False)
    assert not p.any()
    g[:] = 1
    assert kernel.sgd_step(p, read_only, None, 0.1, 0, 0, 0, False, False)  # a gradient is only read
    assert kernel.adam_step(p, g, b, np.zeros(5, dtype), None, 0.1, 0.9, 0.99, 1e-8, 0, False, 1.0)
    assert p.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_kernels_decline_arrays_that_share_memory(dtype):
    kernel = cpu_optim._optim
    whole = np.arange(8, dtype=dtype)
    p, g = whole[:5], whole[3:]
    assert kernel.sgd_step(p, g, None, 0.1, 0, 0, 0, False, False) is False
    state = np.ones(5, dtype)
    assert kernel.adam_step(whole[:5].copy(), np.ones(5, dtype), state, state, None,
                            0.1, 0.9, 0.99, 1e-8, 0, False, 1.0) is False
    np.testing.assert_array_equal(whole, np.arange(8))
    np.testing.assert_array_equal(state, 1)


@pytest.mark.parametrize("case", ["SGD plain", "SGD momentum", "Adam", "AdamW amsgrad"])
def test_a_gradient_in_the_parameters_memory_gets_the_tensor_op_result(case, calls, monkeypatch):
    name, kwargs = CASES[case]

    def run():
        p = ember.nn.Parameter(ember.tensor(_start(np.float64)[0]))
        opt = getattr(ember.optim, name)([p], **kwargs)
        for _ in range(3):
            p.grad = p.detach()  # the same memory
            opt.step()
        return p.detach().numpy()

    fused = run()
    assert calls.get(OPS[name], 0) == 0
    for op in set(OPS.values()):
        monkeypatch.setitem(CPU.kernels, op, REGISTRY.generic(op, np))
    np.testing.assert_array_equal(fused, run())


def test_amsgrad_maximum_lets_nan_through_like_torch():
    values = [[np.nan, 1.0], [1.0, np.nan], [2.0, 3.0]]
    for first, second in values:
        e = ember.nn.Parameter(ember.tensor([1.0], dtype=ember.float64))
        t = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
        e_opt = ember.optim.Adam([e], amsgrad=True)
        t_opt = torch.optim.Adam([t], amsgrad=True)
        for g in (first, second):
            e.grad, t.grad = ember.tensor([g], dtype=ember.float64), torch.tensor([g], dtype=torch.float64)
            e_opt.step()
            t_opt.step()
        np.testing.assert_array_equal(e_opt.state[e]["max_exp_avg_sq"].numpy(),
                                      t_opt.state[t]["max_exp_avg_sq"].numpy())
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
