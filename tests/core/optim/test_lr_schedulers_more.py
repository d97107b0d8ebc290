"""The remaining ember.optim.lr_scheduler schedules against torch.optim.lr_scheduler.

Each schedule runs side by side on identical optimizers (same parameters, same
gradients) and the learning rates, momenta / betas and parameters must agree.
"""

import pickle
import re
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import same_outcome, torch

STEPS = 45
EXACT = dict(rtol=0, atol=1e-12)


def _make_opt(lib, kind, seed=0, lrs=(0.1, 0.02)):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in [(3, 2), (4,)]]
    if lib is torch:
        params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    else:
        params = [ember.nn.Parameter(ember.tensor(v.copy())) for v in values]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=1.0, momentum=0.9)
    if kind == "adam":
        return lib.optim.Adam(groups, lr=1.0, betas=(0.9, 0.99))
    if kind == "rmsprop":
        return lib.optim.RMSprop(groups, lr=1.0, momentum=0.5)
    return lib.optim.SGD(groups, lr=1.0)


def _pair(make, kind="sgd"):
    """Optimizers and schedulers built the same way in ember and torch."""
    e_opt, t_opt = _make_opt(ember, kind), _make_opt(torch, kind)
    with warnings.catch_warnings(record=True) as t_warned:
        warnings.simplefilter("always")
        t_s = make(torch.optim, t_opt)
    with warnings.catch_warnings(record=True) as e_warned:
        warnings.simplefilter("always")
        e_s = make(ember.optim, e_opt)
    # Same "scheduler stepped before the optimizer" warnings (composites trigger them).
    early = [sum("before `optimizer.step()`" in str(w.message) for w in ws)
             for ws in (e_warned, t_warned)]
    assert early[0] == early[1]
    return e_opt, t_opt, e_s, t_s


def _hyper(opt):
    """Per group: lr and, where the optimizer has them, momentum and betas."""
    out = []
    for g in opt.param_groups:
        row = [g["lr"]]
        if "momentum" in g:
            row.append(g["momentum"])
        if "betas" in g:
            row.extend(g["betas"])
        out.append(row)
    return np.array(out, dtype=np.float64)


def _compare(e_opt, t_opt, e_s, t_s, what=""):
    np.testing.assert_allclose(_hyper(e_opt), _hyper(t_opt), **EXACT, err_msg=what)
    np.testing.assert_allclose(e_s.get_last_lr(), t_s.get_last_lr(), **EXACT, err_msg=what)
    assert e_s.get_last_lr() == [g["lr"] for g in e_opt.param_groups]
    assert getattr(e_s, "last_epoch", None) == getattr(t_s, "last_epoch", None), what


def _set_grads(e_opt, t_opt, rng):
    for eg, tg in zip(e_opt.param_groups, t_opt.param_groups):
        for e, t in zip(eg["params"], tg["params"]):
            g = rng.standard_normal(tuple(t.shape))
            e.grad = ember.tensor(g.copy())
            t.grad = torch.from_numpy(g.copy())


def _assert_params(e_opt, t_opt):
    for eg, tg in zip(e_opt.param_groups, t_opt.param_groups):
        for e, t in zip(eg["params"], tg["params"]):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(),
                                       rtol=1e-10, atol=1e-10)


def _run(e_opt, t_opt, e_s, t_s, steps=STEPS, seed=1, start=0):
    rng = np.random.default_rng(seed)
    _compare(e_opt, t_opt, e_s, t_s, "after construction")
    for i in range(steps):
        _set_grads(e_opt, t_opt, rng)
        e_opt.step()
        t_opt.step()
        e_s.step()
        t_s.step()
        _compare(e_opt, t_opt, e_s, t_s, f"step {start + i + 1}")
    _assert_params(e_opt, t_opt)


def _decay(epoch):
    return 0.9**epoch


def _warm(epoch):
    return min(1.0, (epoch + 1) / 6)


def _shrink(epoch):
    return 0.97 if epoch % 3 else 0.9


