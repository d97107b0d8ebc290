"""The cuda backend's group kernels (``optim.sgd_steps``, ``optim.adam_steps``,
``optim.rmsprop_steps``, ``optim.adagrad_steps``), emulated on the CPU
(tests/cuda_emulator.py) and put in the cpu backend's kernel table, so that whole
optimizers run through them: one launch per group and step, the same parameters
and state as the per-parameter path, and Adam's ``capturable`` steps as torch's."""

import importlib

import numpy as np
import pytest
torch = pytest.importorskip("torch")

import ember
from ember.backend import REGISTRY
from ember.backends.cuda import raw
from ember.optim import optimizer as ember_optimizer

from ... import cuda_emulator
from ...cuda_emulator import CUPY, on_device

CPU = REGISTRY.get("cpu")
STEPS = 6
SHAPES = [(7, 5), (0,), (1,), (300,), (2, 3, 4)]
GROUP_OPS = {"SGD": "optim.sgd_steps", "Adam": "optim.adam_steps", "AdamW": "optim.adam_steps",
             "RMSprop": "optim.rmsprop_steps", "Adagrad": "optim.adagrad_steps"}

CASES = {
    "SGD plain": ("SGD", dict(lr=0.1)),
    "SGD maximize": ("SGD", dict(lr=0.1, maximize=True, weight_decay=0.1)),
    "SGD momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "SGD dampening+decay": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    "SGD nesterov+maximize": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1,
                                          maximize=True)),
    "Adam": ("Adam", dict(lr=0.01)),
    "Adam decay": ("Adam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99))),
    "Adam amsgrad+maximize": ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, eps=1e-6)),
    "AdamW": ("AdamW", dict(lr=0.01)),
    "AdamW amsgrad+maximize": ("AdamW", dict(lr=0.02, weight_decay=0.5, amsgrad=True, maximize=True)),
    "RMSprop": ("RMSprop", dict(lr=0.01)),
    "RMSprop centered": ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, eps=1e-6)),
    "RMSprop momentum+decay": ("RMSprop", dict(lr=0.01, momentum=0.5, weight_decay=0.1)),
    "RMSprop all+maximize": ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.05,
                                             maximize=True)),
    "Adagrad": ("Adagrad", dict(lr=0.1)),
    "Adagrad lr_decay+maximize": ("Adagrad", dict(lr=0.1, lr_decay=0.1, maximize=True)),
    "Adagrad decay+initial": ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5,
                                              eps=1e-6)),
}
TORCH_CASES = {k: v for k, v in CASES.items() if v[0] in ("Adam", "AdamW")}


def _grads(dtype, skipped):
    """STEPS gradients per shape (some zero, for AMSGrad); None where ``skipped``
    holds ``(step, index)``: that parameter gets no gradient that step."""
    rng = np.random.default_rng(0)
    return [[None if (step, k) in skipped else
             (rng.standard_normal(s) * rng.choice([0.0, 0.1, 1.0, 10.0], size=s)).astype(dtype)
             for k, s in enumerate(SHAPES)] for step in range(STEPS)]


def _start(dtype):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _run(lib, name, kwargs, dtype, skipped=()):
    """The parameters and optimizer of ``lib`` (ember or torch) after STEPS steps."""
    params = [lib.nn.Parameter(lib.tensor(a)) for a in _start(dtype)]
    opt = getattr(lib.optim, name)(params, **kwargs)
    for grads in _grads(dtype, set(skipped)):
        for p, g in zip(params, grads):
            p.grad = None if g is None else lib.tensor(g)
        opt.step()
    return opt, params


def _state_arrays(opt, params):
    return [{k: np.asarray(v.detach().numpy()) for k, v in opt.state[p].items()} for p in params]


@pytest.fixture
def launches(monkeypatch):
    """The cpu backend with the cuda group kernels (emulated); the list of the names
    of the RawKernels launched, and the per-parameter kernels then refuse to run."""
    if not cuda_emulator.EMULATED:
        pytest.skip("counts the emulator's launches")
    names = []
    launch = cuda_emulator.RawKernel.__call__

    def counted(self, *args, **kwargs):
        names.append(self.name)
        return launch(self, *args, **kwargs)

    monkeypatch.setattr(cuda_emulator.RawKernel, "__call__", counted)
    for op in set(GROUP_OPS.values()):
        monkeypatch.setitem(CPU.kernels, op, on_device(op))
        monkeypatch.setitem(REGISTRY.kernels, (op, "cpu"), REGISTRY.kernels[(op, "cuda")])
    for op in ("optim.sgd_step", "optim.adam_step"):
        per_parameter = CPU.kernels[op]

        def noted(*args, op=op, per_parameter=per_parameter):
            names.append(op)
            return per_parameter(*args)

        monkeypatch.setitem(CPU.kernels, op, noted)
    return names


