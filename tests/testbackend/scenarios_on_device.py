"""The Module, autograd and optim subset, run on the third-party ``checked`` backend.

Each scenario is a function of a device name; it runs on ``cpu`` and on
``checked`` from the same seed and the same initial weights, and every tensor it
returns must agree: shape, dtype, values (and the ``checked`` ones must live on
``checked``). Run by tests/core/test_backend_protocol.py in a fresh interpreter
where ``ember-checked`` is an installed distribution (a dist-info folder beside
this file); it is not collected by the main run.
"""

import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

DEVICE = "checked"


def _seeded_module(factory):
    """A module built with the same weights for both runs."""
    ember.manual_seed(0)
    return factory()


def _values(result):
    if isinstance(result, ember.Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _values(item)]
    if isinstance(result, dict):
        return [t for item in result.values() for t in _values(item)]
    return []


def _same(scenario):
    cpu, dev = _values(scenario("cpu")), _values(scenario(DEVICE))
    assert len(cpu) == len(dev) > 0
    for a, b in zip(cpu, dev):
        assert b.device.type == DEVICE, f"result on {b.device}"
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=1e-6, atol=1e-9)


def _data(*shape, dtype=ember.float64, device="cpu", requires_grad=False):
    values = np.sin(np.arange(1, int(np.prod(shape)) + 1)).reshape(shape)
    return ember.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


# ------------------------------------------------------------------ tensors
def test_backend_is_the_installed_distribution():
    info = {p.name: p for p in ember.plugins.list()}["checked"]
    assert info.enabled and info.distribution == "ember-checked" and not info.builtin
    assert ember.device(DEVICE) == ember.zeros(1, device=DEVICE).device


@pytest.mark.parametrize("make", [
    lambda d: ember.zeros(2, 3, device=d),
    lambda d: ember.ones(4, dtype=ember.int64, device=d),
    lambda d: ember.full((2,), 3.5, device=d),
    lambda d: ember.arange(5, device=d),
    lambda d: ember.eye(3, device=d),
    lambda d: ember.linspace(0, 1, 5, device=d),
    lambda d: _data(2, 3).to(d),
    lambda d: _data(2, 3, device=d).clone(),
])
def test_creation(make):
    _same(make)


@pytest.mark.parametrize("op", [
    lambda x: x + 1, lambda x: x * x - x / 3, lambda x: x.exp().log1p(), lambda x: x.sigmoid(),
    lambda x: x.tanh(), lambda x: x.relu(), lambda x: x.clamp(-0.5, 0.5), lambda x: x.sum(1),
    lambda x: x.mean(), lambda x: x.max(0), lambda x: x.argmax(1), lambda x: x.softmax(1),
    lambda x: x.log_softmax(0), lambda x: x @ x.t(), lambda x: x.t().contiguous(),
    lambda x: x[1:, ::2], lambda x: x.reshape(-1), lambda x: ember.cat([x, x], 0),
    lambda x: ember.stack([x, x]), lambda x: x.sort(1), lambda x: x.topk(2), lambda x: x.cumsum(1),
    lambda x: ember.where(x > 0, x, -x), lambda x: x.masked_fill(x > 0.5, 0.0),
    lambda x: x.gather(1, ember.tensor([[0], [2], [1]], device=x.device)),
    lambda x: x.index_select(0, ember.tensor([2, 0], device=x.device)),
    lambda x: x.erf(), lambda x: x.norm(), lambda x: x.var(1), lambda x: x.float(),
])
def test_elementwise_reductions_and_indexing(op):
    _same(lambda d: op(_data(3, 4, device=d)))


@pytest.mark.parametrize("mixed", [
    lambda d: _data(2, device=d) + _data(2),
    lambda d: F.embedding(ember.tensor([0, 1]), _data(3, 2, device=d)),
    lambda d: F.embedding_bag(ember.tensor([0, 1], device=d), _data(3, 2, device=d), ember.tensor([0])),
    lambda d: F.max_unpool1d(_data(1, 1, 2, device=d), ember.tensor([[[0, 3]]]), 2),
    lambda d: F.fractional_max_pool2d(_data(1, 1, 4, 4, device=d), 2, output_size=2,
                                      _random_samples=_data(1, 1, 2).abs() / 2),
])
def test_devices_do_not_mix(mixed):
    with pytest.raises(RuntimeError, match="same device, but found at least two devices, (checked and cpu|cpu and checked)"):
        mixed(DEVICE)


