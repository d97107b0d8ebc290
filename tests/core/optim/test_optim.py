"""ember.optim against torch.optim: same parameters and gradients in, same trajectory out."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 2, 2)]
STEPS = 20
TOL = dict(rtol=1e-10, atol=1e-10)


def make_pair(seed=0, device="cpu"):
    """The same float64 parameters in ember (on ``device``) and torch, as copies."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in SHAPES]
    e = [ember.nn.Parameter(ember.tensor(v.copy(), device=device)) for v in values]
    t = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    return e, t


def set_grads(e_params, t_params, rng, skip=None):
    for i, (e, t) in enumerate(zip(e_params, t_params)):
        if i == skip:
            e.grad, t.grad = None, None
            continue
        g = rng.standard_normal(tuple(e.shape))
        e.grad = ember.tensor(g.copy(), device=e.device)
        t.grad = torch.from_numpy(g.copy())


def assert_params_equal(e_params, t_params, what=""):
    for i, (e, t) in enumerate(zip(e_params, t_params)):
        np.testing.assert_allclose(e.detach().cpu().numpy(), t.detach().numpy(), **TOL,
                                   err_msg=f"{what} parameter {i}")


def run_side_by_side(e_opt, t_opt, e_params, t_params, steps=STEPS, seed=1, skip=None):
    rng = np.random.default_rng(seed)
    for step in range(steps):
        set_grads(e_params, t_params, rng, skip=skip)
        e_opt.step()
        t_opt.step()
        assert_params_equal(e_params, t_params, f"step {step}:")


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.001, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, weight_decay=0.01)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-6, maximize=True)),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{kw}" for n, kw in CONFIGS])
def test_same_trajectory_as_torch(name, kwargs, device):
    e_params, t_params = make_pair(device=device)
    e_opt = getattr(ember.optim, name)(e_params, **kwargs)
    t_opt = getattr(torch.optim, name)(t_params, foreach=False, **kwargs)
    run_side_by_side(e_opt, t_opt, e_params, t_params)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_and_missing_grads(name, device):
    e_params, t_params = make_pair(device=device)
    extra = dict(momentum=0.9) if name in ("SGD", "RMSprop") else {}

    def groups(params):
        return [{"params": params[:2]}, {"params": [params[2]], "lr": 0.003, "weight_decay": 0.2}]

    e_opt = getattr(ember.optim, name)(groups(e_params), lr=0.02, **extra)
    t_opt = getattr(torch.optim, name)(groups(t_params), lr=0.02, foreach=False, **extra)
    # The second parameter never gets a gradient: it and its state stay untouched.
    run_side_by_side(e_opt, t_opt, e_params, t_params, skip=1)
    assert e_opt.param_groups[1]["lr"] == 0.003 and e_opt.param_groups[0]["weight_decay"] == 0
    if name != "Adagrad":
        assert e_params[1] not in e_opt.state or not e_opt.state[e_params[1]]


def test_closure_is_evaluated_with_grad_and_returned():
    e_params, t_params = make_pair()
    e_opt = ember.optim.SGD(e_params, lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t_params, lr=0.1, momentum=0.9)

    def closure(params, opt, lib):
        def run():
            opt.zero_grad()
            loss = sum((p * p).sum() for p in params)
            loss.backward()
            return loss
        return run

    for _ in range(5):
        with ember.no_grad():
            e_loss = e_opt.step(closure(e_params, e_opt, ember))
        t_loss = t_opt.step(closure(t_params, t_opt, torch))
        assert abs(e_loss.item() - t_loss.item()) < 1e-10
    assert_params_equal(e_params, t_params)


def test_step_records_no_graph():
    p = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    opt = ember.optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3, dtype=ember.float64)
    opt.step()
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert not opt.state[p]["exp_avg"].requires_grad


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_invalid_learning_rate(name):
    p = ember.nn.Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        getattr(ember.optim, name)([p], lr=-1)


