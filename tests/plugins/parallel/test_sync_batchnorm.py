"""ember.nn.SyncBatchNorm outside a distributed job (where it is a BatchNorm, as torch's)
and convert_sync_batchnorm against torch's; its synchronized training is compared with
whole-batch BatchNorm on two ranks in test_ddp.py."""

import numpy as np
import pytest

import ember
from tests.oracle import assert_same, same_outcome, torch


def _copy_state(source, target):
    with torch.no_grad():
        for (_, t), (_, e) in zip(target.state_dict().items(), source.state_dict().items()):
            t.copy_(torch.from_numpy(e.numpy()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_outside_a_job_it_is_torchs_batchnorm(dtype, shape, momentum):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    ours = ember.nn.SyncBatchNorm(3, momentum=momentum).to(getattr(ember, np.dtype(dtype).name))
    theirs = torch.nn.SyncBatchNorm(3, momentum=momentum).to(getattr(torch, np.dtype(dtype).name))
    with ember.no_grad():
        ours.weight.copy_(ember.from_numpy(rng.standard_normal(3).astype(dtype)))
    _copy_state(ours, theirs)
    xe, xt = ember.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    for _ in range(2):
        ye, yt = ours(xe), theirs(xt)
        assert_same(ye, yt.detach())
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_same(xe.grad, xt.grad, "input gradient")
    assert_same(ours.weight.grad, theirs.weight.grad, "weight gradient")
    for name, value in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], value, name)
    ours.eval(), theirs.eval()
    assert_same(ours(xe).detach(), theirs(xt).detach(), "eval output")


def test_convert_sync_batchnorm_keeps_the_state_and_structure():
    def net(L):
        L.manual_seed(0)
        return L.nn.Sequential(L.nn.Conv2d(2, 3, 1), L.nn.BatchNorm2d(3),
                               L.nn.Sequential(L.nn.BatchNorm1d(3, affine=False), L.nn.ReLU()))

    original = net(ember)
    with ember.no_grad():
        original[1].running_mean.fill_(0.5)
    converted = ember.nn.SyncBatchNorm.convert_sync_batchnorm(original)
    theirs = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net(torch))
    assert repr(converted) == repr(theirs)
    assert isinstance(converted[1], ember.nn.SyncBatchNorm) and isinstance(converted[2][0], ember.nn.SyncBatchNorm)
    assert converted[1].weight is original[1].weight
    assert converted[1].running_mean.tolist() == [0.5] * 3
    lone = ember.nn.BatchNorm1d(4).eval()
    assert not ember.nn.SyncBatchNorm.convert_sync_batchnorm(lone).training


@pytest.mark.parametrize("shape", [(3,), (2, 0, 4)])
def test_bad_inputs_are_torchs_errors(shape):
    same_outcome(lambda L, x: L.nn.SyncBatchNorm(shape[1] if len(shape) > 1 else 3)(x),
                 [np.zeros(shape)], errors_only=True)
