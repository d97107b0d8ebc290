"""Check an ember function against the same torch function: values, gradients,
double-backward gradients, and (float64) ember's own gradcheck.

Usage::

    check(lambda a, b: a * b, [np_a, np_b])             # same code for both libraries
    check(ember_fn, inputs, torch_fn=torch_fn)          # when spellings differ

Inputs are NumPy arrays (floating ones get requires_grad) or plain values passed
through unchanged. Tests importing this module skip when torch is absent.
"""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

TOL = {np.float64: dict(rtol=1e-7, atol=1e-10), np.float32: dict(rtol=1.3e-6, atol=1e-5),
       np.float16: dict(rtol=1e-3, atol=1e-3)}


def tol(dtype):
    """Tolerance for comparing results of ``dtype`` (ints/bools compare exactly)."""
    return TOL.get(np.dtype(dtype).type, dict(rtol=0, atol=0))


def to_ember(x, requires_grad, device="cpu"):
    if isinstance(x, np.ndarray):
        t = ember.tensor(x, device=device)
        return t.requires_grad_() if requires_grad and x.dtype.kind == "f" else t
    return x


def to_torch(x, requires_grad):
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(x.copy())
        return t.requires_grad_() if requires_grad and x.dtype.kind == "f" else t
    return x


def as_numpy(t):
    if isinstance(t, ember.Tensor):
        return t.detach().cpu().numpy()
    return t.detach().numpy(force=True)


def assert_same(e, t, what="output"):
    """Same shape, same dtype name, values within the dtype's tolerance."""
    a, b = as_numpy(e), as_numpy(t)
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    assert e.dtype.name == str(t.dtype).replace("torch.", ""), f"{what}: dtype {e.dtype} != torch {t.dtype}"
    np.testing.assert_allclose(a, b, **tol(a.dtype), equal_nan=True, err_msg=what)


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check(fn, inputs, torch_fn=None, *, grad=True, double=True, gradcheck=True, device="cpu", seed=0):
    """Compare ``fn`` (ember) with ``torch_fn`` (default: ``fn``) on ``inputs``."""
    torch_fn = torch_fn or fn
    e_in = [to_ember(x, grad, device) for x in inputs]
    t_in = [to_torch(x, grad) for x in inputs]
    e_out, t_out = _flat(fn(*e_in)), _flat(torch_fn(*t_in))
    assert len(e_out) == len(t_out)
    for i, (e, t) in enumerate(zip(e_out, t_out)):
        assert_same(e, t, f"output {i}")
    if not grad:
        return
    e_wrt = [x for x in e_in if isinstance(x, ember.Tensor) and x.requires_grad]
    t_wrt = [x for x in t_in if isinstance(x, torch.Tensor) and x.requires_grad]
    pairs = [(e, t) for e, t in zip(e_out, t_out) if t.requires_grad]
    if not t_wrt or not pairs:
        return
    rng = np.random.default_rng(seed)
    gos = [rng.standard_normal(t.shape).astype(as_numpy(t).dtype) for _, t in pairs]
    e_go = [ember.tensor(g, device=device).requires_grad_(double) for g in gos]
    t_go = [torch.from_numpy(g.copy()).requires_grad_(double) for g in gos]
    e_g = ember.autograd.grad([e for e, _ in pairs], e_wrt, e_go, create_graph=double, allow_unused=True)
    t_g = torch.autograd.grad([t for _, t in pairs], t_wrt, t_go, create_graph=double, allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_g, t_g)):
        if tg is None:
            assert eg is None or not as_numpy(eg).any(), f"grad {i}: torch has none"
            continue
        if eg is None:  # "no gradient" and an all-zero gradient mean the same
            assert not as_numpy(tg).any(), f"grad {i}: ember has none, torch's is not zero"
            continue
        assert_same(eg, tg, f"grad of input {i}")
    if double:
        _check_double(e_g, t_g, e_wrt + e_go, t_wrt + t_go, rng, device)
    if gradcheck and all(as_numpy(x).dtype == np.float64 for x in e_wrt):
        assert ember.autograd.gradcheck(fn, e_in, eps=1e-6, atol=1e-5, rtol=1e-3)


def _check_double(e_g, t_g, e_wrt, t_wrt, rng, device):
    idx = [i for i, (eg, tg) in enumerate(zip(e_g, t_g))
           if tg is not None and tg.requires_grad and eg is not None]
    if not idx:
        return
    vs = [rng.standard_normal(t_g[i].shape).astype(as_numpy(t_g[i]).dtype) for i in idx]
    e_s = sum(((e_g[i] * ember.tensor(v, device=device)).sum() for i, v in zip(idx, vs)),
              ember.tensor(0.0, dtype=e_g[idx[0]].dtype, device=device))
    t_s = sum(((t_g[i] * torch.from_numpy(v)).sum() for i, v in zip(idx, vs)), torch.tensor(0.0, dtype=t_g[idx[0]].dtype))
    if not t_s.requires_grad:
        return
    e_gg = ember.autograd.grad(e_s, e_wrt, allow_unused=True) if e_s.requires_grad else [None] * len(e_wrt)
    t_gg = torch.autograd.grad(t_s, t_wrt, allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_gg, t_gg)):
        if tg is None:
            assert eg is None or not np.abs(as_numpy(eg)).max(initial=0) > 1e-6, f"double grad {i}: torch has none"
            continue
        if eg is None:
            assert not as_numpy(tg).any(), f"double grad {i}: ember has none, torch's is not zero"
            continue
        assert_same(eg, tg, f"double grad of input {i}")
