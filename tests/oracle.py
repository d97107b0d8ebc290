"""ember against torch, the test oracle: the two helpers every test compares with.

``check`` compares one differentiable function: values, gradients,
double-backward gradients, and (float64) ember's own gradcheck::

    check(lambda a, b: a * b, [np_a, np_b])             # same code for both libraries
    check(ember_fn, inputs, torch_fn=torch_fn)          # when spellings differ

Inputs are NumPy arrays (floating ones get requires_grad) or plain values passed
through unchanged. ember runs on the test's device (``on_device``; the families'
tests run once per available backend, see tests/plugins/conftest.py).

``same_outcome`` compares anything, errors included: ember does what torch does,
it returns an alike value or raises an exception of torch's type::

    same_outcome(lambda L: L.zeros(2).view(3))          # a case, run with L = ember and L = torch
    same_outcome(lambda a: a.view(3), [np_a])           # inputs, as for check
    same_outcome(ember_call, (), torch_call)            # two calls that differ

Tests importing this module skip when torch is absent.
"""

import contextlib
import math
import re
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import ember
from ember.backend import REGISTRY

torch = pytest.importorskip("torch")

TOL = {np.float64: dict(rtol=1e-7, atol=1e-10), np.float32: dict(rtol=1.3e-6, atol=1e-5),
       np.float16: dict(rtol=1e-3, atol=1e-3)}

_device = "cpu"


@contextlib.contextmanager
def on_device(name):
    """Within the block, ``check`` and ``same_outcome``'s inputs put ember's tensors on the device ``name``."""
    global _device
    before, _device = _device, name
    try:
        yield
    finally:
        _device = before


def current_device():
    """The device ember runs on in ``check`` (``"cpu"`` outside ``on_device``)."""
    return _device


def placed(device):
    """The device a tensor made with ``device=device`` lands on: ``"cuda"`` names the
    current GPU, so its tensors are on ``cuda:0`` (say), as in torch."""
    return ember.empty(0, device=device).device


def tol(dtype):
    """Tolerance for comparing results of ``dtype`` (ints/bools compare exactly)."""
    return TOL.get(np.dtype(dtype).type, dict(rtol=0, atol=0))


def to_ember(x, requires_grad, device="cpu"):
    """A NumPy array as an ember tensor on ``device`` (floating ones requiring grad when asked); anything else as is."""
    if isinstance(x, np.ndarray):
        t = ember.tensor(x, device=device)
        return t.requires_grad_() if requires_grad and x.dtype.kind == "f" else t
    return x


def to_torch(x, requires_grad):
    """A NumPy array as a torch tensor of a copy (floating ones requiring grad when asked); anything else as is."""
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(x.copy())
        return t.requires_grad_() if requires_grad and x.dtype.kind == "f" else t
    return x


def as_numpy(t):
    """An ember or torch tensor's values as a NumPy array, on the host."""
    if isinstance(t, ember.Tensor):
        return t.detach().cpu().numpy()
    return t.detach().numpy(force=True)


def _dtype_name(dtype):
    return str(dtype).rpartition(".")[2]


def assert_same(e, t, what="output", tol=None):
    """ember's ``e`` is torch's ``t``.

    Tensors: the same shape and dtype, values within ``tol`` (``dict(rtol=, atol=)``
    for floating values; default: the dtype's row of ``TOL``; integers and bools
    exactly, NaN where NaN). Sizes, dtypes (by name), modules (by ``repr``) and
    NumPy arrays alike; tuples, lists and dicts of the same kind, item by item;
    anything else equal (NaN equal to NaN).
    """
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: ember gave {e!r}, torch a tensor"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        assert e.dtype.name == _dtype_name(t.dtype), f"{what}: dtype {e.dtype} != torch {t.dtype}"
        _assert_close(as_numpy(e), as_numpy(t), tol, what)
    elif isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.dtype == t.dtype, f"{what}: {e!r} != torch {t!r}"
        assert e.shape == t.shape, f"{what}: shape {e.shape} != torch {t.shape}"
        _assert_close(e, t, tol, what)
    elif isinstance(t, torch.Size):
        assert isinstance(e, ember.Size) and tuple(e) == tuple(t), f"{what}: {e!r} != torch {t!r}"
    elif isinstance(t, torch.dtype):
        assert isinstance(e, ember.dtype) and e.name == _dtype_name(t), f"{what}: {e!r} != torch {t!r}"
    elif isinstance(t, torch.nn.Module):
        assert isinstance(e, ember.nn.Module) and repr(e) == repr(t), f"{what}: {e!r} != torch {t!r}"
    elif isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t), f"{what}: {e!r} != torch {t!r}"
        for key in t:
            assert_same(e[key], t[key], f"{what}[{key!r}]", tol)
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, tuple) == isinstance(t, tuple) and isinstance(e, (tuple, list)), (
            f"{what}: {e!r} != torch {t!r}")
        assert len(e) == len(t), f"{what}: {len(e)} items != torch {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{what}[{i}]", tol)
    else:
        both_nan = isinstance(e, float) and isinstance(t, float) and math.isnan(e) and math.isnan(t)
        assert both_nan or e == t, f"{what}: {e!r} != torch {t!r}"


