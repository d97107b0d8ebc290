"""ember.nn.parallel.parallel_apply: replicas in threads, their arguments, their
errors raised in the caller, and autograd recording intact while they run."""

import threading

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.parallel import data_parallel, parallel_apply, replicate
from tests.oracle import placed


class _Probe(nn.Module):
    """Records the thread it runs in; adds ``shift`` to its input."""

    def __init__(self):
        super().__init__()
        self.threads = []

    def forward(self, x, shift=0.0, *rest):
        self.threads.append(threading.current_thread())
        return x + shift + sum(rest)


class _Fails(nn.Module):
    def __init__(self, error):
        super().__init__()
        self.error = error

    def forward(self, x):
        raise self.error


class _NeedsTwoArguments(Exception):
    def __init__(self, code, text):
        super().__init__(code, text)


def test_each_module_runs_in_its_own_thread_and_outputs_keep_order(device):
    probes = [_Probe() for _ in range(3)]
    xs = [ember.full((2,), float(i), device=device) for i in range(3)]
    outs = parallel_apply(probes, [(x,) for x in xs], [{"shift": 10.0}] * 3, [device] * 3)
    assert [o.tolist() for o in outs] == [[10.0, 10.0], [11.0, 11.0], [12.0, 12.0]]
    threads = [p.threads[0] for p in probes]
    assert len(set(threads)) == 3 and threading.main_thread() not in threads


def test_arguments_a_single_input_a_list_and_no_kwargs(device):
    x = ember.ones(2, device=device)
    outs = parallel_apply([_Probe(), _Probe()], [x, [x, 1.0, 2.0]])
    assert [o.tolist() for o in outs] == [[1.0, 1.0], [4.0, 4.0]]
    assert parallel_apply([], []) == []


def test_an_error_in_a_replica_is_raised_in_the_caller(device):
    modules = [_Probe(), _Fails(ValueError("bad shape")), _Fails(KeyError("k"))]
    inputs = [ember.ones(1, device=device)] * 3
    with pytest.raises(ValueError, match=f"Caught ValueError in replica 1 on device {placed(device)}: bad shape") as info:
        parallel_apply(modules, inputs, devices=[device] * 3)
    assert isinstance(info.value.__cause__, ValueError) and str(info.value.__cause__) == "bad shape"
    with pytest.raises(RuntimeError, match="Caught _NeedsTwoArguments in replica 0 on device"):
        parallel_apply([_Fails(_NeedsTwoArguments(3, "no")), _Probe()], inputs[:2])


@pytest.mark.parametrize("call, match", [
    (lambda x: parallel_apply([_Probe()] * 2, [x]), r"number of modules \(2\) is not equal to the number of inputs \(1\)"),
    (lambda x: parallel_apply([_Probe()] * 2, [x, x], [{}]), r"number of kwargs_tup \(1\)"),
    (lambda x: parallel_apply([_Probe()] * 2, [x, x], None, ["cpu"] * 3), r"number of devices \(3\)"),
])
def test_lengths_must_match(device, call, match):
    with pytest.raises(ValueError, match=match):
        call(ember.ones(1, device=device))


def test_a_replica_without_device_nor_tensor_input_is_an_error():
    with pytest.raises(ValueError, match="in replica 1: no device was given and no tensor input"):
        parallel_apply([_Probe(), _Probe()], [(ember.ones(1),), (1.0,)])


def _deep_net(device):
    ember.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Tanh()]
    return nn.Sequential(*layers).to(device)


def test_every_replica_records_its_graph(device):
    """Ops switch gradient recording off and on inside (autograd Functions,
    BatchNorm's statistics); replicas running at once must not see each other's switch."""
    net = _deep_net(device)
    devices = [device] * 4
    for _ in range(5):
        outs = parallel_apply(replicate(net, devices), [ember.ones(4, 8, device=device)] * 4, devices=devices)
        assert all(o.grad_fn is not None for o in outs) and ember.is_grad_enabled()
    with ember.no_grad():
        outs = parallel_apply(replicate(net, devices, detach=True), [ember.ones(4, 8, device=device)] * 4)
        assert all(o.grad_fn is None for o in outs) and not ember.is_grad_enabled()
    assert ember.is_grad_enabled()


class _Nested(nn.Module):
    def __init__(self, inner, devices):
        super().__init__()
        self.inner, self.devices = inner, devices

    def forward(self, x):
        return data_parallel(self.inner, x, self.devices)


def test_data_parallel_inside_a_replica(device):
    inner = nn.Linear(3, 2).double().to(device)
    devices = [device, device]
    x = ember.tensor(np.arange(12.0).reshape(4, 3), device=device)
    result = []
    worker = threading.Thread(target=lambda: result.append(data_parallel(_Nested(inner, devices), x, devices)),
                              daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert result, "nested data_parallel did not finish"
    np.testing.assert_allclose(result[0].detach().cpu().numpy(), inner(x).detach().cpu().numpy(), rtol=1e-12)
