"""ember.nn.DataParallel against torch's (without a GPU both run the module itself),
and ember.nn.parallel.data_parallel over lists of devices against the module run on
the whole batch: outputs, gradients, BatchNorm statistics, errors."""

import copy
from collections import namedtuple

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.parallel import data_parallel
from tests.oracle import assert_same, tol

torch = pytest.importorskip("torch")
DTYPES = [np.float64, np.float32]
Out = namedtuple("Out", "y norm")


def _mlp(L):
    return L.nn.Sequential(L.nn.Linear(6, 5), L.nn.Tanh(), L.nn.Linear(5, 3))


def _conv_bn(L):
    return L.nn.Sequential(L.nn.Conv2d(2, 3, 3, padding=1), L.nn.BatchNorm2d(3), L.nn.ReLU(),
                           L.nn.Conv2d(3, 1, 1))


def _shifted(L):
    class Shifted(L.nn.Module):
        """A linear layer with keyword arguments and outputs of several kinds."""

        def __init__(self):
            super().__init__()
            self.lin = L.nn.Linear(4, 3)

        def forward(self, x, shift=None, scale=1.0, kind="tensor"):
            y = self.lin(x) * scale
            if shift is not None:
                y = y + shift
            norm = (y * y).sum(1)
            return {"tensor": lambda: y, "tuple": lambda: (y, norm), "dict": lambda: {"y": y, "norm": norm},
                    "namedtuple": lambda: Out(y, norm), "scalar": lambda: norm.sum()}[kind]()

    return Shifted()


NETS = {"mlp": (_mlp, (7, 6)), "conv_bn": (_conv_bn, (5, 2, 4, 4))}


def _pair(make, dtype, device):
    """The same network in ember (on ``device``) and torch, in ``dtype``."""
    torch.manual_seed(0)
    tnet = make(torch).to(getattr(torch, np.dtype(dtype).name))
    enet = make(ember).to(getattr(ember, np.dtype(dtype).name)).to(device)
    enet.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in tnet.state_dict().items()})
    return enet, tnet


def _inputs(shape, dtype, device, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(x, device=device), torch.from_numpy(x)


def _grads(net):
    return {name: p.grad for name, p in net.named_parameters()}


# ------------------------------------------------------------------ DataParallel on a machine without GPU
@pytest.fixture
def without_gpu(monkeypatch):
    """ember.cuda reporting no GPU, as torch's CPU build does."""
    monkeypatch.setattr(ember.cuda, "is_available", lambda: False)


@pytest.mark.usefixtures("without_gpu")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NETS)
def test_dataparallel_without_gpu_is_the_module_itself(device, dtype, name):
    make, shape = NETS[name]
    enet, tnet = _pair(make, dtype, device)
    edp, tdp = nn.DataParallel(enet, device_ids=["cpu", "cpu"]), torch.nn.DataParallel(tnet)
    assert edp.device_ids == tdp.device_ids == []
    for step in range(2):
        ex, tx = _inputs(shape, dtype, device, seed=step)
        e_out, t_out = edp(ex), tdp(tx)
        assert_same(e_out, t_out, f"output at step {step}")
        (e_out ** 2).sum().backward()
        (t_out ** 2).sum().backward()
        assert_same(_grads(edp), _grads(tdp), f"gradients at step {step}")
    assert_same(dict(edp.state_dict()), dict(tdp.state_dict()), "state after training")


@pytest.mark.usefixtures("without_gpu")
@pytest.mark.parametrize("kind", ["tensor", "tuple", "dict", "namedtuple"])
def test_dataparallel_without_gpu_passes_kwargs_and_returns_what_the_module_returns(device, kind):
    enet, tnet = _pair(_shifted, np.float64, device)
    ex, tx = _inputs((4, 4), np.float64, device)
    es, ts = _inputs((4, 3), np.float64, device, seed=1)
    e_out = nn.DataParallel(enet)(ex, shift=es, scale=2.0, kind=kind)
    t_out = torch.nn.DataParallel(tnet)(tx, shift=ts, scale=2.0, kind=kind)
    if kind == "namedtuple":
        assert type(e_out) is type(t_out) is Out
    assert_same(e_out, t_out)