@pytest.mark.parametrize("name, kwargs, message", [
    ("SGD", dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("AdamW", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("RMSprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
])
def test_invalid_hyper_parameters_like_torch(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kwargs)
    with pytest.raises(ValueError, match=message):
        getattr(ember.optim, name)([ember.nn.Parameter(ember.ones(2))], **kwargs)


def test_bad_params():
    p = ember.nn.Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        ember.optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        ember.optim.SGD([p, 3.0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        ember.optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        ember.optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        ember.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        ember.optim.SGD([p], lr=0.1).add_param_group([p])


def test_add_param_group_takes_defaults():
    a, b = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9


def test_zero_grad():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([p], lr=0.1)
    p.grad = ember.full((3,), 2.0)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_repr_matches_torch():
    e_params, t_params = make_pair()
    e = repr(ember.optim.SGD(e_params, lr=0.1, momentum=0.9))
    t = repr(torch.optim.SGD(t_params, lr=0.1, momentum=0.9))
    assert e.splitlines()[:2] == t.splitlines()[:2] == ["SGD (", "Parameter Group 0"]
    for line in e.splitlines()[2:-1]:
        assert line in t.splitlines()
    assert e.endswith("\n)")


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
])
def test_state_dict_format_and_round_trip(name, kwargs):
    e_params, t_params = make_pair()

    def groups(params):
        return [{"params": params[:2]}, {"params": [params[2]], "lr": 0.003}]

    e_opt = getattr(ember.optim, name)(groups(e_params), **kwargs)
    t_opt = getattr(torch.optim, name)(groups(t_params), foreach=False, **kwargs)
    run_side_by_side(e_opt, t_opt, e_params, t_params, steps=10, seed=1)

    e_sd, t_sd = e_opt.state_dict(), t_opt.state_dict()
    assert [g["params"] for g in e_sd["param_groups"]] == [[0, 1], [2]]
    assert [g["params"] for g in t_sd["param_groups"]] == [[0, 1], [2]]
    for eg, tg in zip(e_sd["param_groups"], t_sd["param_groups"]):
        for key, value in eg.items():
            assert key == "foreach" or tg[key] == value, key
    assert sorted(e_sd["state"]) == sorted(t_sd["state"]) == [0, 1, 2]
    for index, e_state in e_sd["state"].items():
        t_state = t_sd["state"][index]
        assert sorted(e_state) == sorted(t_state)
        for key, value in e_state.items():
            assert value.dtype.name == str(t_state[key].dtype).replace("torch.", ""), key
            np.testing.assert_allclose(value.numpy(), t_state[key].numpy(), **TOL, err_msg=key)

    # Resume on fresh copies of the parameters from a pickled state dict: the
    # trajectory continues exactly as the uninterrupted one.
    resumed = [ember.nn.Parameter(p.detach().clone()) for p in e_params]
    e_opt2 = getattr(ember.optim, name)(groups(resumed), **kwargs)
    e_opt2.load_state_dict(pickle.loads(pickle.dumps(e_sd)))
    assert e_opt2.param_groups[1]["lr"] == 0.003
    assert e_opt2.param_groups[0]["params"] == resumed[:2]
    rng = np.random.default_rng(7)
    for _ in range(10):
        set_grads(e_params, t_params, rng)
        for e, r in zip(e_params, resumed):
            r.grad = e.grad.clone()
        e_opt.step()
        t_opt.step()
        e_opt2.step()
    assert_params_equal(e_params, t_params, "continued")
    assert_params_equal(resumed, t_params, "resumed")


def test_load_state_dict_from_torch_and_checks():
    e_params, t_params = make_pair()
    t_opt = torch.optim.SGD(t_params, lr=0.1, momentum=0.9, foreach=False)
    e_opt = ember.optim.SGD(e_params, lr=0.1, momentum=0.9)
    run_side_by_side(e_opt, t_opt, e_params, t_params, steps=3)
    t_sd = t_opt.state_dict()
    converted = {"state": {i: {k: ember.tensor(v.numpy()) for k, v in s.items()}
                           for i, s in t_sd["state"].items()},
                 "param_groups": copy.deepcopy(t_sd["param_groups"])}
    fresh = ember.optim.SGD(e_params, lr=0.1, momentum=0.9)
    fresh.load_state_dict(converted)
    np.testing.assert_allclose(fresh.state[e_params[0]]["momentum_buffer"].numpy(),
                               e_opt.state[e_params[0]]["momentum_buffer"].numpy(), **TOL)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        fresh.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        ember.optim.SGD(e_params[:2], lr=0.1).load_state_dict(converted)


def test_load_state_dict_casts_to_param_dtype():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.Adam([p])
    p.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    q = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    opt2 = ember.optim.Adam([q])
    opt2.load_state_dict(sd)
    assert opt2.state[q]["exp_avg"].dtype == ember.float64
    assert opt2.state[q]["step"].dtype == ember.float32
    # Loaded buffers are copies: stepping one optimizer leaves the other's alone.
    assert opt2.state[q]["exp_avg"].data_ptr() != opt.state[p]["exp_avg"].data_ptr()


# ---------------------------------------------------------------- schedulers

def _sched_pair(make, lrs=(0.1, 0.02)):
    e_p = [ember.nn.Parameter(ember.ones(1)) for _ in lrs]
    t_p = [torch.nn.Parameter(torch.ones(1)) for _ in lrs]
    e_opt = ember.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(e_p, lrs)], lr=1.0)
    t_opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(t_p, lrs)], lr=1.0)
    return e_opt, t_opt, make(ember.optim, e_opt), make(torch.optim, t_opt)


