"""ember.nn.parallel.replicate: the replicas' structure, storage sharing and
gradients, buffers, shared parameters, hooks, and modules that keep parameters in
their own ways (weight_norm, spectral_norm, LSTM)."""

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.parallel import data_parallel, replicate
from tests.oracle import placed


def _data(*shape, device="cpu"):
    values = np.cos(np.arange(1, int(np.prod(shape)) + 1)).reshape(shape)
    return ember.tensor(values, device=device)


def _net(device):
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2, bias=False)).double().to(device)


@pytest.fixture(params=["same", "mixed"])
def devices(request, device):
    """Two devices: the test's device twice, or the test's device and the CPU."""
    return [device, device if request.param == "same" else "cpu"]


def test_replicas_mirror_the_module_without_registered_parameters(devices):
    net = _net(devices[0])
    replicas = replicate(net, devices)
    assert len(replicas) == 2
    for replica, device in zip(replicas, devices):
        assert type(replica) is nn.Sequential and replica is not net
        assert [(name, type(m)) for name, m in replica.named_modules()] == \
               [(name, type(m)) for name, m in net.named_modules()]
        assert list(replica.parameters()) == [] and replica[2].bias is None
        weight = replica[0].weight
        assert not weight.is_leaf and weight.requires_grad and weight.device == placed(device)
        np.testing.assert_array_equal(weight.detach().cpu().numpy(), net[0].weight.detach().cpu().numpy())
        assert [name for name, _ in replica.named_buffers()] == [name for name, _ in net.named_buffers()]


def test_the_first_replica_shares_storage_and_buffers_the_others_copy(devices):
    net = _net(devices[0])
    first, second = replicate(net, devices)
    assert first[1].running_mean is net[1].running_mean
    assert second[1].running_mean is not net[1].running_mean
    with ember.no_grad():
        net[0].weight.add_(1.0)
        net[1].running_var.mul_(3.0)
    assert ember.equal(first[0].weight.detach(), net[0].weight.detach())
    assert not ember.equal(second[0].weight.detach().to(devices[0]), net[0].weight.detach())
    assert second[1].running_var.cpu().tolist() == [1.0, 1.0, 1.0]


def test_gradients_of_all_replicas_add_up_in_the_original(devices):
    net = _net(devices[0]).eval()
    xs = [_data(2, 4, device=d) for d in devices]
    replicas = replicate(net, devices)
    sum(r(x).pow(2).sum().to(devices[0]) for r, x in zip(replicas, xs)).backward()
    got = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    sum(net(x.to(devices[0])).pow(2).sum() for x in xs).backward()
    for g, p in zip(got, net.parameters()):
        np.testing.assert_allclose(g.cpu().numpy(), p.grad.cpu().numpy(), rtol=1e-12, atol=1e-14)


def test_detach_gives_replicas_without_history(devices):
    for replica in replicate(_net(devices[0]), devices, detach=True):
        assert replica[0].weight.grad_fn is None and not replica[0].weight.requires_grad
        assert not replica(_data(2, 4, device=replica[0].weight.device)).requires_grad


def test_a_shared_parameter_and_a_shared_submodule_stay_shared(devices):
    layer = nn.Linear(3, 3).double()
    tied = nn.Linear(3, 3).double()
    tied.weight = layer.weight
    net = nn.Sequential(layer, tied, layer).to(devices[0])
    for replica in replicate(net, devices):
        assert replica[0] is replica[2] and replica[0].weight is replica[1].weight
    x = _data(4, 3, device=devices[0])
    data_parallel(net, x, devices).sum().backward()
    got = layer.weight.grad.clone()
    net.zero_grad()
    net(x).sum().backward()
    np.testing.assert_allclose(got.cpu().numpy(), layer.weight.grad.cpu().numpy(), rtol=1e-12)


def test_hooks_run_once_per_replica(devices):
    net = _net(devices[0]).eval()
    seen = []
    net[0].register_forward_pre_hook(lambda m, inp: seen.append(("pre", m, inp[0].device)))
    net[0].register_forward_hook(lambda m, inp, out: out * 2)
    net[2].register_full_backward_hook(lambda m, gin, gout: seen.append(("backward", m, gout[0].device)))
    x = _data(4, 4, device=devices[0])
    data_parallel(net, x, devices).sum().backward()
    pre = [(m, d) for kind, m, d in seen if kind == "pre"]
    assert len(pre) == 2 and all(m is not net[0] for m, _ in pre) and pre[0][0] is not pre[1][0]
    assert sorted(str(d) for _, d in pre) == sorted(str(placed(d)) for d in devices)
    assert len([s for s in seen if s[0] == "backward"]) == 2
    doubled = net[2](net[1](net[0](x)))
    np.testing.assert_allclose(data_parallel(net, x, devices).detach().cpu().numpy(),
                               doubled.detach().cpu().numpy(), rtol=1e-12)


def test_weight_norm_and_spectral_norm_modules(devices):
    ember.manual_seed(1)
    net = nn.Sequential(nn.utils.weight_norm(nn.Linear(4, 3)), nn.utils.spectral_norm(nn.Linear(3, 2)))
    net = net.double().to(devices[0])
    probe = nn.Sequential(nn.utils.weight_norm(nn.Linear(4, 3)), nn.utils.spectral_norm(nn.Linear(3, 2)))
    probe = probe.double().to(devices[0])
    probe.load_state_dict(net.state_dict())
    x = _data(6, 4, device=devices[0])
    data_parallel(net, x, devices).pow(2).sum().backward()
    probe(x).pow(2).sum().backward()
    for (name, p), q in zip(net.named_parameters(), probe.parameters()):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-10, err_msg=name)
    # the power iteration's vector moves once (replica 0's update), as in one whole forward
    np.testing.assert_allclose(net[1].weight_u.cpu().numpy(), probe[1].weight_u.cpu().numpy(), rtol=1e-12)


def test_an_lstm_split_along_the_batch_dimension_one(devices):
    ember.manual_seed(2)
    lstm = nn.LSTM(3, 4, num_layers=2).double().to(devices[0])
    x = _data(5, 3, 3, device=devices[0])
    out, (h, c) = data_parallel(lstm, x, devices, dim=1)
    (out.sum() + h.pow(2).sum() + c.sum()).backward()
    got = [p.grad.clone() for p in lstm.parameters()]
    lstm.zero_grad()
    ref, (h_ref, c_ref) = lstm(x)
    (ref.sum() + h_ref.pow(2).sum() + c_ref.sum()).backward()
    for a, b in ((out, ref), (h, h_ref), (c, c_ref)):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    for g, p in zip(got, lstm.parameters()):
        np.testing.assert_allclose(g.cpu().numpy(), p.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)


def test_no_devices_no_replicas_and_only_modules_replicate(device):
    assert replicate(_net(device), []) == []
    with pytest.raises(TypeError, match="expects an ember.nn.Module, got Tensor"):
        replicate(_data(2, device=device), [device])
