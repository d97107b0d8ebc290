"""ember.utils.checkpoint: recomputation in backward gives exactly the gradients of a
plain call (with dropout, with inputs that do not require grad), and torch's."""

import numpy as np
import pytest

import ember
from ember.utils.checkpoint import checkpoint, checkpoint_sequential
from tests.oracle import torch


def _nets(dtype, dropout=0.0):
    """The same small MLP in ember and torch (torch's initial weights copied)."""
    torch.manual_seed(0)
    layers = lambda nn: [nn.Linear(4, 8), nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 6), nn.ReLU(),
                         nn.Linear(6, 3)]
    t = torch.nn.Sequential(*layers(torch.nn)).to(getattr(torch, dtype))
    e = ember.nn.Sequential(*layers(ember.nn)).to(getattr(ember, dtype))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return e, t


def _grads(module):
    return [p.grad.numpy().copy() for p in module.parameters()]


def _run(lib, net, x, x_requires_grad, call, seed=1):
    net.zero_grad()
    xi = lib.tensor(x).requires_grad_(x_requires_grad)
    lib.manual_seed(seed)
    out = call(net, xi)
    (out * out).sum().backward()
    return out.detach().numpy(), _grads(net), (xi.grad.numpy() if x_requires_grad else None)


def _ember_checkpoint(net, x):
    return checkpoint(net, x)


def _torch_checkpoint(net, x):
    return torch.utils.checkpoint.checkpoint(net, x, use_reentrant=False)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_gradients_equal_plain_call_and_torch(dtype, x_requires_grad):
    e, t = _nets(dtype)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(dtype)
    plain = _run(ember, e, x, x_requires_grad, lambda n, v: n(v))
    ckpt = _run(ember, e, x, x_requires_grad, _ember_checkpoint)
    ref = _run(torch, t, x, x_requires_grad, _torch_checkpoint)
    np.testing.assert_array_equal(ckpt[0], plain[0])
    for a, b in zip(ckpt[1], plain[1]):
        np.testing.assert_array_equal(a, b)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    for a, b in zip(ckpt[1], ref[1]):
        np.testing.assert_allclose(a, b, **tol)
    if x_requires_grad:
        np.testing.assert_array_equal(ckpt[2], plain[2])
        np.testing.assert_allclose(ckpt[2], ref[2], **tol)
    else:
        assert all(np.abs(g).sum() > 0 for g in ckpt[1])  # the parameters inside still learn


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_dropout_masks_are_replayed(x_requires_grad):
    e, _ = _nets("float64", dropout=0.5)
    x = np.random.default_rng(1).standard_normal((16, 4))
    plain = _run(ember, e, x, x_requires_grad, lambda n, v: n(v))
    plain_next = ember.rand(3).numpy()
    ckpt = _run(ember, e, x, x_requires_grad, _ember_checkpoint)
    ckpt_next = ember.rand(3).numpy()
    np.testing.assert_array_equal(ckpt[0], plain[0])
    for a, b in zip(ckpt[1], plain[1]):
        np.testing.assert_array_equal(a, b)
    # backward replays the forward's draws, then the generator goes on where it was
    np.testing.assert_array_equal(ckpt_next, plain_next)


def test_without_preserved_rng_state_masks_differ():
    e, _ = _nets("float64", dropout=0.5)
    x = ember.randn(64, 4, dtype=ember.float64)
    ember.manual_seed(3)
    plain = e(x)
    plain.sum().backward()
    expected = _grads(e)
    e.zero_grad()
    ember.manual_seed(3)
    checkpoint(e, x, preserve_rng_state=False).sum().backward()
    assert any(not np.array_equal(a, b) for a, b in zip(_grads(e), expected))


def test_several_outputs_and_non_tensor_arguments():
    w = ember.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=ember.float64, requires_grad=True)
    x = ember.tensor([[0.5, -0.2]], dtype=ember.float64, requires_grad=True)

    def fn(a, scale, b):
        h = a @ w
        return ember.tanh(h) * scale, h.sum() + b

    out1, out2 = checkpoint(fn, x, 3.0, 2.0)
    (out1.sum() + out2 * 2).backward()
    got = (w.grad.numpy().copy(), x.grad.numpy().copy())
    w.grad = x.grad = None
    ref1, ref2 = fn(x, 3.0, 2.0)
    (ref1.sum() + ref2 * 2).backward()
    np.testing.assert_array_equal(got[0], w.grad.numpy())
    np.testing.assert_array_equal(got[1], x.grad.numpy())
    assert out1.grad_fn.name() == "CheckpointFunctionBackward"


@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential_matches_torch(segments):
    e, t = _nets("float64")
    x = np.random.default_rng(2).standard_normal((5, 4))
    ours = _run(ember, e, x, True, lambda n, v: checkpoint_sequential(n, segments, v))
    ref = _run(torch, t, x, True, lambda n, v: torch.utils.checkpoint.checkpoint_sequential(
        n, segments, v, use_reentrant=False))
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12)
    for a, b in zip(ours[1] + [ours[2]], ref[1] + [ref[2]]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_checkpoint_sequential_on_a_list_of_functions():
    fns = [lambda v: v * 2, ember.sin, lambda v: v + 1, ember.exp]
    x = ember.tensor([0.1, 0.2], dtype=ember.float64, requires_grad=True)
    checkpoint_sequential(fns, 2, x).sum().backward()
    expected = (ember.exp(ember.sin(x.detach() * 2) + 1) * ember.cos(x.detach() * 2) * 2).numpy()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)


def test_no_grad_mode_records_nothing():
    e, _ = _nets("float64")
    with ember.no_grad():
        out = checkpoint(e, ember.randn(2, 4, dtype=ember.float64))
    assert out.grad_fn is None and not out.requires_grad


def test_bad_arguments():
    e, _ = _nets("float64")
    x = ember.randn(2, 4, dtype=ember.float64)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(e, x, scale=2)
    assert checkpoint(lambda v, scale: v * scale, x, use_reentrant=False, scale=2).shape == (2, 4)
    for bad in (0, 7, 1.5):
        with pytest.raises(ValueError, match="segments must be an integer from 1 to the number of functions"):
            checkpoint_sequential(e, bad, x)
    x.requires_grad_()
    y = x * 1
    out = checkpoint(lambda v: v * 2, y)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