SCHEDULES = {
    "StepLR": lambda lib, opt: lib.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda lib, opt: lib.lr_scheduler.MultiStepLR(opt, [2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda lib, opt: lib.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda lib, opt: lib.lr_scheduler.CosineAnnealingLR(opt, T_max=7),
    "CosineAnnealingLR-eta_min": lambda lib, opt: lib.lr_scheduler.CosineAnnealingLR(
        opt, T_max=10, eta_min=0.001),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    e_opt, t_opt, e_s, t_s = _sched_pair(SCHEDULES[name])
    assert e_s.get_last_lr() == t_s.get_last_lr()
    for epoch in range(35):
        e_opt.step()
        t_opt.step()
        e_s.step()
        t_s.step()
        assert e_s.last_epoch == t_s.last_epoch == epoch + 1
        np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13, atol=1e-16,
                                   err_msg=f"epoch {epoch + 1}")
        assert [g["lr"] for g in e_opt.param_groups] == e_s.get_last_lr()
    assert e_s.base_lrs == [0.1, 0.02]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_state_dict_and_resume(name):
    e_opt, t_opt, e_s, t_s = _sched_pair(SCHEDULES[name])
    for _ in range(6):
        e_opt.step(), t_opt.step(), e_s.step(), t_s.step()
    sd = e_s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 6
    # A scheduler rebuilt on a restored optimizer continues the same sequence.
    opt2 = ember.optim.SGD([{"params": [ember.nn.Parameter(ember.ones(1))]} for _ in range(2)], lr=1.0)
    opt2.load_state_dict(e_opt.state_dict())
    e_s2 = SCHEDULES[name](ember.optim, opt2)
    e_s2.load_state_dict(pickle.loads(pickle.dumps(sd)))
    for _ in range(8):
        opt2.step(), t_opt.step(), e_s2.step(), t_s.step()
        np.testing.assert_allclose(e_s2.get_last_lr(), t_s.get_last_lr(), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_step_with_epoch_uses_closed_form(name):
    e_opt, t_opt, e_s, t_s = _sched_pair(SCHEDULES[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_opt.step()
        t_s.step(12)
    e_opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        e_s.step(12)
    np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13)


def test_resume_with_last_epoch():
    e_opt, t_opt, _, _ = _sched_pair(lambda lib, opt: None)
    for opt in (e_opt, t_opt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
    e_s = ember.optim.lr_scheduler.CosineAnnealingLR(e_opt, T_max=10, last_epoch=4)
    t_s = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=10, last_epoch=4)
    for _ in range(5):
        e_opt.step(), t_opt.step(), e_s.step(), t_s.step()
        np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13)
    fresh = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        ember.optim.lr_scheduler.StepLR(fresh, 3, last_epoch=2)


def test_scheduler_warnings_and_errors():
    opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))], lr=0.1)
    s = ember.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ember.optim.lr_scheduler.StepLR(object(), 2)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ember.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode foo is unknown"):
        ember.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="foo")
    with pytest.raises(ValueError, match="threshold mode x is unknown"):
        ember.optim.lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        ember.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0, 0])


METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.89999, 0.91, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.71, 0.72, 0.73,
           0.74, 0.75, 0.75, 0.75, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=1),
    dict(patience=2, factor=0.5, cooldown=2),
    dict(mode="max", patience=1, factor=0.5),
    dict(patience=0, threshold=0.05, threshold_mode="abs", min_lr=[0.01, 0.005]),
    dict(mode="max", patience=1, threshold=0.01, threshold_mode="abs", cooldown=1),
    dict(patience=0, factor=0.5, min_lr=0.03, eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    e_opt, t_opt, e_s, t_s = _sched_pair(
        lambda lib, opt: lib.lr_scheduler.ReduceLROnPlateau(opt, **kwargs))
    for i, metric in enumerate(METRICS):
        e_s.step(ember.tensor(metric) if i % 2 else metric)
        t_s.step(metric)
        np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), rtol=1e-13, atol=1e-16,
                                   err_msg=f"epoch {i}")
        assert (e_s.num_bad_epochs, e_s.cooldown_counter, e_s.last_epoch) == (
            t_s.num_bad_epochs, t_s.cooldown_counter, t_s.last_epoch)
    sd = e_s.state_dict()
    again = ember.optim.lr_scheduler.ReduceLROnPlateau(e_opt)
    again.load_state_dict(sd)
    assert again.best == t_s.best and again.mode == e_s.mode
    assert math.isfinite(again.best)


def test_custom_optimizer_with_scheduler_and_no_spurious_warning():
    class HalfStep(ember.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            with ember.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.sub_(p.grad * (group["lr"] / 2))

    p = ember.nn.Parameter(ember.ones(2))
    opt = HalfStep([p])
    sched = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert isinstance(sched, ember.optim.lr_scheduler.LRScheduler)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            p.grad = ember.ones(2)
            opt.step()
            sched.step()
    assert sched.get_last_lr() == [0.1 * 0.5**3]
    np.testing.assert_allclose(p.detach().numpy(), 1 - (0.05 + 0.025 + 0.0125), rtol=1e-6)
    # A second scheduler on the same optimizer does not wrap step twice.
    step = opt.step
    ember.optim.lr_scheduler.StepLR(opt, 2)
    assert opt.step is step
    assert isinstance(ember.optim.lr_scheduler.ReduceLROnPlateau(opt),
                      ember.optim.lr_scheduler.LRScheduler)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                          ("Adam", dict(lr=0.01, amsgrad=True)),
                                          ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                          ("Adagrad", dict(lr=0.1))])
def test_float32_keeps_dtype_and_tracks_torch(name, kwargs, device):
    rng = np.random.default_rng(0)
    value = rng.standard_normal((6, 5)).astype(np.float32)
    e = ember.nn.Parameter(ember.tensor(value.copy(), device=device))
    t = torch.nn.Parameter(torch.from_numpy(value.copy()))
    e_opt = getattr(ember.optim, name)([e], **kwargs)
    t_opt = getattr(torch.optim, name)([t], foreach=False, **kwargs)
    for _ in range(STEPS):
        g = rng.standard_normal((6, 5)).astype(np.float32)
        e.grad, t.grad = ember.tensor(g, device=device), torch.from_numpy(g.copy())
        e_opt.step()
        t_opt.step()
    assert e.dtype == ember.float32
    assert all(v.dtype == (ember.float32) for v in e_opt.state[e].values())
    np.testing.assert_allclose(e.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-5)
