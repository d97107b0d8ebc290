"""ember.nn.utils.weight_norm / spectral_norm (and their remove_*) against torch
2.13 over several training steps, and F.normalize."""

import copy
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from tests.oracle import as_numpy, assert_same, check

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(7)


def _copy_params(em, tm):
    with ember.no_grad():
        for (name, p), (tname, tp) in zip(em.named_parameters(), tm.named_parameters()):
            assert name == tname
            p.copy_(ember.tensor(tp.detach().numpy(), device=p.device))


def _linear_pair(device):
    """An ember Linear (on ``device``) holding a torch Linear's parameters, and the input shape."""
    tm = torch.nn.Linear(6, 4).double()
    em = ember.nn.Linear(6, 4).double().to(device)
    _copy_params(em, tm)
    return em, tm, (3, 6)


def _conv_pair(device, transposed=False):
    name = "ConvTranspose2d" if transposed else "Conv2d"
    if not hasattr(ember.nn, name):
        pytest.skip(f"ember.nn.{name} is not available")
    tm = getattr(torch.nn, name)(3, 4, 3).double()
    em = getattr(ember.nn, name)(3, 4, 3).double().to(device)
    _copy_params(em, tm)
    return em, tm, (2, 3, 6, 6)


PAIRS = {"linear": _linear_pair, "conv": _conv_pair, "convT": lambda device: _conv_pair(device, True)}


def _train_steps(em, tm, shape, names, steps=3):
    e_opt = ember.optim.SGD(em.parameters(), lr=0.1)
    t_opt = torch.optim.SGD(tm.parameters(), lr=0.1)
    device = next(em.parameters()).device
    for step in range(steps):
        x = RNG.standard_normal(shape)
        e_out, t_out = em(ember.tensor(x, device=device)), tm(torch.from_numpy(x))
        assert_same(e_out, t_out, f"output at step {step}")
        e_opt.zero_grad()
        t_opt.zero_grad()
        (e_out ** 2).sum().backward()
        (t_out ** 2).sum().backward()
        for n in names:
            assert_same(getattr(em, n).grad, getattr(tm, n).grad, f"grad of {n} at step {step}")
        e_opt.step()
        t_opt.step()


@pytest.mark.parametrize("kind, dim", [("linear", 0), ("linear", 1), ("linear", None), ("conv", 0),
                                       ("conv", 2), ("conv", -1), ("convT", 1)])
def test_weight_norm_training_vs_torch(kind, dim, device):
    em, tm, shape = PAIRS[kind](device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm, dim=dim)
    assert ember.nn.utils.weight_norm(em, dim=dim) is em
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_same(em.weight_g, tm.weight_g, "weight_g")
    assert_same(em.weight_v, tm.weight_v, "weight_v")
    assert repr(em) == repr(tm)
    _train_steps(em, tm, shape, ["weight_g", "weight_v", "bias"])
    ember.nn.utils.remove_weight_norm(em)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert isinstance(em.weight, ember.nn.Parameter)
    assert_same(em.weight, tm.weight, "weight after remove")


def test_weight_norm_errors_and_other_names():
    em = ember.nn.Linear(3, 2)
    ember.nn.utils.weight_norm(em)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        ember.nn.utils.weight_norm(em)
    ember.nn.utils.weight_norm(em, name="bias")
    assert {"bias_g", "bias_v", "weight_g", "weight_v"} == set(dict(em.named_parameters()))
    ember.nn.utils.remove_weight_norm(em, "bias")
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        ember.nn.utils.remove_weight_norm(em, "bias")


@pytest.mark.parametrize("kind, n_iter, eps", [("linear", 1, 1e-12), ("linear", 3, 1e-4), ("conv", 2, 1e-12),
                                               ("convT", 1, 1e-12)])
def test_spectral_norm_training_vs_torch(kind, n_iter, eps, device):
    em, tm, shape = PAIRS[kind](device)
    torch.nn.utils.spectral_norm(tm, n_power_iterations=n_iter, eps=eps)
    assert ember.nn.utils.spectral_norm(em, n_power_iterations=n_iter, eps=eps) is em
    assert em.weight_u.shape == tm.weight_u.shape and em.weight_v.shape == tm.weight_v.shape
    # u and v start as random unit vectors: ember's differ from torch's, copy them
    np.testing.assert_allclose(np.linalg.norm(as_numpy(em.weight_u)), 1.0)
    with ember.no_grad():
        em.weight_u.copy_(ember.tensor(tm.weight_u.numpy(), device=device))
        em.weight_v.copy_(ember.tensor(tm.weight_v.numpy(), device=device))
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    _train_steps(em, tm, shape, ["weight_orig", "bias"])
    assert_same(em.weight_u, tm.weight_u, "u after power iterations")
    assert_same(em.weight_v, tm.weight_v, "v after power iterations")
    # eval: no power iteration, the buffers stay
    em.eval()
    tm.eval()
    u_before = as_numpy(em.weight_u).copy()
    x = RNG.standard_normal(shape)
    assert_same(em(ember.tensor(x, device=device)), tm(torch.from_numpy(x)), "eval output")
    assert np.array_equal(as_numpy(em.weight_u), u_before)
    ember.nn.utils.remove_spectral_norm(em)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_same(em.weight, tm.weight, "weight after remove")
    assert not em._state_dict_hooks and not em._load_state_dict_pre_hooks