def test_a_gradient_on_another_device_is_refused():
    x = _data(3, device=DEVICE, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - expected device checked but got cpu"):
        (x * 2).backward(ember.ones(3, dtype=ember.float64))


# ------------------------------------------------------------------ autograd
def test_backward_through_a_chain():
    def run(d):
        x = _data(3, 4, device=d, requires_grad=True)
        ((x.sigmoid() * x).sum(1) ** 2).mean().backward()
        return x.grad
    _same(run)


def test_autograd_grad_and_double_backward():
    def run(d):
        x = _data(4, device=d, requires_grad=True)
        (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
        (gg,) = ember.autograd.grad(g.sum(), x)
        return g, gg
    _same(run)


def test_gradcheck_on_the_device():
    x = _data(3, device=DEVICE, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t.tanh() * t.exp()).sum(), (x,))


# ------------------------------------------------------------------ modules
MODULES = {
    "Linear": (lambda: nn.Linear(4, 3), (2, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(2, 2, 3, stride=2), (1, 2, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), (5, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(4), (2, 4)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
    "LSTM": (lambda: nn.LSTM(4, 3, num_layers=2), (5, 2, 4)),
    "GRU": (lambda: nn.GRU(4, 3, bidirectional=True), (5, 2, 4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (1, 2, 4, 4)),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), (1, 2, 7)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (1, 2, 5, 7)),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d(1), (1, 1, 3, 3)),
    "Upsample": (lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (1, 1, 3, 3)),
    "PixelShuffle": (lambda: nn.PixelShuffle(2), (1, 4, 2, 2)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.0), nn.Linear(8, 2)), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_forward_and_backward(name):
    factory, shape = MODULES[name]

    def run(d):
        module = _seeded_module(factory).double().to(d)
        x = _data(*shape, device=d, requires_grad=True)
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        (out * out).sum().backward()
        return [out, x.grad] + [p.grad for p in module.parameters()]
    _same(run)


def test_embedding_and_losses():
    def run(d):
        emb = _seeded_module(lambda: nn.Embedding(6, 3)).double().to(d)
        idx = ember.tensor([[1, 5], [0, 1]], device=d)
        logits = emb(idx).sum(1)
        target = ember.tensor([2, 0], device=d)
        losses = [F.cross_entropy(logits, target), F.mse_loss(logits, logits.detach() * 0.5),
                  F.binary_cross_entropy_with_logits(logits, logits.detach().sigmoid()),
                  F.smooth_l1_loss(logits, logits.detach() * 2)]
        sum(losses).backward()
        return losses + [emb.weight.grad]
    _same(run)


def test_module_to_state_dict_and_buffers():
    def run(d):
        module = _seeded_module(lambda: nn.BatchNorm1d(3)).double().to(d)
        module(_data(4, 3, device=d))
        state = module.state_dict()
        assert all(t.device.type == d for t in state.values())
        fresh = nn.BatchNorm1d(3).double().to(d)
        fresh.load_state_dict(state)
        return dict(fresh.state_dict())
    _same(run)


def test_save_and_load_from_the_device():
    def run(d):
        module = _seeded_module(lambda: nn.Linear(3, 2)).double().to(d)
        buffer = io.BytesIO()
        ember.save(module.state_dict(), buffer)
        buffer.seek(0)
        state = ember.load(buffer, map_location=d)
        return list(state.values())
    _same(run)


# ------------------------------------------------------------------ optim
OPTIMIZERS = {
    "SGD": lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": lambda p: ember.optim.Adam(p, lr=0.01, amsgrad=True),
    "AdamW": lambda p: ember.optim.AdamW(p, lr=0.01),
    "RMSprop": lambda p: ember.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
    "Adagrad": lambda p: ember.optim.Adagrad(p, lr=0.1),
    "Adadelta": lambda p: ember.optim.Adadelta(p),
    "Adamax": lambda p: ember.optim.Adamax(p, lr=0.01),
    "ASGD": lambda p: ember.optim.ASGD(p, lr=0.01, t0=1),
    "Rprop": lambda p: ember.optim.Rprop(p, lr=0.01),
    "LBFGS": lambda p: ember.optim.LBFGS(p, lr=0.5, max_iter=3, line_search_fn="strong_wolfe"),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps(name):
    def run(d):
        model = _seeded_module(lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))).double().to(d)
        opt = OPTIMIZERS[name](model.parameters())
        scheduler = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        x, y = _data(5, 3, device=d), _data(5, 1, device=d)

        def closure():
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
            scheduler.step()
        nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        return list(model.parameters()) + [closure()]
    _same(run)