class Factor:
    """A callable object: its attributes travel in the scheduler's state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


def _half_per_cycle(x):
    return 0.5 ** (x - 1)


def _seq(lib, opt):
    s = lib.lr_scheduler
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.2, total_iters=4),
                                s.ExponentialLR(opt, gamma=0.9),
                                s.CosineAnnealingLR(opt, T_max=8, eta_min=0.001)],
                          milestones=[5, 20])


def _seq_constant(lib, opt):
    s = lib.lr_scheduler
    return s.SequentialLR(opt, [s.ConstantLR(opt, factor=0.1, total_iters=3),
                                s.StepLR(opt, step_size=4, gamma=0.5)], milestones=[3])


def _chain(lib, opt):
    s = lib.lr_scheduler
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.1, total_iters=2),
                               s.ExponentialLR(opt, gamma=0.95),
                               s.MultiStepLR(opt, milestones=[10, 25], gamma=0.5)])


def _chain_with_optimizer(lib, opt):
    s = lib.lr_scheduler
    return s.ChainedScheduler([s.LinearLR(opt, start_factor=0.5, total_iters=7),
                               s.PolynomialLR(opt, total_iters=30, power=2.0)], optimizer=opt)


def _nested(lib, opt):
    s = lib.lr_scheduler
    # A composite can lead a SequentialLR (its step is undone and retaken); torch
    # cannot switch *to* one at a milestone (no closed form), so it comes first.
    inner = s.ChainedScheduler([s.ExponentialLR(opt, gamma=0.9), s.ConstantLR(opt, total_iters=3)])
    seq = s.SequentialLR(opt, [inner, s.LinearLR(opt, total_iters=5)], milestones=[6])
    return s.ChainedScheduler([seq, s.MultiplicativeLR(opt, _shrink)])


SCHEDULES = {
    "LambdaLR": ("plain", lambda lib, o: lib.lr_scheduler.LambdaLR(o, _decay)),
    "LambdaLR-list": ("sgd", lambda lib, o: lib.lr_scheduler.LambdaLR(o, [_warm, _decay])),
    "LambdaLR-object": ("plain", lambda lib, o: lib.lr_scheduler.LambdaLR(o, Factor(0.95))),
    "MultiplicativeLR": ("plain", lambda lib, o: lib.lr_scheduler.MultiplicativeLR(o, _shrink)),
    "MultiplicativeLR-list": ("sgd", lambda lib, o: lib.lr_scheduler.MultiplicativeLR(
        o, (_shrink, Factor(0.999)))),
    "ConstantLR": ("plain", lambda lib, o: lib.lr_scheduler.ConstantLR(o)),
    "ConstantLR-args": ("sgd", lambda lib, o: lib.lr_scheduler.ConstantLR(o, 0.25, 7)),
    "LinearLR": ("plain", lambda lib, o: lib.lr_scheduler.LinearLR(o)),
    "LinearLR-decay": ("sgd", lambda lib, o: lib.lr_scheduler.LinearLR(
        o, start_factor=1.0, end_factor=0.05, total_iters=30)),
    "PolynomialLR": ("plain", lambda lib, o: lib.lr_scheduler.PolynomialLR(o)),
    "PolynomialLR-power": ("sgd", lambda lib, o: lib.lr_scheduler.PolynomialLR(
        o, total_iters=37, power=1.7)),
    "CosineAnnealingWarmRestarts": ("plain", lambda lib, o: lib.lr_scheduler.
                                    CosineAnnealingWarmRestarts(o, T_0=7)),
    "CosineAnnealingWarmRestarts-mult": ("sgd", lambda lib, o: lib.lr_scheduler.
                                         CosineAnnealingWarmRestarts(o, 3, T_mult=2,
                                                                     eta_min=1e-3)),
    "CyclicLR-triangular-sgd": ("sgd", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=5)),
    "CyclicLR-triangular2-adam": ("adam", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, base_lr=[0.001, 0.002], max_lr=[0.01, 0.05], step_size_up=4, step_size_down=7,
        mode="triangular2", base_momentum=0.7, max_momentum=[0.95, 0.9])),
    "CyclicLR-exp_range-sgd": ("sgd", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, 0.01, 0.2, step_size_up=3, step_size_down=5, mode="exp_range", gamma=0.97)),
    "CyclicLR-exp_range-rmsprop": ("rmsprop", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, 0.001, 0.01, step_size_up=6, mode="exp_range", gamma=0.99)),
    "CyclicLR-no-momentum": ("plain", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, cycle_momentum=False)),
    "CyclicLR-scale_fn-cycle": ("sgd", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, scale_fn=_half_per_cycle)),
    "CyclicLR-scale_fn-iterations": ("adam", lambda lib, o: lib.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, scale_fn=Factor(0.98), scale_mode="iterations")),
    "OneCycleLR-cos-sgd": ("sgd", lambda lib, o: lib.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=STEPS)),
    "OneCycleLR-linear-adam": ("adam", lambda lib, o: lib.lr_scheduler.OneCycleLR(
        o, max_lr=[0.01, 0.05], epochs=5, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", base_momentum=[0.8, 0.85], max_momentum=0.95)),
    "OneCycleLR-three_phase-sgd": ("sgd", lambda lib, o: lib.lr_scheduler.OneCycleLR(
        o, max_lr=0.2, total_steps=STEPS + 5, three_phase=True, div_factor=10.0,
        final_div_factor=100.0)),
    "OneCycleLR-three_phase-linear-adam": ("adam", lambda lib, o: lib.lr_scheduler.OneCycleLR(
        o, max_lr=0.05, total_steps=STEPS, three_phase=True, anneal_strategy="linear",
        pct_start=0.4)),
    "OneCycleLR-no-momentum": ("plain", lambda lib, o: lib.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=STEPS, cycle_momentum=False)),
    "SequentialLR": ("sgd", _seq),
    "SequentialLR-constant": ("plain", _seq_constant),
    "ChainedScheduler": ("sgd", _chain),
    "ChainedScheduler-optimizer": ("plain", _chain_with_optimizer),
    "SequentialLR-nested": ("adam", _nested),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    kind, make = SCHEDULES[name]
    e_opt, t_opt, e_s, t_s = _pair(make, kind)
    _run(e_opt, t_opt, e_s, t_s)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_resume_matches_torch(name):
    kind, make = SCHEDULES[name]
    e_opt, t_opt, e_s, t_s = _pair(make, kind)
    _run(e_opt, t_opt, e_s, t_s, steps=11)
    sd = e_s.state_dict()
    assert "optimizer" not in sd
    t_sd = t_s.state_dict()
    # Same entries as torch's (torch adds its get_lr-warning flag; its CyclicLR
    # drops the unpicklable reference to the built-in policy).
    assert set(sd) == set(t_sd) - {"_get_lr_called_within_step"}
    # Rebuild on an optimizer restored from the first one's state dict, load the
    # scheduler state (through pickle), and continue alongside torch.
    e_opt2 = _make_opt(ember, kind, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # composites warn on construction, as in torch
        e_s2 = make(ember.optim, e_opt2)
    e_opt2.load_state_dict(e_opt.state_dict())
    e_s2.load_state_dict(pickle.loads(pickle.dumps(sd)))
    for eg, tg in zip(e_opt2.param_groups, t_opt.param_groups):
        for e, t in zip(eg["params"], tg["params"]):
            with ember.no_grad():
                e.copy_(ember.tensor(t.detach().numpy().copy()))
    _run(e_opt2, t_opt, e_s2, t_s, steps=STEPS - 11 - 5, start=11)


def test_lambda_state_dict_keeps_callable_objects_only():
    opt = _make_opt(ember, "plain")
    fn = Factor(0.9)
    s = ember.optim.lr_scheduler.LambdaLR(opt, [fn, _decay])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.9}, None]
    t_opt = _make_opt(torch, "plain")
    t_sd = torch.optim.lr_scheduler.LambdaLR(t_opt, [Factor(0.9), _decay]).state_dict()
    assert t_sd["lr_lambdas"] == sd["lr_lambdas"]
    # Loading updates the object's attributes and leaves the given dict intact.
    other = Factor(0.5)
    s2 = ember.optim.lr_scheduler.LambdaLR(_make_opt(ember, "plain"), [other, _decay])
    sd["lr_lambdas"][0]["rate"] = 0.8
    s2.load_state_dict(sd)
    assert other.rate == 0.8 and "lr_lambdas" in sd and s2.lr_lambdas[1] is _decay
    m = ember.optim.lr_scheduler.MultiplicativeLR(_make_opt(ember, "plain"), lambda e: 0.9)
    assert m.state_dict()["lr_lambdas"] == [None, None]


def test_cyclic_custom_scale_fn_state():
    opt = _make_opt(ember, "sgd")
    s = ember.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=Factor(0.9))
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] == {"rate": 0.9}
    pickle.dumps(sd)
    fn = Factor(0.1)
    s2 = ember.optim.lr_scheduler.CyclicLR(_make_opt(ember, "sgd"), 0.01, 0.1, scale_fn=fn)
    s2.load_state_dict(sd)
    assert fn.rate == 0.9 and "_scale_fn_custom" in sd
    lam = ember.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=lambda x: 1.0)
    assert lam.state_dict()["_scale_fn_custom"] is None
    # Built-in policies survive a round trip (they are not stored as callables).
    tri = ember.optim.lr_scheduler.CyclicLR(_make_opt(ember, "sgd"), 0.01, 0.1, mode="exp_range",
                                           gamma=0.9)
    tri.load_state_dict(pickle.loads(pickle.dumps(tri.state_dict())))
    assert tri.scale_mode == "iterations" and tri.scale_fn(2) == 0.9**2


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_with_epoch_argument(T_mult):
    make = lambda lib, o: lib.lr_scheduler.CosineAnnealingWarmRestarts(  # noqa: E731
        o, T_0=4, T_mult=T_mult, eta_min=0.005)
    e_opt, t_opt, e_s, t_s = _pair(make, "sgd")
    iters = 5
    epochs = [e + i / iters for e in range(12) for i in range(iters)]
    epochs += [3, 30.5, 0, 17, 2.25, 4, 40]  # jumps, also backwards
    for epoch in epochs:
        e_opt.step(), t_opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an explicit epoch is the documented use here
            e_s.step(epoch)
        t_s.step(epoch)
        _compare(e_opt, t_opt, e_s, t_s, f"epoch {epoch}")
        assert (e_s.T_cur, e_s.T_i) == (t_s.T_cur, t_s.T_i)
    # Mixing in plain steps continues from the current position.
    for _ in range(10):
        e_s.step(), t_s.step()
        _compare(e_opt, t_opt, e_s, t_s)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        e_s.step(-1)


@pytest.mark.parametrize("name, epochs", [
    ("ConstantLR-args", [0, 3, 7, 12, 2]),
    ("LinearLR-decay", [0, 4, 29, 30, 31, 50, 7]),
    ("PolynomialLR-power", [0, 10, 37, 40, 5]),
])
def test_step_with_epoch_uses_closed_form(name, epochs):
    kind, make = SCHEDULES[name]
    e_opt, t_opt, e_s, t_s = _pair(make, kind)
    for epoch in epochs:
        e_opt.step(), t_opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_s.step(epoch)
        with pytest.warns(UserWarning, match="deprecated"):
            e_s.step(epoch)
        _compare(e_opt, t_opt, e_s, t_s, f"epoch {epoch}")


@pytest.mark.parametrize("name", ["CyclicLR-triangular2-adam", "OneCycleLR-cos-sgd",
                                  "OneCycleLR-three_phase-sgd", "LambdaLR-list",
                                  "CosineAnnealingWarmRestarts-mult", "LinearLR-decay"])
def test_resume_with_last_epoch(name):
    # Build, run 8 steps, then build fresh schedulers on the same optimizers with
    # last_epoch=8 (the groups hold initial_lr, max_lr, ... from the first run).
    kind, make = SCHEDULES[name]
    e_opt, t_opt, _, _ = _pair(make, kind)
    for _ in range(8):
        e_opt.step(), t_opt.step()
    pieces = {
        "CyclicLR-triangular2-adam": lambda lib, o: lib.lr_scheduler.CyclicLR(
            o, base_lr=[0.001, 0.002], max_lr=[0.01, 0.05], step_size_up=4, step_size_down=7,
            mode="triangular2", base_momentum=0.7, max_momentum=[0.95, 0.9], last_epoch=8),
        "OneCycleLR-cos-sgd": lambda lib, o: lib.lr_scheduler.OneCycleLR(
            o, max_lr=0.1, total_steps=STEPS, last_epoch=8),
        "OneCycleLR-three_phase-sgd": lambda lib, o: lib.lr_scheduler.OneCycleLR(
            o, max_lr=0.2, total_steps=STEPS + 5, three_phase=True, div_factor=10.0,
            final_div_factor=100.0, last_epoch=8),
        "LambdaLR-list": lambda lib, o: lib.lr_scheduler.LambdaLR(o, [_warm, _decay],
                                                                  last_epoch=8),
        "CosineAnnealingWarmRestarts-mult": lambda lib, o: lib.lr_scheduler.
        CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=1e-3, last_epoch=8),
        "LinearLR-decay": lambda lib, o: lib.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=0.05, total_iters=30, last_epoch=8),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_s = pieces[name](torch.optim, t_opt)
    e_s = pieces[name](ember.optim, e_opt)
    _run(e_opt, t_opt, e_s, t_s, steps=20, start=8)
    with pytest.raises(KeyError, match=re.escape("param 'initial_lr' is not specified in "
                                                 "param_groups[0]")):
        ember.optim.lr_scheduler.LambdaLR(_make_opt(ember, "plain"), _decay, last_epoch=3)


def test_one_cycle_refuses_to_step_past_the_end():
    e_opt, t_opt, e_s, t_s = _pair(
        lambda lib, o: lib.lr_scheduler.OneCycleLR(o, 0.1, total_steps=6), "sgd")
    for _ in range(6):
        e_opt.step(), t_opt.step(), e_s.step(), t_s.step()
        _compare(e_opt, t_opt, e_s, t_s)
    with pytest.raises(ValueError) as t_err:
        t_s.step()
    with pytest.raises(ValueError, match="Tried to step 7 times. The specified number of total "
                                         "steps is 6") as e_err:
        e_s.step()
    assert str(e_err.value) == str(t_err.value)


def test_sequential_and_chained_basics():
    e_opt, t_opt, e_s, t_s = _pair(_seq, "sgd")
    assert e_s.last_epoch == 0 == t_s.last_epoch
    assert [s.last_epoch for s in e_s._schedulers] == [s.last_epoch for s in t_s._schedulers]
    assert isinstance(e_s, ember.optim.lr_scheduler.LRScheduler)
    e_opt, t_opt, e_c, t_c = _pair(_chain, "sgd")
    assert e_c.optimizer is e_opt and e_c.get_last_lr() == pytest.approx(t_c.get_last_lr())
    sd = e_c.state_dict()
    assert len(sd["_schedulers"]) == 3 and sd["_schedulers"][1]["gamma"] == 0.95
    assert "optimizer" not in sd["_schedulers"][0]


def test_cycle_momentum_sets_optimizer_groups():
    opt = _make_opt(ember, "adam")
    ember.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, base_momentum=0.8, max_momentum=0.9)
    for g in opt.param_groups:
        assert g["betas"] == (0.9, 0.99)
        assert (g["base_momentum"], g["max_momentum"]) == (0.8, 0.9)
        assert g["lr"] == 0.01 and "momentum" not in g
    opt = _make_opt(ember, "sgd")
    ember.optim.lr_scheduler.OneCycleLR(opt, [0.5, 0.25], total_steps=10)
    assert [g["momentum"] for g in opt.param_groups] == [0.95, 0.95]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.02, 0.01]
    assert [g["min_lr"] for g in opt.param_groups] == [0.02 / 1e4, 0.01 / 1e4]


def _one_group(lib):
    return lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)


def _adagrad(lib):
    return lib.optim.Adagrad([lib.nn.Parameter(lib.ones(2))], lr=0.1)


ERRORS = [
    ("ConstantLR", lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=1.5)),
    ("ConstantLR-neg", lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=-0.1)),
    ("LinearLR-start0", lambda L, o: L.optim.lr_scheduler.LinearLR(o, start_factor=0)),
    ("LinearLR-start", lambda L, o: L.optim.lr_scheduler.LinearLR(o, start_factor=1.1)),
    ("LinearLR-end", lambda L, o: L.optim.lr_scheduler.LinearLR(o, end_factor=2.0)),
    ("LambdaLR-count", lambda L, o: L.optim.lr_scheduler.LambdaLR(o, [_decay, _decay])),
    ("MultiplicativeLR-count", lambda L, o: L.optim.lr_scheduler.MultiplicativeLR(
        o, [_decay, _decay])),
    ("MultiplicativeLR-type", lambda L, o: L.optim.lr_scheduler.MultiplicativeLR(o, 0.9)),
    ("LambdaLR-optimizer", lambda L, o: L.optim.lr_scheduler.StepLR(None, 2)),
    ("CAWR-T_0", lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0)),
    ("CAWR-T_0-float", lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2.0)),
    ("CAWR-T_mult", lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2, 0)),
    ("CAWR-T_mult-float", lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, 2, 1.5)),
    ("CAWR-eta_min", lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, 2, eta_min="0")),
    ("CyclicLR-mode", lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="tri")),
    ("CyclicLR-base_lr", lambda L, o: L.optim.lr_scheduler.CyclicLR(o, [0.01, 0.02], 0.1)),
    ("CyclicLR-max_lr", lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, [0.1, 0.2])),
    ("CyclicLR-momentum", lambda L, o: L.optim.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, base_momentum=[0.8, 0.8])),
    ("CyclicLR-adagrad", lambda L, o: L.optim.lr_scheduler.CyclicLR(_adagrad(L), 0.01, 0.1)),
    ("CyclicLR-optimizer", lambda L, o: L.optim.lr_scheduler.CyclicLR([], 0.01, 0.1)),
    ("OneCycleLR-none", lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 0.1)),
    ("OneCycleLR-epochs-only", lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 0.1, epochs=3)),
    ("OneCycleLR-total0", lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=0)),
    ("OneCycleLR-total-float", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, 0.1, total_steps=10.0)),
    ("OneCycleLR-epochs", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, 0.1, epochs=0, steps_per_epoch=3)),
    ("OneCycleLR-spe", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, 0.1, epochs=2, steps_per_epoch=-1)),
    ("OneCycleLR-pct", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, 0.1, total_steps=10, pct_start=1.5)),
    ("OneCycleLR-pct-int", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, 0.1, total_steps=10, pct_start=0)),
    ("OneCycleLR-anneal", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, 0.1, total_steps=10, anneal_strategy="exp")),
    ("OneCycleLR-max_lr", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        o, [0.1, 0.2], total_steps=10)),
    ("OneCycleLR-adagrad", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        _adagrad(L), 0.1, total_steps=10)),
    ("OneCycleLR-optimizer", lambda L, o: L.optim.lr_scheduler.OneCycleLR(
        "sgd", 0.1, total_steps=10)),
    ("SequentialLR-empty", lambda L, o: L.optim.lr_scheduler.SequentialLR(o, [], [])),
    ("SequentialLR-milestones", lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.StepLR(o, 2), L.optim.lr_scheduler.StepLR(o, 3)], [1, 2])),
    ("SequentialLR-plateau", lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.StepLR(o, 2), L.optim.lr_scheduler.ReduceLROnPlateau(o)], [1])),
    ("SequentialLR-no-optimizer", lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.StepLR(o, 2), object()], [1])),
    ("ChainedScheduler-empty", lambda L, o: L.optim.lr_scheduler.ChainedScheduler([])),
    ("ChainedScheduler-plateau", lambda L, o: L.optim.lr_scheduler.ChainedScheduler(
        [L.optim.lr_scheduler.ReduceLROnPlateau(o)])),
    ("ChainedScheduler-no-optimizer", lambda L, o: L.optim.lr_scheduler.ChainedScheduler(
        [L.optim.lr_scheduler.StepLR(o, 2), 3], optimizer=o)),
]


@pytest.mark.parametrize("name", [e[0] for e in ERRORS])
def test_errors_match_torch(name):
    build = dict(ERRORS)[name]
    same_outcome(lambda L: build(L, _one_group(L)), raises=True, message=True, quiet=True)


@pytest.mark.parametrize("ctor", ["SequentialLR", "ChainedScheduler"])
def test_composites_require_one_optimizer(ctor):
    a, b = _one_group(ember), _one_group(ember)
    s = ember.optim.lr_scheduler
    scheds = [s.StepLR(a, 2), s.StepLR(b, 2)]
    with pytest.raises(ValueError, match=f"{ctor} expects all schedulers to belong to the same "
                                         "optimizer, but got scheduler StepLR at index 1"):
        if ctor == "SequentialLR":
            s.SequentialLR(a, scheds, [3])
        else:
            s.ChainedScheduler(scheds)


def test_names_exported():
    for name in ["LambdaLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
                 "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR",
                 "ChainedScheduler"]:
        cls = getattr(ember.optim.lr_scheduler, name)
        assert name in ember.optim.lr_scheduler.__all__
        assert issubclass(cls, ember.optim.lr_scheduler.LRScheduler) and cls.__doc__