def test_spectral_norm_state_dict_round_trip_from_torch(device):
    tm = torch.nn.Linear(5, 3).double()
    torch.nn.utils.spectral_norm(tm)
    tm(torch.randn(2, 5, dtype=torch.float64))
    sd = tm.state_dict()
    em = ember.nn.utils.spectral_norm(ember.nn.Linear(5, 3).double().to(device))
    assert em.state_dict()._metadata[""]["spectral_norm"] == {"weight.version": 1}
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in sd.items()})
    for k in sd:
        assert_same(em.state_dict()[k], sd[k], k)
    tm.eval()
    em.eval()
    x = RNG.standard_normal((4, 5))
    assert_same(em(ember.tensor(x, device=device)), tm(torch.from_numpy(x)))
    # the layout before version 1 (normalised weight saved, no v) is converted
    old = {"weight_orig": sd["weight_orig"], "weight": tm.weight.detach(), "weight_u": sd["weight_u"],
           "bias": sd["bias"]}
    em2 = ember.nn.utils.spectral_norm(ember.nn.Linear(5, 3).double().to(device))
    em2.load_state_dict({k: ember.tensor(v.numpy()) for k, v in old.items()})
    em2.eval()
    assert_same(em2(ember.tensor(x, device=device)), tm(torch.from_numpy(x)), "output after loading the old layout")


def test_spectral_norm_errors_and_defaults():
    em = ember.nn.Linear(4, 3)
    with pytest.raises(ValueError, match="n_power_iterations"):
        ember.nn.utils.spectral_norm(em, n_power_iterations=0)
    ember.nn.utils.spectral_norm(em)
    assert tuple(em.weight_u.shape) == (3,) and tuple(em.weight_v.shape) == (4,)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        ember.nn.utils.spectral_norm(em)
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found"):
        ember.nn.utils.remove_spectral_norm(em, "bias")
    nobias = ember.nn.Linear(4, 3, bias=False)
    with pytest.raises(ValueError, match="cannot be applied as parameter `bias` is None"):
        ember.nn.utils.spectral_norm(nobias, name="bias")
    if hasattr(ember.nn, "ConvTranspose1d"):
        ct = ember.nn.utils.spectral_norm(ember.nn.ConvTranspose1d(2, 5, 3))
        assert tuple(ct.weight_u.shape) == (5,)          # dim 1 for transposed convolutions


# ---------------------------------------------------------------- F.normalize
@pytest.mark.parametrize("p, dim", [(2.0, 1), (1, 1), (3, -1), (float("inf"), 0), (2, (1, 2)), (0.5, 2)])
def test_normalize_vs_torch(p, dim):
    x = RNG.standard_normal((3, 4, 5))
    check(lambda t: F.normalize(t, p=p, dim=dim), [x],
          torch_fn=lambda t: torch.nn.functional.normalize(t, p=p, dim=dim), gradcheck=False)
    x[1, :, 2] = 0.0     # zero vectors (for dim=1); torch's double backward is NaN there, ember's 0
    check(lambda t: F.normalize(t, p=p, dim=dim), [x],
          torch_fn=lambda t: torch.nn.functional.normalize(t, p=p, dim=dim), double=False, gradcheck=False)
    check(lambda t: F.normalize(t, p=p, dim=dim), [x.astype(np.float32)],
          torch_fn=lambda t: torch.nn.functional.normalize(t, p=p, dim=dim), double=False)


def test_normalize_eps_gradcheck_and_out(device):
    x = RNG.standard_normal((4, 3)) * 1e-3
    check(lambda t: F.normalize(t, eps=1e-2), [x], torch_fn=lambda t: torch.nn.functional.normalize(t, eps=1e-2),
          device=device)
    out = ember.empty((4, 3), dtype=ember.float64, device=device)
    res = F.normalize(ember.tensor(x, device=device), dim=0, out=out)
    assert res is out
    assert_same(out, torch.nn.functional.normalize(torch.from_numpy(x), dim=0))
    assert ember.autograd.gradcheck(lambda t: F.normalize(t, p=1, dim=0),
                                    [ember.tensor(RNG.standard_normal((3, 2)), device=device, requires_grad=True)])


def test_weight_norm_on_device(device):
    em, tm, shape = _linear_pair(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm)
    ember.nn.utils.weight_norm(em)
    torch.nn.utils.spectral_norm(tm, name="bias")
    ember.nn.utils.spectral_norm(em, name="bias")
    with ember.no_grad():
        em.bias_u.copy_(ember.tensor(tm.bias_u.numpy(), device=device))
        em.bias_v.copy_(ember.tensor(tm.bias_v.numpy(), device=device))
    x = RNG.standard_normal(shape)
    e, t = em(ember.tensor(x, device=device)), tm(torch.from_numpy(x))
    assert_same(e, t)
    e.sum().backward()
    t.sum().backward()
    for n in ("weight_g", "weight_v", "bias_orig"):
        assert_same(getattr(em, n).grad, getattr(tm, n).grad, n)
