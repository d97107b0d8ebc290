"""A leaf's first gradient becomes its ``.grad`` without a copy only when nothing else
holds it or its memory; otherwise ``.grad`` is a copy (torch's AccumulateGrad rule)."""

import numpy as np
import pytest

import ember
from ember._tensor import Tensor


class _KeepsGradient(ember.autograd.Function):
    """Identity whose backward keeps (in ``kept``) the gradient it returns or, with
    ``as_view``, a larger array that the returned gradient is a view of."""

    kept = []
    as_view = False
    reshaped = False

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        kept = ember.cat([grad, grad]) if _KeepsGradient.as_view else grad * 1
        _KeepsGradient.kept.append(kept)
        if _KeepsGradient.reshaped:
            return kept.reshape(-1).reshape(grad.shape)
        return kept[: grad.shape[0]] if _KeepsGradient.as_view else kept


def _copies_during(fn, monkeypatch):
    copies = []
    original = Tensor._owned_copy
    monkeypatch.setattr(Tensor, "_owned_copy", lambda self, layout_of=None: copies.append(1) or
                        original(self, layout_of))
    fn()
    return len(copies)


def test_an_unreferenced_gradient_is_taken_without_a_copy(monkeypatch, device):
    x = ember.randn(3, 4, requires_grad=True, device=device)
    assert _copies_during(lambda: (x * 2).sum().backward(), monkeypatch) == 0
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full((3, 4), 2.0, np.float32))


@pytest.mark.parametrize("shape_of_it", ["itself", "as_view", "reshaped"])
def test_a_gradient_sharing_memory_kept_elsewhere_is_copied(monkeypatch, shape_of_it, device):
    if shape_of_it != "itself":
        monkeypatch.setattr(_KeepsGradient, shape_of_it, True)
    x = ember.randn(3, 4, requires_grad=True, device=device)
    _KeepsGradient.apply(x).sum().backward()
    kept = _KeepsGradient.kept.pop()
    before = kept.cpu().numpy().copy()
    x.grad.add_(5)
    np.testing.assert_array_equal(kept.cpu().numpy(), before)


def test_a_kernel_result_reshaped_is_taken(monkeypatch):
    # layer norm's kernel returns the input gradient as a reshape of its own array
    x = ember.randn(4, 8, 16, requires_grad=True)
    norm = ember.nn.LayerNorm(16)
    shapes = []
    original = Tensor._owned_copy
    monkeypatch.setattr(Tensor, "_owned_copy", lambda self, layout_of=None: shapes.append(
        tuple(self.shape)) or original(self, layout_of))
    norm(x).sum().backward()
    assert (4, 8, 16) not in shapes


def test_one_gradient_reaching_two_leaves_gives_each_its_own_memory():
    x, y = (ember.randn(3, 4, requires_grad=True) for _ in range(2))
    ((x + y) * 3).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    x.grad.zero_()
    assert y.grad.sum().item() == 36.0


def test_later_gradients_accumulate_into_a_taken_one():
    x = ember.randn(3, 4, requires_grad=True)
    for _ in range(3):
        (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 6.0, np.float32))


def test_every_parameter_gradient_of_a_linear_layer_is_taken(monkeypatch, device):
    # the bias's, the last gradient the node returns, too: nothing else holds it
    layer = ember.nn.Linear(5, 3).to(device)
    x = ember.randn(4, 5, device=device)
    assert _copies_during(lambda: layer(x).sum().backward(), monkeypatch) == 0
    np.testing.assert_array_equal(layer.bias.grad.cpu().numpy(), np.full(3, 4.0, np.float32))
