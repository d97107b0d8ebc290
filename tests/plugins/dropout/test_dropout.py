"""Dropout family: statistics, channel structure, gradients, eval identity, seeds."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, torch

TF = torch.nn.functional
SELU_SAT = -1.7580993408473766


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_statistics(p, device):
    ember.manual_seed(0)
    x = ember.ones(400, 500, device=device)
    y = as_numpy(EF.dropout(x, p))
    zero = (y == 0).mean()
    assert abs(zero - p) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1) < 0.02


@pytest.mark.parametrize("fn,shape", [(EF.dropout2d, (8, 50, 3, 4)), (EF.dropout3d, (8, 50, 2, 3, 2)),
                                      (EF.feature_alpha_dropout, (8, 50, 3, 4))])
def test_channel_masks(fn, shape, device):
    ember.manual_seed(1)
    y = as_numpy(fn(ember.ones(*shape, device=device), 0.4, training=True)).reshape(shape[0], shape[1], -1)
    # every channel is constant: all kept or all dropped
    assert (y == y[..., :1]).all()
    dropped = y[..., 0] == (0 if fn is not EF.feature_alpha_dropout else y.min())
    assert abs(dropped.mean() - 0.4) < 0.06


def test_dropout3d_unbatched_and_dropout2d_3d_input(device):
    y = as_numpy(EF.dropout3d(ember.ones(40, 2, 3, 4, device=device), 0.5))
    assert y.shape == (40, 2, 3, 4) and (y.reshape(40, -1) == y.reshape(40, -1)[:, :1]).all()
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        y = as_numpy(EF.dropout2d(ember.ones(4, 30, 5, device=device), 0.5))
    assert (y == y[..., :1]).all()


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(p, device):
    ember.manual_seed(2)
    x = ember.randn(500, 400, dtype=ember.float64, device=device)
    y = as_numpy(EF.alpha_dropout(x, p, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    # dropped elements all sit at the same affine image of SELU's saturation value
    a = 1 / np.sqrt((SELU_SAT ** 2 * p + 1) * (1 - p))
    target = SELU_SAT * a + (-SELU_SAT) * a * p
    assert abs(np.isclose(y, target).mean() - p) < 0.01


@pytest.mark.parametrize("fn", [EF.dropout, EF.dropout2d, EF.dropout3d, EF.alpha_dropout, EF.feature_alpha_dropout])
def test_eval_is_identity(fn, device):
    x = ember.randn(2, 3, 4, 5, 6, device=device)
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0, training=True) is x


@pytest.mark.parametrize("fn", [EF.dropout, EF.dropout2d, EF.alpha_dropout])
def test_gradient_is_mask_times_scale(fn, device):
    ember.manual_seed(3)
    x = ember.randn(6, 7, 4, 4, dtype=ember.float64, requires_grad=True, device=device)
    y = fn(x, 0.3, training=True)
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(ember.tensor(g, device=device))
    xn, yn = as_numpy(x), as_numpy(y)
    if fn is EF.alpha_dropout:
        a = 1 / np.sqrt((SELU_SAT ** 2 * 0.3 + 1) * 0.7)
        kept = ~np.isclose(yn, SELU_SAT * a - SELU_SAT * a * 0.3)
        np.testing.assert_allclose(as_numpy(x.grad), g * kept * a)
    else:
        scale = np.where(yn == 0, 0, 1 / 0.7)
        np.testing.assert_allclose(as_numpy(x.grad), g * scale)
        np.testing.assert_allclose(yn, xn * scale)


@pytest.mark.parametrize("fn", [EF.dropout, EF.dropout2d, EF.dropout3d, EF.alpha_dropout])
def test_reproducible_with_manual_seed(fn, device):
    x = ember.randn(4, 5, 3, 3, 2, device=device)
    ember.manual_seed(11)
    a = as_numpy(fn(x, 0.5, training=True))
    ember.manual_seed(11)
    b = as_numpy(fn(x, 0.5, training=True))
    c = as_numpy(fn(x, 0.5, training=True))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_inplace(device):
    x = ember.ones(100, 100, device=device)
    y = EF.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(as_numpy(x))) == {0.0, 2.0}
    leaf = ember.ones(3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        EF.dropout(leaf, 0.5, inplace=True)
    z = ember.ones(4, 5, requires_grad=True, device=device) * 1
    out = EF.dropout(z, 0.5, inplace=True)
    out.sum().backward()


def test_p_one_gives_zeros_with_zero_gradient(device):
    x = ember.randn(3, 4, requires_grad=True, device=device)
    y = EF.dropout(x, 1.0)
    assert not as_numpy(y).any()
    y.sum().backward()
    assert not as_numpy(x.grad).any()


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("fn", [EF.dropout, EF.dropout2d, EF.dropout3d, EF.alpha_dropout, EF.feature_alpha_dropout])
def test_p_validation(fn, p, device):
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        fn(ember.randn(2, 3, 4, 5, device=device), p)


@pytest.mark.parametrize("name", ["Dropout", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"])
def test_modules(name, device):
    for args in [(), (0.2, True)]:
        assert repr(getattr(ember.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 2"):
        getattr(ember.nn, name)(2)
    m = getattr(ember.nn, name)(0.5)
    x = ember.ones(4, 6, 3, 3, 3, device=device)
    assert not np.array_equal(as_numpy(m(x)), as_numpy(x))
    m.eval()
    assert m(x) is x


def test_feature_dropout_needs_two_dims(device):
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        EF.feature_alpha_dropout(ember.randn(5, device=device), 0.5, training=True)