@pytest.fixture
def capturable_on_cpu(monkeypatch):
    """ember and torch take ``capturable=True`` for CPU parameters (both refuse them
    otherwise), so that their capturable steps can be compared on the CPU."""
    monkeypatch.setattr(ember_optimizer, "CAPTURABLE_DEVICES", ("cuda", "cpu"))
    torch_adam = importlib.import_module("torch.optim.adam")  # torch.optim.adam is the function
    monkeypatch.setattr(torch_adam, "_get_capturable_supported_devices", lambda *a: ["cuda", "cpu"])


def _assert_same(a_opt, a_params, b_opt, b_params, **tol):
    for a, b in zip(a_params, b_params):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    for a, b in zip(_state_arrays(a_opt, a_params), _state_arrays(b_opt, b_params)):
        assert sorted(a) == sorted(b)
        for key in a:
            assert a[key].shape == b[key].shape
            np.testing.assert_allclose(a[key], b[key], **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_launch_per_group_and_step_with_the_per_parameter_numbers(case, dtype, monkeypatch, launches):
    name, kwargs = CASES[case]
    group_opt, group_params = _run(ember, name, kwargs, dtype)
    assert launches == [f"ember_{GROUP_OPS[name][len('optim.'):]}"] * STEPS
    monkeypatch.undo()
    plain_opt, plain_params = _run(ember, name, kwargs, dtype)
    _assert_same(group_opt, group_params, plain_opt, plain_params, rtol=0, atol=0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_parameters_skipping_steps_keep_their_own_counts(case, monkeypatch, launches):
    """Step counts that differ between parameters (Adam's corrections, Adagrad's
    rates go as a table), and SGD buffers made at different steps (that step goes
    parameter by parameter)."""
    name, kwargs = CASES[case]
    skipped = [(0, 3), (1, 3), (2, 0), (4, 4)]
    group_opt, group_params = _run(ember, name, kwargs, np.float64, skipped)
    assert f"ember_{GROUP_OPS[name][len('optim.'):]}" in launches
    monkeypatch.undo()
    plain_opt, plain_params = _run(ember, name, kwargs, np.float64, skipped)
    _assert_same(group_opt, group_params, plain_opt, plain_params, rtol=0, atol=0)


def test_a_group_of_two_dtypes_is_one_launch_per_dtype(launches):
    params = [ember.nn.Parameter(ember.ones(3, dtype=ember.float32)),
              ember.nn.Parameter(ember.ones(4, dtype=ember.float64)),
              ember.nn.Parameter(ember.ones(5, dtype=ember.float32))]
    opt = ember.optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = ember.ones_like(p)
    opt.step()
    assert launches == ["ember_adam_steps", "ember_adam_steps"]
    np.testing.assert_allclose(params[1].detach().numpy(), 0.9)


def test_tensors_a_group_kernel_does_not_take_go_parameter_by_parameter(launches):
    base = np.arange(24.0).reshape(6, 4)
    transposed = ember.nn.Parameter(ember.tensor(base.T.copy()).t())
    plain = ember.nn.Parameter(ember.tensor(base))
    opt = ember.optim.SGD([transposed, plain], lr=0.1, momentum=0.9)
    for p in (transposed, plain):
        p.grad = ember.ones_like(p)
    opt.step()
    assert "ember_sgd_steps" not in launches
    np.testing.assert_allclose(transposed.detach().numpy(), base - 0.1)
    np.testing.assert_allclose(plain.detach().numpy(), base - 0.1)


def test_sparse_gradients_go_parameter_by_parameter(launches):
    emb = ember.nn.Embedding(10, 3, sparse=True)
    opt = ember.optim.Adagrad(emb.parameters(), lr=0.1)
    before = emb.weight.detach().numpy().copy()
    emb(ember.tensor([1, 2, 2])).sum().backward()
    opt.step()
    assert launches == []
    changed = np.flatnonzero((emb.weight.detach().numpy() != before).any(axis=1))
    assert changed.tolist() == [1, 2]


# The capturable corrections are float32 (the step count's dtype) for float64
# parameters too, and torch's CPU float32 sqrt is at times 1 ulp off (a GPU's is
# correctly rounded, as NumPy's and the emulator's): float64 steps agree to float32's
# precision of the step size.
@pytest.mark.parametrize("dtype,tol", [(np.float32, dict(rtol=1e-5, atol=1e-6)),
                                       (np.float64, dict(rtol=1e-7, atol=1e-8))])
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
@pytest.mark.parametrize("path", ["group kernel", "tensor ops"])
def test_capturable_steps_match_torch(case, dtype, tol, path, request, capturable_on_cpu):
    if path == "group kernel":
        launches = request.getfixturevalue("launches")
    name, kwargs = TORCH_CASES[case]
    kwargs = dict(kwargs, capturable=True)
    e_opt, e_params = _run(ember, name, kwargs, dtype, skipped=[(1, 3)])
    t_opt, t_params = _run(torch, name, dict(kwargs, foreach=False), dtype, skipped=[(1, 3)])
    if path == "group kernel":
        # one launch counts the steps and makes the corrections, one updates
        assert launches == ["ember_adam_corrections", "ember_adam_steps"] * STEPS
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **tol)
    for e, t in zip(e_params, t_params):
        e_state, t_state = e_opt.state[e], t_opt.state[t]
        assert sorted(e_state) == sorted(t_state)
        assert e_state["step"].dtype == ember.float32 and e_state["step"].device == e.device
        assert e_state["step"].item() == t_state["step"].item()
        for key in e_state:
            np.testing.assert_allclose(e_state[key].numpy(), t_state[key].numpy(), **tol)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_capturable_refuses_cpu_parameters_as_torch_does(name):
    p = ember.nn.Parameter(ember.ones(3))
    opt = getattr(ember.optim, name)([p], capturable=True)
    p.grad = ember.ones(3)
    with pytest.raises(AssertionError, match="must be on supported devices"):
        opt.step()
    tp = torch.nn.Parameter(torch.ones(3))
    topt = getattr(torch.optim, name)([tp], capturable=True)
    tp.grad = torch.ones(3)
    with pytest.raises(AssertionError, match="must be on supported devices"):
        topt.step()
    np.testing.assert_array_equal(p.detach().numpy(), 1.0)


def test_capturable_takes_host_step_counts_of_a_loaded_state(capturable_on_cpu, launches):
    source_params = [ember.nn.Parameter(ember.ones(3))]
    source = ember.optim.Adam(source_params, lr=0.1)
    source_params[0].grad = ember.ones(3)
    source.step()
    params = [ember.nn.Parameter(ember.ones(3))]
    opt = ember.optim.Adam(params, lr=0.1, capturable=True)
    opt.load_state_dict(source.state_dict())
    params[0].grad = ember.ones(3)
    opt.step()
    assert opt.state[params[0]]["step"].item() == 2


# The kernels themselves: what they refuse, and the tables they keep.

def _sgd_args(*arrays):
    params, grads = arrays
    return params, grads, None, 0.1, 0.0, 0.0, 0.0, False, False, False


def test_group_kernels_decline_arrays_they_do_not_take():
    rng = np.random.default_rng(2)
    p, q = rng.standard_normal(8), rng.standard_normal(5)
    sgd = on_device("optim.sgd_steps")
    before = p.copy()
    assert sgd(*_sgd_args([p, q], [p.copy(), q.astype(np.float32)])) is False  # mixed dtypes
    assert sgd(*_sgd_args([p, q], [p.copy(), q[:4].copy()])) is False  # shapes
    assert sgd(*_sgd_args([p[::2]], [p[1::2].copy()])) is False  # a strided parameter
    assert sgd(*_sgd_args([p, p[2:6]], [p.copy(), q[:4].copy()])) is False  # overlapping parameters
    assert sgd(*_sgd_args([p], [p])) is False  # the gradient is the parameter
    assert sgd(*_sgd_args([p.astype(np.float16)], [p.astype(np.float16)])) is False
    assert sgd(*_sgd_args([], [])) is False
    adam = on_device("optim.adam_steps")
    steps = [np.zeros((), np.float64)]  # capturable counts must be float32
    assert adam([p], [q[:1].repeat(8)], [p.copy()], [p.copy()], None, steps,
                1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, None) is False
    np.testing.assert_array_equal(p, before)


def test_address_tables_are_cached_by_the_addresses_they_hold():
    tables = raw.TensorTables(CUPY)
    a, b = np.zeros(3), np.zeros((2, 2))
    first = tables.addresses([[a, b], [b, a]])
    assert tables.addresses([[a, b], [b, a]]) is first
    assert first.tolist() == [3, 7, raw.address(a), raw.address(b), raw.address(b), raw.address(a)]
    assert tables.addresses([[b, a], [b, a]]) is not first
    for k in range(tables.KEEP + 1):
        tables.values((k,), np.float32)
    assert tables.addresses([[a, b], [b, a]]) is not first  # pushed out by more recent tables


def test_disjoint():
    a = np.zeros(8)
    assert raw.disjoint([a[:4], a[4:], np.zeros(0), a[:0]])
    assert not raw.disjoint([a[:5], a[4:]])