@pytest.mark.usefixtures("without_gpu")
def test_state_dict_keys_repr_and_loading_as_torch(device):
    enet, tnet = _pair(_conv_bn, np.float32, device)
    edp, tdp = nn.DataParallel(enet), torch.nn.DataParallel(tnet)
    assert list(edp.state_dict()) == list(tdp.state_dict())
    assert repr(nn.DataParallel(nn.Linear(2, 3))) == repr(torch.nn.DataParallel(torch.nn.Linear(2, 3)))
    with torch.no_grad():
        for p in tdp.parameters():
            p.mul_(-2.0)
    edp.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in tdp.state_dict().items()})
    assert_same(dict(edp.state_dict()), dict(tdp.state_dict()))


@pytest.fixture
def with_fake_gpus(monkeypatch):
    """ember.cuda reporting two GPUs: DataParallel's own checks, before any GPU work."""
    monkeypatch.setattr(ember.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ember.cuda, "device_count", lambda: 2)


def test_dataparallel_with_gpus_takes_their_ids(with_fake_gpus):
    net = nn.Linear(2, 2)
    dp = nn.DataParallel(net, device_ids=[0, "cuda:1"], output_device=ember.device("cpu"), dim=1)
    assert (dp.device_ids, dp.output_device, dp.dim, dp.src_device_obj) == ([0, 1], -1, 1, ember.device("cuda:0"))
    assert nn.DataParallel(net).device_ids == [0, 1]
    with pytest.raises(RuntimeError, match=r"module must have its parameters and buffers on device cuda:0 "
                                           r"\(device_ids\[0\]\) but found one of them on device: cpu"):
        dp(ember.ones(2, 2))
    with pytest.raises(ValueError, match="DataParallel runs on cuda devices, got 'cpu'"):
        nn.DataParallel(net, device_ids=["cpu", "cpu"])
    with pytest.raises(ValueError, match="at least one device"):
        nn.DataParallel(net, device_ids=[])


# ------------------------------------------------------------------ data_parallel over several devices
def _device_lists(device):
    return {"2": [device] * 2, "3": [device] * 3, "mixed": [device, "cpu"]}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("devices", ["2", "3", "mixed"])
@pytest.mark.parametrize("batch", [6, 5, 1])
def test_data_parallel_gives_the_whole_batch_results(device, dtype, name, devices, batch):
    make, shape = NETS[name]
    devices = _device_lists(device)[devices]
    net, _ = _pair(make, dtype, device)
    net.eval()
    x, _ = _inputs((batch,) + shape[1:], dtype, device)
    x.requires_grad_()
    out = data_parallel(net, x, devices)
    (out ** 2).sum().backward()
    got = {"output": out.detach(), "input grad": x.grad.clone(), **{k: g.clone() for k, g in _grads(net).items()}}
    net.zero_grad()
    x.grad = None
    ref = net(x)
    (ref ** 2).sum().backward()
    want = {"output": ref.detach(), "input grad": x.grad, **_grads(net)}
    bounds = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else tol(dtype)
    for key in want:
        assert got[key].device == want[key].device, key
        np.testing.assert_allclose(got[key].cpu().numpy(), want[key].cpu().numpy(), **bounds, err_msg=key)