def _assert_close(a, b, bounds, what):
    bounds = bounds if bounds is not None and a.dtype.kind in "fc" else tol(a.dtype)
    np.testing.assert_allclose(a, b, **bounds, equal_nan=True, err_msg=what)


class Outcome(NamedTuple):
    """What one call did: the ``value`` it returned, or the ``error`` it raised."""

    value: object = None
    error: Exception | None = None

    @property
    def message(self):
        """The error's text (``""`` when the call returned)."""
        return "" if self.error is None else str(self.error)

    def __str__(self):
        if self.error is None:
            return f"returned {self.value!r}"
        return f"raised {type(self.error).__name__}: {self.error}"


def synchronize_device():
    """Wait for the test's device (``on_device``): the errors a GPU reports late (the
    checks of ``ember.backend.assert_on_device``) are raised now."""
    be = REGISTRY.backends.get(ember.device(_device).type)
    if be is not None:
        be.synchronize()


def outcome(call, quiet=False):
    """Run ``call()``: its ``Outcome`` (warnings silenced when ``quiet``), errors that
    the test's device reports late included."""
    with warnings.catch_warnings() if quiet else contextlib.nullcontext():
        if quiet:
            warnings.simplefilter("ignore")
        try:
            value = call()
            synchronize_device()
            return Outcome(value=value)
        except Exception as error:  # noqa: BLE001 - an error is an outcome like a value
            return Outcome(error=error)


def _in_ember_words(text):
    """Library names read alike: ``torch.`` (and a GPU tensor's ``torch.cuda.``) as ``ember.``."""
    return text.replace("torch.cuda.", "torch.").replace("torch.", "ember.")


def same_outcome(fn, inputs=None, torch_fn=None, *, raises=None, errors_only=False, exact_type=False,
                 family=None, match=None, message=None, tol=None, quiet=False, what="result"):
    """ember does what torch does: both return alike values (``assert_same``), or both
    raise and ember's exception is an instance of torch's type.

    Without ``inputs``, ``fn`` is a case that takes the library: it runs as ``fn(ember)``
    and ``torch_fn(torch)`` (``torch_fn`` defaults to ``fn``). With ``inputs``, as in
    ``check``, the calls are ``fn(*inputs)`` and ``torch_fn(*inputs)`` with NumPy arrays
    made tensors of each library (``inputs=()``: two calls without arguments).

    Options:
        raises: ``True`` (or an exception class): the case is there to raise (that class),
            torch returning fails the test; ``False``: it is there to return, torch raising
            fails the test.
        errors_only: only errors are compared: where torch returns, ember does not run.
        exact_type: ember's exception must be of torch's very type, not a subclass.
        family: a base class: where torch raises one of its subclasses, any ``family``
            error from ember will do (torch's ``LinAlgError`` is a ``RuntimeError``).
        match: a regular expression ember's message must contain when it raises.
        message: ``True``: the messages are the same; a function: the parts of the two
            messages it returns are (``lambda m: m[:80]``). Library names read alike.
        tol: tolerance of floating values (see ``assert_same``).
        quiet: silence warnings during the calls (by default the test's warning filters
            apply: under ``filterwarnings("error")`` a warning is an error like any other).
        what: what the case is, for the failure messages.

    Returns the two ``Outcome``s, ember's and torch's (ember's is None when it did not run).
    """
    torch_fn = torch_fn or fn
    if inputs is None:
        ember_call, torch_call = (lambda: fn(ember)), (lambda: torch_fn(torch))
    else:
        e_in, t_in = [to_ember(x, False, _device) for x in inputs], [to_torch(x, False) for x in inputs]
        ember_call, torch_call = (lambda: fn(*e_in)), (lambda: torch_fn(*t_in))
    theirs = outcome(torch_call, quiet)
    if raises is False:
        assert theirs.error is None, f"{what}: torch {theirs}, the case is there to return"
    elif raises is not None:
        expected = Exception if raises is True else raises
        assert isinstance(theirs.error, expected), f"{what}: torch {theirs}, the case raises {expected.__name__}"
    if theirs.error is None and errors_only:
        return None, theirs
    ours = outcome(ember_call, quiet)
    assert (ours.error is None) == (theirs.error is None), _differ(what, ours, theirs)
    if ours.error is None:
        assert_same(ours.value, theirs.value, what, tol)
        return ours, theirs
    wanted = type(theirs.error)
    if family is not None and issubclass(wanted, family):
        wanted = family
    assert isinstance(ours.error, wanted), _differ(what, ours, theirs)
    assert not exact_type or type(ours.error) is wanted, _differ(what, ours, theirs)
    if match is not None:
        assert re.search(match, ours.message), f"{what}: ember's message {ours.message!r} lacks {match!r}"
    if message is not None:
        part = (lambda text: text) if message is True else message
        assert part(_in_ember_words(ours.message)) == part(_in_ember_words(theirs.message)), (
            _differ(what, ours, theirs))
    return ours, theirs


def _differ(what, ours, theirs):
    return f"{what}: ember {ours}\ntorch {theirs}"


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check(fn, inputs, torch_fn=None, *, grad=True, double=True, gradcheck=True, device=None, seed=0):
    """Compare ``fn`` (ember, on ``device``, default: ``current_device()``) with ``torch_fn``
    (default: ``fn``) on ``inputs``."""
    torch_fn = torch_fn or fn
    device = device or _device
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