@pytest.mark.parametrize("devices", ["2", "mixed"])
def test_batchnorm_in_training_keeps_the_first_parts_statistics(device, devices):
    devices = _device_lists(device)[devices]
    net, _ = _pair(_conv_bn, np.float64, device)
    parts = [copy.deepcopy(net), copy.deepcopy(net)]
    x, _ = _inputs((5, 2, 4, 4), np.float64, device)
    out = data_parallel(net, x, devices)
    want = ember.cat([parts[0](x[:3]), parts[1](x[3:])])
    np.testing.assert_allclose(out.detach().cpu().numpy(), want.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    for name, value in parts[0].named_buffers():
        np.testing.assert_allclose(net.get_buffer(name).cpu().numpy(), value.cpu().numpy(), rtol=1e-12, err_msg=name)
    assert net[1].num_batches_tracked.item() == 1


@pytest.mark.parametrize("kind", ["tensor", "tuple", "dict", "namedtuple"])
def test_kwargs_are_split_and_outputs_gathered(device, kind):
    net, _ = _pair(_shifted, np.float64, device)
    x, _ = _inputs((5, 4), np.float64, device)
    shift, _ = _inputs((5, 3), np.float64, device, seed=1)
    kwargs = dict(shift=shift, scale=2.0, kind=kind)
    out = data_parallel(net, x, [device] * 3, module_kwargs=kwargs)
    ref = net(x, **kwargs)
    assert type(out) is type(ref)
    for a, b in zip(*(o.values() if isinstance(o, dict) else o if isinstance(o, tuple) else [o] for o in (out, ref))):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-12)


def test_a_scalar_output_becomes_one_value_per_replica(device):
    net, _ = _pair(_shifted, np.float64, device)
    x, _ = _inputs((5, 4), np.float64, device)
    with pytest.warns(UserWarning, match="only scalars"):
        out = data_parallel(net, x, [device, device], module_kwargs={"kind": "scalar"})
    want = [net(x[:3], kind="scalar").item(), net(x[3:], kind="scalar").item()]
    np.testing.assert_allclose(out.detach().cpu().numpy(), want, rtol=1e-12)


def test_output_device_and_no_grad(device):
    net, _ = _pair(_mlp, np.float64, device)
    x, _ = _inputs((4, 6), np.float64, device)
    with ember.no_grad():
        out = data_parallel(net, x, [device, "cpu"], output_device=-1)
    assert out.device == ember.device("cpu") and out.grad_fn is None and ember.is_grad_enabled()
    assert data_parallel(net, (x,), [device, "cpu"], output_device="cpu").device == ember.device("cpu")


def test_sgd_steps_match_whole_batch_training(device):
    net, _ = _pair(_mlp, np.float64, device)
    whole = copy.deepcopy(net)
    opts = [ember.optim.SGD(m.parameters(), lr=0.1) for m in (net, whole)]
    for step in range(3):
        x, _ = _inputs((5, 6), np.float64, device, seed=step)
        for opt in opts:
            opt.zero_grad()
        (data_parallel(net, x, [device, "cpu"]) ** 2).mean().backward()
        (whole(x) ** 2).mean().backward()
        for opt in opts:
            opt.step()
    for (name, a), b in zip(net.named_parameters(), whole.parameters()):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-10, err_msg=name)


class _FailsOnSmallParts(nn.Module):
    def forward(self, x):
        if len(x) < 3:
            raise ValueError(f"part of {len(x)} rows")
        return x


@pytest.mark.parametrize("call, error, match", [
    (lambda d, x: data_parallel(nn.Linear(6, 2).to(d), x, []), ValueError, "at least one device"),
    (lambda d, x: data_parallel(nn.Linear(6, 2), x, ["cuda:0", "cuda:1"]), RuntimeError,
     r"parameters and buffers on device cuda:0 \(device_ids\[0\]\) but found one of them on device: cpu"),
    (lambda d, x: data_parallel(_FailsOnSmallParts(), x, [d, d]), ValueError,
     "Caught ValueError in replica 1 on device .*: part of 2 rows"),
    (lambda d, x: data_parallel(nn.Linear(6, 2).double().to(d), x, [d, d], dim=2), IndexError, "out of range"),
])
def test_bad_input(device, call, error, match):
    x, _ = _inputs((5, 6), np.float64, device)
    with pytest.raises(error, match=match):
        call(device, x)


@pytest.mark.usefixtures("without_gpu")
def test_without_gpu_data_parallel_needs_device_ids(device):
    with pytest.raises(RuntimeError, match="no device_ids were given and no cuda device is available"):
        data_parallel(nn.Linear(6, 2).to(device), ember.ones(2, 6, device=device))
